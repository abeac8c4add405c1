"""Filler earns nothing (issue 17, item 5): repeats of a unit, word or phrase, with or without zero-width
characters between them, in a block or spread between sentences, never raise the language score above that
of the honest text without them. Real lingua models, no mocks."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from reward_service.grading.language import language_consistency, language_shares
from tests.conftest import SHARED_DATA, need
from tests.reward_service.test_language import DE, EN, EN_B, ES, FR, JA, KO, RU, ZH

ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e")


def after_each_sentence(text: str, filler: str) -> str:
    """``filler`` written after every sentence of ``text``."""
    return "".join(part + filler for part in re.split(r"(?<=[.!?。！？])\s*", text) if part)


def shuffled(words: list[str], n: int) -> str:
    """A fixed, irregular sequence of ``n`` of ``words`` (no period a loop test would see)."""
    return "".join(words[(i * i + i // 3) % len(words)] for i in range(n))


Pad = Callable[[str], str]


def shapes(unit: str, word: str, phrase: str, sentence: str, few: list[str]) -> dict[str, Pad]:
    """The filler shapes of the issue, in one language: ``name -> text -> padded text``."""
    return {
        "one unit": lambda text: text + unit * 400,
        "one word": lambda text: text + word * 200,
        "one phrase": lambda text: text + phrase * 100,
        **{f"zero-width U+{ord(z):04X}": (lambda text, z=z: text + (unit + z) * 400 + (word + z) * 100)
           for z in ZERO_WIDTH},
        "between sentences": lambda text: after_each_sentence(text, sentence),
        "looped between sentences": lambda text: after_each_sentence(text, unit * 5),
        "a shuffle of a few words": lambda text: text + shuffled(few, 300),
    }


ZH_FILLER = shapes("我", "所以", "是的，", "是的。", ["是的", "对", "好", "嗯"])
EN_FILLER = shapes(" the", " so", " let me check.", " Wait. ", [" yes", " the", " and", " so"])
FR_FILLER = shapes(" le", " donc", " d'accord,", " Donc. ", [" oui", " le", " et", " donc"])


def blocks(filler: dict[str, Pad]) -> dict[str, Pad]:
    """The shapes written in one place (not between sentences)."""
    return {name: pad for name, pad in filler.items() if "between" not in name}


def assert_no_gain(honest: str, filler: dict[str, Pad], target: str) -> None:
    base = language_consistency(honest, target).score
    for name, pad in filler.items():
        verdict = language_consistency(pad(honest), target)
        assert verdict.score <= base, (name, base, verdict.details)
        assert verdict.details["repeated"] > 0, name


@pytest.mark.parametrize(("honest", "filler", "target"), [
    (EN, ZH_FILLER, "zh"),           # the issue's case: an English chain of thought, a Chinese prompt
    (EN + " " + EN_B, ZH_FILLER, "zh"),
    (ZH, EN_FILLER, "en"),           # "the the the" padding of a Chinese chain of thought
    (EN, FR_FILLER, "fr"),           # the same script: lingua must not be swayed by the filler either
    (DE, FR_FILLER, "fr"),
], ids=["en-cot-zh-target", "longer-en-cot-zh-target", "zh-cot-en-target", "en-cot-fr-target",
        "de-cot-fr-target"])
def test_filler_in_the_target_language_earns_nothing(honest, filler, target):
    assert language_consistency(honest, target).score == 0.0
    assert_no_gain(honest, filler, target)


def test_the_issue_case_scores_zero():
    verdict = language_consistency(EN + "我" * 400, "zh")
    assert verdict.score == 0.0 and verdict.details["repeated"] == 400
    assert verdict.details["by_language"] == language_consistency(EN, "zh").details["by_language"]


MIXED = ("好的，我需要计算这个等差数列的和。First, let me write down the formula for the sum of an arithmetic "
         "sequence. 然后代入数值，用 Python 的 dict 来存中间结果。Wait, I should double check the common difference "
         "before I plug in the numbers. 所以答案是400。")


@pytest.mark.parametrize(("filler", "target"), [(ZH_FILLER, "zh"), (EN_FILLER, "en")])
def test_filler_beside_honest_text_of_its_language_earns_nothing(filler, target):
    """Blocks and loops earn nothing beside honest text too (the score may fall: they cost it a few units)."""
    assert 0.3 < language_consistency(MIXED, target).score < 0.7
    assert_no_gain(MIXED, blocks(filler), target)


@pytest.mark.parametrize(("sentence", "target"), [("是的。", "zh"), ("让我们再检查一下这个结果。", "zh"),
                                                  (" Wait. ", "en"), (" Let me check this again. ", "en")])
def test_a_filler_sentence_between_honest_ones_counts_once(sentence, target):
    once = language_consistency(after_each_sentence(MIXED, "").replace("。", "。" + sentence, 1), target)
    everywhere = language_consistency(after_each_sentence(MIXED, sentence), target)
    assert everywhere.score <= once.score
    assert everywhere.details["target_words"] == once.details["target_words"]


def test_zero_width_characters_neither_split_nor_make_words():
    for z in ZERO_WIDTH:
        assert language_shares(f"th{z}ink ab{z}out it") == language_shares("think about it"), hex(ord(z))
        assert language_shares(f"我{z}们") == language_shares("我们") == {"zh": 2}
    # a zero-width space between Korean syllables does not make two words of one
    assert language_shares("계\u200b산합니다") == language_shares("계산합니다") == {"ko": 1}
    # letters drawn as nothing (Hangul fillers) are no words at all
    for blank in ("\u3164", "\u115f", "\u1160", "\uffa0"):
        assert language_shares(f"{blank} {blank} {blank}") == {}, hex(ord(blank))
        assert language_consistency(EN + f" {blank}" * 50, "ko").score == 0.0


@pytest.mark.parametrize(("text", "target"), [(EN, "en"), (EN_B, "en"), (FR, "fr"), (DE, "de"), (ES, "es"),
                                              (RU, "ru"), (ZH, "zh"), (JA, "ja"), (KO, "ko")],
                         ids=lambda v: v[:12])
def test_honest_text_repeats_nothing_that_stops_counting(text, target):
    verdict = language_consistency(text, target)
    assert verdict.score == 1.0 and verdict.details["repeated"] == 0


def test_mixed_honest_text_keeps_its_balance():
    """R1-style mixing: the honest counts are the counts, repeat rules or not (the same texts the original
    counting test uses)."""
    zh, en = ("首先我们计算数列前十项的和然后我们再次检查结果对不对好",
              "then we check the result again and make sure that every single step of this long derivation "
              "is correct before we write down the final answer here")
    verdict = language_consistency(f"{zh}。{en}.", "zh")
    assert verdict.score == pytest.approx(0.5) and verdict.details["repeated"] == 0


@pytest.mark.slow
def test_real_chinese_text_keeps_its_score_and_filler_earns_nothing():
    """CMATH's questions (real Chinese no one here wrote), ten to a text, and GSM8K's questions as the English
    chain of thought: Chinese keeps its score and ~all its characters; filler earns nothing in either."""
    need(SHARED_DATA.is_dir(), f"public data not found at {SHARED_DATA}")
    chinese = [json.loads(line)["question"] for line in (SHARED_DATA / "cmath.jsonl").open(encoding="utf-8")]
    english = [json.loads(line)["question"] for line in (SHARED_DATA / "gsm8k_test.jsonl").open(encoding="utf-8")]
    kept = units = 0
    for k in range(0, 200, 10):
        zh, en = "".join(chinese[k:k + 10]), " ".join(english[k:k + 10])
        verdict = language_consistency(zh, "zh")
        assert verdict.score == 1.0
        kept += verdict.details["words"]
        units += verdict.details["words"] + verdict.details["repeated"]
        assert_no_gain(en, ZH_FILLER, "zh")
        assert_no_gain(zh, EN_FILLER, "en")
        assert_no_gain(f"{zh}\n{en}", blocks(ZH_FILLER), "zh")
    assert kept / units > 0.97
