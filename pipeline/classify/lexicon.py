"""The lexicon layer: weighted terms, vetoes and war context from models/themes.yaml, matched on word tokens.

Patterns are word sequences: `word` matches that token, `stem*` any token starting with the stem (inflected
Russian and Ukrainian forms, English plurals), `~` up to GAP_TOKENS arbitrary tokens. Text and patterns are
normalised alike: lower case, apostrophes dropped (Russia's -> russias, перемир'я -> перемиря), ё -> е,
hyphens split words (cease-fire -> cease fire).

A theme fires in the lexicon layer when its matched term weights sum to at least `min_score` and
- an anchored term matched (a term that names the war itself; vetoes do not apply), or
- no veto term of that theme matched and the text names the war (a `context` term), or
- no veto matched, the weights sum to twice `min_score` and nothing places the text elsewhere
  (an `elsewhere` term: Gaza, Iran, Sudan...): wire copy often leaves the war unnamed ("reassurance force").
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import count, product
from operator import attrgetter
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from pipeline.classify.fastpath.tokens import (
    MEMO_LIMIT,
    ChunkReader,
    Column,
    Lasting,
    Numbering,
    Ragged,
    Tokens,
    split_batch,
)

GAP_TOKENS = 3
MIN_STEM = 3
SCORE_CAP = 3.0
FEATURES_PER_THEME = 4  # capped score, anchored, veto, fires
GLOBAL_FEATURES = 3  # names the war at all, how strongly, names another conflict
THEME_FEATURES = ("score", "anchored", "veto", "fires")
TOKEN = re.compile(r"\w+")
_APOSTROPHES = str.maketrans({"'": None, "\u2019": None, "\u02bc": None, "`": None, "\u2018": None,
                              "\u0451": "\u0435"})  # ё -> е
_PATTERN_TOKEN = re.compile(r"^\w+\*?$")
GAP = -1


def normalise(text: str) -> str:
    text = text.lower()
    if text.isascii() and "'" not in text and "`" not in text:
        return text  # nothing to translate: the common case, and translate() is slow
    return text.translate(_APOSTROPHES)


def tokens(text: str) -> list[str]:
    return TOKEN.findall(normalise(text))


def parse_pattern(pattern: str) -> tuple[tuple[str, str], ...]:
    """'sanction* ~ russia*' -> (('prefix', 'sanction'), ('gap', ''), ('prefix', 'russia')). ValueError if bad."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise ValueError("empty pattern")
    pieces = normalise(pattern).replace("-", " ").split()
    elements: list[tuple[str, str]] = []
    for piece in pieces:
        if piece == "~":
            if not elements or elements[-1][0] == "gap":
                raise ValueError("'~' must stand between two words")
            elements.append(("gap", ""))
        elif not _PATTERN_TOKEN.match(piece):
            raise ValueError(f"{piece!r} is not a word (letters/digits, optional trailing *)")
        elif piece.endswith("*"):
            if len(piece) - 1 < MIN_STEM:
                raise ValueError(f"stem {piece!r} is shorter than {MIN_STEM} letters")
            elements.append(("prefix", piece[:-1]))
        else:
            elements.append(("exact", piece))
    if elements[-1][0] == "gap":
        raise ValueError("'~' must stand between two words")
    return tuple(elements)


@dataclass(frozen=True, slots=True)
class ThemeMatch:
    """What the lexicon found for one theme in one text."""

    score: float = 0.0
    anchored: bool = False
    veto: bool = False
    terms: tuple[str, ...] = ()  # surface forms of the matched terms, in text order

    def fires(self, context: int, elsewhere: int, min_score: float) -> bool:
        return bool(theme_fires(self.score, self.anchored, self.veto, context, elsewhere, min_score))


def theme_fires(score, anchored, veto, context, elsewhere, min_score: float):
    """The rule of the module docstring, for one theme of one text or for arrays of them (NumPy broadcasting)."""
    names_the_war = np.greater(context, 0)
    strong_and_not_elsewhere = np.logical_and(np.greater_equal(score, 2 * min_score), np.equal(elsewhere, 0))
    unvetoed = np.logical_and(np.logical_not(veto), np.logical_or(names_the_war, strong_and_not_elsewhere))
    return np.logical_and(np.greater_equal(score, min_score), np.logical_or(anchored, unvetoed))


NO_MATCH = ThemeMatch()  # shared by every theme nothing matched (most themes of most texts): immutable


@dataclass
class Analysis:
    context: int
    elsewhere: int
    themes: list[ThemeMatch]

    def fires(self, k: int, min_score: float) -> bool:
        return self.themes[k].fires(self.context, self.elsewhere, min_score)


# Pattern kinds
_TERM, _ANCHORED, _VETO, _CONTEXT, _ELSEWHERE = range(5)


class TokenInfo(NamedTuple):
    """What one distinct token means to the patterns."""
    accepted: frozenset[int]  # the element ids it satisfies
    starters: tuple  # (pattern id, its elements, or None for a one-element pattern) of the patterns starting at it
    singles: tuple[int, ...]  # of those, the one-element patterns, which the token completes alone...
    single_places: tuple[int, ...]  # ...and their places in `starters`
    multis: tuple[int, ...]  # the patterns of several elements among the starters...
    multi_places: tuple[int, ...]  # ...and their places


class Lexicon:
    """Compiled lexicon: every pattern element gets an id, every distinct token the set of element ids it
    satisfies and the patterns that may start at it (cached: news vocabulary repeats), and a pattern is tried
    only where its first element matches. One scan serves all themes."""

    def __init__(self, spec: dict):
        self.theme_ids: list[str] = [t["id"] for t in spec["themes"]]
        self.min_score = float(spec.get("min_score", 1.0))
        self._element_ids: dict[tuple[str, str], int] = {}
        # (kind, theme index, weight, element ids with GAP for '~', required element ids)
        self._patterns: list[tuple[int, int, float, tuple[int, ...], frozenset[int]]] = []
        self._seen: set[tuple[int, tuple[int, ...]]] = set()
        for pattern in spec["context"]:
            self._add(_CONTEXT, -1, 0.0, pattern)
        for pattern in spec.get("elsewhere", ()):
            self._add(_ELSEWHERE, -2, 0.0, pattern)
        for k, theme in enumerate(spec["themes"]):
            for pattern, weight in theme["terms"]:
                self._add(_TERM, k, float(weight), pattern)
            for pattern in theme.get("anchored", ()):
                self._add(_ANCHORED, k, 1.0, pattern)
            for pattern in theme.get("veto", ()):
                self._add(_VETO, k, 0.0, pattern)
        self._exact: dict[str, int] = {}
        self._prefix: dict[str, int] = {}
        for (kind, value), eid in self._element_ids.items():
            (self._exact if kind == "exact" else self._prefix)[value] = eid
        self._prefix_lengths = sorted({len(p) for p in self._prefix})
        self._starting: dict[int, list[int]] = {}
        for pid, pattern in enumerate(self._patterns):
            self._starting.setdefault(pattern[3][0], []).append(pid)
        # Patterns of several elements, and the elements each requires: a batch finds the texts that hold all of
        # a pattern's elements somewhere with two sparse products, so only those are tried word by word.
        self._multi_ids = np.array([pid for pid, p in enumerate(self._patterns) if len(p[3]) > 1], dtype=np.int64)
        required = [self._patterns[pid][4] for pid in self._multi_ids]
        self._required_sizes = np.array([len(r) for r in required], dtype=np.int64)
        self._elements_by_multi = sp.csr_matrix(
            (np.ones(int(self._required_sizes.sum())),
             np.array([e for r in required for e in sorted(r)], dtype=np.int64),
             np.concatenate([[0], np.cumsum(self._required_sizes)])),
            shape=(len(required), len(self._element_ids))).T.tocsr()
        self._build_layouts()
        self._kinds = np.array([p[0] for p in self._patterns], dtype=np.int64)
        self._themes = np.array([p[1] for p in self._patterns], dtype=np.int64)
        self._weights = np.array([p[2] for p in self._patterns], dtype=np.float64)
        self._info_of = lru_cache(maxsize=MEMO_LIMIT)(self._token_info)  # for match_text, the plain reading
        self._tables = Lasting(lambda new: list(map(self._token_info, new)),  # for match_batch
                               lambda: TokenTable(len(self._element_ids)))
        self._chunk_tokens = ChunkReader(tokens)
        self.chunks = Numbering()  # lasting chunk numbers for batches split for this lexicon alone

    def _build_layouts(self) -> None:
        """Each several-element pattern as the fixed layouts its gaps allow, in the order `_end` tries them (the
        first gap's skip first): its elements at offsets from the first token (-1 pads), and the tokens it spans.
        A batch then tries every layout of every candidate start at once."""
        layouts = []
        for pid in self._multi_ids.tolist():
            elements = self._patterns[pid][3]
            for skips in product(range(GAP_TOKENS + 1), repeat=elements.count(GAP)):
                placed, at, skip = [], 0, iter(skips)
                for element in elements:
                    if element == GAP:
                        at += next(skip)
                    else:
                        placed.append((at, element))
                        at += 1
                layouts.append((pid, placed, at))
        width = max((len(placed) for _, placed, _ in layouts), default=0)
        self._layout_offsets = np.full((len(layouts), width), -1, dtype=np.int64)
        self._layout_elements = np.full((len(layouts), width), -1, dtype=np.int64)
        for row, (_, placed, _) in enumerate(layouts):
            self._layout_offsets[row, :len(placed)] = [at for at, _ in placed]
            self._layout_elements[row, :len(placed)] = [element for _, element in placed]
        self._layout_spans = np.array([span for _, _, span in layouts], dtype=np.int64)
        layout_pids = np.array([pid for pid, _, _ in layouts], dtype=np.int64)
        self._layout_counts = np.bincount(layout_pids, minlength=len(self._patterns))
        self._layout_starts = np.searchsorted(layout_pids, np.arange(len(self._patterns)))  # layouts are by pid

    def _add(self, kind: int, theme: int, weight: float, pattern: str) -> None:
        elements = tuple(GAP if kind_ == "gap" else self._element_ids.setdefault((kind_, value), len(self._element_ids))
                         for kind_, value in parse_pattern(pattern))
        if (theme, elements) in self._seen:
            return  # one word listed for two languages counts once
        self._seen.add((theme, elements))
        self._patterns.append((kind, theme, weight, elements, frozenset(e for e in elements if e != GAP)))

    def _token_info(self, token: str) -> TokenInfo:
        """What one distinct token means to the patterns."""
        ids = set()
        if token in self._exact:
            ids.add(self._exact[token])
        for length in self._prefix_lengths:
            if length > len(token):
                break
            eid = self._prefix.get(token[:length])
            if eid is not None:
                ids.add(eid)
        accepted = frozenset(ids)
        starters = tuple((pid, None if len(self._patterns[pid][3]) == 1 else self._patterns[pid][3])
                         for eid in accepted for pid in self._starting.get(eid, ()))
        singles = [(place, pid) for place, (pid, elements) in enumerate(starters) if elements is None]
        multis = [(place, pid) for place, (pid, elements) in enumerate(starters) if elements is not None]
        return TokenInfo(accepted, starters, tuple(pid for _, pid in singles), tuple(place for place, _ in singles),
                         tuple(pid for _, pid in multis), tuple(place for place, _ in multis))

    @staticmethod
    def _end(elements: tuple[int, ...], k: int, occurrences: list[int], info: list, pos: int, stop: int) -> int:
        """Index after a match of elements[k:] starting at token pos (tokens end at stop), or -1."""
        if k == len(elements):
            return pos
        element = elements[k]
        if element == GAP:
            for skip in range(GAP_TOKENS + 1):
                end = Lexicon._end(elements, k + 1, occurrences, info, pos + skip, stop)
                if end >= 0:
                    return end
            return -1
        if pos < stop and element in info[occurrences[pos]].accepted:
            return Lexicon._end(elements, k + 1, occurrences, info, pos + 1, stop)
        return -1

    def tokens_of(self, chunks: Tokens) -> Tokens:
        """The lexicon's tokens of a batch split at whitespace (pipeline.classify.fastpath.tokens)."""
        return self._chunk_tokens(chunks)

    def match_chunks(self, chunks: Tokens) -> BatchMatches:
        """Every text's matches, for a batch split at whitespace (pipeline.classify.fastpath.tokens)."""
        return self.match_batch(self.tokens_of(chunks))

    def match_batch(self, batch: Tokens) -> BatchMatches:
        """Each text's first match of every pattern, in the order `match_text` finds them, for a whole batch of
        `tokens_of` (numbered tokens) and with array operations: a one-element pattern (most matches) wherever a
        token it accepts occurs, a pattern of several elements tried in every layout of its gaps at once, only in
        texts that hold all its elements. A pattern never spans two texts."""
        distinct, occurrences, lengths, numbering = batch
        table = self._tables(numbering)
        bounds = np.concatenate([[0], np.cumsum(lengths)])
        position, place, pid = table.starters_at(occurrences, multis=False)
        text = np.searchsorted(bounds, position, side="right") - 1
        first = first_of_each(text * len(self._patterns) + pid)
        position, place, pid, text = position[first], place[first], pid[first], text[first]
        multi_position, multi_place, multi_pid, multi_text, phrases = self._match_multis(batch, table, bounds)
        # One number per surface form, after the words': two patterns matching the same words give the same one.
        phrase_ids = defaultdict(count(len(distinct)).__next__)
        surface = np.concatenate([occurrences[position], np.fromiter(map(phrase_ids.__getitem__, phrases),
                                                                     dtype=np.int64, count=len(phrases))])
        position, place = np.concatenate([position, multi_position]), np.concatenate([place, multi_place])
        order = np.argsort(position * (len(self._patterns) + 1) + place, kind="stable")  # as match_text finds them
        return BatchMatches(self, len(lengths), np.concatenate([text, multi_text])[order],
                            np.concatenate([pid, multi_pid])[order], surface[order], distinct, list(phrase_ids))

    def _match_multis(self, batch: Tokens, table: TokenTable, bounds: np.ndarray) -> tuple:
        """Position, place among the token's starters, pattern id, text and surface of each several-element
        pattern's first match in each text, tried only where the text holds all its elements."""
        distinct, occurrences = batch.distinct, batch.occurrences
        n_patterns = len(self._patterns)
        allowed_pids, allowed_per_text = self._complete_multis(table, occurrences, bounds)
        if not len(allowed_pids):
            nothing = np.zeros(0, dtype=np.int64)
            return nothing, nothing, nothing, nothing, []
        position, place, pid = table.starters_at(occurrences, multis=True)
        text = np.searchsorted(bounds, position, side="right") - 1
        allowed = np.repeat(np.arange(len(bounds) - 1), np.diff(allowed_per_text)) * n_patterns + allowed_pids
        tried = np.isin(text * n_patterns + pid, allowed)
        position, place, pid, text = position[tried], place[tried], pid[tried], text[tried]
        # Every layout of every tried start: does each element's token accept that element, inside the text?
        counts = self._layout_counts[pid]
        candidate = np.repeat(np.arange(len(pid)), counts)
        layout = np.repeat(self._layout_starts[pid] - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())
        offsets = self._layout_offsets[layout]
        at = position[candidate, None] + offsets
        token_at = occurrences[np.clip(at, 0, max(len(occurrences) - 1, 0))]
        accepted = table.accepts(token_at, self._layout_elements[layout])
        fits = ((offsets < 0) | (accepted & (at < bounds[text + 1][candidate, None]))).all(axis=1)
        # A start matches by its first fitting layout, as `_end` tries them; a text keeps a pattern's first match.
        fitting = np.flatnonzero(fits)
        row = fitting[first_of_each(candidate[fitting])]
        matched = candidate[row]
        first = first_of_each(text[matched] * n_patterns + pid[matched])
        row, matched = row[first], matched[first]
        starts, ends = position[matched].tolist(), (position[matched] + self._layout_spans[layout[row]]).tolist()
        phrases = [" ".join(map(distinct.__getitem__, occurrences[start:end].tolist()))
                   for start, end in zip(starts, ends, strict=True)]
        return position[matched], place[matched], pid[matched], text[matched], phrases

    def _complete_multis(self, table: TokenTable, occurrences: np.ndarray,
                         bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ids of the several-element patterns whose elements all occur in a text, text after text, and where
        each text's ids start (one more entry than texts)."""
        n_texts, n_tokens = len(bounds) - 1, len(table)
        elements, starts = table.accepted.csr_parts()
        elements_by_token = sp.csr_matrix((np.ones(len(elements)), elements, starts),
                                          shape=(n_tokens, len(self._element_ids)))
        tokens_by_text = sp.csr_matrix((np.ones(len(occurrences)), occurrences, bounds), shape=(n_texts, n_tokens))
        present = (tokens_by_text @ elements_by_token).tocsr()
        present.data[:] = 1.0
        held = (present @ self._elements_by_multi).tocsr()  # per text and pattern: how many of its elements occur
        complete = held.data == self._required_sizes[held.indices]
        text_of_entry = np.repeat(np.arange(n_texts), np.diff(held.indptr))
        return (self._multi_ids[held.indices[complete]],
                np.searchsorted(text_of_entry[complete], np.arange(n_texts + 1)))

    def analyse_chunks(self, chunks: Tokens) -> list[Analysis]:
        """`analyse` for every text of a batch split at whitespace (pipeline.classify.fastpath.tokens)."""
        return self.match_chunks(chunks).analyses()

    def analyse_texts(self, texts: list[str]) -> list[Analysis]:
        return self.analyse_chunks(split_batch(texts, self.chunks))

    def analyse(self, text: str) -> Analysis:
        return self.analysis_of(self.match_text(tokens(text)))

    def match_text(self, words: list[str]) -> dict[int, str]:
        """One text's first match of every pattern (pattern id -> surface form) in the order found: token after
        token, and at each token the patterns starting there in a fixed order. The plain reading of the lexicon,
        which `match_batch` must equal (tested)."""
        info = list(map(self._info_of, words))
        positions = list(range(len(words)))
        found: dict[int, str] = {}
        for pos, token_info in enumerate(info):
            for pid, elements in token_info.starters:
                if pid in found:
                    continue
                end = pos + 1 if elements is None else self._end(elements, 1, positions, info, pos + 1, len(words))
                if end >= 0:
                    found[pid] = " ".join(words[pos:end])
        return found

    def analysis_of(self, matches: dict[int, str]) -> Analysis:
        context = elsewhere = 0
        found: dict[int, list] = {}  # theme -> [anchored, veto, {surface: weight}]
        patterns = self._patterns
        for pid, surface in matches.items():
            kind, k, weight = patterns[pid][:3]
            if kind == _CONTEXT:
                context += 1
                continue
            if kind == _ELSEWHERE:
                elsewhere += 1
                continue
            state = found.get(k)
            if state is None:
                state = found[k] = [False, False, {}]
            if kind == _VETO:
                state[1] = True
                continue
            if kind == _ANCHORED:
                state[0] = True
            # The same words matched by two patterns (a Russian and a Ukrainian stem) count once, at most weight.
            weights = state[2]
            if weight > weights.get(surface, 0.0):
                weights[surface] = weight
        themes = [NO_MATCH] * len(self.theme_ids)
        for k, (anchored, veto, weights) in found.items():
            themes[k] = ThemeMatch(sum(weights.values()), anchored, veto, tuple(weights))
        context += sum(anchored for anchored, _, _ in found.values())  # an anchored term names the war itself
        return Analysis(context, elsewhere, themes)

    def labels(self, analysis: Analysis) -> list[str]:
        return [t for k, t in enumerate(self.theme_ids) if analysis.fires(k, self.min_score)]


def first_of_each(keys: np.ndarray) -> np.ndarray:
    """Where each distinct key first occurs, in the order of `keys`."""
    return np.sort(np.unique(keys, return_index=True)[1])


class TokenTable:
    """What each token of a numbering means to the patterns (its `TokenInfo`), as arrays by token number."""

    def __init__(self, n_elements: int):
        self.n_elements = n_elements
        self.accepted, self.singles, self.single_places = Ragged(), Ragged(), Ragged()
        self.multis, self.multi_places = Ragged(), Ragged()
        # token * n_elements + element for every element a token accepts, ascending: tokens come in number order
        # and each token's elements are stored sorted, so appending keeps it sorted.
        self._pairs = Column()

    def __len__(self) -> int:
        return len(self.accepted)

    def extend(self, infos: list[TokenInfo]) -> None:
        accepted = [sorted(info.accepted) for info in infos]
        self._pairs.extend([(len(self) + i) * self.n_elements + element
                            for i, elements in enumerate(accepted) for element in elements])
        self.accepted.extend(accepted)
        for name in ("singles", "single_places", "multis", "multi_places"):
            getattr(self, name).extend(list(map(attrgetter(name), infos)))

    def starters_at(self, occurrences: np.ndarray, multis: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(position, place among the token's starters, pattern id) of every one-element pattern (or, with
        `multis`, several-element pattern) that may start at each token occurrence, position after position and in
        place order."""
        pids, places = (self.multis, self.multi_places) if multis else (self.singles, self.single_places)
        positions = np.flatnonzero(pids.lengths(occurrences))
        flat_pids, here = pids.take(occurrences[positions])
        return np.repeat(positions, here), places.take(occurrences[positions])[0], flat_pids

    def accepts(self, tokens: np.ndarray, elements: np.ndarray) -> np.ndarray:
        """Whether each token accepts the element beside it."""
        pairs, keys = self._pairs.values[:len(self._pairs)], tokens * self.n_elements + elements
        if not len(pairs):
            return np.zeros(keys.shape, dtype=bool)
        return pairs[np.minimum(np.searchsorted(pairs, keys), len(pairs) - 1)] == keys


class BatchMatches:
    """A batch's lexicon matches: per match its text, pattern id and surface form, text after text and each text's
    in the order `Lexicon.match_text` finds them. The model's features come from it as arrays; an `Analysis` (the
    terms shown as evidence) is built only for the texts that need one."""

    def __init__(self, lexicon: Lexicon, n_texts: int, text: np.ndarray, pid: np.ndarray, surface: np.ndarray,
                 words: list[str], phrases: list[str]):
        """`surface`: a number below len(words) is that token of the batch's numbering, one above it a phrase."""
        self.lexicon, self.n_texts = lexicon, n_texts
        self.text, self.pid, self.surface = text, pid, surface
        self._tokens, self._n_words, self._phrases = words, len(words), phrases  # the numbering grows after this batch
        self._starts = np.searchsorted(text, np.arange(n_texts + 1)).tolist()

    def __len__(self) -> int:
        return self.n_texts

    def _surfaces(self, numbers: np.ndarray) -> list[str]:
        words, n_words, phrases = self._tokens, self._n_words, self._phrases
        return [words[s] if s < n_words else phrases[s - n_words] for s in numbers.tolist()]

    def matches(self, i: int) -> dict[int, str]:
        """Text i's matches as `Lexicon.match_text` gives them."""
        start, end = self._starts[i], self._starts[i + 1]
        return dict(zip(self.pid[start:end].tolist(), self._surfaces(self.surface[start:end]), strict=True))

    def analysis(self, i: int) -> Analysis:
        return self.lexicon.analysis_of(self.matches(i))

    def analyses(self) -> list[Analysis]:
        return [self.analysis(i) for i in range(self.n_texts)]

    @cached_property
    def _words(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each (text, theme) cell's matched words: cell, weight, surface id, in the order first matched. The same
        words matched by two patterns (a Russian and a Ukrainian stem) count once, at their largest weight, as in
        `analysis_of`; summing in this order then gives its floats too."""
        lexicon, themes = self.lexicon, len(self.lexicon.theme_ids)
        kind, weight = lexicon._kinds[self.pid], lexicon._weights[self.pid]
        weighs = np.isin(kind, (_TERM, _ANCHORED)) & (weight > 0)
        cell = self.text[weighs] * themes + lexicon._themes[self.pid[weighs]]
        surface = self.surface[weighs]
        _, first, group = np.unique(cell * (self._n_words + len(self._phrases)) + surface, return_index=True,
                                    return_inverse=True)
        largest = np.zeros(len(first))
        np.maximum.at(largest, group, weight[weighs])
        in_order = np.argsort(first)
        return cell[first[in_order]], largest[in_order], surface[first[in_order]]

    @cached_property
    def _words_by_cell(self) -> tuple[np.ndarray, np.ndarray]:
        cells, _, surfaces = self._words
        by_cell = np.argsort(cells, kind="stable")  # stable: each cell's words stay in the order first matched
        return cells[by_cell], surfaces[by_cell]

    def terms(self, i: int, k: int) -> list[str]:
        """The words that matched theme k in text i, in text order: `analysis(i).themes[k].terms`."""
        cells, surfaces = self._words_by_cell
        cell = i * len(self.lexicon.theme_ids) + k
        start, end = np.searchsorted(cells, [cell, cell + 1]).tolist()
        return self._surfaces(surfaces[start:end])

    def features(self) -> np.ndarray:
        """Per text: for each theme its capped score, anchored, vetoed and fires; then whether and how strongly
        the text names the war, and whether it names another conflict. The same figures `analysis_of` gives, for
        the whole batch at once."""
        lexicon, n, themes = self.lexicon, self.n_texts, len(self.lexicon.theme_ids)
        kind, text = lexicon._kinds[self.pid], self.text
        cell = text * themes + lexicon._themes[self.pid]  # (text, theme), for the theme kinds
        anchored, veto = np.zeros(n * themes, dtype=bool), np.zeros(n * themes, dtype=bool)
        anchored[cell[kind == _ANCHORED]] = True
        veto[cell[kind == _VETO]] = True
        word_cell, word_weight, _ = self._words
        score = np.bincount(word_cell, weights=word_weight, minlength=n * themes)
        score, anchored, veto = score.reshape(n, themes), anchored.reshape(n, themes), veto.reshape(n, themes)
        context = np.bincount(text[kind == _CONTEXT], minlength=n) + anchored.sum(axis=1)  # anchored names the war
        elsewhere = np.bincount(text[kind == _ELSEWHERE], minlength=n)
        fires = theme_fires(score, anchored, veto, context[:, None], elsewhere[:, None], lexicon.min_score)
        per_theme = np.stack([np.minimum(score, SCORE_CAP) / SCORE_CAP, anchored, veto, fires], axis=2)
        named = np.column_stack([context > 0, np.minimum(context, SCORE_CAP) / SCORE_CAP, elsewhere > 0])
        return np.hstack([per_theme.reshape(n, themes * FEATURES_PER_THEME), named]).astype(np.float64)


def feature_mask(theme_count: int, kinds) -> np.ndarray:
    """Columns of Lexicon.features kept for the given per-theme kinds (the global ones are always kept)."""
    unknown = set(kinds) - set(THEME_FEATURES)
    if unknown:
        raise ValueError(f"lexicon: unknown feature kinds {sorted(unknown)} (use {THEME_FEATURES})")
    per_theme = [kind in kinds for kind in THEME_FEATURES]
    return np.array(per_theme * theme_count + [True] * GLOBAL_FEATURES)


class LexiconFeatures(TransformerMixin, BaseEstimator):
    """scikit-learn transformer: texts -> the lexicon's per-theme evidence as dense features.

    `spec` is the plain-data lexicon (see pipeline.classify.themes.lexicon_spec), stored in the artifact so a saved
    model keeps the lexicon it was trained with. The compiled matcher is rebuilt on load, never persisted.
    """

    def __init__(self, spec: dict | None = None, kinds: tuple = THEME_FEATURES):
        self.spec = spec
        self.kinds = kinds

    def fit(self, texts, y=None):
        self.lexicon_ = Lexicon(self.spec)
        self.n_features_out_ = int(self.mask().sum())
        return self

    def mask(self) -> np.ndarray:
        return feature_mask(len(self.spec["themes"]), self.kinds)

    def transform(self, texts):
        return self.from_matches(self.lexicon_.match_chunks(split_batch(list(texts), self.lexicon_.chunks)))

    def from_matches(self, matches: BatchMatches) -> np.ndarray:
        return matches.features()[:, self.mask()]

    def get_feature_names_out(self, input_features=None):
        names = [f"{t}__{f}" for t in self.lexicon_.theme_ids for f in THEME_FEATURES]
        names += ["war_context", "war_context_strength", "elsewhere"]
        return np.array(names, dtype=object)[self.mask()]

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: object.__getstate__ hands out the live __dict__
        state.pop("lexicon_", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if self.spec is not None and "n_features_out_" in state:
            self.lexicon_ = Lexicon(self.spec)
