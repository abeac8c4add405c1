"""The trusted runner: runs inside the sandbox, speaks line-delimited JSON on stdin/stdout. Stdlib only.

Protocol (one JSON object per line; any number of sessions on one stdin, until end of input):
    host → {"files": {name: text}, "compile": argv | null, "run": argv, "limits": {...}, ...}   (a session)
    runner → {"compile": {"ok": bool, "stderr": str, "time_s": float, ...}}
    host → {"stdin": str, "wall_s": float}   (one per test; the expected output never comes in)
    runner → {"stdout": str, "exit": int | null, "signal": int | null, "time_s": float, ...}
    host → {"stop": true}
    runner → {"end": true, "clean": bool}
Each program runs as a child in its own session with rlimits (CPU, file size, open files, optionally
address space and processes), a wall-clock limit (its whole process group is killed), capped output, and
peak memory from wait4. The runner is PID 1 of its sandbox, which makes it immune to signals from the
programs it runs (``kill -9 -1`` included), and it is not dumpable, so they cannot ptrace it or open its
pipes through /proc. With ``sweep`` set, the end of a session kills every other process in the sandbox,
reaps them and empties the writable directories, so nothing a submission did survives into the next one.
"""

import ctypes
import json
import os
import resource
import select
import shutil
import signal
import sys
import tempfile
import time

STDERR_KEEP = 4096
PR_SET_DUMPABLE = 4
# Imported once before Python programs are forked from this interpreter, so that each test does not pay for
# them again (LeetCode-style solutions import most of these through the harness's prelude).
PRELOAD = ("typing", "collections", "math", "heapq", "bisect", "itertools", "functools", "string", "re",
           "random", "json", "traceback", "types")
_preloaded = False


def _preload():
    global _preloaded
    if not _preloaded:
        import _sitebuiltins
        import builtins
        builtins.exit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")  # as ``site`` would (we run with -S)
        builtins.quit = _sitebuiltins.Quitter("quit", "Ctrl-D (i.e. EOF)")
        for name in PRELOAD:
            try:
                __import__(name)
            except ImportError:
                pass
        _preloaded = True


def _undumpable():
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except OSError:
        pass


def _send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _oom_kills():
    """The cgroup's OOM-kill counter (v2 memory.events or v1 memory.oom_control); None when unreadable."""
    for path, key in (("/sys/fs/cgroup/memory.events", "oom_kill"),
                      ("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill")):
        try:
            with open(path) as f:
                for line in f:
                    name, _, value = line.partition(" ")
                    if name == key:
                        return int(value)
        except OSError:
            continue
    return None


def _limit_child(limits, wall):
    os.setsid()
    cpu = max(1, int(wall + 1))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    fsize = limits["fsize_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if limits.get("address_space_mb"):
        size = limits["address_space_mb"] * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    if limits.get("nproc"):
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["nproc"], limits["nproc"]))
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)


def _run_python_here(argv, cwd):
    """In the forked child: run a Python program in this already started interpreter (no exec, no start-up
    cost), as ``python3 FILE`` would. Never returns."""
    import builtins
    import traceback
    import types
    script = next(a for a in argv[1:] if not a.startswith("-"))
    sys.argv, sys.path[0] = [script], cwd
    sys.stdin = open(0, encoding="utf-8", errors="surrogateescape", closefd=False)
    sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr  # type: ignore[misc]
    main = types.ModuleType("__main__")
    main.__file__, main.__builtins__ = script, builtins
    sys.modules["__main__"] = main
    code = 0
    try:
        with open(script, "rb") as f:
            source = f.read()
        exec(compile(source, script, "exec"), main.__dict__)
        _join_threads()
    except SystemExit as exc:
        _join_threads()
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException as exc:
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next  # the program's own frames only
        traceback.print_exception(type(exc), exc, tb)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            code = code or 120
    os._exit(code)


def _join_threads():
    """What interpreter exit does: wait for non-daemon threads (``Thread(target=main).start()`` is common)."""
    if "threading" in sys.modules:
        sys.modules["threading"]._shutdown()


def _spawn(argv, limits, wall, cwd, env, here=False):
    """Fork the limited child; returns (pid, stdin write end, stdout read end, stderr read end). With
    ``here``, a Python program runs in the fork itself instead of a new interpreter."""
    stdin_r, stdin_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.dup2(stdin_r, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            os.closerange(3, 4096)
            os.chdir(cwd)
            _limit_child(limits, wall)
            if here:
                os.environ.clear()
                os.environ.update(env)
                signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as a fresh interpreter has it
                _run_python_here(argv, cwd)
            os.execvpe(argv[0], argv, env)
        except BaseException as exc:
            os.write(2, f"exec failed: {exc!r}".encode())
        os._exit(127)
    for fd in (stdin_r, out_w, err_w):
        os.close(fd)
    return pid, stdin_w, out_r, err_r


def _feed(writer, data):
    """Write the next piece of stdin; close it when done (or when the program stopped reading)."""
    try:
        data = data[os.write(writer, data[:65536]):]
    except OSError:
        data = b""
    if not data:
        os.close(writer)
        return None, data
    return writer, data


def _read_ready(ready, readers, out_r, cap):
    """Read what ``ready`` pipes hold into their buffers (closing them at EOF); True once stdout passes ``cap``."""
    for fd in ready:
        chunk = os.read(fd, 65536)
        if not chunk:
            os.close(fd)
            del readers[fd]
            continue
        buf = readers[fd]
        buf += chunk
        if fd != out_r and len(buf) > 2 * STDERR_KEEP:  # the tail only: a flood of stderr must not grow us
            del buf[:-STDERR_KEEP]
    return out_r in readers and len(readers[out_r]) > cap


def _pump(pid, data, stdin_w, out_r, err_r, deadline, cap):
    """Feed stdin and collect output until the program exits (a daemon holding its pipes does not count),
    the deadline passes or stdout passes ``cap``. Returns (out, err, timed_out, over, wait4 result or None)."""
    out, err = bytearray(), bytearray()
    readers = {out_r: out, err_r: err}
    writer = stdin_w
    if not data:
        os.close(stdin_w)
        writer = None
    pidfd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None
    timed_out = over = False
    exited = drain_until = None
    while not over:
        now = time.monotonic()
        if exited is None:
            reaped = os.wait4(pid, os.WNOHANG)
            if reaped[0] == pid:
                exited, drain_until = reaped, now + 0.05  # read what is already in the pipes, then stop
        if exited is not None and (not readers or now >= drain_until):
            break
        if exited is None and now >= deadline:
            timed_out = True
            break
        waiting = list(readers) + ([pidfd] if pidfd is not None and exited is None else [])
        timeout = min(deadline - now, 0.01 if pidfd is None or exited is not None else 1.0)
        ready_r, ready_w, _ = select.select(waiting, [writer] if writer is not None else [], [], max(timeout, 0))
        if ready_w:
            writer, data = _feed(writer, data)
        over = _read_ready([fd for fd in ready_r if fd != pidfd], readers, out_r, cap)
    for fd in list(readers) + [fd for fd in (writer, pidfd) if fd is not None]:
        os.close(fd)
    return out, err, timed_out, over, exited


def run_program(argv, stdin_text, limits, wall, cwd, env, here=False):
    """Run ``argv`` once under ``limits``; everything the host needs to judge it, but no judgement."""
    oom_before = _oom_kills()
    started = time.monotonic()
    pid, stdin_w, out_r, err_r = _spawn(argv, limits, wall, cwd, env, here)
    cap = limits["output_bytes"]
    out, err, timed_out, over, exited = _pump(pid, stdin_text.encode(), stdin_w, out_r, err_r, started + wall, cap)
    _kill_group(pid)  # the program's own children go with it
    if exited is None:
        exited = os.wait4(pid, 0)
    _, status, usage = exited
    elapsed = time.monotonic() - started
    oom_after = _oom_kills()
    return {
        "stdout": bytes(out[:cap]).decode("utf-8", "replace"),
        "stderr": bytes(err[-STDERR_KEEP:]).decode("utf-8", "replace"),
        "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "time_s": round(elapsed, 4),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 4),
        "max_rss_kb": usage.ru_maxrss,
        "timed_out": timed_out,
        "output_limit": over,
        "oom": oom_before is not None and oom_after is not None and oom_after > oom_before,
    }


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def _others():
    me = os.getpid()
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me)]


def _reap():
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return


def _empty(directory):
    """Remove everything in ``directory``; True when it is empty afterwards (or does not exist)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return True
    for name in names:
        path = os.path.join(directory, name)
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
        except OSError:
            pass
    return not os.listdir(directory)


def _sweep(wipe):
    """Kill and reap every process in the sandbox but this runner (daemons, fork bombs; kill(-1) reaches them
    all at once), then empty the writable directories. True when the sandbox is clean."""
    deadline = time.monotonic() + 2.0
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        _reap()
        if not _others():
            break
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return all([_empty(d) for d in wipe])


def _messages():
    while True:
        line = sys.stdin.buffer.readline()
        if not line:
            return
        if line.strip():
            yield json.loads(line)


def _session(job, messages):
    """One submission: write its files, compile, run one test per message until ``stop``."""
    limits = job["limits"]
    work = tempfile.mkdtemp(prefix="run-", dir=job.get("workdir_base") or tempfile.gettempdir())
    os.chmod(work, 0o700)
    result_path = os.path.join(work, ".result.json")
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": work, "TMPDIR": work, "LANG": "C.UTF-8",
           "PYTHONDONTWRITEBYTECODE": "1", "SANDBOX_RESULT": result_path}
    try:
        for name, text in job["files"].items():
            with open(os.path.join(work, name), "w") as f:
                f.write(text)
        built = True
        here = bool(job.get("python_inproc")) and os.path.basename(job["run"][0]) in ("python3", "python")
        if here:
            _preload()
        if job.get("compile"):
            compile_limits = job["compile_limits"]
            result = run_program(job["compile"], "", compile_limits, compile_limits["wall_s"], work, env)
            built = result["exit"] == 0 and not result["timed_out"]
            _send({"compile": {"ok": built, **result}})
        else:
            _send({"compile": {"ok": True}})
        for msg in messages:
            if msg.get("stop"):
                return
            if not built:
                _send({"error": "the program did not compile"})
                continue
            try:
                os.unlink(result_path)
            except OSError:
                pass
            result = run_program(job["run"], msg["stdin"], limits, msg.get("wall_s") or limits["wall_s"], work, env,
                                 here)
            try:
                with open(result_path) as f:
                    result["result"] = f.read(limits["output_bytes"] + 1)
                result["output_limit"] |= len(result["result"]) > limits["output_bytes"]
            except OSError:
                result["result"] = None
            _send(result)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    _undumpable()
    if "--preload" in sys.argv:  # a warm sandbox waiting for its first job: get the imports done now
        _preload()
    messages = _messages()
    for job in messages:
        if job.get("stop"):
            continue
        try:
            _session(job, messages)
        except Exception as exc:  # report it; the host treats it as a sandbox error and recycles
            _send({"error": f"runner: {exc!r}"})
        clean = _sweep(job.get("wipe") or []) if job.get("sweep") else True
        _send({"end": True, "clean": clean})


if __name__ == "__main__":
    main()
