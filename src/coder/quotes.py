"""Quote banks: representative, diverse and citable quotes per code.

Selection is deterministic. Per code, among its coded segments (one coder's):

1. **Typicality**: each segment is a TF-IDF row over its stored lemmas (the study's
   :class:`~coder.learn.features.Featurizer`, fitted on every segment, rows L2-normalised);
   the code's centroid is the normalised mean of its rows; typicality is the cosine of a
   segment to the centroid.
2. **Maximal marginal relevance**: quotes are picked one at a time by
   ``LAMBDA * typicality - (1 - LAMBDA) * max similarity to the quotes already picked``,
   minus a small penalty for a transcript or speaker already quoted, so near-duplicates
   are not both chosen and quotes spread over transcripts and speakers when the data allows.
   Segments shorter than ``min_chars`` are only taken when nothing longer is left.
   Ties break on transcript name and segment number.
3. **Trimming**: a quote longer than ``max_chars`` keeps the sentences that carry the code
   (sentences with a codebook pattern match, else the most typical sentences), in order,
   joined by an ellipsis; every kept piece is an exact slice of the segment's text.
4. **Spans**: where the coder coded words inside the segment (and not the whole segment),
   the quote is those words, widened to whole words, with an ellipsis where the segment
   goes on (``context``: widened to their sentences). Ranking still uses the segment.

Sentences come from the stored token offsets (a token ``.``, ``?`` or ``!`` ends one), so
nothing is re-parsed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from coder.errors import CoderError
from coder.formatting import clock
from coder.store.codings import coded_segment_rows, has_codings
from coder.store.db import Store
from coder.store.memos import code_memos
from coder.store.transcripts import speaker_attributes, transcript_metadata

LAMBDA = 0.7  # weight of typicality against redundancy in MMR
SPREAD = 0.1  # penalty for a transcript (and again for a speaker) already quoted
ELLIPSIS = "…"
CONSENSUS = "consensus"
_ENDS = {".", "?", "!", "?!", "!?"}
_CLOSING = {'"', "'", "”", "’", ")", "]", "»"}


@dataclass
class Quote:
    """One selected (or listed) coded segment with its citation."""

    code: str
    rank: int
    transcript: str
    segment: int
    speaker: str
    text: str
    citation: str
    id: str
    role: str = ""
    site: str = ""
    time: str = ""
    trimmed: bool = False
    typicality: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CodeBank:
    """A code with its counts, memos and selected quotes."""

    code: str
    path: str
    theme: str
    parent: str
    definition: str
    segments: int
    transcripts: int
    speakers: int
    quotes: list[Quote] = field(default_factory=list)
    memos: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["quotes"] = [q.to_json() for q in self.quotes]
        return out


@dataclass
class QuoteBank:
    """Every code's bank, in codebook order, and the coded rows behind it."""

    study: str
    coder: str
    where: list[str]
    codes: list[CodeBank]
    rows: list[dict[str, Any]]  # one per coded segment and code (for spreadsheets)
    attributes: list[str]  # speaker attribute keys, sorted

    def to_json(self) -> dict[str, Any]:
        return {"study": self.study, "coder": self.coder, "where": self.where,
                "codes": [c.to_json() for c in self.codes]}


# -- loading --------------------------------------------------------------------------------
def default_coder(store: Store, current: str) -> str:
    """``consensus`` when that coder has codings, else ``current``."""
    return CONSENSUS if has_codings(store, CONSENSUS) else current


def parse_where(items: Sequence[str]) -> dict[str, set[str]]:
    """``role=teacher`` items as {key: allowed values}; a key repeated means either value."""
    out: dict[str, set[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise CoderError(f"--where {item!r}: use KEY=VALUE, e.g. role=teacher")
        out.setdefault(key.strip().casefold(), set()).add(value.strip().casefold())
    return out


def coded_segments(store: Store, coder: str,
                   where: dict[str, set[str]] | None = None) -> list[dict[str, Any]]:
    """Rows (segment, code) of ``coder``'s codings with segment, speaker and transcript
    fields, in document order, filtered by speaker attributes or transcript metadata."""
    rows = coded_segment_rows(store, coder)
    attrs = speaker_attributes(store)
    metadata: dict[str, dict[str, str]] = {}
    if where:
        known = {"speaker", "transcript"} | {k.casefold() for a in attrs.values() for k in a}
        for meta in transcript_metadata(store):
            known |= {str(k).casefold() for k in meta}
        unknown = sorted(set(where) - known)
        if unknown:
            raise CoderError(f"--where {unknown[0]!r}: no speaker attribute or transcript "
                             f"metadata has that name (known: {', '.join(sorted(known))})")
    from coder.store.spans import coded_spans

    spans = coded_spans(store, coder)
    kept = []
    for row in rows:
        row["spans"] = spans.get((row["segment_id"], row["code_id"]), [])
        if row["transcript"] not in metadata:
            meta = json.loads(row["metadata"] or "{}")
            metadata[row["transcript"]] = {str(k).casefold(): str(v) for k, v in meta.items()}
        row["attributes"] = attrs.get(row["speaker_id"], {})
        row["meta"] = metadata[row["transcript"]]
        if where and not _matches(row, where):
            continue
        kept.append(row)
    return kept


def _interviewer(row: dict[str, Any]) -> bool:
    from coder.store.learner import INTERVIEWER_ROLES

    return str(row["attributes"].get("role", "")).strip().lower() in INTERVIEWER_ROLES


def _matches(row: dict[str, Any], where: dict[str, set[str]]) -> bool:
    for key, values in where.items():
        if key == "speaker":
            value = row["speaker"]
        elif key == "transcript":
            value = row["transcript"]
        else:
            value = row["attributes"].get(key, row["meta"].get(key))
        if value is None or value.casefold() not in values:
            return False
    return True


def attribute_value(row: dict[str, Any], key: str) -> str:
    """A row's value for ``transcript``, ``speaker``, a speaker attribute or metadata key."""
    key = key.casefold()
    if key in ("transcript", "speaker"):
        return row[key] or "(none)"
    return row["attributes"].get(key) or row["meta"].get(key) or "(none)"


# -- citations ------------------------------------------------------------------------------
def citation(row: dict[str, Any]) -> str:
    """``podcast-pd-networks ¶14, Raymond Steinmetz (instructional coach, Rhode Island),
    00:12:31``."""
    parts = [f"{row['transcript']} ¶{row['segment']}"]
    if row["speaker"]:
        about = [v for v in (row["attributes"].get("role"), row["attributes"].get("site")) if v]
        parts.append(row["speaker"] + (f" ({', '.join(about)})" if about else ""))
    if row.get("time_start") is not None:
        parts.append(clock(row["time_start"]))
    if row.get("page"):
        parts.append(f"p. {row['page']}")
    if row.get("meta", {}).get("question"):  # a survey answer: the question it answers
        parts.append(f"answering “{row['meta']['question']}”")
    return ", ".join(parts)


def stable_id(row: dict[str, Any]) -> str:
    return f"{row['transcript']}#{row['segment']}"


# -- sentences and trimming -----------------------------------------------------------------
def sentence_spans(text: str, lemmas: str, tokens: str) -> list[tuple[int, int, str]]:
    """Sentences as (start, end, lemmas) from the stored tokens: a token ``.``, ``?`` or
    ``!`` ends one, with the closing quotes or brackets right after it. One sentence when
    the stored analysis does not line up with the text."""
    from coder.nlp import token_spans

    spans = token_spans(tokens)
    words = lemmas.split()
    if not spans or len(spans) != len(words):
        return [(0, len(text), lemmas)]
    out: list[tuple[int, int, str]] = []
    first = i = 0
    while i < len(spans):
        if text[spans[i][0]:spans[i][1]] in _ENDS or i == len(spans) - 1:
            while i + 1 < len(spans) and text[spans[i + 1][0]:spans[i + 1][1]] in _CLOSING:
                i += 1
            out.append((spans[first][0], spans[i][1], " ".join(words[first:i + 1])))
            first = i + 1
        i += 1
    return out


def trim(text: str, sentences: Sequence[tuple[int, int]], keep: Sequence[int],
         max_chars: int) -> tuple[str, bool]:
    """The sentences ``keep`` (in priority order) that fit in ``max_chars``, in text order,
    joined by an ellipsis; the words are slices of ``text``."""
    chosen: list[int] = []
    size = 0
    for index in keep:
        start, end = sentences[index]
        if chosen and size + (end - start) > max_chars:
            continue
        chosen.append(index)
        size += end - start + 2
    chosen.sort()
    if len(chosen) == len(sentences):
        return text.strip(), False
    pieces: list[str] = []
    previous = None
    for index in chosen:
        if previous is None and index > 0 or previous is not None and index != previous + 1:
            pieces.append(ELLIPSIS)
        start, end = sentences[index]
        pieces.append(text[start:end])
        previous = index
    if previous is not None and previous < len(sentences) - 1:
        pieces.append(ELLIPSIS)
    return " ".join(pieces), True


# -- selection ------------------------------------------------------------------------------
@dataclass
class Options:
    """How quotes are chosen."""

    per_code: int = 3
    all: bool = False
    min_chars: int = 40
    max_chars: int = 400
    context: bool = False  # quote a coded span's whole sentence(s), not only its words
    include_interviewers: bool = False  # quote interviewers', hosts' and moderators' turns


def mmr(typical: Any, similarity_to: Callable[[int], Any], groups: Sequence[tuple[str, str]],
        short: Sequence[bool], n: int) -> list[int]:
    """Indices chosen by maximal marginal relevance (see the module docstring);
    ``similarity_to(i)`` gives every candidate's similarity to candidate ``i``."""
    import numpy as np

    typical = np.asarray(typical, dtype=float)
    count = len(typical)
    transcripts = np.array([g[0] for g in groups], dtype=object)
    speakers = np.array([g[1] for g in groups], dtype=object)
    long_enough = ~np.asarray(short, dtype=bool)
    redundancy = np.zeros(count)
    penalty = np.zeros(count)
    taken = np.zeros(count, dtype=bool)
    chosen: list[int] = []
    for _ in range(min(n, count)):
        score = np.round(LAMBDA * typical - (1 - LAMBDA) * redundancy - penalty, 9)
        score[taken] = -np.inf
        # Long enough first, then the best score, then the earliest in document order.
        best = int(np.lexsort((np.arange(count), -score, ~long_enough | taken))[0])
        chosen.append(best)
        taken[best] = True
        redundancy = np.maximum(redundancy, np.asarray(similarity_to(best)).ravel())
        penalty += SPREAD * (transcripts == transcripts[best])
        penalty += SPREAD * (speakers == speakers[best])
    return chosen


def build_bank(store: Store, *, study: str, coder: str, codes: Sequence[str] = (),
               theme: str | None = None, where: Sequence[str] = (), memos: bool = False,
               options: Options | None = None, nlp_model: str = "") -> QuoteBank:
    """The quote bank for ``coder``'s codings (see the module docstring)."""
    import numpy as np

    from coder.store.codes import list_codes

    options = options or Options()
    if options.per_code < 1:
        raise CoderError("--per-code must be at least 1")
    if options.max_chars < options.min_chars:
        raise CoderError("--max-chars must not be smaller than --min-chars")
    filters = parse_where(where)
    all_codes = list_codes(store)
    by_id = {c["id"]: c for c in all_codes}
    wanted = choose_codes(store, all_codes, codes, theme)
    rows = coded_segments(store, coder, filters)
    by_code: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        if _interviewer(row) and not (options.include_interviewers or "role" in filters):
            continue  # their questions are not the participants' voice
        by_code.setdefault(row["code_id"], []).append(row)
    if not codes:
        wanted = [c for c in wanted if c["id"] in by_code]
    from coder.store.quote_choices import quote_choices

    choices = quote_choices(store)
    segs = {r["segment_id"]: r for r in rows}
    features = _Features([segs[k] for k in sorted(segs)])
    rules = _RuleEvidence([c for c in wanted if c["patterns"]], nlp_model)
    banks: list[CodeBank] = []
    for code in wanted:
        mine = by_code.get(code["id"], [])
        bank = _bank_of(code, by_id, mine)
        if memos:
            bank.memos = [f"{m['coder']}: {m['text']}" for m in code_memos(store, code["id"])]
        if mine:
            bank.quotes = _select(code, mine, features, options, rules, np,
                                  {seg: c for (cid, seg), c in choices.items()
                                   if cid == code["id"]})
        banks.append(bank)
    theme_of = {b.code: b.theme for b in banks}
    for row in rows:
        code = by_id[row["code_id"]]
        row["code"] = code["name"]
        row["theme"] = theme_of.get(code["name"], _theme(code))
    attributes = sorted({k for r in rows for k in r["attributes"]})
    return QuoteBank(study, coder, list(where), banks, rows, attributes)


def choose_codes(store: Store, all_codes: list[dict[str, Any]], codes: Sequence[str],
                 theme: str | None) -> list[dict[str, Any]]:
    """Codes in codebook order: the named ones, else all but exclusive groups, within
    ``theme``'s subtree."""
    from coder.store.codes import find_code

    chosen = [c for c in all_codes if not c["exclusive"]]
    if codes:
        ids = {find_code(store, name)["id"] for name in codes}
        chosen = [c for c in all_codes if c["id"] in ids]
    if theme:
        root_id = find_code(store, theme)["id"]
        root = next(c["path"] for c in all_codes if c["id"] == root_id)
        chosen = [c for c in chosen if c["path"] == root or c["path"].startswith(root + "/")]
    return chosen


def _theme(code: dict[str, Any]) -> str:
    """The top-level code above ``code`` (itself when it is top-level)."""
    return code["path"].split("/")[0]


def _bank_of(code: dict[str, Any], by_id: dict[int, dict[str, Any]],
             rows: list[dict[str, Any]]) -> CodeBank:
    parent = by_id.get(code["parent_id"])
    return CodeBank(
        code=code["name"], path=code["path"], theme=_theme(code),
        parent=parent["name"] if parent else "", definition=code["definition"] or "",
        segments=len({r["segment_id"] for r in rows}),
        transcripts=len({r["transcript"] for r in rows}),
        speakers=len({r["speaker"] for r in rows if r["speaker"]}))


class _Features:
    """TF-IDF rows (L2-normalised) of the coded segments, fitted on them."""

    def __init__(self, rows: list[dict[str, Any]]):
        from coder.learn.features import Featurizer

        self.index = {r["segment_id"]: i for i, r in enumerate(rows)}
        self.featurizer = Featurizer(min_df=1)
        self.matrix: Any = None  # a sparse matrix once fitted
        if rows:
            tokens = self.featurizer.tokenize([r["lemmas"] for r in rows])
            self.matrix = self.featurizer.fit_transform(tokens).tocsr()

    def rows(self, rows: list[dict[str, Any]]) -> Any:
        return self.matrix[[self.index[r["segment_id"]] for r in rows]]


def _select(code: dict[str, Any], rows: list[dict[str, Any]], features: _Features,
            options: Options, rules: _RuleEvidence, np: Any,
            choices: dict[int, str] | None = None) -> list[Quote]:
    """Rank and pick; pinned segments come first, excluded ones never."""
    choices = choices or {}
    rows = sorted((r for r in rows if choices.get(r["segment_id"]) != "exclude"),
                  key=lambda r: (r["transcript"], r["segment"]))
    if not rows:
        return []
    x = features.rows(rows)
    centroid = np.asarray(x.mean(axis=0)).ravel()
    norm = np.linalg.norm(centroid)
    centroid = centroid / norm if norm else centroid
    typical = np.asarray(x @ centroid).ravel()
    if options.all:
        order = sorted(range(len(rows)), key=lambda i: (-round(float(typical[i]), 9), i))
    else:
        def similarity(i: int) -> Any:
            return (x @ x[i].T).toarray()

        groups = [(r["transcript"], r["speaker"]) for r in rows]
        short = [len(r["text"].strip()) < options.min_chars for r in rows]
        pinned = sorted((i for i, r in enumerate(rows)
                         if choices.get(r["segment_id"]) == "pin"), key=lambda i: -typical[i])
        order = pinned + [i for i in mmr(typical, similarity, groups, short,
                                         options.per_code + len(pinned))
                          if i not in pinned][:max(options.per_code - len(pinned), 0)]
    texts = _quote_texts(code, [rows[i] for i in order], centroid, options, rules, features)
    quotes = []
    for rank, (i, (text, trimmed)) in enumerate(zip(order, texts, strict=True), start=1):
        row = rows[i]
        quotes.append(Quote(
            code=code["name"], rank=rank, transcript=row["transcript"], segment=row["segment"],
            speaker=row["speaker"], text=text, citation=citation(row), id=stable_id(row),
            role=row["attributes"].get("role", ""), site=row["attributes"].get("site", ""),
            time=clock(row["time_start"]), trimmed=trimmed,
            typicality=round(float(typical[i]), 4)))
    return quotes


def _quote_texts(code: dict[str, Any], rows: list[dict[str, Any]], centroid: Any,
                 options: Options, rules: _RuleEvidence,
                 features: _Features) -> list[tuple[str, bool]]:
    """Each row's quote text (its coded span, or trimmed when longer than ``max_chars``),
    in one batch."""
    from coder.spans import quote_spans

    out = [(r["text"].strip(), False) for r in rows]
    long: list[tuple[int, list[tuple[int, int, str]]]] = []
    for k, row in enumerate(rows):
        if row.get("spans"):
            around = [(a, b) for a, b, _ in sentence_spans(row["text"], row["lemmas"],
                                                           row["tokens"])] \
                if options.context else []
            out[k] = quote_spans(row["text"], row["spans"], around)
        elif len(out[k][0]) > options.max_chars:
            sentences = sentence_spans(row["text"], row["lemmas"], row["tokens"])
            if len(sentences) > 1:
                long.append((k, sentences))
    if not long:
        return out
    vectors = features.featurizer.vectorize_text([lem for _, sents in long
                                                  for _, _, lem in sents])
    scores = [round(float(v), 9) for v in vectors @ centroid]
    hits = rules.hits(code["id"], [rows[k] for k, _ in long])
    first = 0
    for (k, sentences), found in zip(long, hits, strict=True):
        spans = [(a, b) for a, b, _ in sentences]
        score = scores[first:first + len(spans)]
        first += len(spans)
        carried = [i for i, (a, b) in enumerate(spans) if any(a <= h < b for h, _ in found)]
        rest = sorted((i for i in range(len(spans)) if i not in carried),
                      key=lambda i: (-score[i], i))
        out[k] = trim(rows[k]["text"], spans, carried + rest, options.max_chars)
    return out


class _RuleEvidence:
    """Codebook pattern matches (spaCy loads only when a code with patterns needs trimming)."""

    def __init__(self, codes: list[dict[str, Any]], nlp_model: str):
        self.codes = {c["id"] for c in codes}
        self._specs = codes
        self.nlp_model = nlp_model
        self._rules: Any = None
        self._featurizer: Any = None

    def hits(self, code_id: int, rows: list[dict[str, Any]]) -> list[list[tuple[int, int]]]:
        """Per row, the (start, end) offsets where a pattern of ``code_id`` matches."""
        if code_id not in self.codes:
            return [[] for _ in rows]
        if self._rules is None:
            from coder.learn.features import Featurizer
            from coder.learn.rules import RuleSet

            self._rules = RuleSet(self._specs, self.nlp_model)
            self._featurizer = Featurizer(min_df=1)
        tokens = self._featurizer.tokenize([r["lemmas"] for r in rows])
        found = self._rules.find(self._featurizer, tokens,
                                 [(r["text"], r["lemmas"], r["tokens"]) for r in rows])
        return [[(h.start, h.end) for h in found.get(k, []) if h.code_id == code_id]
                for k in range(len(rows))]


def typicality(rows: list[dict[str, Any]]) -> dict[tuple[int, int], float]:
    """Each (segment id, code id) row's cosine to its code's centroid."""
    import numpy as np

    segs = {r["segment_id"]: r for r in rows}
    features = _Features([segs[k] for k in sorted(segs)])
    by_code: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_code.setdefault(row["code_id"], []).append(row)
    out: dict[tuple[int, int], float] = {}
    for code_id, mine in by_code.items():
        x = features.rows(mine)
        centroid = np.asarray(x.mean(axis=0)).ravel()
        norm = np.linalg.norm(centroid)
        scores = np.asarray(x @ (centroid / norm if norm else centroid)).ravel()
        for row, score in zip(mine, scores.tolist(), strict=True):
            out[(row["segment_id"], code_id)] = round(score, 9)
    return out
