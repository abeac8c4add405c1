"""Run configuration: one YAML file with our sections beside the TRL config's fields.

.. code-block:: yaml

    model: Qwen/Qwen2.5-0.5B         # required: a path or hub name; "tiny" builds a tiny random model (demos)
    output_dir: runs/r1-zero          # TRL's output_dir; metrics.jsonl and curves.png go here too
    service: {url: http://127.0.0.1:8000, recipe: r1-zero}
    data: {source: countdown.jsonl, template: r1_zero}
    lora: {r: 16, alpha: 32}          # optional: train LoRA adapters through peft
    sample: {k: 8, require: [accuracy, format]}   # rejection sampling (``sample``)
    tools: {timeout_s: 10}            # optional: grpo's policy calls a python tool (sandbox sessions)
    training:                         # any GRPOConfig (grpo) or SFTConfig (sft) field, passed as is
      num_generations: 8
      bf16: true                      # GPU switches are TRL's own fields: bf16, use_vllm, vllm_mode, ...

Unknown keys fail at load time, naming the key; ``training`` is checked by TRL's dataclass itself.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from trainer.templates import PromptTemplate


@dataclass(frozen=True)
class ServiceConfig:
    url: str = "http://127.0.0.1:8000"       # the reward service
    api_key: str | None = None                # bearer key; default: $REWARD_API_KEY
    recipe: str | dict[str, Any] = "r1-zero"  # a recipe name or a custom {"components": {...}} spec
    timeout_s: float = 120.0                  # per HTTP request (each retry gets its own)
    retries: int = 3                          # connect errors, 429 and 5xx are retried with backoff
    backoff_s: float = 0.5                    # first retry wait; doubles each time
    max_batch: int = 512                      # items per HTTP request (larger steps are split)

    def resolved_api_key(self) -> str | None:
        return self.api_key or os.environ.get("REWARD_API_KEY") or None


@dataclass(frozen=True)
class DataConfig:
    source: str = ""                          # .jsonl/.json/.parquet file, or a Hugging Face dataset name
    split: str = "train"
    subset: str | None = None                 # the hub dataset's config name
    limit: int | None = None                  # first N rows only
    shuffle_seed: int | None = None           # shuffle before `limit`
    prompt_column: str = "prompt"             # text, or chat messages
    task: str = "math"                        # math | code | countdown | none (for every row) ...
    task_column: str | None = "task"          # ... unless this column exists and says otherwise
    answer_column: str = "answer"             # reference columns (used when present)
    tests_column: str = "tests"
    language_column: str = "language"
    target_language_column: str = "target_language"
    template: str = "r1_zero"                 # r1_zero | chat | raw (see trainer.templates)
    system_prompt: str | None = None
    prefill_think: bool = False
    chat_template_kwargs: dict[str, Any] = field(default_factory=dict)

    def prompt_template(self) -> PromptTemplate:
        return PromptTemplate(self.template, self.system_prompt, self.prefill_think,  # type: ignore[arg-type]
                              dict(self.chat_template_kwargs))


@dataclass(frozen=True)
class LoraConfig:
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"

    def to_peft(self) -> Any:
        from peft import LoraConfig as PeftLora
        return PeftLora(r=self.r, lora_alpha=self.alpha, lora_dropout=self.dropout,
                        target_modules=self.target_modules, task_type="CAUSAL_LM")


@dataclass(frozen=True)
class SampleConfig:
    """``sample`` (rejection sampling): k completions per prompt, kept when every ``require``d component
    the service reports is 1.0."""

    k: int = 4                                # completions per prompt
    max_new_tokens: int = 1024
    temperature: float = 0.7
    top_p: float = 1.0
    batch_prompts: int = 8                    # prompts per generate() call (and per scoring request)
    require: list[str] = field(default_factory=lambda: ["accuracy", "format"])
    max_per_prompt: int | None = None         # keep at most this many accepted completions per prompt
    out: str | None = None                    # default: RUN_DIR/accepted.jsonl
    seed: int = 0


@dataclass(frozen=True)
class ToolsConfig:
    """``grpo`` with tools (issue 18): the ``python`` tool, a sandbox session of the service per rollout
    (:mod:`trainer.tools`). Any section turns it on, ``tools: {}`` with the defaults."""

    timeout_s: float = 10.0                   # per call; past it the call ends TimeoutError, the session goes on
    max_output_chars: int = 2000              # of a call's result the policy reads; the rest is cut, and said
    open_ahead: bool = True                   # open a rollout's session at its start, in the background
    session: dict[str, Any] = field(default_factory=dict)  # POST /sessions fields: ttl_s, limits, files


@dataclass(frozen=True)
class RunConfig:
    model: str                                # required: a run that names none must not train anything
    output_dir: str = "runs/run"
    service: ServiceConfig = field(default_factory=ServiceConfig)
    data: DataConfig = field(default_factory=DataConfig)
    lora: LoraConfig | None = None
    sample: SampleConfig = field(default_factory=SampleConfig)
    training: dict[str, Any] = field(default_factory=dict)
    tiny: dict[str, Any] = field(default_factory=dict)  # build_model kwargs when model is "tiny"
    tools: ToolsConfig | None = None          # grpo: tools the policy calls during its rollouts

    @property
    def run_dir(self) -> Path:
        return Path(self.output_dir)


# Our defaults under the user's ``training`` section (theirs win).
TRAINING_DEFAULTS: dict[str, Any] = {"logging_steps": 1, "report_to": "none", "save_strategy": "no"}


def training_fields(cfg: RunConfig, config_cls: type | None = None) -> dict[str, Any]:
    """Keyword arguments of TRL's ``GRPOConfig``/``SFTConfig``: ours, then the user's ``training`` section,
    checked against ``config_cls`` when given (see :func:`check_training`).

    TRL turns ``bf16`` on by default; without a GPU that only costs precision (tiny models do not learn
    under CPU bf16 autocast), so it is off there unless the config says otherwise."""
    import torch
    if config_cls is not None:
        check_training(cfg.training, config_cls)
    device = {} if torch.cuda.is_available() else {"bf16": False}
    return {"output_dir": cfg.output_dir, **TRAINING_DEFAULTS, **device, **cfg.training}


def check_training(training: dict[str, Any], config_cls: type) -> None:
    """Fail at load time, naming the key, where TRL would fail at step 0 with a ``TypeError``: an unknown
    field (with the closest valid name) or a value of the wrong simple type (``max_steps: abc``)."""
    import difflib
    import typing
    hints = typing.get_type_hints(config_cls)
    names = [f.name for f in dataclasses.fields(config_cls) if f.init]
    for key, value in training.items():
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise ValueError(f"training.{key} is not a {config_cls.__name__} field{hint}")
        if _fits(value, hints.get(key)) is False:
            raise ValueError(f"training.{key} must be {_describe(hints[key])}, got {value!r}")


_SIMPLE: dict[Any, Any] = {
    int: lambda v: isinstance(v, int) and not isinstance(v, bool),
    float: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    bool: lambda v: isinstance(v, bool),
    str: lambda v: isinstance(v, str),
    type(None): lambda v: v is None,
}


def _parts(annotation: Any) -> tuple[Any, ...]:
    import types
    import typing
    union = isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union
    return typing.get_args(annotation) if union else (annotation,)


def _fits(value: Any, annotation: Any) -> bool | None:
    """Whether ``value`` fits a field annotated with simple types (``int``, ``float | None`` …); None for
    richer annotations (enums, lists, dicts), which TRL checks itself."""
    parts = _parts(annotation)
    if not all(p in _SIMPLE for p in parts):
        return None
    return any(_SIMPLE[p](value) for p in parts)


def _describe(annotation: Any) -> str:
    return " or ".join("null" if p is type(None) else p.__name__ for p in _parts(annotation))


_SECTIONS = {"service": ServiceConfig, "data": DataConfig, "lora": LoraConfig, "sample": SampleConfig,
             "tools": ToolsConfig}


def _build(cls: type, values: dict[str, Any], where: str) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"unknown key(s) in {where}: {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    return cls(**values)


def from_dict(raw: dict[str, Any]) -> RunConfig:
    """A :class:`RunConfig` from parsed YAML (strict: unknown keys raise ``ValueError``)."""
    values = dict(raw)
    for name, cls in _SECTIONS.items():
        if values.get(name) is not None:
            values[name] = _build(cls, dict(values[name]), name)
    config = _build(RunConfig, {"model": None, **values}, "the config")
    if config.model is None or not str(config.model).strip():
        raise ValueError("the config names no model: add `model: <hub name or local path>` (or `model: tiny`, "
                         "a tiny random model for CPU demos), or pass --set model=...")
    if not isinstance(config.model, str):
        raise ValueError(f"model must be a hub name or a local path, got {config.model!r}")
    return config


def set_dotted(raw: dict[str, Any], assignment: str) -> None:
    """Apply a command-line override ``a.b.c=value`` (the value parsed as YAML) to ``raw`` in place."""
    key, sep, value = assignment.partition("=")
    if not sep:
        raise ValueError(f"override {assignment!r} is not key=value")
    *parents, last = key.strip().split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = yaml.safe_load(value)


def load_config(path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> RunConfig:
    raw: dict[str, Any] = {}
    if path is not None:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: the config must be a mapping")
    for assignment in overrides:
        set_dotted(raw, assignment)
    return from_dict(raw)
