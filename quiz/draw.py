"""Drawing an attempt's questions and shuffling its choices.

Pure module: plain ids in, plain ids out, randomness from the `rng` passed in (so
tests and demo data are reproducible).
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Mapping, Sequence


def draw_questions(
    by_topic: Mapping[Hashable, Sequence[Hashable]], k: int, rng: random.Random
) -> list[Hashable]:
    """Pick `k` question ids, spread over as many topics as possible.

    Topics are visited in a random order, one question from each per round, until `k`
    are drawn: with 5 questions and 8 topics, no topic repeats. Raises ValueError if
    the bank holds fewer than `k` questions.
    """
    pools = {topic: list(ids) for topic, ids in by_topic.items() if ids}
    available = sum(len(ids) for ids in pools.values())
    if k < 1 or available < k:
        raise ValueError(f"cannot draw {k} questions from a bank of {available}")
    for ids in pools.values():
        rng.shuffle(ids)
    topics = sorted(pools, key=str)
    rng.shuffle(topics)
    drawn: list[Hashable] = []
    while len(drawn) < k:
        for topic in topics:
            if pools[topic] and len(drawn) < k:
                drawn.append(pools[topic].pop())
    rng.shuffle(drawn)
    return drawn


def shuffled(ids: Sequence[Hashable], rng: random.Random) -> list[Hashable]:
    order = list(ids)
    rng.shuffle(order)
    return order
