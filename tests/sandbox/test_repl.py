"""``sandbox.tool.Repl``: a Python process in a sandbox of its own that keeps its state across cells (the
sessions and /run_jupyter of issue 18). Each runs on Docker and on bubblewrap."""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid

import pytest

from sandbox import Limits
from sandbox.tool import Repl, ReplGone, ToolError

LIMITS = Limits(memory_mb=256)


@pytest.fixture
def repl(backend):
    session = Repl(backend, LIMITS, lifetime_s=120)
    yield session
    session.close()


def test_variables_imports_and_files_persist_across_cells(repl):
    assert repl.run("import math\nx = 41", timeout_s=5).status == "Finished"
    assert repl.run("open('notes.txt', 'w').write(str(x + 1))", timeout_s=5).status == "Finished"
    third = repl.run("print(math.sqrt(16))\nopen('notes.txt').read()", timeout_s=5)
    assert (third.status, third.stdout, third.display) == ("Finished", "4.0\n", [{"text/plain": "'42'"}])
    assert repl.fetch(["notes.txt", "absent.txt"]) == {"notes.txt": b"42"}


def test_the_last_expression_is_displayed_as_a_notebook_does(repl):
    assert repl.run("x = 1", timeout_s=5).display == []
    assert repl.run("x + 1", timeout_s=5).display == [{"text/plain": "2"}]
    assert repl.run("[x] * 2", timeout_s=5).display == [{"text/plain": "[1, 1]"}]
    assert repl.run("None", timeout_s=5).display == []
    printed = repl.run("print('shown')", timeout_s=5)  # print returns None: output, no display
    assert (printed.stdout, printed.display) == ("shown\n", [])
    assert repl.run("x;", timeout_s=5).display == []  # IPython's trailing semicolon


def test_a_cell_gets_its_stdin(repl):
    assert repl.run("input() + input()", timeout_s=5, stdin="ab\ncd\n").display == [{"text/plain": "'abcd'"}]


def test_an_exception_is_an_error_and_the_session_goes_on(repl):
    repl.run("y = 7", timeout_s=5)
    failed = repl.run("def f():\n    return undefined_name\nf()", timeout_s=5)
    assert failed.status == "Error" and failed.error == "NameError: name 'undefined_name' is not defined"
    assert "Traceback" in failed.stderr and 'File "<cell-' in failed.stderr and "cell_exec" not in failed.stderr
    assert repl.run("y", timeout_s=5).display == [{"text/plain": "7"}] and repl.alive
    syntax = repl.run("y = (", timeout_s=5)
    assert syntax.status == "Error" and syntax.error.startswith("SyntaxError")


def test_a_timeout_in_python_interrupts_the_cell_and_the_session_goes_on(repl):
    repl.run("z = 5", timeout_s=5)
    slow = repl.run("import time\ntime.sleep(60)", timeout_s=0.5)
    assert slow.status == "TimeLimitExceeded" and slow.error.startswith("TimeoutError")
    swallowed = repl.run("import time\ntry:\n    time.sleep(60)\nexcept BaseException:\n    pass", timeout_s=0.5)
    assert swallowed.status == "TimeLimitExceeded"  # it ran past its time, whatever it did with the exception
    assert repl.alive and repl.run("z", timeout_s=5).display == [{"text/plain": "5"}]


def test_a_cell_that_cannot_be_interrupted_is_killed_with_its_session(repl):
    stuck = repl.run("import signal\nsignal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\nwhile True:\n"
                     "    pass\n", timeout_s=0.5)
    assert stuck.status == "TimeLimitExceeded" and not repl.alive
    with pytest.raises(ReplGone, match="did not stop"):
        repl.run("1", timeout_s=5)


def test_a_memory_bomb_ends_the_session_and_says_why(repl):
    with pytest.raises(ReplGone, match="memory"):
        repl.run("b = b'x' * (1 << 30)", timeout_s=30)
    assert not repl.alive
    with pytest.raises(ReplGone, match="memory"):
        repl.fetch(["anything"])


def test_output_written_to_fd_1_and_by_a_subprocess_is_captured(repl):
    cell = repl.run("import os, subprocess, sys\nprint('print')\nos.write(1, b'fd1\\n')\n"
                    "subprocess.run(['echo', 'child'])\nsubprocess.run(['sh', '-c', 'echo err >&2'])\n"
                    "sys.stderr.write('stderr\\n')", timeout_s=10)
    assert (cell.status, cell.stdout, cell.stderr) == ("Finished", "print\nfd1\nchild\n", "err\nstderr\n")
    assert repl.run("print('next')", timeout_s=5).stdout == "next\n"  # nothing of the last cell's output


def test_output_past_the_bound_is_cut_and_said(backend):
    repl = Repl(backend, Limits(output_bytes=1000), lifetime_s=60)
    try:
        cell = repl.run("print('x' * 5000)\n'y' * 5000", timeout_s=5)
        assert cell.status == "Finished" and cell.truncated
        assert cell.stdout == "x" * 1000 and len(cell.display[0]["text/plain"]) == 1000
    finally:
        repl.close()


def test_two_repls_see_nothing_of_each_other(backend):
    first, second = Repl(backend, LIMITS, lifetime_s=60), Repl(backend, LIMITS, lifetime_s=60)
    try:
        first.run("secret = 'first'\nopen('secret.txt', 'w').write(secret)", timeout_s=5)
        peek = second.run("import os\nprint(sorted(os.listdir('.')))\nsecret", timeout_s=5)
        assert (peek.status, peek.stdout, peek.error) == ("Error", "[]\n", "NameError: name 'secret' is not defined")
        assert second.fetch(["secret.txt"]) == {}
    finally:
        first.close()
        second.close()


def _running(marker: str) -> bool:
    """Whether a process whose command line holds ``marker`` runs on this machine (sandboxes share its kernel)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    return True
        except OSError:
            continue
    return False


def test_close_does_not_wait_for_a_running_cell(backend):
    """A DELETE during a 60 s cell: the cell's process is killed, that call says the session was closed."""
    repl = Repl(backend, LIMITS, lifetime_s=120)
    outcome: list[BaseException | object] = []

    def run() -> None:
        try:
            outcome.append(repl.run("while True:\n    pass", timeout_s=60))
        except ReplGone as exc:
            outcome.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    time.sleep(0.5)  # the cell is running
    closer = threading.Thread(target=repl.close)
    closer.start()
    closer.join(timeout=20)
    runner.join(timeout=20)
    assert not closer.is_alive() and not runner.is_alive()  # neither waited for the cell's 60 s
    [gone] = outcome
    assert isinstance(gone, ReplGone) and str(gone) == "the session was closed" and not repl.alive


def test_close_ends_the_process_and_leaves_nothing_for_the_next(backend):
    marker = f"{uuid.uuid4().int % 10**6}.{uuid.uuid4().int % 10**6}"  # a sleep of a unique length
    repl = Repl(backend, LIMITS, lifetime_s=60)
    repl.run(f"import subprocess\nopen('left.txt', 'w').write('x')\nsubprocess.Popen(['sleep', '{marker}'], "
             "start_new_session=True)", timeout_s=5)
    assert _running(marker)
    repl.close()
    repl.close()  # idempotent
    deadline = time.monotonic() + 15
    while _running(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(marker) and not repl.alive
    with pytest.raises(ReplGone, match="closed"):
        repl.run("1", timeout_s=5)
    after = Repl(backend, LIMITS, lifetime_s=60)  # on Docker, possibly the same container, swept
    try:
        assert after.run("import os\nsorted(os.listdir('.'))", timeout_s=5).display == [{"text/plain": "[]"}]
    finally:
        after.close()


def test_a_repl_outlives_the_thread_that_made_it(backend):
    made: list[Repl] = []
    thread = threading.Thread(target=lambda: made.append(Repl(backend, LIMITS, lifetime_s=60)))
    thread.start()
    thread.join()
    try:
        time.sleep(0.5)  # bubblewrap sandboxes die with the thread that starts them: not a Repl's
        assert made[0].run("6 * 7", timeout_s=5).display == [{"text/plain": "42"}]
    finally:
        made[0].close()


def test_a_repl_ends_with_its_lifetime(backend):
    repl = Repl(backend, LIMITS, lifetime_s=1.0)
    try:
        time.sleep(1.5)
        with pytest.raises(ReplGone, match="lifetime"):
            repl.run("1", timeout_s=0.5)
    finally:
        repl.close()


def test_files_given_at_start_and_bad_paths(backend):
    repl = Repl(backend, LIMITS, lifetime_s=60, files={"data/in.bin": b"\x00\x01\x02"})
    try:
        assert repl.run("open('data/in.bin', 'rb').read()", timeout_s=5).display == [{"text/plain": "b'\\x00\\x01\\x02'"}]
        for bad in (["/etc/passwd"], ["../x"], ["data/../../x"]):
            with pytest.raises(ToolError, match="fetch"):
                repl.fetch(bad)
        linked = repl.run("import os\nos.symlink('/usr/lib/os-release', 'link')\nlen(open('link').read()) > 0",
                          timeout_s=5)
        assert linked.display == [{"text/plain": "True"}]  # the cell reads it; a fetch never follows a symlink
        assert repl.fetch(["link", "data/in.bin"]) == {"data/in.bin": b"\x00\x01\x02"}
        assert repl.alive
    finally:
        repl.close()
    with pytest.raises(ToolError, match="files"):
        Repl(None, LIMITS, lifetime_s=60, files={"../escape": b""})  # refused before a sandbox is asked for


def test_cell_round_trip_is_measured(repl, backend):
    """Not a timed assertion: prints the round trip of a ``x = x + 1`` cell (the issue's target: p50 <= 10 ms)."""
    repl.run("x = 0", timeout_s=5)
    times = []
    for _ in range(200):
        started = time.perf_counter()
        repl.run("x = x + 1", timeout_s=5)
        times.append(time.perf_counter() - started)
    assert repl.run("x", timeout_s=5).display == [{"text/plain": "200"}]
    times.sort()
    print(f"\ncell round trip on {backend.name}: p50 {statistics.median(times) * 1000:.2f} ms, "
          f"p99 {times[int(len(times) * 0.99)] * 1000:.2f} ms")
