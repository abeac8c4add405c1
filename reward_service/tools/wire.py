"""The wire of the sandbox as a tool: SandboxFusion's ``/run_code`` and ``/run_jupyter`` as its clients send
them (verl, SkyRL, SandboxFusion's own SDK), our ``/sessions``, and the mapping from :mod:`sandbox.tool`'s
results to them.

Requests refuse unknown fields (a typo is a 422 naming it), but accept every field SandboxFusion's own models
define, even those we ignore (``/run_jupyter``'s ``memory_limit_MB`` is honoured; a ``files`` value of null is
skipped, as SandboxFusion skips it). What needs the operator's settings (how long, how much memory, how many
bytes of files) is bounded in :mod:`reward_service.tools.execution`, not here.

Statuses are SandboxFusion's: a command's ``status`` is ``Finished`` when the process exited by itself,
whatever its exit code (``return_code`` says it; minus the signal when one killed it, e.g. -9 at the memory
limit, as SandboxFusion's asyncio reports it), ``TimeLimitExceeded`` at its time limit; never ``Error``,
which SandboxFusion's clients read as the sandbox's own failure. The answer's is ``Success`` only when every
command finished with exit code 0 and nothing was cut (output past the bound is ``truncated`` with the full
sizes, and ``Failed``: never a quiet Success with part of the output), ``SandboxError`` only for our own
failures, else ``Failed`` with the outputs kept.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)

from sandbox.languages import get_language

if TYPE_CHECKING:
    from sandbox.tool import CellResult, Execution, Output

SF_LANGUAGES = {"python": "python", "cpp": "cpp", "java": "java", "nodejs": "javascript", "go": "go",
                "rust": "rust"}
"""SandboxFusion's name -> ours, for the languages we run (our own names and aliases are accepted too)."""

RunStatus = Literal["Success", "Failed", "SandboxError"]
CommandStatus = Literal["Finished", "Error", "TimeLimitExceeded"]


def _b64(value: Any) -> Any:
    """Strict base64 (the standard alphabet, padded) -> bytes; anything else is the caller's mistake."""
    if not isinstance(value, str):
        return value  # pydantic says what it expected
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64 (the standard alphabet, padded, as base64.b64encode writes it)") from None


def _path(value: str) -> str:
    """A file path relative to the program's working directory, never outside it."""
    if not value or len(value) > 255 or "\x00" in value:
        raise ValueError("a path of 1 to 255 characters, without NUL")
    if value.startswith("/") or ".." in value.split("/") or posixpath.normpath(value) in (".", ""):
        raise ValueError(f"{value!r}: a path relative to the working directory, without '..'")
    return value


Path = Annotated[str, AfterValidator(_path)]
FileBytes = Annotated[bytes, BeforeValidator(_b64), WithJsonSchema({"type": "string", "contentEncoding": "base64"})]


def _check_paths(files: dict[str, Any]) -> dict[str, Any]:
    for name in files:
        try:
            _path(name)
        except ValueError as exc:
            raise ValueError(f"file name {exc}") from None
    return files


def _language_name(name: str) -> str:
    lang = get_language(name)
    if lang is None:
        raise ValueError(f"unknown language {name!r}; we run {', '.join(SF_LANGUAGES)} (SandboxFusion's names; "
                         "ours and their aliases, such as javascript or c++, work too)")
    return lang.name


def encode_files(files: dict[str, bytes]) -> dict[str, str]:
    return {path: base64.b64encode(data).decode("ascii") for path, data in files.items()}


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- /run_code ----------------------------------------------------------------------------------------------

class RunCodeRequest(_Request):
    code: str = Field(description="The program.")
    language: str = Field(description="python, cpp, java, nodejs, go or rust (SandboxFusion's names), or ours.")
    stdin: str | None = Field(None, description="Its standard input.")
    compile_timeout: float = Field(10, gt=0, description="Seconds for the compile (compiled languages); more "
                                   "than the operator allows is cut to it.")
    run_timeout: float = Field(10, gt=0, description="Seconds for the run; more than the operator allows is cut "
                               "to it.")
    memory_limit_MB: int = Field(-1, description="Memory of the program in MiB; -1 (SandboxFusion's 'no limit'), "
                                 "0 or more than the operator allows: the operator's maximum.")
    files: Annotated[dict[str, FileBytes | None], AfterValidator(_check_paths)] = Field(
        default_factory=dict, description="path -> base64 content, written into the working directory first "
        "(null: skipped).")
    fetch_files: list[Path] = Field(default_factory=list, description="Paths to bring back after the run "
                                    "(those that exist).")

    @field_validator("language")
    @classmethod
    def _ours(cls, value: str) -> str:
        return _language_name(value)


class CommandRunResult(BaseModel):
    status: CommandStatus
    execution_time: float | None = None
    return_code: int | None = None
    stdout: str | None = None
    stderr: str | None = None
    truncated: bool = Field(False, description="stdout or stderr was cut at the output bound.")
    stdout_bytes: int = Field(0, description="stdout's full size before any cut.")
    stderr_bytes: int = Field(0, description="stderr's full size before any cut.")


class RunCodeResponse(BaseModel):
    status: RunStatus
    message: str
    compile_result: CommandRunResult | None = None
    run_result: CommandRunResult | None = None
    executor_pod_name: str | None = None
    files: dict[str, str] = Field(default_factory=dict)


def command_result(out: Output) -> CommandRunResult:
    return CommandRunResult(status=out.status, execution_time=out.execution_time, return_code=out.return_code,
                            stdout=out.stdout, stderr=out.stderr, truncated=out.truncated,
                            stdout_bytes=out.stdout_bytes, stderr_bytes=out.stderr_bytes)


def _clean(out: Output | None) -> bool:
    return out is not None and out.status == "Finished" and out.return_code == 0 and not out.truncated


def _why(execution: Execution) -> str:
    """One line for people: what kept it from Success (clients branch on the results' fields)."""
    if execution.compile is not None and not _clean(execution.compile):
        return "compile failed" if execution.compile.status != "TimeLimitExceeded" else "compile time limit"
    run = execution.run
    if run is None:
        return "the program did not run"
    if run.status == "TimeLimitExceeded":
        return "time limit exceeded"
    if run.truncated:
        return f"output past the bound, cut (stdout {run.stdout_bytes} bytes, stderr {run.stderr_bytes})"
    if run.return_code is not None and run.return_code < 0:
        return f"killed by signal {-run.return_code} (-9: the memory limit, or the output bound)"
    return f"exit code {run.return_code}"


def run_code_response(execution: Execution, pod: str) -> RunCodeResponse:
    if execution.sandbox_error is not None:
        return RunCodeResponse(status="SandboxError", message=execution.sandbox_error, executor_pod_name=pod)
    compile_ok = execution.compile is None or _clean(execution.compile)
    ok = compile_ok and _clean(execution.run)
    return RunCodeResponse(
        status="Success" if ok else "Failed", message="" if ok else _why(execution), executor_pod_name=pod,
        compile_result=command_result(execution.compile) if execution.compile is not None else None,
        run_result=command_result(execution.run) if execution.run is not None else None,
        files=encode_files(execution.files))


# -- /run_jupyter -------------------------------------------------------------------------------------------

class RunJupyterRequest(_Request):
    cells: list[str] = Field(description="Code cells, run in order in one Python process (state kept).")
    cell_timeout: float = Field(0, ge=0, description="Seconds per cell (0: only total_timeout bounds them).")
    total_timeout: float = Field(45, gt=0, description="Seconds for all the cells; more than the operator "
                                 "allows is cut to it. Cells not reached are not run (status Failed).")
    memory_limit_MB: int = Field(-1, description="As /run_code's.")
    kernel: Literal["python3"] = "python3"
    files: Annotated[dict[str, FileBytes], AfterValidator(_check_paths)] = Field(default_factory=dict)
    fetch_files: list[Path] = Field(default_factory=list)


class CellRunResult(BaseModel):
    stdout: str
    stderr: str
    display: list[dict[str, str]] = Field(description='[{"text/plain": repr of the last expression}] when it '
                                          "is not None, as a notebook shows it.")
    error: list[dict[str, Any]] = Field(description="Jupyter's error: [{ename, evalue, traceback}] when the "
                                        "cell raised (the traceback is also in stderr).")
    status: CommandStatus = Field(description="Finished, Error (the cell raised) or TimeLimitExceeded.")
    execution_time: float = 0.0
    truncated: bool = False


class RunJupyterResponse(BaseModel):
    status: RunStatus
    message: str
    driver: CommandRunResult | None = None
    cells: list[CellRunResult] = Field(default_factory=list)
    executor_pod_name: str | None = None
    files: dict[str, str] = Field(default_factory=dict)


def jupyter_error(error: str | None) -> list[dict[str, Any]]:
    """``"NameError: name 'x' is not defined"`` as Jupyter writes an error message."""
    if error is None:
        return []
    ename, _, evalue = error.partition(": ")
    return [{"ename": ename, "evalue": evalue, "traceback": [error]}]


def cell_result(cell: CellResult) -> CellRunResult:
    return CellRunResult(stdout=cell.stdout, stderr=cell.stderr, display=cell.display,
                         error=jupyter_error(cell.error), status=cell.status,
                         execution_time=cell.execution_time, truncated=cell.truncated)


# -- /sessions ----------------------------------------------------------------------------------------------

class SessionLimits(_Request):
    memory_mb: int | None = Field(None, ge=16, description="Memory of the session's process in MiB; more than "
                                  "the operator allows is cut to it.")
    timeout_s: float | None = Field(None, gt=0, description="Default seconds per run (a run may give its own).")


class SessionCreate(_Request):
    language: str = Field("python", description="python (other languages may come later).")
    limits: SessionLimits | None = None
    ttl_s: float | None = Field(None, gt=0, description="Idle seconds before the session is closed (each call "
                                "starts the count again); default REWARD_SESSION_TTL_S, at most "
                                "REWARD_SESSION_MAX_TTL_S.")
    files: Annotated[dict[str, FileBytes], AfterValidator(_check_paths)] = Field(
        default_factory=dict, description="path -> base64, written into its working directory first.")

    @field_validator("language")
    @classmethod
    def _python(cls, value: str) -> str:
        lang = get_language(value)
        if lang is None or lang.name != "python":
            raise ValueError(f"sessions run python for now, not {value!r} (/run_code runs "
                             f"{', '.join(SF_LANGUAGES)})")
        return lang.name


class SessionCreated(BaseModel):
    session_id: str
    expires_at: datetime = Field(description="When it closes unless called again (idle TTL, within its "
                                 "whole-life cap).")


class SessionRun(_Request):
    code: str
    timeout_s: float | None = Field(None, gt=0, description="Seconds for this run (default: the session's); "
                                    "more than the operator allows is cut to it.")
    stdin: str = ""


class SessionRunResult(BaseModel):
    status: CommandStatus = Field(description="Finished, Error (the code raised) or TimeLimitExceeded.")
    stdout: str
    stderr: str
    display: list[dict[str, str]]
    error: str | None = Field(description="\"NameError: name 'x' is not defined\" when the code raised.")
    execution_time: float
    truncated: bool
    alive: bool = Field(description="False when this run ended the session (its process is gone): the next "
                        "call answers 410.")
    expires_at: datetime


def session_result(cell: CellResult, alive: bool, expires_at: datetime) -> SessionRunResult:
    return SessionRunResult(status=cell.status, stdout=cell.stdout, stderr=cell.stderr, display=cell.display,
                            error=cell.error, execution_time=cell.execution_time, truncated=cell.truncated,
                            alive=alive, expires_at=expires_at)


class SessionFiles(_Request):
    paths: list[Path] = Field(description="Paths in the session's working directory to bring back.")


class SessionFilesResult(BaseModel):
    files: dict[str, str] = Field(description="path -> base64, for those that exist.")
