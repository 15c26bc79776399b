"""Bring a study's database up to date with its own `transcripts/` and `codebooks/` folders.

Every workbench syncs when it opens, so on a shared server many may sync at once. The check
runs as a read (no lock, so any number at once); the write lock is taken only when the
folders hold something new, and the work is then done again under the lock, because another
process may have done it meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from coder.codebook import load_codebook
from coder.importer import ImportOptions, Outcome, import_paths
from coder.store.codes import CodebookChanges, apply_codebook
from coder.store.db import Store, WouldWrite
from coder.study import Study


@dataclass
class SyncResult:
    transcripts: list[Outcome] = field(default_factory=list)
    codebooks: dict[str, CodebookChanges] = field(default_factory=dict)
    wrote: bool = False  # the write lock was taken (the read-only check found changes)

    @property
    def changed(self) -> bool:
        return any(o.status != "unchanged" for o in self.transcripts) or any(
            c.added or c.updated for c in self.codebooks.values())


def sync_study(store: Store, study: Study) -> SyncResult:
    """Load every codebook in `codebooks/` and import new or changed files in `transcripts/`.

    Changed transcripts are replaced, keeping the codings of unchanged segments: the
    folder is the study's source of truth. One transaction for everything, and none at all
    (no write lock) when nothing changed.
    """
    try:
        with store.probe():
            return _sync(store, study)
    except WouldWrite:
        pass
    result = _sync(store, study)
    result.wrote = True
    return result


def _sync(store: Store, study: Study) -> SyncResult:
    result = SyncResult()
    with store.transaction("sync"):
        if study.codebooks_dir.is_dir():
            for path in sorted(study.codebooks_dir.glob("*.y*ml")):
                specs = load_codebook(path)
                result.codebooks[path.name] = apply_codebook(store, specs, source=path.name)
        if study.transcripts_dir.is_dir():
            options = ImportOptions(segmentation=study.settings.segmentation, replace=True)
            result.transcripts = import_paths(store, study, [study.transcripts_dir], options)
    return result
