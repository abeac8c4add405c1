"""Hostile submissions, on both backends: each gets the right verdict and the next submission is judged right."""

from __future__ import annotations

import os
import socket
import textwrap
import threading
import time

import pytest

from sandbox import Limits, Verdict, get_language, judge, parse_tests

LIMITS = Limits(time_s=2.0, memory_mb=256, tmpfs_mb=32, file_size_mb=64)
PY = get_language("python")
SAFE = parse_tests([{"input": "", "output": "SAFE"}])


def run(backend, code: str, suite=SAFE, limits: Limits = LIMITS):
    return judge(textwrap.dedent(code), PY, suite, backend, limits)


def assert_still_serving(backend):
    suite = parse_tests({"inputs": ["2 3\n", "10 -4\n"], "outputs": ["5\n", "6\n"]})
    report = run(backend, "a, b = map(int, input().split())\nprint(a + b)\n", suite)
    assert report.verdict is Verdict.accepted, report


CASES = {
    "fork_bomb": ("import os\nwhile True:\n    os.fork()\n", {Verdict.runtime_error, Verdict.time_limit}),
    "memory_bomb": ("x = bytearray(2 << 30)\nx[::4096] = b'1' * len(x[::4096])\n", {Verdict.memory_limit}),
    "growing_memory": ("a = []\nwhile True:\n    a.append(' ' * 10**7)\n", {Verdict.memory_limit}),
    "infinite_loop": ("while True:\n    pass\n", {Verdict.time_limit}),
    "sleep_forever": ("import time\ntime.sleep(10**6)\n", {Verdict.time_limit}),
    "stderr_flood": ("import sys\nfor _ in range(100000):\n    sys.stderr.write('e' * 1000)\nprint('SAFE')\n",
                     {Verdict.accepted}),
    "giant_output": ("while True:\n    print('x' * 10000)\n", {Verdict.output_limit}),
    # The runner is PID 1 of its sandbox: signals from inside do not reach it; kill(-1) finds at most the
    # zygote that starts Python programs (then it prints SAFE), which the runner restarts for the next one.
    "kill_everything": ("import os, signal\nos.kill(-1, signal.SIGKILL)\nprint('SAFE')\n",
                        {Verdict.runtime_error, Verdict.accepted}),
    "kill_and_stop_the_runner": ("""
        import os, signal
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in (1, os.getppid()):
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
        print('SAFE')
        """, {Verdict.accepted}),
    # Every signal a handler could catch, to the runner and every other process (a Python PID 1 has a SIGINT
    # handler unless it ignores it).
    "signal_everyone": ("""
        import os, signal, time
        me = os.getpid()
        for sig in sorted(signal.valid_signals() - {signal.SIGKILL, signal.SIGSTOP}):
            for pid in {1, os.getppid(), *(int(p) for p in os.listdir('/proc') if p.isdigit())} - {me}:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
        time.sleep(0.2)
        print('SAFE')
        """, {Verdict.accepted}),
    # ... and neither it nor any other process (the Python zygote) is dumpable: no ptrace (which could freeze
    # it or rewrite its answers), no /proc/PID/mem, no /proc/PID/fd.
    "ptrace_the_runner": ("""
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        others = {1, os.getppid(), *(int(p) for p in os.listdir('/proc') if p.isdigit())} - {os.getpid()}
        attached = [pid for pid in others if libc.ptrace(16, pid, 0, 0) == 0]  # PTRACE_ATTACH
        for pid in others:
            for path in (f'/proc/{pid}/mem', f'/proc/{pid}/fd/0', f'/proc/{pid}/environ'):
                try:
                    open(path, 'rb').read(1)
                    attached.append(path)
                except OSError:
                    pass
            try:
                os.listdir(f'/proc/{pid}/fd')
                attached.append(f'/proc/{pid}/fd')
            except OSError:
                pass
        print('SAFE' if not attached else f'ATTACHED {attached}')
        """, {Verdict.accepted}),
    "fill_dev_shm": ("""
        i = 0
        while True:
            with open(f'/dev/shm/x{i}', 'wb') as f:
                f.write(b'x' * (1 << 20))
            i += 1
        """, {Verdict.runtime_error, Verdict.memory_limit}),
    "write_outside_workdir": ("""
        for path in ('/etc/pwned', '/usr/pwned', '/pwned', '/opt/pwned'):
            try:
                open(path, 'w').write('x')
                print('WROTE', path)
            except OSError:
                pass
        print('SAFE')
        """, {Verdict.accepted}),
    "fill_the_tmpfs": ("""
        with open('big', 'wb') as f:
            while True:
                f.write(b'x' * (1 << 20))
        """, {Verdict.runtime_error}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_submission(backend, case):
    code, verdicts = CASES[case]
    report = run(backend, code)
    assert report.verdict in verdicts, report
    assert_still_serving(backend)


EVERY_OTHER_PROCESS = """
    import os, signal
    for p in os.listdir('/proc'):
        if p.isdigit() and int(p) != os.getpid():
            try:
                os.kill(int(p), signal.SIG{0})
            except OSError:
                pass
    print('SAFE')
    """


@pytest.mark.parametrize("sig", ["KILL", "STOP"])
def test_killing_or_stopping_every_other_process_hurts_no_later_test(backend, sig):
    # What a program can reach besides the runner (the zygote that starts Python programs, under the same uid)
    # it can kill or stop: the next test, and the next submission, must run as if nothing happened.
    report = run(backend, EVERY_OTHER_PROCESS.format(sig), parse_tests([{"input": "", "output": "SAFE"}] * 3))
    assert report.verdict is Verdict.accepted and report.passed == 3, report
    assert_still_serving(backend)


def test_no_network_even_to_the_hosts_loopback(backend):
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    port = server.getsockname()[1]
    report = run(backend, f"""
        import socket
        try:
            socket.create_connection(('127.0.0.1', {port}), timeout=2)
            print('CONNECTED')
        except OSError:
            print('SAFE')
        """)
    try:
        server.accept()
        reached = True
    except TimeoutError:
        reached = False
    server.close()
    assert not reached and report.verdict is Verdict.accepted, report


def test_host_secrets_and_files_are_invisible(backend, tmp_path, monkeypatch):
    secret = "s3cr3t-" + os.urandom(8).hex()
    monkeypatch.setenv("REWARD_TEST_SECRET", secret)
    host_file = tmp_path / "secret.txt"
    host_file.write_text(secret)
    report = run(backend, f"""
        import os
        seen = ' '.join(os.environ.values())
        for path in ({str(host_file)!r}, '/proc/1/environ', '/etc/shadow', '/root/.bash_history'):
            try:
                seen += open(path, errors='replace').read()
            except OSError:
                pass
        print('LEAK' if {secret!r} in seen or 'REWARD_' in seen else 'SAFE')
        """)
    assert report.verdict is Verdict.accepted, report


def test_a_daemon_does_not_outlive_its_run(backend):
    daemon = """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(1.5)
                for d in ('.', '/work', '/tmp'):
                    try:
                        open(os.path.join(d, 'DAEMON_WAS_HERE'), 'w').write('x')
                    except OSError:
                        pass
                time.sleep(60)
            os._exit(0)
        print('SAFE')
        """
    assert run(backend, daemon).verdict is Verdict.accepted
    report = run(backend, """
        import os, time
        time.sleep(2.5)
        me = os.getpid()
        others = []
        for p in os.listdir('/proc'):
            if p.isdigit() and int(p) not in (1, me, os.getppid()):
                try:
                    others.append(open(f'/proc/{p}/cmdline').read())
                except OSError:
                    pass
        marks = [os.path.join(r, f) for d in ('/work', '/tmp') for r, _, fs in os.walk(d) for f in fs
                 if f == 'DAEMON_WAS_HERE']
        ours = ('harness', 'runner.py')  # the runner's zygote is a python3 too
        print('SAFE' if not marks and not any('python' in c and not any(o in c for o in ours) for c in others) else
              f'DIRTY {marks} {others}')
        """, limits=Limits(time_s=5.0, memory_mb=256))
    assert report.verdict is Verdict.accepted, report


def test_nothing_written_survives_into_the_next_submission(backend):
    litter = """
        import os
        for d in ('/work', '/tmp', '/dev/shm', '/dev/mqueue', '..', '.'):
            try:
                open(os.path.join(d, 'LITTER'), 'w').write('x')
            except OSError:
                pass
        print('SAFE')
        """
    assert run(backend, litter).verdict is Verdict.accepted
    report = run(backend, """
        import os
        found = [os.path.join(r, f) for d in ('/work', '/tmp', '/dev/shm', '/dev/mqueue')
                 for r, _, fs in os.walk(d) for f in fs if f == 'LITTER']
        print('SAFE' if not found else f'FOUND {found}')
        """)
    assert report.verdict is Verdict.accepted, report


def test_the_whole_submission_has_a_time_budget(backend):
    suite = parse_tests([{"input": "", "output": "SAFE"}] * 6)
    started = time.monotonic()
    report = judge("import time\ntime.sleep(0.7)\nprint('SAFE')\n", PY, suite, backend,
                   Limits(time_s=2.0, item_time_s=2.0), stop_on_failure=False)
    assert time.monotonic() - started < 4.0
    assert report.tests[0].verdict is Verdict.accepted and report.tests[-1].verdict is Verdict.time_limit, report
    assert_still_serving(backend)


def test_concurrent_submissions_cannot_read_each_other(backend):
    secret = "other-" + os.urandom(8).hex()
    writer = f"""
        import time
        open('mine.txt', 'w').write({secret!r})
        time.sleep(2)
        print('SAFE')
        """
    reader = f"""
        import os, time
        secret = {secret[::-1]!r}[::-1]  # not in this file's own text
        time.sleep(0.5)
        found = []
        for top in ('/work', '/tmp', '/'):
            for root, dirs, files in os.walk(top):
                if root.startswith(('/proc', '/sys', '/usr', '/dev')):
                    dirs[:] = []
                    continue
                for f in files:
                    try:
                        if secret in open(os.path.join(root, f), errors='ignore').read(4096):
                            found.append(os.path.join(root, f))
                    except OSError:
                        pass
        print('LEAK' if found else 'SAFE')
        """
    results = {}
    limits = Limits(time_s=5.0, memory_mb=256)
    t = threading.Thread(target=lambda: results.setdefault("writer", run(backend, writer, limits=limits)))
    t.start()
    time.sleep(0.2)
    results["reader"] = run(backend, reader, limits=limits)
    t.join()
    assert results["reader"].verdict is Verdict.accepted, results["reader"]
    assert results["writer"].verdict is Verdict.accepted, results["writer"]
