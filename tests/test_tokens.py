"""tokens: a batch split at whitespace once gives every reader the tokens it would find in each whole text."""

import re

import numpy as np
import pytest

from pipeline.lexicon import normalise
from pipeline.tokens import BatchMemo, chunk_safe_pattern, number_tokens, retokenize, split_batch

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
    assert token_lists(retokenize(split_batch(texts), BatchMemo(reader))) == [reader(text) for text in texts]


def test_a_memo_gives_the_same_tokens_stays_bounded_and_makes_each_chunk_once_until_emptied():
    made = []
    memo = BatchMemo(lambda chunk: made.append(chunk) or WORDS.findall(chunk.lower()), limit=5)
    batch = split_batch(["Peace talks resume in Geneva", "peace talks stall", "Talks resume"])
    expected = token_lists(retokenize(batch, BatchMemo(READERS["sklearn_words"])))
    assert token_lists(retokenize(batch, memo)) == expected
    assert sorted(made) == sorted(batch.distinct)  # every distinct chunk once, repeats taken from the batch
    assert token_lists(retokenize(batch, memo)) == expected
    assert len(made) == 2 * len(batch.distinct)  # held more than `limit`: emptied before the second batch
    small = BatchMemo(str.split, limit=100)
    small(["a", "b"]), small(["a", "c"])
    assert len(small._made) == 3


def test_only_patterns_of_word_characters_and_boundaries_are_safe_to_read_by_chunk():
    assert chunk_safe_pattern(r"(?u)\b\w\w+\b") and chunk_safe_pattern(r"\w+")
    for spanning in [r"(?u)\b\w[\w ]*\w\b", r"\S+", r"(?u)\b\w\w+\b|\s", r".+"]:
        assert not chunk_safe_pattern(spanning)


def test_number_tokens_gives_distinct_tokens_in_first_seen_order_and_each_occurrence():
    distinct, occurrences, lengths = number_tokens([["peace", "talks"], [], ["talks", "peace", "resume"]])
    assert distinct == ["peace", "talks", "resume"]
    assert occurrences.tolist() == [0, 1, 1, 0, 2] and lengths.tolist() == [2, 0, 3]
    assert [len(part) for part in number_tokens([])] == [0, 0, 0]
    assert [len(part) for part in retokenize(split_batch([]), BatchMemo(str.split))] == [0, 0, 0]


def test_a_batch_is_split_where_str_split_splits_it_for_every_code_point():
    code_points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    texts = [f"a{chr(c)}b" for c in code_points]
    assert token_lists(split_batch(texts)) == [text.split() for text in texts]


def test_runs_of_whitespace_blank_texts_and_lone_surrogates_split_as_str_split_does():
    texts = ODD_TEXTS + ["  lead and trail  ", "\t\n", "run \u2028\u3000 \x1c of  spaces"]
    for batch in (texts, texts + ["json let a lone \ud800 surrogate through"]):  # the second: Python's split
        split, expected = split_batch(batch), number_tokens([text.split() for text in batch])
        assert split.distinct == expected.distinct  # the same numbering: first seen, first numbered
        assert split.occurrences.tolist() == expected.occurrences.tolist()
        assert split.lengths.tolist() == expected.lengths.tolist()
