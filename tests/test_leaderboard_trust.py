"""Leaderboards that cannot mislead (issue 14, part 3): failed runs never ranked, partial runs
averaged with failures as 0 and a coverage column, --limit runs kept off full boards, one row
per prediction folder, and no ranks where too few items make significance impossible.

Runs are written by hand (results.json, config.json, items/*.json), so nothing here runs a model.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from musebench.leaderboard import build_leaderboards, min_items_for_significance
from musebench.report import display_frame, render
from musebench.metrics.stats import wilcoxon_p

TASK = "synth-piano"


def make_run(results: Path, model: str, scores: dict[str, float | None], *, run_id: str | None = None,
             params: dict | None = None, limit: int | None = None, created: str = "2026-01-01T00:00:00+00:00",
             asked: list[str] | None = None, version: int = 1, task: str = TASK) -> Path:
    """A finished run: ``scores`` maps item id -> onset_f1, or None for a failed item."""
    run_id = run_id or f"{model}-{len(scores)}-{limit}-{abs(hash(json.dumps(params, sort_keys=True))) % 10**6}"
    d = results / "runs" / task / model / run_id
    (d / "items").mkdir(parents=True)
    asked = sorted(scores) if asked is None else asked
    (d / "config.json").write_text(json.dumps({"item_ids": asked, "limit": limit}))
    ok = {i: v for i, v in scores.items() if v is not None}
    for i, v in scores.items():
        rec = {"id": i, "status": "ok" if v is not None else "failed", "error": None if v is not None else "boom",
               "scores": {"onset_f1": v} if v is not None else {}}
        (d / "items" / f"{i}.json").write_text(json.dumps(rec))
    metrics = {"onset_f1": {"mean": float(np.mean(list(ok.values()))), "ci_low": None, "ci_high": None,
                            "n": len(ok), "higher_is_better": True}} if ok else {}
    data = {"schema_version": 1, "run_id": run_id, "created": created,
            "task": {"name": task, "family": "transcription", "version": version, "metrics": ["onset_f1"]},
            "dataset": {"name": "synth", "fingerprint": "f" * 64, "verified": True},
            "model": {"name": model, "params": params or {}}, "limit": limit, "metrics": metrics,
            "n_items": len(asked), "n_scored": len(ok),
            "failures": [{"item": i, "error": "boom"} for i, v in scores.items() if v is None],
            "timing": {"real_time_factor": 0.1}}
    (d / "results.json").write_text(json.dumps(data))
    return d


ITEMS = [f"it-{k}" for k in range(8)]


def board(results: Path):
    (b,) = build_leaderboards(results_dir=results, task=TASK)
    return b


def test_an_all_failed_run_is_never_ranked(tmp_path):
    make_run(tmp_path, "basic-pitch", {i: 0.5 + 0.05 * k for k, i in enumerate(ITEMS)})
    make_run(tmp_path, "raising", {i: None for i in ITEMS})
    b = board(tmp_path)
    assert list(b.table["model"]) == ["basic-pitch"]
    assert "raising" in list(b.flagged["model"])
    assert "no item scored (8 of 8 failed)" in b.flagged.set_index("model").loc["raising", "flag"]
    assert "1=" not in render([b])


def test_a_task_whose_only_run_scored_nothing_renders(tmp_path):
    make_run(tmp_path, "raising", {i: None for i in ITEMS})
    b = board(tmp_path)  # was KeyError: ''
    assert b.table.empty and b.primary == "onset_f1"
    text = render([b])
    assert "(no ranked runs)" in text and "never ranked" in text
    for fmt in ("json", "csv", "html"):
        render([b], fmt=fmt)


def test_failed_items_count_zero_and_coverage_is_shown(tmp_path):
    full = {i: 0.78 for i in ITEMS}
    partial = {i: 0.79 for i in ITEMS} | {"it-7": None}
    make_run(tmp_path, "predictions", full, params={"path": "/x/complete"})
    make_run(tmp_path, "predictions", partial, params={"path": "/x/missing-one"})
    b = board(tmp_path)
    t = b.table.set_index("model")
    assert t.loc["predictions:missing-one", "onset_f1"] == pytest.approx(0.79 * 7 / 8)
    assert t.loc["predictions:missing-one", "onset_f1_scored_mean"] == pytest.approx(0.79)
    assert t.loc["predictions:missing-one", "coverage"] == "7/8"
    assert list(b.table["model"])[0] == "predictions:complete"  # the complete run is first
    text = render([b])
    assert "coverage" in text and "7/8" in text and "onset_f1 (scored items only)" in text


def test_limit_runs_do_not_displace_full_runs(tmp_path):
    make_run(tmp_path, "oracle", {i: 1.0 for i in ITEMS}, created="2026-01-01T00:00:00+00:00")
    make_run(tmp_path, "noisy-oracle", {i: 0.8 + 0.01 * k for k, i in enumerate(ITEMS)},
             created="2026-01-01T00:00:00+00:00")
    # the README's first hour: newer --limit 2 runs of three models
    for m in ("oracle", "noisy-oracle", "basic-pitch"):
        make_run(tmp_path, m, {i: 0.9 for i in ITEMS[:2]}, limit=2, created="2026-02-01T00:00:00+00:00")
    b = board(tmp_path)
    assert sorted(b.table["model"]) == ["noisy-oracle", "oracle"] and b.full_split and b.n_items == 8
    flags = set(b.flagged["flag"])
    assert flags == {"--limit 2: 2 items, not the board's 8"}
    assert "Items: the task's full split (8 items)" in render([b])


def test_only_limit_runs_say_so(tmp_path):
    for m in ("oracle", "basic-pitch"):
        make_run(tmp_path, m, {i: 0.9 for i in ITEMS[:6]}, limit=6)
    b = board(tmp_path)
    assert not b.full_split
    assert "No run covers the task's full split" in render([b])


def test_two_prediction_folders_are_two_rows_named_by_folder_or_name(tmp_path):
    make_run(tmp_path, "predictions", {i: 0.7 for i in ITEMS}, params={"path": "/a/team-one"})
    make_run(tmp_path, "predictions", {i: 0.6 for i in ITEMS}, params={"path": "/b/team-two"})
    make_run(tmp_path, "predictions", {i: 0.5 for i in ITEMS}, params={"path": "/c/x", "name": "my-model"})
    assert sorted(board(tmp_path).table["model"]) == ["my-model", "predictions:team-one", "predictions:team-two"]


def test_minimum_items_for_a_significant_wilcoxon():
    assert min_items_for_significance(0.05) == 6
    # scipy agrees: 5 all-positive differences give p = 0.0625, 6 give 0.03125
    assert wilcoxon_p(np.zeros(5), np.arange(1, 6)) == pytest.approx(0.0625)
    assert wilcoxon_p(np.zeros(6), np.arange(1, 7)) == pytest.approx(0.03125)


def test_too_few_items_are_not_ranked_and_the_board_says_why(tmp_path):
    items = ITEMS[:4]
    make_run(tmp_path, "oracle", {i: 1.0 for i in items})
    make_run(tmp_path, "basic-pitch", {i: 0.2 for i in items})
    b = board(tmp_path)
    assert not b.significance_possible
    assert list(b.table["model"]) == ["oracle", "basic-pitch"]  # ordered by the mean
    text = render([b])
    assert "Not ranked: with n = 4 items" in text and "1=" not in text
    assert list(display_frame(b)["rank"]) == ["–", "–"]


def test_equals_sign_only_on_shared_rank_numbers(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.uniform(0.8, 0.9, 8)
    make_run(tmp_path, "oracle", {i: 1.0 for i in ITEMS})
    make_run(tmp_path, "noisy-oracle", dict(zip(ITEMS, a)))
    make_run(tmp_path, "basic-pitch", dict(zip(ITEMS, a - 0.3)))
    b = board(tmp_path)
    assert list(b.table["rank"]) == [1, 2, 3] and not b.table["tied"].any()
    assert list(display_frame(b)["rank"]) == ["1", "2", "3"]


def test_spearman_over_fewer_than_five_systems_carries_a_caveat():
    import pandas as pd

    from musebench.listening_app.analysis import metric_agreement, spearman_caveat

    assert spearman_caveat(5) == "" and "cannot be significant" in spearman_caveat(4)
    board = pd.DataFrame({"kind": ["system"] * 4, "quality_mos": [1.0, 2.0, 3.0, 4.0],
                          "metric:onset_f1": [0.1, 0.2, 0.3, 0.4]})
    agree = metric_agreement(board, question="quality")
    assert agree.loc[0, "spearman_rho"] == pytest.approx(1.0)
    assert "only 4 systems" in agree.loc[0, "caveat"] and "0.0833" in agree.loc[0, "caveat"]
    # scipy's exact permutation test agrees that n = 4 cannot reach 0.05
    from scipy import stats

    res = stats.spearmanr([1, 2, 3, 4], [1, 2, 3, 4])
    perm = stats.permutation_test(([1, 2, 3, 4],), lambda x: stats.spearmanr(x, [1, 2, 3, 4]).statistic,
                                  permutation_type="pairings", alternative="two-sided")
    assert res.statistic == pytest.approx(1.0) and perm.pvalue == pytest.approx(2 / 24)
