"""The ``ifeval`` task: IFEval's 25 instructions, label forms, fail-closed labels, and the service path."""

import json

import httpx
import pytest

from reward_service.grading.ifeval import CHECKERS, LabelError, grade_ifeval, parse_label
from reward_service.grading.ifeval.conflicts import _ALL as GOOGLE_IDS
from reward_service.grading.types import Reason, Status
from reward_service.recipes import resolve
from reward_service.schemas import ScoreItem
from reward_service.scoring import score_item
from tests.reward_service.ifeval_checks import assert_follows_and_breaks, label

GOOGLE_FAMILIES = {"keywords", "language", "length_constraints", "detectable_content", "detectable_format",
                   "combination", "startend", "change_case", "punctuation"}
EN = "The quick brown fox jumps over the lazy dog and runs into the forest to find some food for dinner tonight"
FR = "Le renard brun rapide saute par-dessus le chien paresseux et court dans la forêt pour trouver à manger"

# id, kwargs, a response that follows, one that does not
CASES = [
    ("keywords:existence", {"keywords": ["Fox", "forest"]}, EN, "A dog sleeps."),
    ("keywords:frequency", {"keyword": "cat", "frequency": 2, "relation": "at least"}, "Cat and CAT.", "One cat."),
    ("keywords:frequency", {"keyword": "cat", "frequency": 2, "relation": "less than"}, "One cat.", "cat cat"),
    ("keywords:forbidden_words", {"forbidden_words": ["dog"]}, "A doggedly fox.", "The DOG barks."),
    ("keywords:letter_frequency", {"letter": "Z", "let_frequency": 2, "let_relation": "at least"}, "zZ", "z"),
    ("language:response_language", {"language": "fr"}, FR, EN),
    ("language:response_language", {"language": "de"},
     "Der schnelle braune Fuchs springt über den faulen Hund und läuft in den Wald", FR),
    ("length_constraints:number_sentences", {"num_sentences": 3, "relation": "less than"},
     "Dr. Smith came. He left.", "One. Two. Three."),
    ("length_constraints:number_words", {"num_words": 5, "relation": "at least"}, "one two three four five", "a b"),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "First.\n***\nSecond.",
     "First.\n***\n***\nSecond."),
    ("length_constraints:nth_paragraph_first_word", {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "Then"},
     "Intro here.\n\n\"Then, more.", "Intro here.\n\nAfter that."),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "Dear [name] at [address]", "Dear [name]"),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Hi.\n\nP. S. bye", "Hi. PS bye"),
    ("detectable_content:postscript", {"postscript_marker": "P.P.S"}, "Hi.\np.p.s more", "Hi.\nP.S. more"),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "# List\n* one\n- two", "* one\n* two\n* three"),
    ("detectable_format:constrained_response", {}, "My answer is yes.", "Yes."),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "*a* and **b**", "*a* and ** **"),
    ("detectable_format:multiple_sections", {"section_spliter": "Section", "num_sections": 2},
     "Section 1\nfoo\nSection 2\nbar", "Section 1\nfoo"),
    ("detectable_format:json_format", {}, '```json\n{"a": [1, 2]}\n```', "{'a': 1}"),
    ("detectable_format:title", {}, "<<Ode to Joy>>\nText", "<< >> no title"),
    ("combination:two_responses", {}, "Answer one.\n******\nAnswer two.", "Same.\n******\nSame."),
    ("combination:repeat_prompt", {"prompt_to_repeat": "Write a poem."}, "write a POEM. Here it is", "Sure! A poem"),
    ("startend:end_checker", {"end_phrase": "Any other questions?"}, "Done. any other questions?\"",
     "Any other questions? Bye"),
    ("change_case:capital_word_frequency", {"capital_frequency": 2, "capital_relation": "at least"},
     "THE fox IS here", "THE fox is here"),
    ("change_case:english_capital", {}, EN.upper(), EN),
    ("change_case:english_lowercase", {}, EN.lower(), FR.lower()),
    ("punctuation:no_comma", {}, "No comma here.", "A comma, here."),
    ("startend:quotation", {}, '  "Quoted answer."  ', 'Quoted "answer."'),
]


def test_every_ifeval_id_is_registered_and_tested():
    google = {iid for iid in CHECKERS if iid.split(":")[0] in GOOGLE_FAMILIES and iid in GOOGLE_IDS}
    assert len(google) == 25 and {case[0] for case in CASES} == google


@pytest.mark.parametrize(("iid", "kwargs", "follows", "breaks"), CASES, ids=[c[0] for c in CASES])
def test_each_instruction_follows_and_breaks(iid, kwargs, follows, breaks):
    assert_follows_and_breaks(iid, kwargs, follows, breaks)


def test_loose_counts_only_with_the_option():
    ref = label(("startend:quotation", {}))
    response = "Sure, here it is:\n\"My answer.\""
    assert grade_ifeval(response, ref).score == 0.0
    loose = grade_ifeval(response, ref, loose=True)
    assert loose.score == 1.0 and loose.details["instructions"][0] == {
        "id": "startend:quotation", "kwargs": {}, "strict": False, "loose": True,
        "why": "not wrapped in double quotes"}
    bold = label(("detectable_format:json_format", {}))
    assert grade_ifeval('**{"a": 1}**', bold, loose=True).score == 1.0


def test_partial_is_the_fraction_followed():
    ref = label(("punctuation:no_comma", {}), ("keywords:existence", {"keywords": ["fox"]}),
                ("detectable_format:title", {}))
    graded = grade_ifeval("A fox, running.", ref, partial=True)
    assert graded.score == pytest.approx(1 / 3) and graded.details["followed"] == 1
    assert grade_ifeval("A fox, running.", ref).score == 0.0


def test_a_repeated_id_is_checked_at_each_position_with_its_own_kwargs():
    ref = label(("keywords:existence", {"keywords": ["fox"]}), ("keywords:existence", {"keywords": ["cat"]}))
    graded = grade_ifeval("a fox", ref, partial=True)
    assert graded.score == 0.5
    assert [i["strict"] for i in graded.details["instructions"]] == [True, False]


def test_label_forms_agree():
    pairs = [("punctuation:no_comma", {}), ("keywords:existence", {"keywords": ["fox"]})]
    google_row = {"key": 1, "prompt": "p", "instruction_id_list": [p[0] for p in pairs],
                  "kwargs": [{"keywords": None, "num_words": None}, {"keywords": ["fox"], "relation": None}]}
    open_instruct = json.dumps([{"instruction_id": [p[0] for p in pairs], "kwargs": [None, {"keywords": ["fox"]}]}])
    for form in (label(*pairs), json.dumps(google_row), open_instruct):
        assert [(i.id, i.kwargs) for i in parse_label(form)] == [("punctuation:no_comma", {}),
                                                                  ("keywords:existence", {"keywords": ["fox"]})]


@pytest.mark.parametrize(("ref", "says"), [
    ("not json", "not JSON"),
    (json.dumps({"instruction_id_list": [], "kwargs": []}), "no instruction"),
    (json.dumps([]), "no instruction"),
    (json.dumps({"func": "x"}), "must be"),
    (label(("keywords:made_up", {})), "unknown instruction id"),
    (label(("punctuation:no_comma", {"oops": 1})), "unknown kwargs ['oops']"),
    (label(("length_constraints:number_words", {"num_words": 5})), "missing kwargs ['relation']"),
    (label(("length_constraints:number_words", {"num_words": 5, "relation": "around"})), "'relation' must be"),
    (label(("length_constraints:number_words", {"num_words": -1, "relation": "at least"})), "'num_words' must"),
    (label(("keywords:letter_frequency", {"letter": "ab", "let_frequency": 1, "let_relation": "at least"})),
     "'letter' must"),
    (label(("language:response_language", {"language": "klingon"})), "'language' must"),
    (label(("length_constraints:nth_paragraph_first_word",
            {"num_paragraphs": 2, "nth_paragraph": 3, "first_word": "x"})), "past num_paragraphs"),
    (label(("combination:repeat_prompt", {}),), "missing kwargs ['prompt_to_repeat']"),
    (label(("detectable_format:json_format", {}), ("punctuation:no_comma", {})), "conflict"),
    (label(("change_case:english_capital", {}), ("change_case:english_lowercase", {})), "conflict"),
    (json.dumps({"instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}, {}]}), "one entry per"),
])
def test_bad_labels_are_invalid_with_the_reason(ref, says):
    graded = grade_ifeval("anything", ref)
    assert graded.status is Status.invalid and graded.code is Reason.unparseable_reference
    assert says in graded.reason
    with pytest.raises(LabelError):
        parse_label(ref)


def test_repeat_prompt_takes_the_items_prompt_when_the_label_has_none():
    ref = label(("combination:repeat_prompt", {}))
    assert grade_ifeval("Write a haiku. Leaves fall.", ref, "Write a haiku.").score == 1.0
    assert grade_ifeval("Leaves fall.", ref, "Write a haiku.").score == 0.0


def test_verdicts_are_deterministic_on_borderline_language():
    ref = label(("language:response_language", {"language": "en"}))
    assert len({grade_ifeval("ok merci danke", ref).score for _ in range(20)}) == 1


def _item(completion, answer, **kw):
    return ScoreItem(completion=completion, answer=answer, task="ifeval", **kw)


def test_a_chain_of_thought_that_breaks_the_rule_does_not_count():
    ref = label(("punctuation:no_comma", {}), ("startend:quotation", {}))
    recipe = resolve({"components": {"accuracy": {}}}, "")
    thinking = "<think>Well, no commas, and quotes, right?</think>\n\n\"Done and dusted.\""
    result, _ = score_item(_item(thinking, ref), recipe)
    assert result.reward == 1.0
    result, _ = score_item(_item('<think>plan</think>"Done, dusted."', ref), recipe)
    assert result.reward == 0.0


def test_item_answer_may_be_the_label_object_itself():
    row = {"instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}
    recipe = resolve({"components": {"accuracy": {"options": {"partial": True}}}}, "")
    assert score_item(_item("fine", row), recipe)[0].reward == 1.0
    open_instruct = [{"instruction_id": ["punctuation:no_comma"], "kwargs": [None]}]
    assert score_item(_item("a, b", open_instruct), recipe)[0].reward == 0.0


def test_over_http(service):
    ref = label(("detectable_format:number_bullet_lists", {"num_bullets": 2}), ("punctuation:no_comma", {}))
    items = [
        {"id": "all", "task": "ifeval", "answer": ref, "completion": "* one\n* two"},
        {"id": "half", "task": "ifeval", "answer": json.loads(ref), "completion": "* one\n* two, three"},
        {"id": "cot", "task": "ifeval", "answer": ref, "completion": "<think>* a, b</think>* one\n- two"},
        {"id": "bad", "task": "ifeval", "answer": label(("no:such_id", {})), "completion": "x"},
    ]
    body = {"items": items, "recipe": {"components": {"accuracy": {"options": {"partial": True}}}}}
    r = httpx.post(service.url + "/score", json=body, timeout=60)
    assert r.status_code == 200, r.text
    results = {res["id"]: res for res in r.json()["results"]}
    assert results["all"]["reward"] == 1.0 and results["cot"]["reward"] == 1.0
    assert results["half"]["reward"] == 0.5
    shown = results["half"]["details"]["accuracy"]["instructions"]
    assert shown[0]["why"] == "found 2 bullet points, need 2" and shown[1]["strict"] is False
    assert results["bad"]["status"] == "invalid" and "unknown instruction id" in results["bad"]["error"]


def test_json_nested_past_pythons_limit_is_not_followed_not_a_crash():
    graded = grade_ifeval("[" * 5000 + "]" * 5000, label(("detectable_format:json_format", {})))
    assert graded.status is Status.ok and graded.score == 0.0
    assert "nested too deep" in graded.details["instructions"][0]["why"]


def test_the_registry_holds_every_family():
    families = {"google": 25, "ifevalg": 29, "ifbench": 57, "tulu3": 25}
    assert len(CHECKERS) == sum(families.values())
    assert sum(iid.startswith("tulu3:") for iid in CHECKERS) == families["tulu3"]
    assert "words:start_verb" not in CHECKERS  # needs NLTK's POS tagger: left out, a label using it is invalid
