"""Reward recipes: which components count, with what weight, and their options.

A recipe is resolved once per request into a frozen :class:`Recipe` whose ``key`` (canonical JSON) is part
of every cache key. Option errors are caught here, so a bad spec is a 422 naming the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reward_service.errors import UnknownRecipe
from reward_service.schemas import ComponentSpec, RecipeSpec


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class JudgeEndpoint(_Options):
    """An LLM judge the operator declares (``REWARD_JUDGES``: name -> this): an OpenAI-compatible
    chat-completions endpoint (vLLM, SGLang, a provider). Never a recipe's: a caller names one."""

    base_url: str = Field(description="e.g. http://127.0.0.1:8001/v1 (the path before /chat/completions).")
    model: str = Field(min_length=1)
    api_key_env: str | None = Field(None, description="Environment variable holding the key (never the key).")
    timeout_s: float = Field(30.0, gt=0, le=600)
    retries: int = Field(2, ge=0, le=10, description="Retries of a failed or 5xx/429 call, with backoff.")
    max_concurrency: int = Field(8, ge=1, le=1024, description="Calls in flight to this judge, per process, "
                                                               "for every caller together.")
    max_tokens: int = Field(16, ge=1, le=4096)
    max_answer_chars: int = Field(8000, ge=16, le=1_000_000, description="The longest answer the judge is asked "
                                  "about (a longer one earns 0 unasked); question and reference are cut to it.")

    @model_validator(mode="after")
    def _http(self) -> JudgeEndpoint:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return self


OPERATOR_FIELDS = frozenset(JudgeEndpoint.model_fields)  # what only REWARD_JUDGES may say about a judge


class JudgeChoice(_Options):
    """A recipe's judge: the name of one the operator declared, so no request chooses a URL, key or limit."""

    judge: str = Field(min_length=1, max_length=64, description="A judge declared in REWARD_JUDGES.")

    @model_validator(mode="before")
    @classmethod
    def _a_name_only(cls, data: Any) -> Any:
        chosen = sorted(OPERATOR_FIELDS & data.keys()) if isinstance(data, dict) else []
        if chosen:
            raise ValueError(f"{', '.join(chosen)}: judges are declared by the operator in REWARD_JUDGES; "
                             'a recipe names one: {"judge": "<name>"}')
        return data


class AccuracyOptions(_Options):
    partial: bool = Field(False, description="Code: reward the passed fraction instead of all-or-nothing.")
    float_rounding: int = Field(6, ge=0, le=15, description="Math: decimals kept when an answer is a float.")
    strict: bool = Field(True, description="Math: variable names matter (x+1 is not y+1).")
    judge_fallback: JudgeChoice | None = Field(None, description="Math: ask this LLM judge only where the rules "
                                               "found no answer they could read or could not read the reference.")


class LlmJudgeOptions(JudgeChoice):
    scope: Literal["answer", "full"] = Field("answer", description="answer: the final answer only; full: all of it.")
    criteria: str | None = Field(None, max_length=2000, description="Appended to the rubric prompt.")


class FormatOptions(_Options):
    mode: Literal["r1_zero", "r1"] = Field("r1_zero", description="r1_zero: <think>…</think> <answer>…</answer>; "
                                                                  "r1: <think>…</think> then the answer.")
    prefilled_think: bool | None = Field(None, description="The prompt opened <think>; None = detect from prompt.")


class LanguageOptions(_Options):
    default_target: str | None = Field(None, description="Target when the item has no target_language; "
                                                         "None = the prompt's language, else 'en'.")


class OverlongOptions(_Options):
    max_length: int = Field(gt=0, description="DAPO L_max (tokens when items carry completion_tokens).")
    cache_length: int = Field(ge=0, description="DAPO L_cache: the soft-punishment ramp before L_max.")

    @model_validator(mode="after")
    def _ramp_fits(self) -> OverlongOptions:
        if self.cache_length > self.max_length:
            raise ValueError("cache_length must be <= max_length")
        return self


class CosineOptions(_Options):
    max_length: int = Field(gt=0)
    min_correct: float = 0.5
    max_correct: float = 1.0
    min_wrong: float = -1.0
    max_wrong: float = -0.5


class RepetitionOptions(_Options):
    ngram: int = Field(3, ge=1, le=20, description="n-gram size (open-r1's default: 3).")
    max_penalty: float = Field(-1.0, le=0, description="The penalty when every n-gram repeats (<= 0).")
    scope: Literal["completion", "reasoning"] = Field("completion", description="completion: everything the model "
                                                       "wrote (open-r1); reasoning: the chain of thought only.")


class RewardModelOptions(_Options):
    model: str = Field(min_length=1, description="Hub name or local path; the service must serve it "
                                                 "(REWARD_REWARD_MODELS / --models).")
    scope: Literal["answer", "full"] = Field("answer", description="answer: after </think> (R1's helpfulness); "
                                                                   "full: everything (R1's harmlessness).")
    normalize: Literal["raw", "sigmoid", "zscore"] = "raw"
    mean: float = Field(0.0, description="zscore: (raw - mean) / std.")
    std: float = Field(1.0, gt=0)
    max_length: int = Field(4096, ge=8, le=131072, description="Tokens; longer texts keep their end.")
    max_batch_tokens: int = Field(16384, ge=64, description="Padded tokens per forward pass.")


OPTION_MODELS: dict[str, type[_Options]] = {
    "accuracy": AccuracyOptions,
    "format": FormatOptions,
    "tag_count": FormatOptions,
    "language": LanguageOptions,
    "overlong": OverlongOptions,
    "cosine": CosineOptions,
    "repetition": RepetitionOptions,
    "llm_judge": LlmJudgeOptions,
    "reward_model": RewardModelOptions,
}


@dataclass(frozen=True)
class Component:
    name: str
    weight: float
    options: Any  # one of the _Options models (frozen)

    @property
    def kind(self) -> str:
        """``reward_model`` for ``reward_model.helpful``: what grades it."""
        return self.name.partition(".")[0]


@dataclass(frozen=True)
class Recipe:
    name: str
    components: tuple[Component, ...]

    @property
    def key(self) -> str:
        return json.dumps(self.to_spec(), sort_keys=True, separators=(",", ":"))

    def get(self, name: str) -> Component | None:
        return next((c for c in self.components if c.name == name), None)

    def to_spec(self) -> dict[str, Any]:
        return {"name": self.name, "components": {
            c.name: {"weight": c.weight, "options": c.options.model_dump()} for c in self.components}}


BUILTIN: dict[str, RecipeSpec] = {
    # DeepSeek-R1-Zero: rule-based accuracy + the R1-Zero template.
    "r1-zero": RecipeSpec(name="r1-zero", components={
        "accuracy": ComponentSpec(weight=1.0), "format": ComponentSpec(weight=1.0, options={"mode": "r1_zero"})}),
    # DeepSeek-R1: accuracy + format + language consistency of the chain of thought, summed.
    "r1": RecipeSpec(name="r1", components={
        "accuracy": ComponentSpec(weight=1.0), "format": ComponentSpec(weight=1.0, options={"mode": "r1"}),
        "language": ComponentSpec(weight=1.0)}),
    # Evals and rejection sampling: correctness alone.
    "accuracy": RecipeSpec(name="accuracy", components={"accuracy": ComponentSpec(weight=1.0)}),
    # open-r1 style partial-credit format shaping.
    "r1-zero-tag-count": RecipeSpec(name="r1-zero-tag-count", components={
        "accuracy": ComponentSpec(weight=1.0), "tag_count": ComponentSpec(weight=1.0, options={"mode": "r1_zero"})}),
}


def resolve(recipe: str | RecipeSpec | dict | None, default: str) -> Recipe:
    """A request's recipe (name, spec or None) as a :class:`Recipe`; raises :class:`UnknownRecipe`."""
    if recipe is None:
        recipe = default
    if isinstance(recipe, str):
        if recipe not in BUILTIN:
            raise UnknownRecipe(f"unknown recipe {recipe!r}; known: {', '.join(sorted(BUILTIN))}")
        spec = BUILTIN[recipe]
    elif isinstance(recipe, dict):
        try:
            spec = RecipeSpec.model_validate(recipe)
        except ValidationError as exc:
            raise UnknownRecipe(str(exc)) from exc
    else:
        spec = recipe
    components = []
    for name, comp in spec.components.items():
        try:
            options = OPTION_MODELS[name.partition(".")[0]].model_validate(comp.options)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            field = f"recipe.components.{name}.options" + (f".{where}" if where else "")
            raise UnknownRecipe(f"{field}: {first['msg']}", field=field) from exc
        components.append(Component(name, comp.weight, options))
    return Recipe(spec.name or "custom", tuple(components))
