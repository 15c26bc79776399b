"""Codebook patterns as spaCy matchers over the stored tokens and lemmas of segments.

A phrase pattern ("targeted PD") is lemmatised with the study's pipeline and matched on
lemmas by a ``PhraseMatcher``; a token pattern (``[{LOWER: drive}, {LOWER: "-", OP: "?"},
{LOWER: by}]``) goes to a ``Matcher`` as written (LEMMA values lower-cased, as lemmas are).
Segments are never re-parsed: a ``Doc`` is built from the stored token offsets (words are
slices of the text) and the stored lemmas.

Building a ``Doc`` costs about 1 µs per token, so on a large study spaCy only sees short
windows of tokens around the places where a pattern can match: around each occurrence of
the pattern's rarest required lemma (and, for phrases, only where the whole phrase is
there). A pattern whose length is unbounded (``+``/``*``) or that names no lemma or word
(say, only ``IS_PUNCT``) is matched on whole segments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coder.learn.features import Featurizer, Tokens

_WORD_KEYS = ("LOWER", "ORTH", "TEXT", "NORM")


@dataclass(frozen=True)
class RuleHit:
    """One pattern match in a segment: character offsets into the segment's text."""

    code_id: int
    pattern: int  # index into the code's patterns
    start: int
    end: int
    text: str


@dataclass
class _Pattern:
    code_id: int
    index: int
    label: str  # the pattern as the codebook wrote it, for evidence
    phrase: list[str] | None  # lemmas of a phrase pattern
    required: list[set[str]]  # for each required token, the lemmas it can have
    length: int | None  # at most this many tokens (None: unbounded)
    anchor: list[int] = field(default_factory=list)  # vocabulary ids of the anchor token
    anchor_at: int | None = None  # the anchor's position in a phrase


def pattern_label(pattern: Any) -> str:
    """A pattern as one line of text."""
    if isinstance(pattern, str):
        return pattern
    parts = []
    for token in pattern:
        items = ", ".join(f"{k}: {v}" for k, v in token.items())
        parts.append("{" + items + "}")
    return "[" + ", ".join(parts) + "]"


class RuleSet:
    """The patterns of a set of codes, compiled once; :meth:`find` matches many segments."""

    def __init__(self, codes: Sequence[dict[str, Any]], nlp_model: str = ""):
        from spacy.matcher import Matcher, PhraseMatcher
        from spacy.tokens import Doc

        from coder.nlp import pipeline

        self._pipe = pipeline(nlp_model)
        self._lookup_lemmas = not nlp_model  # lemma = f(lower-case word) in the built-in one
        self.vocab = self._pipe.nlp.vocab
        self.matcher = Matcher(self.vocab)
        self.phrases = PhraseMatcher(self.vocab, attr="LEMMA")
        self.patterns: dict[str, _Pattern] = {}
        self.problems: list[str] = []  # patterns spaCy refused: "code: pattern: reason"
        self._hashes = np.zeros(0, dtype=np.uint64)
        self._sentinel = "\x00"  # separates windows in a Doc; no pattern can match it alone
        self._sentinel_hash = np.array([self.vocab.strings.add(self._sentinel)], dtype=np.uint64)
        for code in codes:
            for index, pattern in enumerate(code.get("patterns") or []):
                key = f"{code['id']}:{index}"
                try:
                    if isinstance(pattern, str):
                        lemmas = self._lemmas(pattern)
                        if not lemmas:
                            continue
                        doc = Doc(self.vocab, words=lemmas, lemmas=lemmas)
                        self.phrases.add(key, [doc])
                        self.patterns[key] = _Pattern(code["id"], index, pattern, lemmas,
                                                      [{w} for w in lemmas], len(lemmas))
                    else:
                        tokens = [_lower_lemmas(t) for t in pattern]
                        self.matcher.add(key, [tokens])
                        required, length = self._shape(tokens)
                        self.patterns[key] = _Pattern(code["id"], index, pattern_label(pattern),
                                                      None, required, length)
                except (ValueError, KeyError, TypeError) as exc:
                    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    self.problems.append(f"{code['name']}: {pattern_label(pattern)}: {reason}")

    def __len__(self) -> int:
        return len(self.patterns)

    def _lemmas(self, text: str) -> list[str]:
        lemmas, _ = next(self._pipe.analyse([text.lower()]))
        return lemmas.split()

    def _shape(self, tokens: list[dict[str, Any]]) -> tuple[list[set[str]], int | None]:
        """The lemmas each required token can have (empty set: anything) and the longest
        match in tokens (None when unbounded)."""
        required: list[set[str]] = []
        length: int | None = 0
        for token in tokens:
            op = str(token.get("OP", ""))
            if op in ("+", "*") or (op.startswith("{") and op.rstrip("}").endswith(",")):
                length = None
            elif length is not None:
                if op.startswith("{"):
                    length += int(op.strip("{}").split(",")[-1] or 1)
                else:
                    length += 1
            if op in ("", "+", "1") or (op.startswith("{") and not op.startswith(("{0", "{,"))):
                required.append(self._allowed(token))
        return required, length

    def _allowed(self, token: dict[str, Any]) -> set[str]:
        """Lemmas a token matching ``token`` can have; empty when that cannot be known."""
        if "LEMMA" in token:
            return set(_values(token["LEMMA"]))
        for key in _WORD_KEYS:
            if key in token and self._lookup_lemmas:
                out: set[str] = set()
                for word in _values(token[key]):
                    lemmas = self._lemmas(word)
                    if len(lemmas) != 1:
                        return set()
                    out.add(lemmas[0])
                return out
        return set()

    # -- matching --------------------------------------------------------------------------
    def find(self, featurizer: Featurizer, tokens: Tokens,
             segments: Sequence[tuple[str, str, str]]) -> dict[int, list[RuleHit]]:
        """Matches in ``segments`` (text, lemmas, tokens), tokenized as ``tokens`` with
        ``featurizer``'s vocabulary; returns ``{segment index: hits}``.

        Every window of every segment goes into one ``Doc``, windows separated by a
        sentinel token; a match that touches a sentinel is not a match."""
        if not self.patterns:
            return {}
        windows = self._windows(featurizer, tokens)
        lengths = np.diff(tokens.offsets)
        # Segments whose stored offsets and lemmas disagree cannot be matched reliably.
        segs = [s for s in sorted(windows) if segments[s][2].count(":") == lengths[s]]
        if not segs:
            return {}
        self._grow_hashes(featurizer)
        flat = np.fromstring(" ".join(segments[s][2] for s in segs).replace(":", " "),
                             dtype=np.int64, sep=" ")
        starts, ends = flat[0::2].tolist(), flat[1::2].tolist()
        words: list[str] = []
        pieces: list[tuple[int, int, int]] = []  # (segment, first token, end token)
        sentinel = self._sentinel
        base = 0
        for seg in segs:
            text = segments[seg][0]
            n = int(lengths[seg])
            for lo, hi in _merge(windows[seg], n):
                words += [text[a:b] for a, b in zip(starts[base + lo:base + hi],
                                                     ends[base + lo:base + hi], strict=True)]
                words.append(sentinel)
                pieces.append((seg, lo, hi))
            base += n
        return self._run(words, pieces, tokens, segs, segments, lengths, starts, ends)

    def _run(self, words: list[str], pieces: list[tuple[int, int, int]], tokens: Tokens,
             segs: list[int], segments: Sequence[tuple[str, str, str]], lengths: np.ndarray,
             starts: list[int], ends: list[int]) -> dict[int, list[RuleHit]]:
        from spacy.attrs import LEMMA
        from spacy.tokens import Doc

        # Per Doc token: its segment and token number there (-1 for a sentinel).
        sizes = np.array([hi - lo + 1 for _, lo, hi in pieces], dtype=np.int64)
        piece_of = np.repeat(np.arange(len(pieces)), sizes)
        first = np.cumsum(sizes) - sizes
        info = np.array(pieces, dtype=np.int64).reshape(-1, 3)
        local = np.arange(len(words)) - first[piece_of] + info[piece_of, 1]
        seg_of = info[piece_of, 0]
        is_sentinel = np.zeros(len(words), dtype=bool)
        is_sentinel[np.cumsum(sizes) - 1] = True
        seg_of[is_sentinel] = -1
        ids = tokens.ids[np.where(is_sentinel, 0, tokens.offsets[np.maximum(seg_of, 0)] + local)]
        hashes = np.where(is_sentinel, self._sentinel_hash[0], self._hashes[ids])
        doc = Doc(self.vocab, words=words, spaces=[True] * len(words))
        doc.from_array([LEMMA], hashes.astype(np.uint64).reshape(-1, 1))
        matches = list(self.phrases(doc))
        if len(self.matcher):
            matches += self.matcher(doc)
        if not matches:
            return {}
        found = np.array(matches, dtype=np.uint64).reshape(-1, 3)
        key_hash, start, end = found[:, 0], found[:, 1].astype(np.int64), found[:, 2].astype(
            np.int64)
        sentinels_before = np.concatenate([[0], np.cumsum(is_sentinel)])
        inside = sentinels_before[end] == sentinels_before[start]  # touches no boundary
        key_hash, start, end = key_hash[inside], start[inside], end[inside]
        keys = {h: self.vocab.strings[int(h)] for h in np.unique(key_hash).tolist()}
        seg, lo, hi = seg_of[start], local[start], local[end - 1] + 1
        # Overlapping matches of one pattern in one segment: keep the longest (rare).
        order = np.lexsort((lo, key_hash, seg))
        seg, lo, hi, key_hash = seg[order], lo[order], hi[order], key_hash[order]
        group_start = np.ones(len(seg), dtype=bool)
        group_start[1:] = (seg[1:] != seg[:-1]) | (key_hash[1:] != key_hash[:-1])
        clash = np.zeros(len(seg), dtype=bool)
        clash[1:] = ~group_start[1:] & (lo[1:] < hi[:-1])
        keep = np.ones(len(seg), dtype=bool)
        if clash.any():
            groups = np.cumsum(group_start) - 1
            for g in np.unique(groups[clash | np.roll(clash, -1)]).tolist():
                members = np.flatnonzero(groups == g)
                spans = list(zip(lo[members].tolist(), hi[members].tolist(), strict=True))
                best = set(_longest(spans))
                for m, span in zip(members.tolist(), spans, strict=True):
                    keep[m] = span in best
                    best.discard(span)
        first_token = {seg_id: 0 for seg_id in segs}
        base = 0
        for seg_id in segs:
            first_token[seg_id] = base
            base += int(lengths[seg_id])
        out: dict[int, list[RuleHit]] = {}
        patterns = self.patterns
        for s_, a_, b_, k_ in zip(seg[keep].tolist(), lo[keep].tolist(), hi[keep].tolist(),
                                  key_hash[keep].tolist(), strict=True):
            pattern = patterns[keys[k_]]
            b0 = first_token[s_]
            a, b = starts[b0 + a_], ends[b0 + b_ - 1]
            out.setdefault(s_, []).append(
                RuleHit(pattern.code_id, pattern.index, a, b, segments[s_][0][a:b]))
        return out

    def _windows(self, featurizer: Featurizer,
                 tokens: Tokens) -> dict[int, list[tuple[int, int]]]:
        """Token ranges per segment where some pattern may match."""
        windows: dict[int, list[tuple[int, int]]] = {}
        everywhere = [p for p in self.patterns.values()
                      if p.length is None or not any(p.required)]
        if everywhere:
            lengths = np.diff(tokens.offsets)
            for seg in np.flatnonzero(lengths).tolist():
                windows[seg] = [(0, int(lengths[seg]))]
        anchored = [p for p in self.patterns.values() if p not in everywhere]
        if not anchored:
            return windows
        counts = np.bincount(tokens.ids, minlength=len(featurizer.words))
        vocab = featurizer.vocab
        for p in anchored:
            choices = []
            for at, allowed in enumerate(p.required):
                if not allowed:
                    continue
                ids = [vocab[w] for w in allowed if w in vocab]
                choices.append((int(counts[ids].sum()) if ids else 0, at, ids))
            _, at, ids = min(choices)
            p.anchor, p.anchor_at = ids, at if p.phrase is not None else None
        table = np.zeros(len(featurizer.words), dtype=bool)
        for p in anchored:
            table[p.anchor] = True
        positions = np.flatnonzero(table[tokens.ids])
        if not len(positions):
            return windows
        found = tokens.ids[positions]
        seg_of = np.searchsorted(tokens.offsets, positions, side="right") - 1
        for p in anchored:
            if not p.anchor:
                continue
            mine = np.isin(found, p.anchor)
            pos, segs = positions[mine], seg_of[mine]
            if p.phrase is not None:
                pos, segs = self._whole_phrase(featurizer, tokens, p, pos, segs)
            starts = tokens.offsets[segs]
            span = p.length or 1
            for seg, local in zip(segs.tolist(), (pos - starts).tolist(), strict=True):
                windows.setdefault(seg, []).append((local - span + 1, local + span))
        return windows

    @staticmethod
    def _whole_phrase(featurizer: Featurizer, tokens: Tokens, p: _Pattern, pos: np.ndarray,
                      segs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Keep anchor positions where the phrase's other lemmas are in place too."""
        assert p.phrase is not None, "only phrase patterns have a whole phrase"
        keep = np.ones(len(pos), dtype=bool)
        first = pos - p.anchor_at
        lo, hi = tokens.offsets[segs], tokens.offsets[segs + 1]
        keep &= (first >= lo) & (first + len(p.phrase) <= hi)
        for k, word in enumerate(p.phrase):
            want = featurizer.vocab.get(word, -1)
            at = np.clip(first + k, 0, max(len(tokens.ids) - 1, 0))
            keep &= tokens.ids[at] == want
        return pos[keep], segs[keep]

    def _grow_hashes(self, featurizer: Featurizer) -> None:
        """spaCy string hashes of the vocabulary's lemmas (to set a Doc's lemmas at once)."""
        have = len(self._hashes)
        if have < len(featurizer.words):
            add = self.vocab.strings.add
            new = np.array([add(w) for w in featurizer.words[have:]], dtype=np.uint64)
            self._hashes = np.concatenate([self._hashes, new])

    def match_segment(self, featurizer: Featurizer, text: str, lemmas: str,
                      tokens: str) -> list[RuleHit]:
        """Matches in one segment (its whole length)."""
        toks = featurizer.tokenize([lemmas])
        return self.find(featurizer, toks, [(text, lemmas, tokens)]).get(0, [])


def _values(value: Any) -> list[str]:
    """A token attribute's literal values: a string, or the list of an ``IN``."""
    if isinstance(value, str):
        return [value.lower()]
    if isinstance(value, dict) and set(value) == {"IN"}:
        return [str(v).lower() for v in value["IN"]]
    return []


def _lower_lemmas(token: dict[str, Any]) -> dict[str, Any]:
    """LEMMA values in lower case (stored lemmas are lower-cased)."""
    out = dict(token)
    value = out.get("LEMMA")
    if isinstance(value, str):
        out["LEMMA"] = value.lower()
    elif isinstance(value, dict):
        out["LEMMA"] = {k: [str(x).lower() for x in v] if isinstance(v, list) else v
                        for k, v in value.items()}
    return out


def _longest(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Non-overlapping spans, longer (then earlier) first, in text order (as spaCy's
    ``filter_spans``)."""
    kept: list[tuple[int, int]] = []
    for lo, hi in sorted(set(spans), key=lambda s: (s[0] - s[1], s[0])):
        if all(hi <= a or lo >= b for a, b in kept):
            kept.append((lo, hi))
    return sorted(kept)


def _merge(ranges: list[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Clip ranges to ``[0, length)`` and merge the ones that overlap or touch."""
    if len(ranges) == 1:
        lo, hi = max(ranges[0][0], 0), min(ranges[0][1], length)
        return [(lo, hi)] if lo < hi else []
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted((max(lo, 0), min(hi, length)) for lo, hi in ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        elif lo < hi:
            merged.append((lo, hi))
    return merged
