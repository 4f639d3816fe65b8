"""``musebench train umt``: the command-line side of :mod:`musebench.training.umt.loop`."""
from __future__ import annotations

import argparse

from . import UMTTrainConfig


def main_cli(args: argparse.Namespace) -> int:
    """``musebench train umt ...`` (see :mod:`musebench.cli.train`)."""
    from ...paths import results_home
    from ..report import report_checkpoint
    from .loop import train

    config = UMTTrainConfig(size=args.size, domains=[d.strip() for d in args.domains.split(",") if d.strip()],
                            steps=args.steps, seed=args.seed, device=args.device, threads=args.threads,
                            checkpoint_every=args.checkpoint_every, dtype=args.dtype,
                            init_from=args.init_from,
                            **({} if args.input_noise is None else {"input_noise": args.input_noise}))
    output = args.output or results_home(args.results_dir) / "checkpoints"
    result = train(config, output=output, progress=not args.no_progress, restart=args.restart,
                   log=None if args.json else print)
    return report_checkpoint(config=result.config, weights_path=result.weights_path,
                             config_path=result.config_path, n_parameters=result.n_parameters,
                             task="synth-piano-to-violin", model="umt", as_json=args.json)
