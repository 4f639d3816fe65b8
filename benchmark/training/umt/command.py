"""``musebench train umt``: the command-line side of :mod:`musebench.training.umt.loop`."""
from __future__ import annotations

import argparse
import json

from . import UMTTrainConfig


def main_cli(args: argparse.Namespace) -> int:
    """``musebench train umt ...`` (see :mod:`musebench.cli.train`)."""
    from ...paths import results_home
    from .loop import train

    config = UMTTrainConfig(size=args.size, domains=[d.strip() for d in args.domains.split(",") if d.strip()],
                            steps=args.steps, seed=args.seed, device=args.device, threads=args.threads,
                            checkpoint_every=args.checkpoint_every, dtype=args.dtype)
    output = args.output or results_home(args.results_dir) / "checkpoints"
    result = train(config, output=output, progress=not args.no_progress, restart=args.restart,
                   log=None if args.json else print)
    if args.json:
        print(json.dumps(result.config, indent=2, sort_keys=True))
        return 0
    print(f"wrote {result.weights_path} ({result.bytes / 1e6:.2f} MB, {result.n_parameters} parameters) "
          f"and {result.config_path.name}")
    print(f"run it: musebench run --task synth-piano-to-violin --model umt "
          f"--param checkpoint={result.weights_path.with_suffix('')}")
    return 0
