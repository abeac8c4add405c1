"""Comparing two parsed answers: math-verify's ``verify``, corrected where it is wrong.

Its parse gives ``[expression, normalised string]``; two answers are equal when their expressions are
(with the corrections below) or, failing a parse on one side, their normalised strings are identical.
Second chances where math-verify relates no equal forms: one function in two notations (``f(x) = 2x+3``,
``y = 2x+3``) and powers with decimal exponents (``x^{1.5} x^{0.5}`` = ``x^2``, unknowns taken positive).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["equal", "too_large"]

MAX_SIZE = 1_000  # decimal digits of a number, or the degree of a polynomial: no answer a problem asks for

# Corrections of math-verify's numeric comparison (see _numeric_override).
_CHOP_HIDES = 1e-10   # absolute differences below this may have been chopped to zero
_EXACT_GAP = 1e-30    # exact numbers that differ by more than this, relatively, are not equal
_FLOAT_GAP = 1e-3     # a decimal answer must also agree to 3 significant digits, at any magnitude
_FLOAT_NOISE = 1e-12  # a decimal this close, relatively, to the other number is equal (binary rounding)
# Points (one coordinate per unknown, in name order) at which two expressions are told apart.
_POINTS = ((0.6180339887, 1.4142135624, 1.7320508076, 2.2360679775, 0.7071067812, 1.3247179572),
           (1.8392867552, 0.5772156649, 2.6651441427, 1.2020569032, 0.9159655942, 1.6180339887))


def _numeric_override(a: Any, b: Any, same: bool, options: Any) -> bool:
    """math-verify's verdict ``same`` on two parsed answers, corrected where it is wrong about numbers.

    It calls two numbers equal when chop (exact numbers) or rounding to ``float_rounding`` places
    (decimals) hides their difference: vetoed while they still differ in relative terms. It calls a decimal
    unequal to an exact number that it equals up to binary rounding (``6.02\\times 10^{23}`` vs
    ``602000000000000000000000``, compared as a float against an integer): accepted.
    """
    from sympy import Expr, Float
    if not (isinstance(a, Expr) and isinstance(b, Expr)) or a.free_symbols or b.free_symbols:
        return same
    decimal = a.has(Float) or b.has(Float)
    if not (same or decimal):
        return same
    va, vb = a.evalf(50), b.evalf(50)
    if not (va.is_number and vb.is_number and va.is_finite and vb.is_finite):
        return same
    diff, scale = abs(va - vb), max(abs(va), abs(vb))
    if not (diff.is_Number and scale.is_Number):
        return same
    if not same:
        return bool(diff <= _FLOAT_NOISE * scale)
    if decimal:
        return not (diff < 10.0 ** -options.float_rounding and diff > _FLOAT_GAP * scale)
    return not (diff < _CHOP_HIDES and diff > _EXACT_GAP * scale)


def _clearly_different(a: Any, b: Any, options: Any) -> bool:
    """Two expressions whose values differ beyond any rounding: unequal, without math-verify's last resort,
    ``simplify(a - b)`` (a few ms for each wrong answer, up to a second).

    Constants are compared by value; expressions in the same unknowns at fixed points where both are real;
    an expression that takes two values is no constant; an interval is no single value. A difference proves they are not the same
    expression; agreement proves nothing and leaves the verdict to math-verify.
    """
    from sympy import Expr, Float, Interval, Union
    for x, y in ((a, b), (b, a)):
        if isinstance(x, (Interval, Union)) and isinstance(y, Expr):
            return True  # a range of values is never one value
    if not (isinstance(a, Expr) and isinstance(b, Expr)):
        return False
    names_a, names_b = sorted(s.name for s in a.free_symbols), sorted(s.name for s in b.free_symbols)
    if (names_a and names_b and names_a != names_b) or "i" in names_a + names_b \
            or max(len(names_a), len(names_b)) > len(_POINTS[0]):
        return False  # other unknowns (strict=False renames them) or a possible imaginary unit: not here
    if not (names_a and names_b) and (names_a or names_b):  # a constant against an expression in unknowns
        varying = a if names_a else b
        values = [_value_at(varying, p) for p in _POINTS]
        return None not in values and _apart(values[0], values[1], 1e-9)  # type: ignore[arg-type]
    tolerance = 10.0 ** -options.float_rounding if a.has(Float) or b.has(Float) else 0.0
    for point in _POINTS if names_a else _POINTS[:1]:
        va, vb = _value_at(a, point), _value_at(b, point)
        if va is not None and vb is not None:
            return _apart(va, vb, 1e-9) and abs(va - vb) > tolerance
    return False


def too_large(exprs: Sequence[Any]) -> bool:
    """Whether a parsed answer builds a number of more than ``MAX_SIZE`` digits (``9^{9^{9^{9}}}``,
    ``(10^{100})!``) or a polynomial of a higher degree (``(x+1)^{3000}(x-1)^{3000}``): evaluating or expanding
    it would take sympy minutes to hours, and a timeout is a null reward, not a 0."""
    from sympy import Basic
    return any(isinstance(e, Basic) and _digits(e) > MAX_SIZE for e in exprs)


def _digits(expr: Any) -> float:
    """An upper bound on the decimal digits of what ``expr`` evaluates to (for a symbol: 1, so a power's
    bound is its degree), found without evaluating it."""
    from sympy import Basic, Pow, factorial
    if expr.is_Rational:
        return max(math.log10(abs(expr.p) + 1), math.log10(abs(expr.q) + 1))
    if expr.is_Number:
        return math.log10(abs(float(expr)) + 1) if expr.is_finite else 0.0
    if isinstance(expr, Pow):
        exponent, base = _digits(expr.exp), _digits(expr.base)
        unit = getattr(expr.base, "name", None) == "i"  # the imaginary unit, parsed as a symbol (see above)
        if unit or base <= 15 and expr.base.is_number and abs(complex(expr.base.evalf(15))) <= 1:
            return base  # i^{2023}, (-1)^n, (1/2)^{100}: powers that do not grow
        return math.inf if exponent > 15 else 10 ** exponent * max(base, 1.0)
    if isinstance(expr, factorial):
        n = _digits(expr.args[0])
        return math.inf if n > 15 else 10 ** n * max(n, 1.0)  # n! <= n^n
    parts = [_digits(a) for a in expr.args if isinstance(a, Basic)] or [0.0]
    return sum(parts) + 1 if expr.is_Mul else max(parts) + 1


def _value_at(expr: Any, point: tuple[float, ...]) -> Any:
    """The value of ``expr`` with its unknowns (in name order) at ``point``; None unless real and finite."""
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    value = expr.evalf(30, subs=dict(zip(symbols, point, strict=False)))
    return value if value.is_Number and value.is_finite else None


def _apart(a: Any, b: Any, relative: float) -> bool:
    return bool(abs(a - b) > relative * max(1, abs(a), abs(b)))


def _states_a_condition(pred: Any, gold: Any) -> bool:
    """``5x - 7y + 11z + 4 = 0`` against a number: an equation in unknowns set to zero is a condition (a
    plane, a polynomial's roots), not the value 0, although math-verify compares its right side."""
    from math_verify.grader import is_assignment_relation, is_equation, is_relation, take_last_relation
    if not is_equation(pred) or is_assignment_relation(pred) or is_relation(gold):
        return False
    last = take_last_relation(pred)
    return last.rhs == 0 and bool(last.lhs.free_symbols)


def _with_imaginary_unit(gold: Any, pred: Any) -> tuple[Any, Any] | None:
    """Both sides with the variable ``i`` read as the imaginary unit, when one of them is a complex number
    (``1+2i``, ``i(2-i)``, ``i^2``): no other unknowns on either side. None when that does not apply.

    math-verify reads ``i`` as the unit only when ``\\bi\\b`` appears in the LaTeX, so ``1+2i`` keeps a
    variable ``i`` while ``i(2-i)`` gets the unit, and the two never compare equal.
    """
    from sympy import Basic, Expr, I, Symbol
    if not (isinstance(gold, Basic) and isinstance(pred, Basic)):
        return None
    symbols = gold.free_symbols | pred.free_symbols
    names = {s.name for s in symbols if isinstance(s, Symbol)}
    if names != {"i"} and not (not names and (gold.has(I) or pred.has(I))):
        return None
    unit = {s: I for s in symbols if isinstance(s, Symbol) and s.name == "i"}
    return tuple(e.expand(complex=True) if isinstance(e, Expr) else e  # type: ignore[return-value]
                 for e in (gold.subs(unit), pred.subs(unit)))


def _solution_set(expr: Any, symbol: Any) -> Any:
    """The real solution set of a condition on ``symbol``: a relation, their And/Or, or a list of them
    (``x < -1, x > 3``); a set stays itself; None for anything else."""
    from sympy import And, FiniteSet, Or, Set, Union
    from sympy.core.relational import Relational
    if isinstance(expr, FiniteSet) and expr.args and all(isinstance(a, Relational) for a in expr.args):
        return Union(*(_solution_set(a, symbol) for a in expr.args))
    if isinstance(expr, (Relational, And, Or)) and expr.free_symbols == {symbol}:
        return expr.as_set()
    return expr if isinstance(expr, Set) and not expr.free_symbols else None


def _is_condition(expr: Any) -> bool:
    from sympy import And, FiniteSet, Or
    from sympy.core.relational import Relational
    if isinstance(expr, FiniteSet):
        return bool(expr.args) and all(isinstance(a, Relational) for a in expr.args)
    return isinstance(expr, (Relational, And, Or))


def _same_solutions(gold: Any, pred: Any) -> bool:
    """Two conditions on one real unknown with the same solutions (``2x \\le 10`` and ``x \\le 5``,
    ``|x| < 2`` and ``-2 < x < 2``), or a condition and the set it describes. math-verify compares
    relations term by term, so it misses a scaled or rearranged inequality."""
    from sympy import Basic, Dummy
    if not (isinstance(gold, Basic) and isinstance(pred, Basic)) or not (_is_condition(gold) or _is_condition(pred)):
        return False
    symbols = gold.free_symbols | pred.free_symbols
    if len(symbols) != 1:
        return False
    real = Dummy("x", real=True)
    original = next(iter(symbols))
    try:
        sets = [_solution_set(e.subs(original, real), real) for e in (gold, pred)]
        return None not in sets and bool(sets[0] == sets[1])
    except Exception:  # sympy cannot solve it: no second chance, math-verify's verdict stands
        return False


def _set_against_sequence(gold: Any, pred: Any, strings: tuple[str, str]) -> bool:
    """A set written with braces against an ordered pair or interval (or the other way round): never equal,
    although math-verify compares ``\\{2,1\\}`` and ``(1,2)`` element by element."""
    from sympy import FiniteSet, Interval, Tuple
    for a, b, text in ((gold, pred, strings[0]), (pred, gold, strings[1])):
        if isinstance(a, FiniteSet) and "\\{" in text and isinstance(b, (Interval, Tuple)):
            return True
    return False


def _verify(gold: Any, pred: Any, options: Any) -> bool:
    from math_verify import verify
    return verify([gold], [pred], float_rounding=options.float_rounding,
                  numeric_precision=options.numeric_precision, strict=options.strict,
                  allow_set_relation_comp=True,  # x<3 vs (-\infty,3): compare as sets
                  timeout_seconds=None, raise_on_error=True)


def equal(gold: tuple[Any, ...] | list[Any], pred: list[Any], options: Any) -> tuple[bool, str | None]:
    """Whether the answer equals the reference; and why the comparison of the expressions crashed, if it
    did and nothing matched (a failure of sympy on two well-formed expressions, not a verdict)."""
    error = None
    expressions = [(g, p) for g in gold[:1] for p in pred[:1]]
    strings = (str(gold[1]) if len(gold) > 1 else "", str(pred[1]) if len(pred) > 1 else "")
    for g, p in expressions:
        if _states_a_condition(p, g) or _set_against_sequence(g, p, strings):
            return False, None
        try:
            if _clearly_different(g, p, options):
                return False, None
        except (MemoryError, RecursionError):
            raise
        except Exception:  # noqa: BLE001 - evalf failed: math-verify decides below
            pass
        try:
            if _numeric_override(g, p, _verify(g, p, options), options):
                return True, None
            unit = _with_imaginary_unit(g, p)
            if unit is not None and _verify(*unit, options):
                return True, None
            if _same_solutions(g, p) or _same_function(g, p, options) or _same_with_rational_powers(g, p, options):
                return True, None
        except (MemoryError, RecursionError):
            raise  # out of resources is no verdict on the answer: the caller reports an error
        except Exception as exc:
            error = f"{type(exc).__name__}: {str(exc)[:100]}"
    if len(gold) > 1 and len(pred) > 1 and str(gold[1]).strip() and str(gold[1]).strip() == str(pred[1]).strip():
        return True, None  # the same normalised LaTeX
    return False, error


# --- Second chances for equal forms math-verify does not relate (issue 21) ----------------------------------

_SHORT_DECIMAL = 6     # decimal places of an exponent read as the fraction it writes (0.25 = 1/4)
_MAX_NODES = 200       # larger expressions get no second chance: no unbounded simplification per answer


def _definition(expr: Any) -> tuple[Any, Any] | None:
    """``(head, rule)`` of an equation that defines a function: ``f(x) = 2x + 3`` (head ``f(x)``, arguments
    distinct unknowns) or ``y = 2x + 3`` (head ``y``), either way round; None when the head also appears in
    the rule (``y = 2y + 3``, ``f(x) = f(x-1) + 2``: an equation to solve, not a definition)."""
    from sympy import Eq, Symbol
    from sympy.core.function import AppliedUndef
    if not isinstance(expr, Eq):
        return None
    for head, rule in ((expr.lhs, expr.rhs), (expr.rhs, expr.lhs)):
        names = {s.name for s in rule.free_symbols} | {f.func.__name__ for f in rule.atoms(AppliedUndef)}
        if isinstance(head, Symbol) and head.name not in names:
            return head, rule
        if isinstance(head, AppliedUndef) and head.func.__name__ not in names and head.args \
                and all(isinstance(a, Symbol) for a in head.args) and len(set(head.args)) == len(head.args):
            return head, rule
    return None


def _same_function(gold: Any, pred: Any, options: Any) -> bool:
    """``f(x) = 2x + 3`` against ``y = 2x + 3`` or ``g(t) = 2t + 3``: one function in any notation, so the
    rules are compared (arguments matched by position). At least one side must use function notation:
    ``x = 3`` against ``y = 3`` still differ, and ``y`` must not be one of ``f``'s arguments."""
    from sympy.core.function import AppliedUndef
    g, p = _definition(gold), _definition(pred)
    if g is None or p is None:
        return False
    (g_head, g_rule), (p_head, p_rule) = g, p
    functions = [h for h in (g_head, p_head) if isinstance(h, AppliedUndef)]
    if len(functions) == 2:
        if len(g_head.args) != len(p_head.args):
            return False
        p_rule = p_rule.subs(dict(zip(p_head.args, g_head.args, strict=True)), simultaneous=True)
    elif len(functions) == 1:
        symbol = p_head if functions[0] is g_head else g_head
        if symbol in functions[0].args:  # x = 2x + 3 against f(x) = 2x + 3: not the value of f
            return False
    else:
        return False
    return not _clearly_different(g_rule, p_rule, options) and _verify(g_rule, p_rule, options)


def _rational_powers(expr: Any) -> Any:
    """``expr`` with each exponent written as a short decimal made the fraction it writes (``x^{0.5}`` →
    ``x^{1/2}``), so that sympy combines the powers (``x^{1.5} x^{0.5}`` = ``x^2``); None when no exponent is
    such a decimal or the expression is too large."""
    from sympy import Basic, Float, Pow, Rational, preorder_traversal
    if not isinstance(expr, Basic) or not expr.has(Float):
        return None
    nodes = list(preorder_traversal(expr))
    if len(nodes) > _MAX_NODES:
        return None
    exact = {}
    for node in nodes:
        if isinstance(node, Pow) and isinstance(node.exp, Float):
            text = f"{float(node.exp):.15g}"
            if "e" not in text and len(text.partition(".")[2]) <= _SHORT_DECIMAL:
                exact[node.exp] = Rational(text)
    return expr.xreplace(exact) if exact else None


def _same_with_rational_powers(gold: Any, pred: Any, options: Any) -> bool:
    """Equal once decimal exponents are fractions (see :func:`_rational_powers`) and the unknowns, on both
    sides, positive: the reading a problem that writes ``x^{0.5}`` intends, x > 0 (a real power of a negative
    base is not meant), under which ``(x^2)^{0.25}`` is ``\\sqrt{x}``. Only for answers with such exponents."""
    from sympy import Basic, Symbol
    g, p = _rational_powers(gold), _rational_powers(pred)
    if g is None and p is None:
        return False
    sides = [gold if g is None else g, pred if p is None else p]
    if not all(isinstance(e, Basic) for e in sides):
        return False
    unknowns = {s for e in sides for s in e.free_symbols if isinstance(s, Symbol)}
    positive = {s: Symbol(s.name, positive=True) for s in unknowns}
    return _verify(sides[0].xreplace(positive), sides[1].xreplace(positive), options)

