"""``python -m sandbox build`` builds the sandbox image; ``check`` runs a smoke test on each backend;
``status`` says, without starting a sandbox, whether each backend could run here and with which limits."""

from __future__ import annotations

import argparse
import sys


def _build(_: argparse.Namespace) -> int:
    import docker
    import docker.errors

    from sandbox.backends.docker import remove_stale
    from sandbox.image import ensure_image, remove_old_images
    client = docker.from_env(timeout=600)
    try:
        print(f"sandbox image: {ensure_image(client)}")
    except docker.errors.DockerException as exc:
        print(f"could not build the sandbox image: {exc}", file=sys.stderr)
        return 1
    removed = remove_stale(client)
    if removed:
        print(f"removed {removed} stale sandbox containers")
    old = remove_old_images(client)
    if old:
        print(f"removed {old} older sandbox images")
    return 0


def _check(args: argparse.Namespace) -> int:
    from sandbox import SandboxUnavailable, get_backend, get_language, judge, parse_tests
    suite = parse_tests({"inputs": ["2 3\n"], "outputs": ["5\n"]})
    python = get_language("python")
    assert python is not None
    failed = 0
    for name in args.backends:
        try:
            report = judge("a, b = map(int, input().split())\nprint(a + b)\n", python, suite,
                           get_backend(name))
            print(f"{name}: {report.verdict}")
            failed += report.verdict != "accepted"
        except SandboxUnavailable as exc:
            print(f"{name}: unavailable ({exc})")
            failed += 1
    return 1 if failed else 0


def _status(args: argparse.Namespace) -> int:
    from sandbox import status
    failed = 0
    for name in args.backends:
        ok, line = status(name, bwrap_rlimits_only=args.bwrap_rlimits_only)
        print(line)
        failed += not ok
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sandbox", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build the sandbox image (Docker)").set_defaults(func=_build)
    check = sub.add_parser("check", help="grade a + b on each backend")
    check.add_argument("backends", nargs="*", default=["docker", "bwrap"])
    check.set_defaults(func=_check)
    status = sub.add_parser("status", help="could each backend run here, and with which limits (starts nothing)")
    status.add_argument("backends", nargs="*", default=["docker", "bwrap"])
    status.add_argument("--bwrap-rlimits-only", action="store_true",
                        help="accept per-process limits where bubblewrap has no cgroups")
    status.set_defaults(func=_status)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
