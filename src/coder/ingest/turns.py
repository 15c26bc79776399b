"""Plain-text and Markdown transcripts: YAML front matter and speaker-labelled turns.

A line that begins with a speaker label starts a new turn (even for the same speaker);
other lines continue the current turn. Recognised labels::

    Name:  NAME:  Dr. Name Surname:  Mary-Jane O'Neil:  **Name:**  **Name**:
    [00:12:03] Name:  (00:12:03) Name:  00:12:03 Name:
    Name (00:12:03):  Name [00:12:03]:  Name: [00:12:03] words
    I:  R:  Q:  A:  Interviewer:  Respondent:  P3:  Participant 3:  Speaker 1:
    Name  00:12          (Otter: label and time alone on a line, words below)
    张伟：                (full-width colon; short labels in scripts without case)

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
* ``Name:text`` (no space after the colon) is not a label.
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
from coder.ingest.model import Document, Turn

# mm:ss, h:mm:ss, hh:mm:ss with optional .mmm / ,mmm
TIMESTAMP = r"\d{1,2}:[0-5]\d(?::[0-5]\d)?(?:[.,]\d{1,3})?"
_WORD = r"[^\W\d_][\w'’.\-]*"
_NAME = rf"{_WORD}(?:[ \t]+(?:{_WORD}|\d{{1,3}})){{0,4}}"
_B = r"(?:\*\*|__)?"  # Markdown bold marker

_LABEL = re.compile(
    rf"""^[ \t]*(?:
      {_B}(?:[\[(](?P<ts1>{TIMESTAMP})[\])][ \t]*|(?P<ts2>{TIMESTAMP})[ \t]+)?{_B}
      (?P<name>{_NAME})
      (?:[ \t]*[\[(](?P<ts3>{TIMESTAMP})[\])])?
      [ \t]*{_B}[ \t]*(?::{_B}(?=[ \t]|$)|：{_B})
      (?:[ \t]*[\[(](?P<ts4>{TIMESTAMP})[\])])?
    |
      (?P<oname>{_NAME})[ \t]+(?P<ots>{TIMESTAMP})[ \t]*$
    )""",
    re.MULTILINE | re.VERBOSE,
)
_FRONT_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
_SPACES = re.compile(r"\s+")
_CODE = re.compile(r"[A-Z]{1,3}\d{1,3}")


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


def parse_turn_text(text: str, *, name: str, fmt: str, front_matter: bool = True) -> Document:
    """Parse a speaker-labelled transcript (``text`` already decoded, ``\\n`` newlines).

    With ``front_matter`` a leading YAML block (``---`` ... ``---``) becomes ``metadata``
    and ``Document.text`` is the body after it.
    """
    metadata: dict = {}
    body = text
    if front_matter:
        metadata, body = split_front_matter(text)
    if not body or body.isspace():  # (strip() would copy a 200 MB text)
        raise InputError("no transcript text after the front matter")
    return Document(name=name, text=body, turns=find_turns(body), format=fmt, metadata=metadata)


def find_turns(body: str) -> list[Turn]:
    """Split ``body`` into turns at speaker labels (see the module docstring)."""
    labels = [lab for m in _LABEL.finditer(body) if (lab := _label(m)) is not None]
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


def match_label(line: str) -> Label | None:
    """The speaker label at the start of ``line`` (colon forms only), or ``None``."""
    m = _LABEL.match(line)
    if m is None or m.group("oname") is not None:
        return None
    return _label(m)


def parse_timestamp(value: str) -> float:
    """``'1:02:03.5'`` -> ``3723.5`` seconds (``mm:ss`` / ``h:mm:ss``, ``.`` or ``,`` ms)."""
    main, _, frac = value.replace(",", ".").partition(".")
    seconds = 0
    for part in main.split(":"):
        seconds = seconds * 60 + int(part)
    return seconds + (float("0." + frac) if frac else 0.0)


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
            if not _CODE.fullmatch(word):  # P3, FG12
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
