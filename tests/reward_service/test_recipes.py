import pytest

from reward_service.errors import UnknownRecipe
from reward_service.recipes import BUILTIN, resolve


def test_builtins_resolve_with_their_components():
    assert [c.name for c in resolve("r1-zero", "x").components] == ["accuracy", "format"]
    assert [c.name for c in resolve("r1", "x").components] == ["accuracy", "format", "language"]
    assert resolve("r1", "x").get("format").options.mode == "r1"
    assert resolve(None, "accuracy").name == "accuracy"
    assert set(BUILTIN) >= {"r1-zero", "r1"}


def test_custom_spec_and_stable_key():
    spec = {"components": {"format": {"weight": 0.5, "options": {"mode": "r1"}},
                           "overlong": {"options": {"max_length": 100, "cache_length": 20}}}}
    a, b = resolve(spec, "x"), resolve(dict(reversed(list(spec.items()))), "x")
    assert a.key == b.key and a.get("format").weight == 0.5 and a.get("overlong").options.cache_length == 20


@pytest.mark.parametrize(("recipe", "field"), [
    ("no-such-recipe", "recipe"),
    ({"components": {"format": {"options": {"mode": "xml"}}}}, "recipe.components.format.options.mode"),
    ({"components": {"overlong": {"options": {"max_length": 10, "cache_length": 20}}}},
     "recipe.components.overlong.options"),
    ({"components": {"format": {"options": {"typo": 1}}}}, "recipe.components.format.options.typo"),
])
def test_bad_recipes_name_the_field(recipe, field):
    with pytest.raises(UnknownRecipe) as err:
        resolve(recipe, "x")
    assert err.value.field == field
