"""What every format parser returns: the stored text and its speaker turns."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Turn:
    """One speaker turn: offsets ``[start, end)`` into :attr:`Document.text`."""

    speaker: str | None
    start: int
    end: int
    time_start: float | None = None  # seconds from the start of the recording
    time_end: float | None = None


@dataclass
class Document:
    """A parsed transcript (or one survey file) ready to be segmented and stored.

    ``text`` is the text coder stores; every offset refers to it. ``turns`` are in
    document order, do not overlap, and ``text[t.start:t.end]`` is the turn's words
    with the speaker label and surrounding whitespace left out.
    """

    name: str
    text: str
    turns: list[Turn]
    format: str  # txt, md, vtt, srt, docx, csv, xlsx
    metadata: dict = field(default_factory=dict)
    # speaker name -> attributes (survey respondents' other columns)
    speaker_attributes: dict[str, dict[str, str]] = field(default_factory=dict)
