"""``musebench datasets download``: options for the real datasets' public archives.

:mod:`musebench.cli.datasets` creates ``musebench datasets download NAME [--data-dir DIR]``;
this module (registered after it in ``COMMAND_MODULES``) adds ``--dest``, ``--part``,
``--no-extract`` and ``--list`` to that parser and handles the command (it creates the parser
itself if the datasets group has none). The work is :func:`musebench.datasets.download.download_dataset`.
"""
from __future__ import annotations

import argparse

HELP = "download a dataset's public archives (resumable, checksum-checked)"
DESCRIPTION = (
    "Download the public archives of dataset NAME into DIR (--dest; default "
    "$MUSEBENCH_DATA/downloads/NAME) and unpack them into the dataset root in the official layout. "
    "Bytes go to FILE.part; running the command again after an interruption resumes with an HTTP "
    "Range request. Each finished file is checked against the published sha256/md5 (MAESTRO v3, "
    "GuitarSet, Slakh2100) before it gets its final name; a mismatch deletes it. MusicNet and NSynth "
    "publish no checksum (verify the unpacked copy instead). URMP has no public archive URL.")


def _datasets_group(subparsers: argparse._SubParsersAction) -> argparse._SubParsersAction:
    parser = subparsers.choices.get("datasets")
    if parser is None:
        parser = subparsers.add_parser("datasets", help="list, prepare, verify, register and download datasets")
    for action in parser._actions:  # argparse keeps a sub-command group as an action
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest="datasets_command", metavar="SUBCOMMAND")


def _add(parser: argparse.ArgumentParser, *flags: str, **kwargs) -> None:
    dest = kwargs.get("dest") or flags[0].lstrip("-").replace("-", "_")
    if any(action.dest == dest for action in parser._actions):
        return  # the datasets module already defines it
    try:
        parser.add_argument(*flags, **kwargs)
    except argparse.ArgumentError:  # the datasets module already defines it
        pass


def register(subparsers: argparse._SubParsersAction) -> None:
    group = _datasets_group(subparsers)
    parser = group.choices.get("download")
    if parser is None:
        parser = group.add_parser("download", help=HELP)
    parser.description = DESCRIPTION
    parser.epilog = ("Then run `musebench datasets register NAME ROOT` (when ROOT is not the default) and "
                     "`musebench datasets verify NAME`.")
    _add(parser, "name", help="dataset name: maestro-v3, guitarset, slakh2100, cerberus4, musicnet, nsynth")
    _add(parser, "--data-dir", metavar="ROOT", help="dataset root to unpack into (default: its resolved root)")
    _add(parser, "--dest", metavar="DIR", help="folder for the archives (default: $MUSEBENCH_DATA/downloads/NAME)")
    _add(parser, "--part", action="append", metavar="PART",
         help="only this archive (repeatable), e.g. midi for MAESTRO or test for NSynth; see --list")
    _add(parser, "--no-extract", action="store_true", help="download and check only; do not unpack")
    _add(parser, "--list", action="store_true", help="print the archives, sizes, URLs and checksums; fetch nothing")
    _add(parser, "--quiet", action="store_true", help="no progress bar")
    previous = parser.get_default("func")
    parser.set_defaults(func=lambda args: main(args, fallback=previous))


def main(args: argparse.Namespace, *, fallback=None) -> int:
    """Download the archives of a real dataset; other datasets go to ``fallback`` (the datasets
    module's own handler, which points e.g. synth to ``prepare``)."""
    from ..datasets import get_dataset
    from ..datasets.download import describe_archives, download_dataset, downloadable

    if fallback is not None and args.name not in downloadable():
        return fallback(args)
    if args.list:
        for line in describe_archives(args.name):
            print(line)
        return 0
    extract = not args.no_extract
    root = None
    if extract:
        root = args.data_dir or get_dataset(args.name).root
    paths = download_dataset(args.name, dest=args.dest, root=root, parts=args.part, extract=extract,
                             progress=not args.quiet)
    for path in paths:
        print(f"{args.name}: {path} (checked)")
    if extract:
        print(f"{args.name}: unpacked into {root}; next: `musebench datasets verify {args.name}"
              f"{' --data-dir ' + str(root) if args.data_dir else ''}`")
    return 0
