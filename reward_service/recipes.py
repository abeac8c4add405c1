"""Reward recipes: which components count, with what weight, and their options.

A request's recipe (a name or a spec) is resolved once, by the API (or, for a chunk taken from Redis, by the
worker that takes it: :func:`from_key`), into a frozen :class:`Recipe`: each component's options validated by
its registry entry (:mod:`reward_service.components`), so a bad spec is a 422 naming the field. The resolved
recipe travels as it is to the grader processes; its ``key`` (canonical JSON) is what the Redis queue carries
and part of every cache key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from pydantic import ValidationError

from reward_service import components
from reward_service.components import Component
from reward_service.errors import UnknownRecipe
from reward_service.schemas import ComponentSpec, RecipeSpec


@dataclass(frozen=True)
class Recipe:
    name: str
    components: tuple[Component, ...]

    @cached_property
    def key(self) -> str:
        """Canonical JSON of the resolved recipe (every option spelled out): computed once per recipe."""
        return json.dumps(self.to_spec(), sort_keys=True, separators=(",", ":"))

    def get(self, name: str) -> Component | None:
        return next((c for c in self.components if c.name == name), None)

    def to_spec(self) -> dict[str, Any]:
        return {"name": self.name, "components": {
            c.name: {"weight": c.weight, "options": c.options.model_dump(mode="json")} for c in self.components}}


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
    resolved = []
    for name, comp in spec.components.items():
        kind = _kind(name)
        try:
            options = kind.options.model_validate(comp.options)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            field = f"recipe.components.{name}.options" + (f".{where}" if where else "")
            raise UnknownRecipe(f"{field}: {first['msg']}", field=field) from exc
        resolved.append(Component(name, comp.weight, options))
    return Recipe(spec.name or "custom", tuple(resolved))


def _kind(name: str) -> components.Kind:
    """The registry entry of component ``name`` (``kind`` or, for a labelled kind, ``kind.label``)."""
    kind_name, dot, label = name.partition(".")
    kind = components.find(kind_name)
    if kind is None or (dot and not (label and kind.labelled)):
        labelled = ", ".join(f"{k.name}.<label>" for k in components.kinds() if k.labelled)
        raise UnknownRecipe(f"unknown component {name!r}: one of {', '.join(k.name for k in components.kinds())}"
                            + (f" (and {labelled})" if labelled else ""), field=f"recipe.components.{name}")
    return kind


@lru_cache(maxsize=64)
def from_key(key: str) -> Recipe:
    """The recipe whose :attr:`Recipe.key` is ``key`` (a chunk's, off the Redis queue), resolved against this
    process's registry once per key; raises :class:`UnknownRecipe` (e.g. a component this worker lacks)."""
    try:
        spec = json.loads(key)
    except ValueError as exc:
        raise UnknownRecipe(f"a recipe key that is not JSON ({exc})") from None
    return resolve(spec if isinstance(spec, dict) else {"components": {}}, "")
