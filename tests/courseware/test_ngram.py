"""Known-answer tests for the pure n-gram language model (no database, no Django)."""

import math
import time

import numpy as np
import pytest

from courseware.ngram import (
    BOS,
    DEFAULT_CORPUS_PATH,
    EOS,
    UNK,
    build_default_model,
    load_corpus_sentences,
    tokenize,
    train,
)

# Three sentences, small enough to derive every Kneser-Ney probability by hand.
TINY = [["a", "b"], ["a", "c"], ["b", "c"]]

# A slightly larger set with words seen once, so min_count=2 produces <unk>.
SMALL = [
    tokenize(line)
    for line in (
        "the cat sat on the mat.",
        "the dog sat on the log.",
        "a cat saw the dog.",
        "the dog saw a cat, then ran.",
        "a bird sang.",
        "the cat sat.",
    )
]

# The tiny corpus, with D = 0.5 at every order, padded for a trigram model:
#   <s> <s> a b </s>    <s> <s> a c </s>    <s> <s> b c </s>
# Vocabulary V = {</s>, <unk>, a, b, c}, |V| = 5.
#
# Unigram level (continuation counts = number of distinct words seen to the left):
#   a: {<s>} = 1   b: {<s>, a} = 2   c: {a, b} = 2   </s>: {b, c} = 2   <unk>: 0
#   S = 7, T = 4, weight on uniform = D*T/S = 2/7
#   p1(w) = max(a(w) - 0.5, 0)/7 + (2/7)(1/5):
#   p1(a) = 0.9/7   p1(b) = p1(c) = p1(</s>) = 1.9/7   p1(<unk>) = 0.4/7   (sum 7/7)
P1_A = 0.9 / 7
P1_B = 1.9 / 7
P1_UNK = 0.4 / 7
#
# Bigram level (continuation counts, except n-grams starting with <s>, which keep
# their raw counts since nothing can stand left of <s>):
#   after <s>: a 2 (raw), b 1 (raw)  -> S = 3, T = 2, lambda = 0.5*2/3 = 1/3
#   after a:   b 1, c 1              -> S = 2, T = 2, lambda = 0.5
#   after b:   </s> 1, c 1           -> S = 2, T = 2, lambda = 0.5
#   p2(a | <s>)  = 1.5/3 + (1/3)(0.9/7)  = 0.5 + 0.3/7
#   p2(b | a)    = 0.5/2 + 0.5(1.9/7)    = 0.25 + 0.95/7
#   p2(</s> | b) = 0.5/2 + 0.5(1.9/7)    = 0.25 + 0.95/7
#   p2(<unk> | a) = 0 + 0.5(0.4/7)       = 0.2/7
P2_A_AFTER_BOS = 0.5 + 0.3 / 7
P2_B_AFTER_A = 0.25 + 0.95 / 7
P2_UNK_AFTER_A = 0.2 / 7
#
# Trigram level (raw counts):
#   after (<s>, <s>): a 2, b 1  -> S = 3, T = 2, lambda = 1/3
#   after (<s>, a):   b 1, c 1  -> S = 2, T = 2, lambda = 0.5
#   after (a, b):     </s> 1    -> S = 1, T = 1, lambda = 0.5
#   p3(a | <s> <s>) = 1.5/3 + (1/3)(0.5 + 0.3/7)       = 2/3 + 0.1/7
#   p3(b | <s> a)   = 0.5/2 + 0.5(0.25 + 0.95/7)       = 0.375 + 0.475/7
#   p3(</s> | a b)  = 0.5/1 + 0.5(0.25 + 0.95/7)       = 0.625 + 0.475/7
P3_A_AT_START = 2 / 3 + 0.1 / 7
P3_B_AFTER_BOS_A = 0.375 + 0.475 / 7
P3_END_AFTER_A_B = 0.625 + 0.475 / 7


@pytest.fixture(scope="module")
def tiny_bigram():
    return train(TINY, order=2, min_count=1, discount=0.5)


@pytest.fixture(scope="module")
def tiny_trigram():
    return train(TINY, order=3, min_count=1, discount=0.5)


@pytest.fixture(scope="module")
def small_model():
    return train(SMALL, order=3, min_count=2)


@pytest.fixture(scope="module")
def kjv():
    return build_default_model()


# -- tokenizer ------------------------------------------------------------------


def test_tokenize_lowercases_keeps_apostrophes_and_splits_punctuation():
    assert tokenize("In the beginning, God's WORD; 42 (amen)!") == [
        "in", "the", "beginning", ",", "god's", "word", ";", "amen", "!",
    ]  # fmt: skip


def test_tokenize_reads_typographic_apostrophes_like_plain_ones():
    assert tokenize("Don\u2019t") == tokenize("don't") == ["don't"]


def test_tokenize_of_text_without_words_is_empty():
    assert tokenize("   123 -- ### ") == []


# -- hand-derived Kneser-Ney probabilities -------------------------------------


def test_bigram_kn_probabilities_match_hand_derivation(tiny_bigram):
    # Same tiny corpus with order 2: the bigram level is now the top (raw counts),
    # which for these n-grams equal the values derived above.
    assert tiny_bigram.vocab == (EOS, UNK, "a", "b", "c")
    assert tiny_bigram.prob([], "a") == pytest.approx(P2_A_AFTER_BOS, abs=1e-12)
    assert tiny_bigram.prob(["a"], "b") == pytest.approx(P2_B_AFTER_A, abs=1e-12)
    assert tiny_bigram.prob(["a"], "zebra") == pytest.approx(P2_UNK_AFTER_A, abs=1e-12)


def test_trigram_kn_probabilities_match_hand_derivation(tiny_trigram):
    assert tiny_trigram.prob([], "a") == pytest.approx(P3_A_AT_START, abs=1e-12)
    assert tiny_trigram.prob(["a"], "b") == pytest.approx(P3_B_AFTER_BOS_A, abs=1e-12)
    assert tiny_trigram.prob(["a", "b"], EOS) == pytest.approx(P3_END_AFTER_A_B, abs=1e-12)


def test_unseen_context_backs_off_to_the_shorter_context(tiny_trigram):
    # (c, a) never occurred, so p(b | c a) = p2(b | a); (zebra) is <unk>, never seen
    # as a context, so p(a | zebra) = p1(a) and p(<unk> | zebra) = p1(<unk>).
    assert tiny_trigram.prob(["c", "a"], "b") == pytest.approx(P2_B_AFTER_A, abs=1e-12)
    assert tiny_trigram.prob(["zebra"], "a") == pytest.approx(P1_A, abs=1e-12)
    assert tiny_trigram.prob(["zebra"], "b") == pytest.approx(P1_B, abs=1e-12)
    assert tiny_trigram.prob(["zebra"], "yak") == pytest.approx(P1_UNK, abs=1e-12)


def test_cross_entropy_of_tiny_sentence_matches_hand_computation(tiny_trigram):
    # "a b" scores a, b and </s>:
    #   nats = -ln(2/3 + 0.1/7) - ln(0.375 + 0.475/7) - ln(0.625 + 0.475/7)
    #        = -ln(0.680952) - ln(0.442857) - ln(0.692857)
    #        =  0.384263 + 0.814508 + 0.366931 = 1.565702 nats
    #   mean = 1.565702 / 3 = 0.521901 nats = 0.752944 bits; perplexity = e^0.521901 = 1.685228
    result = tiny_trigram.score("a b")
    expected_total = -(
        math.log(P3_A_AT_START) + math.log(P3_B_AFTER_BOS_A) + math.log(P3_END_AFTER_A_B)
    )
    assert [row.vocab_token for row in result.rows] == ["a", "b", EOS]
    assert result.total_nats == pytest.approx(expected_total, abs=1e-12)
    assert result.total_nats == pytest.approx(1.565702, abs=1e-6)
    assert result.mean_nats == pytest.approx(expected_total / 3, abs=1e-12)
    assert result.mean_bits == pytest.approx(0.752944, abs=1e-6)
    assert result.perplexity == pytest.approx(1.685228, abs=1e-6)
    assert result.rows[1].bits == pytest.approx(-math.log2(P3_B_AFTER_BOS_A), abs=1e-12)


def test_estimated_discounts_follow_ney_formula():
    # D = n1 / (n1 + 2 n2) per order, from the counts tabulated above:
    #   unigram continuation counts 1, 2, 2, 2          -> n1 = 1, n2 = 3 -> 1/7
    #   bigram counts 2, 1, 1, 1, 1, 2, 1               -> n1 = 5, n2 = 2 -> 5/9
    #   trigram raw counts 2, 1, 1, 1, 1, 1, 1, 1       -> n1 = 7, n2 = 1 -> 7/9
    model = train(TINY, order=3, min_count=1)
    assert model.discounts == pytest.approx((1 / 7, 5 / 9, 7 / 9), abs=1e-12)


# -- proper distributions --------------------------------------------------------


@pytest.mark.parametrize(
    "context",
    [
        [],
        ["the"],
        ["the", "cat"],  # seen trigram context
        ["cat", "the"],  # seen words, unseen pair
        ["zebra", "quokka"],  # unknown words only
        ["the", "zebra"],  # unknown word last
        ["sat", "on", "the", "mat", ".", "the"],  # longer than the order
        ["the", "cat", EOS],  # a finished sentence: a new one starts
    ],
)
def test_probabilities_sum_to_one_over_the_vocabulary(small_model, context):
    probs = small_model.distribution(context)
    assert probs.shape == (small_model.vocab_size,)
    assert abs(probs.sum() - 1.0) < 1e-9
    assert (probs > 0).all()
    assert abs(sum(small_model.prob(context, word) for word in small_model.vocab) - 1.0) < 1e-9


@pytest.mark.parametrize("context", [[], ["a"], ["a", "b"], ["c", "a"], ["zebra"]])
def test_tiny_hand_checked_model_is_a_proper_distribution(tiny_trigram, context):
    assert abs(tiny_trigram.distribution(context).sum() - 1.0) < 1e-9


def test_distribution_agrees_with_prob_for_every_word(small_model):
    context = ["the", "dog"]
    probs = small_model.distribution(context)
    singles = np.array([small_model.prob(context, word) for word in small_model.vocab])
    assert np.allclose(probs, singles, rtol=0, atol=1e-15)


def test_vocabulary_has_end_and_unknown_but_not_start(small_model):
    assert EOS in small_model.vocab
    assert UNK in small_model.vocab
    assert BOS not in small_model.vocab
    with pytest.raises(ValueError):
        small_model.prob(["the"], BOS)


def test_words_seen_fewer_than_min_count_times_become_unknown(small_model):
    assert "bird" not in small_model.vocab  # seen once
    assert "cat" in small_model.vocab
    assert small_model.vocab_token("bird") == UNK
    assert small_model.prob(["a"], "bird") == small_model.prob(["a"], UNK)


def test_unknown_words_get_nonzero_probability(small_model):
    result = small_model.score("the aardvark sat")
    unknown = result.rows[1]
    assert unknown.token == "aardvark"
    assert unknown.is_unknown
    assert unknown.probability > 0
    assert math.isfinite(result.perplexity)
    assert result.n_unknown == 1


def test_a_sentence_boundary_in_the_context_starts_a_new_sentence(tiny_trigram):
    assert np.array_equal(tiny_trigram.distribution(["a", "b", EOS]), tiny_trigram.distribution([]))


# -- scoring ----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "123 ###", []])
def test_empty_input_gives_an_empty_score_without_dividing_by_zero(small_model, text):
    result = small_model.score(text)
    assert result.is_empty
    assert result.rows == ()
    assert result.total_nats == 0.0
    assert result.mean_nats is None
    assert result.mean_bits is None
    assert result.perplexity is None


def test_score_counts_the_end_token_unless_asked_not_to(small_model):
    with_end = small_model.score("the cat sat")
    without_end = small_model.score("the cat sat", include_end=False)
    assert [row.token for row in with_end.rows] == ["the", "cat", "sat", EOS]
    assert [row.token for row in without_end.rows] == ["the", "cat", "sat"]
    assert with_end.rows[:3] == without_end.rows


def test_score_means_and_perplexity_are_consistent(small_model):
    result = small_model.score("a cat sat on the log.")
    nats = [row.nats for row in result.rows]
    assert result.mean_nats == pytest.approx(sum(nats) / len(nats), abs=1e-12)
    assert result.mean_bits == pytest.approx(result.mean_nats / math.log(2), abs=1e-12)
    assert result.perplexity == pytest.approx(math.exp(result.mean_nats), abs=1e-9)
    for row in result.rows:
        assert row.nats == pytest.approx(-math.log(row.probability), abs=1e-12)
        assert row.bits == pytest.approx(-math.log2(row.probability), abs=1e-12)


def test_a_corpus_sentence_is_less_surprising_than_a_shuffled_one(small_model):
    assert (
        small_model.score("the cat sat on the mat.").perplexity
        < small_model.score("mat the on sat cat the.").perplexity
    )


def test_score_rejects_boundary_tokens_in_the_text(small_model):
    with pytest.raises(ValueError):
        small_model.score(["the", EOS, "cat"])


# -- top-k and sampling -------------------------------------------------------------


def test_top_k_is_sorted_has_length_k_and_matches_the_distribution(small_model):
    top = small_model.top_k(["the"], k=3)
    probs = [p for _, p in top]
    assert len(top) == 3
    assert probs == sorted(probs, reverse=True)
    distribution = small_model.distribution(["the"])
    assert top[0] == (small_model.vocab[int(distribution.argmax())], distribution.max())


def test_top_k_larger_than_the_vocabulary_returns_the_whole_vocabulary(small_model):
    top = small_model.top_k([], k=10_000)
    assert sorted(word for word, _ in top) == sorted(small_model.vocab)
    with pytest.raises(ValueError):
        small_model.top_k([], k=0)


def test_sampling_with_a_fixed_seed_is_reproducible(small_model):
    first = small_model.sample(["the"], n_tokens=15, temperature=1.0, seed=7)
    again = small_model.sample(["the"], n_tokens=15, temperature=1.0, seed=7)
    assert first == again
    assert 1 <= len(first) <= 15
    assert all(token in small_model.vocab for token in first)
    assert EOS not in first[:-1]  # sampling stops at the end token


def test_different_seeds_can_give_different_samples(kjv):
    samples = {tuple(kjv.sample("and", n_tokens=12, temperature=1.0, seed=s)) for s in range(5)}
    assert len(samples) > 1


def test_very_low_temperature_picks_the_most_likely_token(kjv):
    best = kjv.top_k("and god said", k=1)[0][0]
    assert kjv.sample("and god said", n_tokens=1, temperature=1e-4, seed=3) == [best]


def test_sampling_respects_the_token_budget_and_can_exclude_unknown(kjv):
    tokens = kjv.sample("the", n_tokens=40, temperature=3.0, seed=11, exclude_unknown=True)
    assert len(tokens) <= 40
    assert UNK not in tokens
    assert kjv.sample("the", n_tokens=0, temperature=1.0, seed=1) == []


@pytest.mark.parametrize("temperature", [0, 0.0, -1.0, float("nan"), float("inf")])
def test_temperature_must_be_a_positive_finite_number(small_model, temperature):
    with pytest.raises(ValueError):
        small_model.sample(["the"], n_tokens=5, temperature=temperature, seed=0)


# -- training input -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentences", "kwargs"),
    [
        ([], {}),
        ([[]], {}),
        (TINY, {"order": 0}),
        (TINY, {"min_count": 0}),
        (TINY, {"discount": 0.0}),
        (TINY, {"discount": 1.5}),
        ([["a", EOS]], {}),
    ],
)
def test_train_rejects_invalid_input(sentences, kwargs):
    with pytest.raises(ValueError):
        train(sentences, **kwargs)


def test_train_rejects_untokenized_strings():
    with pytest.raises(TypeError):
        train(["a b", "a c"])


# -- long input ---------------------------------------------------------------------------


def test_ten_thousand_characters_are_scored_in_linear_time(kjv):
    text = ("And the LORD spake unto Moses, saying, behold the zyzzyva! " * 200)[:10_000]
    started = time.perf_counter()
    result = kjv.score(text)
    elapsed = time.perf_counter() - started
    assert len(result.rows) == len(tokenize(text)) + 1
    assert math.isfinite(result.perplexity)
    assert all(row.probability > 0 for row in result.rows)
    assert elapsed < 1.0


def test_a_long_context_only_uses_its_last_words(kjv):
    long_context = "In the beginning God created the heaven and the earth. " * 200
    assert len(long_context) > 10_000
    assert kjv.top_k(long_context, k=5) == kjv.top_k(["the", "earth", "."], k=5)
    assert len(kjv.sample(long_context, n_tokens=5, temperature=1.0, seed=2)) <= 5


# -- the shipped King James Version model -----------------------------------------------------


def test_shipped_corpus_has_at_least_200k_words():
    n_words = sum(
        1 for sentence in load_corpus_sentences(DEFAULT_CORPUS_PATH) for token in sentence
        if token[0].isalpha()
    )  # fmt: skip
    assert n_words >= 200_000


def test_default_model_is_built_once_per_process(kjv):
    assert build_default_model() is kjv
    assert kjv.order == 3


@pytest.mark.parametrize(
    "context", ["", "and god said", "in the", "the zyzzyva", "quokka wombat", "verily verily ,"]
)
def test_default_model_probabilities_sum_to_one(kjv, context):
    probs = kjv.distribution(context)
    assert abs(probs.sum() - 1.0) < 1e-9
    assert (probs > 0).all()


def test_default_model_knows_the_kjv(kjv):
    assert kjv.top_k("and god said", k=1)[0][0] == "unto"
    assert kjv.top_k("in the", k=1)[0][0] == "land"
    assert kjv.prob("thus saith the", "lord") > 0.5


def test_default_model_top_k_answers_well_under_50_ms(kjv):
    kjv.top_k("and the lord said unto", k=10)  # warm up
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        kjv.top_k("and the lord said unto", k=10)
        timings.append(time.perf_counter() - started)
    assert sorted(timings)[len(timings) // 2] < 0.05
