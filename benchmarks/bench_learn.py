"""Time the suggester on a large synthetic study, and measure suggestion quality.

    python benchmarks/bench_learn.py [--segments 100000] [--coded 20000] [--codes 30]
                                     [--keep DIR] [--skip-demo] [--skip-chars]

1. Builds a study of ``--segments`` segments (100 transcripts) whose text is sentences of
   the demo study's transcripts with code-specific words mixed in: each of ``--codes``
   codes has 12 marker words, and a segment with a code holds one to three of them (one
   in ten holds none; one in seven segments holds a stray marker of a code it does not
   have). Markers are words said at most twice in the demo transcripts (topic words, not
   everyday ones). Each code has a definition made of its words and two phrase patterns. The
   first ``--coded`` segments are coded by coder ``bench`` and marked reviewed.
2. Times: reading the study (features, rules, priors), full training of every code,
   an incremental update after one new coding (and after one reviewed mark), and scoring
   all segments.
3. Quality: ``coder evaluate`` on the demo study coded by hand (benchmarks/demo_codings.csv)
   and on a 2,000-segment slice of the synthetic study; and whether character n-grams
   would help (a side experiment with scikit-learn's own vectorizers).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import sentences  # noqa: E402

CODER = "bench"


# -- the synthetic study -------------------------------------------------------------------
def synthetic(n: int, n_codes: int, seed: int = 1):
    """Texts, their codes, and the codebook: ``(texts, labels, codes)``."""
    from collections import Counter

    from coder.nlp import pipeline

    rng = random.Random(seed)
    pool = sentences()
    # Markers are rare words of the pool (a topic's own vocabulary), not everyday ones.
    df = Counter(w for lem, _ in pipeline().analyse(pool) for w in set(lem.split()))
    words = sorted(w for w, n in df.items() if n <= 2 and w.isalpha() and len(w) > 4)
    rng.shuffle(words)
    markers = [words[i * 12:(i + 1) * 12] for i in range(n_codes)]
    codes = []
    for i, mine in enumerate(markers):
        codes.append({
            "name": f"theme {i + 1:02d} {mine[0]}",
            "definition": f"Talk about {mine[0]}, {mine[1]} and {mine[2]}.",
            "include": f"Mentions of {mine[3]} or {mine[4]}.",
            "patterns": [f"{mine[5]} {mine[6]}", mine[7]],
        })
    texts, labels = [], []
    for _ in range(n):
        k = rng.choice([0, 0, 1, 1, 1, 2, 2, 3])
        chosen = sorted(rng.sample(range(n_codes), k))
        parts = [rng.choice(pool) for _ in range(rng.randint(1, 4))]
        for c in chosen:
            if rng.random() < 0.9:
                sentence = rng.choice(pool).split()
                for word in rng.sample(markers[c], rng.randint(1, 3)):
                    sentence.insert(rng.randint(0, len(sentence)), word)
                parts.insert(rng.randint(0, len(parts)), " ".join(sentence))
        if rng.random() < 0.15:
            sentence = rng.choice(pool).split()
            sentence.insert(rng.randint(0, len(sentence)),
                            rng.choice(markers[rng.randrange(n_codes)]))
            parts.append(" ".join(sentence))
        texts.append(" ".join(parts))
        labels.append(chosen)
    return texts, labels, codes


def build_study(root: Path, n: int, coded: int, n_codes: int) -> dict[str, float]:
    """A study in ``root`` with the synthetic segments, codebook and codings."""
    import yaml

    from coder.nlp import pipeline
    from coder.store.codes import list_codes
    from coder.store.codings import apply_coding, mark_reviewed
    from coder.store.db import Store
    from coder.store.transcripts import SegmentRow, insert_transcript
    from coder.study import init_study

    timings = {}
    t = time.perf_counter()
    texts, labels, codes = synthetic(n, n_codes)
    study = init_study(root, "learn benchmark")
    (study.codebooks_dir / "synthetic.yaml").write_text(
        yaml.safe_dump({"codes": codes}, sort_keys=False), encoding="utf-8")
    analysed = list(pipeline().analyse(texts))
    timings["generate"] = time.perf_counter() - t
    t = time.perf_counter()
    store = Store(study.db_path, coder=CODER, command="bench")
    per = max(1, n // 100)
    with store.transaction("bench"):
        for first in range(0, n, per):
            rows, offset, body = [], 0, []
            for i in range(first, min(first + per, n)):
                lemmas, tokens = analysed[i]
                rows.append(SegmentRow(i - first + 1, "Speaker", offset,
                                       offset + len(texts[i]), None, None, texts[i],
                                       lemmas, tokens))
                body.append(texts[i])
                offset += len(texts[i]) + 2
            insert_transcript(store, name=f"t{first // per + 1:03d}", source_path="", sha256="",
                              fmt="txt", segmentation="turn", metadata={},
                              text="\n\n".join(body), segments=rows)
    from coder.codebook import load_codebook
    from coder.store.codes import apply_codebook

    apply_codebook(store, load_codebook(study.codebooks_dir / "synthetic.yaml"))
    ids = [r[0] for r in store.conn.execute("SELECT id FROM segments ORDER BY id")]
    code_ids = [c["id"] for c in list_codes(store)]
    with store.transaction("bench codings"):
        for seg, chosen in zip(ids[:coded], labels[:coded], strict=True):
            for c in chosen:
                apply_coding(store, seg, code_ids[c], coder=CODER)
        mark_reviewed(store, ids[:coded], coder=CODER)
    store.close()
    timings["store"] = time.perf_counter() - t
    return timings


# -- timings -------------------------------------------------------------------------------
def time_suggester(root: Path) -> dict[str, object]:
    import numpy as np
    import sklearn.linear_model  # noqa: F401  (imported before the clock starts: ~2.5 s here)

    from coder.learn.corpus import Corpus
    from coder.learn.labels import Labels
    from coder.learn.model import LearnSettings
    from coder.learn.suggest import Suggester
    from coder.store.codings import apply_coding, mark_reviewed, remove_coding, unmark_reviewed
    from coder.store.db import Store

    out: dict[str, object] = {}
    store = Store(root / "coder.db", coder=CODER)
    settings = LearnSettings()
    t = time.perf_counter()
    corpus = Corpus.build(store)
    out["read_corpus"] = time.perf_counter() - t
    t = time.perf_counter()
    labels = Labels.read(store, CODER, corpus)
    out["read_labels"] = time.perf_counter() - t
    suggester = Suggester(CODER, corpus, settings)
    suggester._take_labels(labels)
    fits = []
    for _ in range(2):
        t = time.perf_counter()
        suggester.train()
        fits.append(time.perf_counter() - t)
    out["full_training"] = fits
    out["models"] = len(suggester.models)
    out["per_code_fit_max"] = max(m.seconds for m in suggester.models.values())
    # Incremental: code one more segment (an unreviewed one, then a reviewed one) and update.
    unreviewed = corpus.ids[~labels.reviewed]
    codes = [c["id"] for c in corpus.codes]
    updates, reviews, idle = [], [], []
    touched = []
    for k in range(6):
        seg = int(unreviewed[k * 7])
        touched.append((seg, codes[k * 5 % len(codes)]))
        apply_coding(store, seg, codes[k * 5 % len(codes)], coder=CODER)
        t = time.perf_counter()
        report = suggester.update(store)
        updates.append((time.perf_counter() - t, len(report.refit), report.pending))
        mark_reviewed(store, [seg], coder=CODER)
        t = time.perf_counter()
        report = suggester.update(store)
        reviews.append((time.perf_counter() - t, len(report.refit), report.pending))
        t = time.perf_counter()
        suggester.update(store)
        idle.append(time.perf_counter() - t)
    for seg, code in touched:  # leave the study as it was, for the next run
        remove_coding(store, seg, code, coder=CODER)
    unmark_reviewed(store, [seg for seg, _ in touched], coder=CODER)
    out["update_after_coding"] = updates
    out["update_after_review"] = reviews
    out["update_nothing_changed"] = idle
    ids = corpus.ids
    t = time.perf_counter()
    suggester.scores(ids)
    out["scores_all"] = time.perf_counter() - t
    t = time.perf_counter()
    found = suggester.suggest(ids, top=3, evidence=False)
    out["suggest_all_no_evidence"] = time.perf_counter() - t
    t = time.perf_counter()
    found = suggester.suggest(ids, top=3)
    out["suggest_all_with_evidence"] = time.perf_counter() - t
    out["suggestions"] = sum(len(v) for v in found.values())
    t = time.perf_counter()
    transcript = int(corpus.transcript[-1])
    suggester.next_uncertain(transcript, [])
    out["next_uncertain"] = time.perf_counter() - t
    out["segments"] = len(corpus)
    out["features"] = corpus.X.shape[1]
    out["nnz"] = int(corpus.X.nnz)
    out["rule_hits"] = sum(len(h) for h in corpus.hits.values())
    out["coded"] = int(labels.reviewed.sum())
    out["codings"] = int(labels.coded.sum())
    store.close()
    del np
    return out


def time_cold_scoring(root: Path) -> dict[str, float]:
    """Featurize, rule-match and prior-score every segment from the database (a cold start),
    as a separate process would."""
    code = (
        "import time, sys; sys.path.insert(0, {!r})\n"
        "t0 = time.perf_counter()\n"
        "from coder.learn.corpus import Corpus; from coder.store.db import Store\n"
        "from coder.learn.model import LearnSettings; import sklearn.linear_model\n"
        "t1 = time.perf_counter()\n"
        "c = Corpus.build(Store({!r}))\n"
        "t2 = time.perf_counter()\n"
        "print(t1 - t0, t2 - t1)\n").format(str(REPO / "src"), str(root / "coder.db"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    imports, build = (float(x) for x in result.stdout.split())
    return {"imports": imports, "build": build}


def evaluate_slice(root: Path, coded: int) -> dict[str, object]:
    """Suggestion quality on the synthetic study, with only ``coded`` reviewed segments."""
    from coder.learn.corpus import Corpus
    from coder.learn.evaluate import evaluate
    from coder.learn.labels import Labels
    from coder.store.db import Store

    store = Store(root / "coder.db")
    corpus = Corpus.build(store)
    labels = Labels.read(store, CODER, corpus)
    reviewed = labels.reviewed.nonzero()[0]
    import numpy as np

    keep = np.zeros(len(corpus), dtype=bool)
    keep[reviewed[:coded]] = True
    result = evaluate(corpus, labels.subset(keep), CODER, folds=5)
    store.close()
    return result.to_json()


def char_ngrams(root: Path, rows: int = 6000) -> dict[str, float]:
    """Do character n-grams help? Held-out average precision and F1 of the same logistic
    regression on word 1-2 grams, and on word 1-2 grams plus char_wb 3-5 grams."""
    import numpy as np
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score, f1_score

    from coder.learn.corpus import Corpus
    from coder.learn.labels import Labels
    from coder.learn.model import LearnSettings
    from coder.store.db import Store
    from coder.store.feedback import iter_segments

    store = Store(root / "coder.db")
    corpus = Corpus.build(store)
    labels = Labels.read(store, CODER, corpus)
    chosen = np.flatnonzero(labels.reviewed)[:rows]
    lemmas = [r[4] for batch in iter_segments(store, corpus.ids[chosen].tolist()) for r in batch]
    split = int(len(chosen) * 0.7)
    words = corpus.X[chosen]
    t = time.perf_counter()
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2,
                            sublinear_tf=True).fit(lemmas[:split]).transform(lemmas)
    char_seconds = time.perf_counter() - t
    both = sp.hstack([words, chars]).tocsr()
    out: dict[str, float] = {"char_features": chars.shape[1],
                             "char_vectorize_seconds_per_1000": char_seconds / len(chosen) * 1000}
    for name, X in (("words", words), ("words+chars", both)):
        aps, f1s = [], []
        t = time.perf_counter()
        for col in range(labels.coded.shape[1]):
            y = labels.coded[chosen, col]
            if y[:split].sum() < 3 or y[split:].sum() < 1:
                continue
            model = LogisticRegression(C=LearnSettings().C, solver="liblinear").fit(
                X[:split], y[:split])
            score = model.decision_function(X[split:])
            aps.append(average_precision_score(y[split:], score))
            f1s.append(f1_score(y[split:], score > 0))
        out[f"{name}_mean_ap"] = float(np.mean(aps))
        out[f"{name}_mean_f1"] = float(np.mean(f1s))
        out[f"{name}_fit_seconds"] = time.perf_counter() - t
    store.close()
    return out


def demo_quality(work: Path) -> str:
    """`coder evaluate` on a copy of the demo study, coded by hand as 'gold'."""
    study = work / "demo"
    shutil.rmtree(study, ignore_errors=True)
    study.mkdir(parents=True)
    shutil.copy(REPO / "coder.toml", study / "coder.toml")
    shutil.copytree(REPO / "transcripts", study / "transcripts")
    shutil.copytree(REPO / "codebooks", study / "codebooks")
    (study / "exports").mkdir()
    coder_cmd = [str(Path(sys.executable).with_name("coder"))]
    env = {**os.environ, "CODER_NAME": "gold"}

    def run(*args: str) -> str:
        return subprocess.run([*coder_cmd, *args, "--study", str(study)], env=env, check=True,
                              capture_output=True, text=True).stdout

    run("sync")
    run("codings", "import", str(REPO / "benchmarks" / "demo_codings.csv"))
    import json

    run("review", *[t["name"] for t in json.loads(run("transcripts", "--format", "json"))])
    t = time.perf_counter()
    out = run("evaluate", "--coder", "gold", "--plot", str(work / "evaluate-demo.png"))
    return out + f"\n(evaluate took {time.perf_counter() - t:.1f} s)\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--coded", type=int, default=20_000)
    parser.add_argument("--codes", type=int, default=30)
    parser.add_argument("--keep", type=Path, help="Build (or reuse) the study here.")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--skip-chars", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="coder-bench-learn-"))
    root = args.keep or work / "study"
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}")
    if not (root / "coder.db").exists():
        print("building", build_study(root, args.segments, args.coded, args.codes))
    print("suggester", time_suggester(root))
    print("cold build in a new process", time_cold_scoring(root))
    if not args.skip_chars:
        print("char n-grams", char_ngrams(root))
    slice_result = evaluate_slice(root, 2000)
    print("synthetic evaluate (2,000 coded)", {k: slice_result[k] for k in (
        "micro", "macro", "top3_hit_rate", "accuracy", "majority_accuracy", "learning_curve",
        "seconds")})
    if not args.skip_demo:
        print(demo_quality(work))
    print(f"(work files in {work})")


if __name__ == "__main__":
    main()
