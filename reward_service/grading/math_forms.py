"""Rewrites of answer forms that math-verify misreads, applied to one whole answer span before parsing; and
one check, :func:`unequal_sides` (math-verify grades a chain of equalities by its last side).

Each rewrite keeps the meaning and only changes the notation; each has a test in
tests/reward_service/test_math_forms.py. Where math-verify itself reads the form wrongly the upstream
behaviour is named.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from reward_service.grading.extract import drop_invisible

__all__ = ["clean", "clock_seconds", "expand_plus_minus", "plain_number", "rewrite", "strip_units",
           "unequal_sides"]

_SYMBOLS = str.maketrans({"−": "-", "×": "\\times ", "÷": "\\div ", "·": "\\cdot ", "≤": "\\le ", "≥": "\\ge ",
                          "≠": "\\ne ", "∞": "\\infty ", "π": "\\pi ", "°": "^\\circ ", "²": "^2", "³": "^3",
                          "∅": "\\emptyset "})
_SQRT_SIGN = re.compile(r"√\s*(\d+|\{[^{}]*\}|\([^()]*\)|[A-Za-z])")
_OUTER = re.compile(r"^(?:\$\$(.*)\$\$|\$(.*)\$|\\\((.*)\\\)|\\\[(.*)\\\])$", re.DOTALL)
_SPACING = re.compile(r"(?<!\\)\\[,;:> ]|\\q?quad|~")                  # LaTeX spaces (not the row break \\)
_DIGIT_SPACE = re.compile(r"(?<=\d)\s*(?:\\[,;: ]|~|\\!|\{,\s*\}|,\\!)\s*(?=\d{3}(?!\d))")  # 10\,000, 10{,}000
_BOLD = re.compile(r"^\*\*(.*)\*\*$", re.DOTALL)
_CONNECTIVE = re.compile(r"\s*,?\s*(?:\\text\{\s*(?:and|or)\s*\}|(?<![A-Za-z\\])(?:and|or)(?![A-Za-z]))\s*")
_SPACE_THOUSANDS = re.compile(r"(?<![\d.])\d{1,3}(?: \d{3})+(?![\d.])")           # 1 000 000
_SCI_E = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*[eE]\s*([+-]?\d+)$")               # 1.5e-7
_REPEATING = re.compile(r"(?<![\d.])(\d*)\.(\d*)\\overline\{(\d+)\}")            # 0.1\overline{6}
_STRAY_STOP = re.compile(r"(?<=\d)\.(?!\d|\\overline)")                                   # \boxed{3.}, -1./3
_TEXT_NUMBER = re.compile(r"\\(?:text|textbf|mathrm|mathbf)\{\s*\(?\s*([+-]?\d[\d.,]*)\s*\)?\s*\}")
_UPRIGHT = re.compile(r"\\(?:mathrm|text|textrm|operatorname|mathit)\{\s*([ei])\s*\}")  # \mathrm{e}, \text{i}
_FRAC = r"\\[dt]?frac\s*(?:\{\s*(\d+)\s*\}|(\d))\s*(?:\{\s*(\d+)\s*\}|(\d))"
_MIXED_LATEX = re.compile(rf"(?<![\d.}}^_\w])(\d+)\s*{_FRAC}")                   # 1\frac{1}{2}
_MIXED_PLAIN = re.compile(r"(?<![\d./^_\w])(\d+)\s+(\d+)\s*/\s*(\d+)(?![\d/])")  # 1 1/2
_TRIG = r"\\(?:sin|cos|tan|cot|sec|csc)(?:\^\s*\{?-?\d+\}?)?"
_DEGREES = r"(\d+(?:\.\d+)?)\s*\^\s*\{?\s*\\circ\s*\}?"
_TRIG_DEGREES = re.compile(
    rf"({_TRIG})\s*(?:\\left\s*)?(?:\(\s*{_DEGREES}\s*(?:\\right\s*)?\)|\{{\s*{_DEGREES}\s*\}}|{_DEGREES})")
_TRIG_HEAD = re.compile(rf"{_TRIG}(?![A-Za-z])")
_OPENING = re.compile(r"\s*(?:\\left\s*)?[({]")
_DEGREE_TERM = re.compile(r"(\d+(?:\.\d+)?|(?<![\\A-Za-z])[A-Za-z]|\\(?:alpha|beta|gamma|theta|varphi|phi|psi))"
                          r"\s*\^\s*\{?\s*\\circ\s*\}?")
_SET_BUILDER = re.compile(r"^(?:\\left)?\\\{\s*[A-Za-z]\s*(?:\\in\s*\\mathbb\{R\}\s*)?(?:\\mid|\||:)\s*(.+?)\s*"
                          r"(?:\\right)?\\\}$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(?:\\text\{\s*)?(?:([ap])\.?\s*m\.?)?\s*\}?$", re.I)
_PLAIN_NUMBER = re.compile(r"^([+-]?)(?:\\?\$)?(\d{1,3}(?:,\d{3})+|\d+)?(\.\d+)?$")
# Units after a number: \text{...}, or a word set off by a space (3+ letters, or a 2-letter unit: "5 xy" is
# a product, "5 cm" a length). In prose also a unit letter ("79 g", "1,000.99m²"); x, n, k... stay variables.
_POWER = r"(?:\s*\^\s*\{?\d\}?|[²³])?(?:\s*/\s*[^\W\d_]+)?"
_TEXT_UNIT = (rf"\s*(?:\\[,;:]|~)?\s*(?:\\(?:text|mbox|mathrm|textrm|operatorname)\s*\{{[^{{}}]*\}}"
              r"|\{\s*\\rm\s[^{}]*\}"                                                        # {\rm cm}
              r"|\\frac\s*\{\s*\\(?:text|mathrm)\{[^{}]*\}\s*\}\s*\{\s*\\(?:text|mathrm)\{[^{}]*\}\s*\}"  # m/s
              rf"|\s*\^\s*\{{?\s*\\circ\s*\}}?){_POWER}")                                        # 90 ^ \circ
_WORD_UNIT = rf"(?:\s+|\s*(?:\\[,;:]|~)\s*)(?:[^\W\d_]{{3,}}|(?i:cm|mm|km|kg|mg|ml|ft|yd|mi|oz|lb|hr|in)){_POWER}"
_WRITTEN_UNITS = re.compile(rf"(?:{_TEXT_UNIT}|{_WORD_UNIT})+\s*$")
_PROSE_UNITS = re.compile(rf"(?:{_TEXT_UNIT}|{_WORD_UNIT}|\s*(?:[^\W\d_]{{3,}}|[mgshlLKNJWV]){_POWER})+\s*$")
_WRAPPED = re.compile(r"^\\(?:text|mbox|textrm|mathrm)\s*\{([^{}]*)\}$")
_WRAPPED_QUANTITY = re.compile(r"^\s*[+-]?\d[\d.,]*\s*[^\W\d_]")                    # "5 cm", "3 dollars"
_DECIMAL_PLACES = re.compile(r"\d\.(\d+)")
_CUT = re.compile(r"[{}()\[\]]"                                                        # brackets (depth)
                  r"|\\(?:leq?|geq?|neq?|lt|gt|approx|sim|simeq|equiv|cong|to)(?![A-Za-z])"  # relations
                  r"|[<>]=?|:=|="
                  r"|,(?!\d{3}(?!\d))")                                                  # commas, not 1,000
_COMMAND = re.compile(r"\\[A-Za-z]+")
_LETTER = re.compile(r"[^\W\d_]")
_NUMBER_LIKE = re.compile(r"^[-+]?(?:\\?\$)?[\d.,\s]*\d(?:[\d.,\s]|\\[dt]?frac|\\sqrt|[{}/^()+*-]|\\cdot)*$")


def clean(text: str) -> str:
    """Notation-only cleanup of a whole answer: invisible characters, outer math delimiters, Unicode symbols,
    LaTeX spacing, trailing backslashes and full stops (``5\\``, ``5.``, ``10\\,000``, ``10{,}000``)."""
    text = drop_invisible(text).strip()
    m = _BOLD.match(text)
    if m:
        text = m.group(1).strip()
    text = text.replace("\\$", "")  # an escaped dollar is a currency sign
    if text.count("$") == 1:  # a currency sign or a stray delimiter left by the writer: "0.3333$"
        text = text.replace("$", "")
    elif text.startswith("$") and text.endswith("$") and text.count("$") > 2 and "$$" not in text:
        text = text.replace("$", "")  # "$21,16$ or $11$": several spans joined into one answer
    m = _OUTER.match(text)
    if m:
        text = next(g for g in m.groups() if g is not None).strip()
    text = _SQRT_SIGN.sub(r"\\sqrt{\1}", text).translate(_SYMBOLS)
    text = _DIGIT_SPACE.sub("", text).replace("\\!", "")
    text = _SPACE_THOUSANDS.sub(lambda g: g.group(0).replace(" ", ""), text)
    text = re.sub(r"[ \t]{2,}", " ", _SPACING.sub(" ", text))
    if not (text.endswith("\\\\") and "\\begin" in text):  # a matrix may end on its row break
        text = text.rstrip("\\ \t\n")
    text = text.rstrip(".").strip()
    return _STRAY_STOP.sub("", text)


def _repeating_to_fraction(m: re.Match[str]) -> str:
    whole, fixed, period = m.group(1) or "0", m.group(2), m.group(3)
    value = int(whole) + Fraction(int(fixed or "0"), 10 ** len(fixed))
    value += Fraction(int(period), (10 ** len(period) - 1) * 10 ** len(fixed))
    return f"\\frac{{{value.numerator}}}{{{value.denominator}}}"


def _mixed(whole: str, num: str, den: str, original: str) -> str:
    """``1\\frac{1}{2}`` and ``1 1/2`` are the mixed number 3/2; an improper "fraction part" is not one."""
    if int(num) >= int(den) or int(den) == 0:
        return original
    return f"({whole}+\\frac{{{num}}}{{{den}}})"


def _trig_degrees(m: re.Match[str]) -> str:
    degrees = next(g for g in m.groups()[1:] if g is not None)
    return f"{m.group(1)}\\left({degrees}\\cdot\\frac{{\\pi}}{{180}}\\right)"


def _degrees_in_trig_arguments(text: str) -> str:
    """Every angle in degrees inside a bracketed trigonometric argument → radians: ``\\sin(90^\\circ - x)`` →
    ``\\sin(\\frac{90\\pi}{180} - x)``, ``\\cos\\left(2\\cdot 30^{\\circ}\\right)``, ``\\theta^\\circ``. The
    unknowns keep their reading (``\\sin(90^\\circ - x) = \\cos x`` holds in either unit). A bare argument
    (``\\sin 45^\\circ``) is left to :data:`_TRIG_DEGREES`."""
    out, pos = [], 0
    for m in _TRIG_HEAD.finditer(text):
        end = _bracket_end(text, m.end()) if m.start() >= pos else None
        if end is None:
            continue
        out += [text[pos:m.end()], _DEGREE_TERM.sub(r"\\frac{\1\\pi}{180}", text[m.end():end])]
        pos = end
    return "".join(out) + text[pos:]


def _bracket_end(text: str, start: int) -> int | None:
    """The end of the bracketed group opening at ``start`` (after spaces and ``\\left``); None if none."""
    m = _OPENING.match(text, start)
    if m is None:
        return None
    depth = 0
    for k in range(m.end() - 1, len(text)):
        depth += (text[k] in "({") - (text[k] in ")}")
        if depth == 0:
            return k + 1
    return None


def rewrite(text: str) -> str:
    """Rewrites of forms math-verify misreads (run after :func:`clean`):

    * ``1.5e-7`` (read as ``e - 7``) → ``1.5\\times 10^{-7}``;
    * ``0.\\overline{3}`` → ``\\frac{1}{3}``; ``\\textbf{(073)}`` (AoPS) → ``073``;
    * mixed numbers: ``1\\frac{1}{2}``, ``1 1/2`` → ``(1+\\frac{1}{2})`` (math-verify reads the plain form as 1);
    * degrees inside trigonometric functions: ``\\sin 45^\\circ`` → ``\\sin(45\\cdot\\frac{\\pi}{180})``, and
      each angle in degrees in a bracketed argument, ``\\sin(90^\\circ - x)`` → ``\\sin(\\frac{90\\pi}{180} - x)``
      (math-verify drops ``^\\circ`` and takes radians);
    * ``\\mathrm{e}`` and ``\\text{i}`` → ``e`` and ``i`` (read as the text "e", not Euler's number).
    """
    m = _SCI_E.match(text)
    if m:
        text = f"{m.group(1)}\\times 10^{{{int(m.group(2))}}}"
    text = _TEXT_NUMBER.sub(r"\1", text)
    text = _REPEATING.sub(_repeating_to_fraction, text)
    text = _MIXED_LATEX.sub(lambda g: _mixed(g.group(1), g.group(2) or g.group(3), g.group(4) or g.group(5),
                                             g.group(0)), text)
    text = _MIXED_PLAIN.sub(lambda g: _mixed(g.group(1), g.group(2), g.group(3), g.group(0)), text)
    text = _TRIG_DEGREES.sub(_trig_degrees, _degrees_in_trig_arguments(text))
    text = _UPRIGHT.sub(r"\1", text).replace("\\varnothing", "\\emptyset")
    m = _SET_BUILDER.match(text)
    if m:  # \{x \mid x > 2\}: the set of the condition, compared as that condition
        text = m.group(1)
    parts = _CONNECTIVE.split(text)
    if len(parts) > 1 and all(p.strip() for p in parts):
        # "1 \text{ and } 2" is the list 1, 2; "p=5,q=2 and p=7,q=2" is two tuples
        tuples = all("," in p and "=" in p for p in parts)
        text = ("; " if tuples else ", ").join(p.strip() for p in parts)
    return text


def expand_plus_minus(text: str) -> str | None:
    """``x = \\frac{-1 \\pm \\sqrt{13}}{4}`` → both values, as a list; None when no item of the list holds
    exactly one ``\\pm``. math-verify reads ``\\pm`` only in front of a number (``\\pm 2``)."""
    items, depth, start = [], 0, 0
    for k, c in enumerate(text):
        if c in "{([":
            depth += 1
        elif c in "})]":
            depth -= 1
        elif c == "," and depth == 0:
            items.append(text[start:k])
            start = k + 1
    items.append(text[start:])
    if not any(i.count("\\pm") == 1 for i in items):
        return None
    out = []
    for item in items:
        out += [item.replace("\\pm", "+"), item.replace("\\pm", "-")] if item.count("\\pm") == 1 else [item]
    return ", ".join(i.strip() for i in out)


def strip_units(text: str, prose: bool = False) -> str:
    """``10 weeks``, ``10 \\text{ cm}^2``, ``25 km/h``, ``\\text{5 cm}`` → the value; in a list, each item's
    (``5 \\text{ cm}, 6 \\text{ cm}`` → ``5, 6``). Only a value followed by units loses them; ``5x``, ``5 xy``
    or ``x + 5`` stay as written. In ``prose`` (a number read out of a sentence, not written mathematics) a
    unit letter goes too: ``79 g``. Used on both sides (an answer against a constant reference, and every
    reference), so a unit is ignored whichever side writes it. Units are dropped, never converted: ``5 km``
    is 5, not 5000, since a reference's unit is the one the problem asks the answer in."""
    if text.startswith("{") and _bracket_end(text, 0) == len(text):  # {35 cm, 4}: a LaTeX group, no set
        inner = strip_units(text[1:-1], prose)
        return inner if inner != text[1:-1] else text
    items = _top_level_items(text)
    if len(items) > 1:
        values = [strip_units(item, prose) for item in items]
        return ", ".join(values) if values != items else text
    wrapped = _WRAPPED.match(text)
    quantity = wrapped.group(1).strip() if wrapped and _WRAPPED_QUANTITY.match(wrapped.group(1)) else text
    stripped = (_PROSE_UNITS if prose else _WRITTEN_UNITS).sub("", quantity).strip()
    return stripped if stripped != text and _NUMBER_LIKE.match(stripped) else text


def _top_level_cuts(text: str) -> list[tuple[int, int, str]]:
    """(start, end, token) of each relation and comma outside brackets (not the thousands comma of
    ``1,000``): where a list or a chain of relations splits."""
    depth, cuts = 0, []
    for m in _CUT.finditer(text):
        token = m.group()
        if token in "{([":
            depth += 1
        elif token in "})]":
            depth = max(depth - 1, 0)
        elif depth == 0:
            cuts.append((m.start(), m.end(), token))
    return cuts


def _top_level_items(text: str) -> list[str]:
    """The items of a list written with commas outside brackets."""
    items, start = [], 0
    for begin, end, token in _top_level_cuts(text):
        if token == ",":
            items.append(text[start:begin].strip())
            start = end
    return [*items, text[start:].strip()] if items else [text]


def plain_number(text: str) -> Fraction | None:
    """A plain-text number math-verify's LaTeX parser cannot read (``1,234.5``, ``$5``); else None."""
    m = _PLAIN_NUMBER.match(text.strip())
    if m is None or not (m.group(2) or m.group(3)):
        return None
    value = Fraction((m.group(2) or "0").replace(",", "") + (m.group(3) or ""))
    return -value if m.group(1) == "-" else value


def clock_seconds(text: str) -> int | None:
    """Seconds after midnight of a clock time (``12:00``, ``20:34:00``, ``8:34 p.m.``); None if not one.

    math-verify reads ``12:00`` as the ratio 12/0 and ``20:34`` as 20/34.
    """
    m = _CLOCK.match(text.strip())
    if m is None:
        return None
    hours, minutes, seconds = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if minutes > 59 or seconds > 59 or hours > 24 or (m.group(4) and not 1 <= hours <= 12):
        return None
    if m.group(4):
        hours = hours % 12 + (12 if m.group(4).lower() == "p" else 0)
    return (hours * 60 + minutes) * 60 + seconds



def _equality_pairs(text: str) -> list[tuple[str, str]]:
    """The two sides of each ``=`` outside brackets, a side running to the next relation or comma:
    ``x \\le 5 = 4`` → [("5", "4")]; ``x = 2+2 = 4`` → [("x", "2+2"), ("2+2", "4")]."""
    cuts = [(0, 0, ","), *_top_level_cuts(text), (len(text), len(text), ",")]
    sides = [text[a[1]:b[0]].strip() for a, b in zip(cuts, cuts[1:], strict=False)]
    return [(sides[k - 1], sides[k]) for k in range(1, len(cuts) - 1) if cuts[k][2] == "="]


def _side_value(side: str, parse: Callable[[str], list[Any]]) -> complex | None:
    """The value of one side of an equality when it is a number (units after it dropped); None when it has
    unknowns, does not parse, or is too large to evaluate."""
    from reward_service.grading.math_compare import too_large
    side = strip_units(side)
    if not side or _LETTER.search(_COMMAND.sub("", side)):
        return None
    parsed = parse(side)
    if not parsed or not getattr(parsed[0], "is_number", False) or too_large(parsed[:1]):
        return None
    try:
        return complex(parsed[0].evalf(30))
    except (TypeError, ValueError, ArithmeticError):
        return None


def _agree(a: complex, b: complex, left: str, right: str) -> bool:
    """Equal; or equal to a decimal side within less than a unit of its last written place
    (``\\frac{1}{3} = 0.333``); or equal with a side written in degrees read in radians
    (``45^\\circ = \\frac{\\pi}{4}``)."""
    places = [len(d) for side in (left, right) for d in _DECIMAL_PLACES.findall(side)]
    tolerance = 0.999 * 10.0 ** -min(places) if places else 0.0
    ways = [(a, b)] + [(a * math.pi / 180, b)] * ("\\circ" in left) + [(a, b * math.pi / 180)] * ("\\circ" in right)
    return any(abs(x - y) < tolerance or abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y)) for x, y in ways)


def unequal_sides(text: str, parse: Callable[[str], list[Any]]) -> bool:
    """Whether the answer ``text`` states an equality of two numbers that differ: ``x = 5 = 4``,
    ``2+2 = 4 = 5``, ``5 = 4``, ``x \\le 5 = 4``. Such a chain is no answer: math-verify grades its last side,
    so it would count for whichever value is written last. ``parse`` reads one side (math-verify's parse, []
    if none).

    Sides with unknowns are not judged (``x = 2+2 = 4``: the numbers 2+2 and 4 are equal); units after a
    number are dropped first, so ``2 \\text{ h} = 120 \\text{ min}`` is two different numbers, not one answer."""
    for left, right in _equality_pairs(text):
        a, b = _side_value(left, parse), _side_value(right, parse)
        if a is not None and b is not None and not _agree(a, b, left, right):
            return True
    return False
