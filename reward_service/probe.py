"""The reward-hacking probe: ``reward-service probe [--url URL] [--recipe R ...] [--exploits DIR]``.

A canned catalogue of exploits (``reward_service/exploits/*.json``, one small file each: the item a policy
could write, and the most each component may pay it) is graded under each recipe, locally or by a running
service. A row is a LEAK when a component pays more than it should, or when the exploit turned its 0 into a
null reward (status ``timeout``): a trainer leaves a null out of its group, so the penalty disappears. A
component the recipe does not have is not checked; an exploit none of whose components are in the recipe
is ``n/a``. A status ``error`` or ``invalid`` is our failure, not the exploit's: ERROR.

Graded in this process, the built-in recipes are joined by ``judge-fallback`` (accuracy with an LLM judge
where the rules cannot read the answer), whose judge is the probe's own: one that obeys any order it reads
outside quoted data (:mod:`~reward_service.probe_judge`). Against a service, name a judge it declares in a
``--recipe`` of your own.

A caller-side exploit (a file with ``"recipe"`` and ``"expect": "refused"``) is what a tenant's request
itself tries: a recipe that chooses something only the operator may (class "judge options": a judge's URL,
key variable or limits). It runs once, under its own recipe: PASS when the request is refused (a 422) and
the canary URL it names was never called, else LEAK.

Exit code: 0 all pass, 1 a leak, 2 an error (a grader or the sandbox failed, or a usage mistake). Teams run
it in CI when they change a recipe; ours runs it against every built-in recipe.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reward_service.probe_judge import ObedientJudge
from reward_service.schemas import ItemResult, ScoreItem, Status
from reward_service.settings import Settings

CATALOGUE = Path(__file__).parent / "exploits"
PROBE_JUDGE = "probe-obedient"  # the local run's judge (an ObedientJudge), declared for that run only


@dataclass(frozen=True)
class Exploit:
    name: str
    what: str
    item: ScoreItem
    expect: dict[str, float]  # component -> the most it may pay
    recipe: dict[str, Any] | None = None  # caller-side: the request's own recipe, which must be refused
    kind: str = "policy"  # caller-side: its class, e.g. "judge options"


@dataclass(frozen=True)
class Row:
    recipe: str
    exploit: str
    verdict: str        # PASS, LEAK, ERROR or n/a
    earned: str         # what the checked components paid (or the status)
    allowed: str


class ProbeError(Exception):
    """A mistake of the user's (a bad catalogue, recipe or URL); printed as one line."""


def load(directory: Path = CATALOGUE) -> list[Exploit]:
    files = sorted(directory.glob("*.json"))
    if not files:
        raise ProbeError(f"{directory}: no exploit files (*.json)")
    exploits = []
    for path in files:
        try:
            exploits.append(_exploit(json.loads(path.read_text(encoding="utf-8"))))
        except (ValueError, KeyError, TypeError) as exc:
            raise ProbeError(f"{path}: not an exploit file ({type(exc).__name__}: {str(exc).splitlines()[0]})") from None
    return exploits


def _exploit(data: dict[str, Any]) -> Exploit:
    item = ScoreItem.model_validate(data["item"])
    if "recipe" not in data:
        return Exploit(data["name"], data.get("what", ""), item, {k: float(v) for k, v in data["expect"].items()})
    if data["expect"] != "refused":
        raise ValueError('a caller-side exploit (one with "recipe") expects "refused"')
    return Exploit(data["name"], data.get("what", ""), item, {}, dict(data["recipe"]), str(data["class"]))


def judge_row(recipe: str, components: set[str], exploit: Exploit, result: ItemResult) -> Row:
    """One exploit's verdict under one recipe (see the module docstring)."""
    checked = {name: most for name, most in exploit.expect.items() if name in components}
    allowed = ", ".join(f"{name} <= {most:g}" for name, most in checked.items())
    if not checked:
        return Row(recipe, exploit.name, "n/a", "-", "-")
    if result.status is Status.timeout:
        return Row(recipe, exploit.name, "LEAK", "null (timeout)", allowed)
    if result.status is not Status.ok:
        return Row(recipe, exploit.name, "ERROR", f"{result.status.value}: {result.error}"[:80], allowed)
    paid = {name: result.components.get(name) for name in checked}
    leaked = any((value := paid[name]) is None or value > most + 1e-9 for name, most in checked.items())
    earned = ", ".join(f"{name} {value:g}" if value is not None else f"{name} missing" for name, value in paid.items())
    return Row(recipe, exploit.name, "LEAK" if leaked else "PASS", earned, allowed)


async def _grade(exploits: list[Exploit], recipe: str | dict[str, Any], url: str | None, api_key: str | None,
                 settings: Settings) -> list[ItemResult]:
    items = [e.item for e in exploits]
    if url:
        from reward_service.client import AsyncRewardClient
        async with AsyncRewardClient(url, api_key=api_key) as client:
            return await client.score(items, recipe)
    from reward_service import llm_judge, recipes
    from reward_service.engine import GradingEngine
    resolved = recipes.resolve(recipe, settings.default_recipe)
    llm_judge.check(resolved, settings.judges)  # as the service does: its judges must be declared
    engine = GradingEngine(settings)
    await engine.start()
    try:
        return await engine.score(items, resolved)
    finally:
        await engine.aclose()


def judge_recipe(judge: str) -> str:
    """The recipe that puts a judge behind accuracy, as JSON (what --recipe takes)."""
    return json.dumps({"name": "judge-fallback", "components": {
        "accuracy": {"options": {"judge_fallback": {"judge": judge}}}}})


def _with_judge(settings: Settings, url: str) -> Settings:
    from reward_service.llm_judge import JudgeEndpoint
    fake = JudgeEndpoint(base_url=url, model="obedient", retries=0, timeout_s=30)
    return settings.model_copy(update={"judges": {**settings.judges, PROBE_JUDGE: fake}})


def _filled(value: Any, values: dict[str, str]) -> Any:
    """``value`` (JSON) with each placeholder in its strings replaced."""
    if isinstance(value, str):
        for placeholder, text in values.items():
            value = value.replace(placeholder, text)
        return value
    if isinstance(value, dict):
        return {k: _filled(v, values) for k, v in value.items()}
    return [_filled(v, values) for v in value] if isinstance(value, list) else value


def caller_row(exploit: Exploit, fake: ObedientJudge, url: str | None, api_key: str | None,
               settings: Settings) -> Row:
    """A caller-side exploit's verdict: its request must be refused, and the canary URL never called."""
    from reward_service.client import RewardServiceError
    from reward_service.errors import UnknownRecipe
    assert exploit.recipe is not None
    recipe = _filled(exploit.recipe, {"{canary_url}": fake.canary_url, "{judge}": PROBE_JUDGE})
    before = fake.canary_calls()
    try:
        asyncio.run(_grade([exploit], recipe, url, api_key, settings))
        earned = "accepted"
    except UnknownRecipe:
        earned = "refused"
    except RewardServiceError as exc:
        if exc.status_code != 422:
            raise
        earned = "refused (422)"
    if fake.canary_calls() > before:
        earned += "; called the caller's URL"
    verdict = "PASS" if earned.startswith("refused") and fake.canary_calls() == before else "LEAK"
    return Row(f"caller:{exploit.kind.replace(' ', '-')}", exploit.name, verdict, earned, "refused")


def probe(recipe_names: list[str], *, url: str | None = None, api_key: str | None = None,
          exploits_dir: Path = CATALOGUE, settings: Settings | None = None) -> list[Row]:
    """Every policy's exploit under every recipe, then each caller's exploit once; the rows of the table.
    Graded here, the judge named ``PROBE_JUDGE`` is an :class:`ObedientJudge` on loopback."""
    from reward_service.client import RewardServiceError
    exploits = load(exploits_dir)
    settings = settings or Settings()
    with ObedientJudge() as fake:
        if url is None:
            settings = _with_judge(settings, fake.url)
        rows = _policy_rows(recipe_names, [e for e in exploits if e.recipe is None], url, api_key, settings)
        try:
            rows += [caller_row(e, fake, url, api_key, settings) for e in exploits if e.recipe is not None]
        except RewardServiceError as exc:
            raise ProbeError(f"reward service at {url}: {exc}") from None
    return rows


def _policy_rows(recipe_names: list[str], exploits: list[Exploit], url: str | None, api_key: str | None,
                 settings: Settings) -> list[Row]:
    from reward_service import llm_judge, recipes
    from reward_service.client import RewardServiceError
    from reward_service.errors import UnknownRecipe
    rows: list[Row] = []
    for name in recipe_names:
        recipe: str | dict[str, Any] = name
        if name.lstrip().startswith("{"):  # a custom recipe, as JSON
            try:
                recipe = json.loads(name)
            except ValueError as exc:
                raise ProbeError(f"--recipe: not a recipe name and not JSON ({exc})") from None
        try:
            resolved = recipes.resolve(recipe, "accuracy")
            if url is None:
                llm_judge.check(resolved, settings.judges)
        except UnknownRecipe as exc:
            raise ProbeError(f"--recipe: {str(exc).splitlines()[0]}") from None
        label = name if isinstance(recipe, str) else resolved.name or "custom"
        try:
            results = asyncio.run(_grade(exploits, recipe, url, api_key, settings)) if exploits else []
        except RewardServiceError as exc:
            raise ProbeError(f"reward service at {url}: {exc}") from None
        components = {c.name for c in resolved.components}
        rows += [judge_row(label, components, e, r) for e, r in zip(exploits, results, strict=True)]
    return rows


def format_rows(rows: list[Row]) -> str:
    header = ("recipe", "exploit", "earned", "allowed", "verdict")
    table = [header] + [(r.recipe, r.exploit, r.earned, r.allowed, r.verdict) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table)


def exit_code(rows: list[Row]) -> int:
    verdicts = {r.verdict for r in rows}
    return 1 if "LEAK" in verdicts else 2 if "ERROR" in verdicts else 0


def run_probe(recipe_names: list[str] | None, *, url: str | None, api_key: str | None, exploits_dir: str | None,
              settings: Settings) -> int:
    """The CLI's work: print the table and a summary line; the exit code (see the module docstring)."""
    from reward_service.recipes import BUILTIN
    names = recipe_names or [*sorted(BUILTIN), *([judge_recipe(PROBE_JUDGE)] if url is None else [])]
    try:
        rows = probe(names, url=url, api_key=api_key or os.environ.get("REWARD_API_KEY") or None,
                     exploits_dir=Path(exploits_dir) if exploits_dir else CATALOGUE, settings=settings)
    except ProbeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_rows(rows))
    counts = {v: sum(r.verdict == v for r in rows) for v in ("PASS", "LEAK", "ERROR", "n/a")}
    callers = sum(r.recipe.startswith("caller:") for r in rows)
    print(", ".join(f"{n} {v}" for v, n in counts.items() if n) + f" ({len(names)} recipe(s)"
          + (f", {callers} caller-side exploit(s))" if callers else ")"))
    return exit_code(rows)


def main(args: Any, settings: Settings) -> int:
    return run_probe(args.recipe, url=args.url, api_key=args.api_key, exploits_dir=args.exploits, settings=settings)
