"""Language consistency with the real lingua models (no mocks)."""

import os
import re

import pytest

from reward_service.grading import language
from reward_service.grading.language import (
    CHUNK_WORDS,
    detect_language,
    language_consistency,
    language_shares,
    strip_markup,
    warmup,
)
from reward_service.schemas import Status

EN = ("Okay, so I need to find how many positive integers below 1000 leave remainder two or three when divided "
      "by five. First, let me recall that divisibility by 5 depends only on the last digit. Wait, let me "
      "double-check that claim before I rely on it. So out of every block of five consecutive integers, exactly "
      "two of them satisfy the condition, and the answer should be 400.")
EN_B = ("Next, I want to count the multiples of seven that are smaller than two hundred. Dividing gives twenty "
        "eight whole multiples, because seven times twenty eight is just below the bound. Hmm, I should not forget "
        "zero: the problem asks for positive numbers only, so zero is excluded and the count stays the same.")
EN_C = ("Finally, let me compare both results. The first approach counted residues directly, while the second one "
        "used complementary counting over every possible remainder. Both methods agree with each other, which "
        "makes me fairly confident in the result, although a quick brute force check would settle any doubt.")
FR = ("D'accord, je dois trouver le nombre d'entiers positifs inférieurs à mille qui laissent un reste de deux "
      "ou trois dans la division par cinq. D'abord, la divisibilité par cinq ne dépend que du dernier chiffre. "
      "Attends, vérifions encore cette affirmation avant de continuer. Donc sur chaque bloc de cinq entiers "
      "consécutifs, exactement deux conviennent, et la réponse est quatre cents.")
DE = ("Also, ich muss die Anzahl der positiven ganzen Zahlen unter tausend finden, die bei der Division durch "
      "fünf den Rest zwei oder drei lassen. Zuerst hängt die Teilbarkeit durch fünf nur von der letzten Ziffer "
      "ab. Moment, ich prüfe das noch einmal, bevor ich weitermache. In jedem Block von fünf aufeinanderfolgenden "
      "Zahlen passen also genau zwei, und die Antwort ist vierhundert.")
ES = ("Bueno, tengo que encontrar cuántos enteros positivos menores que mil dejan resto dos o tres al dividir "
      "entre cinco. Primero, la divisibilidad entre cinco solo depende de la última cifra. Espera, voy a "
      "comprobarlo otra vez antes de seguir. Entonces, en cada bloque de cinco enteros consecutivos hay "
      "exactamente dos que cumplen la condición.")
RU = ("Сначала мы вычисляем сумму первых десяти членов последовательности. Затем мы ещё раз внимательно "
      "проверяем результат и каждый шаг вычисления, чтобы не ошибиться.")
ZH = "好的，我需要找出小于1000的正整数中除以5余2或余3的个数。首先，能否被5整除只取决于最后一位数字。等一下，让我再检查一下。"
JA = "まず、数列の最初の十項の和を計算します。次に、結果をもう一度確認します。"
KO = "먼저 수열의 처음 열 항의 합을 계산합니다. 그런 다음 결과를 다시 확인합니다."

HAN = re.compile(r"[\u4e00-\u9fff]")


def latin_words(text: str) -> int:
    """The module's rule for plain English text: letter runs longer than one letter."""
    return len([w for w in re.findall(r"[A-Za-z]+", text) if len(w) > 1])


@pytest.mark.parametrize(("text", "target"), [(EN, "en"), (FR, "fr"), (DE, "de"), (ES, "es"), (RU, "ru"),
                                              (ZH, "zh"), (JA, "ja"), (KO, "ko")], ids=lambda v: v[:12])
def test_single_language_scores_one_in_its_own_language(text, target):
    verdict = language_consistency(text, target)
    assert verdict.status is Status.ok and verdict.score == 1.0
    assert verdict.details["by_language"] == {target: verdict.details["words"]}


@pytest.mark.parametrize(("text", "target"), [(FR, "en"), (DE, "en"), (ES, "en"), (EN, "fr"), (EN, "de"),
                                              (DE, "fr"), (ES, "fr"), (ZH, "en"), (EN, "zh"), (JA, "zh"),
                                              (ZH, "ja"), (RU, "en"), (KO, "zh")], ids=lambda v: v[:12])
def test_other_language_scores_zero(text, target):
    assert language_consistency(text, target).score == 0.0


def test_chinese_units_are_characters_and_numbers_inside_them_are_dropped():
    verdict = language_consistency(ZH, "zh")
    assert verdict.details["words"] == len(HAN.findall(ZH))  # "小于1000的" keeps its characters, drops 1000


def test_half_chinese_half_english_scores_half():
    zh = "首先我们计算数列前十项的和然后我们再次检查结果对不对好"
    en = ("then we check the result again and make sure that every single step of this long derivation "
          "is correct before we write down the final answer here")
    assert len(zh) == 27 and latin_words(en) == 27
    for target in ("zh", "en"):
        verdict = language_consistency(f"{zh}。{en}.", target)
        assert verdict.score == pytest.approx(0.5)
        assert verdict.details["by_language"] == {"zh": 27, "en": 27}


def test_r1_style_language_mixing_counts_each_unit_by_its_script():
    zh_parts = ["好的，我需要计算这个等差数列的和。", "然后代入数值，用 Python 的 dict 来存中间结果。", "所以答案是400。"]
    en_parts = ["First, let me write down the formula for the sum of an arithmetic sequence.",
                "Wait, I should double check the common difference before I plug in the numbers."]
    text = zh_parts[0] + en_parts[0] + zh_parts[1] + en_parts[1] + zh_parts[2]
    n_zh = sum(len(HAN.findall(p)) for p in zh_parts)
    n_en = sum(latin_words(p) for p in en_parts) + 2  # "Python" and "dict" inside the Chinese sentence
    verdict = language_consistency(text, "zh")
    assert verdict.details["by_language"] == {"zh": n_zh, "en": n_en}
    assert verdict.score == pytest.approx(n_zh / (n_zh + n_en))
    assert language_consistency(text, "en").score == pytest.approx(n_en / (n_zh + n_en))


@pytest.mark.parametrize(("first", "second", "lang"), [(EN, FR, "fr"), (EN, DE, "de"), (FR, EN, "fr")],
                         ids=["en-fr", "en-de", "fr-en"])
def test_same_script_switch_is_caught_within_one_chunk(first, second, lang):
    n_first, n_second = sum(language_shares(first).values()), sum(language_shares(second).values())
    verdict = language_consistency(f"{first}\n{second}", "en")
    n_en = n_first if first is EN else n_second
    total = n_first + n_second
    assert verdict.details["words"] == total
    assert set(verdict.details["by_language"]) == {"en", lang}
    # chunks are whole sentences of >= CHUNK_WORDS words, so the boundary may shift by less than a chunk
    assert abs(verdict.score - n_en / total) < CHUNK_WORDS / total


def test_long_mixed_reasoning_in_three_languages():
    text = "\n".join([EN, FR, EN_B, DE, EN_C])
    counts = language_shares(text, "en")
    total = sum(counts.values())
    assert set(counts) == {"en", "fr", "de"}
    n_en = sum(sum(language_shares(en).values()) for en in (EN, EN_B, EN_C))
    assert language_consistency(text, "en").score == pytest.approx(n_en / total, abs=2 * CHUNK_WORDS / total)


@pytest.mark.parametrize("sentence", ["Let x be 5, so f(x) = 10.", "Wait, let me check. Hmm.",
                                      "So the answer is 400.", "Therefore f(2) = 4 and g(x) = 2x + 1."])
def test_short_technical_english_counts_as_english(sentence):
    assert language_consistency(sentence, "en").score == 1.0
    assert language_consistency(f"{EN} {sentence} {EN}", "en").score == 1.0


def test_too_few_words_to_judge_get_the_benefit_of_the_doubt_only_within_the_script():
    # lingua cannot judge three words: they count as the target when it is written in Latin script ...
    assert language_consistency("Soit x = 5, donc f(x) = 10.", "en").score == 1.0
    assert language_consistency("Soit x = 5, donc f(x) = 10.", "fr").score == 1.0
    # ... but never as a language of another script, and a real French sentence is judged
    assert language_consistency("Let x be 5, so f(x) = 10.", "zh").score == 0.0
    assert language_consistency("Nous calculons d'abord la somme des dix premiers termes.", "en").score == 0.0


def test_code_latex_urls_tags_numbers_and_identifiers_are_ignored():
    noise = ("```python\ndef solve(numbers):\n    return sum(value for value in numbers if value > 0)\n```\n"
             "$$\\frac{a}{b} = \\sum_{i=1}^{n} x_i \\text{where the sum runs over}$$ \\(\\alpha + \\beta\\) "
             "\\[ \\int_0^1 f(x)\\,dx \\] $x^2 + y^2$ \\begin{align} total &= first + second \\end{align} "
             "12345 + 67 = 890 `inline_code(with, english, words)` https://example.com/the/english/path "
             "<think></think><answer></answer> dp_table x2 \\boxed{400} \\quad \\$ 3.14")
    assert language_shares(noise) == {}
    verdict = language_consistency(FR + "\n" + noise + "\n" + DE, "fr")
    assert verdict.details["by_language"] == {"fr": sum(language_shares(FR).values()),
                                              "de": sum(language_shares(DE).values())}


def test_an_unclosed_opener_does_not_swallow_the_text_after_it():
    for opener in ("$", "$$", "\\[", "\\(", "`", "\\begin{align}"):
        assert language_shares(f"{FR} {opener} {FR}") == language_shares(f"{FR} {FR}"), opener
    # inline math and code do not run across a paragraph / a line
    assert language_shares(f"It costs $5.\n\n{FR} and $3.") == language_shares(f"It costs 5.\n\n{FR} and 3.")
    # an unclosed code fence is code to the end (a truncated code block)
    assert language_shares(f"{FR}\n```python\nwhile True: print('the end')") == language_shares(FR)


def test_stripping_is_linear_on_adversarial_input():
    for huge in ("\\[" * 200_000, "\\(" * 200_000, "$$ $" * 100_000, "` \n" * 130_000, "$\n\n" * 130_000,
                 "".join(f"\\begin{{e{i}}}" for i in range(40_000)), "```" + "x" * 400_000,
                 "<think>" * 57_000, "a" * 400_000, "好" * 400_000):
        assert isinstance(strip_markup(huge), str)
    assert language_consistency("\\[" * 200_000, "en").reason == "no words to judge"


@pytest.mark.parametrize("text", ["", "   \n", "$$x = 1$$ 42", "12 + 30 = 42", "```\nprint('hello world')\n```"])
def test_no_words_scores_zero_with_a_reason(text):
    verdict = language_consistency(text, "en")
    assert verdict.status is Status.ok and verdict.score == 0.0 and verdict.reason == "no words to judge"
    assert verdict.details == {"words": 0, "target_words": 0, "by_language": {}, "repeated": 0}


def test_details_report_the_counts():
    verdict = language_consistency(f"{ZH}{EN}", "en")
    details = verdict.details
    assert details["target_words"] == details["by_language"]["en"] == latin_words(EN)  # "I" is dropped
    assert details["words"] == sum(details["by_language"].values())
    assert verdict.score == pytest.approx(details["target_words"] / details["words"])


@pytest.mark.parametrize("target", ["tlh", "xx", "", "english"])
def test_unsupported_target_is_invalid(target):
    verdict = language_consistency(EN, target)
    assert verdict.status is Status.invalid and verdict.score is None and repr(target.lower()) in verdict.reason


@pytest.mark.parametrize(("code", "text"), [("en-US", EN), ("EN", EN), ("zh-CN", ZH), ("zh_Hant", ZH),
                                            ("ja-JP", JA)])
def test_region_subtags_and_case_are_ignored(code, text):
    assert language_consistency(text, code).score == 1.0


def test_japanese_kanji_beside_kana_count_as_japanese():
    counts = language_shares(JA)
    assert set(counts) == {"ja"} and counts["ja"] == len(re.sub(r"[、。]", "", JA))
    # a kanji-only heading in a Japanese text is Japanese too
    assert set(language_shares("解答。" + JA)) == {"ja"}


@pytest.mark.parametrize(("text", "expected"), [(ZH, "zh"), (DE, "de"), (EN, "en"), (FR, "fr"), (RU, "ru"),
                                                (JA, "ja"), (KO, "ko"), ("Let x be 5, so f(x) = 10.", "en"),
                                                ("42 + 1", None), ("$$x$$", None), ("", None)],
                         ids=lambda v: str(v)[:12])
def test_detect_language(text, expected):
    assert detect_language(text) == expected


def test_graders_forked_after_warmup_share_the_detectors():
    warmup()
    assert language._detector.cache_info().currsize == 2
    pid = os.fork()
    if pid == 0:  # the child: no threads of lingua's to lose in the fork, no model to load again
        ok = language_consistency(FR, "fr").score == 1.0 and language._detector.cache_info().misses == 2
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_long_chain_of_thought():
    text = " ".join([EN, EN_B, EN_C] * 10)  # ~2,000 words, each paragraph counted once (see test_language_filler)
    verdict = language_consistency(text, "en")
    once = sum(language_shares(f"{EN} {EN_B} {EN_C}").values())
    assert verdict.score == 1.0 and verdict.details["words"] + verdict.details["repeated"] > 1500
    assert once <= verdict.details["words"] < once + 10


# --- the target, when the item names none: the prompt's language, and how a short prompt is read ---------

PROMPTS = {  # (a short prompt, a long one, a short chain of thought, a long one): the way models are asked
    "fr": ("Calculez la somme de 2 et 3.",
           "Calculez la somme de deux et trois, puis expliquez chaque étape du raisonnement avec soin.",
           "J'additionne deux et trois.",
           "D'abord, je lis l'énoncé attentivement. Ensuite, j'additionne les deux nombres donnés, ce qui donne "
           "cinq. Je vérifie le calcul une seconde fois avant de conclure."),
    "de": ("Berechne die Summe von 2 und 3.",
           "Berechne die Summe von zwei und drei und erkläre jeden Schritt deiner Überlegung genau.",
           "Ich addiere zwei und drei.",
           "Zuerst lese ich die Aufgabe genau. Dann addiere ich die beiden Zahlen, das ergibt fünf. Ich prüfe "
           "die Rechnung noch einmal, bevor ich antworte."),
    "es": ("Calcula la suma de 2 y 3.",
           "Calcula la suma de dos y tres, y explica con cuidado cada paso de tu razonamiento.",
           "Sumo dos y tres.",
           "Primero leo el problema con cuidado. Luego sumo los dos números dados, lo que da cinco. Compruebo el "
           "cálculo otra vez antes de responder."),
    "pt": ("Calcule a soma de 2 e 3.",
           "Calcule a soma de dois e três, e explique com cuidado cada passo do seu raciocínio.",
           "Eu somo dois e três.",
           "Primeiro leio o problema com atenção. Depois somo os dois números dados, o que dá cinco. Verifico a "
           "conta mais uma vez antes de responder."),
    "zh": ("计算2和3的和。", "请计算二和三的和，并仔细解释你推理的每一步。", "二加三等于五。",
           "首先，我仔细阅读题目。然后把两个数相加，得到五。最后再检查一遍计算。"),
    "ja": ("2と3の和を計算してください。", "二と三の和を計算し、推論の各ステップを丁寧に説明してください。",
           "二と三を足します。", "まず問題をよく読みます。次に二つの数を足すと五になります。最後にもう一度計算を確認します。"),
    "ru": ("Вычислите сумму 2 и 3.", "Вычислите сумму двух и трёх и подробно объясните каждый шаг рассуждения.",
           "Складываю два и три.",
           "Сначала я внимательно читаю задачу. Затем складываю два числа, получается пять. Проверяю вычисление "
           "ещё раз перед ответом."),
}


@pytest.mark.parametrize("lang", sorted(PROMPTS))
def test_a_prompt_in_a_language_answered_in_it_is_consistent_short_or_long(lang):
    from reward_service.recipes import resolve
    from reward_service.schemas import ScoreItem
    from reward_service.scoring import score_item
    short_prompt, long_prompt, short_cot, long_cot = PROMPTS[lang]
    for prompt in (short_prompt, long_prompt):
        for cot in (short_cot, long_cot):
            item = ScoreItem(prompt=prompt, completion=f"<think>{cot}</think> <answer>\\boxed{{5}}</answer>", answer="5")
            result, _ = score_item(item, resolve("r1", ""))
            said = result.details["language"]
            assert result.components["language"] == 1.0, (prompt, cot, said)
            # Three words of Spanish after four of prompt: lingua may say Catalan, for both alike (still 1.0).
            assert said["target"] == lang or (prompt, cot) == (short_prompt, short_cot), (prompt, cot, said)
            assert said["target_from"].startswith(("prompt", "chain of thought")) and said["target_words"] > 0


@pytest.mark.parametrize("lang", ["fr", "es", "pt", "ru"])
def test_a_short_prompt_answered_in_english_is_not_consistent(lang):
    target, source = language.infer_target(PROMPTS[lang][0], EN)
    assert target != "en" and language_consistency(EN, target).score == 0.0, (target, source)


def test_where_the_target_came_from_is_said():
    assert language.infer_target("What is 2 plus 3?", PROMPTS["es"][3]) == ("en", "prompt")  # English is known
    assert language.infer_target("", EN)[1].startswith("default")
    assert language.infer_target(PROMPTS["de"][1], PROMPTS["de"][3]) == ("de", "prompt")  # long enough to tell
    target, source = language.infer_target(PROMPTS["es"][0], PROMPTS["es"][3])
    assert target == "es" and source.startswith("chain of thought (the prompt's 4 latin words")
