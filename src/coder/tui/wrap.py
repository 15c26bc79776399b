"""Fast greedy word wrapping to character offsets (layout for thousands of segments)."""

from __future__ import annotations


def wrap_offsets(text: str, width: int) -> list[tuple[int, int]]:
    """Lines of ``text`` wrapped to ``width`` columns, as ``(start, end)`` offsets.

    Breaks at spaces and at newlines (one line per line of the text, blank ones included);
    a word longer than the width is cut. Widths count characters, exact for the Latin
    scripts of most transcripts. One ``rfind`` per output line keeps 10,000 segments fast.
    """
    width = max(width, 8)
    lines: list[tuple[int, int]] = []
    append = lines.append
    offset = 0
    for para in text.replace("\t", " ").split("\n"):
        n = len(para)
        pos = n - len(para.lstrip(" "))
        if pos >= n:
            append((offset, offset))
            offset += n + 1
            continue
        while pos < n:
            if n - pos <= width:
                append((offset + pos, offset + len(para.rstrip(" "))))
                break
            cut = para.rfind(" ", pos, pos + width + 1)
            if cut <= pos:
                append((offset + pos, offset + pos + width))
                pos += width
            else:
                end = cut
                while end > pos and para[end - 1] == " ":
                    end -= 1
                append((offset + pos, offset + end))
                pos = cut + 1
            while pos < n and para[pos] == " ":
                pos += 1
        offset += n + 1
    return lines
