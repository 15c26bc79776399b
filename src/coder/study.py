"""Finding, creating and configuring a study folder (the one that holds ``coder.toml``)."""

from __future__ import annotations

import contextlib
import getpass
import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from coder.errors import CoderError
from coder.files import write_text
from coder.sharing import make_folders

CONFIG_NAME = "coder.toml"
DB_NAME = "coder.db"
SEGMENTATIONS = ("turn", "paragraph", "sentence")

_TEMPLATE = """\
# A coder study. The database (coder.db) lives beside this file and is not shared by git.
[study]
name = "{name}"
# How transcripts are cut into segments by default: turn, paragraph or sentence.
segmentation = "turn"
# An installed spaCy pipeline to use (e.g. "en_core_web_sm"); empty means the built-in
# blank English pipeline with the lookup lemmatizer. Nothing is ever downloaded.
nlp_model = ""
# The default coder name when neither --coder nor CODER_NAME is given.
# coder = "your-name"
"""


@dataclass(frozen=True)
class Settings:
    name: str
    segmentation: str = "turn"
    nlp_model: str = ""
    coder: str = ""


@dataclass(frozen=True)
class Study:
    """A study folder and its settings."""

    root: Path
    settings: Settings

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    @property
    def transcripts_dir(self) -> Path:
        return self.root / "transcripts"

    @property
    def codebooks_dir(self) -> Path:
        return self.root / "codebooks"

    @property
    def exports_dir(self) -> Path:
        return self.root / "exports"

    def coder_name(self, explicit: str | None = None) -> str:
        """The coder: ``--coder``, else ``CODER_NAME``, else ``coder.toml``, else the login."""
        for candidate in (explicit, os.environ.get("CODER_NAME"), self.settings.coder):
            if candidate and candidate.strip():
                from coder.formatting import check_name

                return check_name(candidate.strip(), "a coder name")
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "coder"


def load_settings(root: Path) -> Settings:
    path = root / CONFIG_NAME
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CoderError(f"not valid TOML ({exc})", path=path) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CoderError(f"cannot read ({exc})", path=path) from exc
    section = data.get("study", {})
    if not isinstance(section, dict):
        raise CoderError("[study] must be a table", path=path)
    unknown = set(section) - {"name", "segmentation", "nlp_model", "coder"}
    if unknown:
        raise CoderError(f"unknown setting(s) in [study]: {', '.join(sorted(unknown))}", path=path)
    for key in ("name", "segmentation", "nlp_model", "coder"):
        if key in section and not isinstance(section[key], str):
            raise CoderError(f"[study] {key} must be a string", path=path)
    segmentation = section.get("segmentation", "turn")
    if segmentation not in SEGMENTATIONS:
        raise CoderError(
            f"segmentation must be one of {', '.join(SEGMENTATIONS)}, not {segmentation!r}",
            path=path,
        )
    return Settings(
        name=section.get("name") or root.name,
        segmentation=segmentation,
        nlp_model=section.get("nlp_model", ""),
        coder=section.get("coder", ""),
    )


def open_study(root: Path) -> Study:
    root = root.resolve()
    if not (root / CONFIG_NAME).is_file():
        raise CoderError(f"not a coder study (no {CONFIG_NAME}); run `coder init`", path=root)
    return Study(root=root, settings=load_settings(root))


def find_study(start: Path | None = None) -> Study:
    """The nearest folder, upward from ``start`` (default: the working directory), with a study."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return open_study(folder)
    raise CoderError(
        f"no {CONFIG_NAME} here or in any parent folder: run `coder init` or pass --study DIR",
        path=here,
    )


def init_study(root: Path, name: str | None = None) -> Study:
    """Create a study folder (or complete one); an existing ``coder.toml`` is kept."""
    root = root.resolve()
    if root.exists() and not root.is_dir():
        raise CoderError("exists and is not a folder", path=root)
    for sub in ("codebooks", "transcripts", "exports"):  # shared like the folder they are in
        make_folders(root / sub)
    config = root / CONFIG_NAME
    if not config.exists():
        title = (name or root.name).replace("\\", "\\\\").replace('"', '\\"')
        write_text(config, _TEMPLATE.format(name=title))
    ignore = root / ".gitignore"
    if not ignore.exists():
        write_text(ignore, f"{DB_NAME}\n{DB_NAME}-wal\n{DB_NAME}-shm\n")
    return open_study(root)


_CREATED = ("codebooks", "transcripts", "exports", CONFIG_NAME, ".gitignore", DB_NAME,
            f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal")


@contextlib.contextmanager
def new_study(root: Path, name: str | None = None) -> Iterator[Study]:
    """Create a study for the block; if the block fails, remove what was created for it.

    Only what did not exist before goes (folders only while empty), so a failed
    ``coder init DIR --from FILE`` leaves DIR as it was, or absent if it was.
    """
    root = root.resolve()
    had_root = root.exists()
    before = {part for part in _CREATED if (root / part).exists()}
    try:
        yield init_study(root, name)
    except BaseException:
        for part in reversed(_CREATED):  # files first, then the folders
            path = root / part
            if part in before or not path.exists():
                continue
            with contextlib.suppress(OSError):
                path.rmdir() if path.is_dir() else path.unlink()
        if not had_root:
            with contextlib.suppress(OSError):
                root.rmdir()
        raise
