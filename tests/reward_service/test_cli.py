"""``reward-service --help`` reads as plain text, and every flag says what it does; mistakes at start are one line."""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys

import pytest

from reward_service.cli import build_parser
from tests.conftest import ROOT, free_port


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("name", ["", "serve", "worker", "eval"])
def test_help_is_plain_text_and_every_flag_is_explained(name):
    parser = build_parser()
    target = subcommands(parser)[name] if name else parser
    text = target.format_help()
    assert "``" not in text and ":func:" not in text
    for action in target._actions:
        if action.option_strings and not isinstance(action, argparse._HelpAction):
            assert action.help, f"{name or 'reward-service'} {action.option_strings[0]} has no help"


# -- mistakes that used to pass silently: one line on stderr, exit 2, before anything says "ready" ----------

def serve(port: int, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reward_service", "serve", "--port", str(port)], cwd=ROOT,
                          env={**os.environ, "REWARD_WORKERS": "1", "REWARD_SANDBOX_BACKEND": "none", **env},
                          capture_output=True, text=True, timeout=60)


def assert_one_line(done: subprocess.CompletedProcess[str], said: str) -> None:
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("reward-service: ") and said in done.stderr, \
        done.stderr
    assert not re.search(r"\bready\b", done.stdout + done.stderr)


def test_an_unknown_default_recipe_stops_the_service_at_start():
    done = serve(free_port(), REWARD_DEFAULT_RECIPE="r1zero")  # before: "ready", then every request failed
    assert_one_line(done, "REWARD_DEFAULT_RECIPE: unknown recipe 'r1zero'; did you mean 'r1-zero'?")


@pytest.mark.parametrize("taken", ["api", "metrics"])
def test_a_port_in_use_is_one_line_and_never_ready(taken):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        if taken == "api":
            done = serve(port)
        else:
            done = serve(free_port(), REWARD_METRICS_PORT=str(port))
    where = "--port / REWARD_PORT" if taken == "api" else "REWARD_METRICS_PORT"
    assert_one_line(done, f"cannot listen on 127.0.0.1:{port} ({where}): Address already in use")
