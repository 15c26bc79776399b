"""`coder check`: is the study database sound, and repair what can be repaired.

Checks SQLite's own ``integrity_check``, foreign keys, the event log (well-formed JSON,
batches in order, append-only triggers in place, the codings agreeing with it) and the
full-text index against the
segments it indexes. Repairs: rebuild the full-text index, rebuild indexes (``REINDEX``),
and delete rows whose parent is gone (each logged). Page-level damage cannot be repaired
in place: restore a snapshot (`coder backup restore`).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from coder.store.db import Store, database_error


@dataclass
class Finding:
    check: str  # integrity | foreign keys | event log | full-text index
    problem: str
    repairable: bool = False


@dataclass
class Health:
    findings: list[Finding] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def check(store: Store) -> Health:
    """Run every check; nothing is changed."""
    health = Health()
    try:
        _integrity(store, health)
        if any(f.check == "integrity" and not f.repairable for f in health.findings):
            return health  # reading further may only fail on the damaged pages
        _foreign_keys(store, health)
        _events(store, health)
        _codings_against_log(store, health)
        _fts(store, health)
    except sqlite3.DatabaseError as exc:
        health.findings.append(Finding("integrity", str(database_error(exc, store.path))))
    return health


def _integrity(store: Store, health: Health) -> None:
    health.checked.append("integrity")
    rows = [r[0] for r in store.conn.execute("PRAGMA integrity_check(100)")]
    if rows != ["ok"]:
        for row in rows:
            # A wrong or missing index entry is rebuilt by REINDEX; page damage is not.
            index_only = "index" in row and ("missing from index" in row
                                              or "wrong # of entries" in row)
            health.findings.append(Finding("integrity", row, repairable=index_only))


def _foreign_keys(store: Store, health: Health) -> None:
    health.checked.append("foreign keys")
    for table, rowid, parent, _ in store.conn.execute("PRAGMA foreign_key_check"):
        health.findings.append(Finding(
            "foreign keys", f"{table} row {rowid} refers to a missing {parent} row",
            repairable=rowid is not None))


def _events(store: Store, health: Health) -> None:
    health.checked.append("event log")
    triggers = {r[0] for r in store.conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'")}
    for name in ("events_append_only_update", "events_append_only_delete"):
        if name not in triggers:
            health.findings.append(Finding("event log", f"the trigger {name} is missing: "
                                           "the log is no longer protected from edits"))
    previous = 0
    bad_json = out_of_order = 0
    first_bad = None
    for event_id, batch, payload in store.conn.execute(
            "SELECT id, batch, payload FROM events ORDER BY id"):
        try:
            json.loads(payload)
        except (TypeError, ValueError):
            bad_json += 1
            first_bad = first_bad or event_id
        if batch < previous:
            out_of_order += 1
            first_bad = first_bad or event_id
        previous = max(previous, batch)
    if bad_json:
        health.findings.append(Finding("event log", f"{bad_json} event(s) hold a payload "
                                       f"that is not JSON (first: event {first_bad})"))
    if out_of_order:
        health.findings.append(Finding("event log", f"{out_of_order} event(s) have a batch "
                                       f"number lower than an earlier event's"))


_SHOWN = 5  # mismatches named by id; the rest are counted
# Changes that delete codings without a coding.remove each (ids may be used again after).
_BULK = ("transcript.remove", "transcript.replace", "code.merge", "code.delete",
         "check.repair")


def _codings_against_log(store: Store, health: Health) -> None:
    """Every current coding was added by an event the log holds, not removed since, on the
    same segment and for the same coder; and every coding the log added since the last
    change that deletes codings in bulk, logged once (a removed or re-imported transcript,
    a merged or pruned code, a repair), is there.

    Two streams sorted by coding id are walked side by side: each coding id's latest
    coding event (SQLite groups the log, on disk if need be) and the codings table, so
    memory stays flat however long the log."""
    health.checked.append("codings against the event log")
    conn = store.conn
    bulk = conn.execute(f"SELECT coalesce(max(id), 0) FROM events WHERE action IN "
                        f"({', '.join('?' * len(_BULK))})", _BULK).fetchone()[0]
    logged = conn.execute("""
        WITH latest AS (
            SELECT json_extract(payload, '$.coding_id') AS coding_id, max(id) AS event_id
            FROM events WHERE action IN ('coding.add', 'coding.remove') GROUP BY 1)
        SELECT l.coding_id, e.id, e.action, json_extract(e.payload, '$.segment_id'),
               json_extract(e.payload, '$.coder')
        FROM latest l JOIN events e ON e.id = l.event_id
        WHERE typeof(l.coding_id) = 'integer' ORDER BY l.coding_id""")
    current = conn.execute("SELECT id, segment_id, coder FROM codings ORDER BY id")
    extra: list[str] = []
    missing: list[str] = []
    counts = [0, 0]
    event = next(logged, None)
    for coding, segment, coder in current:
        while event is not None and event[0] < coding:  # logged, not in the table
            _missing(event, bulk, missing, counts)
            event = next(logged, None)
        if event is None or event[0] != coding:
            problem = f"coding #{coding} has no coding.add event"
        elif event[2] == "coding.remove":
            problem = f"coding #{coding} was removed by event {event[1]}"
        elif (event[3], event[4]) != (segment, coder):
            problem = f"coding #{coding} is not on the segment or of the coder event " \
                      f"{event[1]} says"
        else:
            problem = ""
        if event is not None and event[0] == coding:
            event = next(logged, None)
        if problem:
            counts[0] += 1
            if len(extra) < _SHOWN:
                extra.append(problem)
    while event is not None:
        _missing(event, bulk, missing, counts)
        event = next(logged, None)
    _report(health, counts[0], extra, "current coding(s) disagree with the event log")
    _report(health, counts[1], missing, "coding(s) the event log holds are missing")


def _missing(event: tuple, bulk: int, shown: list[str], counts: list[int]) -> None:
    """A coding id the log has but the table has not: a problem if the log added it after
    the last bulk deletion."""
    coding, event_id, action = event[:3]
    if action == "coding.add" and event_id > bulk:
        counts[1] += 1
        if len(shown) < _SHOWN:
            shown.append(f"coding #{coding} (added by event {event_id}) is gone without a "
                         "removal")


def _report(health: Health, count: int, shown: list[str], what: str) -> None:
    """One finding: ``count`` mismatches, the first few of them in words."""
    if count:
        more = f"; {count - len(shown)} more" if count > len(shown) else ""
        health.findings.append(Finding("event log", f"{count} {what}: "
                                       f"{'; '.join(shown)}{more}"))


def _fts(store: Store, health: Health) -> None:
    health.checked.append("full-text index")
    try:
        store.conn.execute("INSERT INTO segments_fts(segments_fts, rank) "
                           "VALUES ('integrity-check', 1)")
    except sqlite3.DatabaseError as exc:
        health.findings.append(Finding("full-text index", f"out of step with the segments "
                                       f"({exc}); search may miss or invent matches",
                                       repairable=True))


def repair(store: Store, health: Health) -> list[str]:
    """Repair the repairable findings of ``health`` in one logged transaction."""
    done: list[str] = []
    with store.transaction("check --repair"):
        if any(f.check == "integrity" and f.repairable for f in health.findings):
            store.execute("REINDEX")
            done.append("rebuilt every index (REINDEX)")
        orphans = [f for f in health.findings if f.check == "foreign keys" and f.repairable]
        if orphans:
            deleted = 0
            for table, rowid, parent, _ in store.conn.execute(
                    "PRAGMA foreign_key_check").fetchall():
                if rowid is None or table == "events":
                    continue
                row = store.one(f"SELECT * FROM [{table}] WHERE rowid = ?", (rowid,))
                store.execute(f"DELETE FROM [{table}] WHERE rowid = ?", (rowid,))
                store.log("check.repair", table=table, rowid=rowid, missing=parent, row=row)
                deleted += 1
            done.append(f"deleted {deleted} row(s) whose parent was gone (logged)")
        if any(f.check == "full-text index" for f in health.findings):
            store.execute("INSERT INTO segments_fts(segments_fts) VALUES ('rebuild')")
            store.log("check.repair", table="segments_fts", repair="rebuild")
            done.append("rebuilt the full-text index")
    return done
