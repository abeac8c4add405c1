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


def _pump(data, stdin_w, out_r, err_r, deadline, cap):
    """Feed stdin and collect output until both pipes close, the deadline passes or stdout passes ``cap``."""
    out, err = bytearray(), bytearray()
    readers = {out_r: out, err_r: err}
    writer = stdin_w
    if not data:
        os.close(stdin_w)
        writer = None
    timed_out = over = False
    while readers and not over:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        ready_r, ready_w, _ = select.select(list(readers), [writer] if writer is not None else [], [], min(left, 0.5))
        if ready_w:
            try:
                data = data[os.write(writer, data[:65536]):]
            except OSError:
                data = b""
            if not data:
                os.close(writer)
                writer = None
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
    return out, err, timed_out, over


def run_program(argv, stdin_text, limits, cwd, env):
    """Run ``argv`` once under ``limits``; everything the host needs to judge it, but no judgement."""
    oom_before = _oom_kills()
    started = time.monotonic()
    pid, stdin_w, out_r, err_r = _spawn(argv, limits, cwd, env)
    cap = limits["output_bytes"]
    out, err, timed_out, over = _pump(stdin_text.encode(), stdin_w, out_r, err_r, started + limits["wall_s"], cap)
    if timed_out or over:
        _kill_group(pid)
    _, status, usage = os.wait4(pid, 0)
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


def _sweep():
    """Kill every process in the sandbox but PID 1 and this runner (daemons that escaped their group)."""
    me = os.getpid()
    for _ in range(3):
        others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, me)]
        if not others:
            return
        for p in others:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)


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
        if job.get("sweep"):
            _sweep()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
