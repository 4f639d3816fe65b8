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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from musebench.gate import save_baseline  # noqa: E402
from musebench.io_utils import atomic_write_text  # noqa: E402
from musebench.leaderboard import build_board, render  # noqa: E402
from musebench.results import load_run  # noqa: E402
from musebench.tasks import get_task  # noqa: E402
from musebench.runner import RunOptions, run_task  # noqa: E402

#: (task, model, params) on the committed leaderboard
LEADERBOARD = [
    ("synth-piano", "oracle", {}), ("synth-piano", "noisy-oracle", {}),
    ("synth-piano", "basic-pitch", {}), ("synth-piano", "transkun", {}),
    ("synth-ensemble", "oracle", {}), ("synth-ensemble", "noisy-oracle", {}),
    ("synth-ensemble", "basic-pitch", {}),
    # the MT3-style seq2seq transcribers, shipped tiny checkpoints (docs/models/seq2seq.md); transkun beside mt3
    ("synth-piano", "seq2seq-piano", {}), ("synth-ensemble", "mt3", {}), ("synth-ensemble", "transkun", {}),
    ("synth-piano-to-violin", "identity", {}), ("synth-piano-to-violin", "resynth", {}),
    ("synth-piano-to-violin", "oracle-resynth", {}),
    ("synth-strings-to-piano", "identity", {}), ("synth-strings-to-piano", "resynth", {}),
    ("synth-strings-to-piano", "oracle-resynth", {}),
    ("synth-piano-to-flute", "identity", {}), ("synth-piano-to-flute", "resynth", {}),
    ("synth-piano-to-flute", "oracle-resynth", {}),
    ("synth-unseen-clarinet-to-piano", "identity", {}), ("synth-unseen-clarinet-to-piano", "resynth", {}),
    ("synth-unseen-clarinet-to-piano", "oracle-resynth", {}),
    # the Universal Music Translation Network, shipped umt-tiny checkpoint (docs/models/umt.md)
    ("synth-piano-to-violin", "umt", {}), ("synth-piano-to-flute", "umt", {}),
    ("synth-strings-to-piano", "umt", {}), ("synth-unseen-clarinet-to-piano", "umt", {}),
    ("synth-continuation", "noise", {}), ("synth-continuation", "copy-train", {}),
    ("synth-continuation", "lstm", {}), ("synth-continuation", "stacked-lstm", {}),
    ("synth-continuation", "bilinear-lstm", {}), ("synth-continuation", "fc-lstm", {}),
    ("synth-continuation", "conv-lstm", {}), ("synth-continuation", "oracle", {}),
    ("synth-unconditional", "noise", {}), ("synth-unconditional", "copy-train", {}),
    ("synth-unconditional", "lstm", {}), ("synth-unconditional", "oracle", {}),
]
#: the project's own CI gate: (task, model, params, limit); deterministic models, small and fast
CI_GATE = [
    ("synth-piano", "noisy-oracle", {}, None),
    ("synth-piano", "basic-pitch", {}, None),
    ("synth-ensemble", "noisy-oracle", {}, None),
    ("synth-ensemble", "basic-pitch", {}, 4),
]


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
