"""Training curves of seq2seq checkpoints (the figure in docs/models/seq2seq.md).

    python -m musebench.training.seq2seq.plot CHECKPOINT [CHECKPOINT ...] --out FIGURE.png

Each checkpoint's JSON holds its running training loss every 10 steps (``loss_curve``) and its
validation scores (``validation``); the figure draws the loss (left) and the validation F1s
(right) against training minutes.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

SCORES = {"seq2seq-piano": ("onset_f1", "onset_offset_f1", "frame_f1"),
          "mt3": ("multi_instrument_f1", "onset_f1", "drum_onset_f1", "frame_f1")}


def plot(checkpoints: list[str], out: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ...io_utils import read_json
    from ...models.checkpoints import resolve

    fig, (ax_loss, ax_f1) = plt.subplots(1, 2, figsize=(11, 4))
    threads: set[int] = set()
    for path in checkpoints:
        meta = read_json(resolve(path)[1], what="seq2seq checkpoint config")
        name, training = meta["model"], meta["training"]
        threads.add(int(training["config"].get("threads", 1)))
        if training.get("parent"):  # continued from a parent: its own curve starts at 0 again
            name += f" (from step {training['parent']['steps']})"
        curve = training["loss_curve"]
        ax_loss.plot([c["seconds"] / 60 for c in curve], [c["loss"] for c in curve], label=name)
        for key in SCORES.get(meta["model"], ("onset_f1",)):
            points = [(v["seconds"] / 60, v[key]) for v in training["validation"] if key in v]
            if points:
                ax_f1.plot(*zip(*points), marker="o", markersize=3, label=f"{name}: {key}")
    n = threads.pop() if len(threads) == 1 else None
    xlabel = f"training time (min, {n} CPU thread{'s' if n != 1 else ''})" if n else "training time (min, CPU)"
    ax_loss.set(xlabel=xlabel, ylabel="cross-entropy (running mean)",
                title="training loss", yscale="log")
    ax_f1.set(xlabel=xlabel, ylabel="F1 on the synth validation split",
              title="validation", ylim=(0, 1))
    for ax in (ax_loss, ax_f1):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return out_path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoints", nargs="+", help="checkpoint stems (or their .json)")
    p.add_argument("--out", required=True, help="figure file (.png)")
    args = p.parse_args(argv)
    print(plot(args.checkpoints, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
