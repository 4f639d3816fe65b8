"""``musebench train``: train a reference generation model and write its checkpoint."""
from __future__ import annotations

import argparse

TRAINABLE = ("lstm", "fc-lstm", "conv-lstm", "stacked-lstm", "bilinear-lstm", "umt", "mt3", "seq2seq-piano")
SEQ2SEQ = ("mt3", "seq2seq-piano")
#: the options each trainer reads (argparse dests); any other one given is refused, not ignored
_COMMON = {"model", "seed", "device", "threads", "output", "results_dir", "no_progress", "json", "func", "command"}
_APPLIES = {
    "lstm": _COMMON | {"epochs", "max_steps", "batch_size", "seq_frames", "hidden_size", "learning_rate",
                       "input_noise", "free_run_frames", "dtype", "data_dir"},
    "umt": _COMMON | {"dtype", "size", "domains", "steps", "checkpoint_every", "restart", "init_from", "input_noise"},
    "seq2seq": _COMMON | {"steps", "size", "checkpoint_every", "restart", "batch_size", "learning_rate",
                          "max_minutes", "init_from", "validate_every"},
}

_NAMES = {"lstm": "the LSTM generators", "umt": "umt", "seq2seq": "mt3/seq2seq-piano"}


def _refuse_foreign_options(args: argparse.Namespace) -> None:
    """ConfigError naming the first option given that ``args.model``'s trainer does not read."""
    from . import build_parser
    from ..errors import ConfigError

    defaults = vars(build_parser().parse_args(["train", args.model]))
    kind = "umt" if args.model == "umt" else "seq2seq" if args.model in SEQ2SEQ else "lstm"
    for dest, value in vars(args).items():
        if dest not in _APPLIES[kind] and dest in defaults and value != defaults[dest]:
            flag = "--" + dest.replace("_", "-")
            users = " and ".join(_NAMES[k] for k, v in _APPLIES.items() if dest in v)
            raise ConfigError(f"train {args.model}: {flag} applies to {users} only")
UMT_DOMAINS = "piano,violin,flute,strings"
UMT_INPUT_NOISE = 0.0  # the default of UMTTrainConfig.input_noise (kept here so that --help imports no trainer)


def register(sub: argparse._SubParsersAction) -> None:
    from ..training.config import TrainConfig

    d = TrainConfig(model="lstm")
    p = sub.add_parser("train", help="train a reference generation model", description=(
        "Train one of the seed LSTM generators (next-FFT-frame prediction, MSE) on the synthetic "
        "train split and write OUTPUT/<model>.npz (weights) and OUTPUT/<model>.json (training config, "
        "timing, data fingerprint). Run it with `musebench run --task synth-continuation --model MODEL "
        "--param checkpoint=OUTPUT/MODEL`. The shipped checkpoints were made with "
        "`--output benchmark/data/checkpoints` and the defaults below. "
        "mt3 / seq2seq-piano: train the MT3-style transcriber on synth-ensemble / synth-piano pieces "
        "(docs/models/seq2seq.md) and write OUTPUT/<model>-<size>.npz/.json (best validation) and "
        "<model>-<size>-last.*; rerunning the same command resumes from OUTPUT/<model>-<size>.resume.pt."))
    p.add_argument("model", metavar="MODEL", choices=TRAINABLE, help="one of: " + ", ".join(TRAINABLE))
    p.add_argument("--epochs", type=int, default=d.epochs, help=f"passes over the training frames (default {d.epochs})")
    p.add_argument("--max-steps", type=int, help="stop after this many optimizer steps (smoke tests)")
    p.add_argument("--batch-size", type=int, help=f"lstm: sequences per batch (default {d.batch_size}); "
                   "mt3/seq2seq-piano: 2-s segments per step (default 32)")
    p.add_argument("--seq-frames", type=int, default=d.seq_frames,
                   help=f"frames per training sequence (default {d.seq_frames} = 1.5 s)")
    p.add_argument("--hidden-size", type=int, default=d.hidden_size, help=f"default {d.hidden_size}")
    p.add_argument("--learning-rate", type=float,
                   help=f"Adam step (lstm default {d.learning_rate}; mt3/seq2seq-piano: peak AdamW rate, default 0.0015)")
    p.add_argument("--input-noise", type=float, default=None,
                   help=f"LSTMs: std of noise added to input frames while training (default {d.input_noise}); umt: "
                        f"std, in mu-law classes, of noise added to the decoders' teacher-forced input samples "
                        f"(default {UMT_INPUT_NOISE})")
    p.add_argument("--free-run-frames", type=int, default=d.free_run_frames,
                   help="last frames of each training sequence predicted from the network's own output "
                        f"(default {d.free_run_frames})")
    p.add_argument("--seed", type=int, default=d.seed, help=f"default {d.seed}")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")
    p.add_argument("--threads", type=int, default=d.threads, help=f"torch CPU threads (default {d.threads})")
    p.add_argument("--dtype", default=d.dtype, choices=["float16", "float32"], help="storage dtype of the weights")
    p.add_argument("--output", "--out", help="checkpoint directory (default: <results dir>/checkpoints)")
    p.add_argument("--results-dir", help="results folder for the default --output")
    p.add_argument("--data-dir", help="root of the training dataset (default: registered or cache dir)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    u = p.add_argument_group("umt (Universal Music Translation Network; of the options above only --input-noise, --seed, "
                             "--device, --threads, --dtype, --output, --results-dir, --no-progress and --json apply; "
                             "also --init-from)")
    u.add_argument("--size", choices=["tiny", "paper", "small"], default="tiny",
                   help="umt: network sizes, tiny (8 kHz, trains on a CPU) or paper (16 kHz, the paper's; a GPU's job); "
                        "mt3/seq2seq-piano: tiny (3.3 M parameters, CPU) or small (T5-small's shape, a GPU's job)")
    u.add_argument("--domains", default=UMT_DOMAINS,
                   help=f"umt: comma-separated synthetic training domains (default {UMT_DOMAINS}; clarinet is refused: "
                        "it is the unseen domain)")
    u.add_argument("--steps", type=int, default=4000,
                   help="umt: total optimizer steps; a rerun with the same settings resumes up to this many (default 4000)")
    u.add_argument("--checkpoint-every", type=int, default=200,
                   help="umt: steps between checkpoints and resume states (default 200)")
    u.add_argument("--restart", action="store_true", help="umt: ignore an existing resume state and start over")
    s = p.add_argument_group("mt3 / seq2seq-piano (also --steps, --size, --checkpoint-every, --restart, --batch-size, "
                             "--learning-rate, --seed, --device, --threads, --output, --no-progress, --json)")
    s.add_argument("--max-minutes", type=float, help="mt3/seq2seq-piano: stop after this much training time; the "
                   "learning-rate schedule ends with whichever of --steps and time runs out first")
    s.add_argument("--init-from", metavar="CHECKPOINT", help="mt3/seq2seq-piano: start from this checkpoint's weights "
                   "where shapes fit (shared tokens row by row), e.g. mt3 from a seq2seq-piano checkpoint; umt: from a "
                   "checkpoint of the same network (continued training)")
    s.add_argument("--validate-every", type=int, help="mt3/seq2seq-piano: steps between validation runs (default 250)")
    p.add_argument("--json", action="store_true", help="print the checkpoint config as JSON")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    _refuse_foreign_options(args)
    if args.model == "umt":
        from ..training.umt.command import main_cli

        return main_cli(args)
    if args.model in SEQ2SEQ:
        from ..training.seq2seq.command import main_cli as seq2seq_main

        return seq2seq_main(args)
    from ..paths import results_home
    from ..training import TrainConfig, train
    from ..training.report import report_checkpoint

    d = TrainConfig(model=args.model)
    config = TrainConfig(model=args.model, epochs=args.epochs, max_steps=args.max_steps,
                         batch_size=args.batch_size or d.batch_size, seq_frames=args.seq_frames,
                         hidden_size=args.hidden_size, learning_rate=args.learning_rate or d.learning_rate,
                         input_noise=d.input_noise if args.input_noise is None else args.input_noise,
                         free_run_frames=args.free_run_frames, seed=args.seed,
                         device=args.device, threads=args.threads, dtype=args.dtype)
    output = args.output or results_home(args.results_dir) / "checkpoints"
    result = train(config, output=output, data_dir=args.data_dir, progress=not args.no_progress,
                   log=None if args.json else print)
    return report_checkpoint(config=result.config, weights_path=result.weights_path,
                             config_path=result.config_path, n_parameters=result.n_parameters,
                             task="synth-continuation", model=args.model, as_json=args.json)
