"""Codebook patterns as spaCy matchers over stored tokens, features and the prior."""

from __future__ import annotations

import numpy as np
import pytest
from spacy.tokens import Doc

from coder.learn.corpus import Corpus
from coder.learn.features import Featurizer, term_spans
from coder.learn.prior import CodebookPrior
from coder.learn.rules import RuleSet, _longest
from coder.nlp import pipeline, token_spans
from coder.store.codes import list_codes
from conftest import open_store


def _segments(store):
    return store.rows("SELECT s.id, s.ordinal, s.text, s.lemmas, s.tokens FROM segments s "
                      "ORDER BY s.ordinal")


def _hits(store):
    """{ordinal: [(code, matched text, start, end), ...]} from the bulk matcher."""
    codes = list_codes(store)
    names = {c["id"]: c["name"] for c in codes}
    rows = _segments(store)
    featurizer, rules = Featurizer(), RuleSet(codes)
    tokens = featurizer.tokenize([r["lemmas"] for r in rows])
    found = rules.find(featurizer, tokens, [(r["text"], r["lemmas"], r["tokens"]) for r in rows])
    return {rows[i]["ordinal"]: sorted((names[h.code_id], h.text, h.start, h.end) for h in hits)
            for i, hits in found.items()}, rows


def test_phrase_and_token_patterns_hit_with_their_place_in_the_text(demo):
    with open_store(demo) as store:
        hits, rows = _hits(store)
    text = {r["ordinal"]: r["text"] for r in rows}
    # "targeted pd" (lemmatised: target pd) matches "targeted PD"; the token pattern
    # [drive, "-"?, by] matches "drive-by"; "island of innovation" matches the plural.
    assert [(c, t) for c, t, *_ in hits[2]] == [("need targeted PD", "drive-by"),
                                                ("need targeted PD", "targeted PD")]
    assert [(c, t) for c, t, *_ in hits[4]] == [("islands of innovation",
                                                 "islands of innovation")]
    assert [(c, t) for c, t, *_ in hits[5]] == [("seat-time mandates", "seat time")]
    for ordinal, found in hits.items():
        for _, matched, start, end in found:
            assert text[ordinal][start:end] == matched
    assert set(hits) == {2, 4, 5}


def test_bulk_windows_find_exactly_what_whole_segment_docs_find(demo):
    """The bulk matcher builds Docs of short windows only; a plain Doc per segment (stored
    words and lemmas, no re-parse) must give the same hits."""
    with open_store(demo) as store:
        hits, rows = _hits(store)
        rules = RuleSet(list_codes(store))
    names = {c["id"]: c["name"] for c in list_codes(open_store(demo))}
    reference = {}
    for row in rows:
        spans = token_spans(row["tokens"])
        doc = Doc(rules.vocab, words=[row["text"][a:b] for a, b in spans],
                  lemmas=row["lemmas"].split())
        found: dict[str, list] = {}
        for match_id, start, end in [*rules.phrases(doc), *rules.matcher(doc)]:
            found.setdefault(rules.vocab.strings[match_id], []).append((start, end))
        out = []
        for key, spans_ in found.items():
            pattern = rules.patterns[key]
            for start, end in _longest(spans_):
                a, b = spans[start][0], spans[end - 1][1]
                out.append((names[pattern.code_id], row["text"][a:b], a, b))
        if out:
            reference[row["ordinal"]] = sorted(out)
    assert hits == reference


def test_token_patterns_anchor_on_lemmas_and_unbounded_ones_still_match(study):
    from coder.codebook import CodeSpec
    from coder.store.codes import apply_codebook
    from coder.store.transcripts import SegmentRow, insert_transcript

    texts = ["They were skeptical at first.", "Plenty of skepticism here, really.",
             "We went very very very slowly.", "Nothing to see."]
    analysed = list(pipeline().analyse(texts))
    with open_store(study) as store:
        with store.transaction():
            insert_transcript(store, name="t", source_path="", sha256="", fmt="txt",
                              segmentation="turn", metadata={}, text="\n".join(texts),
                              segments=[SegmentRow(i + 1, None, 0, len(t), None, None, t, *a)
                                        for i, (t, a) in enumerate(zip(texts, analysed,
                                                                       strict=True))])
            apply_codebook(store, [
                CodeSpec("doubt", patterns=[[{"LEMMA": {"IN": ["Skeptical", "skepticism"]}}]]),
                CodeSpec("slow", patterns=[[{"LOWER": "very", "OP": "+"}, {"LOWER": "slowly"}]]),
            ])
        hits, _ = _hits(store)
    assert hits == {1: [("doubt", "skeptical", 10, 19)],
                    2: [("doubt", "skepticism", 10, 20)],
                    3: [("slow", "very very very slowly", 8, 29)]}


def test_a_pattern_spacy_refuses_is_reported_not_fatal():
    rules = RuleSet([{"id": 1, "name": "odd", "patterns": [[{"LOWER": "a", "OP": "%"}],
                                                           "fine phrase"]}])
    assert len(rules) == 1
    assert rules.problems and rules.problems[0].startswith("odd: ")


def test_features_are_tfidf_of_lemma_unigrams_and_content_bigrams():
    featurizer = Featurizer(min_df=1)
    tokens = featurizer.tokenize(["voice and choice matter", "voice matter", ""])
    X = featurizer.fit_transform(tokens)
    assert X.shape[0] == 3 and X[2].nnz == 0
    assert np.allclose(np.sqrt(X.multiply(X).sum(axis=1)).A1[:2], 1.0)
    terms = {featurizer.terms[c] for c in X[0].indices}
    # Stop words ("and") are dropped and the bigram bridges them.
    assert terms == {"voice", "choice", "matter", "voice choice", "choice matter"}
    again = featurizer.transform(featurizer.tokenize(["voice and choice matter"]))
    assert np.allclose(again.toarray(), X[0].toarray())
    unseen = featurizer.transform(featurizer.tokenize(["entirely new words"]))
    assert unseen.nnz == 0


def test_term_spans_find_words_and_bigrams_in_the_text():
    text = "Voice and choice: students get voice, and more choice."
    (lemmas, tokens), = pipeline().analyse([text])
    featurizer = Featurizer()
    spans = term_spans(lemmas, tokens, "voice choice", featurizer.is_content)
    # As in the features, a bigram's words may have stop words and punctuation between.
    assert [text[a:b] for a, b in spans] == ["Voice and choice", "voice, and more choice"]
    assert [text[a:b] for a, b in term_spans(lemmas, tokens, "student",
                                             featurizer.is_content)] == ["students"]


def test_the_prior_reads_the_codebook_and_counts_exclude_against_a_code(demo):
    with open_store(demo) as store:
        corpus = Corpus.build(store)
    col = corpus.col[next(c["id"] for c in corpus.codes if c["name"] == "need targeted PD")]
    rows = {o: r for r, o in enumerate(corpus.ordinal.tolist())}
    # The segment asking for targeted PD is this code's best match in the interview.
    assert int(np.argmax(corpus.Q[:, col])) == rows[2]
    assert corpus.Q.max() <= corpus.prior_max + 1e-6
    # Exclude guidance counts against a code: the same text scores lower with it.
    featurizer = corpus.featurizer
    segment = featurizer.vectorize_text(["we need more targeted pd, praise of exist pd"])
    base = {"id": 1, "name": "need targeted PD", "definition": "targeted PD", "patterns": []}
    plain = CodebookPrior([base], featurizer).raw(segment)[0, 0]
    excluded = CodebookPrior([{**base, "exclude": "praise of existing PD"}],
                             featurizer).raw(segment)[0, 0]
    assert plain > excluded >= 0


@pytest.mark.parametrize("spans, kept", [
    ([(0, 1), (0, 3), (2, 3)], [(0, 3)]),
    ([(0, 2), (1, 3), (4, 5)], [(0, 2), (4, 5)]),
])
def test_overlapping_matches_keep_the_longest(spans, kept):
    assert _longest(spans) == kept
