"""Plain-text and Markdown transcripts: YAML front matter and speaker-labelled turns.

A line that begins with a speaker label starts a new turn (even for the same speaker);
other lines continue the current turn. Recognised labels::

    Name:  NAME:  Dr. Name Surname:  Mary-Jane O'Neil:  **Name:**  **Name**:
    [00:12:03] Name:  (00:12:03) Name:  00:12:03 Name:
    Name (00:12:03):  Name [00:12:03]:  Name: [00:12:03] words
    I:  R:  Q:  A:  Interviewer:  Respondent:  P3:  Participant 3:  Speaker 1:
    Name  00:12          (Otter: label and time alone on a line, words below)
    张伟：                (full-width colon; short labels in scripts without case)
    **Emma** [0:00] words   **Emma** 0:00   **Lindsey** [00:00]   *Joe Patti (1:00:05)*
                         (Otter/Descript/Riverside Markdown; the last three alone on a line)
    Speaker 1 [00:00:05] words   Jane Doe (1:02:03)        (Trint, Temi; the form recurs)
    00:00:03 Speaker 1   (Word/Microsoft 365 Transcribe: alone on a line; the form recurs)
    I:Q2  B:Das …        (no space after the colon: only names that recur)
    Tim Davis There …    (no colon: only names that start many lines and alternate, or
                         are known from speakers.csv)

After the labels are found they must behave like turns (names alternate, or are roles such
as ``I``/``Speaker 2``, carry times, are known, or hold most of the text); otherwise they
are titles (``Koronavírus: …``, ``Photo Credit: …``) and the text is imported as
paragraphs, with a note saying so. Otter's ``SUMMARY KEYWORDS``/``SPEAKERS`` header becomes
metadata and its ``Transcribed by https://otter.ai`` footer is dropped. Markup and timing
residue in the words (see :mod:`coder.ingest.clean`) is taken out; then the stored text is
rebuilt as one ``Name: words`` block per turn.

Judgment calls:

* A label is 1-5 words and at most 40 characters. Words start with a capital letter
  (any script: José, Zoë, Łukasz); lower-case name particles (van, de, bin, ...) are
  allowed after the first word, and titles (Dr., Prof., ...) before it. Digits only in
  ``P3``-style codes or as a number after a role word (``Speaker 1``, ``Participant 12``).
  So ``The three reasons were: ...``, ``https://...`` and ``10:30`` are not labels.
* Headings and metadata are not labels: a label whose first word is ``Note``, ``NB``,
  ``Date``, ``Location``, ``Interview``, ``Chapter`` ... or whose last word is ``Notes``,
  ``Date``, ``Time`` ... (``Interview Notes:``) continues the current turn, so a
  transcriber's note stays with the speech it annotates and a header block stays in the
  preamble turn. ``Question:``/``Answer:`` and ``Q:``/``A:`` *are* labels.
* ``Name:text`` (no space after the colon) is a label only for names used two or more
  times.
* The Otter form (``Name  00:12`` alone on a line) must be the first line or follow a
  blank line, as in Otter's exports, so a line like ``Arsenal 2:10`` inside a paragraph
  is not taken for one.
* Text before the first label is a turn with speaker ``None``. A label with no words
  (e.g. two labels in a row) gives no turn: empty turns are dropped.
* If no label is found at all the whole (stripped) body is one turn with speaker ``None``;
  the importer decides whether that is an error.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from coder.errors import InputError
from coder.formatting import plural
from coder.ingest.model import Document, Turn
from coder.ingest.timestamps import TIMESTAMP, parse_timestamp

__all__ = ["TIMESTAMP", "Label", "find_turns", "match_label", "parse_timestamp",
           "parse_turn_text", "split_front_matter"]

_WORD = r"[^\W\d_][\w'’.\-]*"
_NAME = rf"{_WORD}(?:[ \t]+(?:{_WORD}|\d{{1,3}})){{0,4}}"
_B = r"(?:\*\*|__)?"  # Markdown bold marker

_LABEL = re.compile(
    rf"""^[ \t]*(?:
      {_B}(?:[\[(](?P<ts1>{TIMESTAMP})[\])][ \t]*|(?P<ts2>{TIMESTAMP})[ \t]+)?{_B}
      (?P<name>{_NAME})
      (?:[ \t]*[\[(](?P<ts3>{TIMESTAMP})[\])])?
      [ \t]*{_B}[ \t]*(?::{_B}(?=[ \t]|$)|：{_B}|(?P<tight>:)(?=[^\s/:\d]))
      (?:[ \t]*[\[(](?P<ts4>{TIMESTAMP})[\])])?
    |
      (?P<oname>{_NAME})[ \t]+(?P<ots>{TIMESTAMP})[ \t]*$
    )""",
    re.MULTILINE | re.VERBOSE,
)
# Markdown exports of Otter, Descript, Riverside: **Emma** [0:00] words / **Emma** 0:00 /
# **Lindsey** [00:00] alone on a line / *Joe Patti (1:00:05)* alone on a line
_MD_LABEL = re.compile(  # searched in "\n" + body, as _TIME_FIRST
    rf"""\n[ \t]*(?P<mark>\*\*|\*|__)(?P<name>{_NAME})
      (?:[ \t]*\\?[\[(](?P<ts1>{TIMESTAMP})\\?[\])])?(?P=mark)
      (?:[ \t]*(?:\\?[\[(](?P<ts2>{TIMESTAMP})\\?[\])]|(?P<ts3>{TIMESTAMP})))?
      (?P<alone>[ \t]*$)?[ \t]*""",
    re.MULTILINE | re.VERBOSE,
)
# Trint, Temi, Descript text: "Speaker 1 [00:00:05] words" / "Jane Doe (1:02:03)" alone
_PLAIN_TIMED = re.compile(
    rf"\n[ \t]*(?P<name>{_NAME})[ \t]*[\[(](?P<ts>{TIMESTAMP})[\])](?![ \t]*[:：])[ \t]*",
)
# Word / Microsoft 365 Transcribe: "00:00:03 Speaker 1" alone on a line, words below
# searched in "\n" + body: the literal newline lets the regex engine skip ahead fast
_TIME_FIRST = re.compile(
    rf"\n[ \t]*[\[(]?(?P<ts>{TIMESTAMP})[\])]?[ \t]+(?=[^:\n]*$)(?P<name>{_NAME})[ \t]*$",
    re.MULTILINE,
)
_LOOSE_LINE = re.compile(  # searched in "\n" + body
    r"\n[ \t]*(?P<name>[^\s:<>\[\]()*#]{1,30}(?:[ \t][^\s:<>\[\]()*#]{1,30}){0,2}):[ \t]+(?=\S)")
_ORDINARY_ENOUGH = 20  # this many `Name:` labels: the file's form is settled
_KINDS = {"txt": "text", "md": "Markdown", "docx": "Word", "pdf": "PDF"}
_OTTER_FOOTER = re.compile(r"^[ \t]*Transcribed by https?://otter\.ai[ \t]*$", re.MULTILINE)
_OTTER_HEADINGS = {"SUMMARY KEYWORDS": "keywords", "SPEAKERS": "speakers"}
_FRONT_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
_SPACES = re.compile(r"\s+")
_CODE = re.compile(r"[A-Z]{1,3}\d{1,3}")
_GLUED_NUMBER = re.compile(r"([^\W\d_]+)\d{1,3}")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_TITLES = _words("dr mr mrs ms miss prof sir dame rev fr mx")
_PARTICLES = _words(
    """
    van von der den de del della di da dos das du la le les bin binti bint al el ibn ter
    ten y e st
    """
)
# Role words accepted in any case ("interviewer:") and, with a number, "Speaker 2".
_ROLES = _words("interviewer interviewee respondent participant speaker moderator facilitator")
_NUMBERED = _ROLES | _words(
    """
    person student teacher parent patient guest host caller member child pupil client
    customer user staff worker employee voice
    """
)
# Headings and metadata, not speakers: a label whose first word is one of these ...
_NOT_FIRST = _words(
    """
    note notes nb ps re fwd fyi todo tip date time location place venue site setting
    duration length subject topic title summary abstract agenda attendees participants
    present transcript transcription transcriber interview recording recorded audio video
    source link url email e-mail phone tel address chapter section part step table figure
    fig example keywords tags update edit warning caution important context background
    memo observation observations code codes theme themes project study meeting session
    break pause start end total result results conclusion file version field focus
    jingle music intro outro sponsor advertisement applause laughter silence crosstalk
    """
)
# ... or whose last word is one of these ("Interview Notes:", "Recording Date:").
_NOT_LAST = _words(
    """
    note notes date time duration location summary transcript agenda details info
    information questions title topic
    """
)


@dataclass(frozen=True)
class Label:
    """A speaker label found at the start of a line."""

    speaker: str
    time: float | None
    start: int  # where the label's line starts
    end: int  # just after the label: the words start here (after whitespace)
    form: str = "Name:"  # how it was written, for the preview


def parse_turn_text(
    text: str, *, name: str, fmt: str, front_matter: bool = True,
    known_speakers: frozenset[str] = frozenset(), keep_text: bool = False,
) -> Document:
    """Parse a speaker-labelled transcript (``text`` already decoded, ``\\n`` newlines).

    With ``front_matter`` a leading YAML block (``---`` ... ``---``) becomes ``metadata``
    and ``Document.text`` is the body after it. ``known_speakers`` (from
    ``transcripts/speakers.csv``) count as speakers even when used only once. With
    ``keep_text`` the text is stored as given, markup and all (REFI-QDA sources).
    """
    metadata: dict = {}
    body = text
    if front_matter:
        metadata, body = split_front_matter(text)
    if not body or body.isspace():  # (strip() would copy a 200 MB text)
        if metadata:
            raise InputError("empty source (front matter but no transcript text after it)")
        raise InputError("empty source")
    return build_document(body, name=name, fmt=fmt, metadata=metadata, known=known_speakers,
                          keep_text=keep_text,
                          line_offset=text.count("\n", 0, len(text) - len(body)))


def build_document(body: str, *, name: str, fmt: str, metadata: dict | None = None,
                   known: frozenset[str] = frozenset(),
                   page_starts: list[int] | None = None, keep_text: bool = False,
                   line_offset: int = 0) -> Document:
    """Find turns in ``body``, check they behave like turns, clean their words.

    ``page_starts`` (PDF) are offsets into ``body`` where pages begin. With ``keep_text``
    the text is stored exactly as given (REFI-QDA sources, whose codings point into it).
    ``line_offset`` is the number of file lines before ``body`` (front matter).
    """
    metadata = dict(metadata or {})
    if not keep_text:
        footerless = _OTTER_FOOTER.sub("", body) if "otter.ai" in body else body
        body = _otter_extras(body, metadata)
        line_offset += footerless.count("\n", 0, len(footerless) - len(body))
    if not body.strip():
        raise InputError("empty source")
    labels, unused = find_labels(body, known)
    notes: list[str] = []
    counts: dict[str, int] = {}
    for lab in labels:
        counts[lab.speaker] = counts.get(lab.speaker, 0) + 1
    kind = _KINDS.get(fmt, fmt)
    if labels and not _behave_like_turns(counts, known, labels, body) \
            and not _one_turn(body, labels):
        shown = ", ".join(f"'{n}:'" for n in list(counts)[:3])
        notes.append(f"not dialogue: {plural(len(labels), 'label')} ({shown}) do not behave "
                     "like speaker turns (no names taking turns, no times), so they look like "
                     "titles or headings: imported as paragraphs. If they are speakers, list "
                     "them in transcripts/speakers.csv")
        detected = (f"{kind} without speaker turns (its labels look like titles or headings, "
                    "not speakers)")
        labels = []
    elif labels:
        forms = sorted({lab.form for lab in labels})
        detected = (f"{kind} transcript: {plural(len(labels), 'speaker label')} "
                    f"({', '.join(forms)}), "
                    f"{plural(len(counts), 'speaker')}")
    else:
        detected = f"{kind} without speaker labels"
    if not labels and not notes:  # no labels at all (not: labels that are titles)
        labels = _colonless_labels(body, known)
        if labels:
            counts = {}
            for lab in labels:
                counts[lab.speaker] = counts.get(lab.speaker, 0) + 1
            notes.append("speaker names without a colon, recognised because they start many "
                         f"lines: {', '.join(sorted(counts))}")
            detected = (f"{kind} transcript: {len(labels)} lines starting with a speaker's name "
                        f"(no colon), {plural(len(counts), 'speaker')}")
    turns = _turns_from_labels(body, labels)
    doc = Document(name=name, text=body, turns=turns, format=fmt, metadata=metadata,
                   detected=detected, notes=notes, pages=list(page_starts or []))
    doc.unused_labels = [(lab.speaker, line_offset + _line_of(body, lab.start))
                         for lab in unused][:20]
    if fmt in ("txt", "md"):
        doc.line_offset = line_offset
    return doc if keep_text else clean_document(doc)


def _one_turn(body: str, labels: list[Label]) -> bool:
    """A single label whose words are the whole file (after it, on its line) is a speaker."""
    if len(labels) != 1 or body[:labels[0].start].strip():
        return False
    line_end = body.find("\n", labels[0].end)
    return line_end == -1 or body[line_end:].isspace()


def _behave_like_turns(counts: dict[str, int], known: frozenset[str],
                       labels: list[Label], body: str) -> bool:
    """Labels are speakers when they alternate, are known, carry times, or hold the text.

    Titles and captions (``Koronavírus: …``, ``Photo Credit: …`` twice) are one-line labels
    over paragraphs of unlabelled text, and do not alternate between names.
    """
    if any(n in known for n in counts):
        return True
    if _repeated_titles(labels, body):
        return False
    if len(counts) >= 6 and len(labels) < 1.5 * len(counts) and max(counts.values()) < 3:
        return False  # many names, each used about once, none coming back: headings
    if any(lab.time is not None for lab in labels):
        return True
    if any(_is_role(n) for n in counts):  # I:, R:, Interviewer:, Speaker 2:, P3:
        return True
    if max(counts.values()) >= 3:  # a name that keeps coming back is someone talking
        return True
    changes = sum(1 for a, b in zip(labels, labels[1:], strict=False) if a.speaker != b.speaker)
    if changes >= 2 or (len(counts) == 1 and len(labels) >= 3):
        return True
    if len(labels) < 2:
        return False
    # a short exchange (I: … R: …): the labelled lines carry most of the words
    attached = 0
    for i, lab in enumerate(labels):
        stop = labels[i + 1].start if i + 1 < len(labels) else len(body)
        blank = body.find("\n\n", lab.end, stop)
        attached += len(body[lab.start:blank if blank >= 0 else stop].split())
    return attached >= 0.5 * len(body.split())


def _repeated_titles(labels: list[Label], body: str) -> bool:
    """True when most labelled lines of some length repeat word for word: the title of each
    record in a comment or article dump (``PSZ: Januártól több iskolában…`` ten times)."""
    lines = []
    for lab in labels[:40]:  # a sample is enough, and keeps long files fast
        end = body.find("\n", lab.end, lab.end + 300)
        line = body[lab.start:end if end >= 0 else lab.end + 300].strip()
        if line.count(" ") >= 4:
            lines.append(line)
    if len(lines) < 4:
        return False
    seen: dict[str, int] = {}
    for line in lines:
        seen[line] = seen.get(line, 0) + 1
    return sum(c for c in seen.values() if c > 1) >= 0.5 * len(lines)


def _is_role(name: str) -> bool:
    """A role or code rather than a name: ``I``, ``Q``, ``Interviewer``, ``Speaker 2``, ``P3``."""
    if len(name) <= 2 and name.isupper():
        return True
    words = name.lower().split()
    glued = _GLUED_NUMBER.fullmatch(words[0])
    return (words[0] in _NUMBERED or bool(_CODE.fullmatch(name))
            or bool(glued and glued.group(1) in _NUMBERED))


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def find_turns(body: str, known: frozenset[str] = frozenset()) -> list[Turn]:
    """Split ``body`` into turns at speaker labels (see the module docstring)."""
    return _turns_from_labels(body, find_labels(body, known)[0])


def _turns_from_labels(body: str, labels: list[Label]) -> list[Turn]:
    turns: list[Turn] = []
    if not labels:
        span = _strip(body, 0, len(body))
        return [Turn(None, *span)] if span else []
    preamble = _strip(body, 0, labels[0].start)
    if preamble:
        turns.append(Turn(None, *preamble))
    for i, lab in enumerate(labels):
        stop = labels[i + 1].start if i + 1 < len(labels) else len(body)
        span = _strip(body, lab.end, stop)
        if span:
            turns.append(Turn(lab.speaker, span[0], span[1], time_start=lab.time))
    return turns


def find_labels(body: str, known: frozenset[str] = frozenset()) -> tuple[list[Label], list[Label]]:
    """Speaker labels in ``body``: ``(used, unused)``.

    Forms that are easy to mistake for prose (``I:Q2`` with no space, a bold name alone on
    a line, ``00:00:03 Speaker 1``) count only for names that recur or are ``known``;
    the others are returned as ``unused`` so a preview can show them.
    """
    plain: list[Label] = []
    found: list[tuple[Label, bool]] = []
    for m in _LABEL.finditer(body):
        if (lab := _label(m)) is not None:
            if m.group("tight") is None:
                plain.append(lab)
            else:
                found.append((Label(lab.speaker, lab.time, lab.start, lab.end, "Name:text"),
                              True))
    # a file written in ordinary labels throughout does not mix in the other forms
    others = len(plain) < _ORDINARY_ENOUGH
    if others or _one_voice(plain):  # "admin-1:", "Jane's iPhone:" answering "Max Bigman:"
        found += [(lab, False) for lab in _loose_labels(body)]
    if others and ("*" in body or "__" in body):
        for m in _MD_LABEL.finditer("\n" + body):
            ts = m.group("ts1") or m.group("ts2") or m.group("ts3")
            alone = m.group("alone") is not None
            if ts is None and not alone:
                continue  # **Bold** words: emphasis, not a label
            speaker = _SPACES.sub(" ", m.group("name")).strip()
            if not _is_speaker(speaker):
                continue
            time = parse_timestamp(ts) if ts else None
            found.append((Label(speaker, time, m.start(), m.end() - 1, "**Name**"),
                          ts is None))
    if others and ("[" in body or "(" in body):
        for m in _PLAIN_TIMED.finditer("\n" + body):
            speaker = _SPACES.sub(" ", m.group("name")).strip()
            if _is_speaker(speaker):
                found.append((Label(speaker, parse_timestamp(m.group("ts")), m.start(),
                                    m.end() - 1, "Name [time]"), True))
    for m in _TIME_FIRST.finditer("\n" + body) if others else ():  # body offset = here - 1
        speaker = _SPACES.sub(" ", m.group("name")).strip()
        if _after_blank_line(body, m.start()) and _is_speaker(speaker):
            found.append((Label(speaker, parse_timestamp(m.group("ts")), m.start(),
                                m.end() - 1, "time Name"), True))
    if not found:
        return plain, []  # the common case: only ordinary labels
    found += [(lab, False) for lab in plain]
    found.sort(key=lambda item: (item[0].start, item[1]))  # ordinary labels first on a line
    counts: dict[str, int] = {}
    forms: dict[str, int] = {}
    for lab, _ in found:
        counts[lab.speaker] = counts.get(lab.speaker, 0) + 1
        forms[lab.form] = forms.get(lab.form, 0) + 1
    used: list[Label] = []
    unused: list[Label] = []
    last = -1
    for lab, needs_recurrence in found:
        if lab.start <= last:
            continue  # two forms matched the same line
        # "I:Q2" counts when the name recurs; a line-alone form when the form recurs
        recurs = counts[lab.speaker] >= 2 if lab.form == "Name:text" else forms[lab.form] >= 2
        if needs_recurrence and not recurs and lab.speaker not in known:
            unused.append(lab)
            continue
        used.append(lab)
        last = lab.start
    return used, unused


def _colonless_labels(body: str, known: frozenset[str]) -> list[Label]:
    """``Tim Davis There are…`` lines: names that start many lines (or are ``known``)."""
    from coder.ingest.names import leading_names, split_leading_name

    starts = [0] + [m.end() for m in re.finditer(r"\n", body)]
    lines = [(start, body[start:body.find("\n", start) if "\n" in body[start:] else len(body)])
             for start in starts]
    texts = [line.strip() for _, line in lines if line.strip()]
    names = leading_names(texts, known)
    labels = []
    for start, line in lines:
        lead = len(line) - len(line.lstrip())
        found = split_leading_name(line.strip(), names)
        if found is not None:
            labels.append(Label(found[0], None, start, start + lead + len(found[0]) + 1,
                                "Name words"))
    speakers = {lab.speaker for lab in labels}
    changes = sum(1 for a, b in zip(labels, labels[1:], strict=False) if a.speaker != b.speaker)
    # turns alternate between names; "Raymond says… / Raymond shares…" is prose about him
    if any(n in known for n in speakers):
        return labels
    if len(speakers) >= 2 and changes >= 3 and not _repeated_titles(labels, body):
        return labels
    return []


def _one_voice(labels: list[Label]) -> bool:
    """True when one name holds nearly every label (the other voice may be unrecognised)."""
    counts: dict[str, int] = {}
    for lab in labels:
        counts[lab.speaker] = counts.get(lab.speaker, 0) + 1
    return bool(counts) and max(counts.values()) >= 0.8 * len(labels)


def _loose_labels(body: str) -> list[Label]:
    """``Name:`` prefixes the strict rules reject (``admin-1:``, ``Jane's iPhone:``) that
    start three or more lines: a name that recurs like that is a speaker, not prose."""
    counts: dict[str, int] = {}
    matches = []
    for m in _LOOSE_LINE.finditer("\n" + body):
        name = _SPACES.sub(" ", m.group("name")).strip()
        if _is_speaker(name) or looks_like_heading(name) or not name[0].isalnum() \
                or name[0].isdigit() or name.lower().startswith(("http", "www")):
            continue  # strict labels are found already; the rest is not a name
        counts[name] = counts.get(name, 0) + 1
        matches.append((name, m))
    return [Label(name, None, m.start(), m.end() - 1, "Name: (other spelling)")
            for name, m in matches if counts[name] >= 3]


def _otter_extras(body: str, metadata: dict) -> str:
    """Otter's ``SUMMARY KEYWORDS`` / ``SPEAKERS`` header to metadata; its footer dropped."""
    if "otter.ai" in body:
        body = _OTTER_FOOTER.sub("", body)
    stripped = body.lstrip()
    if not stripped.startswith(tuple(_OTTER_HEADINGS)):
        return body
    pos = len(body) - len(stripped)
    while True:
        rest = body[pos:]
        head = next((h for h in _OTTER_HEADINGS if rest.startswith(h)), None)
        if head is None:
            return body[pos:]
        block_end = rest.find("\n\n")
        block = rest[len(head):block_end if block_end >= 0 else len(rest)]
        values = [v.strip() for v in block.replace("\n", ",").split(",") if v.strip()]
        metadata[_OTTER_HEADINGS[head]] = values
        if block_end < 0:
            return ""
        pos += block_end
        while pos < len(body) and body[pos] in " \t\n":
            pos += 1


def clean_document(doc: Document) -> Document:
    """Take markup and timing residue out of every turn (rebuilding the text if needed).

    Unchanged documents keep their text and offsets. Otherwise ``text`` becomes one
    ``Name: words`` paragraph block per turn, as captions are stored.
    """
    from coder.ingest.clean import (
        Cleaned,
        clean_words,
        kept_mark,
        mark_text,
        needs_cleaning,
        split_marks,
    )

    if not any(needs_cleaning(doc.text[t.start:t.end]) for t in doc.turns):
        return doc
    # Each turn's words, cut at the non-speech lines after its first (a break, music): those
    # become speakerless pieces of their own, so no labelled turn is lost or glued to another.
    pieces: list[tuple[Turn, Cleaned]] = []
    for t in doc.turns:
        parts = split_marks(doc.text[t.start:t.end])
        for k, (is_mark, part) in enumerate(parts):
            if is_mark:
                words, begins, ends = mark_text(part)
                pieces.append((Turn(None, t.start, t.end), Cleaned(words, begins, ends)))
                continue
            cleaned = clean_words(part)
            if not cleaned.text and len(parts) == 1 and t.speaker is not None:
                cleaned.text = kept_mark(part)  # "Saron: [laughs]" is still Saron's turn
            if cleaned.text:
                pieces.append((t if k == 0 else Turn(t.speaker, t.start, t.end), cleaned))
    if len(pieces) == len(doc.turns) and all(
            c.text == doc.text[t.start:t.end] and c.time_start is None and c.time_end is None
            for t, c in pieces):
        return doc  # nothing to take out: keep the file's own text and offsets
    out: list[str] = []
    turns: list[Turn] = []
    moved: list[tuple[int, int, int]] = []  # old start, new start, new length
    pos = 0
    previous_end: float | None = None
    for turn, cleaned in pieces:
        start = turn.time_start if turn.time_start is not None else cleaned.time_start
        if start is None and cleaned.time_end is not None:
            start = previous_end  # f4: a time mark ends each turn; the next starts there
        prefix = f"{turn.speaker}: " if turn.speaker is not None else ""
        if out:
            out.append("\n\n")
            pos += 2
        out.append(prefix + cleaned.text)
        pos += len(prefix)
        end = cleaned.time_end if cleaned.time_end is not None else turn.time_end
        turns.append(Turn(turn.speaker, pos, pos + len(cleaned.text), start, end))
        moved.append((turn.start, pos, len(cleaned.text)))
        pos += len(cleaned.text)
        previous_end = cleaned.time_end
    doc.text = "".join(out)
    doc.turns = turns
    doc.line_offset = None  # the stored text is no longer the file's lines
    if doc.pages:
        doc.pages = [_moved_offset(p, moved, len(doc.text)) for p in doc.pages]
    return doc


def _moved_offset(old: int, moved: list[tuple[int, int, int]], size: int) -> int:
    """Where ``old`` lands after the turns were rebuilt (near enough for page numbers)."""
    for k, (old_start, new_start, length) in enumerate(moved):
        next_old = moved[k + 1][0] if k + 1 < len(moved) else None
        if old < old_start:
            return new_start
        if next_old is None or old < next_old:
            return new_start + min(old - old_start, length)
    return size


def match_label(line: str) -> Label | None:
    """The speaker label at the start of ``line`` (colon forms only), or ``None``."""
    m = _LABEL.match(line)
    if m is None or m.group("oname") is not None or m.group("tight") is not None:
        return None
    return _label(m)


def split_front_matter(text: str) -> tuple[dict, str]:
    """Split a leading ``---`` YAML block off ``text``: ``(metadata, body)``."""
    newline = text.find("\n")
    if newline < 0 or text[:newline].rstrip() != "---":
        return {}, text
    closing = _FRONT_END.search(text, newline + 1)
    if closing is None:
        return {}, text  # a lone "---" is a Markdown rule, not front matter
    from coder import safe_yaml
    from coder.errors import CoderError

    source = text[newline + 1 : closing.start()]
    try:
        data = safe_yaml.load(source, first_line=2, what="front matter")
    except CoderError as exc:
        raise InputError(exc.reason.replace("end of document", "end of front matter"),
                         line=exc.line) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError("front matter is not a mapping (expected 'key: value' lines)", line=2)
    end = closing.end()
    if text.startswith("\n", end):
        end += 1
    return dict(_jsonable(data)), text[end:]


def _label(m: re.Match[str]) -> Label | None:
    raw = m.group("name")
    ts = m.group("ts1") or m.group("ts2") or m.group("ts3") or m.group("ts4")
    if raw is None:
        if not _after_blank_line(m.string, m.start()):
            return None  # "Arsenal 2:10" inside a paragraph is not an Otter heading
        raw, ts = m.group("oname"), m.group("ots")
    speaker = _SPACES.sub(" ", raw).strip()
    if not _is_speaker(speaker):
        return None
    time = parse_timestamp(ts) if ts else None
    return Label(speaker, time, m.start(), m.end())


def _after_blank_line(text: str, pos: int) -> bool:
    """True if the line starting at ``pos`` is the first line or follows a blank line."""
    i = pos - 2  # skip the newline that ends the previous line
    while i >= 0 and text[i] in " \t":
        i -= 1
    return i < 0 or text[i] == "\n"


def looks_like_heading(name: str) -> bool:
    """True for labels such as ``Note``, ``Date``, ``Interview Notes`` (not speakers)."""
    lowered = name.lower().split()
    if not lowered:
        return True
    first, last = lowered[0].rstrip("."), lowered[-1].rstrip(".")
    return first in _NOT_FIRST or (len(lowered) > 1 and last in _NOT_LAST)


@lru_cache(maxsize=4096)  # speakers repeat: validate each distinct label once
def _is_speaker(name: str) -> bool:
    if len(name) > 40:
        return False
    if looks_like_heading(name):
        return False
    words = name.split(" ")
    lowered = [w.lower().rstrip(".") for w in words]
    if lowered[0] in _ROLES and (len(words) == 1 or (len(words) == 2 and words[1].isdigit())):
        return True
    i = 1 if len(words) > 1 and lowered[0] in _TITLES else 0
    for j in range(i, len(words)):
        word = words[j]
        first = word[0]
        if word.isdigit():
            # a number only after a role word: "Speaker 1", "Unknown Speaker 2"
            if j != len(words) - 1 or lowered[j - 1] not in _NUMBERED:
                return False
        elif any(c.isdigit() for c in word):
            glued = _GLUED_NUMBER.fullmatch(word)  # Sonix's "Speaker1", "Participant12"
            if not _CODE.fullmatch(word) and not (glued and glued.group(1).lower() in _NUMBERED):
                return False
        elif first.islower():
            if j == i or lowered[j] not in _PARTICLES:
                return False
        elif not first.isupper() and len(name) > 12:
            return False  # scripts without case (张伟): only short labels
    return True


def _strip(text: str, start: int, end: int) -> tuple[int, int] | None:
    """``(start, end)`` narrowed to exclude surrounding whitespace; ``None`` if blank."""
    segment = text[start:end]
    stripped = segment.strip()
    if not stripped:
        return None
    lead = len(segment) - len(segment.lstrip())
    return start + lead, start + lead + len(stripped)


def _jsonable(value: Any) -> Any:
    """Make YAML values JSON-serialisable (dates -> ISO strings, sets -> lists)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, _dt.date | _dt.time):  # datetime is a date
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
