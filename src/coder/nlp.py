"""The spaCy pipeline: tokens, lower-cased lemmas and sentences, computed once at import.

By default this is ``spacy.blank("en")`` with a sentencizer and the English lookup table
from spacy-lookups-data, so nothing is ever downloaded. A study may name an installed
pipeline in ``coder.toml`` (``nlp_model``); its own lemmatizer is then used.

Each segment stores its analysis so later parts (rules, the model, quote selection) never
re-parse: ``lemmas`` is the space-joined lemmas of its tokens and ``tokens`` the matching
``start:end`` character offsets into the segment text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, cast

from coder.errors import CoderError

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokenizer import Tokenizer
    from spacy.tokens import Doc


class Pipeline:
    """Tokenise, lemmatise and split sentences with spaCy."""

    def __init__(self, model: str = ""):
        import spacy

        self.model = model
        if model:
            try:
                self.nlp: Language = spacy.load(model)
            except OSError as exc:
                raise CoderError(
                    f"the spaCy pipeline {model!r} named in coder.toml is not installed "
                    "(install its package, or set nlp_model = \"\" for the built-in one)"
                ) from exc
            if not (self.nlp.has_pipe("sentencizer") or self.nlp.has_pipe("parser")
                    or self.nlp.has_pipe("senter")):
                self.nlp.add_pipe("sentencizer")
            self._table = None
        else:
            from spacy.lookups import load_lookups

            self.nlp = spacy.blank("en")
            self.nlp.add_pipe("sentencizer")
            self._table = load_lookups("en", ["lemma_lookup"]).get_table("lemma_lookup")
        self._lemmas: dict[int, str] = {}
        self._sentencizer = self.nlp.get_pipe("sentencizer") if self.nlp.has_pipe(
            "sentencizer") else None

    # -- per-text analysis -----------------------------------------------------------------
    def docs(self, texts: Iterable[str], batch_size: int = 256) -> Iterator[Doc]:
        """Tokenised docs: only the tokenizer for the built-in pipeline, else the whole one."""
        if self._table is not None:
            tokenizer = cast("Tokenizer", self.nlp.tokenizer)  # spaCy types it as a callable
            yield from tokenizer.pipe(texts, batch_size=batch_size)
        else:
            yield from self.nlp.pipe(texts, batch_size=batch_size)

    def lemma(self, token) -> str:
        """The lower-cased lemma of one token."""
        if self._table is not None:
            found = self._table.get(token.lower)
            return found if found is not None else token.lower_
        return (token.lemma_ or token.text).lower()

    def analyse(self, texts: Iterable[str]) -> Iterator[tuple[str, str]]:
        """For each text, ``(lemmas, tokens)`` as stored on a segment."""
        if self._table is None:
            for doc in self.docs(texts):
                words = [t for t in doc if not t.is_space]
                yield (" ".join(self.lemma(t) for t in words),
                       " ".join(f"{t.idx}:{t.idx + len(t)}" for t in words))
            return
        from spacy.attrs import IDX, IS_SPACE, LENGTH, LOWER

        cache = self._lemmas
        strings = self.nlp.vocab.strings
        table = self._table
        attrs = [LOWER, IDX, LENGTH, IS_SPACE]
        for doc in self.docs(texts):
            lemmas: list[str] = []
            spans: list[str] = []
            for lower, start, length, space in doc.to_array(attrs).tolist():
                if space:
                    continue
                word = cache.get(lower)
                if word is None:
                    found = table.get(lower)
                    word = cache[lower] = found if found is not None else strings[lower]
                lemmas.append(word)
                spans.append(f"{start}:{start + length}")
            yield " ".join(lemmas), " ".join(spans)

    def sentences(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the sentences of ``text``, without surrounding whitespace."""
        if self._sentencizer is not None:
            doc = self._sentencizer(self.nlp.make_doc(text))
        else:
            doc = self.nlp(text)
        spans = []
        for sent in doc.sents:
            chunk = sent.text
            stripped = chunk.strip()
            if not stripped:
                continue
            start = sent.start_char + (len(chunk) - len(chunk.lstrip()))
            spans.append((start, start + len(stripped)))
        return spans


@lru_cache(maxsize=4)
def pipeline(model: str = "") -> Pipeline:
    """The shared pipeline for a model name (built once per process)."""
    return Pipeline(model)


def token_spans(tokens: str) -> list[tuple[int, int]]:
    """Parse a segment's stored ``tokens`` column back into ``(start, end)`` offsets."""
    out = []
    for item in tokens.split():
        start, _, end = item.partition(":")
        out.append((int(start), int(end)))
    return out
