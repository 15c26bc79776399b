"""The store: schema, migrations, transactions, the event log and full-text search."""

from __future__ import annotations

import sqlite3

import pytest

from coder.errors import CoderError
from coder.store.codes import add_code
from coder.store.codings import apply_coding, mark_reviewed
from coder.store.db import Store
from coder.store.schema import SCHEMA_VERSION
from coder.store.transcripts import SegmentRow, insert_transcript, search


def _store(tmp_path) -> Store:
    return Store(tmp_path / "coder.db", coder="ann", command="test")


def _one_transcript(store: Store) -> int:
    text = "We needed targeted PD.\n\nIslands of innovation everywhere."
    with store.transaction():
        insert_transcript(store, name="t1", source_path="t1.txt", sha256="x", fmt="txt",
                          segmentation="turn", metadata={}, text=text, segments=[
                              SegmentRow(1, "Ann", 0, 22, None, None, text[0:22]),
                              SegmentRow(2, "Bo", 24, len(text), 5.0, None, text[24:])])
    return store.scalar("SELECT id FROM segments WHERE ordinal = 1")


def test_new_database_is_current_wal_with_foreign_keys(tmp_path):
    store = _store(tmp_path)
    assert store.version == SCHEMA_VERSION
    assert store.scalar("PRAGMA journal_mode") == "wal"
    assert store.scalar("PRAGMA foreign_keys") == 1
    assert store.scalar("PRAGMA busy_timeout") >= 5000
    for table in ("transcripts", "speakers", "speaker_attributes", "segments", "codes",
                  "codings", "reviewed", "memos", "events", "segments_fts"):
        assert table in store.db.table_names()


def test_reopening_does_not_migrate_again(tmp_path):
    _store(tmp_path).close()
    store = _store(tmp_path)
    assert store.version == SCHEMA_VERSION


def test_database_from_a_newer_coder_is_refused(tmp_path):
    path = tmp_path / "coder.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(CoderError, match="newer than this coder"):
        Store(path)


def test_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "coder.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(CoderError, match="cannot open the study database"):
        Store(path)


def test_a_failure_inside_a_transaction_leaves_nothing(tmp_path):
    store = _store(tmp_path)
    seg = _one_transcript(store)
    code = add_code(store, "need targeted PD")
    events = store.scalar("SELECT count(*) FROM events")
    with pytest.raises(RuntimeError), store.transaction():
        apply_coding(store, seg, code, coder="ann")
        mark_reviewed(store, [seg], coder="ann")
        raise RuntimeError("power cut")
    assert store.scalar("SELECT count(*) FROM codings") == 0
    assert store.scalar("SELECT count(*) FROM reviewed") == 0
    assert store.scalar("SELECT count(*) FROM events") == events


def test_writes_outside_a_transaction_are_refused(tmp_path):
    store = _store(tmp_path)
    with pytest.raises(RuntimeError):
        store.execute("DELETE FROM codes")


def test_every_change_is_logged_in_one_batch_per_command(tmp_path):
    store = _store(tmp_path)
    seg = _one_transcript(store)
    code = add_code(store, "islands of innovation")
    with store.transaction("code"):
        apply_coding(store, seg, code, coder="ann")
        mark_reviewed(store, [seg], coder="ann")
    last = store.rows("SELECT * FROM events ORDER BY id DESC LIMIT 2")
    assert [e["action"] for e in last] == ["review.add", "coding.add"]
    assert last[0]["batch"] == last[1]["batch"]
    assert last[0]["coder"] == "ann"
    batches = store.scalar("SELECT count(DISTINCT batch) FROM events")
    assert batches == 3  # import, add code, code+review


def test_event_log_is_append_only(tmp_path):
    store = _store(tmp_path)
    _one_transcript(store)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), store.transaction():
        store.execute("UPDATE events SET coder = 'mallory'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), store.transaction():
        store.execute("DELETE FROM events")
    assert store.scalar("SELECT count(*) FROM events WHERE coder = 'ann'") > 0


def test_one_coder_cannot_apply_the_same_code_twice(tmp_path):
    store = _store(tmp_path)
    seg = _one_transcript(store)
    code = add_code(store, "c")
    assert apply_coding(store, seg, code, coder="ann") is True
    assert apply_coding(store, seg, code, coder="ann") is False
    assert apply_coding(store, seg, code, coder="bo") is True
    assert store.scalar("SELECT count(*) FROM codings") == 2


def test_a_code_with_codings_cannot_be_deleted_behind_our_back(tmp_path):
    store = _store(tmp_path)
    seg = _one_transcript(store)
    code = add_code(store, "c")
    apply_coding(store, seg, code, coder="ann")
    with pytest.raises(sqlite3.IntegrityError), store.transaction():
        store.execute("DELETE FROM codes WHERE id = ?", (code,))


def test_full_text_search_stems_and_follows_changes(tmp_path):
    store = _store(tmp_path)
    _one_transcript(store)
    hits = search(store, "island")
    assert [(h["transcript"], h["segment"], h["speaker"]) for h in hits] == [("t1", 2, "Bo")]
    with store.transaction():
        store.execute("DELETE FROM segments WHERE ordinal = 2")
    assert search(store, "island") == []
    with pytest.raises(CoderError, match="cannot search"):
        search(store, 'unbalanced "quote')
