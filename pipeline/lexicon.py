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
from dataclasses import dataclass
from itertools import chain

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from pipeline.tokens import BatchMemo, Tokens, retokenize, split_batch

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
        if self.score < min_score:
            return False
        if self.anchored:
            return True
        if self.veto:
            return False
        return context > 0 or (self.score >= 2 * min_score and not elsewhere)


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
        self._token_infos = BatchMemo(self._token_info)
        self._chunk_tokens = BatchMemo(tokens)

    def _add(self, kind: int, theme: int, weight: float, pattern: str) -> None:
        elements = tuple(GAP if kind_ == "gap" else self._element_ids.setdefault((kind_, value), len(self._element_ids))
                         for kind_, value in parse_pattern(pattern))
        if (theme, elements) in self._seen:
            return  # one word listed for two languages counts once
        self._seen.add((theme, elements))
        self._patterns.append((kind, theme, weight, elements, frozenset(e for e in elements if e != GAP)))

    def _token_info(self, token: str) -> tuple[frozenset[int], tuple, tuple[int, ...], frozenset[int]]:
        """The element ids a token satisfies; the patterns that may start at it, (pattern id, its elements, or None
        for a one-element pattern, which the token completes alone); of those, the one-element patterns' ids, and
        the others' ids. Kept per token by `_token_infos`."""
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
        singles = tuple(pid for pid, elements in starters if elements is None)
        multis = frozenset(pid for pid, elements in starters if elements is not None)
        return accepted, starters, singles, multis

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
        if pos < stop and element in info[occurrences[pos]][0]:
            return Lexicon._end(elements, k + 1, occurrences, info, pos + 1, stop)
        return -1

    def tokens_of(self, chunks: Tokens) -> Tokens:
        """The lexicon's tokens of a batch split at whitespace (pipeline.tokens)."""
        return retokenize(chunks, self._chunk_tokens)

    def matches_batch(self, batch: Tokens) -> list[dict[int, str]]:
        """Per text: pattern id -> surface form of its first match. Only tokens where some pattern starts are
        visited, found with one array lookup for the whole batch, and a pattern of several elements is tried only
        in texts that hold all of them; a pattern never spans two texts."""
        distinct, occurrences, lengths = batch
        info = self._token_infos(distinct)
        starts_here = np.fromiter((bool(starters) for _, starters, _, _ in info), dtype=bool, count=len(info))
        bounds = np.concatenate([[0], np.cumsum(lengths)])
        hits = np.flatnonzero(starts_here[occurrences])
        hits_per_text = np.searchsorted(hits, bounds)
        allowed_pids, allowed_per_text = self._complete_multis(info, occurrences, bounds)
        occurrence_list, hit_list, allowed_list = occurrences.tolist(), hits.tolist(), allowed_pids.tolist()
        bounds, hits_per_text, allowed_per_text = bounds.tolist(), hits_per_text.tolist(), allowed_per_text.tolist()
        every_text: list[dict[int, str]] = []
        for t in range(len(lengths)):
            found: dict[int, str] = {}
            stop = bounds[t + 1]
            allowed = set(allowed_list[allowed_per_text[t]:allowed_per_text[t + 1]])
            for pos in hit_list[hits_per_text[t]:hits_per_text[t + 1]]:
                token = occurrence_list[pos]
                _, starters, singles, multis = info[token]
                if not multis or multis.isdisjoint(allowed):
                    for pid in singles:
                        if pid not in found:
                            found[pid] = distinct[token]
                    continue
                for pid, elements in starters:  # in the order of `starters`, so the first match wins as ever
                    if pid in found:
                        continue
                    if elements is None:
                        found[pid] = distinct[token]
                    elif pid in allowed:
                        end = self._end(elements, 1, occurrence_list, info, pos + 1, stop)
                        if end >= 0:
                            found[pid] = " ".join(distinct[o] for o in occurrence_list[pos:end])
            every_text.append(found)
        return every_text

    def _complete_multis(self, info: list, occurrences: np.ndarray,
                         bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ids of the several-element patterns whose elements all occur in a text, text after text, and where
        each text's ids start (one more entry than texts)."""
        n_texts, n_tokens = len(bounds) - 1, len(info)
        element_counts = np.fromiter((len(accepted) for accepted, _, _, _ in info), dtype=np.int64, count=n_tokens)
        elements_by_token = sp.csr_matrix(
            (np.ones(int(element_counts.sum())),
             np.fromiter(chain.from_iterable(accepted for accepted, _, _, _ in info), dtype=np.int64,
                         count=int(element_counts.sum())),
             np.concatenate([[0], np.cumsum(element_counts)])),
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
        """`analyse` for every text of a batch split at whitespace (pipeline.tokens)."""
        return [self._analysis(found) for found in self.matches_batch(self.tokens_of(chunks))]

    def analyse(self, text: str) -> Analysis:
        return self.analyse_chunks(split_batch([text]))[0]

    def _analysis(self, matches: dict[int, str]) -> Analysis:
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

    def features(self, analyses: list[Analysis]) -> np.ndarray:
        width = FEATURES_PER_THEME * len(self.theme_ids) + GLOBAL_FEATURES
        out = np.zeros((len(analyses), width))
        nothing_fires = self.min_score > 0  # an unmatched theme then leaves its columns zero
        for i, analysis in enumerate(analyses):
            for k, m in enumerate(analysis.themes):
                if m is NO_MATCH and nothing_fires:
                    continue
                base = FEATURES_PER_THEME * k
                out[i, base] = min(m.score, SCORE_CAP) / SCORE_CAP
                out[i, base + 1] = m.anchored
                out[i, base + 2] = m.veto
                out[i, base + 3] = analysis.fires(k, self.min_score)
            out[i, -3] = analysis.context > 0
            out[i, -2] = min(analysis.context, SCORE_CAP) / SCORE_CAP
            out[i, -1] = analysis.elsewhere > 0
        return out


def feature_mask(theme_count: int, kinds) -> np.ndarray:
    """Columns of Lexicon.features kept for the given per-theme kinds (the global ones are always kept)."""
    unknown = set(kinds) - set(THEME_FEATURES)
    if unknown:
        raise ValueError(f"lexicon: unknown feature kinds {sorted(unknown)} (use {THEME_FEATURES})")
    per_theme = [kind in kinds for kind in THEME_FEATURES]
    return np.array(per_theme * theme_count + [True] * GLOBAL_FEATURES)


class LexiconFeatures(TransformerMixin, BaseEstimator):
    """scikit-learn transformer: texts -> the lexicon's per-theme evidence as dense features.

    `spec` is the plain-data lexicon (see pipeline.themes.lexicon_spec), stored in the artifact so a saved
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
        return self.from_analyses(self.lexicon_.analyse_chunks(split_batch(list(texts))))

    def from_analyses(self, analyses: list[Analysis]) -> np.ndarray:
        return self.lexicon_.features(analyses)[:, self.mask()]

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
