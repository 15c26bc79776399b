"""Undo, redo and the audit listing, all derived from the append-only event log.

Nothing here keeps state outside the ``events`` table, so undo works across restarts and
between the CLI and the workbench. The rules:

* A *batch* is every event of one :meth:`Store.transaction`. An ordinary batch is
  *undoable* when it consists only of codings, reviewed marks, memos and codes added with
  ``coder code add`` (or the workbench), all of the batch's own coder. Any other ordinary
  batch (an import, a codebook load, a merge, …) is a *barrier*: undo stops there.
* ``undo`` reverses the coder's latest ordinary batch that is not undone, in one new batch
  holding the inverse events (``coding.add`` ↔ ``coding.remove``, ``review.add`` ↔
  ``review.remove``, ``memo.add`` ↔ ``memo.delete``, ``memo.edit`` with old and new swapped,
  ``code.add`` ↔ ``code.delete``) and, last, ``history.undo {"batch": N}``.
* ``redo`` re-applies the batch undone most recently, by inverting that undo batch, and
  logs ``history.redo {"batch": N}``. It is only possible while no ordinary batch of the
  coder came after the undo: a new change clears the redo stack.
* Batches of a :data:`PASSIVE_COMMANDS` command (side effects such as the workbench marking
  a segment reviewed as the cursor leaves it) are walked past: neither undone nor a reason
  to clear redo.
* A batch's state is that of the latest ``history.*`` event naming it (none: done). Undoing
  a redone batch inverts the redo batch (its rows are the current ones).

Both are found by walking the coder's batches backwards from the end of the log, one
indexed query per batch, and stopping at the first one that decides.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

from coder.errors import CoderError
from coder.store.db import Store, inserted_id, now

UNDOABLE = frozenset({"coding.add", "coding.remove", "coding.memo", "review.add",
                      "review.remove",
                      "memo.add", "memo.edit", "memo.delete", "code.add", "code.delete",
                      "code.rename", "code.move", "consensus.decide", "consensus.retract",
                      "suggestion.accept", "suggestion.reject", "suggestion.revert",
                      "quote.choice", "segment.time", "media.link"})
HISTORY = ("history.undo", "history.redo")
# Commands whose batches are side effects, not decisions (the workbench marking a segment
# reviewed as the cursor leaves it): undo and redo walk past them, and they do not clear redo.
PASSIVE_COMMANDS = frozenset({"review on move"})
_END = sys.maxsize
_DESCRIBE_MAX = 200  # events; larger batches are summarised by counts in the listing

Event = tuple[str, dict[str, Any]]


@dataclass
class UndoResult:
    """What one undo or redo did."""

    action: str  # "undo" | "redo"
    batch: int  # the original batch that was undone or redone
    history_batch: int  # the new batch that records this undo or redo
    command: str  # the original batch's command, e.g. "code apply"
    summary: str  # the original change in words: "coded podcast ¶12 'need targeted PD'"
    segment_ids: list[int] = field(default_factory=list)  # segments whose codes/marks changed
    changes: int = 0  # rows changed
    skipped: list[str] = field(default_factory=list)  # parts already gone or in the way

    @property
    def message(self) -> str:
        text = f"{'undid' if self.action == 'undo' else 'redid'}: {self.summary}"
        if self.skipped:
            text += f" ({'; '.join(self.skipped[:3])}"
            text += f"; {len(self.skipped) - 3} more)" if len(self.skipped) > 3 else ")"
        return text


@dataclass
class _Target:
    batch: int
    source: int  # the batch whose events are inverted
    command: str


# -- the public API ------------------------------------------------------------------------
def undo(store: Store, coder: str | None = None) -> UndoResult | None:
    """Reverse ``coder``'s latest change that is not undone; None when there is none.

    Raises :class:`CoderError` at a barrier ("cannot undo past `coder import` (batch 3)").
    """
    return _run(store, coder or store.coder, "undo")


def redo(store: Store, coder: str | None = None) -> UndoResult | None:
    """Re-apply ``coder``'s most recently undone change; None when there is nothing to redo."""
    return _run(store, coder or store.coder, "redo")


def history(store: Store, coder: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The latest ``limit`` batches (of ``coder``, or everyone), newest first.

    Each: batch, time, coder, os_user (the account that wrote it; '' if unknown), command,
    kind ("change", "undo" or "redo"), target (the batch
    an undo/redo is about), events, actions ({action: count}), summary (in words),
    undoable, undone.
    """
    listed: list[dict[str, Any]] = []
    upper = _END
    while len(listed) < limit:
        last = _previous_batch(store, coder, upper)
        if last is None:
            break
        upper = last["first"]
        listed.append(last)
    states: dict[int, str] = {}
    if listed:
        for row in store.rows(
                """SELECT action, payload FROM events WHERE id >= ?
                   AND action IN ('history.undo', 'history.redo') ORDER BY id""", (upper,)):
            states[json.loads(row["payload"])["batch"]] = row["action"]
    out = []
    for last in listed:
        batch = last["batch"]
        counts = store.rows(
            """SELECT action, count(*) AS n, min(ts) AS ts FROM events WHERE batch = ?
               GROUP BY action ORDER BY min(id)""", (batch,))
        actions = {r["action"]: r["n"] for r in counts}
        size = sum(actions.values())
        kind, target = "change", None
        if last["action"] in HISTORY:
            kind = last["action"].removeprefix("history.")
            target = json.loads(last["payload"])["batch"]
        undoable = False
        if set(actions) <= UNDOABLE | set(HISTORY) and size <= _DESCRIBE_MAX:
            events = _events(store, batch)
            summary = describe(store, events) or "no changes"
            undoable = kind == "change" and _why_not(events, last["coder"]) is None \
                and last["command"] not in PASSIVE_COMMANDS
        else:
            summary = ", ".join(f"{a} ×{n}" if n > 1 else a for a, n in actions.items()
                                if a not in HISTORY)
            undoable = kind == "change" and set(actions) <= {
                "coding.add", "coding.remove", "review.add", "review.remove"} and not \
                _other_coders(store, batch, last["coder"])
        out.append({
            "batch": batch, "time": min(r["ts"] for r in counts), "coder": last["coder"],
            "os_user": last["os_user"], "command": last["command"], "kind": kind,
            "target": target, "events": size,
            "actions": actions, "summary": summary, "undoable": undoable,
            "undone": kind == "change" and states.get(batch) == "history.undo",
        })
    return out


# -- finding what to undo or redo ----------------------------------------------------------
def _events(store: Store, batch: int) -> list[Event]:
    """A batch's events in order, without its history.* marker."""
    return [(r["action"], json.loads(r["payload"])) for r in store.rows(
        "SELECT action, payload FROM events WHERE batch = ? ORDER BY id", (batch,))
        if r["action"] not in HISTORY]


def _other_coders(store: Store, batch: int, coder: str) -> bool:
    return store.scalar(
        """SELECT 1 FROM events WHERE batch = ? AND json_extract(payload, '$.coder') IS NOT NULL
           AND json_extract(payload, '$.coder') != ? LIMIT 1""", (batch, coder)) is not None


def _why_not(events: list[Event], coder: str) -> str | None:
    """Why a batch of only undoable actions still cannot be undone, or None."""
    # A reconciliation decision changes the consensus coder's work on the adjudicator's behalf.
    layers = {p["row"]["consensus"] for a, p in events
              if a in ("consensus.decide", "consensus.retract") and "row" in p}
    for action, payload in events:
        if action not in UNDOABLE:
            return f"it holds {action}"
        if payload.get("coder") in layers:
            continue
        if action in ("code.add", "code.delete") and "row" not in payload:
            return "it changed the codebook"
        if payload.get("coder", coder) != coder:
            return f"it changed {payload['coder']}'s work"
    return None


def _previous_batch(store: Store, coder: str | None, upper: int) -> dict[str, Any] | None:
    """The last event of the latest batch (of ``coder``, or anyone's) before event ``upper``,
    with ``first``, the id of that batch's first event."""
    cursor = store.conn.execute(
        f"""SELECT e.batch, e.coder, e.os_user, e.command, e.action, e.payload,
                   (SELECT min(id) FROM events WHERE batch = e.batch) AS first
            FROM events e WHERE {'e.coder = :coder AND' if coder is not None else ''}
            e.id < :upper ORDER BY e.id DESC LIMIT 1""", {"coder": coder, "upper": upper})
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip(("batch", "coder", "os_user", "command", "action", "payload", "first"),
                    row, strict=True))


def _find(store: Store, coder: str, which: str) -> _Target | None:
    """Walk ``coder``'s batches backwards to the batch to undo (or redo).

    Undo and redo are both last-in first-out, so the first redo met whose batch was not
    undone again later is the latest change in force: the walk can stop there.
    """
    latest: dict[int, str] = {}  # batch -> its latest history action
    upper = _END
    while True:
        last = _previous_batch(store, coder, upper)
        if last is None:
            return None
        batch, upper = last["batch"], last["first"]
        if last["action"] in HISTORY:  # an undo or redo batch: the marker is its last event
            target = json.loads(last["payload"])["batch"]
            if target in latest:
                continue
            latest[target] = last["action"]
            if (which, last["action"]) in (("redo", "history.undo"), ("undo", "history.redo")):
                return _Target(target, batch, _command(store, target))
            continue
        if last["command"] in PASSIVE_COMMANDS:
            continue
        if which == "redo":  # an ordinary change after the last undo: nothing to redo
            return None
        if latest.get(batch) == "history.undo":
            continue
        _check_undoable(store, batch, last["command"], coder)
        return _Target(batch, batch, last["command"])


def _command(store: Store, batch: int) -> str:
    return store.scalar("SELECT command FROM events WHERE batch = ? LIMIT 1", (batch,)) or ""


def _check_undoable(store: Store, batch: int, command: str, coder: str) -> None:
    marks = ",".join("?" * len(UNDOABLE))
    other = store.scalar(f"SELECT action FROM events WHERE batch = ? AND action NOT IN ({marks})"
                         " LIMIT 1", (batch, *sorted(UNDOABLE)))
    why = f"it holds {other}" if other else _why_not(_events(store, batch), coder)
    if why:
        what = f"`coder {command}`" if command else "a change"
        reason = "" if other else f": {why}"
        raise CoderError(f"cannot undo past {what} (change {batch} in `coder history`){reason}")


def _run(store: Store, coder: str, which: str) -> UndoResult | None:
    if store.in_transaction:
        raise RuntimeError(f"{which} must run in its own transaction")
    saved = store.coder, store.command
    store.coder = coder  # the events below are this coder's
    try:
        with store.transaction(which):
            target = _find(store, coder, which)
            if target is None:
                return None
            events = _events(store, target.source)
            summary = describe(store, events) if which == "undo" else ""
            inverter = _Inverter(store)
            for action, payload in reversed(events):
                inverter.invert(action, payload)
            if which == "redo":
                summary = describe(store, inverter.logged)
            store.log(f"history.{which}", batch=target.batch)
            new_batch = store.scalar("SELECT max(batch) FROM events")
            return UndoResult(which, target.batch, new_batch, target.command,
                              summary or "no changes", sorted(inverter.segments),
                              len(inverter.logged), inverter.skipped)
    finally:
        store.coder, store.command = saved


# -- inverting events ----------------------------------------------------------------------
def _coding_payload(row: dict[str, Any]) -> dict[str, Any]:
    span = [row["span_start"], row["span_end"]] if row["span_start"] is not None else None
    return {"coding_id": row["id"], "segment_id": row["segment_id"], "code_id": row["code_id"],
            "coder": row["coder"], "origin": row["origin"], "memo": row["memo"], "span": span,
            "created_at": row["created_at"]}


def _memo_payload(row: dict[str, Any]) -> dict[str, Any]:
    return {"memo_id": row["id"], "kind": row["kind"], "target_id": row["target_id"],
            "coder": row["coder"], "text": row["text"], "created_at": row["created_at"],
            "updated_at": row["updated_at"]}


class _Inverter:
    """Applies the inverse of events, logging each inverse as an ordinary event."""

    def __init__(self, store: Store):
        self.store = store
        self.logged: list[Event] = []
        self.skipped: list[str] = []
        self.segments: set[int] = set()

    def invert(self, action: str, payload: dict[str, Any]) -> None:
        getattr(self, "_" + action.replace(".", "_"))(payload)

    def _log(self, action: str, **payload: Any) -> None:
        self.store.log(action, **payload)
        self.logged.append((action, payload))

    def _free(self, table: str, row_id: int | None) -> int | None:
        """``row_id`` if no row of ``table`` has it (so references stay valid), else None."""
        taken = self.store.scalar(f"SELECT 1 FROM {table} WHERE id = ?", (row_id,))
        return None if taken else row_id

    # codings
    def _find_coding(self, p: dict[str, Any]) -> dict[str, Any] | None:
        span = p.get("span") or [None, None]
        return self.store.one(
            """SELECT * FROM codings WHERE segment_id = ? AND code_id = ? AND coder = ?
               AND span_start IS ? AND span_end IS ?""",
            (p["segment_id"], p["code_id"], p["coder"], span[0], span[1]))

    def _coding_add(self, p: dict[str, Any]) -> None:
        self.segments.add(p["segment_id"])
        row = self._find_coding(p)
        if row is None:
            self.skipped.append(f"{_coding_words(self.store, p)} was already gone")
            return
        self.store.execute("DELETE FROM codings WHERE id = ?", (row["id"],))
        self._log("coding.remove", **_coding_payload(row))

    def _coding_remove(self, p: dict[str, Any]) -> None:
        store = self.store
        self.segments.add(p["segment_id"])
        if self._find_coding(p):
            self.skipped.append(f"{_coding_words(store, p)} was already there")
            return
        if not store.scalar("SELECT 1 FROM segments WHERE id = ?", (p["segment_id"],)) or \
                not store.scalar("SELECT 1 FROM codes WHERE id = ?", (p["code_id"],)):
            self.skipped.append(f"{_coding_words(store, p)}: its segment or code is gone")
            return
        span = p.get("span") or [None, None]
        cursor = store.execute(
            """INSERT INTO codings (id, segment_id, code_id, coder, origin, memo, span_start,
               span_end, created_at) VALUES (?,?,?,?,?,?,?,?,?)""",
            (self._free("codings", p.get("coding_id")), p["segment_id"], p["code_id"],
             p["coder"], p["origin"], p.get("memo"), span[0], span[1],
             p.get("created_at") or now()))
        self._log("coding.add", **_coding_payload(
            store.one_existing("SELECT * FROM codings WHERE id = ?", (inserted_id(cursor),))))

    def _coding_memo(self, p: dict[str, Any]) -> None:
        self.segments.add(p["segment_id"])
        row = self._find_coding(p)
        if row is None or row["memo"] != p["new"]:
            self.skipped.append(f"the memo on {_coding_words(self.store, p)} changed since")
            return
        self.store.execute("UPDATE codings SET memo = ? WHERE id = ?", (p["old"], row["id"]))
        self._log("coding.memo", coding_id=row["id"], segment_id=row["segment_id"],
                  code_id=row["code_id"], coder=row["coder"], span=p.get("span"),
                  old=p["new"], new=p["old"])

    # reviewed marks
    def _review_add(self, p: dict[str, Any]) -> None:
        self.segments.add(p["segment_id"])
        created = self.store.scalar(
            "SELECT created_at FROM reviewed WHERE segment_id = ? AND coder = ?",
            (p["segment_id"], p["coder"]))
        if created is None:
            return  # already unmarked: nothing to say, the segment is as the undo wants it
        self.store.execute("DELETE FROM reviewed WHERE segment_id = ? AND coder = ?",
                           (p["segment_id"], p["coder"]))
        self._log("review.remove", segment_id=p["segment_id"], coder=p["coder"],
                  created_at=created)

    def _review_remove(self, p: dict[str, Any]) -> None:
        self.segments.add(p["segment_id"])
        if not self.store.scalar("SELECT 1 FROM segments WHERE id = ?", (p["segment_id"],)):
            self.skipped.append(f"segment #{p['segment_id']} is gone")
            return
        created = p.get("created_at") or now()
        cursor = self.store.execute(
            "INSERT OR IGNORE INTO reviewed (segment_id, coder, created_at) VALUES (?,?,?)",
            (p["segment_id"], p["coder"], created))
        if cursor.rowcount:
            self._log("review.add", segment_id=p["segment_id"], coder=p["coder"],
                      created_at=created)

    # memos
    def _find_memo(self, p: dict[str, Any]) -> dict[str, Any] | None:
        return self.store.one(
            """SELECT * FROM memos WHERE kind = ? AND target_id IS ? AND coder = ?
               ORDER BY id != ?, id LIMIT 1""",
            (p["kind"], p["target_id"], p["coder"], p.get("memo_id")))

    def _memo_target(self, p: dict[str, Any]) -> str:
        from coder.store.memos import target_label

        if p["kind"] == "segment":
            self.segments.add(p["target_id"])
        return target_label(self.store, p["kind"], p["target_id"])

    def _memo_add(self, p: dict[str, Any]) -> None:
        where = self._memo_target(p)
        row = self._find_memo(p)
        if row is None:
            self.skipped.append(f"the memo on {where} was already gone")
            return
        self.store.execute("DELETE FROM memos WHERE id = ?", (row["id"],))
        self._log("memo.delete", **_memo_payload(row))

    def _memo_delete(self, p: dict[str, Any]) -> None:
        from coder.store.memos import _check_target

        where = self._memo_target(p)
        if self._find_memo(p):
            self.skipped.append(f"there is a memo on {where} again")
            return
        try:
            _check_target(self.store, p["kind"], p["target_id"])
        except CoderError:
            self.skipped.append(f"{where} is gone")
            return
        cursor = self.store.execute(
            """INSERT INTO memos (id, kind, target_id, coder, text, created_at, updated_at)
               VALUES (?,?,?,?,?,?,?)""",
            (self._free("memos", p.get("memo_id")), p["kind"], p["target_id"], p["coder"],
             p["text"], p["created_at"], p["updated_at"]))
        self._log("memo.add", **_memo_payload(
            self.store.one_existing("SELECT * FROM memos WHERE id = ?", (inserted_id(cursor),))))

    def _memo_edit(self, p: dict[str, Any]) -> None:
        where = self._memo_target(p)
        row = self._find_memo(p)
        if row is None:
            self.skipped.append(f"the memo on {where} is gone")
            return
        self.store.execute("UPDATE memos SET text = ?, updated_at = ? WHERE id = ?",
                           (p["old"], p["old_updated_at"], row["id"]))
        self._log("memo.edit", memo_id=row["id"], kind=row["kind"], target_id=row["target_id"],
                  coder=row["coder"], old=row["text"], new=p["old"],
                  old_updated_at=row["updated_at"], updated_at=p["old_updated_at"])

    # codes (only those added one at a time, whose event holds the whole row)
    def _code_add(self, p: dict[str, Any]) -> None:
        store = self.store
        row = store.one("SELECT * FROM codes WHERE id = ?", (p["code_id"],))
        if row is None:
            self.skipped.append(f"code {p['name']!r} was already gone")
            return
        used = store.one_existing(
            """SELECT (SELECT count(*) FROM codings WHERE code_id = :id) AS codings,
                      (SELECT count(*) FROM codes WHERE parent_id = :id) AS children,
                      (SELECT count(*) FROM memos WHERE kind = 'code' AND target_id = :id)
                      AS memos""", {"id": row["id"]})
        if any(used.values()):
            parts = " and ".join(what for what, n in used.items() if n)
            self.skipped.append(f"kept code {row['name']!r}: it has {parts} now")
            return
        store.execute("DELETE FROM codes WHERE id = ?", (row["id"],))
        self._log("code.delete", code_id=row["id"], name=row["name"], codings_removed=0, row=row)

    # suggestion verdicts: put back the verdict row as it was (or none)
    def _set_verdict(self, p: dict[str, Any], target: dict[str, Any] | None) -> None:
        import json

        store = self.store
        key = (p["segment_id"], p["code_id"], p["coder"])
        current = store.one("SELECT * FROM suggestion_feedback WHERE segment_id = ? AND "
                            "code_id = ? AND coder = ?", key)
        if current is not None:
            current["sources"] = json.loads(current["sources"])
        store.execute("DELETE FROM suggestion_feedback WHERE segment_id = ? AND code_id = ? "
                      "AND coder = ?", key)
        if target is not None:
            row = dict(target)
            row["sources"] = json.dumps(list(row.get("sources") or []))
            row["id"] = self._free("suggestion_feedback", row.get("id"))
            names = [c for c in ("id", "segment_id", "code_id", "coder", "verdict", "score",
                                 "sources", "created_at") if row.get(c) is not None]
            store.execute(f"INSERT INTO suggestion_feedback ({', '.join(names)}) VALUES "
                          f"({', '.join('?' * len(names))})", tuple(row[c] for c in names))
        self.segments.add(p["segment_id"])
        self._log("suggestion.revert", segment_id=p["segment_id"], code_id=p["code_id"],
                  coder=p["coder"], previous=current, row=target)

    def _suggestion_accept(self, p: dict[str, Any]) -> None:
        self._set_verdict(p, p.get("previous"))

    def _suggestion_reject(self, p: dict[str, Any]) -> None:
        self._set_verdict(p, p.get("previous"))

    def _suggestion_revert(self, p: dict[str, Any]) -> None:
        self._set_verdict(p, p.get("previous"))

    # pinned and excluded quotes
    def _quote_choice(self, p: dict[str, Any]) -> None:
        store = self.store
        current = store.one("SELECT * FROM quote_choices WHERE code_id = ? AND segment_id = ?",
                            (p["code_id"], p["segment_id"]))
        store.execute("DELETE FROM quote_choices WHERE code_id = ? AND segment_id = ?",
                      (p["code_id"], p["segment_id"]))
        target = p.get("previous")
        if target:
            names = list(target)
            target = dict(target, id=self._free("quote_choices", target["id"]))
            names = [c for c in names if target[c] is not None]
            store.execute(f"INSERT INTO quote_choices ({', '.join(names)}) VALUES "
                          f"({', '.join('?' * len(names))})", tuple(target[c] for c in names))
        self.segments.add(p["segment_id"])
        self._log("quote.choice", code_id=p["code_id"], segment_id=p["segment_id"],
                  previous=current, row=target)

    # segment times and media links (playback): put the old value back
    def _segment_time(self, p: dict[str, Any]) -> None:
        from coder.store.media import set_segment_time

        if not self.store.scalar("SELECT 1 FROM segments WHERE id = ?", (p["segment_id"],)):
            self.skipped.append("the segment is gone")
            return
        self.segments.add(p["segment_id"])
        if set_segment_time(self.store, p["segment_id"], p["which"], p["old"]):
            self.logged.append(("segment.time", dict(p, old=p["new"], new=p["old"])))

    def _media_link(self, p: dict[str, Any]) -> None:
        from coder.store.media import set_media_link

        if not self.store.scalar("SELECT 1 FROM transcripts WHERE id = ?",
                                 (p["transcript_id"],)):
            self.skipped.append("the transcript is gone")
            return
        if set_media_link(self.store, p["transcript_id"], p["old"]):
            self.logged.append(("media.link", dict(p, old=p["new"], new=p["old"])))

    # reconciliation trail
    def _consensus_decide(self, p: dict[str, Any]) -> None:
        row = self.store.one("SELECT * FROM consensus_decisions WHERE id = ?",
                             (p["decision_id"],))
        if row is None:
            self.skipped.append("the decision was already gone from the trail")
            return
        self.store.execute("DELETE FROM consensus_decisions WHERE id = ?", (row["id"],))
        self._log("consensus.retract", decision_id=row["id"], row=row)

    def _consensus_retract(self, p: dict[str, Any]) -> None:
        row = dict(p["row"])
        row["id"] = self._free("consensus_decisions", row["id"])
        if row.get("segment_id") is not None and not self.store.scalar(
                "SELECT 1 FROM segments WHERE id = ?", (row["segment_id"],)):
            row["segment_id"] = None
        names = [c for c in row if row[c] is not None or c == "segment_id"]
        cursor = self.store.execute(
            f"INSERT INTO consensus_decisions ({', '.join(names)}) VALUES "
            f"({', '.join('?' * len(names))})", tuple(row[c] for c in names))
        restored = self.store.one_existing("SELECT * FROM consensus_decisions WHERE id = ?",
                                           (inserted_id(cursor),))
        self._log("consensus.decide", decision_id=restored["id"], row=restored)

    def _code_rename(self, p: dict[str, Any]) -> None:
        store = self.store
        row = store.one("SELECT * FROM codes WHERE id = ?", (p["code_id"],))
        if row is None or row["name"] != p["new"]:
            self.skipped.append(f"code {p['new']!r} was renamed or deleted since")
            return
        if store.scalar("SELECT 1 FROM codes WHERE name = ? COLLATE NOCASE AND id != ?",
                        (p["old"], row["id"])):
            self.skipped.append(f"a code named {p['old']!r} exists again")
            return
        store.execute("UPDATE codes SET name = ? WHERE id = ?", (p["old"], row["id"]))
        self._log("code.rename", code_id=row["id"], old=p["new"], new=p["old"])

    def _code_move(self, p: dict[str, Any]) -> None:
        store = self.store
        row = store.one("SELECT * FROM codes WHERE id = ?", (p["code_id"],))
        if row is None or "old_parent_id" not in p:
            self.skipped.append(f"could not move code {p['name']!r} back")
            return
        parent = p["old_parent_id"]
        if parent is not None and not store.scalar("SELECT 1 FROM codes WHERE id = ?",
                                                   (parent,)):
            self.skipped.append(f"the old parent of {p['name']!r} is gone: left it in place")
            return
        store.execute("UPDATE codes SET parent_id = ?, position = ? WHERE id = ?",
                      (parent, p["old_position"], row["id"]))
        self._log("code.move", code_id=row["id"], name=row["name"],
                  old_parent=p.get("new_parent"), new_parent=p.get("old_parent"),
                  old_parent_id=row["parent_id"], old_position=row["position"],
                  new_parent_id=parent, new_position=p["old_position"])

    def _code_delete(self, p: dict[str, Any]) -> None:
        store = self.store
        row = dict(p["row"])
        if store.scalar("SELECT 1 FROM codes WHERE name = ? COLLATE NOCASE", (row["name"],)):
            self.skipped.append(f"a code named {row['name']!r} exists again")
            return
        row["id"] = self._free("codes", row["id"])
        if row.get("parent_id") is not None and not store.scalar(
                "SELECT 1 FROM codes WHERE id = ?", (row["parent_id"],)):
            row["parent_id"] = None
        if row.get("key") and store.scalar("SELECT 1 FROM codes WHERE key = ?", (row["key"],)):
            row["key"] = None
        columns = {r["name"] for r in store.rows("PRAGMA table_info(codes)")}
        names = [c for c in row if c in columns]
        cursor = store.execute(
            f"INSERT INTO codes ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            tuple(row[c] for c in names))
        new = store.one_existing("SELECT * FROM codes WHERE id = ?", (inserted_id(cursor),))
        parent = store.scalar("SELECT name FROM codes WHERE id = ?", (new["parent_id"],))
        self._log("code.add", code_id=new["id"], name=new["name"], parent=parent,
                  definition=new["definition"], key=new["key"], color=new["color"], row=new)


# -- describing changes in words -----------------------------------------------------------
def _coding_words(store: Store, p: dict[str, Any]) -> str:
    code = store.scalar("SELECT name FROM codes WHERE id = ?", (p["code_id"],))
    code = repr(code) if code else f"code #{p['code_id']}"
    return f"{_segment_words(store, [p['segment_id']]) or 'a deleted segment'} {code}"


def _segment_words(store: Store, ids: list[int]) -> str:
    """``podcast ¶1–3, ¶7``; several transcripts joined with "and"."""
    if not ids:
        return ""
    unique = list(dict.fromkeys(ids))
    marks = ",".join("?" * len(unique))
    found = {r["id"]: (r["name"], r["ordinal"]) for r in store.rows(
        f"""SELECT s.id, t.name, s.ordinal FROM segments s JOIN transcripts t
            ON t.id = s.transcript_id WHERE s.id IN ({marks})""", tuple(unique))}
    by_transcript: dict[str, list[int]] = {}
    gone = 0
    for seg in unique:
        if seg in found:
            by_transcript.setdefault(found[seg][0], []).append(found[seg][1])
        else:
            gone += 1
    if len(by_transcript) > 2:
        return f"{len(unique)} segments in {len(by_transcript)} transcripts"
    parts = [f"{name} {_ranges(sorted(ordinals))}" for name, ordinals in by_transcript.items()]
    if gone:
        parts.append(f"{gone} deleted segment{'s' if gone > 1 else ''}")
    return " and ".join(parts)


def _ranges(ordinals: list[int]) -> str:
    runs: list[list[int]] = []
    for n in ordinals:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"¶{r[0]}–{r[-1]}" if len(r) > 1 else f"¶{r[0]}" for r in runs)


def describe(store: Store, events: list[Event]) -> str:
    """Events in words: "coded podcast ¶12 'need targeted PD'; marked podcast ¶12 reviewed".

    Codings and marks are grouped by action and code, in the order they first appear. The
    reviewed mark that coding a segment adds (coded means looked at) goes without saying.
    """
    from coder.formatting import clock_exact
    from coder.store.memos import target_label

    code_names = {p["code_id"]: p["name"] for a, p in events if a in ("code.add", "code.delete")}
    coded = {(a, p["segment_id"]) for a, p in events if a in ("coding.add", "coding.remove")}
    groups: dict[tuple[str, Any], list[int]] = {}
    for number, (action, p) in enumerate(events):
        if action in ("review.add", "review.remove") and (
                "coding." + action.split(".")[1], p["segment_id"]) in coded:
            continue
        if action in ("coding.add", "coding.remove"):
            code_id = p["code_id"]
            if code_id not in code_names:
                code_names[code_id] = store.scalar(
                    "SELECT name FROM codes WHERE id = ?", (code_id,)) or f"code #{code_id}"
            kind = action + (".span" if p.get("span") else "")  # words, not the segment
            groups.setdefault((kind, code_names[code_id]), []).append(p["segment_id"])
        elif action in ("review.add", "review.remove"):
            groups.setdefault((action, None), []).append(p["segment_id"])
        else:
            groups[(action, number)] = []
    phrases: list[str] = []
    for (action, what), segs in groups.items():
        where = _segment_words(store, segs)
        if action == "coding.add":
            phrases.append(f"coded {where} {what!r}")
        elif action == "coding.remove":
            phrases.append(f"removed {what!r} from {where}")
        elif action == "coding.add.span":
            phrases.append(f"coded words in {where} {what!r}")
        elif action == "coding.remove.span":
            phrases.append(f"removed {what!r} from words in {where}")
        elif action == "review.add":
            phrases.append(f"marked {where} reviewed")
        elif action == "review.remove":
            phrases.append(f"unmarked {where} as reviewed")
        elif action == "coding.memo":
            p = events[what][1]
            phrases.append(f"edited the memo on {_coding_words(store, p)}")
        elif action.startswith("memo."):
            p = events[what][1]
            verb = {"memo.add": "wrote", "memo.edit": "edited"}.get(action, "deleted")
            phrases.append(f"{verb} a memo on {target_label(store, p['kind'], p['target_id'])}")
        elif action in ("code.add", "code.delete"):
            verb = "added" if action == "code.add" else "deleted"
            phrases.append(f"{verb} code {events[what][1]['name']!r}")
        elif action == "code.rename":
            p = events[what][1]
            phrases.append(f"renamed code {p['old']!r} to {p['new']!r}")
        elif action == "code.move":
            p = events[what][1]
            place = f"under {p['new_parent']!r}" if p.get("new_parent") else "to the top level"
            phrases.append(f"moved code {p['name']!r} {place}")
        elif action == "code.merge":
            p = events[what][1]
            phrases.append(f"merged code {p['source']!r} into {p['into']!r}")
        elif action in ("suggestion.accept", "suggestion.reject", "suggestion.revert"):
            p = events[what][1]
            code = store.scalar("SELECT name FROM codes WHERE id = ?", (p["code_id"],))
            if action == "suggestion.revert":  # what it put back: a verdict (a redo), or none
                action = "suggestion." + {"accept": "accept", "reject": "reject"}.get(
                    (p.get("row") or {}).get("verdict") or "", "revert")
            verb = {"suggestion.accept": "accepted", "suggestion.reject": "rejected"}.get(
                action, "took back a verdict on")
            phrases.append(f"{verb} the suggestion {code!r} on "
                           f"{_segment_words(store, [p['segment_id']])}")
        elif action == "quote.choice":
            p = events[what][1]
            code = store.scalar("SELECT name FROM codes WHERE id = ?", (p["code_id"],))
            choice = (p.get("row") or {}).get("choice")
            verb = {"pin": "pinned", "exclude": "excluded"}.get(choice or "",
                                                                "cleared the choice of")
            phrases.append(f"{verb} {_segment_words(store, [p['segment_id']])} as a quote of "
                           f"{code!r}")
        elif action in ("consensus.decide", "consensus.retract"):
            row = events[what][1]["row"]
            verb = "decided" if action == "consensus.decide" else "withdrew the decision on"
            phrases.append(f"{verb} the consensus on {row['transcript']} ¶{row['ordinal']}")
        elif action == "segment.time":
            p = events[what][1]
            value = "no time" if p["new"] is None else clock_exact(p["new"])
            phrases.append(f"set the {p['which']} of {_segment_words(store, [p['segment_id']])}"
                           f" to {value}")
        elif action == "media.link":
            p = events[what][1]
            name = store.scalar("SELECT name FROM transcripts WHERE id = ?",
                                (p["transcript_id"],))
            phrases.append(f"linked {name} to {p['new']}" if p["new"] else
                           f"unlinked the recording of {name}")
        elif action == "code.update":
            phrases.append(f"updated code {events[what][1]['name']!r} from a codebook")
        else:
            phrases.append(action)
    if len(phrases) > 4:
        phrases = [*phrases[:3], f"and {len(phrases) - 3} more changes"]
    return "; ".join(phrases)
