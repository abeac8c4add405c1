"""The registry of reward components: a component is one entry, and nothing else dispatches on its name.

An entry (:class:`Kind`) is a name, a frozen options model, and what grades it, in one stage or both:

* ``grade(ctx, options) -> Grade | None``, stage ``grader``: in a grader process, under the item's hard time
  limit, on what every component shares (:class:`Context`: the item, its text, its reasoning and final-answer
  region, the accuracy grade). Pure CPU. None: the component does not apply to this item.
* ``await serve(services, ctx, component, prior) -> Grade | None``, stage ``service``: after grading, in the
  service's event loop, where calls to what a process shares (:class:`Services`: the operator's LLM judges,
  the reward models) are batched across items and limited per process. ``prior`` is the grader stage's grade
  of the same component, if it has one (accuracy's judge fallback takes over some). None: keep ``prior``.
  Raising :class:`ComponentFailed` makes the item's reward null with its message, and ends the stage.

A module registers its entries with :func:`register` when imported. The built-in modules are listed in
:data:`reward_service.components.BUILTIN` (a new built-in component: its module, and a line there); an
operator's own are named in ``REWARD_COMPONENT_MODULES`` and imported by :func:`load` in every process that
resolves or grades recipes: the API, each Redis worker, each grader process (preloaded by their forkserver).
A request names components, never modules.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from reward_service.grading.extract import Split
from reward_service.grading.types import Grade
from reward_service.schemas import ScoreItem

if TYPE_CHECKING:
    from reward_service.llm_judge import Judges
    from reward_service.reward_model import RewardModels

Stage = Literal["grader", "service"]
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


class ComponentError(Exception):
    """A registration or a component module the operator named is wrong (raised at start: one line)."""


class ComponentFailed(Exception):
    """A service-stage component could not grade the item; the message is the item's ``error``."""


class Options(BaseModel):
    """A component's options: frozen (a recipe is a cache key) and strict (a typo is a 422, not a default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Context:
    """What the components see of one item."""

    item: ScoreItem
    text: str                # the completion (the last assistant message of a chat)
    split: Split             # its chain of thought and final-answer region
    accuracy: Grade | None   # the accuracy grade, when a component of the recipe uses it


@dataclass(frozen=True)
class Services:
    """What service-stage components share in one process, owned by the engine that grades."""

    judges: Judges
    models: RewardModels


GradeFn = Callable[[Context, Any], Grade | None]
ServeFn = Callable[[Services, Context, "Component", Grade | None], Awaitable[Grade | None]]


@dataclass(frozen=True)
class Kind:
    """One registry entry (see the module docstring)."""

    name: str
    options: type[BaseModel]
    grade: GradeFn | None = None
    serve: ServeFn | None = None
    labelled: bool = False        # may appear several times in a recipe, as "<name>.<label>"
    uses_accuracy: bool = False   # reads ``ctx.accuracy``: the item's accuracy is graded (and cached) for it

    @property
    def stages(self) -> tuple[Stage, ...]:
        grader: tuple[Stage, ...] = ("grader",) if self.grade else ()
        return grader + (("service",) if self.serve else ())


@dataclass(frozen=True)
class Component:
    """One component of a resolved recipe: its name, weight and validated options."""

    name: str
    weight: float
    options: Any  # an instance of its entry's options model (frozen)

    @property
    def kind(self) -> str:
        """``reward_model`` for ``reward_model.helpful``: the registry entry that grades it."""
        return self.name.partition(".")[0]

    @property
    def entry(self) -> Kind:
        return get(self.kind)


_KINDS: dict[str, Kind] = {}


def register(name: str, options: type[BaseModel], *, grade: GradeFn | None = None, serve: ServeFn | None = None,
             labelled: bool = False, uses_accuracy: bool = False) -> Kind:
    """Add the component ``name``; registering the very same entry again is harmless."""
    if not _NAME.fullmatch(name):
        raise ComponentError(f"component name {name!r}: lower-case letters, digits and '_', at most 40")
    config = options.model_config if isinstance(options, type) and issubclass(options, BaseModel) else {}
    if not (config.get("frozen") and config.get("extra") == "forbid"):
        raise ComponentError(f"component {name!r}: its options must be a frozen pydantic model with extra='forbid' "
                             "(subclass reward_service.components.Options)")
    if grade is None and serve is None:
        raise ComponentError(f"component {name!r}: give it a grade function, a serve function, or both")
    kind = Kind(name, options, grade, serve, labelled, uses_accuracy)
    known = _KINDS.setdefault(name, kind)
    if known != kind:
        raise ComponentError(f"component {name!r} is registered twice ({known.options.__module__} and "
                             f"{options.__module__})")
    return kind


def find(name: str) -> Kind | None:
    return _KINDS.get(name)


def get(name: str) -> Kind:
    kind = _KINDS.get(name)
    if kind is None:
        raise ComponentError(f"no component {name!r} is registered in this process (known: {', '.join(_KINDS)})")
    return kind


def kinds() -> tuple[Kind, ...]:
    """Every entry, in the order registered."""
    return tuple(_KINDS.values())


def load(modules: Iterable[str]) -> None:
    """Import each module (which registers its components); a no-op for those imported already."""
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as exc:
            first = str(exc).splitlines()[0][:300] if str(exc) else ""
            raise ComponentError(f"component module {module!r} cannot be imported: {type(exc).__name__}"
                                 + (f": {first}" if first else "")) from None
