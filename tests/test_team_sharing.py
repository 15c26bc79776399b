"""Two real Unix users in one group share a study folder (setgid, group-writable).

Needs root (to add the users) and a Python interpreter the new users may run; skips
otherwise. Each user runs the real `coder` command with the common umask 022.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import CODEBOOK, INTERVIEW

pytestmark = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("useradd")
    or not shutil.which("runuser"), reason="needs root, useradd and runuser")

_LAUNCH = ("import os, site, sys; os.umask(0o022); site.addsitedir({purelib!r}); "
           "from coder.cli import main; sys.argv = ['coder', *sys.argv[1:]]; main()")


@dataclass
class Team:
    group: str
    users: tuple[str, str]
    folder: Path  # the shared study folder
    python: str

    def coder(self, user: str, *args: str) -> subprocess.Popen:
        """Start `coder ARGS` as ``user`` (coder name = login), from the study folder."""
        launch = _LAUNCH.format(purelib=sysconfig.get_paths()["purelib"])
        return subprocess.Popen(
            ["runuser", "-u", user, "--", "env", f"CODER_NAME={user}", "COLUMNS=200",
             self.python, "-I", "-S", "-c", launch, *args],
            cwd=self.folder if self.folder.exists() else self.folder.parent,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)

    def run(self, user: str, *args: str) -> subprocess.CompletedProcess:
        proc = self.coder(user, *args)
        out, err = proc.communicate(timeout=120)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _python_for_others(user: str) -> str | None:
    """An interpreter of this version that ``user`` can run (a venv's may sit in /root)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, getattr(sys, "_base_executable", ""),
                      f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"):
        if candidate and subprocess.run(
                ["runuser", "-u", user, "--", candidate, "-I", "-S", "-c",
                 f"import sys; assert sys.version.startswith('{version}.')"],
                capture_output=True).returncode == 0:
            return candidate
    return None


@pytest.fixture
def team():
    tag = uuid.uuid4().hex[:6]
    group, users = f"cg{tag}", (f"ca{tag}", f"cb{tag}")
    subprocess.run(["groupadd", group], check=True)
    try:
        for user in users:
            subprocess.run(["useradd", "-M", "-N", "-g", "users", "-G", group,
                            "-s", "/bin/false", user], check=True)
        python = _python_for_others(users[0])
        if python is None:
            pytest.skip("no Python interpreter the test users may run")
        folder = Path(tempfile.mkdtemp(prefix="coder-team-", dir="/tmp"))
        shutil.chown(folder, group=group)
        os.chmod(folder, 0o2775)  # setgid: new files take the group
        yield Team(group, users, folder / "study", python)
        shutil.rmtree(folder, ignore_errors=True)
    finally:
        for user in users:
            subprocess.run(["userdel", user], capture_output=True)
        subprocess.run(["groupdel", group], capture_output=True)


def _group_writable(path: Path, group: str) -> bool:
    import grp

    info = path.stat()
    return bool(info.st_mode & stat.S_IWGRP) and grp.getgrgid(info.st_gid).gr_name == group


def _set_up_study(team: Team) -> None:
    ann = team.users[0]
    done = team.run(ann, "init", str(team.folder))
    assert done.returncode == 0, done.stderr
    team.folder.mkdir(exist_ok=True)
    (team.folder / "transcripts" / "ephrata-interview.md").write_text(INTERVIEW)
    (team.folder / "codebooks" / "pl.yaml").write_text(CODEBOOK)
    for path in (team.folder / "transcripts").iterdir():
        os.chmod(path, 0o644)  # readable, as any umask 022 leaves them
    os.chmod(team.folder / "codebooks" / "pl.yaml", 0o644)
    done = team.run(ann, "sync")
    assert done.returncode == 0, done.stderr


def test_init_in_a_setgid_folder_shares_everything_with_the_group(team):
    _set_up_study(team)
    for name in ("", "codebooks", "transcripts", "exports", "coder.toml", ".gitignore",
                 "coder.db"):
        path = team.folder / name
        assert _group_writable(path, team.group), (path, oct(path.stat().st_mode))
        if path.is_dir():
            assert path.stat().st_mode & stat.S_ISGID, path


def test_two_users_write_in_turn_and_at_once_without_a_permission_error(team):
    _set_up_study(team)
    ann, bo = team.users
    # In turn: each opens after the other has closed.
    for user, ordinal in ((bo, "2"), (ann, "2"), (bo, "5"), (ann, "5")):
        done = team.run(user, "code", "apply", "ephrata-interview", ordinal,
                        "seat-time mandates")
        assert done.returncode == 0, done.stderr
    out = team.folder / "exports" / "all.csv"
    for user in (bo, ann):  # the second replaces the first one's export
        done = team.run(user, "codings", "export", "--all-coders", "--out", str(out))
        assert done.returncode == 0, done.stderr
    assert out.owner() == ann and _group_writable(out, team.group)
    # At once: both users, several commands each, all running together.
    procs = [team.coder(user, "review", "ephrata-interview", "--segments", str(n))
             for n in range(1, 6) for user in (ann, bo)]
    procs += [team.coder(user, "code", "apply", "ephrata-interview", "3", "need targeted PD")
              for user in (ann, bo)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "ermission" not in err and "readonly" not in err
    import sqlite3

    conn = sqlite3.connect(team.folder / "coder.db")
    try:
        reviewed = conn.execute("SELECT coder, count(*) FROM reviewed GROUP BY coder "
                                "ORDER BY coder").fetchall()
        logins = set(conn.execute("SELECT coder, os_user FROM events WHERE "
                                  "action = 'coding.add'").fetchall())
    finally:
        conn.close()
    assert reviewed == sorted([(ann, 5), (bo, 5)])
    assert logins == {(ann, ann), (bo, bo)}  # the OS user is in the event log


def test_a_file_the_group_cannot_write_is_named_with_the_fix(team):
    _set_up_study(team)
    ann, bo = team.users
    db = team.folder / "coder.db"
    os.chmod(db, 0o644)  # as an older coder, or a umask-022 copy, would leave it
    done = team.run(bo, "code", "apply", "ephrata-interview", "2", "seat-time mandates")
    assert done.returncode == 1
    assert done.stderr.strip() == (f"coder: error: {db}: not writable by you (login {bo}); "
                                   f"fix: chmod g+w {db}")
    assert "busy" not in done.stderr and "damaged" not in done.stderr
    os.chmod(db, 0o664)
    assert team.run(bo, "code", "apply", "ephrata-interview", "2",
                    "seat-time mandates").returncode == 0
