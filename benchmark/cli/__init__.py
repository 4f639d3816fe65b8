"""The ``musebench`` command: one parser, one module per subcommand group.

Each module in :data:`COMMAND_MODULES` defines ``register(subparsers)``, adding its
subcommands with ``set_defaults(func=...)``; ``func(args) -> int`` returns the exit code.
Modules are imported only to build the parser; they import heavy libraries inside ``func``.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import MuseBenchError

COMMAND_MODULES = [
    "benchmark.cli.datasets",
    "benchmark.cli.run",
    "benchmark.cli.score",
    "benchmark.cli.listing",
    "benchmark.cli.leaderboard",
    "benchmark.cli.gate",
]


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="musebench",
        description="MuseBench: evaluation and listening tests for music AI models.",
    )
    parser.add_argument("--version", action="version", version=f"musebench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:  # TEMP-CLI-SKIP: remove once every command module exists
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except MuseBenchError as exc:
        print(f"musebench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("musebench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
