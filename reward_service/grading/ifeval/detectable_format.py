"""``detectable_format:*``: bullets, a fixed answer, highlights, sections, JSON, a ``<<title>>``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from reward_service.grading.ifeval.registry import Arg, compare, rule

CONSTRAINED_RESPONSES = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


@rule("detectable_format:number_bullet_lists", num_bullets=Arg.count)
def number_bullet_lists(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    stars = re.findall(r"^\s*\*[^\*].*$", response, flags=re.MULTILINE)
    dashes = re.findall(r"^\s*-.*$", response, flags=re.MULTILINE)
    found, need = len(stars) + len(dashes), kwargs["num_bullets"]
    return found == need, f"found {found} bullet points, need {need}"


@rule("detectable_format:constrained_response")
def constrained_response(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found = any(option in response.strip() for option in CONSTRAINED_RESPONSES)
    return found, "one of the options found" if found else f"none of {list(CONSTRAINED_RESPONSES)}"


@rule("detectable_format:number_highlighted_sections", num_highlights=Arg.count)
def number_highlighted_sections(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    single = [h for h in re.findall(r"\*[^\n\*]*\*", response) if h.strip("*").strip()]
    double = [h for h in re.findall(r"\*\*[^\n\*]*\*\*", response) if h[2:-2].strip()]
    return compare(len(single) + len(double), "at least", kwargs["num_highlights"], "highlighted sections")


@rule("detectable_format:multiple_sections", section_spliter=Arg.text, num_sections=Arg.count)
def multiple_sections(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    pattern = r"\s?" + re.escape(kwargs["section_spliter"]) + r"\s?\d+\s?"
    found = len(re.split(pattern, response)) - 1
    return compare(found, "at least", kwargs["num_sections"], f"'{kwargs['section_spliter']} N' sections")


def _unfenced(response: str) -> str:
    text = response.strip()
    for fence in ("```json", "```Json", "```JSON", "```"):
        text = text.removeprefix(fence)
    return text.removesuffix("```").strip()


@rule("detectable_format:json_format")
def json_format(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    try:
        json.loads(_unfenced(response))
    except ValueError as exc:
        return False, f"not JSON: {exc}"
    except RecursionError:  # nested past Python's limit (the reference would crash): not JSON we can read
        return False, "not JSON: nested too deep to read"
    return True, "valid JSON"


@rule("detectable_format:title")
def title(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    found = any(t.lstrip("<").rstrip(">").strip() for t in re.findall(r"<<[^\n]+>>", response))
    return found, "title found" if found else "no <<title>>"
