"""Nothing of one submission reaches the next, on both backends: submission A leaves something behind (its
code, input and output in memory, IPC objects, files, sockets, daemons), submission B looks for it or is
hurt by it. Under Docker, B runs in A's warm container (each test uses limits of its own, so the pool holds
one container) and the test checks that it did: the end-of-session sweep must clean, not just recycle."""

from __future__ import annotations

import os
import platform
import textwrap

import pytest

from sandbox import Limits, Verdict, get_language, judge, parse_tests

PY = get_language("python")
UNDER_GVISOR = os.environ.get("REWARD_SANDBOX_DOCKER_RUNTIME") == "runsc"
SAFE = parse_tests([{"input": "", "output": "SAFE"}])
_KEY_SYSCALLS = {"x86_64": (248, 249), "aarch64": (217, 218)}  # add_key, request_key
LIBC = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
IPC_CREAT, IPC_NOWAIT = 0o1000, 0o4000
"""


def _warm_ids(backend, limits: Limits) -> list[str]:
    """Under Docker, the idle containers for ``limits`` (to see that B ran where A did); else []."""
    if backend.name != "docker":
        return []
    return [w.id for w in backend._idle.get(backend._key(limits), [])]


def a_then_b(backend, leave: str, look: str, limits: Limits, look_suite=SAFE):
    """Judge ``leave`` then ``look`` on one container (under gVisor: on a fresh one, since its runner cannot
    list SysV IPC objects to remove them); B's report."""
    first = judge(textwrap.dedent(LIBC) + textwrap.dedent(leave), PY, SAFE, backend, limits)
    assert first.verdict is Verdict.accepted, first
    warm = _warm_ids(backend, limits)
    second = judge(textwrap.dedent(LIBC) + textwrap.dedent(look), PY, look_suite, backend, limits)
    assert_b_ran_where_it_should(backend, limits, warm)
    return second


def assert_b_ran_where_it_should(backend, limits: Limits, warm: list[str]) -> None:
    """B reused A's container, cleaned (under gVisor: A's was not kept, B's is another)."""
    if UNDER_GVISOR and backend.name == "docker":
        assert not set(_warm_ids(backend, limits)) & set(warm), "under gVisor A's container was reused"
    else:
        assert _warm_ids(backend, limits) == warm, "A's container was not reused clean"


# --- 1. memory: a Python submission runs in a process that never held another's code, input or output ---

SCAN = """
import sys
libc.prctl(4, 1, 0, 0, 0)  # dumpable again: /proc/self/mem opens (the bytes are ours anyway)
WANTED = {WANTED}  # name -> (head, tail): only a leak puts head and tail side by side
control = WANTED['control'][0] + WANTED['control'][1]  # in memory on purpose: the scan must find this one
found = set()
mem = open('/proc/self/mem', 'rb', buffering=0)
for line in open('/proc/self/maps').read().splitlines():
    fields = line.split()
    if 'r' not in fields[1] or (len(fields) > 5 and fields[5] in ('[vvar]', '[vsyscall]', '[vvar_vclock]')):
        continue
    start, end = (int(x, 16) for x in fields[0].split('-'))
    try:
        mem.seek(start)
        data = mem.read(min(end - start, 256 << 20))
    except (OSError, ValueError, OverflowError):
        continue
    for name, (head, tail) in WANTED.items():
        i = data.find(head)
        while i >= 0 and name not in found:
            if data[i + len(head):i + len(head) + len(tail)] == tail:
                found.add(name)
            i = data.find(head, i + 1)
print(' '.join(sorted(found)))
"""


def test_a_submission_cannot_read_an_earlier_ones_memory(backend):
    # A correct solution sent earlier (another sample of the same prompt) must not be findable in memory.
    marks = {name: (f"{name.upper()}-MARK-".encode(), os.urandom(12).hex().encode())
             for name in ("code", "input", "control")}
    marks["output"] = (b"OUTPUT-MARK-", marks["input"][1])  # A prints its input's tail after this head
    code_mark = (marks["code"][0] + marks["code"][1]).decode()
    given = (marks["input"][0] + marks["input"][1]).decode()
    output = (marks["output"][0] + marks["output"][1]).decode()
    out_head = marks["output"][0].decode()
    leave = f"""
        # {code_mark}
        import sys
        line = sys.stdin.readline().strip()
        print({out_head!r} + line[-24:] if line.startswith('INPUT-MARK-') else 'no input')
        """
    limits = Limits(time_s=10.0, memory_mb=320)
    first = judge(textwrap.dedent(leave), PY, parse_tests([{"input": given + "\n", "output": output}]), backend, limits)
    assert first.verdict is Verdict.accepted, first
    warm = _warm_ids(backend, limits)
    scan = SCAN.replace("{WANTED}", repr(marks))
    second = judge(textwrap.dedent(LIBC) + scan, PY, parse_tests([{"input": "", "output": "control"}]), backend,
                   limits)
    assert_b_ran_where_it_should(backend, limits, warm)
    assert second.verdict is Verdict.accepted, f"B found A's data in its memory (or not its own): {second}"


# --- 2. state that outlives a process -------------------------------------------------------------------

LEAKS = {
    # SysV shared memory, message queues, semaphores: in the IPC namespace until removed
    "sysv_shm": ("""
        sid = libc.shmget(0x5EED1, 4096, IPC_CREAT | 0o666)
        ctypes.memmove(libc.shmat(sid, None, 0), b'SECRET', 6)
        print('SAFE')
        """, """
        sid = libc.shmget(0x5EED1, 0, 0)
        seen = open('/proc/sysvipc/shm').read().splitlines()[1:] if os.path.exists('/proc/sysvipc') else []
        print('SAFE' if sid < 0 and not seen else f'LEAK {sid} {seen}')
        """),
    "sysv_msg": ("""
        qid = libc.msgget(0x5EED2, IPC_CREAT | 0o666)
        msg = ctypes.create_string_buffer(ctypes.sizeof(ctypes.c_long) + 6)
        ctypes.memmove(msg, bytes(ctypes.c_long(1)) + b'SECRET', len(msg.raw))
        assert libc.msgsnd(qid, msg, 6, IPC_NOWAIT) == 0
        print('SAFE')
        """, """
        qid = libc.msgget(0x5EED2, 0)
        buf = ctypes.create_string_buffer(64)
        got = libc.msgrcv(qid, buf, 32, 0, IPC_NOWAIT) if qid >= 0 else -1
        seen = open('/proc/sysvipc/msg').read().splitlines()[1:] if os.path.exists('/proc/sysvipc') else []
        print('SAFE' if got < 0 and not seen else f'LEAK {buf.raw[8:14]} {seen}')
        """),
    "sysv_sem": ("""
        semid = libc.semget(0x5EED3, 1, IPC_CREAT | 0o666)
        assert libc.semctl(semid, 0, 16, 42) == 0  # SETVAL
        print('SAFE')
        """, """
        semid = libc.semget(0x5EED3, 1, 0)
        seen = open('/proc/sysvipc/sem').read().splitlines()[1:] if os.path.exists('/proc/sysvipc') else []
        print('SAFE' if semid < 0 and not seen else f'LEAK {seen}')
        """),
    # POSIX message queues and shared memory
    "posix_mqueue": ("""
        q = libc.mq_open(b'/leak', os.O_CREAT | os.O_RDWR, 0o600, None)
        assert q >= 0 and libc.mq_send(q, b'SECRET', 6, 0) == 0, ctypes.get_errno()
        print('SAFE')
        """, """
        q = libc.mq_open(b'/leak', os.O_RDONLY | os.O_NONBLOCK)
        print('SAFE' if q < 0 else 'LEAK')
        """),
    "posix_shm": ("""
        fd = os.open('/dev/shm/leak', os.O_CREAT | os.O_RDWR, 0o600)
        os.write(fd, b'SECRET')
        print('SAFE')
        """, """
        print('SAFE' if not os.listdir('/dev/shm') else f'LEAK {os.listdir("/dev/shm")}')
        """),
    # files anywhere writable, some made hard to remove
    "files": ("""
        for d in ('/work', '/tmp', '.', '..'):
            for name in ('leak', 'locked/leak', 'locked/deep/er/leak'):
                try:
                    os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
                    open(os.path.join(d, name), 'w').write('SECRET')
                except OSError:
                    pass
            for locked in ('locked/deep/er', 'locked/deep', 'locked'):
                try:
                    os.chmod(os.path.join(d, locked), 0)
                except OSError:
                    pass
        print('SAFE')
        """, """
        here = os.path.basename(os.getcwd())
        seen = [n for n in os.listdir('/work') if n != here] + os.listdir('/tmp')
        print('SAFE' if not seen else f'LEAK {seen}')
        """),
    # a daemon's abstract Unix socket: it dies with the daemon, if the daemon dies
    "abstract_socket": ("""
        import socket, time
        r, w = os.pipe()
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                s = socket.socket(socket.AF_UNIX)
                s.bind('\\0leak-listener')
                s.listen()
                os.write(w, b'1')
                time.sleep(60)
            os._exit(0)
        os.read(r, 1)
        print('SAFE')
        """, """
        import socket
        try:
            socket.socket(socket.AF_UNIX).connect('\\0leak-listener')
            print('LEAK')
        except OSError:
            print('SAFE')
        """),
    # a daemon with a timer, set to kill whatever runs after it
    "timer": ("""
        import signal, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                signal.signal(signal.SIGALRM, lambda *_: os.kill(-1, signal.SIGKILL))
                signal.setitimer(signal.ITIMER_REAL, 1.0)
                time.sleep(60)
            os._exit(0)
        print('SAFE')
        """, """
        import time
        time.sleep(2.0)
        print('SAFE')
        """),
    # kernel keyrings are not namespaced: the calls are refused outright (seccomp), so nothing is left
    "keyring": (f"""
        import platform
        add_key = {_KEY_SYSCALLS}[platform.machine()][0]
        key = libc.syscall(add_key, b'user', b'leak', b'SECRET', 6, -4)  # the user keyring
        print('SAFE' if key < 0 and ctypes.get_errno() == 1 else f'ADDED {{key}} {{ctypes.get_errno()}}')
        """, f"""
        import platform
        request_key = {_KEY_SYSCALLS}[platform.machine()][1]
        key = libc.syscall(request_key, b'user', b'leak', None, 0)
        print('SAFE' if key < 0 else 'LEAK')
        """),
}


@pytest.mark.parametrize("kind", sorted(LEAKS))
def test_state_left_by_one_submission_is_gone_for_the_next(backend, kind):
    if kind == "keyring" and platform.machine() not in _KEY_SYSCALLS:
        pytest.skip(f"no keyring system call numbers for {platform.machine()}")
    leave, look = LEAKS[kind]
    limits = Limits(time_s=5.0, memory_mb=300 + sorted(LEAKS).index(kind))  # a pool (container) of its own
    report = a_then_b(backend, leave, look, limits)
    assert report.verdict is Verdict.accepted, report


def test_leftover_shared_memory_does_not_eat_the_next_memory_limit(backend):
    # 400 MiB of SysV segments left behind would stay charged to the container's memory cgroup.
    leave = """
        for i in range(4):
            sid = libc.shmget(0x5EED10 + i, 100 << 20, IPC_CREAT | 0o600)
            ctypes.memset(libc.shmat(sid, None, 0), 1, 100 << 20)
        print('SAFE')
        """
    honest = """
        block = bytearray(300 << 20)
        block[::4096] = b'1' * len(block[::4096])
        print('SAFE')
        """
    report = a_then_b(backend, leave, honest, Limits(time_s=10.0, memory_mb=520))
    assert report.verdict is Verdict.accepted, report


POISON = """
import os, resource
cpus = sorted(os.sched_getaffinity(0))
for pid in {1, os.getppid(), *(int(p) for p in os.listdir('/proc') if p.isdigit())} - {os.getpid()}:
    for poison in POISONS:
        try:
            poison(pid)
        except OSError:
            pass
print('SAFE')
"""
POISONS = {
    "nice": "lambda pid: os.setpriority(os.PRIO_PROCESS, pid, 19)",
    "sched_idle": "lambda pid: os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))",
    "affinity": "lambda pid: os.sched_setaffinity(pid, cpus[:1])",
    "fsize_rlimit": "lambda pid: resource.prlimit(pid, resource.RLIMIT_FSIZE, (1, 1))",
    "nofile_rlimit": "lambda pid: resource.prlimit(pid, resource.RLIMIT_NOFILE, (5, 5))",
    "nproc_rlimit": "lambda pid: resource.prlimit(pid, resource.RLIMIT_NPROC, (1, 1))",
}
HEALTHY = """
import os, resource
sane = (os.getpriority(os.PRIO_PROCESS, 0) == 0 and os.sched_getscheduler(0) == os.SCHED_OTHER
        and (os.cpu_count() == 1 or len(os.sched_getaffinity(0)) > 1)
        and resource.getrlimit(resource.RLIMIT_NOFILE) == (64, 64))
print('SAFE' if sane else 'POISONED')
"""


@pytest.mark.parametrize("poison", sorted(POISONS))
def test_a_submission_cannot_poison_what_runs_the_next_one(backend, poison):
    # Without ptrace a program can still set the rlimits, nice value, scheduling policy and CPU affinity of
    # every process of its uid (the runner, the zygote), and their children would inherit them.
    limits = Limits(time_s=5.0, memory_mb=280 + sorted(POISONS).index(poison))
    code = POISON.replace("POISONS", f"[{POISONS[poison]}]")
    three = parse_tests([{"input": "", "output": "SAFE"}] * 3)  # the later tests are its own business
    assert judge(code, PY, three, backend, limits, stop_on_failure=False).verdict is not Verdict.sandbox_error
    assert judge(HEALTHY, PY, SAFE, backend, limits).verdict is Verdict.accepted
    cpp = "#include <cstdio>\nint main(){std::puts(\"SAFE\");}\n"
    assert judge(cpp, get_language("cpp"), SAFE, backend, limits).verdict is Verdict.accepted


def test_a_killed_zygote_is_replaced_and_the_container_stays_clean(backend):
    # The oldest process but the runner is the zygote (the spares are forked from it later); a runner that
    # serves one submission only (bubblewrap) has none.
    leave = """
        import signal
        me = os.getpid()
        started = {int(p): int(open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()[19])
                   for p in os.listdir('/proc') if p.isdigit() and int(p) not in (1, me)}
        if started:
            os.kill(min(started, key=started.get), signal.SIGKILL)
        print('SAFE')
        """
    report = a_then_b(backend, leave, "print('SAFE')\n", Limits(time_s=5.0, memory_mb=296),
                      parse_tests([{"input": "", "output": "SAFE"}] * 3))
    assert report.verdict is Verdict.accepted and report.passed == 3, report
