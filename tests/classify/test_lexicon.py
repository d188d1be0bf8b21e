"""lexicon: patterns, vetoes against the same words elsewhere, war context, and Russian/Ukrainian forms."""

from __future__ import annotations

import json

import pytest

from pipeline.classify.fastpath.tokens import split_batch
from pipeline.classify.lexicon import Lexicon, parse_pattern, tokens
from pipeline.classify.themes import lexicon_spec, load_taxonomy
from pipeline.core.config import REPO_ROOT

TOY = {"min_score": 1.0, "context": ["ukrain*", "kyiv"], "elsewhere": ["gaza*"],
       "themes": [{"id": "ceasefire", "terms": [["ceasefire*", 1.0], ["cease fire", 1.0], ["pause", 0.5]],
                   "anchored": ["truce ~ ukrain*"], "veto": ["hamas"]}]}


@pytest.fixture(scope="module")
def shipped() -> Lexicon:
    return Lexicon(lexicon_spec(load_taxonomy(REPO_ROOT / "models")))


def labels(lexicon: Lexicon, text: str) -> list[str]:
    return lexicon.labels(lexicon.analyse(text))


def test_patterns_match_stems_gaps_hyphens_and_apostrophes():
    toy = Lexicon(TOY)
    assert parse_pattern("truce ~ ukrain*") == (("exact", "truce"), ("gap", ""), ("prefix", "ukrain"))
    assert tokens("Kyiv's cease-fire перемир'я Ёлка") == ["kyivs", "cease", "fire", "перемиря", "елка"]
    found = toy.analyse("Kyiv backs a cease-fire; truce talks with Ukraine's envoy").themes[0]
    assert found.terms == ("cease fire", "truce talks with ukraines") and found.anchored
    assert labels(toy, "A pause in Kyiv") == []  # 0.5 is below min_score
    assert labels(toy, "Ceasefires and a pause, Kyiv says") == ["ceasefire"]


def test_context_veto_and_elsewhere_rules():
    toy = Lexicon(TOY)
    assert labels(toy, "Ceasefire agreed") == []  # one strong term, the war unnamed
    assert labels(toy, "Ceasefire agreed, cease fire holds") == ["ceasefire"]  # two strong terms suffice
    assert labels(toy, "Ceasefire agreed in Gaza, cease fire holds") == []  # ...unless placed elsewhere
    assert labels(toy, "Hamas accepts ceasefire as Kyiv watches") == []  # veto beats context
    assert labels(toy, "Hamas deal inspires truce for Ukraine") == ["ceasefire"]  # anchored beats veto


@pytest.mark.parametrize("pattern", ["", "ab*", "~ truce", "truce ~", "truce ~ ~ pause", "f/16", "*"])
def test_bad_patterns_are_refused(pattern):
    with pytest.raises(ValueError):
        parse_pattern(pattern)


@pytest.mark.parametrize(("text", "theme"), [
    ("Israel and Hamas agree ceasefire in Gaza as Russia watches", "ceasefire"),
    ("Sudan's army rejects truce offer; Russia calls for calm", "ceasefire"),
    ("U.S. Treasury imposes sanctions on Iran's oil network, Russia condemns", "sanctions"),
    ("Bank offers security guarantees on loan to Ukrainian farm group", "security_guarantees"),
    ("Shakhtar Donetsk gain territory in the title race after a goal in stoppage time", "territory"),
    ("Stocks in positive territory as Russia's central bank holds rates", "territory"),
    ("Sweden joins NATO, ending two centuries of neutrality as Russia protests", "neutrality_nato"),
    ("North Korea sends shells to Russia, Kyiv says", "military_aid"),
])
def test_same_words_elsewhere_are_vetoed(shipped, text, theme):
    assert theme not in labels(shipped, text)


@pytest.mark.parametrize(("text", "expected"), [
    ("Кремль отверг предложение о 30-дневном перемирии с Украиной", {"ceasefire"}),
    ("Евросоюз утвердил новый пакет санкций против России", {"sanctions"}),
    ("Лондон и Париж обсуждают гарантии безопасности для Украины", {"security_guarantees"}),
    ("Делегации России и Украины провели переговоры в Стамбуле", {"negotiations"}),
    ("Германия передаст Украине системы Patriot в рамках военной помощи", {"military_aid"}),
    ("Москва требует нейтрального статуса Украины", {"neutrality_nato"}),
    ("ЄС ухвалив новий пакет санкцій проти Росії", {"sanctions"}),
    ("Зеленський закликав Росію погодитися на енергетичне перемир'я", {"ceasefire"}),
    ("Коаліція охочих обговорила гарантії безпеки для України", {"security_guarantees"}),
    ("Сили оборони звільнили село на Запоріжжі, окупанти відступили з позицій", {"territory"}),
    ("Рютте: вступ України до НАТО залишається на порядку денному", {"neutrality_nato"}),
    ("Израиль и ХАМАС согласовали перемирие в секторе Газа", set()),
    ("Росія вночі атакувала Київ ракетами та дронами", set()),
])
def test_russian_and_ukrainian_inflected_forms(shipped, text, expected):
    assert set(labels(shipped, text)) == expected


def test_features_have_one_block_per_theme_plus_context(shipped):
    batch = split_batch(["Putin rejects a ceasefire in Ukraine", "Cup final tonight"])
    features = shipped.match_chunks(batch).features()
    assert features.shape == (2, 4 * len(shipped.theme_ids) + 3)
    ceasefire = shipped.theme_ids.index("ceasefire")
    assert features[0, 4 * ceasefire + 3] == 1.0 and features[1].sum() == 0.0


def features_of(lexicon: Lexicon, text: str) -> list[float]:
    """The feature row the plain per-text reading gives (`analyse`), for the batch's array version to equal."""
    analysis = lexicon.analyse(text)
    row = []
    for k, match in enumerate(analysis.themes):
        row += [min(match.score, 3.0) / 3.0, match.anchored, match.veto, analysis.fires(k, lexicon.min_score)]
    return row + [analysis.context > 0, min(analysis.context, 3.0) / 3.0, analysis.elsewhere > 0]


GAPPY = {"min_score": 1.0, "context": ["ukrain*"], "elsewhere": [],
         "themes": [{"id": "peace", "terms": [["peace ~ plan ~ ukrain*", 1.0], ["peace ~ plan", 0.5], ["plan", 0.25],
                                              ["peace plan", 0.5]], "anchored": ["truce ~ ukrain*"], "veto": []}]}


def test_the_batch_matcher_finds_what_the_plain_reading_finds_in_every_training_text(shipped):
    """Every match (pattern, surface, order), feature and evidence term of match_batch equal match_text's, on all the
    training and development texts, and on gaps that fit several ways, repeat, or would cross into the next text."""
    splits = ("train", "dev", "train_ru", "dev_ru", "train_uk", "dev_uk")
    texts = [f"{item['title']}. {item.get('summary') or ''}" for name in splits
             for item in map(json.loads, (REPO_ROOT / "models" / "training" / f"{name}.jsonl").open(encoding="utf-8"))]
    gappy = ["peace peace plan plan for the ukraine ukraine", "peace a b plan c d e ukraine", "peace", "plan ukraine",
             "truce", "ukraine truce x y z ukraine", "peace plan peace plan", "truce a b c d ukraine", ""]
    for lexicon, corpus in ((shipped, texts), (Lexicon(GAPPY), gappy)):
        for start in range(0, len(corpus), 500):
            batch = corpus[start:start + 500]
            matches = lexicon.match_chunks(split_batch(batch))
            assert [list(matches.matches(i).items()) for i in range(len(batch))] == [
                list(lexicon.match_text(tokens(text)).items()) for text in batch]
            assert matches.features().tolist() == [features_of(lexicon, text) for text in batch]
            assert [[matches.terms(i, k) for k in range(len(lexicon.theme_ids))] for i in range(len(batch))] == [
                [list(match.terms) for match in lexicon.analyse(text).themes] for text in batch]
    assert list(Lexicon(GAPPY).match_text(tokens("peace a b plan c d e ukraine")).values()) == [
        "peace a b plan c d e ukraine", "peace a b plan", "plan", "ukraine"]  # the last: a context term


def test_a_batch_gives_each_text_its_own_analysis_and_no_phrase_spans_two_texts(shipped):
    toy = Lexicon(TOY)
    batch = ["Kyiv backs a cease", "fire holds; truce", "Ukraine's envoy", "",
             "Ceasefire, cease-fire and truce in Kyiv"]
    analyses = toy.analyse_chunks(split_batch(batch))
    assert [a.themes[0].terms for a in analyses] == [(), (), (), (), ("ceasefire", "cease fire")]
    assert analyses == [toy.analyse(text) for text in batch]
    news = batch + [
        "Putin rejects a ceasefire in Ukraine", "Евросоюз утвердил новый пакет санкций против России",
        "EU weighs sanctions relief ~ as Kyiv seeks security guarantees"]
    assert shipped.analyse_chunks(split_batch(news)) == [shipped.analyse(text) for text in news]
