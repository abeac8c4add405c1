"""A seccomp filter for bubblewrap sandboxes, as classic BPF (what ``bwrap --seccomp FD`` reads).

Why: namespaces and dropped capabilities stop most of the kernel's dangerous surface, but not all of it.
Keyrings are not namespaced, io_uring, bpf, perf_event_open and userfaultfd are large and a steady source of
privilege escalations, and a few calls (personality, the NUMA calls, vmsplice) have no use in a judged
program. Like Docker's default profile, each call below fails with EPERM; everything else is allowed.

The filter checks the architecture first: a system call made through another ABI (i386 via ``int 0x80`` on
x86_64, or the x32 ABI, whose numbers have bit 30 set) would have other numbers and slip past the list, so
it kills the process. Written with ``struct.pack`` (no libseccomp): the program is a few dozen instructions.
"""

from __future__ import annotations

import platform
import struct
import sys

# linux/audit.h, linux/seccomp.h, linux/filter.h
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
RET_ALLOW = 0x7FFF0000
EPERM = 1
X32_SYSCALL_BIT = 0x40000000
_LD_ABS_W, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06
_NR, _ARCH, _ARG0 = 0, 4, 16  # offsets in struct seccomp_data (args are u64: the low word first on little-endian)

# name: (x86_64, aarch64); None where the architecture has no such call
DENIED: dict[str, tuple[int | None, int | None]] = {
    # keyrings (not namespaced), io_uring, eBPF, perf, userfaultfd
    "keyctl": (250, 219), "add_key": (248, 217), "request_key": (249, 218),
    "io_uring_setup": (425, 425), "io_uring_enter": (426, 426), "io_uring_register": (427, 427),
    "bpf": (321, 280), "perf_event_open": (298, 241), "userfaultfd": (323, 282),
    # namespaces and mounts (bwrap drops the capabilities too; this is the second wall)
    "unshare": (272, 97), "setns": (308, 268), "mount": (165, 40), "umount2": (166, 39), "pivot_root": (155, 41),
    "fsopen": (430, 430), "fsconfig": (431, 431), "fsmount": (432, 432), "fspick": (433, 433),
    "open_tree": (428, 428), "move_mount": (429, 429), "mount_setattr": (442, 442),
    # the machine itself: kernels, modules, clocks, swap, quotas, accounting, host names
    "kexec_load": (246, 104), "kexec_file_load": (320, 294), "reboot": (169, 142),
    "init_module": (175, 105), "finit_module": (313, 273), "delete_module": (176, 106),
    "create_module": (174, None), "get_kernel_syms": (177, None), "query_module": (178, None),
    "settimeofday": (164, 170), "clock_settime": (227, 112), "clock_adjtime": (305, 266), "adjtimex": (159, 171),
    "swapon": (167, 224), "swapoff": (168, 225), "quotactl": (179, 60), "quotactl_fd": (443, 443),
    "acct": (163, 89), "syslog": (103, 116), "vhangup": (153, 58), "sethostname": (170, 161),
    "setdomainname": (171, 162), "iopl": (172, None), "ioperm": (173, None), "uselib": (134, None),
    "ustat": (136, None), "sysfs": (139, None), "_sysctl": (156, None), "nfsservctl": (180, 42),
    "lookup_dcookie": (212, 18),
    # file handles (open_by_handle_at is the classic container escape), other processes' memory
    "open_by_handle_at": (304, 265), "name_to_handle_at": (303, 264), "kcmp": (312, 272),
    "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    # NUMA placement and page splicing: no use in a judged program
    "move_pages": (279, 239), "migrate_pages": (256, 238), "mbind": (237, 235), "set_mempolicy": (238, 237),
    "vmsplice": (278, 75),
}
# Not denied in sandboxes (programs may use them there, inside their own network namespace), but denied to
# processes that have no namespace of their own, such as the test process of assert-style tests.
OPTIONAL: dict[str, tuple[int | None, int | None]] = {
    "socket": (41, 198), "socketpair": (53, 199), "execve": (59, 221), "execveat": (322, 281),
}
PERSONALITY = (135, 92)
PERSONALITY_ALLOWED = (0x0, 0xFFFFFFFF)  # PER_LINUX, and the query that changes nothing


class Unsupported(RuntimeError):
    """No filter for this machine's architecture."""


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def program(machine: str | None = None, extra: tuple[str, ...] = ()) -> bytes:
    """The compiled filter for ``machine`` (default: this one) as ``struct sock_filter`` records; ``extra``
    names calls of :data:`OPTIONAL` to deny as well."""
    machine = machine or platform.machine()
    if machine not in AUDIT_ARCH or sys.byteorder != "little":
        raise Unsupported(f"no seccomp filter for {machine} ({sys.byteorder}-endian); x86_64 and aarch64 have one")
    col = 0 if machine == "x86_64" else 1
    deny = _insn(_RET_K, 0, 0, RET_ERRNO | EPERM)
    out = [_insn(_LD_ABS_W, 0, 0, _ARCH),
           _insn(_JEQ_K, 1, 0, AUDIT_ARCH[machine]),
           _insn(_RET_K, 0, 0, RET_KILL_PROCESS),
           _insn(_LD_ABS_W, 0, 0, _NR)]
    if machine == "x86_64":
        out += [_insn(_JGE_K, 0, 1, X32_SYSCALL_BIT), _insn(_RET_K, 0, 0, RET_KILL_PROCESS)]
    for numbers in [*DENIED.values(), *(OPTIONAL[name] for name in extra)]:
        nr = numbers[col]
        if nr is not None:
            out += [_insn(_JEQ_K, 0, 1, nr), deny]
    out += [_insn(_JEQ_K, 0, 4, PERSONALITY[col]),      # personality(persona): only the default, or a query
            _insn(_LD_ABS_W, 0, 0, _ARG0),
            _insn(_JEQ_K, 2, 0, PERSONALITY_ALLOWED[0]),
            _insn(_JEQ_K, 1, 0, PERSONALITY_ALLOWED[1]),
            deny,
            _insn(_RET_K, 0, 0, RET_ALLOW)]  # everything else
    return b"".join(out)
