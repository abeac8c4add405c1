"""Instruction-following rewards: Google's IFEval instructions, checked as its reference checks them.

Google's 25 ids: one module per instruction family registers its checkers in :data:`CHECKERS` (see :mod:`.registry`);
open-instruct's IFEvalG additions in :mod:`.ifevalg`, IFBench's constraints in :mod:`.ifbench`;
:func:`parse_label` reads a data set's label (see :mod:`.labels`); :func:`grade_ifeval` grades a final
answer. Text processing (words, sentences, language) and why it is what it is: :mod:`.text`.
"""

from reward_service.grading.ifeval import (  # noqa: F401  (each registers its checkers)
    change_case,
    combination,
    detectable_content,
    detectable_format,
    ifbench,
    ifevalg,
    keywords,
    language,
    length_constraints,
    punctuation,
    startend,
    tulu,
)
from reward_service.grading.ifeval.grade import grade_ifeval
from reward_service.grading.ifeval.labels import Instruction, LabelError, parse_label
from reward_service.grading.ifeval.registry import CHECKERS, Checker

__all__ = ["CHECKERS", "Checker", "Instruction", "LabelError", "grade_ifeval", "parse_label"]
