"""Dictionary forms of Russian and Ukrainian words (simplemma, which ships its dictionaries in its wheel).

Both languages inflect heavily: "перемирие, перемирия, перемирии, перемирием" is one word to a reader and four
to a bag of words. The Cyrillic model's word block reads `lemmatize_text(text)`: every Cyrillic word replaced by
its lemma, in lower case; Latin words (NATO, F-16, names) stay as written. Which dictionary: Ukrainian when the
text has letters only Ukrainian uses (і ї є ґ), Russian when it has letters only Russian uses (ы э ъ ё), else
Russian first and Ukrainian for words Russian does not know.
"""

from __future__ import annotations

import re

from pipeline.classify.language import letter_language

_CYRILLIC_WORD = re.compile(r"[\u0400-\u04ff]")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'"})  # Ukrainian writes its apostrophe three ways


def dictionaries(text: str) -> tuple[str, ...]:
    decided = letter_language(text)
    return (decided,) if decided else ("ru", "uk")


def lemma(word: str, languages: tuple[str, ...]) -> str:
    import simplemma

    return simplemma.lemmatize(word, lang=languages).lower()


_WORD_SPLIT = re.compile(r"([\w'’ʼ-]+)")
_LEMMA_MEMO: dict[tuple[str, ...], dict[str, str]] = {}
MEMO_LIMIT = 200_000


def lemmatize_text(text: str) -> str:
    """Lower-cased text with each Cyrillic word in its dictionary form (the word block's preprocessor)."""
    text = text.lower().translate(_APOSTROPHES)
    languages = dictionaries(text)
    memo = _LEMMA_MEMO.setdefault(languages, {})
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    parts = _WORD_SPLIT.split(text)  # text between words at even places, words at odd ones
    for i in range(1, len(parts), 2):
        word = parts[i]
        found = memo.get(word)
        if found is None:
            found = memo[word] = lemma(word, languages) if _CYRILLIC_WORD.search(word) else word
        parts[i] = found
    return "".join(parts)
