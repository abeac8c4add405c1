"""Go: stdin/stdout programs, built once with ``go build``. The build cache lives under HOME (the work dir, the
only writable place) and is removed after the build, so that only the binary is left for the compile cache.
There is no network: modules are off (the std library only) and so is the proxy. One scheduler thread
(GOMAXPROCS=1), for the build too: the pids limit counts threads."""

from __future__ import annotations

from sandbox.languages.base import Language, Program

BUILD_ENV = ["GOMAXPROCS=1", "GO111MODULE=off", "GOPROXY=off", "GOFLAGS=", "CGO_ENABLED=0", "GOTOOLCHAIN=local"]
BUILD = "go build -o main main.go; built=$?; rm -rf .cache go; exit $built"


def _stdin(code: str) -> Program:
    return Program(files={"main.go": code}, run=["env", "GOMAXPROCS=1", "./main"],
                   compile=["env", *BUILD_ENV, "sh", "-c", BUILD])


GO = Language("go", ("golang",), compiled=True, stdin_program=_stdin)
