"""Caption files: WebVTT (``.vtt``: Zoom, MS Teams, ...) and SubRip (``.srt``).

A speaker comes from a voice tag (``<v Jane Doe>words</v>``, Teams) or a label at the
start of a cue line (``Jane Doe: words``, Zoom/Otter; same rules as plain-text
transcripts). Consecutive cues of the same speaker merge into one turn, with the first
cue's start time and the last cue's end time. In a file where only some cues name a
speaker, a cue without one continues the current speaker's turn. In a file with no
speakers at all, each cue is its own turn (speaker ``None``), so times stay usable. A
``Name:`` prefix that the plain-text rules reject (Zoom's ``Jane's iPhone:``) still counts
as a speaker when it starts two or more cues.

``Document.text`` is a readable transcript: one ``Name: words`` paragraph per turn (just
``words`` for speaker ``None``), the lines of merged cues joined with single spaces, turns
separated by a blank line. Turn offsets point at the words after ``Name: ``.

Leniency: a missing ``WEBVTT`` header is accepted, ``.`` and ``,`` both work before the
milliseconds in either format, milliseconds may be left out, a timing line inside a block
starts a new cue (files with no blank line between cues), and in SRT a paragraph with no
timing line after a cue (a stray blank line inside a cue) is part of that cue's text.
NOTE, STYLE and REGION blocks, cue settings and inline tags (``<c>``, ``<b>``, ``<i>``,
``<00:00:01.000>``, ``<font>``, ``{\\an8}``) are dropped.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from coder.errors import InputError
from coder.formatting import plural
from coder.ingest.cues import PAUSE, Piece, assemble
from coder.ingest.model import Document
from coder.ingest.names import leading_names, split_leading_name
from coder.ingest.turns import looks_like_heading, match_label, parse_timestamp

# 00:00:01.000, 01.000 without hours, and Teams' old unpadded 0:0:1.0
_CUE_TIME = re.compile(r"(?:(\d{1,3}):)?(\d{1,2}):([0-5]?\d)(?:[.,](\d{1,3}))?")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?(?:[ \t]+([^>]*))?>")
_TAG = re.compile(r"</?[A-Za-z][^>]*>|<\d[^>]*>|\{\\[^}]*\}")
_SPACES = re.compile(r"\s+")
_SKIP_BLOCKS = ("NOTE", "STYLE", "REGION")
# "Name: words" where Name is 1-5 space-separated tokens without colons, up to 40 chars
_LOOSE_LABEL = re.compile(r"((?=[^:]{1,40}:)[^\s:<>]+(?: [^\s:<>]+){0,4}):[ \t]+")
_HEADER_FIELD = re.compile(r"^([A-Za-z][\w-]*):[ \t]*(.*?)[ \t]*$")


@dataclass
class _Cue:
    start: float
    end: float
    lines: list[str] = field(default_factory=list)


def parse_vtt(text: str, *, name: str, pause: float = PAUSE,
              known_speakers: frozenset[str] = frozenset()) -> Document:
    """Parse a WebVTT file's text (decoded, ``\\n`` newlines) into a :class:`Document`."""
    return _parse(text, name=name, fmt="vtt", pause=pause, known=known_speakers)


def parse_srt(text: str, *, name: str, pause: float = PAUSE,
              known_speakers: frozenset[str] = frozenset()) -> Document:
    """Parse a SubRip file's text (decoded, ``\\n`` newlines) into a :class:`Document`."""
    return _parse(text, name=name, fmt="srt", pause=pause, known=known_speakers)


def _parse(text: str, *, name: str, fmt: str, pause: float = PAUSE,
           known: frozenset[str] = frozenset()) -> Document:
    metadata: dict = {}
    cues = _read_cues(text, fmt, metadata)
    if not cues:
        raise InputError("no caption cues found")
    texts = ["\n".join(cue.lines) for cue in cues]
    notes: list[str] = []
    rolling = _is_rolling(texts)
    if rolling:
        texts = _drop_rolling_repeats(texts)
        notes.append("rolling captions (each cue repeats the last one's words, as YouTube's "
                     "automatic captions do): every word kept once")
    loose = _recurring_loose_labels(texts)
    names: list[str] = []
    if not any(":" in t or "<v" in t for t in texts[:200]) or known:
        firsts = [_clean(t.split("\n", 1)[0]) for t in texts if t.strip()]
        names = leading_names(firsts, known)
        names = [n for n in names if any(f.startswith(n + " ") for f in firsts)]
    pieces = _pieces(cues, texts, loose, names)
    if names and not _alternate([p.speaker for p in pieces if p.speaker in names], known):
        names = []  # "Chicago Bulls are…" in many cues: a subject, not a speaker
        pieces = _pieces(cues, texts, loose, names)
    if not any(p.words for p in pieces):
        raise InputError("caption cues contain no text")
    if names:
        used = sorted({p.speaker for p in pieces if p.speaker in names})
        if used:
            notes.append("speaker names without a colon, recognised because they start "
                         f"many cues: {', '.join(used)}")
    metadata["cues"] = len(cues)
    doc = assemble(pieces, name=name, fmt=fmt, metadata=metadata, pause=pause)
    speakers = {t.speaker for t in doc.turns if t.speaker}
    header = "WEBVTT header" if fmt == "vtt" and text.lstrip().startswith("WEBVTT") else \
        "'-->' timing lines"
    kind = "WebVTT" if fmt == "vtt" else "SubRip"
    doc.detected = (f"{kind} captions ({header}, {plural(len(cues), 'cue')}"
                    + (f", {plural(len(speakers), 'speaker')}" if speakers
                       else ", no speaker names")
                    + ")")
    if not speakers and len(doc.turns) > 1:
        notes.append(f"no speaker names: cues joined into paragraphs, split at pauses of "
                     f"{pause:g} s or more")
    doc.notes = notes
    return doc


def _pieces(cues: list[_Cue], texts: list[str], loose: set[str],
            names: list[str]) -> list[Piece]:
    return [Piece(speaker, words, cue.start, cue.end)
            for cue, raw in zip(cues, texts, strict=True)
            for speaker, words in _cue_pieces(raw, loose, names)]


def _alternate(speakers: list[str | None], known: frozenset[str]) -> bool:
    """Names that start cues are speakers when they take turns (or are known)."""
    if any(s in known for s in speakers):
        return True
    changes = sum(1 for a, b in zip(speakers, speakers[1:], strict=False) if a != b)
    return len(set(speakers)) >= 2 and changes >= 2


def _is_rolling(texts: list[str]) -> bool:
    """True when most cues start with the words the cue before ended with."""
    if len(texts) < 3:
        return False
    overlapping = 0
    previous: list[str] = []
    for raw in texts:
        words = _clean(raw).split()
        if previous and words and _overlap(previous, words) >= min(3, len(words)):
            overlapping += 1
        previous = words or previous
    return overlapping >= 0.4 * (len(texts) - 1)


def _overlap(before: list[str], after: list[str]) -> int:
    """The largest ``k`` with ``before[-k:] == after[:k]``."""
    for k in range(min(len(before), len(after)), 0, -1):
        if before[-k:] == after[:k]:
            return k
    return 0


def _drop_rolling_repeats(texts: list[str]) -> list[str]:
    """Each cue's text without the words it repeats from the words already said."""
    said: list[str] = []
    out = []
    for raw in texts:
        words = _clean(raw).split()
        k = _overlap(said[-len(words):] if words else [], words)
        new = words[k:]
        said.extend(new)
        out.append(" ".join(new))
    return out


def _read_cues(text: str, fmt: str, metadata: dict) -> list[_Cue]:
    """Split the file into blank-line separated blocks and read the cues among them."""
    cues: list[_Cue] = []
    block: list[tuple[int, str]] = []
    first = True
    for number, line in enumerate(text.split("\n"), start=1):
        # a line holding only a space right after a timing line (YouTube) is inside the cue
        if line.strip() or (line and block and "-->" in block[-1][1]):
            block.append((number, line))
            continue
        if block:
            _read_block(block, fmt, cues, metadata, first)
            first = False
            block = []
    if block:
        _read_block(block, fmt, cues, metadata, first)
    return cues


def _read_block(
    block: list[tuple[int, str]], fmt: str, cues: list[_Cue], metadata: dict, first: bool
) -> None:
    head = block[0][1].strip()
    if fmt == "vtt":
        if first and head.startswith("WEBVTT"):
            for _, line in block[1:]:  # "Kind: captions", "Language: en" (YouTube)
                if m := _HEADER_FIELD.match(line):
                    metadata[m.group(1).lower()] = m.group(2)
            return
        if head.split(maxsplit=1)[0] in _SKIP_BLOCKS:
            return
    if "-->" in block[0][1]:
        timing = 0
    elif len(block) > 1 and "-->" in block[1][1]:
        timing = 1  # a cue identifier comes first
    else:
        if cues and fmt == "srt" and not head.isdigit():
            cues[-1].lines.extend(line for _, line in block)
        return
    number, line = block[timing]
    cue = _Cue(*_timing(line, number))
    cues.append(cue)
    for _, line in block[timing + 1 :]:
        # a file with no blank line between cues: a later timing line starts a new cue
        if "-->" in line and (times := _try_timing(line)) is not None:
            if cue.lines and cue.lines[-1].strip().isdigit():
                cue.lines.pop()  # that cue's number
            cue = _Cue(*times)
            cues.append(cue)
        else:
            cue.lines.append(line)


def _try_timing(line: str) -> tuple[float, float] | None:
    try:
        return _timing(line, 0)
    except InputError:
        return None


def _timing(line: str, number: int) -> tuple[float, float]:
    """``00:00:01.000 --> 00:00:04.500 align:start`` -> ``(1.0, 4.5)``."""
    left, _, right = line.partition("-->")
    values = []
    for part in (left.strip(), (right.split() or [""])[0]):
        m = _CUE_TIME.fullmatch(part)
        if m is None:
            raise InputError(f"bad cue timing '{part[:40]}'", line=number)
        values.append(parse_timestamp(part))
    return values[0], values[1]


def _recurring_loose_labels(texts: list[str]) -> set[str]:
    """``Name:`` prefixes that fail the strict label rules but start two or more cues.

    Zoom names speakers after their device or account ("Jane's iPhone", "DESKTOP-4F3K2"),
    which the plain-text rules reject; a prefix that recurs is a speaker, not prose.
    """
    counts: dict[str, int] = {}
    for raw in texts:
        if ":" not in raw or "<v" in raw:
            continue
        m = _LOOSE_LABEL.match(_clean(raw.split("\n", 1)[0]))
        if m:
            name = m.group(1)
            counts[name] = counts.get(name, 0) + 1
    return {n for n, c in counts.items() if c >= 2 and not looks_like_heading(n)}


def _cue_pieces(raw: str, loose: set[str], names: list[str]) -> list[tuple[str | None, str]]:
    """A cue's text as ``(speaker, words)`` pieces: voice tags, then ``Name:`` lines."""
    parts = _VOICE.split(raw)
    pieces = _label_pieces(parts[0], loose, names) if parts[0].strip() else []
    for i in range(1, len(parts), 2):
        voice = _clean(parts[i] or "")
        words = _clean(parts[i + 1])
        pieces.append((voice or None, words))
    return pieces


def _label_pieces(chunk: str, loose: set[str], names: list[str]
                  ) -> list[tuple[str | None, str]]:
    pieces: list[tuple[str | None, str]] = []
    for raw in chunk.split("\n"):
        line = _clean(raw)
        if not line:
            continue
        label = match_label(line)
        m = _LOOSE_LABEL.match(line) if label is None and loose else None
        if label is not None:
            pieces.append((label.speaker, line[label.end :].strip()))
        elif m is not None and m.group(1) in loose:
            pieces.append((m.group(1), line[m.end() :].strip()))
        elif names and (found := split_leading_name(line, names)) is not None:
            pieces.append(found)
        elif pieces:
            speaker, words = pieces[-1]
            pieces[-1] = (speaker, f"{words} {line}" if words else line)
        else:
            pieces.append((None, line))
    return pieces


def _clean(text: str) -> str:
    """Drop tags, decode entities, collapse whitespace."""
    if "<" in text or "{" in text:
        text = _TAG.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    text = text.strip()
    if "  " in text or "\t" in text or "\n" in text or "\xa0" in text:
        text = _SPACES.sub(" ", text)
    return text
