"""Language consistency with the real lingua models."""

import pytest

from reward_service.grading.language import detect_language, language_consistency, language_shares
from reward_service.schemas import Status

EN = ("First we compute the sum of the first ten terms of the sequence. Then we check the result again "
      "and make sure that every step is correct.")
FR = ("Nous calculons d'abord la somme des dix premiers termes de la suite. Ensuite nous vérifions encore "
      "le résultat et chaque étape du calcul.")
DE = ("Zuerst berechnen wir die Summe der ersten zehn Glieder der Folge. Danach prüfen wir das Ergebnis "
      "noch einmal ganz genau.")
ZH = "首先我们计算数列前十项的和。然后我们再次检查结果。"


@pytest.mark.parametrize(("text", "target"), [(EN, "en"), (FR, "fr"), (DE, "de"), (ZH, "zh")])
def test_single_language_scores_one_in_its_own_language(text, target):
    assert language_consistency(text, target).score == 1.0


@pytest.mark.parametrize(("text", "target"), [(FR, "en"), (DE, "en"), (EN, "fr"), (ZH, "en"), (EN, "zh")])
def test_other_language_scores_zero(text, target):
    assert language_consistency(text, target).score == 0.0


def test_mixed_chinese_english_is_the_share_of_units():
    # 27 Han characters (one unit each) and 27 English words: half.
    zh = "首先我们计算数列前十项的和然后我们再次检查结果对不对好"  # 27 characters
    en = ("then we check the result again and make sure that every single step of this long derivation "
          "is correct before we write down the final answer here")  # 27 words
    assert len(zh) == 27 and len(en.split()) == 27
    verdict = language_consistency(f"{zh}。{en}.", "zh")
    assert verdict.score == pytest.approx(0.5)
    assert verdict.details["by_language"] == {"zh": 27, "en": 27}


def test_same_script_switch_is_caught_per_sentence():
    verdict = language_consistency(f"{EN} {FR}", "en")
    assert 0.35 < verdict.score < 0.65
    assert set(verdict.details["by_language"]) == {"en", "fr"}


def test_short_technical_sentences_count_as_the_dominant_language():
    text = EN + " Let x be 5. So f(x) = 10. Wait, let me check. Hmm."
    assert language_consistency(text, "en").score == 1.0


def test_code_latex_numbers_and_symbols_are_ignored():
    noise = ("```python\ndef solve(n):\n    return n * 2\n```\n$$\\frac{a}{b} = \\sum_{i=1}^{n} x_i$$ "
             "\\(\\alpha + \\beta\\) $x^2$ 12345 + 67 = 890 `inline_code()` https://example.com/path")
    verdict = language_consistency(FR + "\n" + noise, "fr")
    assert verdict.score == 1.0
    assert language_shares(noise) == {}


def test_empty_reasoning_scores_zero_with_a_reason():
    verdict = language_consistency("$$x=1$$ 42", "en")
    assert verdict.score == 0.0 and verdict.reason == "no words to judge"


def test_unsupported_target_is_invalid():
    verdict = language_consistency(EN, "tlh")
    assert verdict.status is Status.invalid and "tlh" in verdict.reason


def test_region_codes_are_accepted():
    assert language_consistency(EN, "en-US").score == 1.0
    assert language_consistency(ZH, "zh-CN").score == 1.0


def test_detect_language():
    assert detect_language(ZH) == "zh" and detect_language(DE) == "de" and detect_language("42 + 1") is None
