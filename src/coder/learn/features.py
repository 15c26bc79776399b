"""Word 1-2 gram TF-IDF features from the lemmas stored on each segment.

Segments are never re-parsed: a segment's ``lemmas`` column is split on spaces and mapped to
integer ids (one dictionary lookup per token, the only per-token Python work), and
everything after that is numpy on whole batches: content-word unigrams, bigrams of
neighbouring content words (stop words and punctuation dropped, so "voice and choice" gives
"voice choice"), document frequencies, sublinear TF-IDF and L2-normalised rows.

Bigrams count half as much as words (``BIGRAM_WEIGHT``): a segment has about as many
bigrams as words, and at full weight they halve every word's share of the normalised row,
which cost 0.17 in average precision on the synthetic benchmark and nothing on the demo.

Bigrams are hashed into 2**22 buckets (a few collisions among hundreds of thousands of
bigrams cost nothing measurable); each bucket remembers the first bigram it saw, so a
feature can always be shown as words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

BIGRAM_BITS = 22
SMALL_STUDY = 2000  # segments; below this every word is a feature
BIGRAM_WEIGHT = 0.5  # bigram TF-IDF relative to unigrams (before rows are normalised)
_SENTINEL = "\x00"  # a token no lemma can be: separates segments in one joined string
_CHUNK = 4000  # segments tokenized per step (keeps temporary lists small)
_FIT_CHUNK = 20_000  # segments featurized per step


def stop_words() -> frozenset[str]:
    """spaCy's English stop words (lower-case), plus the lemmas our lookup table gives them."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | {"be", "have", "do", "go", "get", "say", "thing", "lot",
                                    "kind", "sort", "yeah", "okay", "oh", "um", "uh", "like"}


@dataclass
class Tokens:
    """A batch of segments as token ids: ``ids[offsets[i]:offsets[i + 1]]`` is segment i."""

    ids: np.ndarray  # int32
    offsets: np.ndarray  # int64, len = segments + 1

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def doc_of_token(self) -> np.ndarray:
        return np.repeat(np.arange(len(self), dtype=np.int32), np.diff(self.offsets))

    def slice(self, start: int, end: int) -> Tokens:
        """Segments ``start`` to ``end`` (exclusive)."""
        lo, hi = self.offsets[start], self.offsets[end]
        return Tokens(self.ids[lo:hi], self.offsets[start:end + 1] - lo)


class Featurizer:
    """A vocabulary of lemmas and the TF-IDF feature space fitted on a study's segments.

    ``tokenize`` grows the vocabulary (ids are stable); ``fit_transform`` chooses the
    features (document frequency >= ``min_df``; by default 1 below ``SMALL_STUDY``
    segments, where a word said once may be the one the codebook names, else 2) and their
    IDF; ``transform`` maps new segments into that space (unseen words are dropped).
    """

    def __init__(self, min_df: int | None = None, bigram_weight: float = BIGRAM_WEIGHT):
        self.min_df = min_df
        self.bigram_weight = bigram_weight
        self.vocab: dict[str, int] = {_SENTINEL: 0}
        self.words: list[str] = [_SENTINEL]
        self._stop = stop_words()
        self._content = np.zeros(1, dtype=bool)
        self.fitted_vocab = 0  # vocabulary size when the feature space was chosen
        self.column: np.ndarray | None = None  # key -> column (-1: not a feature)
        self.idf = np.zeros(0, dtype=np.float32)
        self._scale = np.zeros(0, dtype=np.float32)
        self.terms: list[str] = []  # column -> words
        self._bigram_first: np.ndarray | None = None

    @property
    def n_features(self) -> int:
        return len(self.idf)

    # -- tokens ----------------------------------------------------------------------------
    def tokenize(self, lemmas: Sequence[str]) -> Tokens:
        """Token ids of each segment's stored lemmas (new lemmas join the vocabulary)."""
        vocab = self.vocab
        parts: list[np.ndarray] = []
        for start in range(0, len(lemmas), _CHUNK):
            chunk = lemmas[start:start + _CHUNK]
            words = f" {_SENTINEL} ".join(chunk).split()
            try:
                ids = np.fromiter(map(vocab.__getitem__, words), np.int32, len(words))
            except KeyError:  # new lemmas (looking for them first would cost every batch)
                self._add(sorted(set(words).difference(vocab)))
                ids = np.fromiter(map(vocab.__getitem__, words), np.int32, len(words))
            parts.append(np.concatenate([ids, np.zeros(1, dtype=np.int32)]))
        ids = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
        ends = np.flatnonzero(ids == 0)  # one sentinel after every segment
        offsets = np.zeros(len(lemmas) + 1, dtype=np.int64)
        offsets[1:] = ends - np.arange(len(ends))
        return Tokens(ids[ids != 0], offsets)

    def _add(self, words: list[str]) -> None:
        first = len(self.words)
        for n, word in enumerate(words):
            self.vocab[word] = first + n
        self.words += words
        flags = [word not in self._stop and len(word) > 1 and any(c.isalnum() for c in word)
                 for word in words]
        self._content = np.concatenate([self._content, np.array(flags, dtype=bool)])

    def is_content(self, word: str) -> bool:
        return word not in self._stop and len(word) > 1 and any(c.isalnum() for c in word)

    def ids_of(self, words: Sequence[str]) -> list[int]:
        """Ids of known words (unknown ones are left out)."""
        return [self.vocab[w] for w in words if w in self.vocab]

    # -- features --------------------------------------------------------------------------
    def _keys(self, tokens: Tokens, vocab_size: int) -> tuple[sp.csr_matrix, tuple]:
        """Counts of unigram and bigram keys per segment (columns: the key space), and the
        bigrams seen as (bucket, left id, right id) arrays."""
        n = len(tokens)
        doc = tokens.doc_of_token()
        keep = self._content[tokens.ids] & (tokens.ids < vocab_size)
        ids, doc = tokens.ids[keep].astype(np.int64), doc[keep]
        # Each content token is followed by the bigram it starts (if its segment goes on):
        # interleaving keeps every segment's keys together without sorting.
        follows = np.zeros(len(ids), dtype=bool)
        follows[:-1] = doc[1:] == doc[:-1]
        lefts, rights = ids[:-1][follows[:-1]], ids[1:][follows[:-1]]
        buckets = (lefts * 0x9E3779B1 + rights * 0x85EBCA77 + (lefts >> 7)) & (
            (1 << BIGRAM_BITS) - 1)
        keys = np.empty(2 * len(ids), dtype=np.int64)
        keys[0::2] = ids
        keys[1::2][follows] = buckets + vocab_size
        present = np.ones(2 * len(ids), dtype=bool)
        present[1::2] = follows
        keys = keys[present]
        counts = np.bincount(doc, minlength=n) + np.bincount(doc[follows], minlength=n)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        matrix = sp.csr_matrix((np.ones(len(keys), dtype=np.float32),
                                keys.astype(np.int32), indptr),
                               shape=(n, vocab_size + (1 << BIGRAM_BITS)))
        matrix.sum_duplicates()
        return matrix, (buckets, lefts, rights)

    def fit_transform(self, tokens: Tokens) -> sp.csr_matrix:
        """Choose the features on these segments and return their TF-IDF rows (built in
        chunks of segments, which keeps the temporary arrays small)."""
        vocab_size = len(self.words)
        n_keys = vocab_size + (1 << BIGRAM_BITS)
        df = np.zeros(n_keys, dtype=np.int64)
        first = np.full(1 << BIGRAM_BITS, -1, dtype=np.int64)  # a bigram seen in a bucket
        chunks: list[sp.csr_matrix] = []
        for start in range(0, len(tokens), _FIT_CHUNK):
            part = tokens.slice(start, min(start + _FIT_CHUNK, len(tokens)))
            counts, (buckets, lefts, rights) = self._keys(part, vocab_size)
            df += np.bincount(counts.indices, minlength=n_keys)
            unseen = first[buckets] < 0
            pairs = lefts[unseen] * (1 << 32) + rights[unseen]
            first[buckets[unseen][::-1]] = pairs[::-1]  # the first of each bucket wins
            chunks.append(counts)
        min_df = self.min_df or (1 if len(tokens) < SMALL_STUDY else 2)
        chosen = np.flatnonzero(df >= min_df)
        column = np.full(n_keys, -1, dtype=np.int32)
        column[chosen] = np.arange(len(chosen), dtype=np.int32)
        n = max(len(tokens), 1)
        self.idf = (np.log((1.0 + n) / (1.0 + df[chosen])) + 1.0).astype(np.float32)
        self.column, self.fitted_vocab = column, vocab_size
        self._scale = np.where(chosen < vocab_size, 1.0, self.bigram_weight).astype(np.float32)
        terms: list[str] = []
        for key in chosen.tolist():
            if key < vocab_size:
                terms.append(self.words[key])
            else:
                pair = int(first[key - vocab_size])
                terms.append(f"{self.words[pair >> 32]} {self.words[pair & 0xFFFFFFFF]}"
                             if pair >= 0 else "?")
        self.terms = terms
        rows = [self._weigh(c) for c in chunks]
        del chunks
        if not rows:
            return sp.csr_matrix((0, self.n_features), dtype=np.float32)
        return sp.vstack(rows, format="csr") if len(rows) > 1 else rows[0]

    def transform(self, tokens: Tokens) -> sp.csr_matrix:
        """TF-IDF rows in the fitted feature space."""
        if self.column is None:
            raise RuntimeError("transform before fit_transform")
        return self._weigh(self._keys(tokens, self.fitted_vocab)[0])

    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        if self.column is None:
            raise RuntimeError("weigh before fit_transform")
        cols = self.column[counts.indices]
        keep = cols >= 0
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))[keep]
        indptr = np.zeros(counts.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=counts.shape[0]), out=indptr[1:])
        cols = cols[keep]
        data = (1.0 + np.log(counts.data[keep])) * self.idf[cols] * self._scale[cols]
        squares = np.concatenate([[0.0], np.cumsum(data.astype(np.float64) ** 2)])
        norms = np.sqrt(squares[indptr[1:]] - squares[indptr[:-1]])
        norms[norms == 0] = 1.0
        data /= np.repeat(norms, np.diff(indptr)).astype(np.float32)
        matrix = sp.csr_matrix((data.astype(np.float32), cols, indptr),
                               shape=(counts.shape[0], self.n_features))
        matrix.has_sorted_indices = False
        return matrix

    def vectorize_text(self, lemmas: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF rows for lemma strings that are not segments (codebook text)."""
        return self.transform(self.tokenize(list(lemmas)))


def term_spans(lemmas: str, tokens: str, term: str,
               content: Callable[[str], bool]) -> list[tuple[int, int]]:
    """Character spans in a segment's text where ``term`` (one lemma, or two content
    lemmas with only non-content tokens between) occurs."""
    from coder.nlp import token_spans

    words = lemmas.split()
    spans = token_spans(tokens)
    if len(words) != len(spans):
        return []
    parts = term.split()
    out: list[tuple[int, int]] = []
    for i, word in enumerate(words):
        if word != parts[0]:
            continue
        if len(parts) == 1:
            out.append(spans[i])
            continue
        j = i + 1
        while j < len(words) and not content(words[j]):
            j += 1
        if j < len(words) and words[j] == parts[1]:
            out.append((spans[i][0], spans[j][1]))
    return out
