"""``musebench train mt3|seq2seq-piano``: the command-line side of :mod:`musebench.training.seq2seq.loop`."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from . import Seq2SeqTrainConfig


def config_from_args(args: argparse.Namespace) -> Seq2SeqTrainConfig:
    """The training config the command line asks for (unset options keep the config's defaults)."""
    d = Seq2SeqTrainConfig(model=args.model)
    size = args.size if args.size in ("tiny", "small") else None
    if args.size and size is None:
        from ...errors import ConfigError

        raise ConfigError(f"train {args.model}: --size must be tiny or small, not {args.size!r}")
    return Seq2SeqTrainConfig(
        model=args.model, size=size or d.size, steps=args.steps if args.steps is not None else d.steps,
        batch_size=args.batch_size or d.batch_size, learning_rate=args.learning_rate or d.learning_rate,
        seed=args.seed, threads=args.threads, device=args.device, init_from=args.init_from,
        max_minutes=args.max_minutes, validate_every=args.validate_every or d.validate_every,
        checkpoint_every=args.checkpoint_every or d.checkpoint_every)


def main_cli(args: argparse.Namespace) -> int:
    from ...paths import results_home
    from ..report import report_checkpoint
    from .loop import train

    config = config_from_args(args)
    out = Path(args.output) if args.output else results_home(args.results_dir) / "checkpoints"
    if args.restart:
        for f in out.glob(f"{config.model}-{config.size}.resume.pt"):
            f.unlink()
    result = train(config, out=out, progress=not args.no_progress, log=None if args.json else print)
    return report_checkpoint(config=json.loads(result.config_path.read_text()), weights_path=result.weights_path,
                             config_path=result.config_path, n_parameters=result.n_parameters,
                             task="synth-ensemble" if config.model == "mt3" else "synth-piano", model=config.model,
                             as_json=args.json, details=f"{result.steps} steps, {result.seconds / 60:.1f} min; "
                                                        f"best validation {json.dumps(result.best)}")
