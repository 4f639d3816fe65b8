"""Screening, MOS with CIs, pairwise tests with Holm, ties, leaderboard, exports and the CLI."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from musebench.cli import main
from musebench.listening_app import analysis as A
from musebench.listening_app import ratings as R
from musebench.listening_app.screening import Thresholds, consensus_correlation, format_screening, screen
from musebench.listening_app.store import Store
from musebench.listening_app.synthetic import make_study_folder


def test_holm_known_values():
    assert np.allclose(A.holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06], atol=1e-12)
    assert np.allclose(A.holm([0.5, 0.001]), [0.5, 0.002], atol=1e-12)
    assert np.allclose(A.holm([0.3, 0.6]), [0.6, 0.6], atol=1e-12)  # monotone, capped at 1
    assert A.holm([]).size == 0


def test_t_interval_known_values():
    lo, hi = A.t_interval(np.array([1, 2, 3, 4, 5]))
    half = 2.7764451051977987 * np.sqrt(2.5) / np.sqrt(5)
    assert (lo, hi) == pytest.approx((3 - half, 3 + half), abs=1e-9)
    assert all(np.isnan(A.t_interval(np.array([4.0]))))
    blo, bhi = A.bootstrap_interval(np.array([1, 2, 3, 4, 5] * 4), n_boot=4000, seed=0)
    assert blo < 3 < bhi and bhi - blo == pytest.approx(2 * 1.96 * np.sqrt(2 / 20), abs=0.15)


def frame(rows):
    """rows: (rater_id, trial, kind, condition, item, question, value, expected)."""
    df = pd.DataFrame(rows, columns=["rater_id", "trial", "kind", "condition", "item", "question", "value",
                                     "expected"])
    df["condition_kind"] = "system"
    df["rater"] = [f"R{i:04d}" for i in df["rater_id"]]
    return df


def test_mos_pairwise_and_ties():
    rng = np.random.default_rng(0)
    rows = []
    means = {"A": 4.5, "B": 2.6, "C": 2.5}
    for rater in range(12):
        for cond, mu in means.items():
            for item in range(3):
                v = int(np.clip(round(mu + rng.normal(0, 0.6)), 1, 5))
                rows.append((rater, f"{cond}{item}", "test", cond, f"i{item}", "quality", v, None))
    df = frame(rows)
    mos = A.mos_table(df)
    assert list(mos["condition"]) == ["A", "B", "C"] or list(mos["condition"]) == ["A", "C", "B"]
    a = df[df["condition"] == "A"]["value"].to_numpy(float)
    row = mos[mos["condition"] == "A"].iloc[0]
    assert row["n"] == 36 and row["n_raters"] == 12 and row["n_items"] == 3
    assert row["mos"] == pytest.approx(a.mean()) and sum(row[f"n{k}"] for k in range(1, 6)) == 36
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(tuple(np.clip(A.t_interval(a), 1, 5)))
    pairs = A.pairwise(df)
    ab = pairs[(pairs["a"] == "A") & (pairs["b"] == "B")].iloc[0]
    b = df[df["condition"] == "B"]["value"].to_numpy(float)
    assert ab["p"] == pytest.approx(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    assert np.allclose(pairs["p_holm"], A.holm(pairs["p"]))
    ranks = A.ranks_with_ties(mos, pairs).set_index("condition")
    assert ranks.loc["A", "rank"] == 1 and ranks.loc["A", "tied_with"] == ""
    assert ranks.loc["B", "rank"] == 2 and ranks.loc["B", "tied_with"] == "C"
    assert ranks.loc["C", "rank"] == 2 and ranks.loc["C", "tied_with"] == "B"
    wil = A.pairwise(df, method="wilcoxon")
    pa, pb = A._paired(df, "A", "B")
    assert pa.size == 36 and wil.iloc[0]["p"] == pytest.approx(stats.wilcoxon(pa, pb).pvalue)
    text = A.format_mos(mos, A.ranks_with_ties(mos, pairs))
    assert "MOS (quality, 95% t CI):" in text and "2=" in text
    fig = A.plot_distributions(mos, question="quality")
    assert len(fig.axes[0].patches) == 5 * 3


def test_screening_rules_and_report():
    gold = json.dumps({"quality": [4, 5]})
    trap = json.dumps({"quality": [3, 3]})
    truth = {f"t{k}": 1 + k % 5 for k in range(10)}
    rows = []
    for rater in (1, 2, 3, 4, 5, 6, 7, 8):
        for t, v in truth.items():
            val = {3: 3, 4: 6 - v}.get(rater, v)  # 3: zero variance, 4: reversed scale
            rows.append((rater, t, "test", "X", t, "quality", val, None))
        rows.append((rater, "g", "gold", None, "i", "quality", 2 if rater == 2 else 5, gold))
        rows.append((rater, "p", "trap", None, "i", "quality", 4 if rater == 6 else 3, trap))
    ratings = frame(rows)
    raters = pd.DataFrame({"rater_id": list(range(1, 9)), "rater": [f"R{i:04d}" for i in range(1, 9)],
                           "external_id": [None, "w2"] + [None] * 6, "n_done": [12] * 4 + [7, 12, 12, 12],
                           "n_assigned": [12] * 8, "finished": [True] * 4 + [False, True, True, True],
                           "headphone_passed": [True] * 5 + [None, True, True]})
    table = screen(ratings, raters).set_index("rater")
    assert table["reasons"].to_dict() == {
        "R0001": "",
        "R0002": "failed 1 of 1 gold item(s)",
        "R0003": "no variance (std 0.00 over 10 ratings)",
        "R0004": "low correlation with other raters (r=-1.00 over 10)",
        "R0005": "unfinished (7/12 trials)",
        "R0006": "failed 1 of 1 trap item(s)",
        "R0007": "",
        "R0008": "",
    }
    assert list(table["excluded"]) == [False, True, True, True, True, True, False, False]
    relaxed = screen(ratings, raters, Thresholds(require_finished=False, max_gold_failures=1, max_trap_failures=1,
                                                 min_correlation=-1.0, require_headphones=True))
    assert relaxed.set_index("rater")["reasons"].to_dict()["R0006"] == "failed or skipped the headphone check"
    assert relaxed["excluded"].sum() == 2  # R0003 (no variance) and R0006 (headphones)
    report = format_screening(screen(ratings, raters))
    assert report.splitlines()[0] == "screening: 3 of 8 rater(s) kept, 5 excluded"
    assert "  excluded R0002 (w2): failed 1 of 1 gold item(s)" in report.splitlines()
    r, n = consensus_correlation(ratings, 1, {2, 5, 7})
    assert (r, n) == (pytest.approx(1.0), 10)


def make_runs_metrics(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text(json.dumps({"metrics": {
        "fad": {"mean": 2.5, "ci_low": 2.0, "ci_high": 3.0, "higher_is_better": False}}}))
    return run


def test_leaderboard_shows_metrics_beside_mos(tmp_path):
    run = make_runs_metrics(tmp_path)
    mos = pd.DataFrame([{"question": "quality", "condition": "A", "mos": 4.0, "ci_low": 3.5, "ci_high": 4.5, "n": 10},
                        {"question": "quality", "condition": "ref", "mos": 4.8, "ci_low": 4.6, "ci_high": 5.0, "n": 10}])
    ranks = pd.DataFrame([{"question": "quality", "condition": "A", "rank": 2, "tied_with": ""},
                          {"question": "quality", "condition": "ref", "rank": 1, "tied_with": ""}])
    conds = pd.DataFrame([{"condition": "A", "kind": "system", "run_dir": str(run)},
                          {"condition": "ref", "kind": "reference", "run_dir": None}])
    board = A.leaderboard(mos, ranks, conds)
    assert list(board["condition"]) == ["ref", "A"]
    a = board.set_index("condition").loc["A"]
    assert a["quality_mos"] == 4.0 and a["quality_rank"] == 2 and a["metric:fad"] == 2.5
    assert a["metric:fad:ci"] == "[2, 3]"
    assert A.run_metrics(tmp_path / "missing") == {}


@pytest.fixture
def cli_study(tmp_path, monkeypatch):
    """A study created with the CLI from a folder, rated by 6 simulated raters (one careless)."""
    db = f"sqlite:///{tmp_path}/cli.db"
    make_study_folder(tmp_path / "audio", conditions=["SecretAlpha", "SecretBeta"], n_items=3, seconds=0.4)
    assert main(["study", "create", "clitest", "--folder", str(tmp_path / "audio"), "--db", db,
                 "--sample-rate", "16000", "--gold", "2", "--traps", "1", "--headphone-trials", "0",
                 "--headphone-pass", "0"]) == 0
    store = Store(db)
    study = R.get_study(store, "clitest")
    from sqlalchemy import select

    from musebench.listening_app.store import Condition, Stimulus, Trial
    with store.read() as conn:
        info = {r.id: r for r in conn.execute(
            select(Trial.id, Trial.kind, Trial.expected_json, Condition.name)
            .join(Stimulus, Stimulus.id == Trial.stimulus_id).outerjoin(Condition, Condition.id == Stimulus.condition_id)
            .where(Trial.study_id == study.id))}
    truth = {"SecretAlpha": 4, "SecretBeta": 2, "reference": 5, "anchor": 1}
    rng = np.random.default_rng(3)
    clock = [datetime(2026, 1, 1, tzinfo=timezone.utc)]

    def tick():  # the server's clock: 60 s pass between any two readings, so no answer is too early
        clock[0] += timedelta(seconds=60)
        return clock[0]

    monkeypatch.setattr(R, "now", tick)
    for k in range(6):
        r = R.start_rater(store, public_id=study.public_id, external_id=f"crowd{k}")
        R.set_stage(store, r.token, "trials")
        while (t := R.next_trial(store, R.get_rater(store, r.token))) is not None:
            row = info[t.id]
            if k == 5:
                v = 3  # careless: same answer everywhere
            elif row.expected_json:
                v = json.loads(row.expected_json)["quality"][0]
            else:
                v = int(np.clip(truth.get(row.name, 3) + rng.integers(-1, 2) * (rng.random() < 0.3), 1, 5))
            R.show(store, r, t.view_key, t.clip_ids())
            R.submit_ratings(store, token=r.token, trial_id=t.id, answers={q: v for q in t.questions})
        R.set_stage(store, r.token, "done")
    store.dispose()
    return db


def test_cli_stats_and_export(cli_study, tmp_path, capsys):
    capsys.readouterr()
    assert main(["study", "stats", "clitest", "--db", cli_study, "--bootstrap", "500"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "study 'clitest': 6 rater(s), 180 rating(s) stored"
    assert lines[1] == "screening: 5 of 6 rater(s) kept, 1 excluded"
    assert lines[2].startswith("  excluded R0006 (crowd5): failed 2 of 2 gold item(s); failed 1 of 1 trap item(s)")
    assert "MOS (quality, 95% t CI):" in out and "MOS (similarity, 95% t CI):" in out
    quality = lines[lines.index("MOS (quality, 95% t CI):") + 2:][:4]
    assert [ln.split()[1] for ln in quality] == ["reference", "SecretAlpha", "SecretBeta", "anchor"]
    assert "bootstrap 95% CIs (500 resamples):" in out and "pairwise tests (mannwhitney" in out
    assert main(["study", "export", "clitest", "--db", cli_study, "--format", "json", "--out", str(tmp_path / "x")]) == 0
    data = json.loads((tmp_path / "x" / "clitest.json").read_text())
    assert set(data) == {"study", "protocol", "thresholds", "ratings", "raters", "screening", "mos", "pairwise",
                         "leaderboard", "wins"}
    codes = {r["rater"]: r["completion_code"] for r in data["raters"]}
    assert len(set(codes.values())) == 6 and all(re.fullmatch(r"MB-[0-9A-F]{10}", c) for c in codes.values())
    assert {r["rater"]: r["completion_code"] for r in data["screening"]} == codes
    assert {(r["rater"], r["completion_code"]) for r in data["ratings"]} == set(codes.items())
    assert all(r["answer_s"] == 60.0 for r in data["ratings"])  # shown, then answered one clock tick later
    assert len(data["ratings"]) == 180 and data["thresholds"]["min_correlation"] == 0.25
    assert main(["study", "export", "clitest", "--db", cli_study, "--format", "csv", "--out", str(tmp_path / "y")]) == 0
    names = sorted(p.name for p in (tmp_path / "y").iterdir())
    assert names == [f"clitest_{t}.csv" for t in sorted(["ratings", "raters", "screening", "mos", "pairwise",
                                                         "leaderboard"])]
    assert len(pd.read_csv(tmp_path / "y" / "clitest_ratings.csv")) == 180
    assert main(["study", "list", "--db", cli_study]) == 0
    assert "clitest" in capsys.readouterr().out


def test_cli_errors_are_one_line(tmp_path, capsys):
    db = f"sqlite:///{tmp_path}/e.db"
    assert main(["study", "stats", "nosuch", "--db", db]) == 2
    assert capsys.readouterr().err == "musebench: error: unknown study 'nosuch'\n"
    assert main(["study", "create", "x", "--folder", str(tmp_path), "--db", db]) == 2
    assert capsys.readouterr().err.endswith("no manifest.csv or manifest.json (pass --manifest)\n")
    with pytest.raises(SystemExit):
        main(["app", "--help"])
    assert "MUSEBENCH_ADMIN_SECRET" in capsys.readouterr().out
