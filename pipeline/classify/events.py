"""Who did what: up to three (actor, action, theme) events in every themed article (../shared/EVENTS.md).

Candidates: every party the gazetteer (models/actors.yaml, aliases in English, Russian and Ukrainian) finds in
the text, crossed with each of the article's themes, plus `other` per theme (a party not in the list, or none).
A calibrated logistic regression scores whether a candidate is an event (the pair model); a second one picks its
action (the action model). Both read the words around the actor's mentions (before and after, headline and
lede apart), where the actor stands (in the headline, named first) and the theme. An event's score is
P(pair) x P(action); events under the threshold chosen by cross-validation are dropped (the article's best
event always stays, so a themed article has a main event), at most three are kept, the strongest first.
Evidence: the words that named the actor, and the words near it that weighed most for the chosen action.
Both models also read what the most similar coded training articles say about the same (actor, theme): how
much of their similarity codes that pair as an event, and with which actions (`CodedNeighbours`): who tends
to do what about a theme in news worded like this, which the words around one mention cannot tell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from pipeline.classify.fastpath.dictvec import SharedRows
from pipeline.classify.fastpath.wordngrams import WordNgramTfidf, compact_for_saving
from pipeline.classify.neighbours import top_per_row
from pipeline.core.errors import ModelError

ACTORS_FILE = "actors.yaml"
ACTORS = ("russia", "ukraine", "united_states", "europe", "united_kingdom", "france", "germany", "nato", "turkey",
          "china", "other")
ACTIONS = ("propose", "demand", "agree", "reject", "threaten", "enact", "withdraw", "violate", "meet", "other")
MAX_EVENTS = 3
WINDOW = 5  # words each side of a mention
EVIDENCE_WORDS = 3
# Words near an actor that carry weight in the action model but tell a reader nothing about the action.
UNTELLING_WORDS = frozenset("says said say told tells according leader president minister ministry official officials"
                            " spokesman spokeswoman government sources source".split())

_TOKEN = re.compile(r"\w+(?:[.'’\-]\w+)*")
_POSSESSIVES = ("'s", "’s")  # a token never ends in an apostrophe (_TOKEN ends on a word character)
# The headline ends at the first sentence end not right after a capital (U.S. envoy, a NATO.-style acronym).
_HEADLINE_END = re.compile(r"(?<![A-Z])[.?!:]\s")
_STOP = frozenset("""a an the of to in on for with at by from and or but as is are was were be been has have had
its it this that these those over after before into about than their his her they he she we you i s""".split())

# Words that signal an action, as stems (a word starting with one counts), in English, Russian and Ukrainian.
# The models read them as features beside the words themselves: a few thousand coded events cannot teach
# every way of saying "rules out".
ACTION_CUES = {
    "propose": "propos offer urg plan pledg promis suggest ready willing seek push float unveil table invit consider"
               " prepar envisag back call predlag предлаг пропон готов пообещ обіця призыва заклика",
    "demand": "demand insist condition requir must ultimat precondit unless exchange wants требу вимага услови умов"
              " настаива наполяга",
    "agree": "agree accept sign reach endors consent ratif welcom join deal соглас погод подпис підпис договор домов",
    "reject": "reject refus rule dismiss deny denie oppos veto spurn unrealist unaccept never won't no not against"
              " blast slam отверг отказ отклон відхил відмов не нет ні",
    "threaten": "threat warn retaliat vow consequen escalat угрож погрож предупред попередж",
    "enact": "impos adopt approv deliver sent send ship arriv captur seiz annex deploy launch blacklist designat ban"
             " allocat fund hand transfer took taken take liberat enter vote pass extend renew sanction ввел ввод"
             " запрет утверд постав передал захват освобод занял запровад затверд передав звільн",
    "withdraw": "lift eas paus halt suspend withdr pull end cut scrap drop shelv cancel delay unfreez exempt waiv"
                " retreat stop freez postpon снял отмен приостанов прекрат вывод зняв скасув призупин припин",
    "violate": "violat breach broke break accus flout ignor despite нарушен наруш поруш обвин звинув",
    "meet": "meet met talk call phone visit host summit held hold discuss consult arriv convers встреч переговор"
            " звон визит зустр розмов перемов візит",
    "other": "fall fell rise rose figur analys report data survey poll study estimat expert cost price revenu"
             " export import",
}
SHORT_CUE = 3  # a stem this short matches only itself or its plural ("no" is not "north", "ban" not "bank")
_CUES_BY_LENGTH: dict[int, dict[str, tuple[str, ...]]] = {}
_SHORT_CUES: dict[str, tuple[str, ...]] = {}
for _action, _stems in ACTION_CUES.items():
    for _stem in _stems.split():
        if len(_stem) <= SHORT_CUE:
            for _form in (_stem, _stem + "s"):
                _SHORT_CUES[_form] = (*_SHORT_CUES.get(_form, ()), _action)
            continue
        _group = _CUES_BY_LENGTH.setdefault(len(_stem), {})
        _group[_stem] = (*_group.get(_stem, ()), _action)
_CUE_LENGTHS = sorted(_CUES_BY_LENGTH, reverse=True)


_CUE_MEMO: dict[str, tuple[str, ...]] = {}
MEMO_LIMIT = 200_000


def cues_of(word: str) -> tuple[str, ...]:
    """The actions a lower-cased word signals (by its longest matching stem); remembered per word."""
    found = _CUE_MEMO.get(word)
    if found is None:
        if len(_CUE_MEMO) >= MEMO_LIMIT:
            _CUE_MEMO.clear()
        found = _CUE_MEMO[word] = _cues_of(word)
    return found


def _cues_of(word: str) -> tuple[str, ...]:
    short = _SHORT_CUES.get(word)
    if short:
        return short
    for length in _CUE_LENGTHS:
        if len(word) >= length:
            hit = _CUES_BY_LENGTH[length].get(word[:length])
            if hit:
                return hit
    return ()


# --- the gazetteer ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mention:
    actor: str
    start: int  # token span [start, end)
    end: int
    surface: str  # as written


class Gazetteer:
    """Aliases -> actors. Lower-cased matching, a trailing * for any ending, capitals for exact case."""

    def __init__(self, aliases: dict[str, list[str]]):
        self.aliases = {actor: list(words) for actor, words in aliases.items()}
        self._exact: dict[str, list[tuple]] = {}
        self._cased: dict[str, list[tuple]] = {}
        self._prefix: dict[str, list[tuple]] = {}
        for actor, words in self.aliases.items():
            if actor not in ACTORS or actor == "other":
                raise ModelError(f"events: unknown actor {actor!r} in the gazetteer")
            for alias in words:
                parts = tuple(_pattern(p) for p in alias.split())
                first, prefix, cased = parts[0]
                index = self._cased if cased else self._prefix if prefix else self._exact
                index.setdefault(first, []).append((parts[1:], actor))
        self._prefix_lengths = sorted({len(k) for k in self._prefix}, reverse=True)
        self._memo: dict[str, list[tuple]] = {}  # token -> the aliases that may start at it

    def mentions(self, tokens: list[str], lowered: list[str]) -> list[Mention]:
        found, i, n = [], 0, len(tokens)
        while i < n:
            best = None
            for rest, actor in self._starting_at(tokens[i], lowered[i]):
                end = i + 1 + len(rest)
                if end <= n and all(_accepts(p, tokens[i + 1 + k], lowered[i + 1 + k]) for k, p in enumerate(rest)):
                    if best is None or end > best[0]:
                        best = (end, actor)
            if best:
                found.append(Mention(best[1], i, best[0], " ".join(tokens[i:best[0]])))
                i = best[0]
            else:
                i += 1
        return found

    def _starting_at(self, token: str, low: str) -> list[tuple]:
        hits = self._memo.get(token)
        if hits is None:
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            hits = self._memo[token] = self._aliases_starting_at(token, low)
        return hits

    def _aliases_starting_at(self, token: str, low: str) -> list[tuple]:
        hits = self._exact.get(low, []) + self._cased.get(token, [])
        for length in self._prefix_lengths:
            if len(low) >= length and low[:length] in self._prefix:
                hits = hits + self._prefix[low[:length]]
        return hits


def _pattern(part: str) -> tuple[str, bool, bool]:
    cased = part != part.lower()
    prefix = part.endswith("*")
    text = part.rstrip("*")
    return (text if cased else text.lower()), prefix, cased


def _accepts(pattern: tuple[str, bool, bool], token: str, low: str) -> bool:
    text, prefix, cased = pattern
    word = token if cased else low
    return word.startswith(text) if prefix else word == text


def load_gazetteer(models_dir: Path) -> Gazetteer:
    path = Path(models_dir) / ACTORS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        aliases = {actor: [a for language in langs.values() for a in language]
                   for actor, langs in data["actors"].items()}
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise ModelError(f"events: cannot read the actor gazetteer {path}: {exc}") from exc
    return Gazetteer(aliases)


# --- one text, read once ---------------------------------------------------------------------------------------

@dataclass
class Reading:
    """A text's tokens (headline first), the parties it names, and in which order they first appear."""

    tokens: list[str]
    lowered: list[str]
    head_end: int  # tokens [0, head_end) are the headline
    mentions: list[Mention]
    order: list[str] = field(default_factory=list)  # actors by first mention
    _by_actor: dict = field(default_factory=dict, repr=False)

    def of(self, actor: str) -> list[Mention]:
        return [m for m in self.mentions if m.actor == actor]

    def actor_features(self, actor: str) -> tuple[dict[str, float], dict[str, float]]:
        found = self._by_actor.get(actor)
        if found is None:
            found = self._by_actor[actor] = actor_features(self, actor)
        return found


def read_text(text: str, gazetteer: Gazetteer) -> Reading:
    cut = _HEADLINE_END.search(text)
    head, rest = (text[:cut.start()], text[cut.end():]) if cut else (text, "")
    head_tokens = [_without_possessive(t) for t in _TOKEN.findall(head)]
    tokens = head_tokens + [_without_possessive(t) for t in _TOKEN.findall(rest)]
    lowered = [t.lower() for t in tokens]
    mentions = gazetteer.mentions(tokens, lowered)
    order = list(dict.fromkeys(m.actor for m in mentions))
    return Reading(tokens, lowered, len(head_tokens), mentions, order)


def _without_possessive(token: str) -> str:
    return token[:-2] if token[-2:] in _POSSESSIVES else token


def _words(reading: Reading, start: int, end: int) -> list[str]:
    return [w for w in reading.lowered[max(start, 0):end] if w not in _STOP and not w.isdigit()]


def _spans(reading: Reading, actor: str) -> list[tuple[int, int, str]]:
    """The token ranges the models read around an actor: after ("R") and before ("L") each of its first three
    mentions, within the headline or the lede it stands in; for `other`, the headline's opening words."""
    head = reading.head_end
    if actor == "other":
        return [(0, min(head, WINDOW + 2), "R")]
    spans = []
    for m in reading.of(actor)[:3]:
        zone_start, zone_end = (0, head) if m.start < head else (head, len(reading.tokens))
        spans += [(m.end, min(m.end + WINDOW, zone_end), "R"), (max(m.start - WINDOW, zone_start), m.start, "L")]
    return spans


def candidate_features(reading: Reading, actor: str, theme: str) -> dict[str, float]:
    """What the pair and action models read about one (actor, theme) candidate."""
    plain, themed = reading.actor_features(actor)
    f = {f"t={theme}": 1.0, f"at={actor}|{theme}": 1.0, **plain}
    for key, value in themed.items():
        f[f"{key}|{theme}"] = value
    return f


def actor_features(reading: Reading, actor: str) -> tuple[dict[str, float], dict[str, float]]:
    """A candidate's features that do not depend on its theme, and those read once per theme (the key gets
    "|theme" appended), so an actor's words are read once however many themes the article has."""
    f: dict[str, float] = {f"a={actor}": 1.0}
    themed: dict[str, float] = {}
    head = reading.head_end
    f[f"n_actors={min(len(reading.order), 3)}"] = 1.0
    in_head = {m.actor for m in reading.mentions if m.start < head}
    spans = _spans(reading, actor)
    if actor == "other":
        f["head_has_actor"] = float(bool(in_head))
        capitals = sum(1 for t in reading.tokens[1:head] if t[:1].isupper() and t.lower() not in _STOP)
        named = sum(m.end - m.start for m in reading.mentions if 0 < m.start < head)
        f[f"unnamed_capitals={min(max(capitals - named, 0), 3)}"] = 1.0
    else:
        mentions = reading.of(actor)
        first = mentions[0]
        rank = reading.order.index(actor)
        f[f"rank={min(rank, 2)}"] = 1.0
        themed[f"rank={min(rank, 2)}"] = 1.0
        f["in_head"] = themed["in_head"] = float(actor in in_head)
        f["head_first"] = float(first.start < head and not any(m.start < first.start for m in reading.mentions))
        f[f"mentions={min(len(mentions), 3)}"] = 1.0
        after_start, after_end, _ = spans[0]  # the words right after the first mention: usually the actor's verb
        for k, w in enumerate(_words(reading, after_start, min(after_start + 3, after_end))[:2]):
            f[f"R{k + 1}:{w[:5]}"] = 1.0
            themed[f"R{k + 1}:{w[:5]}"] = 1.0
    first_cue = True
    for start, end, side in spans:
        zone = "h" if start < head else "s"
        for w in _words(reading, start, end):
            stem = w[:5]
            f[f"{side}:{w}"] = 1.0
            f[f"{side}5:{stem}"] = 1.0
            f[f"{zone}{side}5:{stem}"] = 1.0
            cues = cues_of(w)
            for action in cues:
                f[f"cue{side}:{action}"] = 1.0
                themed[f"cue{side}:{action}"] = 1.0
                if side == "R" and first_cue:
                    f[f"cue1:{action}"] = 1.0
            if side == "R" and cues:
                first_cue = False
    for w in _words(reading, 0, head):
        f[f"H5:{w[:5]}"] = 1.0
        for action in cues_of(w):
            f[f"cueH:{action}"] = 1.0
    return f, themed


def window_words(reading: Reading, actor: str) -> list[tuple[str, str]]:
    """(feature key, word as written) for the words near the actor, for evidence."""
    out = []
    for start, end, side in _spans(reading, actor):
        for k in range(max(start, 0), end):
            w = reading.lowered[k]
            if w not in _STOP and not w.isdigit():
                out.append((f"{side}5:{w[:5]}", reading.tokens[k]))
    return out


# --- the coded neighbours -------------------------------------------------------------------------------------------

NEIGHBOURS = 20
NEIGHBOUR_BLOCK = 1000


class CodedNeighbours:
    """The training articles' word TF-IDF rows and their events: for a new text, the NEIGHBOURS most similar
    ones (cosine), and per (actor, theme) what they coded. Training rows leave themselves out."""

    def __init__(self, vectorizer, matrix, events: list[list[list[str]]], k: int = NEIGHBOURS):
        self.vectorizer, self.matrix, self.events, self.k = vectorizer, matrix.tocsr(), events, int(k)
        self._codes = [{(actor, theme): action for actor, action, theme in coded} for coded in events]
        self._transpose = self.matrix.T.tocsr()
        try:
            self._fast = WordNgramTfidf(vectorizer)  # the same matrix as vectorizer.transform, faster
        except ValueError:
            self._fast = None

    @classmethod
    def fit(cls, texts: list[str], events: list[list[list[str]]], k: int = NEIGHBOURS) -> CodedNeighbours:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float64)
        matrix = vectorizer.fit_transform(texts)
        compact_for_saving(vectorizer)
        return cls(vectorizer, matrix, [[list(e) for e in coded] for coded in events], k)

    def nearest(self, texts: list[str], leave_out: list[int] | None = None) -> list[list[tuple[int, float]]]:
        """Per text, (training row, similarity) of its nearest coded articles, most similar first; a text that
        is training row leave_out[i] does not count itself."""
        out: list[list[tuple[int, float]]] = []
        for start in range(0, len(texts), NEIGHBOUR_BLOCK):  # bounds the similarities held at once
            block = texts[start:start + NEIGHBOUR_BLOCK]
            rows = self._fast.transform(block) if self._fast is not None else self.vectorizer.transform(block)
            scores = (rows @ self._transpose).tocsr()
            if leave_out is not None:
                own = np.asarray(leave_out[start:start + NEIGHBOUR_BLOCK])
                scores.data[scores.indices == np.repeat(own, np.diff(scores.indptr))] = 0
            for columns, values in zip(*top_per_row(scores, self.k), strict=True):
                out.append(sorted(((int(j), float(v)) for j, v in zip(columns, values, strict=True) if j >= 0),
                                  key=lambda x: (-x[1], x[0])))
        return out

    def state(self) -> dict:
        """What skops saves (plain containers and scikit-learn types); `from_state` rebuilds the rest."""
        return {"vectorizer": self.vectorizer, "matrix": self.matrix, "events": self.events, "k": self.k}

    @classmethod
    def from_state(cls, state: dict) -> CodedNeighbours:
        return cls(state["vectorizer"], state["matrix"], state["events"], state["k"])

    def features(self, nearest: list[tuple[int, float]], actor: str, theme: str) -> dict[str, float]:
        """The share of the neighbours' similarity that codes (actor, theme) as an event, and how that share
        splits over actions."""
        total = sum(s for _, s in nearest)
        if not total:
            return {}
        actions: dict[str, float] = {}
        for j, s in nearest:
            action = self._codes[j].get((actor, theme))
            if action is not None:
                actions[action] = actions.get(action, 0.0) + s
        coded = sum(actions.values())
        f = {"knn_pair": coded / total}
        for action, weight in actions.items():
            f[f"knn_act:{action}"] = weight / coded
        return f


# --- the coder ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Event:
    actor: str
    action: str
    theme: str
    score: float
    evidence: dict[str, list[str]]

    def as_dict(self) -> dict:
        return {"actor": self.actor, "action": self.action, "theme": self.theme, "score": self.score,
                "evidence": self.evidence}


class EventCoder:
    """The fitted pair and action models (scikit-learn Pipelines of DictVectorizer and logistic regression), the
    gazetteer's aliases and the cross-validated threshold."""

    def __init__(self, pair_model, action_model, aliases: dict[str, list[str]], threshold: float,
                 neighbours: CodedNeighbours | None = None):
        self.pair_model = pair_model
        self.action_model = action_model
        self.gazetteer = Gazetteer(aliases)
        self.threshold = threshold
        self.neighbours = neighbours  # None: a coder trained before neighbour codes were read
        vectorizer = action_model.named_steps["vec"]
        self._vocabulary = vectorizer.vocabulary_
        clf = action_model.named_steps["clf"]
        self._actions = [str(c) for c in clf.classes_]
        self._action_coef = clf.coef_
        self._rows = SharedRows([pair_model.named_steps["vec"].vocabulary_, self._vocabulary])
        self._pair_clf = pair_model.named_steps["clf"]
        self._action_clf = clf

    def state(self) -> dict:
        """What skops saves: the two Pipelines, the aliases, the threshold and, if any, the coded neighbours."""
        state = {"pair_model": self.pair_model, "action_model": self.action_model, "aliases": self.gazetteer.aliases,
                 "threshold": float(self.threshold)}
        if self.neighbours is not None:
            state["neighbours"] = self.neighbours.state()
        return state

    @classmethod
    def from_state(cls, state: dict) -> EventCoder:
        """A saved coder; one saved before neighbour codes were read has none."""
        neighbours = state.get("neighbours")
        return cls(state["pair_model"], state["action_model"], state["aliases"], state["threshold"],
                   None if neighbours is None else CodedNeighbours.from_state(neighbours))

    def _probabilities(self, rows: list[dict[str, float]]) -> tuple[np.ndarray, np.ndarray]:
        """P(event) and P(action) per candidate: the Pipelines' predict_proba, with the dicts vectorized by the
        fast path (fastpath.dictvec, equal to DictVectorizer.transform for numeric rows)."""
        pair_x, action_x = self._rows.transform(rows)
        return self._pair_clf.predict_proba(pair_x)[:, 1], self._action_clf.predict_proba(action_x)

    def candidates(self, text: str, themes: Iterable[str]) -> tuple[Reading, list[tuple[str, str]]]:
        reading = read_text(text, self.gazetteer)
        actors = reading.order + ["other"]
        return reading, [(actor, theme) for theme in themes for actor in actors]

    def code(self, texts: list[str], labels: list[list[str]]) -> list[list[Event]]:
        """Events of each text for its themes (none for a text without themes)."""
        readings, rows, owners = [], [], []
        themed = [i for i, themes in enumerate(labels) if themes]
        nearest = dict(zip(themed, self.neighbours.nearest([texts[i] for i in themed]), strict=True)) \
            if self.neighbours is not None else {}
        for i, (text, themes) in enumerate(zip(texts, labels, strict=True)):
            if not themes:
                readings.append(None)
                continue
            reading, pairs = self.candidates(text, themes)
            readings.append(reading)
            for actor, theme in pairs:
                row = candidate_features(reading, actor, theme)
                if self.neighbours is not None:
                    row.update(self.neighbours.features(nearest[i], actor, theme))
                rows.append(row)
                owners.append((i, actor, theme))
        if not rows:
            return [[] for _ in texts]
        pair_p, action_p = self._probabilities(rows)
        best = action_p.argmax(axis=1)
        scores = pair_p * action_p[np.arange(len(rows)), best]
        by_text: dict[int, list[tuple[float, int]]] = {}
        for r, (i, _, _) in enumerate(owners):
            by_text.setdefault(i, []).append((float(scores[r]), r))
        out: list[list[Event]] = [[] for _ in texts]
        for i, scored in by_text.items():
            chosen = select(scored, [owners[r][1:] for _, r in scored], self.threshold)
            out[i] = [self._event(readings[i], owners[r][1], owners[r][2], self._actions[best[r]], score)
                      for score, r in chosen]
        return out

    def _event(self, reading: Reading, actor: str, theme: str, action: str, score: float) -> Event:
        named = list(dict.fromkeys(m.surface for m in reading.of(actor)))[:EVIDENCE_WORDS]
        k = self._actions.index(action)
        named_tokens = {reading.tokens[i] for m in reading.mentions for i in range(m.start, m.end)}
        weighed = []
        for key, word in window_words(reading, actor):
            if word in named_tokens or word.lower() in UNTELLING_WORDS:
                continue  # a party's name or a reporting verb explains no action to a reader
            column = self._vocabulary.get(key)
            weight = self._action_coef[k, column] if column is not None else 0.0
            cue = action in cues_of(word.lower())
            if cue or weight > 0:
                weighed.append((cue, weight, word))  # the action's own cue words first, then by weight
        signals = list(dict.fromkeys(w for _, _, w in sorted(weighed, key=lambda x: (-x[0], -x[1]))))[:EVIDENCE_WORDS]
        return Event(actor, action, theme, round(score, 4), {"actor": named, "action": signals})


def event_rows(events: list[dict]) -> list[dict]:
    """A prediction's events as staged (and as `article_actions` stores them): ranked, evidence split."""
    return [{"rank": rank, "actor": e["actor"], "action": e["action"], "theme": e["theme"], "score": e["score"],
             "actor_evidence": e["evidence"]["actor"], "action_evidence": e["evidence"]["action"]}
            for rank, e in enumerate(events, start=1)]


def select(scored: list[tuple[float, int]], pairs: list[tuple[str, str]], threshold: float) -> list[tuple[float, int]]:
    """Strongest first, at most MAX_EVENTS, one per (actor, theme); the best always stays, others need the threshold.
    An `other` event is dropped when a named party already holds that theme."""
    ranked = sorted(zip(scored, pairs, strict=True), key=lambda x: -x[0][0])
    chosen, themes_named, seen = [], set(), set()
    for (score, r), (actor, theme) in ranked:
        if len(chosen) == MAX_EVENTS:
            break
        if chosen and score < threshold:
            break
        if (actor, theme) in seen or (actor == "other" and theme in themes_named):
            continue
        seen.add((actor, theme))
        if actor != "other":
            themes_named.add(theme)
        chosen.append((score, r))
    return chosen


# --- the keyword rule coder: the baseline a learned coder must beat -------------------------------------------

# The first of these stems found after the actor decides the action; nothing found: `other`.
KEYWORD_ACTIONS = {
    "propose": ("propos", "offer", "call", "urge", "plan", "pledg", "seek", "push", "ready"),
    "demand": ("demand", "insist", "condition", "require", "must"),
    "agree": ("agree", "accept", "sign", "deal", "back"),
    "reject": ("reject", "refus", "rule", "dismiss", "deny", "denie"),
    "threaten": ("threat", "warn"),
    "enact": ("impos", "adopt", "approv", "deliver", "send", "sent", "captur", "sanction", "announc"),
    "withdraw": ("lift", "eas", "paus", "halt", "suspend", "withdr", "end", "cut"),
    "violate": ("violat", "breach", "broke"),
    "meet": ("meet", "met", "talk", "call", "visit", "host"),
}


def keyword_code(text: str, themes: list[str], gazetteer: Gazetteer) -> list[tuple[str, str, str]]:
    """One event per theme: the first party named (else `other`) and the first action keyword in the text."""
    reading = read_text(text, gazetteer)
    actor = reading.order[0] if reading.order else "other"
    action = "other"
    for w in reading.lowered:
        hit = next((a for a, stems in KEYWORD_ACTIONS.items() if any(w.startswith(s) for s in stems)), None)
        if hit:
            action = hit
            break
    return [(actor, action, theme) for theme in themes[:MAX_EVENTS]]
