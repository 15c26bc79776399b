"""Open-ended survey responses from ``.csv`` / ``.xlsx``: one file, one Document.

The first row is the header (for ``.xlsx``: the first non-empty row of the first sheet).
Each row with a non-empty answer in the text column is one turn whose speaker is the
respondent id (the ``id_column`` value; without one, a single column named id,
respondent, participant or response id; else ``"<name> #<n>"`` with ``n`` the 1-based data
row number, which is also used when a row's id cell is empty). Rows without an answer and
ids that repeat are listed in the metadata (``rows_without_answer``, ``repeated_ids``).
The row's other non-empty cells become ``speaker_attributes[speaker]``. ``Document.text``
is the answers joined by a blank line. Column names match exactly, else case-insensitively.

Qualtrics exports (a ``ResponseId`` column, or ``StartDate`` and ``EndDate``) have the
question wording in row 2 and sometimes ``{"ImportId": ...}`` in row 3: both rows are
skipped, and the wording goes into the metadata (``questions`` per column, ``question`` for
the text column) for citations and reports.

Without ``text_column``, a single column whose name contains the word text, response,
answer or comment (``"Open response"``, ``"Comments"``) is used; otherwise the error lists
the columns and asks for ``--text-column``. CSV delimiter: whichever of comma, semicolon
or tab is most common in the header line outside quotes (comma if none), or the one an
Excel ``sep=;`` first line names.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from coder.errors import InputError
from coder.formatting import plural
from coder.ingest.decode import decode_bytes, read_bytes
from coder.ingest.model import Document, Turn

_QUOTED = re.compile(r'"[^"]*"')
_SEP_LINE = re.compile(r"sep=(.)")
_TOKENS = re.compile(r"[^\w]+|_")
_TEXTY = frozenset(["text", "response", "responses", "answer", "answers", "comment", "comments"])
_NOT_TEXTY = frozenset(["id", "date", "time", "number", "no", "nr", "count", "length", "score"])


_ID_WORDS = frozenset(["id", "respondent", "participant", "responseid", "respondentid"])


def _guess_id(header: list[str], text_i: int) -> int | None:
    """Without --id-column: the one column named like a respondent id, if there is one."""
    found = [i for i, name in enumerate(header) if i != text_i
             and _TOKENS.sub("", name.casefold()) in _ID_WORDS]
    return found[0] if len(found) == 1 else None


def parse_survey(
    path: Path | str,
    *,
    name: str,
    text_column: str | None = None,
    id_column: str | None = None,
) -> Document:
    """Read a ``.csv`` or ``.xlsx`` of survey answers (see the module docstring)."""
    fmt = Path(path).suffix.lower().lstrip(".")
    rows = _xlsx_rows(path) if fmt == "xlsx" else _csv_rows(path)
    header: list[str] | None = None
    for row in rows:
        if any(_cell(v) for v in row):
            header = _header(row, path)
            break
    if header is None:
        raise InputError("empty file", path=path)
    rows, questions, skipped = _qualtrics_rows(header, rows)
    text_i = _text_index(header, text_column, path, questions)
    id_i = (_column(header, id_column, path) if id_column is not None
            else _guess_id(header, text_i))
    if id_i == text_i:
        raise InputError("the id column and the text column are the same", path=path)

    out: list[str] = []
    turns: list[Turn] = []
    attributes: dict[str, dict[str, str]] = {}
    pos = 0
    count = 0
    blank: list[int] = []
    seen: dict[str, int] = {}
    duplicates: list[str] = []
    width = len(header)
    for number, row in enumerate(rows, start=1 + skipped):
        cells = [_cell(v) for v in row[:width]]
        if not any(cells):
            continue
        count += 1
        answer = cells[text_i] if text_i < len(cells) else ""
        if "\r" in answer:
            answer = answer.replace("\r\n", "\n").replace("\r", "\n")
        answer = answer.strip()
        if not answer:
            blank.append(number)
            continue
        speaker = cells[id_i].strip() if id_i is not None and id_i < len(cells) else ""
        speaker = speaker or f"{name} #{number}"
        seen[speaker] = seen.get(speaker, 0) + 1
        if seen[speaker] == 2:
            duplicates.append(speaker)
        if out:
            out.append("\n\n")
            pos += 2
        turns.append(Turn(speaker, pos, pos + len(answer)))
        out.append(answer)
        pos += len(answer)
        extra = {
            header[i]: value.strip()
            for i, value in enumerate(cells)
            if i != text_i and i != id_i and value.strip()
        }
        if extra:
            attributes.setdefault(speaker, {}).update(extra)
    if not turns:
        raise InputError(f"no answers in column '{header[text_i]}'", path=path)
    metadata = {
        "kind": "survey",
        "columns": header,
        "rows": count,
        "text_column": header[text_i],
        "id_column": header[id_i] if id_i is not None else None,
    }
    if questions:
        metadata["questions"] = questions
        if questions.get(header[text_i]):
            metadata["question"] = questions[header[text_i]]
        metadata["skipped_rows"] = skipped
    if blank:
        metadata["rows_without_answer"] = blank
    if duplicates:
        metadata["repeated_ids"] = duplicates
    kind = "Qualtrics export" if questions else "survey table"
    notes = []
    if questions:
        notes.append(f"skipped {plural(skipped, 'row')} after the header (question wording"
                     + (", ImportId" if skipped > 1 else "") + "); the wording is kept as "
                     "the transcript's metadata")
    return Document(
        name=name,
        text="".join(out),
        turns=turns,
        format=fmt,
        metadata=metadata,
        speaker_attributes=attributes,
        detected=f"{fmt.upper()} {kind}: answers in '{header[text_i]}', one turn per row",
        notes=notes,
    )


_QUALTRICS_COLUMNS = frozenset(["responseid", "_recordid"])
_RESPONSE_ID = re.compile(r"R_\w{6,}")


def _is_import_ids(row: Sequence[object]) -> bool:
    return any(_cell(v).lstrip().startswith(('{"ImportId"', "{'ImportId'")) for v in row)


def _qualtrics_rows(header: list[str], rows: Iterator[Sequence[object]]
                    ) -> tuple[Iterator[Sequence[object]], dict[str, str], int]:
    """Skip a Qualtrics export's question-wording row and ``{"ImportId": ...}`` row.

    Returns the remaining rows, the wording per column and how many rows were skipped.
    """
    ahead = list(rows)
    folded = {h.casefold() for h in header}
    qualtrics = bool(folded & _QUALTRICS_COLUMNS) or {"startdate", "enddate"} <= folded
    questions: dict[str, str] = {}
    skipped = 0
    id_i = next((i for i, h in enumerate(header) if h.casefold() in _QUALTRICS_COLUMNS), None)
    if qualtrics and ahead and id_i is not None and id_i < len(ahead[0]) \
            and _RESPONSE_ID.fullmatch(_cell(ahead[0][id_i]).strip()):
        qualtrics = False  # the first row is already an answer: no wording row
    if ahead and (qualtrics or (len(ahead) > 1 and _is_import_ids(ahead[1]))) \
            and not _is_import_ids(ahead[0]):
        wording = [_cell(v).strip() for v in ahead[0]]
        questions = {h: w for h, w in zip(header, wording, strict=False) if w and w != h}
        skipped = 1
    if len(ahead) > skipped and _is_import_ids(ahead[skipped]):
        skipped += 1
    return iter(ahead[skipped:]), questions, skipped


def _csv_rows(path: Path | str) -> Iterator[Sequence[object]]:
    text = decode_bytes(read_bytes(path), path, kind="CSV text file")
    first = text[: text.find("\n")] if "\n" in text else text
    if m := _SEP_LINE.fullmatch(first.strip()):  # Excel's "sep=;" hint line
        delimiter = m.group(1)
        text = text[len(first) + 1 :]
    else:
        unquoted = _QUOTED.sub("", first)
        delimiter = max(",;\t", key=unquoted.count) if any(c in unquoted for c in ",;\t") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return iter(list(reader))
    except csv.Error as exc:
        raise InputError(f"bad CSV at line {reader.line_num} ({exc})", path=path) from None


def _xlsx_rows(path: Path | str) -> Iterator[Sequence[object]]:
    import openpyxl

    from coder.ingest.archive import check_zip

    check_zip(path, "an Excel .xlsx")
    try:
        book = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except Exception:  # zipfile.BadZipFile, InvalidFileException, KeyError ...
        raise InputError("not an Excel .xlsx file", path=path) from None
    try:
        if not book.worksheets:
            raise InputError("the workbook has no sheets", path=path)
        return iter(list(book.worksheets[0].iter_rows(values_only=True)))
    finally:
        book.close()


def _cell(value: object) -> str:
    """A cell as text: ``3.0`` -> ``"3"``, dates ISO (no ``00:00:00``), empty -> ``""``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, _dt.datetime) and value.time() == _dt.time():
        return value.date().isoformat()
    if isinstance(value, _dt.date | _dt.time):
        return value.isoformat()
    return str(value)


def _header(row: Sequence[object], path: Path | str) -> list[str]:
    names = [_cell(v).strip() for v in row]
    while names and not names[-1]:
        names.pop()
    names = [n or f"column {i}" for i, n in enumerate(names, start=1)]
    seen: set[str] = set()
    for n in names:
        if n.casefold() in seen:
            raise InputError(f"duplicate column name '{n}'", path=path)
        seen.add(n.casefold())
    return names


def _column(header: list[str], wanted: str, path: Path | str) -> int:
    wanted = wanted.strip()
    if wanted in header:
        return header.index(wanted)
    folded = [h.casefold() for h in header]
    if wanted.casefold() in folded:
        return folded.index(wanted.casefold())
    raise InputError(f"no column named '{wanted}' (columns: {', '.join(header)})", path=path)


def _text_index(header: list[str], text_column: str | None, path: Path | str,
                questions: dict[str, str] | None = None) -> int:
    if text_column is not None:
        return _column(header, text_column, path)
    candidates = []
    for i, h in enumerate(header):
        words = set(_TOKENS.split(h.casefold()))
        if words & _TEXTY and not words & _NOT_TEXTY:
            candidates.append(i)
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        names = ", ".join(f"'{header[i]}'" for i in candidates)
        raise InputError(f"several possible text columns ({names}); pass --text-column", path=path)
    questions = questions or {}
    shown = ", ".join(f"{h} ({questions[h][:50]!r})" if questions.get(h) else h for h in header)
    raise InputError(f"no text column found; pass --text-column (columns: {shown})", path=path)
