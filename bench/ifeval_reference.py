"""The reference checkers (Google's IFEval as lm-eval ships it, open-instruct's IFEvalG, IFBench), loaded for
the agreement bench from a test-only environment, never by the service.

Set up (README of bench/): a venv with the project's packages plus ``pip install --no-deps lm-eval absl-py
immutabledict emoji syllapy``; open-instruct and IFBench are git checkouts given by path. NLTK's trained
``punkt`` data cannot be downloaded here, so the references' sentence splitter is replaced by ours
(:func:`reward_service.grading.ifeval.text.sentences`), its stop words are our copy of NLTK's English list,
and ``nltk.download`` is a no-op: the agreement measured is that of the checkers, not of the sentence splitter
(see bench/README.md).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

import nltk

from reward_service.grading.ifeval.text import sentences

__all__ = ["load_registry"]


class _Splitter:
    def tokenize(self, text: str) -> list[str]:
        return sentences(text)


def _no_punkt() -> None:
    nltk.download = lambda *a, **k: True  # type: ignore[assignment]
    nltk.tokenize.sent_tokenize = lambda text, language="english": sentences(text)  # type: ignore[assignment]
    nltk.sent_tokenize = nltk.tokenize.sent_tokenize  # type: ignore[assignment]
    real_load = nltk.data.load

    def load(resource: str, *args: Any, **kwargs: Any) -> Any:
        if "punkt" in str(resource):
            return _Splitter()
        return real_load(resource, *args, **kwargs)
    nltk.data.load = load  # type: ignore[assignment]
    from reward_service.grading.ifeval.ifbench.ratio import STOPWORDS
    nltk.corpus.stopwords = types.SimpleNamespace(words=lambda language="english": sorted(STOPWORDS))


def _stub_package(name: str, path: Path) -> None:
    module = types.ModuleType(name)
    module.__path__ = [str(path)]
    sys.modules[name] = module


def load_registry(reference: str, path: str | None = None) -> dict[str, Any]:
    """``INSTRUCTION_DICT`` of ``reference`` (``ifeval``: lm-eval's installed copy; ``ifevalg``: an
    open-instruct checkout at ``path``; ``ifbench``: an IFBench checkout at ``path``)."""
    _no_punkt()
    if reference == "ifeval":
        spec = importlib.util.find_spec("lm_eval")
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("lm-eval is not installed: pip install --no-deps lm-eval (see bench/README.md)")
        root = Path(list(spec.submodule_search_locations)[0])
        _stub_package("lm_eval", root)
        _stub_package("lm_eval.tasks", root / "tasks")
        name = "lm_eval.tasks.ifeval.instructions_registry"
    elif reference == "ifevalg":
        if not path:
            raise SystemExit("--ref-path: an open-instruct checkout")
        _stub_package("open_instruct", Path(path) / "open_instruct")
        name = "open_instruct.IFEvalG.instructions_registry"
    elif reference == "ifbench":
        if not path:
            raise SystemExit("--ref-path: an IFBench checkout")
        _stub_package("ifbench", Path(path) / "ifbench")
        name = "ifbench.instructions_registry"
    else:
        raise SystemExit(f"unknown reference {reference!r}")
    return dict(importlib.import_module(name).INSTRUCTION_DICT)
