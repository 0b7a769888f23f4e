"""An option a command and its subcommand both take keeps its value when it is given
before the subcommand (argparse's subparser defaults would otherwise reset it)."""

from __future__ import annotations

import pytest

from agent.cli import build_parser


@pytest.mark.parametrize("argv", [
    ["handover", "--no-service", "ack"],
    ["handover", "ack", "--no-service"],
    ["handover", "--no-service", "acks"],
])  # fmt: skip
def test_no_service_holds_before_or_after_the_subcommand(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert args.no_service and not args.service


def test_the_defaults_hold_when_nothing_is_given() -> None:
    args = build_parser().parse_args(["handover", "ack"])
    assert not args.no_service and not args.service and args.socket is None
    args = build_parser().parse_args(["handover", "--json", "acks"])
    assert args.json
    args = build_parser().parse_args(["handover", "--socket", "/run/p.sock", "acks"])
    assert str(args.socket) == "/run/p.sock"
