"""``musebench baseline save`` and ``musebench check``: the CI regression gate."""
from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("baseline", help="manage baselines for `musebench check`",
                       description="Store a run's per-item scores and provenance under results/baselines/.")
    bsub = p.add_subparsers(dest="baseline_command", metavar="ACTION", required=True)
    s = bsub.add_parser("save", help="save RUN_DIR as a baseline", description="Save RUN_DIR as a baseline.")
    s.add_argument("run_dir", help="a finished run directory (with results.json)")
    s.add_argument("--name", help="baseline name (default: <task>--<model>)")
    s.add_argument("--results-dir", help="results folder (default: $MUSEBENCH_RESULTS or ./results)")
    s.set_defaults(func=save_main)
    lst = bsub.add_parser("list", help="list saved baselines", description="List saved baselines.")
    lst.add_argument("--results-dir", help="results folder")
    lst.set_defaults(func=list_main)

    c = sub.add_parser("check", help="fail if a run regressed against a baseline", description=(
        "Compare RUN_DIR with a baseline per item (paired). Exit 1 only when a metric dropped by more than "
        "--max-drop and the drop is significant (one-sided Wilcoxon signed-rank, --alpha); exit 0 otherwise; "
        "exit 2 when the runs are not comparable (task version, data fingerprint or item set differ)."))
    c.add_argument("run_dir", help="the new run directory")
    c.add_argument("--baseline", required=True, help="baseline name or path to a baseline JSON")
    c.add_argument("--metric", action="append", help="metric to check (repeatable; default: the task's metrics)")
    c.add_argument("--max-drop", type=float, default=0.005, help="tolerated drop of the mean (default 0.005)")
    c.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    c.add_argument("--json", dest="json_path", metavar="FILE", help="also write the report as JSON")
    c.add_argument("--junit", dest="junit_path", metavar="FILE", help="also write JUnit XML for CI systems")
    c.add_argument("--results-dir", help="results folder holding baselines/")
    c.set_defaults(func=check_main)


def save_main(args: argparse.Namespace) -> int:
    from ..gate import save_baseline

    path = save_baseline(args.run_dir, name=args.name, results_dir=args.results_dir)
    print(f"saved baseline {path.stem} -> {path}")
    return 0


def list_main(args: argparse.Namespace) -> int:
    import json

    from ..gate import baselines_dir

    for p in sorted(baselines_dir(args.results_dir).glob("*.json")):
        b = json.loads(p.read_text())
        print(f"{p.stem:<40} task {b['task']['name']} v{b['task']['version']}  model {b['model']['name']}  "
              f"items {len(b['items'])}  data {b['dataset']['fingerprint'][:12]}")
    return 0


def check_main(args: argparse.Namespace) -> int:
    from ..errors import IncomparableError
    from ..gate import check, write_outputs

    try:
        report = check(args.run_dir, baseline=args.baseline, metrics=args.metric, max_drop=args.max_drop,
                       alpha=args.alpha, results_dir=args.results_dir)
    except IncomparableError as exc:
        print(f"musebench check: {exc}", file=sys.stderr)
        return 2
    print(report.table())
    write_outputs(report, json_path=args.json_path, junit_path=args.junit_path)
    return report.exit_code
