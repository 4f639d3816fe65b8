"""The ``musebench`` command: one parser, one module per subcommand group.

Each module in :data:`COMMAND_MODULES` defines ``register(subparsers)``, adding its
subcommands with ``set_defaults(func=...)``; ``func(args) -> int`` returns the exit code.
Modules are imported only to build the parser; they import heavy libraries inside ``func``.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import DiskFullError, MuseBenchError

COMMAND_MODULES = [
    "musebench.cli.datasets",
    "musebench.cli.download",  # adds `datasets download` under the group made by musebench.cli.datasets
    "musebench.cli.run",
    "musebench.cli.score",
    "musebench.cli.listing",
    "musebench.cli.leaderboard",
    "musebench.cli.gate",
    "musebench.cli.study",  # `study create|list|stats|export` and `app` (the listening app)
    "musebench.cli.train",  # `train MODEL`: the seed LSTM generators
    "musebench.cli.bench",  # `bench`: scoring, DTW, harness overhead, model speed (musebench.bench)
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
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        try:
            return _main(argv)
        finally:  # also after argparse's --help, which exits through SystemExit
            sys.stdout.flush()
    except BrokenPipeError:  # `musebench ... | head`: the reader left; end quietly
        _silence_stdout()
        return 0


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except DiskFullError as exc:  # the run could not finish; rerunning resumes it
        print(f"musebench: error: {exc}", file=sys.stderr)
        return 1
    except MuseBenchError as exc:
        print(f"musebench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("musebench: interrupted", file=sys.stderr)
        return 130


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not raise again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
