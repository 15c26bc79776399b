"""Sharing a study by Unix group: what coder creates follows its folder's group and mode.

On a server a team shares the study folder through a group: the folder is setgid (new files
take its group) and group-writable. Each coder's umask (usually 022) would still make new
files and folders writable by their owner alone, so a teammate could not write the next
export, backup or database file. Everything coder creates in a group-writable folder is made
group-writable too (and folders setgid, like their parent); anywhere else nothing changes.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from coder.errors import CoderError

_GROUP_RW = stat.S_IRGRP | stat.S_IWGRP


def shared_folder(folder: Path) -> os.stat_result | None:
    """The folder's status when it is shared by a group (group-writable, and not a sticky
    world-writable folder such as /tmp); None otherwise."""
    try:
        info = os.stat(folder)
    except OSError:
        return None
    if not info.st_mode & stat.S_IWGRP or info.st_mode & stat.S_ISVTX:
        return None
    return info


def share_like_folder(path: Path) -> None:
    """Give a file or folder coder just created its folder's sharing: group read/write (and
    search and setgid for a folder) and the folder's group when the folder is setgid."""
    folder = shared_folder(Path(path).parent)
    if folder is None:
        return
    info = os.stat(path)
    mode = stat.S_IMODE(info.st_mode) | _GROUP_RW
    if stat.S_ISDIR(info.st_mode):
        mode |= stat.S_IXGRP | (folder.st_mode & stat.S_ISGID)
    try:
        if folder.st_mode & stat.S_ISGID and info.st_gid != folder.st_gid:
            os.chown(path, -1, folder.st_gid)  # Linux does this itself; other systems may not
        if mode != stat.S_IMODE(info.st_mode):
            os.chmod(path, mode)
    except OSError as exc:
        raise CoderError(f"cannot share with the folder's group ({exc.strerror or exc})",
                         path=path) from exc


def make_folders(folder: Path) -> None:
    """``mkdir -p``, each folder made shared like its parent."""
    folder = Path(folder)
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise CoderError(f"cannot make the folder ({exc.strerror or exc})",
                             path=path) from exc
        share_like_folder(path)


def create_shared_file(path: Path) -> None:
    """Create an empty file (if there is none) shared like its folder (a new database)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        return
    os.close(fd)
    share_like_folder(path)


def not_writable(paths: list[Path]) -> CoderError | None:
    """The first of ``paths`` this user cannot write (or, for a missing file, cannot create
    in its folder), as a one-line error naming it and the fix; None when all are fine."""
    for path in paths:
        # Another process's SQLite may be creating a -wal (open, then chmod to the database's
        # mode) or removing it at its last close just now: look again before blaming it.
        for attempt in range(4):
            target = path if path.exists() else path.parent
            if os.access(target, os.W_OK | (os.X_OK if target.is_dir() else 0)):
                break
            if attempt < 3:
                time.sleep(0.05)
                continue
            try:
                return CoderError(f"not writable by you ({_login()}); fix: {_fix(target)}",
                                  path=target)
            except FileNotFoundError:
                break
    return None


def _fix(path: Path) -> str:
    """The command that lets the group write ``path`` (for its owner or an admin to run)."""
    info = os.stat(path)
    mode = "g+wx" if stat.S_ISDIR(info.st_mode) else "g+w"
    if not hasattr(os, "getgroups") or info.st_gid in os.getgroups() \
            or info.st_gid == os.getgid():
        return f"chmod {mode} {path}"
    folder = shared_folder(path.parent) if not path.is_dir() else None
    group = _group_name(folder.st_gid) if folder is not None else "GROUP"
    return f"chgrp {group} {path} && chmod {mode} {path} (its group is not one of yours)"


def _group_name(gid: int) -> str:
    try:
        import grp

        return grp.getgrgid(gid).gr_name
    except (ImportError, KeyError):
        return str(gid)


def _login() -> str:
    from coder.store.db import os_user

    return f"login {os_user()}"
