"""IFBench's ``format:*`` constraints: nesting, options, line layout, bullets, HTML italics, case, templates.

Each rule counts as IFBench's reference (``ifbench/instructions.py``) counts. Where that code passes a response
the instruction plainly rules out (an unordered blank line, an ``<em>`` tag read one character off, no bullet
at all), we do not, and the rule says so; bench/README.md lists each such deviation.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

import emoji

from reward_service.grading.ifeval.registry import Arg, rule
from reward_service.grading.ifeval.text import sentences, word_tokens

NO_PUNCTUATION = str.maketrans("", "", string.punctuation)
_CLOSES = {")": "(", "]": "[", "}": "{"}


def _deepest_closed_group(text: str) -> int:
    """How deep the deepest bracket group closed by its own bracket sits; a wrong closing bracket forgets
    everything open (as the reference's reset does)."""
    open_: list[str] = []
    deepest = 0
    for char in text:
        if char in "([{":
            open_.append(char)
        elif char in _CLOSES:
            if open_ and open_[-1] == _CLOSES[char]:
                deepest = max(deepest, len(open_))
                open_.pop()
            else:
                open_ = []
    return deepest


@rule("format:parentheses")
def parentheses(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    depth = _deepest_closed_group(response)
    return depth >= 5, f"brackets nest {depth} levels deep (closed), need at least 5"


def _quote_depth(text: str) -> int:
    """The reference's count: a quote equal to the innermost open one closes it, any other opens; the depth
    is how far the nesting has come down from the deepest point it ever reached."""
    open_: list[str] = []
    reached = best = 0
    for char in text:
        if open_ and char == open_[-1]:
            open_.pop()
            best = max(best, reached - len(open_))
        elif char in "\"'":
            open_.append(char)
            reached = max(reached, len(open_))
    return best


@rule("format:quotes")
def quotes(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    depth = _quote_depth(response)
    return depth >= 3, f"quotes nest {depth} levels deep (closed), need at least 3"


def _options(spec: str) -> tuple[list[str], bool]:
    """The options a label's text lists (split on ``/``, else on ``or`` even inside a word, else on ``,``,
    as the reference splits), and whether they are letters to match exactly."""
    exact = re.match(r"\W*[aA]\W*[bB]\W*[cC]\W*", spec) is not None
    separator = "/" if "/" in spec else "or" if "or" in spec else ","
    return [option.strip() for option in spec.split(separator)], exact


@rule("format:options", options=Arg.text)
def options(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    choices, exact = _options(kwargs["options"])
    if exact:
        ok = response in choices
    else:
        trim = string.punctuation + " "
        ok = response.strip(trim).lower() in [choice.strip(trim).lower() for choice in choices]
    return ok, f"answered {response[:40]!r}, need exactly one of {choices}"


@rule("format:newline")
def newline(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    text = response.translate(NO_PUNCTUATION).strip()
    lines = sum(1 for line in text.split("\n") if line)
    words = len(text.split())
    return lines == words, f"found {words} words on {lines} lines, need one word a line"


def _ends_with_emoji(text: str) -> bool:
    return emoji.is_emoji(text[-1]) or emoji.is_emoji(text[-2] if len(text) > 1 else text[-1])


@rule("format:emoji")
def emoji_sentences(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found = sentences(response)
    cores = [s.translate(NO_PUNCTUATION).strip() for s in found]
    for i, core in enumerate(cores):
        if not core:
            return False, f"sentence {i + 1} is punctuation only"
        if _ends_with_emoji(core):
            continue
        # the sentence splitter may put the emoji that ends sentence i at the start of sentence i + 1
        if i + 1 == len(cores) or not cores[i + 1] or not emoji.is_emoji(cores[i + 1][0]):
            return False, f"sentence {i + 1} of {len(cores)} does not end with an emoji"
    return True, f"all {len(cores)} sentences end with an emoji"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


@rule("format:line_indent")
def line_indent(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    # Deviation: every blank line is dropped; the reference removes items from the list it iterates, so the
    # second of two blank lines in a row stays and (indented 0) breaks any staircase.
    lines = [line for line in response.split("\n") if line.strip()]
    for i in range(1, len(lines)):
        if _indent(lines[i]) <= _indent(lines[i - 1]):
            return False, (f"line {i + 1} is indented {_indent(lines[i])} spaces, "
                           f"not more than line {i} ({_indent(lines[i - 1])})")
    return True, f"{len(lines)} lines, each indented more than the one before"


@rule("format:quote_unquote")
def quote_unquote(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    text = "".join(response.replace("'\"'", "").split())  # '"' names the character, it quotes nothing
    if '""' in text:
        return False, "a quoted phrase is followed by another quote, not by an explanation"
    tail = text.strip(string.digits + string.punctuation.replace('"', ""))
    if tail.endswith('"'):
        return False, "the response ends with a quoted phrase, no explanation after it"
    return True, "every quoted phrase is followed by unquoted text"


@rule("format:list", sep=Arg.verbatim)
def special_bullets(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found = response.count(kwargs["sep"])
    return found >= 2, f"found {found} times the marker {kwargs['sep']!r}, need at least 2"


def _italics(response: str) -> tuple[str, str] | None:
    """The first italic span (``<i>``, else ``<em>``) and the text after it, or None."""
    start, opener = response.find("<i>"), "<i>"
    if start == -1:
        start, opener = response.find("<em>"), "<em>"
        if start == -1:
            return None
    rest = response[start:]
    end, closer = rest.find("</i>"), "</i>"
    if end == -1:
        end, closer = rest.find("</em>"), "</em>"
        if end == -1:
            return None
    # Deviation: the reference cuts both tags at 3 and 4 characters, so with <em>/</em> the thesis and the
    # text after it are never empty (">" is left in each); we cut each tag at its own length.
    return rest[len(opener):end], rest[end + len(closer):]


@rule("format:thesis")
def thesis(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found = _italics(response)
    if found is None:
        return False, "no <i>...</i> or <em>...</em> thesis"
    statement, after = found
    if not statement.strip():
        return False, "the italic thesis is empty"
    if not after.strip():
        return False, "no text after the italic thesis"
    return True, "an italic thesis followed by text"


@rule("format:sub-bullets")
def sub_bullets(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    parts = response.split("*")[1:]
    # Deviation: the reference passes a response without any '*' (nothing to check); the instruction asks
    # for bullet points, so none at all does not follow it.
    if not parts:
        return False, "no bullet point denoted by *"
    bare = sum(1 for part in parts if "-" not in part)
    return not bare, f"{bare} of {len(parts)} '*' bullets have no '-' sub-bullet after them"


@rule("format:no_bullets_bullets")
def sentences_then_bullets(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    # Deviation: blank lines are skipped. The reference reuses its "still in the sentences" flag for the
    # sentence list, so after a blank line any further prose line (and a trailing newline) fails it.
    counted, bullets = 0, 0
    for line in (line.strip() for line in response.split("\n")):
        if line.startswith("*"):
            if counted < 2:
                return False, f"found {counted} sentences before the first bullet, need at least 2"
            bullets += 1
        elif line and bullets:
            return False, "a line that is not a '*' bullet after the bullets"
        elif line:
            counted += len(sentences(line))
    return bullets >= 2, f"found {counted} sentences, then {bullets} '*' bullets, need at least 2 of each"


def _not_title_case(word: str) -> bool:
    if not word[0].isalpha():
        return False
    if len(word) == 1:
        return word.islower()
    return word[0].islower() and (word[1:].isupper() or word[1:].islower())


@rule("format:title_case")
def title_case(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    wrong = [word for word in word_tokens(response) if word and _not_title_case(word)]
    return not wrong, f"not capitalised: {wrong[:5]}" if wrong else "every word starts with a capital"


TEMPLATE_HEADINGS = ("My Answer:", "My Conclusion:", "Future Outlook:")


@rule("format:output_template")
def output_template(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    missing = [heading for heading in TEMPLATE_HEADINGS if heading not in response]
    return not missing, f"missing {missing}" if missing else "every heading of the template present"


@rule("format:no_whitespace")
def no_whitespace(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found = sum(1 for char in response if char.isspace())
    return not found, f"found {found} whitespace characters, need none"
