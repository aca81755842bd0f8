"""Pure helpers of the teaching pages (no database)."""

from __future__ import annotations

import pytest

from courseware import ngram, teaching


def test_sft_tokens_mask_the_prompt_and_count_the_response():
    tokens = teaching.sft_tokens(instruction="Say hi.", response="Hi there!")
    assert [(t.text, t.counted) for t in tokens] == [
        ("Say", False),
        ("hi.", False),
        ("Hi", True),
        ("there!", True),
    ]


def test_detokenize_joins_punctuation_and_drops_the_end_token():
    assert teaching.detokenize(["and", "god", "said", ",", "let", "it", ".", ngram.EOS]) == (
        "and god said, let it."
    )


def test_clip_cuts_long_input_and_remembers_its_length():
    clipped = teaching.clip("x" * 10_000)
    assert len(clipped.text) == teaching.MAX_INPUT_CHARS
    assert clipped.original_length == 10_000
    assert clipped.was_clipped
    assert not teaching.clip("short").was_clipped


def test_display_token_names_the_special_tokens():
    assert teaching.display_token(ngram.EOS) == "(end of sentence)"
    assert teaching.display_token(ngram.UNK) == "(unknown word)"
    assert teaching.display_token("lord") == "lord"


@pytest.fixture(scope="module")
def tiny_model() -> ngram.NGramModel:
    corpus = [s.split() for s in ["the cat sat", "the cat ran", "the dog sat", "a dog ran"]]
    return ngram.train(corpus, min_count=1)


def test_next_tokens_are_sorted_and_flag_unknown_context(tiny_model):
    result = teaching.next_tokens(tiny_model, "a zebra")
    probabilities = [row.probability for row in result.rows]
    assert probabilities == sorted(probabilities, reverse=True)
    assert result.context == ("a", "zebra")
    assert result.unknown == ("zebra",)
    assert result.rows[0].bar == pytest.approx(100.0)


def test_sentence_score_matches_the_model_and_is_none_without_words(tiny_model):
    scored = teaching.sentence_score(tiny_model, "the cat sat")
    expected = tiny_model.score("the cat sat")
    assert scored.mean_bits == pytest.approx(expected.mean_bits)
    assert scored.perplexity == pytest.approx(2**expected.mean_bits)
    assert len(scored.rows) == 4  # three words and the end of the sentence
    assert teaching.sentence_score(tiny_model, "42 7") is None


def test_sample_text_is_reproducible_and_rejects_out_of_range_temperature(tiny_model):
    first = teaching.sample_text(tiny_model, "the", temperature=0.7, seed=3)
    again = teaching.sample_text(tiny_model, "the", temperature=0.7, seed=3)
    assert first == again
    with pytest.raises(ValueError):
        teaching.sample_text(tiny_model, "the", temperature=50.0, seed=3)
    with pytest.raises(ValueError):
        teaching.sample_text(tiny_model, "the", temperature=float("nan"), seed=3)
