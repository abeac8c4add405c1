"""Which task grades a verl ``data_source``: verl 0.9.1's ``default_compute_score`` table, and names it lacks.

verl routes by exact name (``verl/utils/reward_score/__init__.py``): its math sources to its math scorers,
``codecontests``/``apps``/``codeforces``/``taco`` to its code sandbox (``prime_code`` or sandbox fusion),
``hiyouga/geometry3k`` to a boxed-answer check, ``searchR1_*`` to question-answering exact match, and raises
for any other name. Here the same names go to ``math`` and ``code`` (geometry3k's answer is math), plus the
code and math sets verl leaves out (TACO-verified, PrimeIntellect, LiveCodeBench, DeepScaleR...), and the
instruction-following sets to ``ifeval`` (any name with ``ifeval``, ``ifbench`` or ``if_multi_constraints``:
Google's IFEval, allenai/RLVR-IFeval, IFBench, IF_multi_constraints_upto5). A name
neither here nor in ``extra_info["task"]`` nor ``REWARD_SERVICE_TASK`` is refused with the reason: grading
an unknown set as math would give a right program 0.
"""

from __future__ import annotations

import os

from reward_service.adapters.common import TASKS

# verl 0.9.1's names (compared lower-case), then others of the same kind.
_MATH = frozenset(s.lower() for s in (
    "openai/gsm8k", "lighteval/MATH", "DigitalLearningGmbH/MATH-lighteval", "HuggingFaceH4/MATH-500",
    "math_dapo", "math", "math_dapo_reasoning", "hiyouga/geometry3k",
    "gsm8k", "math500", "math-500", "amc", "amc23", "minerva", "olympiadbench", "olympiad_bench",
    "deepscaler", "agentica-org/DeepScaleR-Preview-Dataset", "BytedTsinghua-SIA/DAPO-Math-17k",
))
_MATH_PREFIXES = ("aime", "numina_")  # verl: startswith("aime"); its six numina_* sources
_CODE = frozenset(s.lower() for s in (
    "codecontests", "apps", "codeforces", "taco",
    "likaixin/TACO-verified", "primeintellect", "livecodebench", "lcbv5", "deepmind/code_contests",
    "codeparrot/apps", "BAAI/TACO", "open-r1/codeforces", "humaneval", "mbpp", "kodcode",
))
_IFEVAL_MARKS = ("ifeval", "ifbench", "if_multi_constraints")
_NOT_GRADED = {"searchr1_": "verl grades it by question-answering exact match (search_r1_like_qa_em), "
                            "which this service does not do"}


def _by_name(source: str) -> str | None:
    name = source.lower()
    if name in _MATH or name.startswith(_MATH_PREFIXES):
        return "math"
    if name in _CODE or "code" in name:
        return "code"
    if "countdown" in name:
        return "countdown"
    if any(mark in name for mark in _IFEVAL_MARKS):
        return "ifeval"
    return None


def route(source: str, task: object = None) -> tuple[str | None, str | None]:
    """(the task for ``source``, None) or (None, why it has none); ``task`` (``extra_info["task"]``) wins."""
    if task:
        if task not in TASKS:
            return None, f"extra_info['task'] is {task!r}; one of {', '.join(TASKS)}"
        return str(task), None
    found = _by_name(source)
    if found:
        return found, None
    for prefix, why in _NOT_GRADED.items():
        if source.lower().startswith(prefix):
            return None, f"data_source {source!r}: {why}"
    fallback = os.environ.get("REWARD_SERVICE_TASK")
    if fallback:
        return (fallback, None) if fallback in TASKS else (None, f"REWARD_SERVICE_TASK is {fallback!r}; one of "
                                                                 f"{', '.join(TASKS)}")
    return None, (f"data_source {source!r} is not one this adapter routes (verl's math and code sets, "
                  "countdown, instruction following); set extra_info['task'] (math, code, countdown, ifeval) "
                  "in the data, or REWARD_SERVICE_TASK for the sources it does not name")
