"""A team on one server: many processes opening one study, waiting for the lock, who wrote."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from coder.store.db import Store, os_user
from coder.sync import sync_study
from conftest import open_store, run

CODER = str(Path(sys.executable).with_name("coder"))


def _start(study, *args: str, coder: str = "tester") -> subprocess.Popen:
    env = {**os.environ, "CODER_NAME": coder}
    return subprocess.Popen([CODER, *args, "--study", str(study.root)], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _batches(study) -> int:
    with open_store(study) as store:
        return store.scalar("SELECT count(DISTINCT batch) FROM events")


def test_twenty_workbenches_opening_at_once_all_open_and_write_nothing(demo):
    before = _batches(demo)
    # `coder` without a command syncs, then opens (here, without a terminal: the status).
    procs = [_start(demo, coder=f"coder{n}") for n in range(20)]
    outs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outs, strict=True):
        assert proc.returncode == 0, err
        assert "busy" not in err and "locked" not in err
        assert "Not a terminal" in out
    assert _batches(demo) == before  # checking for changes only read


def test_twenty_at_once_after_a_new_transcript_import_it_once(demo):
    (demo.transcripts_dir / "second.md").write_text("Ann: A second interview.\n\nBo: Yes.\n",
                                                    encoding="utf-8")
    procs = [_start(demo, "sync", coder=f"coder{n}") for n in range(20)]
    outs = [p.communicate(timeout=120) for p in procs]
    for proc, (_, err) in zip(procs, outs, strict=True):
        assert proc.returncode == 0, err
    assert sum("imported: second" in out for out, _ in outs) == 1
    with open_store(demo) as store:
        assert store.scalar("SELECT count(*) FROM transcripts WHERE name = 'second'") == 1
        assert store.scalar("SELECT count(*) FROM events WHERE action = 'transcript.import' "
                            "AND json_extract(payload, '$.name') = 'second'") == 1


class _WriteLock:
    """Another process's writer, holding the study's write lock until released."""

    def __init__(self, path: Path):
        self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.close()


def test_a_sync_with_nothing_new_opens_while_another_process_writes(demo):
    lock = _WriteLock(demo.db_path)
    try:
        started = time.monotonic()
        with Store(demo.db_path) as store:
            result = sync_study(store, demo)
        assert time.monotonic() - started < 2  # did not queue behind the writer
        assert not result.wrote and not result.changed
    finally:
        lock.release()


def test_a_writer_waits_for_the_lock_and_says_so_instead_of_failing(demo):
    (demo.transcripts_dir / "second.md").write_text("Ann: A second interview.\n",
                                                    encoding="utf-8")
    lock = _WriteLock(demo.db_path)
    proc = _start(demo, "sync")
    try:
        said = proc.stderr.readline()  # type: ignore[union-attr]
        assert proc.poll() is None  # still waiting, not failed
    finally:
        threading.Timer(1.5, lock.release).start()  # keep it waiting a little longer
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "waiting for the database" in said
    assert err == ""  # said once, not once a second
    assert "imported: second" in out


def test_the_os_user_is_logged_beside_the_coder_and_shown_when_they_differ(demo):
    me = os_user()
    assert me
    run(demo, "code", "apply", "ephrata-interview", "2", "need targeted PD", coder="ann")
    with open_store(demo) as store:
        row = store.one("SELECT coder, os_user FROM events WHERE action = 'coding.add'")
    assert row == {"coder": "ann", "os_user": me}
    listing = run(demo, "history", "--all-coders").output
    assert f"ann (login: {me})" in listing
    assert "--format" not in listing
    shown = run(demo, "history", "--format", "json", coder="ann").output
    assert f'"os_user": "{me}"' in shown


def test_a_probe_never_writes_and_leaves_the_store_writable(demo):
    import pytest

    from coder.store.db import WouldWrite
    from coder.store.transcripts import set_speaker_attributes

    with Store(demo.db_path) as store:
        for write in (lambda: set_speaker_attributes(store, {"Ann": {"role": "x"}}),
                      lambda: store.conn.execute("INSERT INTO speakers (name) VALUES ('Bo')")):
            with pytest.raises(WouldWrite), store.probe(), store.transaction("probe"):
                write()
        assert store.scalar("SELECT count(*) FROM speakers WHERE name IN ('Ann', 'Bo')") == 0
        with store.transaction("real"):
            set_speaker_attributes(store, {"Ann": {"role": "x"}})
    with open_store(demo) as store:
        assert store.scalar("SELECT count(*) FROM speakers WHERE name = 'Ann'") == 1


def test_a_changed_codebook_is_loaded_by_the_next_open(demo):
    path = demo.codebooks_dir / "pl.yaml"
    path.write_text(path.read_text().replace("How teachers learn", "How staff learn"))
    with Store(demo.db_path) as store:
        result = sync_study(store, demo)
        assert result.wrote and result.codebooks["pl.yaml"].updated == [
            "professional development"]
        again = sync_study(store, demo)
        assert not again.wrote and not again.changed
