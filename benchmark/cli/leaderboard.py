"""``musebench leaderboard``: rank runs per task."""
from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("leaderboard", help="rank runs per task", description=(
        "Rank the runs under results/runs per task, with 95% bootstrap CIs and statistical ties; runs on "
        "another task version, data fingerprint or item set are listed separately, flagged."))
    p.add_argument("--task", help="only this task")
    p.add_argument("--format", default="md", choices=["md", "csv", "json", "html"], help="output format")
    p.add_argument("--output", "-o", help="write to this file instead of stdout")
    p.add_argument("--results-dir", help="results folder (default: $MUSEBENCH_RESULTS or ./results)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level for ties")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from ..io_utils import atomic_write_text
    from ..leaderboard import build_leaderboards
    from ..report import render

    boards = build_leaderboards(results_dir=args.results_dir, task=args.task, alpha=args.alpha)
    if not boards:
        print("no runs found" + (f" for task {args.task}" if args.task else ""), file=sys.stderr)
        return 1
    text = render(boards, fmt=args.format)
    if args.output:
        atomic_write_text(args.output, text)
        print(f"wrote {args.output}")
    else:
        print(text)
    return 0
