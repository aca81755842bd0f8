"""Pure tests of drawing questions and shuffling choices (no database)."""

import random
from collections import Counter

import pytest

from quiz.draw import draw_questions, shuffled

BANK = {
    "pre": [1, 2],
    "sft": [3, 4],
    "rm": [5],
    "rlhf": [6, 7],
    "dpo": [8],
    "cai": [9, 10],
}


@pytest.mark.parametrize("seed", range(30))
def test_draw_covers_five_different_topics_when_the_bank_allows(seed):
    drawn = draw_questions(BANK, 5, random.Random(seed))
    topic_of = {qid: topic for topic, ids in BANK.items() for qid in ids}
    assert len(set(drawn)) == 5
    assert len({topic_of[qid] for qid in drawn}) == 5


def test_draw_repeats_topics_only_when_there_are_too_few():
    drawn = draw_questions({"a": [1, 2, 3], "b": [4]}, 3, random.Random(1))
    assert 4 in drawn
    assert Counter(qid <= 3 for qid in drawn)[True] == 2


def test_draw_is_reproducible_with_the_same_seed():
    assert draw_questions(BANK, 5, random.Random(7)) == draw_questions(BANK, 5, random.Random(7))


def test_draw_varies_between_seeds():
    draws = {tuple(draw_questions(BANK, 5, random.Random(seed))) for seed in range(20)}
    assert len(draws) > 5


def test_draw_refuses_a_bank_that_is_too_small():
    with pytest.raises(ValueError, match="cannot draw 5"):
        draw_questions({"a": [1, 2], "b": []}, 5, random.Random(0))


def test_shuffled_keeps_every_id_and_leaves_the_input_alone():
    ids = [11, 12, 13, 14]
    order = shuffled(ids, random.Random(3))
    assert sorted(order) == ids
    assert ids == [11, 12, 13, 14]
