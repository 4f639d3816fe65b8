"""Leaderboard rendering: every format a board is shown in (Markdown, CSV, JSON, HTML), and
the legend that says what a board's ranks, cells and item set are.

:mod:`musebench.leaderboard` ranks; this module only renders what it built (it imports the
ranking, never the other way round). The HTML page is self-contained (one file, no network):
a table per task, a bar chart per metric with 95% CIs, and a per-item scatter of any two models
(chosen in the page).
"""
from __future__ import annotations

import html
import io
import json
import re

import numpy as np
import pandas as pd

from .errors import ConfigError
from .leaderboard import TaskBoard, is_set_level
from .results import load_run

#: what ``=`` after a rank number means, on every board and page
TIE_MEANING = "a rank number shared with another row"


def _fmt(mean, lo, hi) -> str:
    if mean is None or (isinstance(mean, float) and np.isnan(mean)):
        return "–"
    if lo is None or hi is None or (isinstance(lo, float) and np.isnan(lo)):
        return f"{mean:.3f}"
    return f"{mean:.3f} [{lo:.3f}, {hi:.3f}]"


def display_frame(board: TaskBoard, *, flagged: bool = False) -> pd.DataFrame:
    df = board.flagged if flagged else board.table
    if df.empty:
        return df
    out = pd.DataFrame()
    if not flagged:
        out["rank"] = ["–" if r is None or (isinstance(r, float) and np.isnan(r)) else f"{int(r)}{'=' if t else ''}"
                       for r, t in zip(df["rank"], df["tied"])]
    out["model"] = df["model"]
    partial = bool((df["failed"] > 0).any())
    for m in board.metrics:
        out[m] = [_fmt(a, b, c) for a, b, c in zip(df[m], df[f"{m}_ci_low"], df[f"{m}_ci_high"])]
        if m == board.primary and partial and not is_set_level(m):
            out[f"{m} (scored items only)"] = [_fmt(v, None, None) for v in df[f"{m}_scored_mean"]]
        floor = f"{m}_floor"
        if floor in df and df[floor].notna().any():
            out[f"{m} floor"] = [_fmt(v, None, None) for v in df[floor]]
    out["coverage"] = df["coverage"]
    out["rtf"] = [("–" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}") for v in df["rtf"]]
    out["data"] = df["fingerprint"] + np.where(df["verified"], "", " UNVERIFIED")
    if flagged:
        out["flag"] = df["flag"]
    return out


def board_legend(board: TaskBoard) -> list[str]:
    """The sentences that say what a board's ranks, cells and item set are."""
    set_level = is_set_level(board.primary)
    test = ("its bootstrap CI lies wholly on the better side; a set-level metric" if set_level
            else "two-sided paired Wilcoxon signed-rank test over the board's items, alpha 0.05")
    cells = ("mean over all the board's items, a failed or missing item counting as 0 (the worst score "
             "on the board for a lower-is-better metric) [95% percentile bootstrap CI over items]; "
             "set-level metrics: the value over the whole output set [95% bootstrap CI]")
    scope = (f"the task's full split ({board.n_items} items)" if board.full_split
             else f"{board.n_items} items of --limit runs (no run covers the full split)")
    lines = [f"Items: {scope}; `coverage` = items scored / items asked.",
             f"Ranked by `{board.primary}`: rank = 1 + the number of models significantly better ({test}); "
             f"`=` marks {TIE_MEANING}. Cells: {cells}."]
    lines += board.notes
    warnings = sorted({str(w) for c in board.table.columns if c.endswith("_warning")
                       for w in board.table[c].dropna()}) if not board.table.empty else []
    lines += [f"Warning: {w}" for w in warnings]
    return lines


def render(boards: list[TaskBoard], *, fmt: str = "md") -> str:
    """Render leaderboards as md (default), csv, json or html."""
    if fmt == "json":
        payload = []
        for b in boards:
            payload.append({"task": b.task, "primary_metric": b.primary, "metrics": b.metrics,
                            "items": b.n_items, "full_split": b.full_split,
                            "significance_possible": b.significance_possible, "notes": board_legend(b),
                            "ranked": json.loads(b.table.drop(columns=["path"], errors="ignore").to_json(orient="records")),
                            "flagged": json.loads(b.flagged.drop(columns=["path"], errors="ignore").to_json(orient="records"))})
        return json.dumps(payload, indent=2)
    if fmt == "csv":
        frames = []
        for b in boards:
            t = b.table.drop(columns=["path"], errors="ignore").copy()
            t.insert(0, "task", b.task)
            frames.append(t)
        return pd.concat(frames).to_csv(index=False) if frames else ""
    if fmt == "html":
        return leaderboard_html(boards)
    if fmt != "md":
        raise ConfigError(f"leaderboard format must be md, csv, json or html, not {fmt!r}")
    parts = []
    for b in boards:
        parts.append(f"## {b.task}\n")
        parts.append("\n\n".join(board_legend(b)) + "\n")
        parts.append(display_frame(b).to_markdown(index=False) if not b.table.empty else "(no ranked runs)")
        if not b.flagged.empty:
            parts.append("\nNot ranked with the above (not comparable, or nothing scored):\n")
            parts.append(display_frame(b, flagged=True).to_markdown(index=False))
        parts.append("")
    return "\n".join(parts)


# ------------------------------------------------------------------------------- HTML
#: width the page is laid out for: tables wrap (CI under the mean, long headers at "_") to fit it
PAGE_WIDTH_PX = 1400
FLAGGED_COLOUR, RANKED_COLOUR = "#BBBBBB", "#4C72B0"


def _bar_chart_svg(board: TaskBoard, metric: str) -> str:
    """Bars with 95% CIs; flagged (not comparable) runs drawn greyed and hatched after the ranked ones."""
    import matplotlib  # heavy: imported when a chart is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>MuseBench leaderboard</title>",
             "<style>body{font-family:system-ui,sans-serif;margin:1.5em;max-width:" + str(PAGE_WIDTH_PX - 60) +
             "px}table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 5px;"
             "vertical-align:top}th{background:#f3f3f3;font-weight:600}.ci{color:#666;font-size:11px;"
             "white-space:nowrap}.charts{display:flex;flex-wrap:wrap;gap:8px}.flag{color:#a33}</style>",
             f"<script>{_SCATTER_JS}</script></head><body><h1>MuseBench leaderboard</h1>",
             "<p>Each board says which items it compares, what its cells hold and how it ranks; a rank "
             f"marked <b>=</b> is {TIE_MEANING}.</p>"]
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
