"""HTML leaderboard: a table per task, a bar chart per metric with 95% CIs, and a per-item
scatter of any two models (chosen in the page). Self-contained: one file, no network."""
from __future__ import annotations

import html
import io
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .leaderboard import TaskBoard


def _bar_chart_svg(board: "TaskBoard", metric: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    t = board.table
    means = t[metric].astype(float).to_numpy()
    lo = t[f"{metric}_ci_low"].astype(float).to_numpy()
    hi = t[f"{metric}_ci_high"].astype(float).to_numpy()
    fig, ax = plt.subplots(figsize=(max(3.5, 0.9 * len(t) + 1.5), 2.8))
    x = np.arange(len(t))
    ax.bar(x, means, color="#4C72B0")
    # the CI drawn as the interval itself: for set-level metrics (a Frechet distance of the whole
    # output set) the bootstrap interval need not contain the point value, so no +/- error bars
    ok = np.isfinite(lo) & np.isfinite(hi)
    ax.vlines(x[ok], lo[ok], hi[ok], color="black", linewidth=1)
    ax.hlines(np.r_[lo[ok], hi[ok]], np.r_[x[ok], x[ok]] - 0.12, np.r_[x[ok], x[ok]] + 0.12, color="black",
              linewidth=1)
    ax.set_xticks(range(len(t)), [m[:18] for m in t["model"]], rotation=30, ha="right", fontsize=8)
    ax.set_title(metric, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


_SCATTER_JS = """
function drawScatter(id) {
  const data = JSON.parse(document.getElementById(id + '-data').textContent);
  const a = document.getElementById(id + '-a').value, b = document.getElementById(id + '-b').value;
  const m = document.getElementById(id + '-m').value;
  const svg = document.getElementById(id + '-svg'); const W = 320, P = 36;
  const xa = data.scores[a] || {}, yb = data.scores[b] || {};
  const ids = Object.keys(xa).filter(k => k in yb && xa[k][m] !== undefined && yb[k][m] !== undefined);
  const vals = ids.flatMap(k => [xa[k][m], yb[k][m]]);
  const lo = Math.min(0, ...vals), hi = Math.max(1, ...vals);
  const s = v => P + (v - lo) / (hi - lo || 1) * (W - 2 * P);
  let out = `<line x1="${P}" y1="${W-P}" x2="${W-P}" y2="${P}" stroke="#bbb" stroke-dasharray="4"/>`;
  out += `<rect x="${P}" y="${P}" width="${W-2*P}" height="${W-2*P}" fill="none" stroke="#444"/>`;
  for (const k of ids) {
    out += `<circle cx="${s(xa[k][m])}" cy="${W - s(yb[k][m])}" r="4" fill="#C44E52" fill-opacity="0.7"><title>${k}: ${xa[k][m].toFixed(3)} vs ${yb[k][m].toFixed(3)}</title></circle>`;
  }
  out += `<text x="${W/2}" y="${W-6}" text-anchor="middle" font-size="11">${a}</text>`;
  out += `<text x="12" y="${W/2}" text-anchor="middle" font-size="11" transform="rotate(-90 12 ${W/2})">${b}</text>`;
  svg.innerHTML = out;
}
"""


def leaderboard_html(boards: list["TaskBoard"]) -> str:
    from .leaderboard import board_legend, display_frame

    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>MuseBench leaderboard</title>",
             "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}"
             "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px}"
             "th{background:#f3f3f3}.charts{display:flex;flex-wrap:wrap;gap:8px}"
             ".flag{color:#a33}</style>",
             f"<script>{_SCATTER_JS}</script></head><body><h1>MuseBench leaderboard</h1>",
             "<p>Each board says which items it compares, what its cells hold and how it ranks; a rank "
             "marked <b>=</b> is a rank number shared with another row.</p>"]
    for k, b in enumerate(boards):
        parts.append(f"<h2>{html.escape(b.task)}</h2>")
        parts += [f"<p>{html.escape(line)}</p>" for line in board_legend(b)]
        if b.table.empty:
            parts.append("<p>(no ranked runs)</p>")
            if not b.flagged.empty:
                parts.append(display_frame(b, flagged=True).to_html(index=False, escape=True, border=0))
            continue
        parts.append(display_frame(b).to_html(index=False, escape=True, border=0))
        if not b.flagged.empty:
            parts.append("<p class='flag'>Not ranked with the above (not comparable):</p>")
            parts.append(display_frame(b, flagged=True).to_html(index=False, escape=True, border=0))
        parts.append("<div class='charts'>")
        for m in b.metrics:
            if b.table[m].notna().any():
                parts.append(_bar_chart_svg(b, m))
        parts.append("</div>")
        from .results import load_run

        scores = {}
        for model, path in zip(b.table["model"], b.table["path"]):
            recs = load_run(path).item_scores()
            scores[model] = {i: r["scores"] for i, r in recs.items() if r["status"] == "ok"}
        models = list(scores)
        if len(models) >= 2:
            sid = f"scatter{k}"
            opts = "".join(f"<option>{html.escape(m)}</option>" for m in models)
            mopts = "".join(f"<option>{html.escape(m)}</option>" for m in b.metrics)
            data = json.dumps({"scores": scores}).replace("</", "<\\/")
            parts.append(
                f"<h3>Per-item scores: any two models</h3><p>x <select id='{sid}-a' onchange=\"drawScatter('{sid}')\">"
                f"{opts}</select> y <select id='{sid}-b' onchange=\"drawScatter('{sid}')\">{opts}</select> metric "
                f"<select id='{sid}-m' onchange=\"drawScatter('{sid}')\">{mopts}</select></p>"
                f"<svg id='{sid}-svg' width='320' height='320'></svg>"
                f"<script type='application/json' id='{sid}-data'>{data}</script>"
                f"<script>document.getElementById('{sid}-b').selectedIndex=1;drawScatter('{sid}');</script>")
    parts.append("</body></html>")
    return "\n".join(parts)
