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
    from .loop import train

    config = config_from_args(args)
    out = Path(args.output) if args.output else results_home(args.results_dir) / "checkpoints"
    if args.restart:
        for f in out.glob(f"{config.model}-{config.size}.resume.pt"):
            f.unlink()
    result = train(config, out=out, progress=not args.no_progress, log=None if args.json else print)
    if args.json:
        print(json.dumps(json.loads(result.config_path.read_text()), indent=2, sort_keys=True))
        return 0
    print(f"wrote {result.weights_path} ({result.weights_path.stat().st_size / 1e6:.2f} MB, "
          f"{result.n_parameters} parameters, {result.steps} steps, {result.seconds / 60:.1f} min) and "
          f"{result.config_path.name}; best validation {json.dumps(result.best)}")
    task = "synth-ensemble" if config.model == "mt3" else "synth-piano"
    print(f"run it: musebench run --task {task} --model {config.model} "
          f"--param checkpoint={result.weights_path.with_suffix('')}")
    return 0
