"""Where coders differ: each unit and code on which the coders who reviewed it disagree."""

from __future__ import annotations

from typing import Any

from coder.agreement.units import Units


def find_disagreements(units: Units, columns: list[int] | None = None,
                       spans: dict[tuple[int, int], dict[str, list[tuple[int, int]]]]
                       | None = None) -> list[dict[str, Any]]:
    """One row per (segment, code) where at least two coders have a value and they differ.

    Each row: transcript, segment (the ordinal), segment_id, code, applied_by,
    not_applied_by (reviewed it without the code) and not_reviewed (no value), in document
    order then codebook order. ``spans`` (from
    :func:`coder.agreement.span_differences.span_differences`, same ``columns``) adds the
    cells where everyone gave the code on different words; those rows carry ``spans``,
    each coder's covered characters.
    """
    import numpy as np

    if units.unit != "segment":
        raise ValueError("disagreements are listed per segment")
    columns = list(range(len(units.codes))) if columns is None else list(columns)
    applied = units.applied[:, :, columns] & units.known[:, :, None]
    given = applied.sum(axis=0)
    known = units.known.sum(axis=0)[:, None]
    differ = (known >= 2) & (given > 0) & (given < known)
    for u, g in spans or {}:
        differ[u, g] = True
    unit_index, code_index = np.nonzero(differ)
    coders = units.coders
    rows = []
    for u, g in zip(unit_index.tolist(), code_index.tolist(), strict=True):
        knows = units.known[:, u]
        has = applied[:, u, g]
        rows.append({
            "transcript": units.transcripts[units.transcript[u]],
            "segment": int(units.ordinal[u]), "segment_id": int(units.segment[u]),
            "code": units.codes[columns[g]]["name"],
            "applied_by": [c for i, c in enumerate(coders) if has[i]],
            "not_applied_by": [c for i, c in enumerate(coders) if knows[i] and not has[i]],
            "not_reviewed": [c for i, c in enumerate(coders) if not knows[i]],
            **({"spans": spans[(u, g)]} if spans and (u, g) in spans else {}),
        })
    return rows
