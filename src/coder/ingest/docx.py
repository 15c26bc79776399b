"""Word ``.docx`` transcripts, read with python-docx.

The body's paragraphs (empty ones skipped) are joined with a blank line between them and
parsed with the plain-text turn rules (:func:`coder.ingest.turns.build_document`;
Microsoft 365 Transcribe's ``00:00:03 Speaker 1`` paragraphs are labels too): a paragraph
that begins with a speaker label starts a turn, other paragraphs continue the current one,
and each paragraph stays a paragraph for segmentation. The main part is found through the package's
officeDocument relationship (python-docx follows it), so ``word/document2.xml`` works.
Only body paragraphs are read:
text in tables, text boxes, headers, footers, footnotes and comments is not imported
(a document whose text is all in tables gets a message saying so). YAML front matter does
not apply. Core properties title, author and created go into ``metadata`` when set
(python-docx's own template defaults are left out).
"""

from __future__ import annotations

from pathlib import Path

from coder.errors import InputError
from coder.ingest.archive import check_zip
from coder.ingest.model import Document
from coder.ingest.turns import build_document

_TEMPLATE_AUTHOR = "python-docx"
_TEMPLATE_CREATED = "2013-12-23T23:15:00"


def parse_docx(path: Path | str, *, name: str,
               known_speakers: frozenset[str] = frozenset()) -> Document:
    """Parse a Word document into a :class:`Document` (format ``docx``)."""
    import docx

    check_zip(path, "a Word .docx")
    try:
        document = docx.Document(str(path))
    except Exception:  # python-docx raises zip, XML, KeyError ... for a broken file
        raise InputError("not a Word .docx file", path=path) from None

    paragraphs = [p.text.strip() for p in document.paragraphs]
    text = "\n\n".join(p for p in paragraphs if p)
    if not text:
        if document.tables:
            raise InputError("no paragraph text (text inside tables is not imported)", path=path)
        raise InputError("empty document", path=path)

    metadata: dict = {}
    props = document.core_properties
    if props.title:
        metadata["title"] = props.title
    if props.author and props.author != _TEMPLATE_AUTHOR:
        metadata["author"] = props.author
    if props.created is not None:
        created = props.created.isoformat()
        if not created.startswith(_TEMPLATE_CREATED):
            metadata["created"] = created
    return build_document(text, name=name, fmt="docx", metadata=metadata, known=known_speakers)
