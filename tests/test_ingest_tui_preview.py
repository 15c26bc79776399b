"""The workbench's "import new files" shows the import preview before it imports."""

from __future__ import annotations

from coder.tui import CoderApp
from coder.tui.screens.import_preview import ImportPreviewModal
from conftest import open_store
from test_ingest_formats import PODCAST_MD


def _names(study) -> set[str]:
    with open_store(study) as store:
        return {r["name"] for r in store.rows("SELECT name FROM transcripts")}


async def _preview(app, pilot) -> ImportPreviewModal:
    app.preview_sync()
    for _ in range(100):
        await pilot.pause(0.05)
        if isinstance(app.screen, ImportPreviewModal):
            return app.screen
    raise AssertionError("no preview shown")


async def test_new_files_are_previewed_then_imported_on_enter(demo):
    (demo.transcripts_dir / "podcast-42.md").write_text(PODCAST_MD, encoding="utf-8")
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=(120, 40)) as pilot:
        modal = await _preview(app, pilot)
        text = "\n".join(modal.lines)
        assert "transcripts/podcast-42.md" in text and "ephrata-interview" not in text  # new only
        assert "format: Markdown transcript" in text
        assert "Jerod Santo (2 turns, 17 words)" in text
        assert "podcast-42" not in _names(demo)  # nothing written yet
        await pilot.press("enter")
        for _ in range(100):
            await pilot.pause(0.05)
            if "podcast-42" in _names(demo):
                break
    assert "podcast-42" in _names(demo)


async def test_escape_imports_nothing(demo):
    (demo.transcripts_dir / "podcast-42.md").write_text(PODCAST_MD, encoding="utf-8")
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=(120, 40)) as pilot:
        await _preview(app, pilot)
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ImportPreviewModal)
    assert "podcast-42" not in _names(demo)
