"""HTML leaderboard: a table per task, a bar chart per metric with 95% CIs, and a per-item
scatter of any two models (chosen in the page). Self-contained: one file, no network."""
from __future__ import annotations

import html
import io
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .leaderboard import TaskBoard


#: width the page is laid out for: tables wrap (CI under the mean, long headers at "_") to fit it
PAGE_WIDTH_PX = 1400
FLAGGED_COLOUR, RANKED_COLOUR = "#BBBBBB", "#4C72B0"


def _bar_chart_svg(board: TaskBoard, metric: str) -> str:
    """Bars with 95% CIs; flagged (not comparable) runs drawn greyed and hatched after the ranked ones."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    frames = [board.table.assign(_flagged=False)]
    if not board.flagged.empty and metric in board.flagged:
        frames.append(board.flagged.assign(_flagged=True))
    t = pd.concat(frames, ignore_index=True)
    means = pd.to_numeric(t[metric], errors="coerce").to_numpy(dtype=float)
    lo = pd.to_numeric(t.get(f"{metric}_ci_low"), errors="coerce").to_numpy(dtype=float)
    hi = pd.to_numeric(t.get(f"{metric}_ci_high"), errors="coerce").to_numpy(dtype=float)
    flagged = t["_flagged"].to_numpy(dtype=bool)
    fig, ax = plt.subplots(figsize=(max(3.5, 0.9 * len(t) + 1.5), 2.8))
    x = np.arange(len(t))
    bars = ax.bar(x, np.nan_to_num(means), color=np.where(flagged, FLAGGED_COLOUR, RANKED_COLOUR))
    for bar, f in zip(bars, flagged):
        if f:
            bar.set_hatch("//")
            bar.set_edgecolor("#888888")
    # the CI drawn as the interval itself: for set-level metrics (a Frechet distance of the whole
    # output set) the bootstrap interval need not contain the point value, so no +/- error bars
    ok = np.isfinite(lo) & np.isfinite(hi)
    ax.vlines(x[ok], lo[ok], hi[ok], color="black", linewidth=1)
    ax.hlines(np.r_[lo[ok], hi[ok]], np.r_[x[ok], x[ok]] - 0.12, np.r_[x[ok], x[ok]] + 0.12, color="black",
              linewidth=1)
    labels = [(m if len(m) <= 28 else m[:27] + "…") + (" (flagged)" if f else "") for m, f in zip(t["model"], flagged)]
    ax.set_xticks(range(len(t)), labels, rotation=30, ha="right", fontsize=8)
    for tick, f in zip(ax.get_xticklabels(), flagged):
        if f:
            tick.set_color("#777777")
    ax.set_title(metric, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


def _table_html(frame) -> str:
    """A leaderboard table that fits :data:`PAGE_WIDTH_PX`: each CI goes under its mean, and long
    headers may break after an underscore."""
    import re

    head = "".join(f"<th>{html.escape(str(c)).replace('_', '_<wbr>')}</th>" for c in frame.columns)
    rows = []
    for values in frame.itertuples(index=False):
        cells = []
        for v in values:
            text = html.escape(str(v))
            m = re.fullmatch(r"(\S+) (\[[^\]]*\])", text)
            cells.append(f"<td>{m.group(1)}<br><span class='ci'>{m.group(2)}</span></td>" if m else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table class='board'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


_SCATTER_JS = """
function niceTicks(lo, hi, n) {
  const span = hi - lo || 1, raw = span / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map(f => f * mag).find(s => span / s <= n) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) out.push(+v.toFixed(10));
  return out;
}
function drawScatter(id) {
  const data = JSON.parse(document.getElementById(id + '-data').textContent);
  const a = document.getElementById(id + '-a').value, b = document.getElementById(id + '-b').value;
  const m = document.getElementById(id + '-m').value;
  const svg = document.getElementById(id + '-svg'); const W = 360, L = 58, R = 14, T = 14, B = 50;
  const xa = data.scores[a] || {}, yb = data.scores[b] || {};
  const ids = Object.keys(xa).filter(k => k in yb && xa[k][m] !== undefined && yb[k][m] !== undefined);
  const vals = ids.flatMap(k => [xa[k][m], yb[k][m]]);
  const unit = vals.every(v => v >= 0 && v <= 1);
  const lo = unit ? 0 : Math.min(...vals), hi = unit ? 1 : Math.max(...vals);
  const pad = unit ? 0 : (hi - lo || 1) * 0.05, a0 = lo - pad, a1 = hi + pad;
  const sx = v => L + (v - a0) / (a1 - a0 || 1) * (W - L - R);
  const sy = v => W - B - (v - a0) / (a1 - a0 || 1) * (W - T - B);
  let out = `<rect x="${L}" y="${T}" width="${W-L-R}" height="${W-T-B}" fill="none" stroke="#444"/>`;
  out += `<line x1="${sx(a0)}" y1="${sy(a0)}" x2="${sx(a1)}" y2="${sy(a1)}" stroke="#bbb" stroke-dasharray="4"/>`;
  const fmt = v => Math.abs(v) >= 1000 ? v.toExponential(1) : +v.toPrecision(3) + '';
  for (const v of niceTicks(a0, a1, 5)) {
    out += `<line class="tick-x" x1="${sx(v)}" y1="${W-B}" x2="${sx(v)}" y2="${W-B+5}" stroke="#444"/>`;
    out += `<text class="tick-x-label" x="${sx(v)}" y="${W-B+17}" text-anchor="middle" font-size="10">${fmt(v)}</text>`;
    out += `<line class="tick-y" x1="${L-5}" y1="${sy(v)}" x2="${L}" y2="${sy(v)}" stroke="#444"/>`;
    out += `<text class="tick-y-label" x="${L-8}" y="${sy(v)+3}" text-anchor="end" font-size="10">${fmt(v)}</text>`;
  }
  for (const k of ids) {
    out += `<circle cx="${sx(xa[k][m])}" cy="${sy(yb[k][m])}" r="4" fill="#C44E52" fill-opacity="0.7"><title>${k}: ${xa[k][m].toFixed(3)} vs ${yb[k][m].toFixed(3)}</title></circle>`;
  }
  const esc = s => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  out += `<text class="axis-x" x="${(L + W - R)/2}" y="${W-8}" text-anchor="middle" font-size="11">${esc(a)}: ${esc(m)} (linear, ${ids.length} items)</text>`;
  out += `<text class="axis-y" x="14" y="${(T + W - B)/2}" text-anchor="middle" font-size="11" transform="rotate(-90 14 ${(T + W - B)/2})">${esc(b)}: ${esc(m)}</text>`;
  svg.innerHTML = out;
}
"""


def leaderboard_html(boards: list[TaskBoard]) -> str:
    from .leaderboard import board_legend, display_frame

    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>MuseBench leaderboard</title>",
             "<style>body{font-family:system-ui,sans-serif;margin:1.5em;max-width:" + str(PAGE_WIDTH_PX - 60) +
             "px}table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 5px;"
             "vertical-align:top}th{background:#f3f3f3;font-weight:600}.ci{color:#666;font-size:11px;"
             "white-space:nowrap}.charts{display:flex;flex-wrap:wrap;gap:8px}.flag{color:#a33}</style>",
             f"<script>{_SCATTER_JS}</script></head><body><h1>MuseBench leaderboard</h1>",
             "<p>Each board says which items it compares, what its cells hold and how it ranks; a rank "
             "marked <b>=</b> is a rank number shared with another row.</p>"]
    for k, b in enumerate(boards):
        parts.append(f"<h2>{html.escape(b.task)}</h2>")
        parts += [f"<p>{html.escape(line)}</p>" for line in board_legend(b)]
        if b.table.empty:
            parts.append("<p>(no ranked runs)</p>")
            if not b.flagged.empty:
                parts.append(_table_html(display_frame(b, flagged=True)))
            continue
        parts.append(_table_html(display_frame(b)))
        if not b.flagged.empty:
            parts.append("<p class='flag'>Not ranked with the above (not comparable; greyed in the charts):</p>")
            parts.append(_table_html(display_frame(b, flagged=True)))
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
                f"<svg id='{sid}-svg' width='360' height='360'></svg>"
                f"<script type='application/json' id='{sid}-data'>{data}</script>"
                f"<script>document.getElementById('{sid}-b').selectedIndex=1;drawScatter('{sid}');</script>")
    parts.append("</body></html>")
    return "\n".join(parts)
