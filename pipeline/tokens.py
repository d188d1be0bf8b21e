"""Tokenized batches (`Tokens`), and splitting a batch at whitespace once so each reader tokenizes only its
distinct chunks.

The word n-grams, the character n-grams and the lexicon each split text their own way, and did so token by token
for every text. But none of their tokenizers joins anything across whitespace (regex `\\w` classes, `str.split`),
and their preprocessing (lower case, accents, apostrophes) keeps whitespace whitespace. So a text's tokens are
the concatenation of its chunks' tokens, and news repeats its words: 1,000 generated articles hold about 48,000
chunks but only a few thousand distinct ones. Each reader then tokenizes those few thousand and the rest is
array work (`retokenize`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from itertools import chain, count
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


class Tokens(NamedTuple):
    """A tokenized batch: its distinct tokens (first-seen order), each occurrence's index into them, and each
    text's token count. Per-token work can then run once per distinct token, and the rest as array operations;
    vectorizers that tokenize alike can share it."""
    distinct: list[str]
    occurrences: np.ndarray
    lengths: np.ndarray


def number_tokens(token_lists: list[list[str]]) -> Tokens:
    lengths = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
    every_token = list(chain.from_iterable(token_lists))
    index = defaultdict(count().__next__)  # a token's number, given on first sight: one pass, no Python loop
    occurrences = np.fromiter(map(index.__getitem__, every_token), dtype=np.int64, count=len(every_token))
    return Tokens(list(index), occurrences, lengths)


def select_texts(tokens: Tokens, rows: np.ndarray) -> Tokens:
    """The tokens of the texts at `rows` (ascending), as if only those texts had been split."""
    chosen = np.zeros(len(tokens.lengths), dtype=bool)
    chosen[rows] = True
    return Tokens(tokens.distinct, tokens.occurrences[np.repeat(chosen, tokens.lengths)], tokens.lengths[rows])


MEMO_LIMIT = 200_000  # strings a memo remembers; a few thousand are new in a batch of 1,000 news items
# Token patterns that can never match whitespace or across it: a reader using one may read chunks.
_WORD_CLASS_ONLY = re.compile(r"^(\(\?u\))?(\\b)?(\\w)+\+?(\\b)?$")


def split_batch(texts) -> Tokens:
    """The whitespace-separated chunks of every text, numbered (see `Tokens`): what `str.split()` gives, found by
    Arrow's C kernels, which split a batch about three times faster than Python can. Arrow's whitespace is
    Python's, code point for code point (a test holds that); text Arrow cannot hold (a lone surrogate, which
    `json.loads` lets through) is split by Python."""
    texts = list(texts)
    try:
        array = pa.array(texts, type=pa.string())
    except (UnicodeEncodeError, pa.ArrowException):
        return number_tokens([text.split() for text in texts])
    lists = pc.utf8_split_whitespace(array)
    pieces = lists.flatten()
    chunk = pc.not_equal(pc.binary_length(pieces), 0)  # Arrow leaves an empty piece inside a run of whitespace
    text_of_chunk = pc.list_parent_indices(lists).filter(chunk).to_numpy()
    encoded = pc.dictionary_encode(pieces.filter(chunk))  # numbers in first-seen order, as number_tokens does
    return Tokens(encoded.dictionary.to_pylist(), encoded.indices.to_numpy().astype(np.int64),
                  np.bincount(text_of_chunk, minlength=len(texts)))


def chunk_safe_pattern(pattern: str) -> bool:
    """A regex token pattern built only of `\\w` runs and word boundaries: its tokens never span whitespace."""
    return bool(_WORD_CLASS_ONLY.match(pattern))


class BatchMemo:
    """What a reader makes of each distinct string of a batch (a chunk, a token), kept across batches: news
    repeats its words, so most of a batch's strings were seen before. Bounded: emptied before a batch once it
    holds `limit` strings."""

    def __init__(self, make: Callable[[str], object], limit: int = MEMO_LIMIT):
        self.make = make
        self.limit = limit
        self._made: dict[str, object] = {}

    def __call__(self, strings: list[str]) -> list:
        made = self._made
        if len(made) >= self.limit:
            made.clear()
        found = list(map(made.get, strings))
        for i in [i for i, value in enumerate(found) if value is None]:
            found[i] = made[strings[i]] = self.make(strings[i])
        return found


def retokenize(chunks: Tokens, split_chunk: BatchMemo) -> Tokens:
    """The tokens a memo's splitter gives each text, as if it had split every text whole; it runs only for
    distinct chunks the memo has not seen. `split(a + " " + b)` must equal `split(a) + split(b)` for this to hold."""
    per_chunk = number_tokens(split_chunk(chunks.distinct))
    chunk_start = np.concatenate([[0], np.cumsum(per_chunk.lengths)])[:-1]
    tokens_here = per_chunk.lengths[chunks.occurrences]  # tokens of each chunk occurrence
    first = np.repeat(chunk_start[chunks.occurrences], tokens_here)
    step = np.arange(int(tokens_here.sum())) - np.repeat(np.cumsum(tokens_here) - tokens_here, tokens_here)
    text_of_chunk = np.repeat(np.arange(len(chunks.lengths)), chunks.lengths)
    lengths = np.bincount(text_of_chunk, weights=tokens_here, minlength=len(chunks.lengths)).astype(np.int64)
    return Tokens(per_chunk.distinct, per_chunk.occurrences[first + step], lengths)
