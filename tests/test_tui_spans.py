"""Coding words inside a segment in the workbench: keys and mouse, checked in the database."""

from __future__ import annotations

from coder.tui import CoderApp
from coder.tui.widgets.transcript_view import INDENT, TranscriptView
from conftest import open_store, run

SIZE = (120, 40)


def _spans(study, coder: str = "tester") -> list[tuple[int, str, str, str | None]]:
    """(segment, code, the transcript's text between the stored offsets, memo)."""
    with open_store(study) as store:
        return [(r["ordinal"], r["name"], r["words"], r["memo"]) for r in store.rows(
            """SELECT s.ordinal, c.name, g.memo,
                      substr(t.text, g.span_start + 1, g.span_end - g.span_start) AS words
               FROM codings g JOIN segments s ON s.id = g.segment_id
               JOIN transcripts t ON t.id = s.transcript_id JOIN codes c ON c.id = g.code_id
               WHERE g.span_start IS NOT NULL AND g.coder = ? ORDER BY g.span_start""",
            (coder,))]


def _whole(study, coder: str = "tester") -> list[tuple[int, str]]:
    with open_store(study) as store:
        return [(r["ordinal"], r["name"]) for r in store.rows(
            """SELECT s.ordinal, c.name FROM codings g JOIN segments s ON s.id = g.segment_id
               JOIN codes c ON c.id = g.code_id WHERE g.span_start IS NULL AND g.coder = ?""",
            (coder,))]


def _view(app) -> TranscriptView:
    return app.screen.query_one(TranscriptView)


def _selected(app) -> str:
    view = _view(app)
    seg = view.segments[view.current]
    return seg.text[view.span.start:view.span.end] if view.span else ""


async def test_select_words_with_keys_code_them_undo_redo_and_reopen(demo):
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("j", "v")
        assert _selected(app) == "We"
        await pilot.press("w")
        assert _selected(app) == "needed"
        await pilot.press("W", "W", "e")
        assert _selected(app) == "needed more targeted PD"
        await pilot.press("p")  # the code key codes the selection, not the segment
        assert _spans(demo) == [(2, "need targeted PD", "needed more targeted PD", None)]
        assert _whole(demo) == []
        assert next(c["codings"] for c in app.screen.codes if c["name"] == "need targeted PD") == 1
        view = _view(app)
        assert [c[1] for line in view._chips[1] for c in line] == ["› need targeted PD"]
        assert "need targeted PD · tester" in str(
            app.screen.query_one("#code-details").render())
        # The next sentence, grown back by a clause and trimmed by characters.
        await pilot.press("right_parenthesis")
        assert _selected(app) == "Most of it was drive-by workshops."
        await pilot.press("h", "L", "L", "L", "L", "L")
        assert _selected(app) == "of it was drive-by workshops"
        await pilot.press("i")
        assert [s[2] for s in _spans(demo)] == ["needed more targeted PD",
                                                "of it was drive-by workshops"]
        await pilot.press("u")
        assert [s[2] for s in _spans(demo)] == ["needed more targeted PD"]
        await pilot.press("ctrl+y")
        assert [s[2] for s in _spans(demo)] == ["needed more targeted PD",
                                                "of it was drive-by workshops"]
        # Esc leaves the selection; the code key then toggles the whole segment again.
        await pilot.press("escape")
        assert view.span is None
        await pilot.press("p")
        assert _whole(demo) == [(2, "need targeted PD")]
        assert len(_spans(demo)) == 2  # distinct codings
    again = CoderApp(demo.root, "tester")
    async with again.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        seg = _view(again).segments[1]
        assert [seg.text[m.start:m.end] for m in seg.spans] == [
            "needed more targeted PD", "of it was drive-by workshops"]
        assert seg.mine  # and the whole-segment coding


async def test_recoding_overlapping_words_replaces_the_span_and_x_removes_it(demo):
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("j", "v", "w", "W", "p")  # "needed more"
        await pilot.press("W", "W", "p")  # widened: "needed more targeted PD"
        assert _spans(demo) == [(2, "need targeted PD", "needed more targeted PD", None)]
        await pilot.press("p")  # the same code on exactly these words: off again
        assert _spans(demo) == []
        await pilot.press("p", "x")
        assert _spans(demo) == []
        await pilot.press("p", "m")
        await pilot.pause()
        for ch in "key phrase":
            await pilot.press(ch if ch != " " else "space")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert _spans(demo) == [(2, "need targeted PD", "needed more targeted PD",
                                 "key phrase")]
        assert "memo: key phrase" in str(app.screen.query_one("#code-details").render())
        await pilot.press("u")
        assert _spans(demo)[0][3] is None
        # Back onto the coded span, narrowed by a character at each end and re-coded.
        await pilot.press("escape", "semicolon")
        assert _selected(app) == "needed more targeted PD"
        await pilot.press("h", "L", "p")
        assert [s[2] for s in _spans(demo)] == ["eeded more targeted P"]
        await pilot.press("j")  # another segment: the selection ends there
        assert _view(app).span is None


async def test_drag_the_mouse_over_words_and_code_them(demo):
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        view = _view(app)
        text = view.segments[1].text
        a, b = text.index("targeted"), text.index("PD") + 2
        line_start, _ = view._wrapped[1][0]
        y = view._starts[1] + 1 - int(view.scroll_y)  # the first line of ¶2's text
        await pilot.mouse_down(TranscriptView, offset=(INDENT + a - line_start, y))
        await pilot.hover(TranscriptView, offset=(INDENT + b - line_start - 2, y))
        await pilot.mouse_up(TranscriptView, offset=(INDENT + b - line_start, y))
        await pilot.pause()
        assert view.segments[view.current].ordinal == 2
        assert _selected(app) == "targeted PD"
        await pilot.press("t")
        assert _spans(demo) == [(2, "seat-time mandates", "targeted PD", None)]
        # A drag that runs into the next segment stops at this one's end.
        y2 = view._starts[2] + 1 - int(view.scroll_y)
        await pilot.mouse_down(TranscriptView, offset=(INDENT + a - line_start, y))
        await pilot.mouse_up(TranscriptView, offset=(INDENT + 3, y2))
        await pilot.pause()
        assert _selected(app) == text[a:].rstrip()


async def test_v_stays_a_code_key_when_the_codebook_gives_it_one(demo):
    book = demo.codebooks_dir / "pl.yaml"
    book.write_text(book.read_text().replace("key: i\n", "key: v\n"), encoding="utf-8")
    assert run(demo, "sync").exit_code == 0
    with open_store(demo) as store:
        assert store.scalar("SELECT key FROM codes WHERE name = 'islands of innovation'") == "v"
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("v")
        assert _whole(demo) == [(1, "islands of innovation")]
        await pilot.press("shift+right", "v")  # shift+→ selects; v then codes the words
        assert _spans(demo) == [(1, "islands of innovation", "How", None)]


async def test_a_pattern_suggestion_can_be_accepted_as_its_sentence(demo):
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        app.toggle_accept_as_span()
        assert app.accept_as_span
        await pilot.press("j")
        await pilot.pause()
        assert app.screen.current_suggestions[0].code == "need targeted PD"
        await pilot.press("y")
        await pilot.pause()
    # Both patterns matched, in two sentences: each sentence is a span.
    assert _spans(demo) == [
        (2, "need targeted PD", "We needed more targeted PD before the program started.", None),
        (2, "need targeted PD", "Most of it was drive-by workshops.", None)]
    with open_store(demo) as store:
        assert store.scalar("SELECT group_concat(DISTINCT origin) FROM codings") == "suggestion"
        assert store.scalar("SELECT verdict FROM suggestion_feedback") == "accept"


async def test_accept_as_spans_is_remembered_per_coder(demo):
    from coder.store.preferences import get_preference
    from coder.tui.app import ACCEPT_AS_SPAN

    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert not app.accept_as_span  # whole segment is the default
        app.toggle_accept_as_span()
        await pilot.pause()
    with open_store(demo) as store:
        assert get_preference(store, "tester", ACCEPT_AS_SPAN) is True
        assert get_preference(store, "bea", ACCEPT_AS_SPAN) is None
    again = CoderApp(demo.root, "tester")  # reopened: the setting is still on
    async with again.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await again.workers.wait_for_complete()
        assert again.accept_as_span
        await pilot.press("j")
        await pilot.pause()
        assert again.screen.current_suggestions[0].code == "need targeted PD"
        await pilot.press("y")
        await pilot.pause()
    assert [s[2] for s in _spans(demo)] == [
        "We needed more targeted PD before the program started.",
        "Most of it was drive-by workshops."]
    other = CoderApp(demo.root, "bea")  # another coder keeps their own (off)
    async with other.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not other.accept_as_span
        other.toggle_accept_as_span()
        other.toggle_accept_as_span()
        await pilot.pause()
    with open_store(demo) as store:
        assert get_preference(store, "bea", ACCEPT_AS_SPAN) is False
        assert get_preference(store, "tester", ACCEPT_AS_SPAN) is True


async def test_code_keys_do_not_leak_into_the_next_coding_screen(demo):
    """Code keys on letters the screen binds too (v, b, e, …) belong to one screen: after
    the codebook gives v to another code, v toggles that one."""
    book = demo.codebooks_dir / "pl.yaml"
    book.write_text(book.read_text().replace("key: i\n", "key: v\n"), encoding="utf-8")
    assert run(demo, "sync").exit_code == 0
    app = CoderApp(demo.root, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
    book.write_text(book.read_text().replace("key: v\n", "key: i\n")
                    .replace("key: t\n", "key: v\n"), encoding="utf-8")
    assert run(demo, "sync").exit_code == 0
    again = CoderApp(demo.root, "tester")
    async with again.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("v")
    assert _whole(demo) == [(1, "seat-time mandates")]
