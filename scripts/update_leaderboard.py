#!/usr/bin/env python
"""Regenerate the committed leaderboard and the project's own CI baselines.

    python scripts/update_leaderboard.py            # all entries
    python scripts/update_leaderboard.py --only-baselines

Runs the built-in models on the synthetic tasks of the three families (resuming whatever is already in
results/runs/), writes results/leaderboard/{README.md, leaderboard.html, leaderboard.json},
and saves the CI-gate baselines (a fixed subset, checked by tests/test_project_gate.py) under
results/baselines/ci--<task>--<model>.json.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from musebench.committed import CI_GATE, LEADERBOARD
from musebench.gate import save_baseline
from musebench.io_utils import atomic_write_text
from musebench.leaderboard import build_board
from musebench.report import render
from musebench.results import load_run
from musebench.runner import RunOptions, run_task
from musebench.tasks import get_task

ROOT = Path(__file__).resolve().parent.parent

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results-dir", default=str(ROOT / "results"))
    p.add_argument("--only-baselines", action="store_true")
    args = p.parse_args(argv)
    results = Path(args.results_dir)
    if not args.only_baselines:
        by_task: dict[str, list] = {}
        for task, model, params in LEADERBOARD:
            print(f"== {task} / {model}", flush=True)
            outcome = run_task(RunOptions(task=task, model=model, model_params=params, results_dir=results,
                                          device="cpu"))
            by_task.setdefault(task, []).append(load_run(outcome.run_dir))
        boards = [build_board(task, runs, current_version=get_task(task).version)
                  for task, runs in sorted(by_task.items())]
        out = results / "leaderboard"
        header = ("# MuseBench leaderboard (built-in models, synthetic tasks)\n\n"
                  "Transcription (synth-piano, synth-ensemble), translation (synth-piano-to-violin, "
                  "synth-piano-to-flute, synth-strings-to-piano, synth-unseen-clarinet-to-piano) and generation "
                  "(synth-continuation, synth-unconditional). "
                  "Regenerate with `make leaderboard` (CPU).\n\n")
        atomic_write_text(out / "README.md", header + render(boards, fmt="md"))
        atomic_write_text(out / "leaderboard.html", render(boards, fmt="html"))
        atomic_write_text(out / "leaderboard.json", render(boards, fmt="json"))
        print(f"wrote {out}/README.md, leaderboard.html, leaderboard.json")
    for task, model, params, limit in CI_GATE:
        outcome = run_task(RunOptions(task=task, model=model, model_params=params, limit=limit,
                                      results_dir=results, device="cpu", progress=False))
        path = save_baseline(outcome.run_dir, name=f"ci--{task}--{model}", results_dir=results)
        print(f"baseline {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
