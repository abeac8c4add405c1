"""Rows as other teams' data sets have them, turned into score items for the eval CLI (one completion a row,
in ``completion``; every field of the row rides along into the output).

* **MATH-500, AIME, AMC, CMATH**: ``answer`` is the reference as it is; the prompt's text (``problem`` or
  ``question``) groups a prompt's samples when there is no ``prompt_id``.
* **GSM8K**: ``answer`` is the worked solution ending in ``#### 18``: the reference is what follows the last
  ``####`` (thousands separators dropped, as GSM8K writes none in its final answers but models do).
* **Minerva-style rows** (``solution`` and no ``answer``): the reference is the solution's last ``\\boxed{}``.
* **LiveCodeBench** (``question_id`` with ``public_test_cases``): a code item; the tests are the public and the
  private cases. ``private_test_cases`` is base64 of zlib of a pickle of a JSON string (or plain JSON in early
  releases): it is unpickled by an unpickler that resolves *no* class or function, so only plain data
  (strings, lists, numbers) can load and a crafted pickle cannot run anything; decompressed at most
  ``MAX_TESTS_BYTES``. ``metadata.func_name`` (a JSON string) and ``testtype: functional`` make it a
  function-call test of ``class Solution``; else stdin/stdout. The samples of a question group by
  ``question_id``. The language is the row's ``language``, else Python.
* **IFEval, IFBench** (``instruction_id_list`` and ``kwargs``, no ``answer``): an ``ifeval`` item whose label is
  those two fields; open-instruct's RLVR rows (``dataset: ifeval`` with ``ground_truth``): the label is
  ``ground_truth`` (IFEvalG's list or Tulu 3's ``func_name`` form). The row's ``prompt`` is the prompt.

A row that already is a score item (``task``, ``tests`` or a ``prompt_id`` of its own) is left as it is.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import pickle
import zlib
from typing import Any

from reward_service.grading.answer_span import last_boxed

MAX_TESTS_BYTES = 256 << 20  # LiveCodeBench's largest private test sets are tens of MB


class RowError(ValueError):
    """A row in a data set's form that cannot be read: the line's ``invalid`` reason."""


class _PlainData(pickle.Unpickler):
    """Loads plain data only: any class or function the pickle names is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"the pickle names {module}.{name}: only plain data is loaded")


def private_tests(text: str) -> list[dict[str, Any]]:
    """LiveCodeBench's ``private_test_cases``: JSON, or base64 → zlib → pickle → JSON."""
    if not text:
        return []
    if text.lstrip().startswith("["):
        return _cases(json.loads(text))
    try:
        packed = base64.b64decode(text, validate=True)
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, MAX_TESTS_BYTES)
        if inflater.unconsumed_tail:
            raise RowError(f"private_test_cases: more than {MAX_TESTS_BYTES >> 20} MB once decompressed")
        value = _PlainData(io.BytesIO(raw)).load()
    except (binascii.Error, zlib.error, pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise RowError(f"private_test_cases: not base64 of zlib of a pickle of JSON ({exc})") from None
    return _cases(json.loads(value) if isinstance(value, str | bytes) else value)


def _cases(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(c, dict) and "input" in c and "output" in c for c in value):
        raise RowError("test cases must be a list of {input, output, testtype}")
    return value


def _livecodebench(row: dict[str, Any]) -> dict[str, Any]:
    try:
        public = _cases(json.loads(row["public_test_cases"]) if isinstance(row["public_test_cases"], str)
                        else row["public_test_cases"])
        cases = public + private_tests(row.get("private_test_cases") or "")
        metadata = row.get("metadata") or {}
        metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
    except ValueError as exc:
        raise exc if isinstance(exc, RowError) else RowError(f"LiveCodeBench row: {exc}") from None
    functional = any(c.get("testtype") == "functional" for c in cases)
    tests: dict[str, Any] = {"inputs": [c["input"] for c in cases], "outputs": [c["output"] for c in cases]}
    if functional:
        if not isinstance(metadata, dict) or not metadata.get("func_name"):
            raise RowError("LiveCodeBench row: functional tests without metadata.func_name")
        tests["fn_name"] = metadata["func_name"]
    return {"task": "code", "language": row.get("language") or "python", "tests": tests,
            "prompt_id": row.get("prompt_id", row["question_id"])}


def normalize(row: dict[str, Any]) -> dict[str, Any]:
    """The row as a score item reads it (see the module's docstring); RowError when its data cannot be read."""
    if any(key in row for key in ("task", "tests", "test")):
        return row
    if "question_id" in row and "public_test_cases" in row:
        return {**row, **_livecodebench(row)}
    answer = row.get("answer")
    if answer is None and "instruction_id_list" in row:
        return {**row, "task": "ifeval",
                "answer": {"instruction_id_list": row["instruction_id_list"], "kwargs": row.get("kwargs")}}
    if answer is None and row.get("dataset") == "ifeval" and "ground_truth" in row:
        return {**row, "task": "ifeval", "answer": row["ground_truth"]}
    if isinstance(answer, str) and "####" in answer:
        return {**row, "answer": answer.rsplit("####", 1)[1].strip().replace(",", "")}
    if answer is None and isinstance(row.get("solution"), str):
        boxed = last_boxed(row["solution"])
        if boxed is not None:
            return {**row, "answer": boxed}
    return row
