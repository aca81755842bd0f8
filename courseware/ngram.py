"""Word-level n-gram language model for the "what is a language model?" pages.

Pure module: no Django imports.  A learner types a sentence and the page shows,
token by token, how surprised a small classical language model is by it
(probability, cross-entropy, perplexity), which words it expects next, and what
it writes when sampled at different temperatures.  The point is to make those
quantities concrete with a model that is small enough to be trained in seconds
and to be read in full.

Design choices, and why:

* **Word-level tokens.**  ``tokenize`` lowercases and keeps words (with one inner
  apostrophe, ``lord's``) and sentence punctuation.  Learner input goes through
  the same function as the corpus, so both are seen the same way.
* **Sentence boundaries.**  Each training line is padded on the left with
  ``order - 1`` start tokens ``<s>`` and closed with ``</s>``.  ``<s>`` is only
  ever context, never predicted, so it is not in the vocabulary; ``</s>`` is.
* **Unknown words.**  Training words seen fewer than ``min_count`` times are
  replaced by ``<unk>``, so the model has learned how likely "some rare word"
  is, and any word a learner types gets a non-zero probability.
* **Interpolated Kneser-Ney smoothing** (Chen & Goodman 1998, one discount per
  order).  For a context ``h`` and its shortened form ``h'``::

      p(w | h) = max(a(h w) - D, 0) / S(h) + D * T(h) / S(h) * p(w | h')

  where ``a`` is the raw count at the highest order and the *continuation count*
  (number of distinct words seen to the left) at lower orders, ``S(h)`` is the
  sum of ``a(h .)`` and ``T(h)`` the number of distinct words seen after ``h``.
  An unseen context (``S(h) = 0``) passes ``p(. | h')`` through unchanged, and
  the recursion ends in the uniform distribution over the vocabulary.  As
  every positive ``a`` is >= 1 and ``0 < D <= 1``, each level is a proper
  distribution whatever the context, so probabilities over the vocabulary sum
  to 1 up to rounding.  Lower-order n-grams that start with ``<s>`` keep their
  raw counts (as KenLM does): nothing can stand to the left of a start token,
  so their continuation count would always be 1.
* **Compact numpy tables.**  An n-gram is encoded as ``prefix_id * B + word_id``
  where ``prefix_id`` is the dense index of its (n-1)-word prefix, so every code
  fits in an int64 whatever the order, and lookups are ``searchsorted`` on
  sorted arrays: a whole sentence is scored with a handful of vectorised calls
  (linear in its length), and a next-word distribution is one O(|V|) vector.
"""

from __future__ import annotations

import functools
import gzip
import math
import re
from array import array
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BOS = "<s>"
EOS = "</s>"
UNK = "<unk>"

DEFAULT_ORDER = 3
DEFAULT_MIN_COUNT = 2
# Used when a training set is too small to estimate D = n1 / (n1 + 2 n2).
FALLBACK_DISCOUNT = 0.75
DEFAULT_CORPUS_PATH = Path(__file__).resolve().parent / "corpus" / "kjv.txt.gz"

_EOS_ID = 0
_UNK_ID = 1
_LOG2 = math.log(2.0)

# Letters only (any script), optionally joined by one apostrophe, or one of the
# punctuation marks that structure a sentence.  No nested quantifiers, so the
# match is linear in the input length.
_TOKEN_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|[.,;:!?]")
# Phones and word processors type typographic apostrophes.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def tokenize(text: str) -> list[str]:
    """Split ``text`` into lowercase word and punctuation tokens.

    Used for both the corpus and learner input, so the two always agree.
    Digits, quotes, brackets and other symbols are dropped.
    """
    return _TOKEN_RE.findall(text.lower().translate(_APOSTROPHES))


@dataclass(frozen=True)
class TokenScore:
    """How the model scored one token of a learner's sentence."""

    token: str
    """The token as given."""
    vocab_token: str
    """The token as the model sees it: itself, ``<unk>`` if unknown, or ``</s>``."""
    probability: float
    """p(token | preceding tokens)."""
    nats: float
    """Cross-entropy (surprisal) -ln p."""
    bits: float
    """Cross-entropy (surprisal) -log2 p."""

    @property
    def is_unknown(self) -> bool:
        return self.vocab_token == UNK


@dataclass(frozen=True)
class SentenceScore:
    """Per-token and mean cross-entropy of a text under a model.

    The mean is over ``rows`` (the input tokens plus, when ``includes_end`` is
    true, the closing ``</s>``).  An input without tokens is not scored at all —
    not even ``</s>`` — and gives ``is_empty=True`` with the means and the
    perplexity set to ``None`` rather than a division by zero.
    """

    rows: tuple[TokenScore, ...]
    includes_end: bool
    is_empty: bool
    total_nats: float
    mean_nats: float | None
    mean_bits: float | None
    perplexity: float | None
    """exp(mean_nats) — the model is as unsure as a fair die with this many sides."""

    @property
    def n_unknown(self) -> int:
        return sum(row.is_unknown for row in self.rows)


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _as_tokens(text_or_tokens: str | Sequence[str]) -> list[str]:
    if isinstance(text_or_tokens, str):
        return tokenize(text_or_tokens)
    return list(text_or_tokens)


@dataclass(frozen=True, eq=False)
class NGramModel:
    """A trained interpolated Kneser-Ney model; build it with :func:`train`.

    Token ids: ``vocab[i]`` for ``0 <= i < len(vocab)`` with ``</s>`` = 0 and
    ``<unk>`` = 1; ``<s>`` has the id ``len(vocab)`` and is context only.
    Contexts and texts may be given as a string (tokenized with
    :func:`tokenize`) or as a token sequence; tokens outside the vocabulary are
    read as ``<unk>``.  A ``<s>`` or ``</s>`` inside a context starts a new
    sentence: only what follows the last one counts.
    """

    order: int
    vocab: tuple[str, ...]
    discounts: tuple[float, ...]
    """D for n-grams of length 1 .. order."""
    n_sentences: int
    n_tokens: int
    """Training tokens, not counting ``<s>`` or ``</s>``."""
    _index: dict[str, int] = field(repr=False)
    # _prefixes[m]: sorted codes of every m-gram seen in training (m = 1 ..
    # order-1, index 0 unused); the position of a code is the m-gram's dense id.
    _prefixes: tuple[np.ndarray, ...] = field(repr=False)
    # For n-grams of length k = 1 .. order (index k - 1): sorted codes
    # context_id * B + word_id of the n-grams seen with a word after the context,
    # their interpolation term max(a - D, 0) / S(context), and, indexed by
    # context id, the weight D * T / S given to the lower order (1 if unseen).
    _codes: tuple[np.ndarray, ...] = field(repr=False)
    _terms: tuple[np.ndarray, ...] = field(repr=False)
    _backoff: tuple[np.ndarray, ...] = field(repr=False)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def _base(self) -> int:
        return len(self.vocab) + 1

    @property
    def _bos_id(self) -> int:
        return len(self.vocab)

    def vocab_token(self, token: str) -> str:
        """Return ``token`` as the model sees it (itself or ``<unk>``)."""
        return token if token in self._index else UNK

    # -- lookups -------------------------------------------------------------

    def _word_id(self, token: str) -> int:
        if token == BOS:
            raise ValueError("<s> is context only and has no probability")
        return self._index.get(token, _UNK_ID)

    def _context_ids(self, context: str | Sequence[str]) -> np.ndarray:
        """The last ``order - 1`` ids of ``context``, padded on the left with <s>."""
        width = self.order - 1
        tokens = _as_tokens(context)
        tail: list[int] = []
        for token in reversed(tokens):  # only the end matters: O(order), not O(len)
            if len(tail) == width or token in (BOS, EOS):
                break
            tail.append(self._index.get(token, _UNK_ID))
        tail.extend([self._bos_id] * (width - len(tail)))
        return np.array(tail[::-1], dtype=np.int64)

    def _prefix_ids(self, seq: np.ndarray) -> list[np.ndarray]:
        """Dense id (-1 if never seen) of the m-gram ending at each position.

        Element m of the result covers m = 0 .. order - 1; m = 0 is the empty
        n-gram (id 0).  Vectorised over positions: each level extends the
        previous one by one word, so this is O(order * len(seq) * log |table|).
        """
        levels = [np.zeros(len(seq), dtype=np.int64)]
        for m in range(1, self.order):
            prev = np.empty(len(seq), dtype=np.int64)
            prev[0] = 0 if m == 1 else -1
            prev[1:] = levels[-1][:-1]
            levels.append(self._lookup(self._prefixes[m], prev, seq))
        return levels

    def _lookup(self, table: np.ndarray, prefix: np.ndarray, word: np.ndarray) -> np.ndarray:
        """Index of ``prefix * B + word`` in the sorted ``table``, or -1."""
        codes = prefix * self._base + word
        if len(table) == 0:
            return np.full(len(codes), -1, dtype=np.int64)
        index = np.minimum(np.searchsorted(table, codes), len(table) - 1)
        found = (prefix >= 0) & (table[index] == codes)
        return np.where(found, index, -1)

    def _target_probs(self, seq: np.ndarray, start: int) -> np.ndarray:
        """p(seq[i] | the order - 1 ids before it) for every i >= start.

        ``seq`` must begin with order - 1 <s> pads and ``start >= order - 1``.
        """
        levels = self._prefix_ids(seq)
        targets = np.arange(start, len(seq))
        words = seq[targets]
        probs = np.full(len(targets), 1.0 / self.vocab_size)
        for k in range(1, self.order + 1):
            context = levels[k - 1][targets - 1]
            seen = context >= 0
            safe = np.where(seen, context, 0)
            backoff = np.where(seen, self._backoff[k - 1][safe], 1.0)
            hit = self._lookup(self._codes[k - 1], context, words)
            term = np.where(hit >= 0, self._terms[k - 1][np.maximum(hit, 0)], 0.0)
            probs = backoff * probs + term
        return probs

    # -- public queries --------------------------------------------------------

    def prob(self, context: str | Sequence[str], word: str) -> float:
        """p(word | context).  An unknown ``word`` gets the probability of ``<unk>``."""
        ctx = self._context_ids(context)
        seq = np.append(ctx, self._word_id(word))
        return float(self._target_probs(seq, len(ctx))[0])

    def distribution(self, context: str | Sequence[str] = ()) -> np.ndarray:
        """p(. | context) as a float array aligned with ``vocab`` (sums to 1)."""
        ctx = self._context_ids(context)
        levels = self._prefix_ids(ctx)
        base = self._base
        probs = np.full(self.vocab_size, 1.0 / self.vocab_size)
        for k in range(1, self.order + 1):
            context_id = 0 if k == 1 else int(levels[k - 1][-1])
            if context_id < 0:  # unseen context: the lower order stands as is
                continue
            codes = self._codes[k - 1]
            lo, hi = np.searchsorted(codes, [context_id * base, (context_id + 1) * base])
            probs *= self._backoff[k - 1][context_id]
            probs[codes[lo:hi] - context_id * base] += self._terms[k - 1][lo:hi]
        return probs

    def top_k(self, context: str | Sequence[str] = (), k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` most likely next tokens, most likely first (ties by vocab order)."""
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        probs = self.distribution(context)
        k = min(k, len(probs))
        best = np.argpartition(-probs, k - 1)[:k]
        best = best[np.lexsort((best, -probs[best]))]
        return [(self.vocab[i], float(probs[i])) for i in best]

    def score(
        self, text_or_tokens: str | Sequence[str], *, include_end: bool = True
    ) -> SentenceScore:
        """Cross-entropy of a text read as one sentence from its start.

        ``</s>`` is scored by default, as in the usual definition of perplexity:
        it charges a sentence that stops where the model expects more.  Pass
        ``include_end=False`` to score only the tokens that were typed.
        """
        tokens = _as_tokens(text_or_tokens)
        if not tokens:
            return SentenceScore((), include_end, True, 0.0, None, None, None)
        if BOS in tokens or EOS in tokens:
            raise ValueError("texts to score must not contain <s> or </s>")
        if include_end:
            tokens.append(EOS)
        ids = [self._index.get(token, _UNK_ID) for token in tokens]
        width = self.order - 1
        seq = np.array([self._bos_id] * width + ids, dtype=np.int64)
        probs = self._target_probs(seq, width)
        nats = -np.log(probs)
        rows = tuple(
            TokenScore(token, self.vocab[i], float(p), float(n), float(n / _LOG2))
            for token, i, p, n in zip(tokens, ids, probs, nats, strict=True)
        )
        total = float(nats.sum())
        mean = total / len(rows)
        return SentenceScore(rows, include_end, False, total, mean, mean / _LOG2, math.exp(mean))

    def sample(
        self,
        context: str | Sequence[str] = (),
        n_tokens: int = 20,
        temperature: float = 1.0,
        seed: int | None = None,
        *,
        exclude_unknown: bool = False,
    ) -> list[str]:
        """Continue ``context`` with up to ``n_tokens`` sampled tokens.

        Each step draws from p^(1/temperature), renormalised: below 1 the model
        sticks to its favourites, above 1 it flattens towards uniform.  Sampling
        stops after ``</s>``, which is then the last returned token.  The same
        ``seed`` gives the same tokens.  ``exclude_unknown`` never draws
        ``<unk>`` (for display), renormalising over the other tokens.
        """
        if not (math.isfinite(temperature) and temperature > 0):
            raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
        if n_tokens < 0:
            raise ValueError(f"n_tokens must be >= 0, got {n_tokens}")
        rng = np.random.default_rng(seed)
        # Only the last order - 1 tokens matter; keeping no more keeps each step O(|V|).
        tokens = deque(_as_tokens(context), maxlen=max(self.order - 1, 1))
        out: list[str] = []
        for _ in range(n_tokens):
            # Log space, shifted by the max: p ** (1/T) would underflow for small T.
            logits = np.log(self.distribution(tokens)) / temperature
            weights = np.exp(logits - logits.max())
            if exclude_unknown:
                weights[_UNK_ID] = 0.0
            cumulative = np.cumsum(weights)
            pick = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
            token = self.vocab[min(pick, self.vocab_size - 1)]
            out.append(token)
            tokens.append(token)
            if token == EOS:
                break
        return out


def _discount(adjusted: np.ndarray) -> float:
    """Ney's estimate D = n1 / (n1 + 2 n2) from counts of counts."""
    n1 = int(np.count_nonzero(adjusted == 1))
    n2 = int(np.count_nonzero(adjusted == 2))
    if n1 == 0 or n2 == 0:
        return FALLBACK_DISCOUNT
    return n1 / (n1 + 2 * n2)


def train(
    sentences: Iterable[Sequence[str]],
    order: int = DEFAULT_ORDER,
    min_count: int = DEFAULT_MIN_COUNT,
    discount: float | None = None,
) -> NGramModel:
    """Train an interpolated Kneser-Ney model on tokenized sentences.

    ``discount`` fixes D for every order (hand-checkable); by default each order
    gets Ney's estimate from its own counts.  Empty sentences are skipped.
    Memory is a few int64 arrays the length of the corpus; the only Python loop
    maps each token to an integer once.
    """
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"order must be an int >= 1, got {order!r}")
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise ValueError(f"min_count must be an int >= 1, got {min_count!r}")
    if discount is not None and not 0 < discount <= 1:
        raise ValueError(f"discount must be in (0, 1], got {discount}")

    # One pass: provisional ids in first-seen order, sentence lengths.
    first_seen: dict[str, int] = {UNK: 0}
    flat = array("q")
    lengths: list[int] = []
    for sentence in sentences:
        if isinstance(sentence, str):  # would silently train on characters
            raise TypeError("each sentence must be a list of tokens, not a str")
        if not sentence:
            continue
        for token in sentence:
            if token in (BOS, EOS):
                raise ValueError("training sentences must not contain <s> or </s>")
            flat.append(first_seen.setdefault(token, len(first_seen)))
        lengths.append(len(sentence))
    if not lengths:
        raise ValueError("cannot train on an empty corpus")

    provisional = np.frombuffer(flat, dtype=np.int64)
    del flat
    counts = np.bincount(provisional, minlength=len(first_seen))
    kept = sorted(
        (word for word, i in first_seen.items() if counts[i] >= min_count and word != UNK),
        key=lambda word: (-counts[first_seen[word]], word),
    )
    vocab = (EOS, UNK, *kept)
    index = {word: i for i, word in enumerate(vocab)}
    remap = np.full(len(first_seen), _UNK_ID, dtype=np.int64)
    for word in kept:
        remap[first_seen[word]] = index[word]
    ids = remap[provisional]
    del provisional, remap

    # Padded stream: (order - 1) x <s>, the sentence, </s>, for every sentence.
    bos_id, base, width = len(vocab), len(vocab) + 1, order - 1
    sent_len = np.array(lengths, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(sent_len + width + 1)[:-1]))
    seq = np.full(int(sent_len.sum()) + len(lengths) * (width + 1), bos_id, dtype=np.int64)
    offset_in_sentence = np.arange(len(ids)) - np.repeat(np.cumsum(sent_len) - sent_len, sent_len)
    seq[np.repeat(starts, sent_len) + width + offset_in_sentence] = ids
    seq[starts + width + sent_len] = _EOS_ID
    del ids, offset_in_sentence

    # Dense id of the m-gram ending at each position, m = 0 .. order.  A window
    # ending at a word never crosses a sentence start, thanks to the padding.
    targets = np.flatnonzero(seq != bos_id)
    dense = [np.zeros(len(seq), dtype=np.int64)]
    prefixes: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    for _ in range(order):
        prev = np.empty(len(seq), dtype=np.int64)
        prev[0] = dense[-1][0]  # all-<s> history before the first pad
        prev[1:] = dense[-1][:-1]
        table, inverse = np.unique(prev * base + seq, return_inverse=True)
        dense.append(inverse.reshape(-1).astype(np.int64))
        prefixes.append(table)

    codes: list[np.ndarray] = []
    terms: list[np.ndarray] = []
    backoffs: list[np.ndarray] = []
    discounts: list[float] = []
    for k in range(1, order + 1):
        grams, raw = np.unique(dense[k][targets], return_counts=True)
        if k == order:
            adjusted = raw
        else:
            # Continuation count: distinct (k+1)-grams ending in this k-gram,
            # i.e. distinct words seen to its left.
            _, first = np.unique(dense[k + 1][targets], return_index=True)
            left = np.bincount(dense[k][targets[first]], minlength=len(prefixes[k]))[grams]
            # Nothing stands left of <s>: k-grams starting with it keep raw counts.
            starts_with_bos = np.zeros(len(prefixes[k]), dtype=bool)
            starts_with_bos[dense[k][targets]] = seq[targets - k + 1] == bos_id
            adjusted = np.where(starts_with_bos[grams], raw, left)
        d = _discount(adjusted) if discount is None else discount
        gram_codes = prefixes[k][grams]
        context = gram_codes // base
        n_contexts = len(prefixes[k - 1]) if k > 1 else 1
        total = np.bincount(context, weights=adjusted, minlength=n_contexts)
        types = np.bincount(context, minlength=n_contexts)
        seen = total > 0
        backoff = np.ones(n_contexts)
        backoff[seen] = d * types[seen] / total[seen]
        codes.append(_readonly(gram_codes))
        terms.append(_readonly((adjusted - d).clip(min=0) / total[context]))
        backoffs.append(_readonly(backoff))
        discounts.append(float(d))

    return NGramModel(
        order=order,
        vocab=vocab,
        discounts=tuple(discounts),
        n_sentences=len(lengths),
        n_tokens=int(sent_len.sum()),
        _index=index,
        _prefixes=tuple(_readonly(table) for table in prefixes[:order]),
        _codes=tuple(codes),
        _terms=tuple(terms),
        _backoff=tuple(backoffs),
    )


def load_corpus_sentences(path: str | Path = DEFAULT_CORPUS_PATH) -> Iterator[list[str]]:
    """Yield the tokens of each non-empty line of a gzipped UTF-8 text file."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            tokens = tokenize(line)
            if tokens:
                yield tokens


@functools.cache
def build_default_model() -> NGramModel:
    """The trigram model of the shipped King James Version, trained once per process."""
    return train(load_corpus_sentences(DEFAULT_CORPUS_PATH))
