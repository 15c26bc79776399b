"""Team commands: agreement, disagreements, merge and reconcile."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import click

from coder.agreement import DEFAULT_THRESHOLD
from coder.commands.base import Context as _Context
from coder.commands.base import local_time as _local_time
from coder.commands.base import print_json as _json
from coder.commands.base import safe_cell, study_options
from coder.commands.base import table as _table
from coder.errors import CoderError
from coder.formatting import plural as n_
from coder.formatting import some

CODERS_HELP = ("Coders to compare, comma-separated (default: everyone who reviewed a segment "
               "in scope, except 'consensus' and 'auto'; with --all-segments also those who "
               "only coded).")
ALL_SEGMENTS_HELP = ("Count segments a coder did not mark reviewed as 'absent' for that coder "
                     "(default: their value there is missing).")
UNIT_DISAGREE_HELP = ("segment: coders differ on whether a segment has a code; character: "
                      "also where they all gave it but on different words.")


def _split(value: str | None) -> list[str] | None:
    if not value:
        return None
    names = [part.strip() for part in value.split(",") if part.strip()]
    return names or None


def _number(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


# -- agreement -------------------------------------------------------------------------------
@click.command("agreement")
@click.option("--coders", help=CODERS_HELP)
@click.option("--codes", multiple=True, help="Only these codes (comma-separated or repeated).")
@click.option("--transcript", "transcripts", multiple=True,
              help="Only this transcript (repeat for several).")
@click.option("--all-segments", is_flag=True, help=ALL_SEGMENTS_HELP)
@click.option("--unit", type=click.Choice(["segment", "character"]), default="segment",
              show_default=True, help="Segments, or characters as NVivo's coding comparison.")
@click.option("--by-transcript", is_flag=True,
              help="Also each transcript's statistics per code (always with --unit character).")
@click.option("--threshold", type=float, default=DEFAULT_THRESHOLD, show_default=True,
              help="Flag codes whose Krippendorff's alpha is below this.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True)
@click.option("--plot", is_flag=False, flag_value="", default=None, metavar="[PATH]",
              help="Also write a heat map PNG of alpha per code and coder pair (default: "
                   "exports/agreement-UNIT.png).")
@study_options
def agreement(ctx: _Context, coders: str | None, codes: tuple[str, ...],
              transcripts: tuple[str, ...], all_segments: bool, unit: str, by_transcript: bool,
              threshold: float, fmt: str, plot: str | None) -> None:
    """Inter-coder agreement per code, exclusive group, transcript and overall.

    A unit is a segment; a coder's value on it is known where that coder marked it
    reviewed. Per code the value is present/absent; the children of an `exclusive` code are
    one nominal variable (a coder giving two of them on one unit is a conflict: that value
    is left out and listed). Percent agreement (all coders with a value agree), Cohen's
    kappa per pair (units both reviewed), Fleiss' kappa (units all reviewed) and
    Krippendorff's alpha (nominal; units at least two reviewed). "Overall" pools every
    unit x code pair into one present/absent variable, and also gives the mean of the
    per-code alphas. An undefined statistic is n/a (null in JSON) with its reason.
    """
    from coder.agreement import columns_for, load
    from coder.agreement.report import agreement_report

    store = ctx.store()
    units = load(store, _split(coders), transcripts=list(transcripts) or None,
                 all_segments=all_segments, unit=unit)
    columns = columns_for(store, units, list(codes) or None)
    report = agreement_report(units, columns, threshold, by_transcript or None)
    if plot is not None:
        from coder.agreement.plot import heatmap
        from coder.agreement.report import pairwise_alpha

        path = Path(plot) if plot else ctx.study.exports_dir / f"agreement-{unit}.png"
        heatmap(report, pairwise_alpha(units, columns), path)
        click.echo(f"Wrote {path}", err=True)
    if fmt == "json":
        return _json(report)
    if fmt == "csv":
        return click.echo(_agreement_csv(report), nl=False)
    _agreement_table(report)


def _pair_columns(report: dict[str, Any]) -> list[str]:
    return list(report["overall"]["pairwise_cohen_kappa"])


def _agreement_table(report: dict[str, Any]) -> None:
    coders, pairs = report["coders"], _pair_columns(report)
    two = len(coders) == 2
    unit = "characters" if report["unit"] == "character" else "segments"
    basis = "every segment (unreviewed = absent)" if report["all_segments"] else \
        "segments each coder reviewed"
    click.echo(f"Coders: {', '.join(coders)}; {report['units']} {unit} with values from two "
               f"or more coders; values from {basis}.")
    inline = two or len(pairs) <= 3
    stat_columns = ["κ"] if two else ["Fleiss κ"] + ([f"κ {p}" for p in pairs] if inline else [])

    def stats(item: dict[str, Any]) -> list[str]:
        kappas = [_number(item["cohen_kappa"])] if two else [_number(item["fleiss_kappa"])] + (
            [_number(item["pairwise_cohen_kappa"][p]) for p in pairs] if inline else [])
        return [_percent(item["percent_agreement"]), *kappas,
                _number(item["krippendorff_alpha"])]

    threshold = report["threshold"]
    if not report["codes"]:
        click.echo("No codes to compare: load a codebook first.")
        return
    _table(f"Codes (▲ alpha below {threshold:g})",
           ["code", "units", "agree", *stat_columns, "α", ""],
           [[c["code"], c["units"], *stats(c), "▲" if c["below_threshold"] else ""]
            for c in report["codes"]])
    if not inline:
        _table("Cohen's kappa per coder pair", ["code", *pairs],
               [[c["code"], *[_number(c["pairwise_cohen_kappa"][p]) for p in pairs]]
                for c in report["codes"]])
    if report["groups"]:
        _table("Exclusive groups (one nominal variable each)",
               ["group", "units", "agree", *stat_columns, "α"],
               [[g["group"], g["units"], *stats(g)] for g in report["groups"]])
    if len(report["transcripts"]) > 1:
        _table("Transcripts (pooled over codes)",
               ["transcript", "units", "cells", "agree", *stat_columns, "α"],
               [[t["transcript"], t["units"], t["cells"], *stats(t)]
                for t in report["transcripts"]])
    if report["transcripts"] and "codes" in report["transcripts"][0]:
        _by_transcript_table(report, stat_columns, stats)
    overall = report["overall"]
    click.echo(f"Overall, pooled over {overall['cells']} unit × code cells: agreement "
               f"{_percent(overall['percent_agreement'])}, "
               + (f"κ {_number(overall['cohen_kappa'])}, " if two else
                  f"Fleiss κ {_number(overall['fleiss_kappa'])}, ")
               + f"α {_number(overall['krippendorff_alpha'])}; mean of per-code α "
               f"{_number(overall['mean_krippendorff_alpha'])} over {overall['codes_in_mean']} "
               f"code{'' if overall['codes_in_mean'] == 1 else 's'}.")
    flagged = [c for c in report["codes"] if c["below_threshold"]]
    if flagged:
        click.echo(f"\nBelow α {threshold:g}: check these definitions with the team.")
        for code in flagged:
            click.echo(f"  ▲ {code['code']} (α {_number(code['krippendorff_alpha'])}): "
                       f"{code['definition'] or '(no definition)'}")
    _notes(report)


def _by_transcript_table(report: dict[str, Any], stat_columns: list[str], stats: Any) -> None:
    rows, hidden = [], 0
    for t in report["transcripts"]:
        for c in t["codes"]:
            if c["krippendorff_alpha"] is None and c["percent_agreement"] in (100.0, None):
                hidden += 1
                continue
            rows.append([t["transcript"], c["code"], c["units"], *stats(c)])
    if not rows:
        return
    title = f"Per transcript and code ({report['unit']}s)"
    if hidden:
        title += f"; {hidden} without variation not shown"
    _table(title, ["transcript", "code", "units", "agree", *stat_columns, "α"], rows)


def _notes(report: dict[str, Any]) -> None:
    undefined: dict[str, list[str]] = {}
    for items, key in ((report["codes"], "code"), (report["groups"], "group")):
        for item in items:
            for stat in ("krippendorff_alpha", "fleiss_kappa"):
                why = item["notes"].get(stat)
                if why:
                    label = "α" if stat == "krippendorff_alpha" else "Fleiss κ"
                    undefined.setdefault(f"{label} n/a ({why})", []).append(item[key])
    for why, names in undefined.items():
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        click.echo(f"{why}: {shown}")
    for conflict in report["conflicts"]:
        click.echo(f"Conflict: {conflict['coder']} gave {' and '.join(conflict['codes'])} "
                   f"(exclusive {conflict['group']!r}) on {conflict['transcript']} "
                   f"¶{conflict['segment']}; left out of that group's statistics.")
    for coder, n in report["ignored_codings"].items():
        click.echo(f"Not counted: {n} codings by {coder} on segments {coder} did not mark "
                   "reviewed (see --all-segments).")


def _agreement_csv(report: dict[str, Any]) -> str:
    pairs = _pair_columns(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["level", "name", "transcript", "units", "cells", "percent_agreement",
                     "cohen_kappa", "fleiss_kappa", "krippendorff_alpha",
                     *[f"cohen_kappa {p}" for p in pairs], "below_threshold", "notes"])

    def row(level: str, name: str, transcript: str, item: dict[str, Any]) -> None:
        notes = "; ".join(f"{k}: {v}" for k, v in item["notes"].items()
                          if isinstance(v, str))
        writer.writerow([level, safe_cell(name), safe_cell(transcript), item["units"],
                         item.get("cells", ""), _csv(item["percent_agreement"]),
                         _csv(item["cohen_kappa"]), _csv(item["fleiss_kappa"]),
                         _csv(item["krippendorff_alpha"]),
                         *[_csv(item["pairwise_cohen_kappa"].get(p)) for p in pairs],
                         int(bool(item.get("below_threshold"))), safe_cell(notes)])

    for code in report["codes"]:
        row("code", code["code"], "", code)
    for group in report["groups"]:
        row("group", group["group"], "", group)
    for t in report["transcripts"]:
        row("transcript", "", t["transcript"], t)
        for code in t.get("codes", []):
            row("transcript code", code["code"], t["transcript"], code)
    row("overall", "", "", report["overall"])
    return buffer.getvalue()


def _csv(value: float | None) -> str:
    return "" if value is None else repr(value)


# -- disagreements ---------------------------------------------------------------------------
@click.command("disagreements")
@click.option("--coders", help=CODERS_HELP)
@click.option("--code", "codes", multiple=True, help="Only this code (repeat for several).")
@click.option("--transcript", "transcripts", multiple=True,
              help="Only this transcript (repeat for several).")
@click.option("--all-segments", is_flag=True, help=ALL_SEGMENTS_HELP)
@click.option("--unit", type=click.Choice(["segment", "character"]), default="segment",
              show_default=True, help=UNIT_DISAGREE_HELP)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True)
@study_options
def disagreements(ctx: _Context, coders: str | None, codes: tuple[str, ...],
                  transcripts: tuple[str, ...], all_segments: bool, unit: str,
                  fmt: str) -> None:
    """Each segment and code where the coders who reviewed it differ: who applied it, who
    reviewed the segment without it, who did not review it. With --unit character also
    where they all gave the code but on different words (each coder's words shown)."""
    from coder.agreement import load, resolve_codes
    from coder.agreement.disagreements import find_disagreements
    from coder.store.agreement import segment_details

    store = ctx.store()
    units = load(store, _split(coders), transcripts=list(transcripts) or None,
                 all_segments=all_segments)
    ids = resolve_codes(store, list(codes) or None)
    columns = None if ids is None else [units.code_index[i] for i in ids]
    differ = None
    if unit == "character":
        from coder.agreement.span_differences import span_differences

        differ = span_differences(store, units, columns)
    rows = find_disagreements(units, columns, differ)
    texts = segment_details(store, [r["segment_id"] for r in rows])
    keys = ("transcript", "segment", "code", "applied_by", "not_applied_by", "not_reviewed")
    for r in rows:
        r["words"] = _span_words(texts[r["segment_id"]]["text"], r.get("spans"))
    if fmt == "json":
        return _json([{**{k: r[k] for k in keys}, "text": texts[r["segment_id"]]["text"],
                       **({"words": r["words"]} if unit == "character" else {})}
                      for r in rows])
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([*keys, "text", *(["words"] if unit == "character" else [])])
        for r in rows:
            writer.writerow([safe_cell(r["transcript"]), r["segment"], safe_cell(r["code"]),
                             *[safe_cell(" ".join(r[k])) for k in keys[3:]],
                             safe_cell(texts[r["segment_id"]]["text"]),
                             *([safe_cell(_words_line(r["words"]))] if unit == "character"
                               else [])])
        return click.echo(buffer.getvalue(), nl=False)
    if not rows:
        click.echo(f"No disagreements between {', '.join(units.coders)}.")
        return
    segments = len({r["segment_id"] for r in rows})
    who = ", ".join(units.coders)
    _table(f"{n_(len(rows), 'disagreement')} on {n_(segments, 'segment')} ({who})",
           ["transcript", "segment", "code", "applied by", "not by", "not reviewed",
            "text" if unit == "segment" else "text, or each coder's words"],
           [[r["transcript"], r["segment"], r["code"], ", ".join(r["applied_by"]),
             ", ".join(r["not_applied_by"]), ", ".join(r["not_reviewed"]),
             _words_line(r["words"], 40) if r["words"] else
             _excerpt(texts[r["segment_id"]]["text"])] for r in rows])


def _span_words(text: str, cover: dict[str, list[tuple[int, int]]] | None
                ) -> dict[str, list[str]]:
    """Each coder's words, where coders gave a code on different words (else empty)."""
    from coder.agreement.span_differences import words

    return {coder: words(text, spans) for coder, spans in (cover or {}).items()}


def _words_line(words: dict[str, list[str]], width: int = 0) -> str:
    """``ana: “…” | bea: “…”``, each quote cut to ``width`` characters (0: whole)."""
    from coder.agreement.span_differences import WHOLE

    return " | ".join(f"{coder}: " + " ".join(
        w if w == WHOLE else f"“{_excerpt(w, width) if width else w}”" for w in spans)
        for coder, spans in words.items())


def _excerpt(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


# -- merge -----------------------------------------------------------------------------------
@click.command("merge")
@click.argument("other", type=click.Path(path_type=Path))
@click.option("--coder-map", "coder_map", multiple=True, metavar="OLD=NEW",
              help="Bring the other study's coder OLD in as NEW (repeat for several).")
@click.option("--dry-run", is_flag=True, help="Report what would be merged; change nothing.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@study_options
def merge(ctx: _Context, other: Path, coder_map: tuple[str, ...], dry_run: bool,
          fmt: str) -> None:
    """Merge another copy of the study (a study folder or its coder.db) into this one.

    Brings in its coders' codings, reviewed marks, memos, reconciliation trail and the codes
    this study lacks. Transcripts match by content hash, segments by offsets, codes by name
    (renames recorded in either event log are followed). Whatever cannot be matched is
    listed as a conflict; merging the same copy again changes nothing. The other database
    is only read.
    """
    from coder.store.merge import merge_study

    mapping: dict[str, str] = {}
    for item in coder_map:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise CoderError(f"--coder-map takes OLD=NEW, not {item!r}")
        mapping[old.strip()] = new.strip()
    store = ctx.store("merge")
    if dry_run:
        report = merge_study(store, other, coder_map=mapping, dry_run=True)
    else:
        from coder.store.backup import before

        with before(store, "merge"):
            report = merge_study(store, other, coder_map=mapping, dry_run=False)
    if fmt == "json":
        return _json({**report.as_dict(), "dry_run": dry_run})
    verb = "Would merge" if dry_run else "Merged"
    if not report.changed:
        click.echo(f"Nothing new to merge from {other} ({report.transcripts_matched} "
                   "transcripts matched).")
    else:
        renamed = {k: v for k, v in report.coders.items() if k != v}
        click.echo(f"{verb} {other}: {n_(report.codings_added, 'coding')}, "
                   f"{n_(report.reviewed_added, 'reviewed mark')}, "
                   f"{n_(report.memos_added, 'memo')}, {n_(len(report.codes_added), 'code')}"
                   + (f", {n_(report.decisions_added, 'consensus decision')}"
                      if report.decisions_added else "")
                   + (f", {n_(report.media_linked, 'recording link')}"
                      if report.media_linked else "")
                   + (f", {n_(report.times_set, 'segment time')}"
                      if report.times_set else "")
                   + f" from coders {some(list(report.coders.values())) or 'none'}"
                   + (" (" + some([f"{k} as {v}" for k, v in renamed.items()]) + ")"
                      if renamed else "")
                   + f"; {report.transcripts_matched} transcripts matched, "
                   f"{report.codings_present} codings were already here.")
    if report.codes_added:
        click.echo(f"New codes: {some(report.codes_added, 50)}")
    for note in report.notes:
        click.echo(f"Note: {note}")
    for conflict in report.conflicts:
        click.echo(f"Conflict ({conflict.kind}): {conflict.message}")


# -- reconcile -------------------------------------------------------------------------------
@click.command("reconcile")
@click.option("--coders", help=CODERS_HELP)
@click.option("--consensus", default="consensus", show_default=True,
              help="The coder that holds the consensus codings.")
@click.option("--transcript", "transcripts", multiple=True,
              help="Only this transcript (repeat for several).")
@click.option("--code", help="Only disagreements on this code (and its children).")
@click.option("--auto-agree", is_flag=True,
              help="Copy unanimous codings to the consensus (segments every coder reviewed).")
@click.option("--segment", "segment_ref", nargs=2, metavar="TRANSCRIPT N",
              help="Decide this segment (with --take or --set).")
@click.option("--take", help="A coder's name (their codes), 'both' (everyone's codes) or "
                             "'none' (only the codes every coder gave).")
@click.option("--set", "set_codes", help="Exactly these codes, comma-separated ('' for none).")
@click.option("--note", default="", help="Why: kept in the reconciliation trail.")
@click.option("--list", "list_", is_flag=True, help="List the disagreements still to decide.")
@click.option("--trail", is_flag=True, help="Show the reconciliation trail.")
@click.option("--unit", type=click.Choice(["segment", "character"]), default="segment",
              show_default=True, help=UNIT_DISAGREE_HELP)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@study_options
def reconcile(ctx: _Context, coders: str | None, consensus: str, transcripts: tuple[str, ...],
              code: str | None, auto_agree: bool, segment_ref: tuple[str, str] | None,
              take: str | None, set_codes: str | None, note: str, list_: bool, trail: bool,
              unit: str, fmt: str) -> None:
    """Settle the consensus coding, with a trail of who decided what and why.

    Decisions are codings of the consensus coder (origin 'consensus'); a decided segment is
    one the consensus coder has reviewed. Always ends with the progress: disagreements
    decided and remaining.
    """
    from coder import reconcile as core

    store = ctx.store("reconcile")
    who = _split(coders)
    scope = list(transcripts) or None
    out: dict[str, Any] = {}
    if auto_agree:
        result = core.auto_agree(store, who, adjudicator=ctx.coder, consensus=consensus,
                                 transcript=scope, unit=unit)
        out["auto_agree"] = result.__dict__
        if fmt == "table":
            click.echo(f"Auto-agree ({', '.join(result.coders)}): {result.decided} unanimous "
                       f"segments decided, {result.codings_added} codings copied to "
                       f"{consensus}, {result.partial} segments with partly shared codes "
                       f"(shared codes copied, still to decide), {result.already_decided} "
                       "already decided.")
    if segment_ref:
        out["decision"] = _decide(ctx, store, segment_ref, who, consensus, code, take,
                                  set_codes, note, fmt)
    elif take or set_codes is not None:
        raise CoderError("--take and --set need --segment TRANSCRIPT N")
    if list_:
        items = core.list_disagreements(store, who, code, scope, consensus=consensus,
                                        pending_only=True, unit=unit)
        out["pending"] = [_pending_json(store, d) for d in items]
        if fmt == "table":
            _pending_table(out["pending"])
    if trail:
        out["trail"] = core.trail(store, consensus=consensus)
        if fmt == "table":
            _table("Reconciliation trail", ["when", "where", "by", "how", "codes", "note"],
                   [[_local_time(r["decided_at"]), f"{r['transcript']} ¶{r['ordinal']}",
                     r["adjudicator"],
                     r["method"], ", ".join(r["codes"]) or "(none)", r["note"]]
                    for r in out["trail"]])
    state = core.progress(store, who, code, scope, consensus=consensus, unit=unit)
    out["progress"] = state.as_dict()
    if fmt == "json":
        return _json(out)
    click.echo(f"Progress ({', '.join(state.coders)} → {consensus}): {state.decided} of "
               f"{state.disagreements} disagreements decided, {state.remaining} remaining; "
               f"{state.agreed} of {state.units} segments agreed"
               + (f" ({state.unanimous_pending} unanimous not yet copied: --auto-agree)"
                  if state.unanimous_pending else "") + ".")


def _decide(ctx: _Context, store: Any, segment_ref: tuple[str, str], who: list[str] | None,
            consensus: str, code: str | None, take: str | None, set_codes: str | None,
            note: str, fmt: str) -> dict[str, Any]:
    from coder import reconcile as core
    from coder.store.transcripts import segment_id

    if (take is None) == (set_codes is None):
        raise CoderError("give one of --take and --set with --segment")
    try:
        ordinal = int(segment_ref[1])
    except ValueError:
        raise CoderError(f"--segment takes a transcript and a segment number, not "
                         f"{segment_ref[1]!r}") from None
    _, seg = segment_id(store, segment_ref[0], ordinal)
    if set_codes is not None:
        from coder.agreement import resolve_codes

        codes = set(resolve_codes(store, [set_codes]) or []) if set_codes.strip() else set()
    else:
        item = core.load_segment(store, seg, who, consensus=consensus)
        scope = None
        if code:
            scope = set(core.code_scope(store, code))
        assert take is not None  # exactly one of --take and --set, checked above
        codes = core.proposal(item, take, scope)
    decision = core.decide(store, seg, codes, adjudicator=ctx.coder, note=note,
                           consensus=consensus, spans_from=take if take and set_codes is None
                           and take not in (*core.UNION, core.AGREED) else None)
    names = core.names_of(store, decision.codes)
    if fmt == "table":
        changes = []
        if decision.added:
            changes.append("added " + ", ".join(core.names_of(store, decision.added)))
        if decision.removed:
            changes.append("removed " + ", ".join(core.names_of(store, decision.removed)))
        click.echo(f"Decided {segment_ref[0]} ¶{ordinal}: {consensus} has "
                   f"{', '.join(repr(n) for n in names) or 'no codes'}"
                   + (f" ({'; '.join(changes)})" if changes else " (unchanged)"))
    return {**decision.__dict__, "code_names": names}


def _pending_json(store: Any, item: Any) -> dict[str, Any]:
    from coder import reconcile as core

    return {"transcript": item.transcript, "segment": item.ordinal, "speaker": item.speaker,
            "text": item.text, "agreed": core.names_of(store, item.agreed),
            "disputed": core.names_of(store, item.disputed),
            "disputed_words": core.names_of(store, item.span_disputed),
            "coders": {c: {"reviewed": w.reviewed, "codes": core.names_of(store, w.codes),
                           "memo": w.memo,
                           "spans": [{"code": core.names_of(store, [k])[0], "start": a,
                                      "end": b, "text": item.text[a:b]}
                                     for k, a, b in w.spans]}
                       for c, w in item.coders.items()}}


def _pending_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        click.echo("No disagreements left to decide.")
        return
    coders = list(rows[0]["coders"])
    _table(f"{len(rows)} disagreements to decide", ["where", "disputed", *coders, "text"],
           [[f"{r['transcript']} ¶{r['segment']}",
             ", ".join([*r["disputed"], *(f"{n} (words)" for n in r["disputed_words"])]),
             *[_work_cell(r, c) if r["coders"][c]["reviewed"] else "(not reviewed)"
               for c in coders], _excerpt(r["text"], 50)]
            for r in rows])


def _work_cell(row: dict[str, Any], coder: str) -> str:
    """A coder's codes; for a code disputed on its words, the words they coded it on."""
    from coder.agreement.span_differences import WHOLE

    work = row["coders"][coder]
    cells = []
    for name in work["codes"]:
        if name in row["disputed_words"]:
            spans = [s["text"] for s in work["spans"] if s["code"] == name]
            words = " ".join(f"“{_excerpt(w, 30)}”" for w in spans) if spans else WHOLE
            cells.append(f"{name}: {words}")
        else:
            cells.append(name)
    return ", ".join(cells)


def register(group: click.Group) -> None:
    """Add the team commands to the `coder` group."""
    for command in (agreement, disagreements, merge, reconcile):
        group.add_command(command)
