"""tokens: a batch split at whitespace once gives every reader the tokens it would find in each whole text."""

import re

import numpy as np
import pytest

from pipeline.classify.fastpath.tokens import (
    ChunkReader,
    Column,
    Lasting,
    Numbering,
    Ragged,
    chunk_safe_pattern,
    number_tokens,
    split_batch,
)
from pipeline.classify.lexicon import normalise

# Unicode spaces (no-break, ogham, ideographic, tab, newline), a combining accent after a space, characters whose
# compatibility form holds a space (´ ¨), Greek final sigma, Cyrillic apostrophes, empty and blank texts.
ODD_TEXTS = ["", "   ", "a", "Ceasefire ceasefire CEASEFIRE talks talks",
             "truce\u00a0talks\u1680resume\u3000in\tKyiv\n\u0301accent ´x ¨y", "ΟΔΟΣ ΣΑΣ Σ", "перемир'я та санкції",
             "Russia's 'shadow fleet' (tankers)/price-cap, 2025-11-26 — Élysée's envoy"]

WORDS = re.compile(r"(?u)\b\w\w+\b")
READERS = {
    "sklearn_words": lambda text: WORDS.findall(text.lower()),
    "lexicon_words": lambda text: re.findall(r"\w+", normalise(text)),
    "whitespace_words_lower_case": lambda text: text.lower().split(),
}


def token_lists(tokens):
    ends = np.cumsum(tokens.lengths)
    return [[tokens.distinct[i] for i in tokens.occurrences[end - n:end]]
            for n, end in zip(tokens.lengths, ends, strict=True)]


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
def test_tokens_read_chunk_by_chunk_equal_the_tokens_of_each_whole_text(reader):
    texts = ODD_TEXTS + [" ".join(ODD_TEXTS), "talks " * 30]
    read = ChunkReader(reader)
    for chunks in (split_batch(texts, Numbering()), split_batch(texts)):  # lasting numbers, and a batch's own
        assert token_lists(read(chunks)) == [reader(text) for text in texts]


def test_a_reader_splits_each_chunk_once_until_the_chunk_numbers_start_afresh():
    made = []
    read = ChunkReader(lambda chunk: made.append(chunk) or WORDS.findall(chunk.lower()))
    first, second = ["Peace talks resume in Geneva", "peace talks stall"], ["Talks resume", "Geneva talks stall"]
    numbering = Numbering(limit=100)
    for batch in (first, second, first):
        assert token_lists(read(split_batch(batch, numbering))) == [WORDS.findall(t.lower()) for t in batch]
    assert sorted(made) == sorted(set(" ".join(first + second).split()))  # every distinct chunk once
    small = Numbering(limit=3)
    made.clear()
    for batch in (first, first):
        assert token_lists(read(split_batch(batch, small))) == [WORDS.findall(t.lower()) for t in batch]
    assert small.epoch == 1 and len(made) == 2 * len(set(" ".join(first).split()))  # held 3+: started afresh


def test_a_numbering_keeps_numbers_across_batches_and_restarts_when_full():
    numbering = Numbering(limit=4)
    assert numbering.number(["peace", "talks"]).tolist() == [0, 1]
    assert numbering.number(["talks", "resume", "peace"]).tolist() == [1, 2, 0]
    assert numbering.strings == ["peace", "talks", "resume"] and numbering.epoch == 0
    numbering.number(["truce"])
    assert numbering.number(["talks"]).tolist() == [0] and numbering.epoch == 1  # held 4: started afresh


def test_ragged_rows_and_lasting_values_grow_with_the_numbering_and_are_made_once():
    rows = Ragged()
    rows.extend([[1, 2], [], [3]])
    rows.extend([[4, 5, 6]] * 700)  # past the first allocation
    values, lengths = rows.take(np.array([3, 0, 1, 2, 702]))
    assert values.tolist() == [4, 5, 6, 1, 2, 3, 4, 5, 6] and lengths.tolist() == [3, 2, 0, 1, 3]
    data, indptr = rows.csr_parts()
    assert indptr[:5].tolist() == [0, 2, 2, 3, 6] and len(data) == indptr[-1] == 2103
    made = []
    lengths_of = Lasting(lambda new: made.extend(new) or [len(s) for s in new], Column)
    numbering, other = Numbering(limit=3), Numbering()
    numbering.number(["peace", "talks"]), other.number(["ceasefire"])
    assert lengths_of(numbering).values[:2].tolist() == [5, 5] and lengths_of(other).values[:1].tolist() == [9]
    numbering.number(["truce"])
    assert lengths_of(numbering).values[:3].tolist() == [5, 5, 5] and made == ["peace", "talks", "ceasefire", "truce"]
    numbering.number(["sanctions"])  # full: a new epoch, and what was kept by the old numbers goes
    assert len(lengths_of(numbering)) == 1 and lengths_of(numbering).values[0] == 9


def test_only_patterns_of_word_characters_and_boundaries_are_safe_to_read_by_chunk():
    assert chunk_safe_pattern(r"(?u)\b\w\w+\b") and chunk_safe_pattern(r"\w+")
    for spanning in [r"(?u)\b\w[\w ]*\w\b", r"\S+", r"(?u)\b\w\w+\b|\s", r".+"]:
        assert not chunk_safe_pattern(spanning)


def test_number_tokens_gives_distinct_tokens_in_first_seen_order_and_each_occurrence():
    distinct, occurrences, lengths, _ = number_tokens([["peace", "talks"], [], ["talks", "peace", "resume"]])
    assert distinct == ["peace", "talks", "resume"]
    assert occurrences.tolist() == [0, 1, 1, 0, 2] and lengths.tolist() == [2, 0, 3]
    assert [len(part) for part in number_tokens([])[:3]] == [0, 0, 0]
    assert [len(part) for part in ChunkReader(str.split)(split_batch([], Numbering()))[:3]] == [0, 0, 0]


def test_a_batch_is_split_where_str_split_splits_it_for_every_code_point():
    characters = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    split = split_batch(characters)  # a character alone: no chunk if it is whitespace, else itself
    assert split.lengths.tolist() == [len(character.split()) for character in characters]
    assert [split.distinct[i] for i in split.occurrences.tolist()] == [c for c in characters if c.split()]


def test_runs_of_whitespace_blank_texts_and_lone_surrogates_split_as_str_split_does():
    texts = ODD_TEXTS + ["  lead and trail  ", "\t\n", "run \u2028\u3000 \x1c of  spaces"]
    for batch in (texts, texts + ["json let a lone \ud800 surrogate through"]):  # the second: Python's split
        split, expected = split_batch(batch), number_tokens([text.split() for text in batch])
        assert split.distinct == expected.distinct  # the same numbering: first seen, first numbered
        assert split.occurrences.tolist() == expected.occurrences.tolist()
        assert split.lengths.tolist() == expected.lengths.tolist()
