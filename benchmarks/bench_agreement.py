"""Time agreement on 100,000 units x 5 coders x 30 codes, beside the `krippendorff` package.

Runs, in one go on this machine:
1. the statistics alone, from the unit arrays in memory: coder's whole report (per code,
   per exclusive group, per transcript, per transcript x code, overall; percent agreement,
   Cohen's kappa for the 10 pairs, Fleiss' kappa, Krippendorff's alpha), then coder's alpha
   alone and the `krippendorff` package's alpha on the same 30 matrices (results compared);
2. the real command from a generated study database: `coder agreement --format json` as a
   subprocess (wall time, peak memory), and the loading of units from SQLite on its own.

    python benchmarks/bench_agreement.py [--units 100000] [--coders 5] [--codes 30]
                                          [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date
from importlib.metadata import version
from pathlib import Path

import numpy as np

TRANSCRIPTS = 100
GROUP = 3  # codes of the one exclusive group, among the codes


def generate(units: int, coders: int, codes: int, seed: int = 0):
    """Reviewed marks and codings with agreement above chance: a hidden "true" coding per
    unit (each code on 5% of units, one of the exclusive group's codes on 3/4) that each
    coder follows but for 1.5% of values (15% of the group's choices); 10% of the coders'
    values missing (segments not reviewed). About 2.5 codings per coder and segment."""
    rng = np.random.default_rng(seed)
    truth = rng.random((units, codes)) < 0.05
    choice = rng.integers(0, GROUP + 1, units)  # 0: none of the exclusive group's codes
    truth[:, -GROUP:] = choice[:, None] == np.arange(1, GROUP + 1)
    applied = np.empty((coders, units, codes), dtype=bool)
    for c in range(coders):
        flip = rng.random((units, codes)) < 0.015
        applied[c] = truth ^ flip
        mine = np.where(rng.random(units) < 0.85, choice, rng.integers(0, GROUP + 1, units))
        applied[c, :, -GROUP:] = mine[:, None] == np.arange(1, GROUP + 1)
    known = rng.random((coders, units)) < 0.9
    return known, applied


def units_in_memory(known: np.ndarray, applied: np.ndarray):
    from coder.agreement.units import Units

    n_coders, n_units, n_codes = applied.shape
    codes = [{"id": k + 1, "name": f"code {k + 1}", "path": f"code {k + 1}", "definition": "",
              "parent_id": n_codes + 1 if k >= n_codes - GROUP else None, "exclusive": False}
             for k in range(n_codes)]
    codes.append({"id": n_codes + 1, "name": "stance", "path": "stance", "definition": "",
                  "parent_id": None, "exclusive": True})
    applied = np.concatenate([applied, np.zeros((n_coders, n_units, 1), dtype=bool)], axis=2)
    return Units(unit="segment", coders=[f"coder{c + 1}" for c in range(n_coders)],
                 codes=codes, transcripts=[f"t{t:03d}" for t in range(TRANSCRIPTS)],
                 transcript=np.arange(n_units) * TRANSCRIPTS // n_units,
                 segment=np.arange(1, n_units + 1), ordinal=np.arange(n_units) + 1,
                 known=known, applied=applied)


def best(function, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def in_memory(known: np.ndarray, applied: np.ndarray, repeat: int) -> dict[str, float]:
    import krippendorff

    from coder.agreement.report import agreement_report, binary_values
    from coder.agreement.statistics import statistics, summarise

    units = units_in_memory(known, applied)
    n_codes = applied.shape[2]
    columns = list(range(n_codes))
    report_time, report = best(lambda: agreement_report(units, columns), repeat)

    def ours_alpha() -> list[float | None]:
        stat = statistics(summarise(binary_values(units, columns), 2, pairs=[]).flat())
        return [stat.value("krippendorff_alpha", k) for k in range(n_codes)]

    matrices = [np.where(known, applied[:, :, k], np.nan) for k in range(n_codes)]
    alpha_time, ours = best(ours_alpha, repeat)
    package_time, theirs = best(lambda: [
        krippendorff.alpha(m, level_of_measurement="nominal") for m in matrices], repeat)
    worst = max(abs(a - b) for a, b in zip(ours, theirs, strict=True))
    reported = [c["krippendorff_alpha"] for c in report["codes"]]
    worst = max(worst, max(abs(a - b) for a, b in zip(reported, theirs, strict=True)))
    return {"report": report_time, "alpha": alpha_time, "package": package_time,
            "difference": worst}


def write_database(folder: Path, known: np.ndarray, applied: np.ndarray) -> int:
    """A study whose database holds the same reviewed marks and codings; returns codings."""
    from coder.store.db import Store
    from coder.study import init_study

    study = init_study(folder, "agreement benchmark")
    n_coders, n_units, n_codes = applied.shape
    Store(study.db_path).close()  # the schema
    conn = sqlite3.connect(study.db_path)
    per = n_units // TRANSCRIPTS
    with conn:
        conn.executemany(
            "INSERT INTO transcripts (id, name, sha256, format, segmentation, text, imported_at)"
            " VALUES (?,?,?,?,?,?,?)",
            [(t + 1, f"t{t:03d}", f"{t:064d}", "md", "turn", "x" * per * 10, "")
             for t in range(TRANSCRIPTS)])
        conn.executemany(
            "INSERT INTO segments (id, transcript_id, ordinal, start, end, text) "
            "VALUES (?,?,?,?,?,?)",
            [(u + 1, u // per + 1, u % per + 1, (u % per) * 10, (u % per) * 10 + 10, "x" * 10)
             for u in range(n_units)])
        conn.execute("INSERT INTO codes (id, name, exclusive, created_at) VALUES (?,?,1,'')",
                     (n_codes + 1, "stance"))
        conn.executemany(
            "INSERT INTO codes (id, name, parent_id, position, created_at) VALUES (?,?,?,?,'')",
            [(k + 1, f"code {k + 1}", n_codes + 1 if k >= n_codes - GROUP else None, k)
             for k in range(n_codes)])
        for c in range(n_coders):
            coder = f"coder{c + 1}"
            conn.executemany(
                "INSERT INTO reviewed (segment_id, coder, created_at) VALUES (?,?,'')",
                [(int(u) + 1, coder) for u in np.flatnonzero(known[c])])
            units, codes = np.nonzero(applied[c])
            conn.executemany(
                "INSERT INTO codings (segment_id, code_id, coder, origin, created_at) "
                "VALUES (?,?,?,'manual','')",
                zip((units + 1).tolist(), (codes + 1).tolist(), [coder] * len(units),
                    strict=True))
    count = conn.execute("SELECT count(*) FROM codings").fetchone()[0]
    conn.close()
    return count


def from_database(folder: Path, repeat: int) -> dict[str, float]:
    from coder.agreement.units import load_units
    from coder.store.db import Store

    with Store(folder / "coder.db") as store:
        coders = sorted(r["coder"] for r in store.rows("SELECT DISTINCT coder FROM reviewed"))
        load_time, _ = best(lambda: load_units(store, coders), repeat)
    cli = [str(Path(sys.executable).parent / "coder"), "agreement", "--format", "json",
           "--study", str(folder)]
    times, size = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(cli, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
        size = len(done.stdout)
        json.loads(done.stdout)
    # Peak memory of the command alone, through a small parent (a child forked from this
    # process would count this process's arrays until it execs).
    measure = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
               "stdout=subprocess.DEVNULL); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    peak = int(subprocess.run([sys.executable, "-c", measure, *cli], capture_output=True,
                              text=True, check=True).stdout)
    return {"load": load_time, "command": min(times), "peak_mb": peak / 1024,
            "json_kb": size / 1e3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--coders", type=int, default=5)
    parser.add_argument("--codes", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="Keep the generated study here.")
    args = parser.parse_args()
    known, applied = generate(args.units, args.coders, args.codes)
    print(f"{date.today()}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, numpy {np.__version__}, "
          f"krippendorff {version('krippendorff')}")
    print(f"{args.units:,} units x {args.coders} coders x {args.codes} codes "
          f"({GROUP} of them one exclusive group), {TRANSCRIPTS} transcripts, "
          f"{int(known.sum()):,} known values, best of {args.repeat}")
    memory = in_memory(known, applied, args.repeat)
    print(f"coder, whole report from arrays:        {memory['report']:.3f} s")
    print(f"coder, alpha for the {args.codes} codes:          {memory['alpha']:.3f} s")
    print(f"krippendorff package, same {args.codes} alphas:   {memory['package']:.3f} s "
          f"({memory['package'] / memory['alpha']:.1f}x coder's alpha, "
          f"{memory['package'] / memory['report']:.1f}x coder's whole report)")
    print(f"largest difference in alpha:            {memory['difference']:.1e}")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="coder-agreement-"))
    try:
        start = time.perf_counter()
        codings = write_database(folder, known, applied)
        print(f"study database written in {time.perf_counter() - start:.1f} s "
              f"({codings:,} codings)")
        db = from_database(folder, args.repeat)
        print(f"loading the units from SQLite:          {db['load']:.3f} s")
        print(f"`coder agreement --format json`:        {db['command']:.3f} s wall, "
              f"peak RSS {db['peak_mb']:.0f} MB, {db['json_kb']:.0f} kB of JSON")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
