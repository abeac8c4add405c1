"""``tulu3:*``: Tulu 3's RLVR label ``{"func_name": "verify_keywords", ...kwargs}``, checked as open-instruct's
``if_functions.py`` checks it (``IFEvalVerifierOld``).

Not Google's checkers: their own rules (words split on whitespace, sentences by one regex, exact counts,
case-sensitive letters, plain substrings), copied here rule for rule. Each rule sees the response stripped, as
the verifier hands it over (``remove_thinking_section`` strips); strings from the label are used as given
(:attr:`Arg.verbatim`), since the functions do not strip them either. Where a function would crash on a label
(a letter of two characters, a paragraph index past the count) or give a constant verdict for any response
(an unknown quantifier), the label is invalid instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from reward_service.grading.ifeval.registry import Arg, Rule, rule
from reward_service.grading.ifeval.text import detect_language

Kwargs = Mapping[str, Any]
_QUANTIFIERS = ("at least", "around", "at most")


def _tulu(func_name: str, *, cross: Callable[[Kwargs], str | None] | None = None,
          **args: Arg) -> Callable[[Rule], Rule]:
    """Register ``func_name`` as ``tulu3:<func_name>``, its rule fed the stripped response."""
    def add(fn: Rule) -> Rule:
        def on_stripped(response: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
            return fn(response.strip(), kwargs, prompt)
        rule(f"tulu3:{func_name}", needs_prompt=False, cross=cross, defaults=None, **args)(on_stripped)
        return fn
    return add


def _known_quantifier(kwargs: Kwargs) -> str | None:
    if kwargs["quantifier"] not in _QUANTIFIERS:  # the reference answers False to any response
        return f"quantifier must be one of {list(_QUANTIFIERS)}, got {kwargs['quantifier']!r}"
    return None


def _quantified(found: int, kwargs: Kwargs, tolerance: int, what: str) -> tuple[bool, str]:
    n, quantifier = kwargs["N"], kwargs["quantifier"]
    if quantifier == "at least":
        return found >= n, f"found {found} {what}, need at least {n}"
    if quantifier == "at most":
        return found <= n, f"found {found} {what}, need at most {n}"
    return abs(found - n) <= tolerance, f"found {found} {what}, need around {n} (±{tolerance})"


def _tenth(n: int) -> int:
    return max(round(n * 0.1), 1)  # Python's round, half to even, as the reference


def _exactly(found: int, n: int, what: str) -> tuple[bool, str]:
    return found == n, f"found {found} {what}, need exactly {n}"


@_tulu("verify_keywords", keyword_list=Arg.words)
def keywords(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    missing = [k for k in kwargs["keyword_list"] if k.lower() not in text.lower()]
    return not missing, f"missing {missing}" if missing else "all keywords present"


@_tulu("verify_keyword_frequency", word=Arg.verbatim, N=Arg.count)
def keyword_frequency(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    found = re.findall(r"\b\w+\b", text.lower()).count(kwargs["word"].lower())
    return _exactly(found, kwargs["N"], f"words {kwargs['word']!r}")


@_tulu("validate_forbidden_words", forbidden_words=Arg.words)
def forbidden_words(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    found = [w for w in kwargs["forbidden_words"] if w.lower() in text.lower()]
    return not found, f"used {found}" if found else "no forbidden word"


def _one_character(kwargs: Kwargs) -> str | None:
    return None if len(kwargs["letter"]) == 1 else f"letter must be one character, got {kwargs['letter']!r}"


@_tulu("verify_letter_frequency", cross=_one_character, letter=Arg.verbatim, N=Arg.count)
def letter_frequency(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    return _exactly(text.count(kwargs["letter"]), kwargs["N"], f"{kwargs['letter']!r} (case-sensitive)")


@_tulu("validate_response_language", language=Arg.language)
def response_language(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    found = detect_language(text)  # the reference crashes where langdetect finds nothing: not followed
    return found == kwargs["language"], f"detected {found!r}, need {kwargs['language']!r}"


@_tulu("verify_paragraph_count", N=Arg.count)
def paragraph_count(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    cleaned = "\n".join(line.strip() for line in text.splitlines()).strip()
    parts = cleaned.split("* * *")
    if any(not p.strip() for p in parts):
        return False, "an empty paragraph around a * * * divider"
    return _exactly(len(parts), kwargs["N"], "paragraphs")


@_tulu("validate_word_constraint", cross=_known_quantifier, N=Arg.count, quantifier=Arg.verbatim)
def word_constraint(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    return _quantified(len(text.split()), kwargs, _tenth(kwargs["N"]), "words")


_SENTENCE_END = re.compile(r"(?<!\w\.\w.)(?<![A-Z][a-z]\.)(?<=\.|\?|!)\s")


@_tulu("verify_sentence_constraint", cross=_known_quantifier, N=Arg.count, quantifier=Arg.verbatim)
def sentence_constraint(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    return _quantified(len(_SENTENCE_END.split(text)), kwargs, 1, "sentences")


def _index_in_range(kwargs: Kwargs) -> str | None:
    return None if kwargs["i"] <= kwargs["N"] else f"paragraph i={kwargs['i']} is past N={kwargs['N']}"


@_tulu("validate_paragraphs", cross=_index_in_range, N=Arg.count, first_word=Arg.verbatim, i=Arg.positive)
def paragraphs(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    parts = text.split("\n\n")
    if len(parts) != kwargs["N"]:
        return _exactly(len(parts), kwargs["N"], "paragraphs (split on a blank line)")
    start = parts[kwargs["i"] - 1].strip()
    why = f"paragraph {kwargs['i']} starts {start[:len(kwargs['first_word'])]!r}, need {kwargs['first_word']!r}"
    return start.startswith(kwargs["first_word"]), why


@_tulu("verify_postscript", postscript_marker=Arg.verbatim)
def postscript(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    marker = kwargs["postscript_marker"]
    if marker not in text:
        return False, f"no {marker!r}"
    after = text[text.find(marker):].strip()
    return len(after) > len(marker), f"{marker!r} found" + ("" if len(after) > len(marker) else ", nothing after it")


@_tulu("validate_placeholders", N=Arg.count)
def placeholders(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    found = len(re.findall(r"\[(.*?)\]", text))
    return found >= kwargs["N"], f"found {found} [placeholders], need at least {kwargs['N']}"


@_tulu("verify_bullet_points", N=Arg.count)
def bullet_points(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    found = sum(1 for line in text.split("\n") if line.strip().startswith(("*", "-")))
    return _exactly(found, kwargs["N"], "lines starting with * or -")


@_tulu("validate_title")
def title(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    found = re.search(r"<<(.*?)>>", text) is not None
    return found, "title found" if found else "no <<title>>"


@_tulu("validate_choice", options=Arg.words)
def choice(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    found = [o for o in kwargs["options"] if o in text]
    return bool(found), f"contains {found[0]!r}" if found else f"contains none of {kwargs['options']}"


@_tulu("validate_highlighted_sections", N=Arg.count)
def highlighted_sections(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    found = len(re.findall(r"\*(.*?)\*", text))
    return found >= kwargs["N"], f"found {found} *highlighted* sections, need at least {kwargs['N']}"


@_tulu("validate_sections", N=Arg.count, section_splitter=Arg.verbatim)
def sections(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    parts = text.split(kwargs["section_splitter"])
    found = len(parts) - (parts[0] == "")  # text before the first splitter is a section too
    return _exactly(found, kwargs["N"], f"sections split on {kwargs['section_splitter']!r}")


@_tulu("validate_json_format")
def json_format(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    try:
        json.loads(text)
    except (ValueError, RecursionError) as exc:
        return False, f"not JSON: {str(exc)[:80]}"
    return True, "valid JSON"


@_tulu("validate_repeat_prompt", original_prompt=Arg.verbatim)
def repeat_prompt(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    ok = text.startswith(kwargs["original_prompt"])
    return ok, "starts with the prompt" if ok else "does not start with the prompt, character for character"


@_tulu("validate_two_responses")
def two_responses(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    if text.count("******") != 1:
        return False, f"found {text.count('******')} ****** separators, need 1"
    first, second = (part.strip() for part in text.split("******"))
    return first != second, "two different responses" if first != second else "the two responses are the same"


@_tulu("validate_uppercase")
def uppercase(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    return text == text.upper(), "all uppercase" if text == text.upper() else "has lowercase letters"


@_tulu("validate_lowercase")
def lowercase(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    return text == text.lower(), "all lowercase" if text == text.lower() else "has capital letters"


@_tulu("validate_frequency_capital_words", cross=_known_quantifier, N=Arg.count, quantifier=Arg.verbatim)
def frequency_capital_words(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    return _quantified(len(re.findall(r"\b[A-Z]+\b", text)), kwargs, _tenth(kwargs["N"]), "all-capital words")


@_tulu("validate_end", end_phrase=Arg.verbatim)
def end(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    ok = text.endswith(kwargs["end_phrase"])
    return ok, f"ends with {kwargs['end_phrase']!r}" if ok else f"ends with {text[-40:]!r}"


@_tulu("validate_quotation")
def quotation(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    ok = text.startswith('"') and text.endswith('"')
    return ok, "wrapped in double quotes" if ok else "not wrapped in double quotes"


@_tulu("validate_no_commas")
def no_commas(text: str, kwargs: Kwargs, prompt: str | None) -> tuple[bool, str]:
    return "," not in text, f"found {text.count(',')} commas"
