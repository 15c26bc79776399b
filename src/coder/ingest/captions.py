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
from coder.ingest.model import Document, Turn
from coder.ingest.turns import looks_like_heading, match_label, parse_timestamp

_CUE_TIME = re.compile(r"(?:(\d{1,3}):)?(\d{1,2}):([0-5]\d)(?:[.,](\d{1,3}))?")
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


def parse_vtt(text: str, *, name: str) -> Document:
    """Parse a WebVTT file's text (decoded, ``\\n`` newlines) into a :class:`Document`."""
    return _parse(text, name=name, fmt="vtt")


def parse_srt(text: str, *, name: str) -> Document:
    """Parse a SubRip file's text (decoded, ``\\n`` newlines) into a :class:`Document`."""
    return _parse(text, name=name, fmt="srt")


def _parse(text: str, *, name: str, fmt: str) -> Document:
    metadata: dict = {}
    cues = _read_cues(text, fmt, metadata)
    if not cues:
        raise InputError("no caption cues found")
    texts = ["\n".join(cue.lines) for cue in cues]
    loose = _recurring_loose_labels(texts)
    speakers = False
    pieces: list[tuple[int, str | None, str, float, float]] = []  # cue index, speaker, words
    for index, (cue, raw) in enumerate(zip(cues, texts, strict=True)):
        for speaker, words in _cue_pieces(raw, loose):
            speakers = speakers or speaker is not None
            pieces.append((index, speaker, words, cue.start, cue.end))
    if not any(words for _, _, words, _, _ in pieces):
        raise InputError("caption cues contain no text")

    out: list[str] = []
    turns: list[Turn] = []
    pos = 0
    current: list | None = None  # [key, speaker, words, start, end]
    groups: list[list] = []
    for index, speaker, words, start, end in pieces:
        if speakers:
            if speaker is None and current is not None:
                speaker = current[1]
            key: object = speaker
        else:
            key = index
        if current is None or current[0] != key:
            current = [key, speaker, [], start, end]
            groups.append(current)
        if words:
            current[2].append(words)
        current[4] = end
    for _, speaker, words_list, start, end in groups:
        if not words_list:
            continue
        if turns and speakers and turns[-1].speaker == speaker:
            # the speaker's turn was split by a label with no words: join them back up
            words = " " + " ".join(words_list)
            turns[-1].end += len(words)
            turns[-1].time_end = end
        else:
            words = " ".join(words_list)
            prefix = f"{speaker}: " if speaker is not None else ""
            if out:
                out.append("\n\n")
                pos += 2
            out.append(prefix)
            pos += len(prefix)
            turns.append(Turn(speaker, pos, pos + len(words), time_start=start, time_end=end))
        out.append(words)
        pos += len(words)
    metadata["cues"] = len(cues)
    return Document(name=name, text="".join(out), turns=turns, format=fmt, metadata=metadata)


def _read_cues(text: str, fmt: str, metadata: dict) -> list[_Cue]:
    """Split the file into blank-line separated blocks and read the cues among them."""
    cues: list[_Cue] = []
    block: list[tuple[int, str]] = []
    first = True
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
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


def _cue_pieces(raw: str, loose: set[str]) -> list[tuple[str | None, str]]:
    """A cue's text as ``(speaker, words)`` pieces: voice tags, then ``Name:`` lines."""
    parts = _VOICE.split(raw)
    pieces = _label_pieces(parts[0], loose) if parts[0].strip() else []
    for i in range(1, len(parts), 2):
        voice = _clean(parts[i] or "")
        words = _clean(parts[i + 1])
        pieces.append((voice or None, words))
    return pieces


def _label_pieces(chunk: str, loose: set[str]) -> list[tuple[str | None, str]]:
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
