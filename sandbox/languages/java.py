"""Java 17: stdin/stdout programs. The file is named after its public top-level class (``Solution`` as well as
``Main``), as javac demands; the class run is the top-level one with ``static void main``.

The JVM runs inside the pids and memory limits of a cgroup: one GC thread, one JIT compiler (C1: starts
fast), and a deep stack for the main thread (the launcher runs ``main`` in a thread of ``-Xss`` size). The
binaries are called by their real path: /usr/bin/java is a link into /etc/alternatives, which bubblewrap
does not bind."""

from __future__ import annotations

import platform
import re

from sandbox.languages.base import Language, Program

_DEBIAN_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "ppc64le": "ppc64el", "s390x": "s390x"}
JDK_BIN = f"/usr/lib/jvm/java-17-openjdk-{_DEBIAN_ARCH.get(platform.machine(), 'amd64')}/bin"
JVM_FLAGS = ["-XX:+UseSerialGC", "-XX:ActiveProcessorCount=1", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
             "-XX:-UsePerfData"]
RUN_FLAGS = [*JVM_FLAGS, "-Xss256m", "-XX:MaxRAMPercentage=75"]

# Comments, text blocks, strings and chars: what could hide a ``class`` or a brace from the scan below.
_NOISE = re.compile(r'//[^\n]*|/\*.*?\*/|""".*?"""|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
_TOKEN = re.compile(r"\b(?P<mods>(?:(?:public|static|final|synchronized|strictfp)\s+)*)void\s+main\s*\("
                    r"|\bpackage\s+(?P<package>[\w.]+)\s*;"
                    r"|\b(?:class|interface|enum|record)\s+(?P<name>[A-Za-z_$][\w$]*)"
                    r"|\bpublic\b|[{};]")


def entry_points(code: str) -> tuple[str, str]:
    """(file name, class to run): the public top-level class names the file, ``Main.java`` if there is none;
    the run class is the first top-level class with ``static void main`` (package-qualified)."""
    depth, public, package, current = 0, False, "", ""
    public_class = main_class = None
    for match in _TOKEN.finditer(_NOISE.sub(" ", code)):
        token = match.group(0)
        if token == "{":
            depth += 1
        elif token == "}":
            depth = max(depth - 1, 0)
            public = public and depth > 0
        elif token == ";":
            public = public and depth > 0
        elif match.group("package") and depth == 0:
            package = match.group("package") + "."
        elif match.group("name") and depth == 0:
            current = match.group("name")
            if public and public_class is None:
                public_class = current
        elif token == "public" and depth == 0:
            public = True
        elif match.group(0).endswith("(") and depth == 1 and "static" in match.group("mods"):
            main_class = main_class or current
    return f"{public_class or 'Main'}.java", package + (main_class or public_class or "Main")


def _stdin(code: str) -> Program:
    source, main_class = entry_points(code)
    return Program(files={source: code}, run=[f"{JDK_BIN}/java", *RUN_FLAGS, "-cp", ".", main_class],
                   compile=[f"{JDK_BIN}/javac", *(f"-J{flag}" for flag in JVM_FLAGS), "-encoding", "UTF-8",
                            "-proc:none", "-d", ".", source])


JAVA = Language("java", ("java17",), compiled=True, stdin_program=_stdin)
