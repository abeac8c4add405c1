"""The wire contract of ``/score`` and friends (pydantic v2; served in the OpenAPI schema).

Requests are strict where a mistake would silently grade with defaults: unknown fields of a request, a
recipe or limits are 422 with the field named. An item may carry the other fields its data set has
(``prompt_id``, ``level``, ``extra_info``...), so an eval file can be posted as is: they are ignored, unless
the name is so close to one of ours (``anwser``, ``test``, ``langauge``) that it is surely a typo, which is a
422 naming the field meant. The items and results travel on inside the service as these models (to the grader
processes and over the Redis queue as their JSON); what is resolved inside (recipes, grades) is frozen
dataclasses. Which component names a recipe may use is the service's registry's to say, not this contract's.
"""

from __future__ import annotations

import ast
import json
from difflib import get_close_matches
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Task = Literal["math", "code", "countdown", "ifeval", "none"]
"""``math``: answer equivalence; ``code``: tests in the sandbox; ``countdown``: TinyZero's equation game;
``ifeval``: verifiable instructions (IFEval's, the label in ``answer``);
``none``: format/language/length only."""

ItemId = str | int

MAX_NESTING = 64
"""How deep a caller's free-form JSON (``tests``, an object ``answer``, recipe options) may nest. Real test
suites need a handful of levels; deeper is refused here (a 422 naming the field), measured without
recursion, so that nothing after the edge (hashing, the surrogate check, the queue's JSON) recurses deeper."""


def nesting(value: Any, limit: int = MAX_NESTING) -> int:
    """How deep ``value``'s lists and dicts nest, counted up to ``limit + 1`` (iteratively: any input)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list | tuple):
            depth += 1
            deepest = max(deepest, depth)
            if depth > limit:
                return depth
            stack.extend((child, depth) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def _shallow(value: Any) -> Any:
    if nesting(value) > MAX_NESTING:
        raise ValueError(f"nested deeper than {MAX_NESTING} levels")
    return value


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


def completion_text(completion: str | list[ChatMessage] | list[dict[str, Any]]) -> str:
    """The text graded of a completion: a string as is, or a chat's last assistant message (an earlier turn's
    answer never counts, and turns are not glued together). The trainer and the service both use this."""
    if isinstance(completion, str):
        return completion
    for message in reversed(completion):
        if isinstance(message, dict):
            if message.get("role") == "assistant":
                return str(message.get("content") or "")
        elif message.role == "assistant":
            return message.content
    return ""


class CodeLimits(BaseModel):
    """Per-item sandbox limits; unset fields take the sandbox defaults."""

    model_config = ConfigDict(extra="forbid")
    time_limit_s: float | None = Field(None, gt=0, le=60, description="Wall time per test case.")
    memory_mb: int | None = Field(None, ge=16, le=8192, description="Memory limit (cgroup) of the program.")
    float_tolerance: float | None = Field(None, ge=0, description="Compare numeric tokens with this tolerance.")
    stop_on_first_failure: bool | None = Field(None, description="Skip remaining tests after a failure.")


class ScoreItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: ItemId | None = Field(None, description="Echoed back in the result.")
    prompt: Text | None = Field(None, description="Text or chat messages; used for prefilled-<think> detection "
                                                   "and as the default target language.")
    completion: Text = Field(description="Text, or chat messages (the last assistant message is graded).")
    task: Task = "math"
    answer: str | None = Field(None, description="Reference answer: math, LaTeX or plain text (a number is "
                                                 "taken as its text); countdown, the object {'target': 24, "
                                                 "'numbers': [3, 8, 1]} or that object as a JSON string.")
    tests: dict[str, Any] | list[dict[str, Any]] | None = Field(
        None, description="Code tests: {'inputs','outputs'[,'fn_name']}, [{'input','output'}, ...], or "
                          "assert-style test code: {'check' | 'assert': code, 'entry_point': name}.")
    language: str | None = Field(None, description="Programming language of a code item, e.g. 'python', 'cpp'.")
    limits: CodeLimits | None = None
    target_language: str | None = Field(None, description="ISO 639-1 code of the language the chain of thought "
                                                          "should be written in, e.g. 'en', 'zh'.")
    completion_tokens: int | None = Field(None, ge=0, description="Length in tokens, for length shaping "
                                                                  "(characters are used when absent).")
    source: str | None = Field(None, description="Data source label, for eval summaries.")
    test: str | None = Field(None, description="Assert-style test code as a HumanEval or MBPP row carries it, "
                             "with entry_point: the same as tests {'test': ..., 'entry_point': ...}, the row's "
                             "prompt as the problem's code when it defines the entry point (then a completion "
                             "that does not define it continues the prompt). The item is code unless task says.")
    entry_point: str | None = Field(None, description="With test: the name of the function under test.")

    @model_validator(mode="before")
    @classmethod
    def _no_typos(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in data:
                meant = _typo_of(name, tuple(cls.model_fields))
                if meant:
                    raise ValueError(f"unknown field {name!r}: did you mean {meant!r}? (other extra fields are "
                                     "ignored)")
            if isinstance(data.get("test"), dict | list):
                raise ValueError("unknown field 'test' for test cases: did you mean 'tests'? ('test' is a "
                                 "HumanEval or MBPP row's test code: a string, with 'entry_point')")
            if "test" in data and "task" not in data:  # a HumanEval / MBPP row as it is
                data = {**data, "task": "code"}
        return data

    @model_validator(mode="after")
    def _row_tests(self) -> ScoreItem:
        """A row's ``test`` + ``entry_point`` as the assert-style ``tests`` they are."""
        if self.test is None and self.entry_point is None:
            return self
        if self.test is None or self.entry_point is None:
            raise ValueError("'test' and 'entry_point' go together (a HumanEval or MBPP row's test code and "
                             "the name of the function under test)")
        if self.tests is not None:
            raise ValueError("give the tests as 'tests' or as a row's 'test' + 'entry_point', not both")
        tests: dict[str, Any] = {"test": self.test, "entry_point": self.entry_point}
        if isinstance(self.prompt, str) and defines(self.prompt, self.entry_point):
            tests["prompt"] = self.prompt  # HumanEval's: the problem's code, helpers and all
        self.tests, self.test, self.entry_point = tests, None, None  # one form from here on (it round-trips)
        return self

    @field_validator("tests", mode="before")
    @classmethod
    def _tests_shallow(cls, v: Any) -> Any:
        return _shallow(v)

    @field_validator("answer", mode="before")
    @classmethod
    def _answer_as_text(cls, v: Any) -> Any:
        # References often arrive as numbers in JSON; grade their text form. A countdown reference may come as
        # the object itself (data sets store it so): it travels as its JSON text.
        if isinstance(v, dict | list):  # an ifeval label may be open-instruct's list
            return json.dumps(_shallow(v))
        return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v


def defines(code: str, name: str) -> bool:
    """Whether Python ``code`` parses and defines the function ``name`` at its top level."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return any(isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name for node in tree.body)


_DATASET_FIELDS = frozenset({"idx", "ids", "task_id"})  # close to ours, yet what data sets really call things


def _typo_of(name: Any, fields: tuple[str, ...]) -> str | None:
    """The field ``name`` surely meant, when it is not one of ours but nearly is (``prompt_id`` is not a typo
    of ``prompt``: a name that extends one of ours with ``_`` is a field of its own)."""
    if not isinstance(name, str) or name in fields or name in _DATASET_FIELDS:
        return None
    close = get_close_matches(name, fields, n=1, cutoff=0.8)
    if not close or name.startswith(close[0] + "_"):
        return None
    return close[0]


class ComponentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weight: float = 1.0
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("options", mode="before")
    @classmethod
    def _options_shallow(cls, v: Any) -> Any:
        return _shallow(v)


class RecipeSpec(BaseModel):
    """A custom recipe: reward = sum(weight * component). Components with weight 0 are still reported."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    components: dict[str, ComponentSpec] = Field(min_length=1, description="Component name -> spec: a component "
                                                 "the service registers (the README lists the built-in ones; an "
                                                 "unknown name is a 422 listing them); a labelled one such as "
                                                 "reward_model also as 'reward_model.<label>', to use several.")


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
    """OpenRLHF's remote reward model protocol (``--reward.remote_url``; before 0.10 ``--remote_rm_url``)."""

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


# -- the sandbox as a tool (issue 18): what a policy reads back ---------------------------------------------

def tool_output_text(result: dict[str, Any], max_chars: int = 4000) -> str:
    """A session run's answer (``POST /sessions/{id}/run``) as the text a policy reads after its tool call:
    stdout, the last expression's value, then the error, as a REPL shows them; a cut says so. The trainer's
    TRL tool and the verl tool both use this."""
    parts = [result.get("stdout") or ""]
    parts += [d["text/plain"] for d in result.get("display") or [] if "text/plain" in d]
    if result.get("status") == "TimeLimitExceeded":
        parts.append(f"TimeoutError: the code ran past {result.get('execution_time', 0):.0f} s and was stopped")
    elif result.get("error"):  # the traceback (stderr) ends with it, as a REPL shows it; else said here
        stderr, error = result.get("stderr") or "", str(result["error"])
        parts += [stderr] if error in stderr else [stderr, error]
    text = "\n".join(p.rstrip("\n") for p in parts if p.strip()).strip()
    if len(text) > max_chars:
        text = text[:max_chars] + f"\n[output cut: {len(text) - max_chars} more characters]"
    if result.get("truncated"):
        text += "\n[the sandbox cut the output at its bound]"
    return text or "(no output)"
