"""The wire contract of ``/score`` and friends (pydantic v2; served in the OpenAPI schema).

Requests are strict (unknown fields are 422 with the field named) so that typos do not silently grade
with defaults. Everything here is the edge: inside the service, frozen dataclasses are used instead.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Task = Literal["math", "code", "countdown", "none"]
"""``math``: answer equivalence; ``code``: tests in the sandbox; ``countdown``: TinyZero's equation game;
``none``: format/language/length only."""

ItemId = str | int


class Status(StrEnum):
    ok = "ok"            # graded; ``reward`` is a number
    error = "error"      # the service could not grade it (sandbox down, grader crashed); reward null
    timeout = "timeout"  # a grader ran past its hard limit and was killed; reward null
    invalid = "invalid"  # the item itself cannot be graded (no/unparseable reference); reward null


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: str
    content: str


Text = str | list[ChatMessage]


class CodeLimits(BaseModel):
    """Per-item sandbox limits; unset fields take the sandbox defaults."""

    model_config = ConfigDict(extra="forbid")
    time_limit_s: float | None = Field(None, gt=0, le=60, description="Wall time per test case.")
    memory_mb: int | None = Field(None, ge=16, le=8192, description="Memory limit (cgroup) of the program.")
    float_tolerance: float | None = Field(None, ge=0, description="Compare numeric tokens with this tolerance.")
    stop_on_first_failure: bool | None = Field(None, description="Skip remaining tests after a failure.")


class ScoreItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: ItemId | None = Field(None, description="Echoed back in the result.")
    prompt: Text | None = Field(None, description="Text or chat messages; used for prefilled-<think> detection "
                                                   "and as the default target language.")
    completion: Text = Field(description="Text, or chat messages (the last assistant message is graded).")
    task: Task = "math"
    answer: str | None = Field(None, description="Reference answer for math/countdown (LaTeX or plain text).")
    tests: dict[str, Any] | list[dict[str, Any]] | None = Field(
        None, description="Code tests: {'inputs','outputs'[,'fn_name']} or [{'input','output'}, ...].")
    language: str | None = Field(None, description="Programming language of a code item, e.g. 'python', 'cpp'.")
    limits: CodeLimits | None = None
    target_language: str | None = Field(None, description="ISO 639-1 code of the language the chain of thought "
                                                          "should be written in, e.g. 'en', 'zh'.")
    completion_tokens: int | None = Field(None, ge=0, description="Length in tokens, for length shaping "
                                                                  "(characters are used when absent).")
    source: str | None = Field(None, description="Data source label, for eval summaries.")

    @field_validator("answer", mode="before")
    @classmethod
    def _answer_as_text(cls, v: Any) -> Any:
        # References often arrive as numbers in JSON; grade their text form.
        return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v


ComponentName = Literal["accuracy", "format", "tag_count", "language", "overlong", "cosine"]


class ComponentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weight: float = 1.0
    options: dict[str, Any] = Field(default_factory=dict)


class RecipeSpec(BaseModel):
    """A custom recipe: reward = sum(weight * component). Components with weight 0 are still reported."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    components: dict[ComponentName, ComponentSpec] = Field(min_length=1)


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[ScoreItem]
    recipe: Annotated[str, Field(min_length=1)] | RecipeSpec | None = Field(
        None, description="A recipe name ('r1-zero', 'r1', ...) or a custom spec; default from settings.")


class ItemResult(BaseModel):
    id: ItemId | None = None
    reward: float | None = Field(description="Weighted sum of the components; null unless status is 'ok'.")
    components: dict[str, float] = Field(default_factory=dict)
    status: Status = Status.ok
    error: str | None = Field(None, description="Why the item could not be scored (null when ok).")
    details: dict[str, Any] = Field(default_factory=dict)


class ScoreResponse(BaseModel):
    results: list[ItemResult]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    queue: str
    workers: int


class OpenRLHFRequest(BaseModel):
    """OpenRLHF's remote reward model protocol (``--remote_rm_url``)."""

    model_config = ConfigDict(extra="ignore")
    query: list[str]
    prompts: list[str] | None = None
    labels: list[str | int | float | None] | None = None

    @model_validator(mode="after")
    def _same_lengths(self) -> OpenRLHFRequest:
        for name in ("prompts", "labels"):
            other = getattr(self, name)
            if other is not None and len(other) != len(self.query):
                raise ValueError(f"{name} has {len(other)} entries but query has {len(self.query)}")
        return self


class OpenRLHFResponse(BaseModel):
    rewards: list[float]
    scores: list[float]
    extra_logs: dict[str, list[float]] = Field(default_factory=dict)
