"""bubblewrap only: one cgroup per session (memory with SysV shm and tmpfs, pids, CPU), the seccomp filter, a
writable /tmp, and the refusal to run without cgroups unless per-process limits are accepted."""

from __future__ import annotations

import os
import re
import signal
import textwrap
import time

import pytest

import sandbox
from sandbox import Limits, SandboxUnavailable, Verdict, get_language, judge, parse_tests
from sandbox.backends import seccomp
from sandbox.backends.bwrap import SPARES
from tests.conftest import need

pytestmark = pytest.mark.bwrap
PY = get_language("python")
SAFE = parse_tests([{"input": "", "output": "SAFE"}])
LIMITS = Limits(time_s=5.0, memory_mb=256, tmpfs_mb=32)


def _new_backend(**options):
    from sandbox.backends.bwrap import BwrapBackend
    try:
        return BwrapBackend(**options)
    except SandboxUnavailable as exc:
        need(False, f"bwrap sandbox unavailable: {exc}")


@pytest.fixture
def backend():
    b = _new_backend()  # its own instance: the cgroup counts below see only its sessions
    yield b
    b.close()


def run(backend, code: str, limits: Limits = LIMITS, suite=SAFE):
    return judge(textwrap.dedent(code), PY, suite, backend, limits)


def _shmem_mib() -> float:
    with open("/proc/meminfo") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("Shmem:")) / 1024


# --- memory: one limit for the whole session --------------------------------------------------------------

def test_six_processes_share_one_memory_limit(backend):
    report = run(backend, """
        import os, time
        r, w = os.pipe()
        kids = []
        for _ in range(6):
            pid = os.fork()
            if pid == 0:
                os.close(r)
                block = bytearray(150 << 20)
                block[::4096] = b'1' * len(block[::4096])  # touch every page
                os.write(w, b'1')
                time.sleep(2)
                os._exit(0)
            kids.append(pid)
        os.close(w)
        held = 0
        while chunk := os.read(r, 16):
            held += len(chunk)
        for pid in kids:
            os.waitpid(pid, 0)
        print('SAFE' if held < 6 else f'HELD {held * 150} MiB')
        """)
    assert report.verdict is Verdict.memory_limit, report


def test_sysv_shared_memory_is_charged_and_ends_with_the_session(backend):
    before = _shmem_mib()
    report = run(backend, """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmat.restype, libc.shmat.argtypes = ctypes.c_void_p, [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
        kept = 0
        for key in range(0x5EED, 0x5EED + 8):  # 800 MiB of segments, each detached after it is touched
            shmid = libc.shmget(key, 100 << 20, 0o1600)  # IPC_CREAT | 0600
            addr = libc.shmat(shmid, None, 0) if shmid >= 0 else None
            if addr in (None, 2 ** 64 - 1):
                break
            ctypes.memset(addr, 1, 100 << 20)
            libc.shmdt(ctypes.c_void_p(addr))
            kept += 100
        print('SAFE' if kept < 400 else f'KEPT {kept} MiB')
        """)
    assert report.verdict is Verdict.memory_limit, report
    deadline = time.monotonic() + 5  # the kernel frees an IPC namespace's segments from a work queue
    while _shmem_mib() - before > 150 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _shmem_mib() - before < 150, (before, _shmem_mib())
    report = run(backend, """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        print('SAFE' if libc.shmget(0x5EED, 0, 0) == -1 and open('/proc/sysvipc/shm').read().count('\\n') <= 1
              else 'A SEGMENT SURVIVED')
        """)
    assert report.verdict is Verdict.accepted, report


def test_tmpfs_pages_count_against_the_memory_limit(backend):
    report = run(backend, """
        for d in ('/work', '/tmp'):
            with open(d + '/fill', 'wb') as f:
                f.write(b'1' * (60 << 20))
        block = bytearray(200 << 20)  # fits in 256 MiB alone, not with the 120 MiB of files
        block[::4096] = b'1' * len(block[::4096])
        print('HELD 320 MiB')
        """, Limits(time_s=5.0, memory_mb=256, tmpfs_mb=64, file_size_mb=64))
    assert report.verdict is Verdict.memory_limit, report


# --- CPU and processes ----------------------------------------------------------------------------------------

def test_two_busy_processes_get_the_cpu_quota_and_no_more(backend):
    report = run(backend, """
        import os, time
        def spin(seconds):
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                pass
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            spin(1.5)
            os._exit(0)
        spin(1.5)
        os.waitpid(pid, 0)
        t = os.times()
        share = (t.user + t.system + t.children_user + t.children_system) / (time.monotonic() - start)
        print('SAFE' if share <= 0.65 else f'CPU SHARE {share:.2f}')
        """, Limits(time_s=5.0, memory_mb=256, cpus=0.5))
    assert report.verdict is Verdict.accepted, report


def test_a_fork_bomb_is_bounded_by_the_pids_limit(backend):
    report = run(backend, """
        import os, time
        alive = 0
        for _ in range(300):
            try:
                if os.fork() == 0:
                    time.sleep(3)
                    os._exit(0)
                alive += 1
            except OSError:
                break
        print('SAFE' if alive < 64 else f'FORKED {alive}')
        """)
    assert report.verdict is Verdict.accepted, report


# --- seccomp ------------------------------------------------------------------------------------------------

def _numbers() -> dict[str, int]:
    col = 0 if os.uname().machine == "x86_64" else 1
    return {name: seccomp.DENIED[name][col] for name in ("keyctl", "add_key", "io_uring_setup", "bpf")} | {
        "personality": seccomp.PERSONALITY[col]}


def test_dangerous_system_calls_fail_with_eperm(backend):
    nr = _numbers()
    report = run(backend, f"""
        import ctypes, errno
        libc = ctypes.CDLL(None, use_errno=True)
        buf = ctypes.create_string_buffer(256)
        calls = {{'keyctl': ({nr['keyctl']}, 0, -3, 0),                       # KEYCTL_GET_KEYRING_ID, session
                 'add_key': ({nr['add_key']}, b'user', b'k', b'v', 1, -3),
                 'io_uring_setup': ({nr['io_uring_setup']}, 4, buf),
                 'personality(PER_LINUX32)': ({nr['personality']}, 0x0008),
                 'bpf': ({nr['bpf']}, 0, buf, 72)}}                           # BPF_MAP_CREATE
        allowed = []
        for name, (number, *args) in calls.items():
            ctypes.set_errno(0)
            if libc.syscall(number, *args) != -1 or ctypes.get_errno() != errno.EPERM:
                allowed.append(name)
        if libc.syscall({nr['personality']}, 0xffffffff) == -1 or libc.syscall({nr['personality']}, 0) == -1:
            allowed.append('the default persona is refused')
        print('SAFE' if not allowed else f'ALLOWED {{allowed}}')
        """)
    assert report.verdict is Verdict.accepted, report


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the x32 ABI is x86_64's")
def test_a_system_call_through_the_x32_abi_is_killed(backend):
    report = run(backend, """
        import ctypes, os, signal
        pid = os.fork()
        if pid == 0:
            ctypes.CDLL(None).syscall(0x40000000 | 250, 0, -3, 0)  # keyctl, numbered for x32
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        print('SAFE' if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSYS else f'STATUS {status}')
        """)
    assert report.verdict is Verdict.accepted, report


def _bpf_verdict(prog: bytes, arch: int, nr: int, arg0: int = 0) -> int:
    """A classic BPF interpreter for what the filter uses (ld abs, jeq, jge, ret)."""
    data = (nr.to_bytes(4, "little") + arch.to_bytes(4, "little") + bytes(8)
            + (arg0 & (2 ** 64 - 1)).to_bytes(8, "little") + bytes(40))
    insns = [prog[i:i + 8] for i in range(0, len(prog), 8)]
    pc, acc = 0, 0
    while True:
        code, jt, jf, k = int.from_bytes(insns[pc][:2], "little"), insns[pc][2], insns[pc][3], \
            int.from_bytes(insns[pc][4:], "little")
        if code == 0x20:
            acc = int.from_bytes(data[k:k + 4], "little")
        elif code in (0x15, 0x35):
            pc += jt if (acc == k if code == 0x15 else acc >= k) else jf
        elif code == 0x06:
            return k
        else:
            raise AssertionError(f"unexpected instruction {code:#x}")
        pc += 1


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_the_filter_denies_each_listed_call_and_allows_the_rest(machine):
    prog, col = seccomp.program(machine), 0 if machine == "x86_64" else 1
    arch = seccomp.AUDIT_ARCH[machine]
    eperm, allow, kill = seccomp.RET_ERRNO | seccomp.EPERM, seccomp.RET_ALLOW, seccomp.RET_KILL_PROCESS
    for name, numbers in seccomp.DENIED.items():
        if numbers[col] is not None:
            assert _bpf_verdict(prog, arch, numbers[col]) == eperm, name
    denied = {n[col] for n in seccomp.DENIED.values()} | {seccomp.PERSONALITY[col]}
    assert all(_bpf_verdict(prog, arch, nr) == allow for nr in range(460) if nr not in denied)
    personality = seccomp.PERSONALITY[col]
    assert _bpf_verdict(prog, arch, personality, 0) == allow
    assert _bpf_verdict(prog, arch, personality, 0xFFFFFFFF) == allow
    assert _bpf_verdict(prog, arch, personality, 0x0008) == eperm
    assert _bpf_verdict(prog, arch, personality, 0x0040000) == eperm  # ADDR_NO_RANDOMIZE
    assert _bpf_verdict(prog, 0x40000003, 20) == kill  # i386 (int 0x80)
    if machine == "x86_64":
        assert _bpf_verdict(prog, arch, 0x40000000 | 39) == kill  # x32


# --- /tmp -----------------------------------------------------------------------------------------------------

def test_tmp_is_writable_and_empty_in_the_next_submission(backend):
    report = run(backend, """
        import os, tempfile
        with open('/tmp/LITTER', 'w') as f:
            f.write('kept')
        with tempfile.NamedTemporaryFile('w+', dir='/tmp') as f:
            f.write('hello')
            f.seek(0)
            ok = f.read() == 'hello' and open('/tmp/LITTER').read() == 'kept'
        print('SAFE' if ok else 'NOT WRITABLE')
        """)
    assert report.verdict is Verdict.accepted, report
    report = run(backend, "import os\nprint('SAFE' if os.listdir('/tmp') == [] else os.listdir('/tmp'))\n")
    assert report.verdict is Verdict.accepted, report


def test_tmp_is_size_limited(backend):
    report = run(backend, """
        with open('/tmp/big', 'wb') as f:
            while True:
                f.write(b'x' * (1 << 20))
        """, Limits(time_s=5.0, memory_mb=256, tmpfs_mb=16))
    assert report.verdict is Verdict.runtime_error, report


# --- cgroup lifecycle -----------------------------------------------------------------------------------------

def _groups(backend) -> set[str]:
    """This process's session groups, in every hierarchy."""
    mine = re.compile(rf"{os.getpid()}-\d+")
    return {os.path.join(d, n) for d in set(backend.cgroups.subtrees.values()) for n in os.listdir(d)
            if mine.fullmatch(n)}


def _eventually(check, timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_each_session_has_its_own_cgroup_and_it_is_removed(backend):
    others = _groups(backend)  # other backends' in this process (their spare sandboxes), left alone here

    def ours() -> int:
        return len(_groups(backend) - others)

    hierarchies = len(set(backend.cgroups.subtrees.values()))
    spares = SPARES * hierarchies  # the sandboxes started for the next submissions
    assert run(backend, "print('SAFE')\n").verdict is Verdict.accepted
    assert _eventually(lambda: ours() == spares)
    report = run(backend, "import time\ntime.sleep(60)\n", Limits(time_s=1.0, memory_mb=256))
    assert report.verdict is Verdict.time_limit, report
    assert _eventually(lambda: ours() == spares)
    session = backend.session(LIMITS)  # killed from outside while it waits
    assert _eventually(lambda: ours() == spares + hierarchies)
    os.kill(session.proc.pid, signal.SIGKILL)
    session.close(anomaly=True)
    assert _eventually(lambda: ours() == spares)
    session = backend.session(LIMITS)  # closed in the middle of a session: what runs in it dies at once
    session.close(anomaly=True)
    assert session.proc.wait(timeout=1) is not None
    backend.close()  # waits for the removals
    assert ours() == 0


# --- no cgroups: refuse, unless told to accept per-process limits ----------------------------------------------

def test_without_cgroups_it_refuses_to_start(tmp_path):
    from sandbox.backends.bwrap import BwrapBackend
    with pytest.raises(SandboxUnavailable) as caught:
        BwrapBackend(cgroup_root=str(tmp_path))
    assert "REWARD_SANDBOX_BWRAP_RLIMITS_ONLY" in str(caught.value) and "\n" not in str(caught.value)


def test_without_cgroups_it_runs_on_rlimits_when_told_to(tmp_path):
    backend = _new_backend(cgroup_root=str(tmp_path), rlimits_only=True)
    try:
        assert backend.describe() == "per-process limits only (REWARD_SANDBOX_BWRAP_RLIMITS_ONLY)"
        assert run(backend, "print('SAFE')\n").verdict is Verdict.accepted
        assert run(backend, "x = bytearray(2 << 30)\n").verdict is Verdict.memory_limit
    finally:
        backend.close()


def test_status_says_which_limits_apply():
    ok, line = sandbox.status("bwrap")
    need(ok, line)
    assert re.fullmatch(r"bwrap: cgroup v[12] limits", line), line
    assert sandbox.available("bwrap")
    assert sandbox.status("no-such-backend") == (False, "no-such-backend: unknown sandbox backend")
