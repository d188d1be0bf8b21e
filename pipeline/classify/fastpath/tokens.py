"""Tokenized batches (`Tokens`), split at whitespace once, with lasting numbers for strings, so each reader
tokenizes a chunk once in the life of a process and reads every batch after with array indexing.

The word n-grams, the character n-grams and the lexicon each split text their own way, and did so token by token
for every text. But none of their tokenizers joins anything across whitespace (regex `\\w` classes, `str.split`),
and their preprocessing (lower case, accents, apostrophes) keeps whitespace whitespace. So a text's tokens are
the concatenation of its chunks' tokens, and news repeats its words: 100,000 generated articles hold about 11,000
distinct chunks. A `Numbering` gives each chunk (and each reader's token) a number that lasts from batch to batch;
what a reader makes of a string is kept in arrays by that number (`Ragged`, `Lasting`), so after the first
batches only the few new strings of a batch run Python code and the rest is array work (`ChunkReader`).
"""

from __future__ import annotations

import re
import weakref
from collections import defaultdict
from collections.abc import Callable, Sequence
from itertools import chain, count, repeat
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MEMO_LIMIT = 200_000  # strings a numbering keeps; 100,000 news items hold about 11,000 distinct chunks
# Token patterns that can never match whitespace or across it: a reader using one may read chunks.
_WORD_CLASS_ONLY = re.compile(r"^(\(\?u\))?(\\b)?(\\w)+\+?(\\b)?$")


class Numbering:
    """Lasting numbers for strings, first seen first numbered, kept from batch to batch. Bounded: once it holds
    `limit` strings it starts afresh before the next batch, with a new `epoch`, and what readers kept by its numbers
    is dropped with it (`Lasting`). `limit=None` for a numbering that lives and dies with another's epoch."""

    def __init__(self, limit: int | None = MEMO_LIMIT):
        self.limit = limit
        self.epoch = 0
        self.strings: list[str] = []
        self._ids: dict[str, int] = {}

    def restart(self) -> None:
        self.strings, self._ids, self.epoch = [], {}, self.epoch + 1

    def number(self, strings: Sequence[str]) -> np.ndarray:
        """The numbers of `strings`, new ones numbered in order of appearance."""
        if self.limit is not None and len(self.strings) >= self.limit:
            self.restart()
        ids = self._ids
        found = np.fromiter(map(ids.get, strings, repeat(-1)), dtype=np.int64, count=len(strings))
        for i in np.flatnonzero(found < 0).tolist():
            found[i] = number = ids.setdefault(strings[i], len(self.strings))
            if number == len(self.strings):
                self.strings.append(strings[i])
        return found


class Tokens(NamedTuple):
    """A tokenized batch: the tokens (`distinct`), each occurrence's index into them, and each text's token count.
    Per-token work can then run once per distinct token, and the rest as array operations; vectorizers that tokenize
    alike can share it. With a `numbering`, `distinct` is that numbering's strings, every one seen so far, whose
    numbers last across batches; without, the batch's own distinct tokens in first-seen order."""
    distinct: list[str]
    occurrences: np.ndarray
    lengths: np.ndarray
    numbering: Numbering | None = None


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
    return tokens._replace(occurrences=tokens.occurrences[np.repeat(chosen, tokens.lengths)],
                           lengths=tokens.lengths[rows])


def split_batch(texts, numbering: Numbering | None = None) -> Tokens:
    """The whitespace-separated chunks of every text, numbered (see `Tokens`), by `numbering` if given: what
    `str.split()` gives, found by Arrow's C kernels, which split a batch about three times faster than Python can.
    Arrow's whitespace is Python's, code point for code point (a test holds that); text Arrow cannot hold (a lone
    surrogate, which `json.loads` lets through) is split by Python."""
    texts = list(texts)
    try:
        array = pa.array(texts, type=pa.string())
    except (UnicodeEncodeError, pa.ArrowException):
        chunks = number_tokens([text.split() for text in texts])
    else:
        lists = pc.utf8_split_whitespace(array)
        pieces = lists.flatten()
        chunk = pc.not_equal(pc.binary_length(pieces), 0)  # Arrow leaves an empty piece inside a run of whitespace
        text_of_chunk = pc.list_parent_indices(lists).filter(chunk).to_numpy()
        encoded = pc.dictionary_encode(pieces.filter(chunk))  # numbers in first-seen order, as number_tokens does
        chunks = Tokens(encoded.dictionary.to_pylist(), encoded.indices.to_numpy().astype(np.int64),
                        np.bincount(text_of_chunk, minlength=len(texts)))
    if numbering is None:
        return chunks
    lasting = numbering.number(chunks.distinct)
    return Tokens(numbering.strings, lasting[chunks.occurrences], chunks.lengths, numbering)


def chunk_safe_pattern(pattern: str) -> bool:
    """A regex token pattern built only of `\\w` runs and word boundaries: its tokens never span whitespace."""
    return bool(_WORD_CLASS_ONLY.match(pattern))


def _grown(array: np.ndarray, size: int) -> np.ndarray:
    """`array`, or a copy with room for at least `size` entries (doubling, so appending costs amortized O(1))."""
    if size <= len(array):
        return array
    bigger = np.zeros(max(size, 2 * len(array), 1024), dtype=array.dtype)
    bigger[:len(array)] = array
    return bigger


class Ragged:
    """Rows of integers of any length, one per string number, appended over time and read back for a whole batch
    of row numbers at once."""

    def __init__(self):
        self.rows = 0
        self._size = 0
        self._values = np.zeros(0, dtype=np.int64)
        self._starts = np.zeros(0, dtype=np.int64)
        self._lengths = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return self.rows

    def extend(self, rows: Sequence[Sequence[int]]) -> None:
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        total = int(lengths.sum())
        self._values = _grown(self._values, self._size + total)
        self._values[self._size:self._size + total] = np.fromiter(chain.from_iterable(rows), dtype=np.int64,
                                                                  count=total)
        self._starts = _grown(self._starts, self.rows + len(rows))
        self._lengths = _grown(self._lengths, self.rows + len(rows))
        self._starts[self.rows:self.rows + len(rows)] = self._size + np.cumsum(lengths) - lengths
        self._lengths[self.rows:self.rows + len(rows)] = lengths
        self.rows += len(rows)
        self._size += total

    def lengths(self, rows: np.ndarray) -> np.ndarray:
        return self._lengths[rows]

    def csr_parts(self) -> tuple[np.ndarray, np.ndarray]:
        """(values, indptr) of every row in order: rows are stored one after another."""
        return self._values[:self._size], np.append(self._starts[:self.rows], self._size)

    def take(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The values of `rows` one after another, and each row's length."""
        lengths = self._lengths[rows]
        ends = np.cumsum(lengths)
        at = np.repeat(self._starts[rows] - (ends - lengths), lengths) + np.arange(int(ends[-1]) if len(ends) else 0)
        return self._values[at], lengths


class Column:
    """One value per string number: a NumPy array that grows."""

    def __init__(self, dtype=np.int64):
        self.rows = 0
        self.values = np.zeros(0, dtype=dtype)

    def __len__(self) -> int:
        return self.rows

    def extend(self, values: Sequence) -> None:
        self.values = _grown(self.values, self.rows + len(values))
        self.values[self.rows:self.rows + len(values)] = values
        self.rows += len(values)


class Lasting:
    """What `make` (a list of new strings -> what `new_store()`'s `extend` takes: a row or a value per string)
    gives each string of a numbering, kept by string number in a store (`Ragged`, `Column`, anything with `extend`
    and `len`): reading a batch makes only the strings numbered since the last read. Kept per numbering (a few live
    at once: the classifier's, a vectorizer's own) and dropped with its epoch."""

    def __init__(self, make: Callable[[list[str]], Sequence], new_store: Callable[[], object]):
        self.make, self.new_store = make, new_store
        self._kept: weakref.WeakKeyDictionary[Numbering, list] = weakref.WeakKeyDictionary()

    def __call__(self, numbering: Numbering):
        kept = self._kept.get(numbering)
        if kept is None or kept[0] != numbering.epoch:
            kept = self._kept[numbering] = [numbering.epoch, self.new_store()]
        store = kept[1]
        if len(store) < len(numbering.strings):
            store.extend(self.make(numbering.strings[len(store):]))
        return store


class _ChunkTokens:
    """A `Lasting` store for `ChunkReader`: each chunk's token numbers, by a token numbering that lives as long as
    the chunk numbers (a new epoch of chunks, a new store, new token numbers)."""

    def __init__(self):
        self.tokens = Numbering(limit=None)
        self.rows = Ragged()

    def __len__(self) -> int:
        return len(self.rows)

    def extend(self, token_lists: list[list[str]]) -> None:
        self.rows.extend([self.tokens.number(tokens) for tokens in token_lists])


class ChunkReader:
    """A reader's tokens of a batch split at whitespace, as if it had split every text whole: `split(chunk)` runs
    once per distinct chunk in the life of the chunk numbering, and the reader's tokens get lasting numbers of their
    own. `split(a + " " + b)` must equal `split(a) + split(b)` for this to hold."""

    def __init__(self, split: Callable[[str], list[str]]):
        self._per_chunk = Lasting(lambda new: list(map(split, new)), _ChunkTokens)

    def __call__(self, chunks: Tokens) -> Tokens:
        if chunks.numbering is None:
            chunks = renumbered(chunks)
        kept = self._per_chunk(chunks.numbering)
        token_ids, per_occurrence = kept.rows.take(chunks.occurrences)
        text_of_chunk = np.repeat(np.arange(len(chunks.lengths)), chunks.lengths)
        lengths = np.bincount(text_of_chunk, weights=per_occurrence, minlength=len(chunks.lengths)).astype(np.int64)
        return Tokens(kept.tokens.strings, token_ids, lengths, kept.tokens)


def renumbered(chunks: Tokens) -> Tokens:
    """Batch-local tokens renumbered by a numbering of their own (for callers that split without one)."""
    numbering = Numbering(limit=None)
    return Tokens(numbering.strings, numbering.number(chunks.distinct)[chunks.occurrences], chunks.lengths, numbering)
