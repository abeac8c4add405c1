"""LLM judges over an OpenAI-compatible chat-completions endpoint (vLLM's or SGLang's server, or a provider).

Two uses, both applied by the engine after the rule-based graders (in the service's event loop, not in a
grader process: a judge is I/O, and its concurrency limit must hold for the whole process):

* ``accuracy`` with ``judge_fallback``: a math item whose answer the rules could not read ("no answer
  found", "unparseable answer") or whose reference they could not parse is asked of the judge with the
  ``math_equivalence`` prompt (a strict yes/no). Never to overturn a rule verdict: a rule 0 or 1 stands, and
  so does a deliberate 0 (an answer too large to evaluate). ``details.accuracy.decided_by`` says which.
* the ``llm_judge`` component: the ``rubric`` prompt scores the answer (or the whole completion) from 0 to
  10, normalised to [0, 1].

A reply is parsed against a strict form; one that does not parse is asked once more, then the item's reward
is null with the reason (so is a judge that is down or too slow, after ``retries`` with backoff); the rest
of the batch is graded. Answers are cached by (endpoint, model, messages): GRPO groups repeat answers.
"""

from __future__ import annotations

import asyncio
import os
import re
from typing import Any

import httpx

from reward_service.cache import LRUCache, content_key

MATH_EQUIVALENCE = (
    "You compare a student's final answer with the reference answer of a math problem. Reply with exactly one "
    "word: yes if they are mathematically equivalent (same value, set or expression, however written), no "
    "otherwise.\n\nProblem:\n{question}\n\nReference answer:\n{reference}\n\nStudent's final answer:\n{answer}")
RUBRIC = (
    "Score the response to the request below from 0 (useless or harmful) to 10 (excellent).{criteria}\nReply "
    'with only a JSON object: {{"score": <integer 0-10>}}.\n\nRequest:\n{question}\n\nResponse:\n{answer}')
_YES_NO = re.compile(r"^\W*(yes|no)\W*$", re.IGNORECASE)
_SCORE = re.compile(r'^\s*\{\s*"score"\s*:\s*(10|[0-9])\s*\}\s*$')


class JudgeFailed(Exception):
    """No usable verdict (down, too slow, or replies that do not parse); the item's reward becomes null."""


def parse_yes_no(reply: str) -> float:
    match = _YES_NO.match(reply)
    if not match:
        raise ValueError(f"not yes or no: {reply[:80]!r}")
    return 1.0 if match.group(1).lower() == "yes" else 0.0


def parse_score(reply: str) -> float:
    match = _SCORE.match(reply)
    if not match:
        raise ValueError(f'not {{"score": 0-10}}: {reply[:80]!r}')
    return int(match.group(1)) / 10


class Judges:
    """HTTP clients, per-endpoint concurrency limits and the answer cache of one process."""

    def __init__(self, cache_bytes: int = 16 << 20) -> None:
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._asking: dict[str, asyncio.Task[float]] = {}  # identical questions in flight are asked once
        self.cache = LRUCache(cache_bytes)

    def _client(self, endpoint: Any) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        base = endpoint.base_url.rstrip("/")
        if base not in self._clients:
            self._clients[base] = httpx.AsyncClient(base_url=base, timeout=endpoint.timeout_s)
            self._limits[base] = asyncio.Semaphore(endpoint.max_concurrency)
        return self._clients[base], self._limits[base]

    async def ask(self, endpoint: Any, prompt: str, parse: Any) -> float:
        """The parsed verdict for ``prompt``; raises :class:`JudgeFailed` with the reason."""
        messages = [{"role": "user", "content": prompt}]
        key = content_key(endpoint.base_url, endpoint.model, messages)
        known = self.cache.get(key)
        if known is not None:
            return float(known)
        task = self._asking.get(key)
        if task is None:  # a task of its own: one waiter's cancel must not cancel the others' question
            task = self._asking[key] = asyncio.create_task(self._ask(endpoint, messages, parse, key))
            task.add_done_callback(lambda _: self._asking.pop(key, None))
        return await asyncio.shield(task)

    async def _ask(self, endpoint: Any, messages: list[dict[str, str]], parse: Any, key: str) -> float:
        bad_reply = None
        for _ in range(2):  # a reply that does not parse is asked once more
            reply = await self._complete(endpoint, messages)
            try:
                value = parse(reply)
            except ValueError as exc:
                bad_reply = str(exc)
                continue
            self.cache.put(key, value)
            return value
        raise JudgeFailed(f"the judge's replies did not parse: {bad_reply}")

    async def _complete(self, endpoint: Any, messages: list[dict[str, str]]) -> str:
        client, limit = self._client(endpoint)
        key = os.environ.get(endpoint.api_key_env, "") if endpoint.api_key_env else ""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        body = {"model": endpoint.model, "messages": messages, "temperature": 0.0, "max_tokens": endpoint.max_tokens}
        delay, last = 0.5, "no attempt"
        for attempt in range(endpoint.retries + 1):
            if attempt:
                await asyncio.sleep(delay)
                delay *= 2
            try:
                async with limit:
                    response = await client.post("/chat/completions", json=body, headers=headers)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"[:200]
                continue
            if response.status_code == 429 or response.status_code >= 500:
                last = f"HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                raise JudgeFailed(f"the judge answered HTTP {response.status_code}: {response.text[:200]}")
            try:
                return str(response.json()["choices"][0]["message"]["content"])
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise JudgeFailed(f"not a chat-completions answer ({type(exc).__name__})") from None
        raise JudgeFailed(f"judge at {endpoint.base_url} unreachable after {endpoint.retries + 1} attempts ({last})")

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


# -- applying them to a graded item -----------------------------------------------------------------------

_UNDECIDED = ("no answer found", "unparseable answer")  # the rules could not read the answer (exactly these)


def wanted(recipe: Any) -> bool:
    """Whether ``recipe`` asks any judge (the engine skips everything here otherwise)."""
    acc = recipe.get("accuracy")
    return any(c.kind == "llm_judge" for c in recipe.components) or bool(acc and acc.options.judge_fallback)


def _undecided(result: Any) -> bool:
    """The rules found no answer they could read, or could not read the reference (never a rule 0 or 1)."""
    if result.status == "ok":
        return (result.details.get("accuracy") or {}).get("reason") in _UNDECIDED
    error = result.error or ""
    return error.startswith(("accuracy: unparseable reference", "accuracy: comparison failed"))


async def apply(judges: Judges, item: Any, recipe: Any, result: Any) -> Any:
    """``result`` with the judges' verdicts in: the accuracy fallback where the rules were undecided, the
    ``llm_judge`` component's score; the reward recomputed. A judge that fails makes the reward null."""
    from reward_service.grading import extract
    from reward_service.schemas import Status
    from reward_service.scoring import combine
    text = extract.completion_text(item.completion)
    split = extract.split_completion(text, extract.prompt_prefills_think(item.prompt))
    question = extract.prompt_text(item.prompt) or "(not given)"
    components, details = dict(result.components), dict(result.details)
    status, error = result.status, result.error
    try:
        acc = recipe.get("accuracy")
        if acc and acc.options.judge_fallback and item.task == "math":
            said = dict(details.get("accuracy") or {})
            if _undecided(result) and split.region:
                prompt = MATH_EQUIVALENCE.format(question=question, reference=item.answer or "", answer=split.region)
                components["accuracy"] = await judges.ask(acc.options.judge_fallback, prompt, parse_yes_no)
                said.update(decided_by="judge", rules_said=said.pop("reason", None) or error)
                if (error or "").startswith("accuracy:"):
                    status, error = Status.ok, None
            else:
                said["decided_by"] = "rules"
            details["accuracy"] = said
        for judge in (c for c in recipe.components if c.kind == "llm_judge"):
            options = judge.options
            answer = text if options.scope == "full" else (split.region or "")
            criteria = f" Criteria: {options.criteria}" if options.criteria else ""
            prompt = RUBRIC.format(question=question, answer=answer or "(empty)", criteria=criteria)
            components[judge.name] = await judges.ask(options, prompt, parse_score)
            details[judge.name] = {"scope": options.scope, "decided_by": "judge"}
    except JudgeFailed as exc:
        return combine(recipe, result, components, details, Status.error, f"judge: {exc}")
    return combine(recipe, result, components, details, status, error)
