"""Markup and timing residue out of a turn's words (Markdown exports, f4/f5, podcasts).

``clean_words`` unescapes Markdown (``\\[`` -> ``[``), strips emphasis (``**x**``,
``__x__``, ``*x*``), decodes HTML entities (``I&#39;m``), takes a leading ``[00:20:03.16]``
(or ``\\[00:20:03.16\\]``) as the turn's start time, reads f4/f5 time marks
(``#00:01:01-9#``) as times, and drops lines that are only non-speech
(``[music]``, ``(laughter)``, ``**Break:** [00:25:12.24]``). Paragraph breaks are kept.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from coder.ingest.timestamps import TIMESTAMP, parse_timestamp

# what any of the rules below could change: escapes, emphasis, entities, f4 marks, headings,
# a line that starts with a bracket (a time, [music]), a bracketed time anywhere
_NEEDS = re.compile(r"[&#\[](?:#\d+;|#x[0-9a-fA-F]+;|[a-zA-Z]{2,8};|\d)")
_LINE_OPENS = re.compile(r"\n[ \t]*[#\[(]")  # a heading, [music], (laughter), [00:12]
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # Markdown: any ASCII punctuation
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EM = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_F4 = re.compile(r"[ \t]*#(\d{1,2}:\d{2}:\d{2})(?:[-.,](\d{1,3}))?#")
_LEAD_TIME = re.compile(rf"^[ \t]*\\?[\[(]({TIMESTAMP})\\?[\])][ \t]*")
_INLINE_TIME = re.compile(rf"[ \t]*\\?\[({TIMESTAMP})\\?\][ \t]*")
_NON_SPEECH_WORDS = (
    "music|laughter|laughs|laughing|applause|crosstalk|cross talk|inaudible|silence|pause|"
    "break|intro|outro|theme music|background noise|noise|coughs|cough|sighs|overlapping|"
    "unintelligible|indiscernible|end|beep|ad|ad break|advertisement|sponsor|sponsor break|"
    "interruption|phone rings|jingle|bumper|sting|transition"
)
_MARK = r"(?:\*\*|__|\*)?"
_NON_SPEECH_LINE = re.compile(
    rf"^[ \t]*(?:{_MARK}\\?[\[(](?:{_NON_SPEECH_WORDS})[^\])\n]{{0,40}}\\?[\])]{_MARK}"
    rf"|{_MARK}(?:{_NON_SPEECH_WORDS}):?{_MARK}:?[ \t]*(?:\\?[\[(]{TIMESTAMP}\\?[\])]"
    rf"(?:[ \t]*(?:to|-|–)[ \t]*\\?[\[(]{TIMESTAMP}\\?[\])])?)?)"
    r"[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_SPACES = re.compile(r"[ \t]{2,}")
_LEFTOVER_STARS = re.compile(r"\*{2,}")
_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.MULTILINE)


@dataclass
class Cleaned:
    text: str
    time_start: float | None = None  # a leading timestamp
    time_end: float | None = None  # the last f4/f5 time mark


def needs_cleaning(text: str) -> bool:
    """Cheap check: could ``clean_words`` change ``text``?"""
    if "\\" in text or "*" in text or "__" in text:
        return True
    if ("&" in text or "#" in text or "[" in text or "(" in text) is False:
        return False
    if text.lstrip(" \t")[:1] in ("#", "[", "("):
        return True
    return _NEEDS.search(text) is not None or _LINE_OPENS.search(text) is not None


def clean_words(text: str) -> Cleaned:
    """The turn's words without markup, and the times read from them."""
    out = Cleaned(text)
    if not needs_cleaning(text):
        return out
    if m := _LEAD_TIME.match(text):
        out.time_start = parse_timestamp(m.group(1))
        text = text[m.end():]
    if "#" in text:
        marks = list(_F4.finditer(text))
        if marks:
            last = marks[-1]
            out.time_end = parse_timestamp(last.group(1)) + int(last.group(2) or 0) / (
                10 ** len(last.group(2) or "0"))
            text = _F4.sub("", text)
    if "[" in text or "(" in text or ":" in text:
        text = _NON_SPEECH_LINE.sub("", text)
    if "[" in text:
        text = _INLINE_TIME.sub(" ", text)
    if "#" in text:
        text = _HEADING.sub("", text)
    if "\\" in text:
        text = _ESCAPE.sub(r"\1", text)
    if "*" in text or "__" in text:
        text = _STRONG.sub(r"\2", text)
        text = _EM.sub(r"\1", text)
        text = _LEFTOVER_STARS.sub("", text)  # an unclosed ***Note: is markup, not words
    if "&" in text:
        text = html.unescape(text)
    text = _SPACES.sub(" ", text)
    lines = [line.strip() for line in text.split("\n")]
    out.text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return out


# A non-speech line written as a label: ``Break: [22:03]``, ``Jingle: [01:05:52] to [01:06:07]``.
_LABELLED_MARK = re.compile(rf"^[ \t]*(?:{_NON_SPEECH_WORDS}):", re.IGNORECASE)


def split_marks(text: str) -> list[tuple[bool, str]]:
    """A turn's words cut at lines after its first that are a non-speech *label*:
    ``[(False, words), (True, "Break: [00:25:12]"), (False, more words)]``. Such a line
    starts a segment of its own, as any label does (the file's labelled paragraphs and the
    segments stay one to one), with no speaker; other non-speech lines (``[music]``) are
    taken out of the words by :func:`clean_words`."""
    if "\n" not in text or _NON_SPEECH_LINE.search(text) is None:
        return [(False, text)]
    pieces: list[tuple[bool, str]] = []
    words: list[str] = []
    for k, line in enumerate(text.split("\n")):
        if k and _LABELLED_MARK.match(line) and is_non_speech(line):
            if "".join(words).strip():
                pieces.append((False, "\n".join(words)))
            words = []
            pieces.append((True, line))
        else:
            words.append(line)
    if "".join(words).strip():
        pieces.append((False, "\n".join(words)))
    return [(is_mark, part.strip()) for is_mark, part in pieces]


def mark_text(mark: str) -> tuple[str, float | None, float | None]:
    """``**Break:** [00:25:12] to [00:26:01]`` -> ``("[Break]", 1512.0, 1561.0)``."""
    times = [parse_timestamp(t) for t in re.findall(TIMESTAMP, mark)]
    words = re.sub(TIMESTAMP, " ", _ESCAPE.sub(r"\1", mark))
    words = re.sub(r"[\[\]()*_:]|\b(?:to)\b|[-–]", " ", words)
    words = " ".join(words.split()) or "non-speech"
    return (f"[{words}]", times[0] if times else None,
            times[1] if len(times) > 1 else None)


def kept_mark(text: str) -> str:
    """A speaker's turn that is only ``\\[laughs\\]`` keeps its mark, unescaped: ``[laughs]``."""
    text = _ESCAPE.sub(r"\1", text.strip())
    text = _STRONG.sub(r"\2", text)
    return _EM.sub(r"\1", text)


def is_non_speech(line: str) -> bool:
    """True for a line that is only ``[music]``, ``(laughter)``, ``Break: [00:25:12]`` ..."""
    return _NON_SPEECH_LINE.fullmatch(line.strip()) is not None
