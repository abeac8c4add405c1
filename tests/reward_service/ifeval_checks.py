"""What every ifeval test file checks the same way: a label of (id, kwargs) pairs, and one response that
follows an instruction and one that breaks it."""

from __future__ import annotations

import json
from typing import Any

from reward_service.grading.ifeval import grade_ifeval
from reward_service.grading.types import Reason, Status


def label(*pairs: tuple[str, dict[str, Any]]) -> str:
    """Google's form (the IFEvalG tests use open-instruct's list form: ``open_instruct_label``)."""
    return json.dumps({"instruction_id_list": [p[0] for p in pairs], "kwargs": [p[1] for p in pairs]})


def open_instruct_label(*pairs: tuple[str, dict[str, Any]]) -> str:
    return json.dumps([{"instruction_id": [p[0] for p in pairs], "kwargs": [p[1] for p in pairs]}])


def assert_follows_and_breaks(iid: str, kwargs: dict[str, Any], follows: str, breaks: str,
                              form: Any = label) -> None:
    good, bad = grade_ifeval(follows, form((iid, kwargs))), grade_ifeval(breaks, form((iid, kwargs)))
    assert good.status is Status.ok and good.score == 1.0, good.details
    assert bad.score == 0.0 and bad.code is Reason.not_followed, bad.details
    assert bad.details["instructions"][0]["why"]
