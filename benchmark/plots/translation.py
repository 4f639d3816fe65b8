"""Translation figures: one per item (spectrograms side by side with the DTW paths) and a
summary per run (per-item scores of every metric, with the run's mean and 95 % CI).

Written to ``<run dir>/figures/<item id>.png`` and ``<run dir>/figures/summary.png``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..types import Item


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def item_figure(path: str | Path, *, source, output, reference=None, source_path: np.ndarray | None = None,
                reference_path: np.ndarray | None = None, title: str = "",
                scores: dict[str, float] | None = None) -> Path:
    """Draw one item: log-CQT of source, output (and reference) side by side, then the DTW paths.

    Parameters
    ----------
    path : path-like
        PNG to write.
    source, output, reference : musebench.metrics.translation.Features
    source_path : np.ndarray, shape=(K, 2), optional
        DTW path (source frame, output frame).
    reference_path : np.ndarray, shape=(K, 2), optional
        DTW path (output frame, reference frame).
    title : str
    scores : dict, optional
        Shown under the title.

    Returns
    -------
    Path
    """
    from ..metrics.translation import PITCH_MIN

    plt = _pyplot()
    panels = [("source", source), ("output", output)] + ([("reference", reference)] if reference is not None else [])
    fig, axes = plt.subplots(1, len(panels) + 1, figsize=(4.2 * (len(panels) + 1), 3.6),
                             gridspec_kw={"width_ratios": [3] * len(panels) + [2.4]})
    rate = source.config.frame_rate
    vmax = max(float(f.log_cqt.max()) for _, f in panels)
    image = None
    for ax, (label, feats) in zip(axes, panels):
        image = ax.imshow(feats.log_cqt.T, origin="lower", aspect="auto", cmap="magma",
                          extent=(0, len(feats) / rate, PITCH_MIN - 0.5, PITCH_MIN + feats.log_cqt.shape[1] - 0.5),
                          vmin=vmax - feats.config.floor_db, vmax=vmax)
        ax.set_title(label)
        ax.set_xlabel("time (s)")
    axes[0].set_ylabel("MIDI pitch (semitone bins)")
    if image is not None:
        fig.colorbar(image, ax=axes[len(panels) - 1], label="dB")
    ax = axes[-1]
    if source_path is not None:
        ax.plot(source_path[:, 0] / rate, source_path[:, 1] / rate, lw=1.2, label="source → output")
    if reference_path is not None:
        ax.plot(reference_path[:, 1] / rate, reference_path[:, 0] / rate, lw=1.2, ls="--",
                label="reference → output")
    end = max(len(source), len(output)) / rate
    ax.plot([0, end], [0, end], color="0.6", lw=0.8, ls=":", label="same time")
    ax.set_xlabel("source / reference time (s)")
    ax.set_ylabel("output time (s)")
    ax.set_title("DTW paths (chroma)")
    ax.legend(loc="upper left", fontsize=7)
    if scores:
        text = "  ".join(f"{k.replace('_correlation', '_corr')} {v:.3f}" for k, v in sorted(scores.items())
                         if not k.startswith("output_"))
        fig.suptitle(f"{title}\n{text}", fontsize=8)
    elif title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def summary_figure(path: str | Path, *, run_dir: str | Path) -> Path | None:
    """Per-item scores of each per-item metric (dots) with the mean and its 95 % CI; set-level
    metrics (e.g. ``target_domain_distance``) in a panel of their own scale."""
    run_dir = Path(run_dir)
    results_file = run_dir / "results.json"
    if not results_file.is_file():
        return None
    results = json.loads(results_file.read_text())
    records = [json.loads(p.read_text()) for p in sorted((run_dir / "items").glob("*.json"))]
    metrics = [m for m in results["task"]["metrics"] if m in results["metrics"]]
    if not metrics:
        return None
    item_metrics = [m for m in metrics if any(m in r["scores"] for r in records)]
    set_metrics = [m for m in metrics if m not in item_metrics]
    plt = _pyplot()
    groups = [g for g in (item_metrics, set_metrics) if g]
    fig, axes = plt.subplots(1, len(groups), figsize=(6.5 + 3.0 * (len(groups) - 1), 0.55 * len(metrics) + 1.6),
                             gridspec_kw={"width_ratios": [len(g) + 2 for g in groups]}, squeeze=False)
    for ax, group in zip(axes[0], groups):
        for row, name in enumerate(group):
            values = [r["scores"][name] for r in records if r["status"] == "ok" and name in r["scores"]]
            if values:
                jitter = np.linspace(-0.18, 0.18, len(values)) if len(values) > 1 else np.zeros(1)
                ax.scatter(values, row + jitter, s=12, color="tab:blue", alpha=0.6, zorder=2)
            m = results["metrics"][name]
            if m.get("mean") is not None:
                lo = m["ci_low"] if m.get("ci_low") is not None else m["mean"]
                hi = m["ci_high"] if m.get("ci_high") is not None else m["mean"]
                ax.errorbar([m["mean"]], [row], xerr=[[m["mean"] - lo], [hi - m["mean"]]], fmt="D",
                            color="tab:red", capsize=4, zorder=3)
        ax.set_yticks(range(len(group)))
        ax.set_yticklabels([f"{m} ({'↑' if results['metrics'][m].get('higher_is_better', True) else '↓'})"
                            for m in group])
        ax.set_ylim(len(group) - 0.5, -0.5)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"{results['task']['name']} — {results['model']['name']} "
                 f"({results['n_scored']}/{results['n_items']} items; red: mean, 95% CI)", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def run_figures(*, family: Any, task: Any, dataset: Any, items: list[Item], run_dir: Path,
                max_items: int = 16) -> list[Path]:
    """Every figure of a finished translation run (item figures for the first ``max_items``
    scored items, then the summary)."""
    from ..metrics import translation as tm

    out: list[Path] = []
    config = family.feature_config(task)
    radius = int(task.params.get("radius", tm.DEFAULT_RADIUS))
    drawn = 0
    for item in items:
        if drawn >= max_items:
            break
        record_file = run_dir / "items" / f"{item.id}.json"
        pred = run_dir / "predictions" / f"{item.id}{family.prediction_suffix}"
        if not record_file.is_file() or not pred.is_file():
            continue
        record = json.loads(record_file.read_text())
        if record.get("status") != "ok":
            continue
        source, output, reference, _ = family.load_triple(task=task, item=item, prediction=family.load_prediction(pred))
        sr = config.sample_rate
        src = tm.extract_features(source, sample_rate=sr, config=config)
        outf = tm.extract_features(output, sample_rate=sr, config=config)
        ref = tm.extract_features(reference, sample_rate=sr, config=config) if reference is not None else None
        _, spath = tm.align(src, outf, radius=radius)
        rpath = tm.align(outf, ref, radius=radius)[1] if ref is not None else None
        out.append(item_figure(run_dir / "figures" / f"{item.id}.png", source=src, output=outf, reference=ref,
                               source_path=spath, reference_path=rpath, title=f"{task.name} / {item.id}",
                               scores={k: v for k, v in record["scores"].items() if k in task.metrics}))
        drawn += 1
    summary = summary_figure(run_dir / "figures" / "summary.png", run_dir=run_dir)
    if summary is not None:
        out.append(summary)
    return out
