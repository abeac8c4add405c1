"""IFBench's 58 out-of-distribution test constraints (its training ones are IFEvalG's: :mod:`..ifevalg`)."""

from reward_service.grading.ifeval.ifbench import (  # noqa: F401  (each registers its checkers)
    count,
    custom,
    format,
    ratio,
    repeat,
    sentence,
    words,
)
