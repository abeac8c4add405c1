"""``reward-service --help`` reads as plain text, and every flag says what it does."""

from __future__ import annotations

import argparse

import pytest

from reward_service.cli import build_parser


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
