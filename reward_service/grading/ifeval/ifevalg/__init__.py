"""open-instruct's IFEvalG: the 29 instructions it adds to Google's 25 (its training constraints).

Checked as open-instruct's ``IFEvalG/instructions.py`` checks them, except where it would draw a kwarg at
random (a kwarg that is unset or 0): there every kwarg is required and such a label is invalid. Its sentence
splitter is Google's rule-based one (:mod:`.sentences`), not punkt. Its versions of Google's 25 ids behave
as Google's (only refactors), so they are not registered twice.
"""

from reward_service.grading.ifeval.ifevalg import (  # noqa: F401  (each registers its checkers)
    copying,
    counting,
    format,
    keywords,
    positions,
)
