"""Reward components: the registry (:mod:`~reward_service.components.registry`) and the built-in entries.

A recipe names components; each is one registry entry (name, options, grade function, stage). A new
component is one module that calls :func:`register`, plus a line in :data:`BUILTIN` for a built-in one, or
its module named in ``REWARD_COMPONENT_MODULES`` for an operator's own.
"""

import importlib

from reward_service.components.registry import (
    Component,
    ComponentError,
    ComponentFailed,
    Context,
    Kind,
    Options,
    Services,
    Stage,
    find,
    get,
    kinds,
    load,
    register,
)

__all__ = ["BUILTIN", "Component", "ComponentError", "ComponentFailed", "Context", "Kind", "Options", "Services", "Stage",
           "find", "get", "kinds", "load", "register"]

BUILTIN = (
    "accuracy",      # accuracy: the task's rules, then an LLM judge where they could not read the answer
    "format",        # format, tag_count: the R1 / R1-Zero template
    "language",      # language: consistency of the chain of thought's language
    "length",        # overlong, cosine: length shaping
    "repetition",    # repetition: the n-gram repetition penalty
    "llm_judge",     # llm_judge: a rubric score from the operator's LLM judge
    "reward_model",  # reward_model: a served sequence-classification model
)
"""The built-in component modules (of this package), in the order their components are listed."""

for _module in BUILTIN:  # a built-in that fails to import is a bug: its traceback, not ComponentError's line
    importlib.import_module(f"{__name__}.{_module}")
