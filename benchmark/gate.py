"""The CI regression gate: compare a run with a saved baseline, per item (paired).

``check`` fails only when a metric dropped by more than ``max_drop`` *and* the drop is
significant (one-sided Wilcoxon signed-rank test at ``alpha`` over the shared items); it
refuses to compare runs made on another task, task version, data fingerprint or item set.
The paired bootstrap CI of the mean difference is reported beside the test.

Set-level metrics (one number per run, e.g. Frechet distances) have no per-item pairs and are
reported but never decide the verdict.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from .errors import IncomparableError, MissingDataError, UnknownNameError
from .io_utils import atomic_write_json, atomic_write_text
from .metrics import METRICS
from .metrics.stats import paired_bootstrap_ci, wilcoxon_p
from .paths import results_home
from .results import load_run

PASS, FAIL = "pass", "FAIL"


def baselines_dir(results_dir: str | os.PathLike | None = None) -> Path:
    return results_home(results_dir) / "baselines"


def default_name(results: dict[str, Any]) -> str:
    name = f"{results['task']['name']}--{results['model']['name']}"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def save_baseline(run_dir: str | os.PathLike, *, name: str | None = None,
                  results_dir: str | os.PathLike | None = None) -> Path:
    """Store a run's per-item scores and provenance as ``results/baselines/<name>.json``."""
    run = load_run(run_dir)
    items = run.item_scores()
    name = name or default_name(run.data)
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
        raise IncomparableError(f"baseline name {name!r} may only contain letters, digits, '.', '_' and '-'")
    payload = {
        "name": name,
        "saved": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source_run": str(run.path),
        "task": run.data["task"], "dataset": run.data["dataset"], "model": run.data["model"],
        "seed": run.data["seed"], "limit": run.data.get("limit"),
        "metrics": run.data["metrics"], "code_version": run.data["code_version"],
        "environment": run.data["environment"],
        "items": {i: {"status": r["status"], "scores": r["scores"]} for i, r in sorted(items.items())},
    }
    path = baselines_dir(results_dir) / f"{name}.json"
    atomic_write_json(path, payload)
    return path


def load_baseline(name: str, *, results_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    path = Path(name) if name.endswith(".json") else baselines_dir(results_dir) / f"{name}.json"
    if not path.is_file():
        known = sorted(p.stem for p in baselines_dir(results_dir).glob("*.json"))
        if not name.endswith(".json"):
            raise UnknownNameError("baseline", name, known)
        raise MissingDataError(f"{path}: baseline file not found")
    return json.loads(path.read_text())


@dataclass
class MetricVerdict:
    metric: str
    baseline: float | None
    new: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    p: float | None
    n: int
    verdict: str
    reason: str = ""


@dataclass
class GateReport:
    run: str
    baseline: str
    max_drop: float
    alpha: float
    rows: list[MetricVerdict] = field(default_factory=list)
    failed_items: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.verdict != FAIL for r in self.rows) and not self.failed_items

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def table(self) -> str:
        head = ("metric", "baseline", "new", "delta", "95% CI", "p", "verdict")
        lines = []
        for r in self.rows:
            f = lambda x: "–" if x is None else f"{x:.4f}"  # noqa: E731
            ci = "–" if r.ci_low is None else f"[{r.ci_low:+.4f}, {r.ci_high:+.4f}]"
            p = "–" if r.p is None else f"{r.p:.3g}"
            delta = "–" if r.delta is None else f"{r.delta:+.4f}"
            lines.append((r.metric, f(r.baseline), f(r.new), delta, ci, p, r.verdict + (f" ({r.reason})" if r.reason else "")))
        widths = [max(len(str(x)) for x in col) for col in zip(head, *lines)]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        out = [fmt.format(*head), fmt.format(*("-" * w for w in widths))] + [fmt.format(*line) for line in lines]
        for i in self.failed_items:
            out.append(f"FAIL item {i}: scored in the baseline, failed in this run")
        out.append(f"{'PASS' if self.passed else 'FAIL'}: {self.run} vs baseline {self.baseline} "
                   f"(max drop {self.max_drop}, alpha {self.alpha})")
        return "\n".join(out)

    def to_json(self) -> dict[str, Any]:
        return {"run": self.run, "baseline": self.baseline, "max_drop": self.max_drop, "alpha": self.alpha,
                "passed": self.passed, "failed_items": self.failed_items,
                "metrics": [r.__dict__ for r in self.rows]}

    def junit_xml(self) -> str:
        cases = []
        for r in self.rows:
            body = ""
            if r.verdict == FAIL:
                body = f"<failure message={quoteattr(r.reason)}>{escape(self.table())}</failure>"
            cases.append(f'  <testcase classname="musebench.gate.{escape(self.baseline)}" name={quoteattr(r.metric)}>'
                         f"{body}</testcase>")
        for i in self.failed_items:
            cases.append(f'  <testcase classname="musebench.gate.{escape(self.baseline)}" name={quoteattr("item " + i)}>'
                         f'<failure message="item failed in this run"/></testcase>')
        failures = sum(r.verdict == FAIL for r in self.rows) + len(self.failed_items)
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<testsuite name="musebench-check" '
                f'tests="{len(cases)}" failures="{failures}">\n' + "\n".join(cases) + "\n</testsuite>\n")


def _refuse_if_incomparable(new: dict[str, Any], base: dict[str, Any], new_items: dict, base_items: dict) -> None:
    nt, bt = new["task"], base["task"]
    if nt["name"] != bt["name"]:
        raise IncomparableError(f"refusing to compare: task {nt['name']!r} vs baseline task {bt['name']!r}")
    if nt["version"] != bt["version"]:
        raise IncomparableError(f"refusing to compare: task {nt['name']} version {nt['version']} vs baseline "
                                f"version {bt['version']}")
    if new["dataset"]["fingerprint"] != base["dataset"]["fingerprint"]:
        raise IncomparableError(f"refusing to compare: data fingerprint {new['dataset']['fingerprint'][:12]} vs "
                                f"baseline {base['dataset']['fingerprint'][:12]}")
    if set(new_items) != set(base_items):
        only_new = sorted(set(new_items) - set(base_items))
        only_base = sorted(set(base_items) - set(new_items))
        raise IncomparableError(f"refusing to compare: item sets differ ({len(only_new)} only in the run, "
                                f"{len(only_base)} only in the baseline, e.g. {(only_new or only_base)[0]})")


def check(run_dir: str | os.PathLike, *, baseline: str, metrics: list[str] | None = None,
          max_drop: float = 0.005, alpha: float = 0.05, results_dir: str | os.PathLike | None = None,
          seed: int = 0) -> GateReport:
    """Compare the run at ``run_dir`` with the baseline called ``baseline`` (or a baseline JSON path)."""
    run = load_run(run_dir)
    base = load_baseline(baseline, results_dir=results_dir)
    new_items = run.item_scores()
    base_items = base["items"]
    _refuse_if_incomparable(run.data, base, new_items, base_items)
    names = metrics or [m for m in run.data["task"]["metrics"] if m in base["metrics"] or m in run.data["metrics"]]
    report = GateReport(run=str(run.path), baseline=base["name"], max_drop=max_drop, alpha=alpha)
    report.failed_items = sorted(i for i, r in new_items.items()
                                 if r["status"] != "ok" and base_items[i]["status"] == "ok")
    for name in names:
        if name not in METRICS:
            raise UnknownNameError("metric", name, METRICS.names())
        spec = METRICS.get(name)
        b_sum = (base["metrics"].get(name) or {}).get("mean")
        n_sum = (run.data["metrics"].get(name) or {}).get("mean")
        if spec.aggregate == "set":
            report.rows.append(MetricVerdict(name, b_sum, n_sum, None if b_sum is None or n_sum is None else n_sum - b_sum,
                                             None, None, None, 0, PASS, "set-level: reported only"))
            continue
        shared = sorted(i for i in new_items if new_items[i]["status"] == "ok" and base_items[i]["status"] == "ok"
                        and name in new_items[i]["scores"] and name in base_items[i]["scores"])
        if not shared:
            report.rows.append(MetricVerdict(name, b_sum, n_sum, None, None, None, None, 0, PASS, "no shared items"))
            continue
        a = np.array([base_items[i]["scores"][name] for i in shared])
        b = np.array([new_items[i]["scores"][name] for i in shared])
        ci = paired_bootstrap_ci(a, b, seed=seed)
        delta = float((b - a).mean())
        drop = -delta if spec.higher_is_better else delta
        p = wilcoxon_p(a, b, alternative="less" if spec.higher_is_better else "greater")
        if drop > max_drop and p < alpha:
            verdict, reason = FAIL, f"dropped {drop:.4f} > {max_drop}, p={p:.3g} < {alpha}"
        elif drop > max_drop:
            verdict, reason = PASS, "drop not significant"
        else:
            verdict, reason = PASS, ""
        report.rows.append(MetricVerdict(name, float(a.mean()), float(b.mean()), delta, ci.ci_low, ci.ci_high,
                                         p, len(shared), verdict, reason))
    return report


def write_outputs(report: GateReport, *, json_path: str | None = None, junit_path: str | None = None) -> None:
    if json_path:
        atomic_write_json(json_path, report.to_json())
    if junit_path:
        atomic_write_text(junit_path, report.junit_xml())
