"""``sandbox.tool.execute``: one program run as SandboxFusion's /run_code runs it (compile, run with stdin,
files in and out), in a real sandbox. Each runs on Docker and on bubblewrap."""

from __future__ import annotations

import statistics
import time

import pytest

from sandbox import Limits, get_language
from sandbox.backends.local import LocalBackend
from sandbox.runner import Answer, Build, Job, RunLimits
from sandbox.sandboxed import Sandboxed
from sandbox.tool import ToolError, _job, execute
from tests.sandbox.test_protocol import conforms

PY, CPP = get_language("python"), get_language("cpp")
LIMITS = Limits(time_s=5.0)


def test_stdin_in_stdout_out(backend):
    done = execute("print(input()[::-1])", PY, backend, stdin="olleh\n", limits=LIMITS)
    assert done.compile is None and done.sandbox_error is None and done.files == {}
    assert (done.run.status, done.run.return_code, done.run.stdout, done.run.stderr) == ("Finished", 0, "hello\n", "")
    assert not done.run.truncated and done.run.stdout_bytes == 6 and done.run.execution_time > 0


def test_a_non_zero_exit_or_a_signal_is_finished_with_its_code_and_the_output_kept(backend):
    """SandboxFusion's terms: the process ended by itself (Finished, its code); Error would say the sandbox
    failed, which clients take for an infrastructure failure and retry."""
    exited = execute("import sys\nprint('before')\nsys.stderr.write('why')\nsys.exit(3)", PY, backend, limits=LIMITS)
    assert (exited.run.status, exited.run.return_code, exited.run.stdout, exited.run.stderr) == (
        "Finished", 3, "before\n", "why")
    killed = execute("import os, signal\nprint('x', flush=True)\nos.kill(os.getpid(), signal.SIGKILL)", PY, backend,
                     limits=LIMITS)
    assert (killed.run.status, killed.run.return_code, killed.run.stdout) == ("Finished", -9, "x\n")


def test_cpp_compiles_then_runs(backend):
    code = "#include <iostream>\nint main() { int a, b; std::cin >> a >> b; std::cout << a + b << '\\n'; return 0; }\n"
    done = execute(code, CPP, backend, stdin="2 40\n", limits=LIMITS)
    assert done.compile.status == "Finished" and done.compile.return_code == 0
    assert (done.run.status, done.run.stdout) == ("Finished", "42\n")


def test_a_compile_error_has_the_compilers_output_and_no_run(backend):
    done = execute("int main() { retur 3; }\n", CPP, backend, limits=LIMITS)
    assert done.compile.status == "Finished" and done.compile.return_code not in (0, None)
    assert "retur" in done.compile.stderr and done.run is None and done.sandbox_error is None


def test_a_program_past_its_time_limit(backend):
    done = execute("while True:\n    pass\n", PY, backend, limits=Limits(time_s=1.0))
    assert (done.run.status, done.run.return_code) == ("TimeLimitExceeded", None)


def test_a_program_past_its_memory_ends_with_a_non_zero_code(backend):
    done = execute("b = b'x' * (1 << 30)\nprint('survived')", PY, backend, limits=Limits(memory_mb=128))
    assert done.run.status == "Finished" and done.run.return_code not in (0, None)
    assert "survived" not in done.run.stdout


def test_output_past_the_bound_is_cut_and_said_with_its_full_size(backend):
    limits = Limits(output_bytes=1000)
    flood = execute("print('x' * 5000)", PY, backend, limits=limits)
    assert flood.run.truncated and flood.run.status == "Finished"  # the service answers Failed: never a quiet success
    assert flood.run.return_code in (0, -9)  # it may end by itself before the runner stops it
    assert flood.run.stdout == "x" * 1000 and flood.run.stdout_bytes == 5001
    noisy = execute("import sys\nsys.stderr.write('e' * 5000)\nprint('ok')", PY, backend, limits=limits)
    assert (noisy.run.status, noisy.run.stdout, noisy.run.truncated) == ("Finished", "ok\n", True)
    assert noisy.run.stderr == "e" * 1000 and noisy.run.stderr_bytes == 5000


def test_files_go_in_binary_safe_and_come_back(backend):
    data = bytes(range(256)) + b"\x00\x00end"
    code = ("data = open('in/data.bin', 'rb').read()\n"
            "open('out.bin', 'wb').write(data[::-1])\n"
            "print(len(data), open('notes.txt').read())\n")
    done = execute(code, PY, backend, limits=LIMITS, files={"in/data.bin": data, "notes.txt": b"hi"},
                   fetch=["out.bin", "in/data.bin", "never-written.txt"])
    assert done.run.stdout == f"{len(data)} hi\n"
    assert done.files == {"out.bin": data[::-1], "in/data.bin": data}  # a missing file is simply absent


def test_a_compiled_program_reads_files_and_writes_them_back(backend):
    code = ("#include <fstream>\nint main() { std::ifstream in(\"n.txt\"); int n; in >> n;\n"
            "std::ofstream(\"twice.txt\") << 2 * n; }\n")
    done = execute(code, CPP, backend, limits=LIMITS, files={"n.txt": b"21"}, fetch=["twice.txt"])
    assert done.run.status == "Finished" and done.files == {"twice.txt": b"42"}


@pytest.mark.parametrize(("field", "value"), [
    ("fetch", ["/etc/passwd"]), ("fetch", ["../outside"]), ("fetch", ["a/../../b"]), ("fetch", [""]),
    ("files", {"/tmp/x": b""}), ("files", {"../x": b""}), ("files", {"main.py": b"print(2)"}),
    ("files", {"big": b"x" * ((Limits().file_size_mb << 20) + 1)}),
])
def test_bad_paths_and_files_are_refused_before_anything_runs(field, value):
    with pytest.raises(ToolError, match=field):
        execute("print(1)", PY, None, limits=LIMITS, **{field: value})  # no backend: nothing may start


def test_print_latency_is_measured(backend):
    """Not a timed assertion: prints execute()'s latency for ``print(1)`` on this backend."""
    times = []
    for _ in range(20):
        started = time.perf_counter()
        assert execute("print(1)", PY, backend, limits=LIMITS).run.stdout == "1\n"
        times.append(time.perf_counter() - started)
    print(f"\nexecute(print(1)) on {backend.name}: p50 {statistics.median(times) * 1000:.1f} ms, "
          f"max {max(times) * 1000:.1f} ms")


def test_what_crosses_to_the_runner_is_typed():
    """The job and the answers of a tool call have exactly the typed keys (CI runs mypy --strict on the
    runner's side): the caller's files, stderr's bound, the fetch and what it brings back."""
    backend = LocalBackend()
    message = _job(PY.program("import sys\nsys.stdout.write(open('in.txt').read())"), LIMITS, backend,
                   {"in.txt": "aGk="})
    assert conforms(message, Job) and conforms(message["limits"], RunLimits)
    assert message["limits"]["stderr_bytes"] == LIMITS.output_bytes and message["b64files"] == {"in.txt": "aGk="}
    sandboxed = Sandboxed(backend, LIMITS)
    try:
        sandboxed.send(message)
        built = sandboxed.recv(10)["compile"]
        sandboxed.send({"stdin": "", "wall_s": 5.0, "fetch": ["in.txt", "absent"], "fetch_bytes": 100})
        ran = sandboxed.recv(10)
    finally:
        sandboxed.close()
    assert conforms(built, Build) and conforms(ran, Answer)
    assert (ran["stdout"], ran["stdout_bytes"], ran["fetched"]) == ("hi", 2, {"in.txt": "aGk="})
