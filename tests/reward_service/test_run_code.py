"""SandboxFusion's ``/run_code`` and ``/run_jupyter`` over real HTTP, run in a real sandbox (auto: Docker here,
bubblewrap without it): the shapes SandboxFusion's clients read, and every bad field a 4xx naming it."""

from __future__ import annotations

import base64
import shutil

import httpx
import pytest

from tests.conftest import Service, need

MAX_FILE_BYTES = 4096


@pytest.fixture(scope="module")
def tool_service():
    need(shutil.which("bwrap") is not None or shutil.which("docker") is not None, "no sandbox backend installed")
    svc = Service({"REWARD_WORKERS": "1", "REWARD_SANDBOX_BACKEND": "auto", "REWARD_TOOL_MAX_TIMEOUT_S": "3",
                   "REWARD_TOOL_MAX_FILES": "3", "REWARD_TOOL_MAX_FILE_BYTES": str(MAX_FILE_BYTES)})
    try:
        svc.wait_ready()
        yield svc
    finally:
        svc.stop()


def run(svc: Service, path: str = "/run_code", **body) -> httpx.Response:
    return httpx.post(svc.url + path, json=body, timeout=120)


def ok(svc: Service, path: str = "/run_code", **body) -> dict:
    answer = run(svc, path, **body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def loc(answer: httpx.Response) -> list:
    assert answer.status_code == 422, answer.text
    return answer.json()["detail"][0]["loc"]


# -- what SandboxFusion's clients read ----------------------------------------------------------------------

def test_success_is_sandboxfusions_shape(tool_service):
    body = ok(tool_service, code="print('hello')", language="python")
    assert body["status"] == "Success" and body["message"] == "" and body["compile_result"] is None
    assert body["run_result"]["status"] == "Finished" and body["run_result"]["return_code"] == 0
    assert body["run_result"]["stdout"] == "hello\n" and body["run_result"]["stderr"] == ""
    assert body["run_result"]["truncated"] is False and body["files"] == {}
    assert isinstance(body["run_result"]["execution_time"], float) and body["executor_pod_name"]


def test_the_body_verl_posts_runs_as_sent(tool_service):
    """verl's call_sandbox_api: every field, stdin null, files {} and fetch_files []; SandboxFusion's SDK
    also sends files with a null value (skipped)."""
    body = ok(tool_service, compile_timeout=10, run_timeout=10, code="import sys; print(sys.stdin.read() or 'none')",
              stdin=None, memory_limit_MB=1024, language="python", files={"skipped.txt": None}, fetch_files=[])
    assert body["status"] == "Success" and body["run_result"]["stdout"] == "none\n"


def test_a_non_zero_exit_is_failed_with_the_output_kept(tool_service):
    body = ok(tool_service, code="import sys\nprint('partial')\nsys.exit(3)", language="python")
    assert body["status"] == "Failed"
    # SandboxFusion's: the process finished by itself; its exit code says how (verl's tool shows the output
    # only when the status is Finished)
    assert body["run_result"]["status"] == "Finished" and body["run_result"]["return_code"] == 3
    assert body["run_result"]["stdout"] == "partial\n"
    raised = ok(tool_service, code="print('before')\nraise ValueError('bad value')", language="python")
    assert raised["status"] == "Failed" and raised["run_result"]["return_code"] == 1
    assert raised["run_result"]["stdout"] == "before\n" and "ValueError: bad value" in raised["run_result"]["stderr"]


def test_a_compile_error_is_failed_with_no_run(tool_service):
    body = ok(tool_service, code="int main() { return undefined_name; }", language="cpp")
    assert body["status"] == "Failed" and body["run_result"] is None
    assert body["compile_result"]["return_code"] not in (0, None)
    assert "undefined_name" in body["compile_result"]["stderr"]


def test_a_compiled_language_reads_stdin(tool_service):
    code = "#include <iostream>\nint main(){long a,b;std::cin>>a>>b;std::cout<<a+b<<std::endl;}"
    body = ok(tool_service, code=code, language="cpp", stdin="40 2\n")
    assert body["status"] == "Success" and body["run_result"]["stdout"] == "42\n"
    assert body["compile_result"]["status"] == "Finished" and body["compile_result"]["return_code"] == 0


HELLO = {
    "python": "print('hi')",
    "nodejs": "console.log('hi')",
    "javascript": "console.log('hi')",
    "cpp": '#include <cstdio>\nint main(){std::puts("hi");}',
    "java": 'public class Main { public static void main(String[] a) { System.out.println("hi"); } }',
    "go": 'package main\nimport "fmt"\nfunc main() { fmt.Println("hi") }',
    "rust": 'fn main() { println!("hi"); }',
}


@pytest.mark.parametrize("language", sorted(HELLO))
def test_sandboxfusions_language_names_and_ours(tool_service, language):
    body = ok(tool_service, code=HELLO[language], language=language, compile_timeout=60)
    assert body["status"] == "Success", body
    assert body["run_result"]["stdout"] == "hi\n"


def test_the_time_limit_is_time_limit_exceeded_and_capped_by_the_operator(tool_service):
    # a run_timeout of a day is cut to REWARD_TOOL_MAX_TIMEOUT_S (3 s here), never a 422 nor a day
    body = ok(tool_service, code="import time\nprint('started', flush=True)\ntime.sleep(3600)", language="python",
              run_timeout=86_400)
    assert body["status"] == "Failed" and body["run_result"]["status"] == "TimeLimitExceeded"
    assert body["run_result"]["return_code"] is None


def test_output_past_the_bound_is_cut_and_said_never_success(tool_service):
    body = ok(tool_service, code="import sys\nsys.stdout.write('x' * 3_000_000)", language="python")
    result = body["run_result"]
    assert body["status"] == "Failed" and result["truncated"] is True  # the command Finished: SandboxFusion's
    assert result["status"] == "Finished"                               # Error would read as our failure
    assert result["stdout_bytes"] > len(result["stdout"]) > 0  # stdout past the bound also stops the program
    assert "cut" in body["message"]
    # stderr past the bound is cut too, and its full size said; the program exits 0 and it is still no Success
    body = ok(tool_service, code="import sys\nsys.stderr.write('e' * 3_000_000)\nprint('done')", language="python")
    result = body["run_result"]
    assert body["status"] == "Failed" and result["truncated"] is True and result["return_code"] == 0
    assert result["stderr_bytes"] == 3_000_000 > len(result["stderr"]) > 0 and result["stdout"] == "done\n"


def test_memory_past_the_limit_fails_the_run(tool_service):
    body = ok(tool_service, code="x = bytearray(400 * 1024 * 1024)\nprint('survived')", language="python",
              memory_limit_MB=64)
    assert body["status"] == "Failed" and "survived" not in (body["run_result"]["stdout"] or "")


def test_files_go_in_and_fetched_files_come_back(tool_service):
    blob = bytes(range(256))
    code = ("data = open('in/blob.bin', 'rb').read()\n"
            "open('out.bin', 'wb').write(data[::-1])\n"
            "print(open('notes.txt').read())")
    body = ok(tool_service, code=code, language="python",
              files={"in/blob.bin": b64(blob), "notes.txt": b64(b"note")},
              fetch_files=["out.bin", "never-written.txt"])
    assert body["status"] == "Success" and body["run_result"]["stdout"] == "note\n"
    assert body["files"] == {"out.bin": b64(blob[::-1])}  # a missing file is simply absent


def test_files_a_compiled_program_reads(tool_service):
    code = '#include <fstream>\n#include <iostream>\nint main(){std::ifstream f("n.txt");int n;f>>n;std::cout<<n*2;}'
    body = ok(tool_service, code=code, language="cpp", files={"n.txt": b64(b"21")})
    assert body["status"] == "Success" and body["run_result"]["stdout"] == "42"


# -- bad input: a 4xx naming the field, nothing else affected ------------------------------------------------

@pytest.mark.parametrize("language", ["brainfuck", "go_test", "bash", ""])
def test_an_unknown_language_is_422_naming_those_we_run(tool_service, language):
    answer = run(tool_service, code="x", language=language)
    assert loc(answer) == ["body", "language"]
    message = answer.json()["detail"][0]["msg"]
    for name in ("python", "cpp", "java", "nodejs", "go", "rust"):
        assert name in message


@pytest.mark.parametrize("content", ["not base64!", "aGk", "aGk=\n=", "😀"])
def test_files_that_are_not_base64_are_422_naming_the_file(tool_service, content):
    answer = run(tool_service, code="print(1)", language="python", files={"data.txt": content})
    assert loc(answer) == ["body", "files", "data.txt"]
    assert "base64" in answer.json()["detail"][0]["msg"]


def test_too_large_files_are_422_naming_the_file(tool_service):
    files = {"a.bin": b64(b"a" * (MAX_FILE_BYTES - 10)), "b.bin": b64(b"b" * 20)}
    answer = run(tool_service, code="print(1)", language="python", files=files)
    assert loc(answer) == ["body", "files", "b.bin"]
    assert "REWARD_TOOL_MAX_FILE_BYTES" in answer.json()["detail"][0]["msg"]
    jupyter = run(tool_service, "/run_jupyter", cells=["1"], files=files)
    assert loc(jupyter) == ["body", "files", "b.bin"]


def test_too_many_files_are_422(tool_service):
    many = {f"f{i}.txt": b64(b"x") for i in range(4)}
    assert loc(run(tool_service, code="1", language="python", files=many)) == ["body", "files"]
    assert loc(run(tool_service, code="1", language="python", fetch_files=list(many))) == ["body", "fetch_files"]


@pytest.mark.parametrize("path", ["../escape.txt", "/etc/passwd", "a/../../b", "", ".", "a\x00b"])
def test_paths_outside_the_working_directory_are_422(tool_service, path):
    answer = run(tool_service, code="1", language="python", files={path: b64(b"x")})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"][:2] == ["body", "files"]
    fetch = run(tool_service, code="1", language="python", fetch_files=[path])
    assert fetch.status_code == 422 and fetch.json()["detail"][0]["loc"][:2] == ["body", "fetch_files"]


def test_unknown_fields_and_bad_limits_are_422(tool_service):
    assert loc(run(tool_service, code="1", language="python", run_timout=5)) == ["body", "run_timout"]
    assert loc(run(tool_service, code="1", language="python", run_timeout=0)) == ["body", "run_timeout"]
    assert loc(run(tool_service, code="1", language="python", memory_limit_MB=4)) == ["body", "memory_limit_MB"]
    assert loc(run(tool_service, "/run_jupyter", cells=["1"], kernel="ir")) == ["body", "kernel"]
    assert ok(tool_service, code="print(2)", language="python")["status"] == "Success"  # nothing else affected


def test_the_tool_endpoints_say_why_when_the_sandbox_is_off(service):
    """The shared fixture runs with REWARD_SANDBOX_BACKEND=none: 503 with the reason, never a 500."""
    for path, body in (("/run_code", {"code": "print(1)", "language": "python"}),
                       ("/run_jupyter", {"cells": ["1"]}), ("/sessions", {})):
        answer = httpx.post(service.url + path, json=body, timeout=30)
        assert answer.status_code == 503, answer.text
        assert "REWARD_SANDBOX_BACKEND=none" in answer.json()["detail"]


# -- /run_jupyter -------------------------------------------------------------------------------------------

def test_jupyter_keeps_state_across_cells_and_displays_the_last_value(tool_service):
    cells = ["a = 123", "a", "print(a)", "import sys; sys.stderr.write('to stderr')", "raise RuntimeError('boom')",
             "a + 1", "None", "a;"]
    body = ok(tool_service, "/run_jupyter", cells=cells)
    assert body["status"] == "Success" and body["driver"] is None and len(body["cells"]) == len(cells)
    first, shown, printed, err, raised, after, none, quiet = body["cells"]
    assert first["display"] == [] and first["error"] == [] and first["stdout"] == ""
    assert shown["display"] == [{"text/plain": "123"}]
    assert printed["stdout"] == "123\n" and printed["display"] == []
    assert "to stderr" in err["stderr"]
    assert raised["error"][0]["ename"] == "RuntimeError" and raised["error"][0]["evalue"] == "boom"
    assert raised["status"] == "Error" and "RuntimeError: boom" in raised["stderr"]
    assert after["display"] == [{"text/plain": "124"}]  # a cell that raised does not stop the notebook
    assert none["display"] == [] and quiet["display"] == []


def test_jupyter_state_is_gone_after_the_request(tool_service):
    ok(tool_service, "/run_jupyter", cells=["secret = 42", "open('left.txt', 'w').write('x')"])
    body = ok(tool_service, "/run_jupyter", cells=["secret", "import os; os.path.exists('left.txt')"])
    assert body["cells"][0]["error"][0]["ename"] == "NameError"
    assert body["cells"][1]["display"] == [{"text/plain": "False"}]


def test_jupyter_files_in_and_out(tool_service):
    body = ok(tool_service, "/run_jupyter", cells=["t = open('in.txt').read()", "open('out.txt', 'w').write(t * 2)"],
              files={"in.txt": b64(b"ab")}, fetch_files=["out.txt"])
    assert body["status"] == "Success" and body["files"] == {"out.txt": b64(b"abab")}


def test_jupyter_a_cell_past_its_time_limit_stops_the_rest(tool_service):
    body = ok(tool_service, "/run_jupyter", cells=["x = 1", "while True: pass", "x"], cell_timeout=1)
    assert body["status"] == "Failed" and len(body["cells"]) == 2
    assert body["cells"][1]["status"] == "TimeLimitExceeded" and "time limit" in body["message"]


def test_jupyter_total_timeout_bounds_the_whole(tool_service):
    body = ok(tool_service, "/run_jupyter", cells=["import time", "time.sleep(0.6)", "time.sleep(0.6)", "1"],
              total_timeout=1)
    assert body["status"] == "Failed" and len(body["cells"]) < 4
