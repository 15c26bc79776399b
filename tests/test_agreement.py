"""Agreement on real studies: units from reviewed marks, exclusive groups, character level,
the CLI's JSON, CSV, table and heat map, and the disagreements listing."""

from __future__ import annotations

import json
import random
import warnings
from itertools import combinations

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss

from coder.agreement import compute_agreement
from coder.store.codings import apply_coding, mark_reviewed
from coder.store.transcripts import SegmentRow, insert_transcript
from conftest import open_store, run

TEAM_CODEBOOK = """\
codes:
  - name: leadership
    definition: How leaders set direction.
    children:
      - name: vision
        definition: Talk about a shared vision.
      - name: support
        definition: Leaders giving teachers cover.
  - name: stance on PD
    definition: The speaker's verdict on PD. Apply exactly one child.
    exclusive: true
    children:
      - name: PD effective
      - name: PD insufficient
  - name: equity
    definition: Fairness of access and outcomes.
  - name: unused
    definition: Nobody applies this code.
"""
CODERS = ("ana", "ben", "cy")


def _transcript(turns: int) -> str:
    lines = []
    for n in range(turns):
        speaker = "Interviewer" if n % 2 == 0 else "Dr. Jane Roe"
        lines.append(f"{speaker}: Turn {n} talks about planning time and shared vision {n}.\n")
    return "\n".join(lines)


@pytest.fixture
def team(study):
    """A study with two transcripts of 30 turns and the team codebook, synced."""
    for name in ("alpha", "beta"):
        (study.transcripts_dir / f"{name}.md").write_text(_transcript(30), encoding="utf-8")
    (study.codebooks_dir / "team.yaml").write_text(TEAM_CODEBOOK, encoding="utf-8")
    result = run(study, "sync")
    assert result.exit_code == 0, result.output
    return study


def fill(study, seed: int, *, reviewed: float = 0.8, conflicts: bool = True) -> None:
    """Random reviewed marks and codings by ana, ben and cy (with agreement above chance)."""
    rng = random.Random(seed)
    with open_store(study) as store, store.transaction("fill"):
        segments = [r["id"] for r in store.rows("SELECT id FROM segments ORDER BY id")]
        codes = {r["name"]: r["id"] for r in store.rows("SELECT id, name FROM codes")}
        usable = [c for n, c in codes.items() if n not in ("unused", "stance on PD",
                                                            "PD effective", "PD insufficient")]
        stance = [codes["PD effective"], codes["PD insufficient"]]
        for seg in segments:
            truth = {c for c in usable if rng.random() < 0.3}
            verdict = rng.choice([None, *stance])
            for coder in CODERS:
                if rng.random() < reviewed:
                    mark_reviewed(store, [seg], coder=coder)
                for code in usable:
                    if (code in truth) != (rng.random() < 0.2):
                        apply_coding(store, seg, code, coder=coder)
                mine = verdict if rng.random() < 0.75 else rng.choice([None, *stance])
                if mine:
                    apply_coding(store, seg, mine, coder=coder)
                if conflicts and rng.random() < 0.03:
                    for code in stance:
                        conflicting_coding(store, seg, code, coder)


def conflicting_coding(store, segment: int, code: int, coder: str) -> None:
    """A coding as merged or imported data can hold it: two choices of one exclusive group
    (the workbench and `coder code apply` replace the other choice instead)."""
    store.execute("INSERT OR IGNORE INTO codings (segment_id, code_id, coder, origin, "
                  "created_at) VALUES (?,?,?,'import','')", (segment, code, coder))


# -- an independent reconstruction of the reliability data, straight from SQL -------------
def reliability_data(study, coders, *, all_segments: bool = False):
    """{code name: (coders x units) matrix with NaN}, plus the exclusive group's matrix."""
    with open_store(study) as store:
        segments = [r["id"] for r in store.rows(
            """SELECT s.id FROM segments s JOIN transcripts t ON t.id = s.transcript_id
               ORDER BY t.name, s.ordinal""")]
        codes = store.rows("SELECT id, name FROM codes ORDER BY position, id")
        reviewed = {(r["segment_id"], r["coder"]) for r in store.rows("SELECT * FROM reviewed")}
        coded = {(r["segment_id"], r["code_id"], r["coder"])
                 for r in store.rows("SELECT * FROM codings")}
        stance = [r["id"] for r in store.rows(
            """SELECT c.id FROM codes c JOIN codes p ON p.id = c.parent_id
               WHERE p.name = 'stance on PD' ORDER BY c.position, c.id""")]
    out = {}
    for code in codes:
        out[code["name"]] = np.array([[
            (1.0 if (s, code["id"], c) in coded else 0.0)
            if all_segments or (s, c) in reviewed else np.nan for s in segments]
            for c in coders])
    group = np.full((len(coders), len(segments)), np.nan)
    for i, c in enumerate(coders):
        for j, s in enumerate(segments):
            if not (all_segments or (s, c) in reviewed):
                continue
            given = [k for k, code in enumerate(stance) if (s, code, c) in coded]
            group[i, j] = np.nan if len(given) > 1 else (given[0] + 1 if given else 0)
    return out, group


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = function(*args, **kwargs)
        except ValueError:
            return None
    return None if value is None or np.isnan(value) else value


def check(entry: dict, data: np.ndarray, coders) -> None:
    """An entry of the report equals the reference libraries on the same matrix."""
    assert entry["krippendorff_alpha"] == pytest.approx(
        _quiet(krippendorff.alpha, data, level_of_measurement="nominal"), abs=1e-12)
    complete = ~np.isnan(data).any(axis=0)
    fleiss = None
    if complete.any():
        fleiss = _quiet(statsmodels_fleiss, aggregate_raters(data[:, complete].T.astype(int))[0])
    assert entry["fleiss_kappa"] == pytest.approx(fleiss, abs=1e-12)
    for a, b in combinations(range(len(coders)), 2):
        both = ~np.isnan(data[a]) & ~np.isnan(data[b])
        kappa = _quiet(cohen_kappa_score, data[a, both], data[b, both]) if both.any() else None
        assert entry["pairwise_cohen_kappa"][f"{coders[a]}|{coders[b]}"] == pytest.approx(
            kappa, abs=1e-12)
    shared = [col[~np.isnan(col)] for col in data.T if (~np.isnan(col)).sum() >= 2]
    assert entry["units"] == len(shared)
    if shared:
        assert entry["percent_agreement"] == pytest.approx(
            100 * np.mean([len(set(c)) == 1 for c in shared]))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("all_segments", [False, True])
def test_report_equals_reference_libraries_on_study_data(team, seed: int,
                                                         all_segments: bool) -> None:
    fill(team, seed, reviewed=0.5 + 0.1 * seed)
    with open_store(team) as store:
        report = compute_agreement(store, all_segments=all_segments)
    coders = report["coders"]
    assert coders == list(CODERS)
    matrices, group = reliability_data(team, coders, all_segments=all_segments)
    for entry in report["codes"]:
        check(entry, matrices[entry["code"]], coders)
    (stance,) = report["groups"]
    check(stance, group, coders)
    pooled = np.concatenate([matrices[c["code"]] for c in report["codes"]], axis=1)
    overall = report["overall"]
    check({**overall, "units": overall["cells"]}, pooled, coders)
    alphas = [c["krippendorff_alpha"] for c in report["codes"] if c["krippendorff_alpha"]
              is not None]
    assert overall["mean_krippendorff_alpha"] == pytest.approx(np.mean(alphas))


def test_two_coders_give_cohens_kappa_and_a_subset_of_codes_and_transcripts(team) -> None:
    fill(team, 7)
    with open_store(team) as store:
        report = compute_agreement(store, ["ana", "cy"], codes=["vision", "equity"],
                                   transcripts=["beta"])
    matrices, _ = reliability_data(team, ["ana", "cy"])
    beta = slice(30, 60)  # alpha's 30 segments come first
    assert [c["code"] for c in report["codes"]] == ["vision", "equity"]
    for entry in report["codes"]:
        data = matrices[entry["code"]][:, beta]
        check(entry, data, ["ana", "cy"])
        assert entry["cohen_kappa"] == entry["pairwise_cohen_kappa"]["ana|cy"]
    assert [t["transcript"] for t in report["transcripts"]] == ["beta"]
    assert report["groups"] == []  # no code of the exclusive group was selected


def test_exclusive_conflicts_are_listed_and_left_out(team) -> None:
    with open_store(team) as store, store.transaction("setup"):
        seg = store.scalar("SELECT id FROM segments ORDER BY id LIMIT 1")
        codes = {r["name"]: r["id"] for r in store.rows("SELECT id, name FROM codes")}
        for coder in ("ana", "ben"):
            mark_reviewed(store, [seg], coder=coder)
        conflicting_coding(store, seg, codes["PD effective"], "ana")
        conflicting_coding(store, seg, codes["PD insufficient"], "ana")
        apply_coding(store, seg, codes["PD effective"], coder="ben")
    with open_store(team) as store:
        report = compute_agreement(store)
    assert report["conflicts"] == [{"group": "stance on PD", "coder": "ana",
                                    "transcript": "alpha", "segment": 1,
                                    "codes": ["PD effective", "PD insufficient"]}]
    (group,) = report["groups"]
    assert group["units"] == 0  # ana's value is missing: one value left, nothing to compare
    assert group["krippendorff_alpha"] is None
    assert group["notes"]["krippendorff_alpha"] == "no unit has values from two coders"


def test_codings_on_unreviewed_segments_are_not_counted_but_reported(team) -> None:
    with open_store(team) as store, store.transaction("setup"):
        segs = [r["id"] for r in store.rows("SELECT id FROM segments ORDER BY id LIMIT 3")]
        code = store.scalar("SELECT id FROM codes WHERE name = 'equity'")
        mark_reviewed(store, segs[:2], coder="ana")
        mark_reviewed(store, segs[:2], coder="ben")
        apply_coding(store, segs[0], code, coder="ana")
        apply_coding(store, segs[0], code, coder="ben")
        apply_coding(store, segs[2], code, coder="ben", origin="import")  # not reviewed
    with open_store(team) as store:
        report = compute_agreement(store, codes=["equity"])
        everything = compute_agreement(store, codes=["equity"], all_segments=True)
    assert report["units"] == 2 and report["ignored_codings"] == {"ben": 1}
    assert report["codes"][0]["percent_agreement"] == 100.0
    assert report["codes"][0]["cohen_kappa"] == 1.0
    assert everything["units"] == 60 and everything["ignored_codings"] == {}
    assert everything["codes"][0]["percent_agreement"] == pytest.approx(100 * 59 / 60)


# -- character level -------------------------------------------------------------------------
def test_character_level_on_a_hand_checked_example(study) -> None:
    """Two segments of 50 characters with a 2-character gap between them (not a unit).

    Code X: ana covers [0, 40) (a span), ben [20, 50) (a span). Over the 100 characters of
    the segments: both 20, ana only 20, ben only 10, neither 50: agreement 70%,
    kappa = (0.70 - 0.54) / (1 - 0.54) = 0.3478 (chance 0.4 x 0.3 + 0.6 x 0.7 = 0.54).
    Code Y: ana codes segment 2 without a span (all of [52, 102)), ben [52, 77): both 25,
    ana only 25, neither 50: agreement 75%, kappa = (0.75 - 0.5) / (1 - 0.5) = 0.5.
    """
    text = "a" * 50 + "\n\n" + "b" * 50
    with open_store(study) as store, store.transaction("setup"):
        insert_transcript(store, name="spans", source_path="spans.txt", sha256="0" * 64,
                          fmt="txt", segmentation="turn", metadata={}, text=text, segments=[
                              SegmentRow(1, None, 0, 50, None, None, text[:50]),
                              SegmentRow(2, None, 52, 102, None, None, text[52:])])
        seg1, seg2 = [r["id"] for r in store.rows("SELECT id FROM segments ORDER BY ordinal")]
        x = store.execute("INSERT INTO codes (name, created_at) VALUES ('X', '')").lastrowid
        y = store.execute("INSERT INTO codes (name, created_at) VALUES ('Y', '')").lastrowid
        for coder in ("ana", "ben"):
            mark_reviewed(store, [seg1, seg2], coder=coder)
        apply_coding(store, seg1, x, coder="ana", span=(0, 40))
        apply_coding(store, seg1, x, coder="ben", span=(20, 50))
        apply_coding(store, seg2, y, coder="ana")
        apply_coding(store, seg2, y, coder="ben", span=(52, 77))
    result = run(study, "agreement", "--unit", "character", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["unit"] == "character" and report["units"] == 100
    by_code = {c["code"]: c for c in report["codes"]}
    assert by_code["X"]["percent_agreement"] == pytest.approx(70.0)
    assert by_code["X"]["cohen_kappa"] == pytest.approx(0.16 / 0.46)
    assert by_code["Y"]["percent_agreement"] == pytest.approx(75.0)
    assert by_code["Y"]["cohen_kappa"] == pytest.approx(0.5)
    # The same by brute force over single characters with scikit-learn.
    ana = np.zeros(100, dtype=int)
    ben = np.zeros(100, dtype=int)
    ana[0:40], ben[20:50] = 1, 1
    assert by_code["X"]["cohen_kappa"] == pytest.approx(cohen_kappa_score(ana, ben))
    (spans,) = report["transcripts"]
    assert {c["code"]: c["units"] for c in spans["codes"]} == {"X": 100, "Y": 100}
    # By segment the same codings agree perfectly: both gave X on 1 and Y on 2.
    by_segment = json.loads(run(study, "agreement", "--format", "json").output)
    assert [c["cohen_kappa"] for c in by_segment["codes"]] == [1.0, 1.0]


def test_character_level_counts_only_reviewed_segments_unless_all_segments(study) -> None:
    text = "x" * 30
    with open_store(study) as store, store.transaction("setup"):
        insert_transcript(store, name="t", source_path="t.txt", sha256="1" * 64, fmt="txt",
                          segmentation="turn", metadata={}, text=text, segments=[
                              SegmentRow(1, None, 0, 10, None, None, text[:10]),
                              SegmentRow(2, None, 10, 30, None, None, text[10:])])
        seg1, seg2 = [r["id"] for r in store.rows("SELECT id FROM segments ORDER BY ordinal")]
        code = store.execute("INSERT INTO codes (name, created_at) VALUES ('X', '')").lastrowid
        mark_reviewed(store, [seg1], coder="ana")
        mark_reviewed(store, [seg1], coder="ben")
        apply_coding(store, seg1, code, coder="ana", span=(0, 5))
        apply_coding(store, seg2, code, coder="ben", origin="import")  # not reviewed
    with open_store(study) as store:
        reviewed = compute_agreement(store, unit="character")
        everything = compute_agreement(store, unit="character", all_segments=True)
    assert reviewed["units"] == 10
    assert reviewed["codes"][0]["percent_agreement"] == pytest.approx(50.0)
    assert reviewed["ignored_codings"] == {"ben": 1}
    assert everything["units"] == 30
    assert everything["codes"][0]["percent_agreement"] == pytest.approx(100 * 5 / 30)


# -- the command line ------------------------------------------------------------------------
CODE_KEYS = {"code", "units", "percent_agreement", "cohen_kappa", "pairwise_cohen_kappa",
             "fleiss_kappa", "krippendorff_alpha"}
GROUP_KEYS = {"group", "units", "percent_agreement", "fleiss_kappa", "krippendorff_alpha"}


def _strict_json(text: str):
    def refuse(value: str):
        raise AssertionError(f"{value} in JSON")

    return json.loads(text, parse_constant=refuse)


def test_agreement_json_has_the_documented_shape_and_no_nan(team) -> None:
    fill(team, 3)
    result = run(team, "agreement", "--format", "json")
    assert result.exit_code == 0, result.output
    report = _strict_json(result.output)
    assert {"coders", "units", "codes", "groups", "overall"} <= set(report)
    assert report["coders"] == ["ana", "ben", "cy"]
    assert isinstance(report["units"], int)
    for code in report["codes"]:
        assert set(code) >= CODE_KEYS
        assert set(code["pairwise_cohen_kappa"]) == {"ana|ben", "ana|cy", "ben|cy"}
        assert code["cohen_kappa"] is None and "cohen_kappa" in code["notes"]
    assert set(report["groups"][0]) >= GROUP_KEYS
    assert report["groups"][0]["group"] == "stance on PD"
    assert {"units", "cells", "percent_agreement", "krippendorff_alpha",
            "mean_krippendorff_alpha", "definition"} <= set(report["overall"])
    unused = next(c for c in report["codes"] if c["code"] == "unused")
    assert unused["krippendorff_alpha"] is None and unused["fleiss_kappa"] is None
    assert unused["notes"]["krippendorff_alpha"].startswith("no variation")
    assert unused["percent_agreement"] == 100.0


def test_undefined_statistics_are_null_with_reasons_in_json(team) -> None:
    with open_store(team) as store, store.transaction("setup"):
        segs = [r["id"] for r in store.rows("SELECT id FROM segments ORDER BY id LIMIT 4")]
        mark_reviewed(store, segs[:2], coder="ana")
        mark_reviewed(store, segs[2:], coder="ben")  # no segment in common
    result = run(team, "agreement", "--format", "json", "--codes", "equity")
    report = _strict_json(result.output)
    (equity,) = report["codes"]
    assert report["units"] == 0
    assert equity["percent_agreement"] is None and equity["cohen_kappa"] is None
    assert equity["notes"]["cohen_kappa"] == "the two coders have no unit in common"
    assert equity["notes"]["krippendorff_alpha"] == "no unit has values from two coders"
    assert report["overall"]["mean_krippendorff_alpha"] is None


def test_agreement_table_flags_codes_below_threshold_with_definitions(team) -> None:
    fill(team, 5)
    result = run(team, "agreement", "--threshold", "0.99")
    assert result.exit_code == 0, result.output
    assert "Below α 0.99" in result.output
    assert "▲ equity" in result.output and "Fairness of access and outcomes." in result.output
    assert "Exclusive groups" in result.output and "Overall, pooled" in result.output


def test_agreement_csv_and_heat_map(team) -> None:
    fill(team, 6)
    result = run(team, "agreement", "--format", "csv", "--plot", "--coders", "ana,ben")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("level,name,transcript,units,cells,percent_agreement")
    assert any(line.startswith("overall,") for line in lines)
    assert any(line.startswith("group,stance on PD,") for line in lines)
    png = team.exports_dir / "agreement-segment.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    own = team.root / "alpha.png"
    assert run(team, "agreement", "--plot", str(own)).exit_code == 0
    assert own.stat().st_size > 1000


def test_agreement_needs_two_coders_and_known_names(team) -> None:
    result = run(team, "agreement")
    assert result.exit_code == 1
    assert "agreement needs at least two coders" in result.output
    fill(team, 1)
    result = run(team, "agreement", "--coders", "ana,zoe")
    assert result.exit_code == 1 and "no work by coder(s) zoe" in result.output
    result = run(team, "agreement", "--codes", "equty")
    assert result.exit_code == 1 and "did you mean 'equity'" in result.output


def test_consensus_and_auto_are_left_out_unless_named(team) -> None:
    fill(team, 2)
    with open_store(team) as store, store.transaction("setup"):
        seg = store.scalar("SELECT id FROM segments LIMIT 1")
        mark_reviewed(store, [seg], coder="consensus")
        mark_reviewed(store, [seg], coder="auto")
    report = json.loads(run(team, "agreement", "--format", "json").output)
    assert report["coders"] == ["ana", "ben", "cy"]
    named = json.loads(run(team, "agreement", "--format", "json", "--coders",
                           "ana,consensus").output)
    assert named["coders"] == ["ana", "consensus"]


def test_disagreements_list_who_applied_what(team) -> None:
    with open_store(team) as store, store.transaction("setup"):
        segs = [r["id"] for r in store.rows("SELECT id FROM segments ORDER BY id LIMIT 3")]
        codes = {r["name"]: r["id"] for r in store.rows("SELECT id, name FROM codes")}
        for coder in ("ana", "ben"):
            mark_reviewed(store, segs[:2], coder=coder)
        mark_reviewed(store, segs[:1], coder="cy")
        apply_coding(store, segs[0], codes["equity"], coder="ana")
        apply_coding(store, segs[0], codes["equity"], coder="ben")  # cy: reviewed, not given
        apply_coding(store, segs[1], codes["vision"], coder="ben")
        apply_coding(store, segs[1], codes["support"], coder="ana")
        apply_coding(store, segs[1], codes["support"], coder="ben")  # agreed: not listed
    result = run(team, "disagreements", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["segment"], r["code"]) for r in rows] == [(1, "equity"), (2, "vision")]
    assert rows[0]["applied_by"] == ["ana", "ben"] and rows[0]["not_applied_by"] == ["cy"]
    assert rows[1] == {"transcript": "alpha", "segment": 2, "code": "vision",
                       "applied_by": ["ben"], "not_applied_by": ["ana"],
                       "not_reviewed": ["cy"], "text": rows[1]["text"]}
    only = json.loads(run(team, "disagreements", "--format", "json", "--code", "vision",
                          "--coders", "ana,ben").output)
    assert [(r["segment"], r["code"]) for r in only] == [(2, "vision")]
    table = run(team, "disagreements")
    assert "2 disagreements on 2 segments" in table.output
    csv_out = run(team, "disagreements", "--format", "csv").output.splitlines()
    assert csv_out[0] == "transcript,segment,code,applied_by,not_applied_by,not_reviewed,text"
    assert csv_out[1].startswith("alpha,1,equity,ana ben,cy,,")
