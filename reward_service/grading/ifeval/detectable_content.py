"""``detectable_content:*``: ``[placeholders]`` and a postscript."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reward_service.grading.ifeval.registry import Arg, compare, rule


@rule("detectable_content:number_placeholders", num_placeholders=Arg.count)
def number_placeholders(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    return compare(len(re.findall(r"\[.*?\]", response)), "at least", kwargs["num_placeholders"], "placeholders")


def _marker_pattern(marker: str) -> str:
    """The reference's: ``P.S.`` and ``P.P.S`` allow a space after each dot; another marker is matched as
    written, where (as in the reference's unescaped pattern) a ``.`` stands for any character."""
    if marker == "P.P.S":
        return r"\s*p\.\s?p\.\s?s.*$"
    if marker == "P.S.":
        return r"\s*p\.\s?s\..*$"
    return r"\s*" + re.escape(marker.lower()).replace(r"\.", ".") + r".*$"


@rule("detectable_content:postscript", postscript_marker=Arg.text)
def postscript(response: str, kwargs: Mapping[str, Any], prompt: str | None) -> tuple[bool, str]:
    marker = kwargs["postscript_marker"]
    found = re.search(_marker_pattern(marker), response.lower(), flags=re.MULTILINE) is not None
    return found, f"postscript {marker!r} {'found' if found else 'not found'}"
