"""A study at a glance: what `coder status` prints."""

from __future__ import annotations

from typing import Any

from coder.store.db import Store


def study_status(store: Store) -> dict[str, Any]:
    """Totals, and per coder: codings, segments coded, segments reviewed and reviewed share."""
    segments = store.scalar("SELECT count(*) FROM segments")
    totals = {
        "transcripts": store.scalar("SELECT count(*) FROM transcripts"),
        "segments": segments,
        "words": store.scalar(
            "SELECT coalesce(sum(length(lemmas) - length(replace(lemmas, ' ', '')) + 1), 0) "
            "FROM segments WHERE lemmas != ''"),
        "speakers": store.scalar("SELECT count(*) FROM speakers"),
        "codes": store.scalar("SELECT count(*) FROM codes"),
        "codings": store.scalar("SELECT count(*) FROM codings"),
        "memos": store.scalar("SELECT count(*) FROM memos"),
    }
    coders = store.rows(
        """WITH names AS (SELECT coder FROM codings UNION SELECT coder FROM reviewed)
           SELECT n.coder,
                  (SELECT count(*) FROM codings g WHERE g.coder = n.coder) AS codings,
                  (SELECT count(DISTINCT segment_id) FROM codings g WHERE g.coder = n.coder)
                  AS coded_segments,
                  (SELECT count(*) FROM reviewed r WHERE r.coder = n.coder) AS reviewed
           FROM names n ORDER BY n.coder""")
    for row in coders:
        row["reviewed_share"] = round(row["reviewed"] / segments, 4) if segments else 0.0
    totals["tokens"] = totals.pop("words")
    return {**totals, "coders": coders}
