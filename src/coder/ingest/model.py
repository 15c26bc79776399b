"""What every format parser returns: the stored text and its speaker turns."""

from __future__ import annotations

from bisect import bisect_right
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

    ``times`` anchors times inside turns: ``(offset, start, end)`` for each caption cue
    (sorted by offset), so a piece cut out of a turn keeps the time of the cue it starts
    in. ``pages`` holds the offset where each page begins (PDF; page 1 first).
    ``detected`` says which format was recognised and why; ``notes`` are the guesses the
    parser made that the user should see (shown by ``coder import`` and its preview).
    """

    name: str
    text: str
    turns: list[Turn]
    format: str  # txt, md, vtt, srt, docx, csv, xlsx, pdf
    metadata: dict = field(default_factory=dict)
    # speaker name -> attributes (survey respondents' other columns)
    speaker_attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    times: list[tuple[int, float, float]] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    detected: str = ""
    notes: list[str] = field(default_factory=list)
    # lines that look like speaker labels but were not used: (label, line number)
    unused_labels: list[tuple[str, int]] = field(default_factory=list)
    # file lines before ``text`` when ``text`` is the file's own text (else None)
    line_offset: int | None = None

    def line_at(self, offset: int) -> int | None:
        """The file's line number at ``offset`` of ``text``, when that is known."""
        if self.line_offset is None:
            return None
        return self.line_offset + self.text.count("\n", 0, offset) + 1

    def time_at(self, offset: int) -> tuple[float, float] | None:
        """The ``(start, end)`` of the cue holding ``offset``, if the file has cue times."""
        if not self.times:
            return None
        i = bisect_right(self.times, (offset, float("inf"), float("inf"))) - 1
        if i < 0:
            return None
        return self.times[i][1], self.times[i][2]

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding ``offset`` (``None`` when the file has no pages)."""
        if not self.pages:
            return None
        return max(1, bisect_right(self.pages, offset))
