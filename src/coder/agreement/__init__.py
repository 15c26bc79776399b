"""Inter-coder agreement: units, statistics, the report and disagreements.

``units`` builds who-gave-what arrays from the study, ``character`` does the same per
character, ``statistics`` computes percent agreement, Cohen's, Fleiss' and Krippendorff's
statistics with numpy, ``report`` assembles them per code, group, transcript and overall,
``disagreements`` lists where coders differ. Nothing here imports numpy at import time.
"""

from __future__ import annotations

from typing import Any

from coder.errors import CoderError
from coder.store.db import Store

UNITS = ("segment", "character")
# Krippendorff's alpha below this is flagged: his lowest bound for tentative conclusions.
DEFAULT_THRESHOLD = 0.667


def resolve_codes(store: Store, names: list[str] | None) -> list[int] | None:
    """Code ids for names (case-insensitive); a value that is not a code name is split on
    commas. None when no names are given (every code)."""
    from coder.store.codes import find_code

    if not names:
        return None
    ids: list[int] = []
    for value in names:
        try:
            ids.append(find_code(store, value)["id"])
            continue
        except CoderError:
            if "," not in value:
                raise
        ids += [find_code(store, part)["id"] for part in value.split(",") if part.strip()]
    return list(dict.fromkeys(ids))


def resolve_transcripts(store: Store, names: list[str] | None) -> list[int] | None:
    from coder.store.transcripts import get_transcript

    if not names:
        return None
    return list(dict.fromkeys(get_transcript(store, name)["id"] for name in names))


def load(store: Store, coders: list[str] | None = None, *,
         transcripts: list[str] | None = None, all_segments: bool = False,
         unit: str = "segment"):
    """The :class:`~coder.agreement.units.Units` for a command's options."""
    from coder.agreement.units import choose_coders, load_units

    if unit not in UNITS:
        raise CoderError(f"--unit must be one of {', '.join(UNITS)}, not {unit!r}")
    transcript_ids = resolve_transcripts(store, transcripts)
    chosen = choose_coders(store, coders, transcript_ids, all_segments)
    if unit == "character":
        from coder.agreement.character import load_character_units

        return load_character_units(store, chosen, transcript_ids, all_segments=all_segments)
    return load_units(store, chosen, transcript_ids, all_segments=all_segments)


def columns_for(store: Store, units, codes: list[str] | None) -> list[int]:
    """Columns of ``units.applied`` to report: the named codes, else every code except the
    code of an exclusive group that no compared coder applied itself (its children are
    reported one by one and together as the group)."""
    code_ids = resolve_codes(store, codes)
    if code_ids is not None:
        index = units.code_index
        return [index[c] for c in code_ids]
    grouped = {k for k, _ in units.groups()}
    return [k for k in range(len(units.codes))
            if k not in grouped or units.applied[:, :, k].any()]


def compute_agreement(store: Store, coders: list[str] | None = None, *,
                      codes: list[str] | None = None, transcripts: list[str] | None = None,
                      all_segments: bool = False, unit: str = "segment",
                      threshold: float | None = None,
                      by_transcript: bool | None = None) -> dict[str, Any]:
    """The agreement report (see :mod:`coder.agreement.report`) for these options."""
    from coder.agreement.report import agreement_report

    units = load(store, coders, transcripts=transcripts, all_segments=all_segments, unit=unit)
    return agreement_report(units, columns_for(store, units, codes),
                            DEFAULT_THRESHOLD if threshold is None else threshold,
                            by_transcript)
