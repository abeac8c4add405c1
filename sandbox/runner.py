"""The trusted runner: runs inside the sandbox, speaks line-delimited JSON on stdin/stdout. Stdlib only.

Protocol (one JSON object per line):
    host → {"files": {name: text}, "compile": argv | null, "run": argv, "limits": {...}}
    runner → {"compile": {"ok": bool, "stderr": str, "time_s": float, ...}}
    host → {"stdin": str}        (one per test; the expected output never comes in)
    runner → {"stdout": str, "exit": int | null, "signal": int | null, "time_s": float, ...}
    host → {"stop": true}  or end of input
Each program runs as a child in its own session with rlimits (CPU, file size, open files, optionally
address space), a wall-clock limit (the whole process group is killed), capped output, and peak memory from
wait4. When the session ends every other process in the sandbox is killed and the work dir removed, so
nothing a submission started survives into the next one.
"""

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


def _limit_child(limits):
    def apply():
        os.setsid()
        cpu = int(limits["cpu_s"])
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
    return apply


def _spawn(argv, limits, cwd, env):
    """Fork the limited child; returns (pid, stdin write end, stdout read end, stderr read end)."""
    stdin_r, stdin_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.dup2(stdin_r, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            for fd in (stdin_r, stdin_w, out_r, out_w, err_r, err_w):
                os.close(fd)
            os.chdir(cwd)
            _limit_child(limits)()
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


def _pump(pid, data, stdin_w, out_r, err_r, deadline, cap):
    """Feed stdin and collect output until the program exits (a daemon holding its pipes does not count),
    the deadline passes or stdout passes ``cap``. Returns (out, err, timed_out, over, wait4 result or None)."""
    out, err = bytearray(), bytearray()
    readers = {out_r: out, err_r: err}
    writer = stdin_w
    if not data:
        os.close(stdin_w)
        writer = None
    timed_out = over = False
    exited = None
    drain_until = None
    while readers and not over:
        now = time.monotonic()
        if exited is None:
            reaped = os.wait4(pid, os.WNOHANG)
            if reaped[0] == pid:
                exited, drain_until = reaped, now + 0.05  # read what is already in the pipes, then stop
        if drain_until is not None and now >= drain_until:
            break
        if exited is None and now >= deadline:
            timed_out = True
            break
        ready_r, ready_w, _ = select.select(list(readers), [writer] if writer is not None else [], [], 0.01)
        if ready_w:
            writer, data = _feed(writer, data)
        for fd in ready_r:
            chunk = os.read(fd, 65536)
            if not chunk:
                os.close(fd)
                del readers[fd]
                continue
            readers[fd] += chunk
            over = over or (fd == out_r and len(out) > cap)
    for fd in list(readers) + ([writer] if writer is not None else []):
        os.close(fd)
    return out, err, timed_out, over, exited


def run_program(argv, stdin_text, limits, cwd, env):
    """Run ``argv`` once under ``limits``; everything the host needs to judge it, but no judgement."""
    oom_before = _oom_kills()
    started = time.monotonic()
    pid, stdin_w, out_r, err_r = _spawn(argv, limits, cwd, env)
    cap = limits["output_bytes"]
    out, err, timed_out, over, exited = _pump(pid, stdin_text.encode(), stdin_w, out_r, err_r,
                                              started + limits["wall_s"], cap)
    if exited is None:
        _kill_group(pid)
        exited = os.wait4(pid, 0)
    _, status, usage = exited
    elapsed = time.monotonic() - started
    _kill_group(pid)  # the program's own children go with it
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


def _sweep():
    """Kill every process in the sandbox but PID 1 and this runner (daemons, fork bombs). kill(-1) reaches
    them all at once and spares the caller; repeat until none is left. True when the sandbox is clean."""
    deadline = time.monotonic() + 2.0
    while _others():
        if time.monotonic() > deadline:
            return False
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        time.sleep(0.005)
    return True


def main():
    job = json.loads(sys.stdin.readline())
    limits = job["limits"]
    base = job.get("workdir_base") or tempfile.gettempdir()
    work = tempfile.mkdtemp(prefix="run-", dir=base)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": work, "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
           "SANDBOX_RESULT": os.path.join(work, ".result.json")}
    try:
        for name, text in job["files"].items():
            with open(os.path.join(work, name), "w") as f:
                f.write(text)
        if job.get("compile"):
            result = run_program(job["compile"], "", job["compile_limits"], work, env)
            ok = result["exit"] == 0 and not result["timed_out"]
            _send({"compile": {"ok": ok, **result}})
            if not ok:
                return
        else:
            _send({"compile": {"ok": True}})
        for line in sys.stdin:
            msg = json.loads(line)
            if msg.get("stop"):
                break
            try:
                os.unlink(env["SANDBOX_RESULT"])
            except OSError:
                pass
            result = run_program(job["run"], msg["stdin"], limits, work, env)
            try:
                with open(env["SANDBOX_RESULT"]) as f:
                    result["result"] = f.read(limits["output_bytes"] + 1)
            except OSError:
                result["result"] = None
            _send(result)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if job.get("sweep"):
            _send({"clean": _sweep()})


if __name__ == "__main__":
    main()
