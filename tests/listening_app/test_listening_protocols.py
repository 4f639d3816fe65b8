"""DCR, MUSHRA and A/B preference (issue 18 part 1): building, scores against hand computations,
screening, and `musebench study create/stats/export` for each protocol end to end (no browser)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from musebench.cli import main
from musebench.errors import ConfigError
from musebench.listening_app import analysis as A
from musebench.listening_app import ratings as R
from musebench.listening_app.screening import Thresholds, screen
from musebench.listening_app.store import Store
from musebench.listening_app.study import StudyConfig, build_study, entries_from_manifest
from musebench.listening_app.synthetic import make_study_folder


# --------------------------------------------------------------------------- scores by hand
def frame(rows, question):
    df = pd.DataFrame(rows, columns=["rater_id", "item", "condition", "value"])
    df["kind"], df["question"], df["trial"] = "test", question, df["item"] + df["condition"]
    df["condition_kind"] = ["reference" if c == "reference" else "system" for c in df["condition"]]
    return df


def test_dmos_is_the_mean_degradation_score_with_a_t_interval():
    df = frame([(1, "i1", "x", 5), (2, "i1", "x", 4), (3, "i2", "x", 4), (4, "i2", "x", 3)], "degradation")
    row = A.mos_table(df).iloc[0]
    half = 3.182446305284263 * np.std([5, 4, 4, 3], ddof=1) / 2  # t(0.975, 3) s / sqrt(4)
    assert row["score"] == "dmos" and row["mos"] == 4.0
    assert row["ci_low"] == pytest.approx(4.0 - half, abs=1e-9) and row["ci_high"] == 5.0  # clipped to the scale
    assert [row[f"n{k}"] for k in range(1, 6)] == [0, 0, 1, 2, 1]


def test_mushra_means_and_paired_t_tests():
    a = [90, 80, 70, 85, 75, 95]
    b = [60, 65, 40, 70, 50, 55]
    rows = [(r % 3, f"i{r // 3}", "A", a[r]) for r in range(6)] + [(r % 3, f"i{r // 3}", "B", b[r]) for r in range(6)]
    df = frame(rows, "mushra")
    mos = A.mos_table(df)
    assert mos.set_index("condition")["mos"].to_dict() == {"A": np.mean(a), "B": np.mean(b)}
    assert mos["n1"].isna().all()  # no 1-5 counts on a 0-100 scale
    lo, hi = stats.t.interval(0.95, 5, loc=np.mean(b), scale=stats.sem(b))
    assert mos.set_index("condition").loc["B", ["ci_low", "ci_high"]].tolist() == pytest.approx([lo, hi])
    pair = A.pairwise(df, method="ttest").iloc[0]
    ref = stats.ttest_rel(a, b)  # pairs by (rater, item): the same order as the lists
    assert pair["statistic"] == pytest.approx(ref.statistic) and pair["p"] == pytest.approx(ref.pvalue)
    assert pair["p_holm"] == pytest.approx(ref.pvalue) and bool(pair["significant"])


def test_mushra_post_screening_follows_bs1534():
    # 7 items; R1 rates the hidden reference below 90 once (14 % <= 15 %: kept), R2 twice (29 %: excluded),
    # R3 rates the 7 kHz anchor above 90 twice (excluded)
    rows = []
    for rater, low_ref, high_mid in ((1, 1, 0), (2, 2, 0), (3, 0, 2)):
        for i in range(7):
            rows += [(rater, f"i{i}", "reference", 85 if i < low_ref else 100),
                     (rater, f"i{i}", "anchor-7kHz", 95 if i < high_mid else 50),
                     (rater, f"i{i}", "sys", 40 + 5 * i)]
    df = frame(rows, "mushra")
    df.loc[df["condition"] == "anchor-7kHz", "condition_kind"] = "anchor"
    raters = pd.DataFrame({"rater_id": [1, 2, 3], "rater": ["R0001", "R0002", "R0003"], "external_id": None,
                           "n_done": 7, "n_assigned": 7, "finished": True, "headphone_passed": None})
    table = screen(df.assign(expected=None), raters, Thresholds(min_correlation=-1.0))
    assert table["hidden_ref_below_share"].tolist() == pytest.approx([1 / 7, 2 / 7, 0.0])
    assert table["mid_anchor_above_share"].tolist() == pytest.approx([0.0, 0.0, 2 / 7])
    assert table["reasons"].tolist() == ["", "hidden reference below 90 on 29% of items",
                                         "mid-range anchor above 90 on 29% of items"]


def test_bradley_terry_two_conditions_closed_form():
    # A beats B 3 times, B beats A once: p_A / p_B = 3, log-strengths +-ln(3)/2
    out = pd.DataFrame({"rater_id": [1, 2, 3, 4], "item": "i", "a": "A", "b": "B", "result": [1.0, 1.0, 1.0, 0.0]})
    w = A.win_matrix(out, ["A", "B"])
    assert w.to_numpy().tolist() == [[0.0, 3.0], [1.0, 0.0]]
    assert A.bt_fit(w.to_numpy()) == pytest.approx([np.log(3) / 2, -np.log(3) / 2], abs=1e-9)


def test_bradley_terry_mle_matches_a_direct_maximisation_and_ties_count_half():
    wins = np.array([[0, 4, 3, 5], [2, 0, 3, 4], [1, 2, 0, 3], [1, 1, 2, 0]], dtype=float)
    wins[0, 1] += 0.5  # one tie between 0 and 1: half a win each
    wins[1, 0] += 0.5

    def nll(theta):
        t = np.concatenate([[0.0], theta])
        d = t[:, None] - t[None, :]
        return -np.sum(wins * (d - np.logaddexp(0, d)))

    theta = optimize.minimize(nll, np.zeros(3), method="BFGS", options={"gtol": 1e-10}).x
    direct = np.concatenate([[0.0], theta])
    assert A.bt_fit(wins) == pytest.approx(direct - direct.mean(), abs=1e-6)


def test_bradley_terry_newton_equals_hunters_mm_iteration():
    """Where the MLE exists bt_fit takes Newton steps; Hunter's MM iteration run to convergence
    (written out here) reaches the same log-strengths on 150 random win matrices."""
    def mm(w, prior):
        n = w + w.T
        w = w + prior * (n > 0)
        n, total, p = w + w.T, w.sum(axis=1), np.ones(len(w))
        for _ in range(200000):
            new = total / (n / (p[:, None] + p[None, :])).sum(axis=1)
            new /= np.exp(np.log(new).mean())
            done, p = np.max(np.abs(np.log(new) - np.log(p))) < 1e-13, new
            if done:
                break
        return np.log(p) - np.log(p).mean()

    rng = np.random.default_rng(1)
    checked = 0
    while checked < 150:
        k = int(rng.integers(2, 7))
        w = rng.integers(0, 6, size=(k, k)).astype(float)
        np.fill_diagonal(w, 0)
        prior = 0.5 if checked % 2 else 0.0
        if not A._strongly_connected((w + prior * ((w + w.T) > 0)) > 0):
            continue  # no MLE (a group never loses): bt_fit takes the MM path itself
        assert A.bt_fit(w, prior=prior) == pytest.approx(mm(w, prior), abs=1e-9)
        checked += 1


def test_bradley_terry_without_an_mle_does_not_crash():
    """Every condition wins and loses, but X and Y never lose to Z and W: no MLE exists (Ford's
    condition), so Newton's method must not be tried (its Hessian turns singular)."""
    w = np.array([[0, 2, 3, 3], [1, 0, 3, 3], [0, 0, 0, 2], [0, 0, 1, 0]], dtype=float)
    assert not A._strongly_connected(w > 0)
    est = A.bt_fit(w)
    assert np.all(np.isfinite(est)) and est[0] > est[1] > est[2] > est[3]
    assert A._strongly_connected(A.np.array([[0, 1], [1, 0]]) > 0)


def test_bradley_terry_from_ratings_scores_cis_and_win_matrix():
    rows = []
    for rater in range(8):  # everybody prefers X over Y; Y over Z 6 times of 8; X over Z always
        rows += [(rater, "i1", "X", "Y", 1), (rater, "i1", "Z", "X", 2), (rater, "i2", "Y", "Z", 1 if rater < 6 else 2)]
    df = pd.DataFrame(rows, columns=["rater_id", "item", "condition", "condition_b", "value"])
    df["kind"], df["question"], df["condition_kind"] = "test", "preference", "system"
    scores, pairs, wins = A.bradley_terry(df, n_boot=200, seed=1)
    assert wins.loc["X", "Y"] == 8 and wins.loc["X", "Z"] == 8 and wins.loc["Y", "Z"] == 6 and wins.loc["Z", "Y"] == 2
    assert scores["condition"].tolist() == ["X", "Y", "Z"]
    assert scores["win_rate"].tolist() == pytest.approx([1.0, 6 / 16, 2 / 16])  # Y: 0 of 8 + 6 of 8
    # X never loses: no MLE exists, so every compared pair gets 0.5 wins each way (stated in the docs)
    expect = A.bt_fit(wins.to_numpy(), prior=0.5)
    assert scores.set_index("condition").loc[["X", "Y", "Z"], "mos"].to_numpy() == pytest.approx(expect)
    assert (scores["ci_low"] <= scores["mos"]).all() and (scores["mos"] <= scores["ci_high"]).all()
    assert set(pairs["test"]) == {"bootstrap over raters"} and len(pairs) == 3


def test_protocol_config_errors():
    with pytest.raises(ConfigError, match=r"^study 'x': protocol must be one of acr, dcr, mushra, ab, not 'abx'$"):
        StudyConfig(name="x", protocol="abx")
    with pytest.raises(ConfigError, match=r"^study 'x': protocol 'mushra' has no gold items \(its hidden reference "
                                          r"screens raters\); use --gold 0$"):
        StudyConfig(name="x", protocol="mushra", n_gold=2)
    with pytest.raises(ConfigError, match=r"^study 'x': protocol 'ab' has no trap items \(a beep count is no answer "
                                          r"on its scale\); use --traps 0$"):
        StudyConfig(name="x", protocol="ab", n_traps=1)
    with pytest.raises(ConfigError, match=r"^study 'x': protocol 'dcr' asks degradation only, not quality$"):
        StudyConfig(name="x", protocol="dcr", questions=("quality",))


def test_dcr_and_mushra_need_a_reference(tmp_path):
    make_study_folder(tmp_path / "a", conditions=["a", "b"], n_items=3, seconds=0.3)
    (tmp_path / "a" / "manifest.csv").write_text("\n".join(
        ln.rsplit(",", 1)[0] for ln in (tmp_path / "a" / "manifest.csv").read_text().splitlines()).replace(
        ",source", ",source", 1) + "\n")
    entries = entries_from_manifest(tmp_path / "a")
    assert all(e.reference is None for e in entries)
    with pytest.raises(ConfigError, match=r"^study 'x': protocol 'dcr' compares every clip with a reference, "
                                          r"missing for item\(s\) item00, item01, item02$"):
        build_study(entries, StudyConfig(name="x", protocol="dcr", sample_rate=16000))


def test_built_mushra_pages_and_ab_pairs(tmp_path):
    make_study_folder(tmp_path / "a", conditions=["SecretAlpha", "SecretBeta"], n_items=3, seconds=0.3)
    entries = entries_from_manifest(tmp_path / "a")
    mu = build_study(entries, StudyConfig(name="m", protocol="mushra", sample_rate=16000))
    assert [c["name"] for c in mu.conditions] == ["SecretAlpha", "SecretBeta", "reference", "anchor-3.5kHz",
                                                 "anchor-7kHz"]
    pages = {}
    for t in mu.trials:
        pages.setdefault((t.kind, t.page), []).append(t)
    assert sorted((k, len(v)) for (k, _), v in pages.items()) == [("test", 5), ("test", 5), ("training", 5)]
    ref_roles = {s.id: s.role for s in mu.stimuli}
    assert all(ref_roles[t.source_id] == "reference" and t.questions == ("mushra",) for t in mu.trials)
    ab = build_study(entries, StudyConfig(name="p", protocol="ab", sample_rate=16000, low_anchor=False))
    tests = [t for t in ab.trials if t.kind == "test"]
    cond = {s.id: s.condition for s in ab.stimuli}
    pairs = sorted((cond[t.stimulus_id], cond[t.other_id]) for t in tests)
    # every ordered pair of the 3 conditions once per test item (2 items): balanced pairs and orders
    assert len(tests) == 2 * 6 and len(set(pairs)) == 6 and all(pairs.count(p) == 2 for p in set(pairs))
    gold = [t for t in ab.trials if t.kind == "gold"]
    assert len(gold) == 2 and all(t.expected["preference"][0] in (1, 2) for t in gold)


# --------------------------------------------------------------------------- end to end through the CLI
@pytest.fixture
def clock(monkeypatch):
    t = [datetime(2026, 1, 1, tzinfo=timezone.utc)]

    def tick():
        t[0] += timedelta(seconds=60)
        return t[0]

    monkeypatch.setattr(R, "now", tick)


TRUTH = {"SecretAlpha": 0.8, "SecretBeta": 0.4, "reference": 1.0, "anchor": 0.1, "anchor-3.5kHz": 0.1,
         "anchor-7kHz": 0.3}


def rate_study(db: str, name: str, n_raters: int, seed: int = 0) -> None:
    """Simulated attentive raters: answers follow TRUTH (a 0-1 quality per condition), gold answered right."""
    from sqlalchemy import select

    from musebench.listening_app.store import Condition, Stimulus, Trial

    store = Store(db)
    study = R.get_study(store, name)
    with store.read() as conn:
        cond = dict(conn.execute(select(Stimulus.id, Condition.name).outerjoin(
            Condition, Condition.id == Stimulus.condition_id).where(Stimulus.study_id == study.id)).all())
        expected = dict(conn.execute(select(Trial.id, Trial.expected_json).where(Trial.study_id == study.id)).all())
    rng = np.random.default_rng(seed)
    for k in range(n_raters):
        r = R.start_rater(store, public_id=study.public_id, external_id=f"crowd{k}")
        R.set_stage(store, r.token, "trials")
        while (t := R.next_trial(store, R.get_rater(store, r.token))) is not None:
            R.show(store, r, t.view_key, t.clip_ids())
            if t.members:
                R.submit_page(store, token=r.token, answers={
                    tid: int(np.clip(round(100 * TRUTH.get(cond[sid], 0.5) + rng.normal(0, 4)), 0, 100))
                    for tid, sid in t.members})
                continue
            exp = json.loads(expected[t.id]) if expected[t.id] else None
            q = t.questions[0]
            if exp:
                v = exp[q][0]
            elif q == "preference":
                qa, qb = TRUTH.get(cond[t.stimulus_id], 0.5), TRUTH.get(cond[t.other_id], 0.5)
                v = 1 if rng.random() < 0.5 + 0.45 * np.sign(qa - qb) * min(1, 4 * abs(qa - qb)) else 2
            else:
                v = int(np.clip(round(1 + 4 * TRUTH.get(cond[t.stimulus_id], 0.5) + rng.normal(0, 0.3)), 1, 5))
            R.submit_ratings(store, token=r.token, trial_id=t.id, answers={qq: v for qq in t.questions})
        R.set_stage(store, r.token, "done")
    store.dispose()


@pytest.mark.parametrize("protocol, header, board_col, order", [
    ("dcr", "DMOS (degradation, DCR, ITU-T P.800 Annex D, 95% t CI):", "degradation_dmos",
     ["reference", "SecretAlpha", "SecretBeta", "anchor"]),
    ("mushra", "MUSHRA (mushra, ITU-R BS.1534-3, mean 0-100, 95% t CI):", "mushra_mean",
     ["reference", "SecretAlpha", "SecretBeta", "anchor-7kHz", "anchor-3.5kHz"]),
    ("ab", "Preference (preference, Bradley-Terry log-strength, 95% bootstrap CI over raters):", "preference_bt",
     ["reference", "SecretAlpha", "SecretBeta", "anchor"]),
])
def test_cli_study_of_each_protocol(tmp_path, capsys, clock, protocol, header, board_col, order):
    db = f"sqlite:///{tmp_path}/p.db"
    make_study_folder(tmp_path / "audio", conditions=["SecretAlpha", "SecretBeta"], n_items=4, seconds=0.3)
    assert main(["study", "create", "p", "--folder", str(tmp_path / "audio"), "--db", db, "--protocol", protocol,
                 "--sample-rate", "16000", "--items", "3", "--raters-per-trial", "4"]) == 0
    out = capsys.readouterr().out
    assert f"study 'p' ({protocol.upper()}) created in" in out
    assert "headphone check: 5 of 6 right to pass; a listener who guesses passes with probability 1.8%" in out
    rate_study(db, "p", n_raters=4 if protocol != "ab" else 4)
    assert main(["study", "stats", "p", "--db", db]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[1] == "screening: 4 of 4 rater(s) kept, 0 excluded"
    block = lines[lines.index(header) + 2:][:len(order)]
    assert [ln.split()[1] for ln in block] == order
    if protocol == "ab":
        assert "win matrix (row beat column; 'no preference' counts half to each):" in out
        assert "pairwise tests (bootstrap over raters, Holm-corrected" in out
    elif protocol == "mushra":
        assert "pairwise tests (ttest, Holm-corrected" in out
    assert main(["study", "export", "p", "--db", db, "--format", "json", "--out", str(tmp_path / "x")]) == 0
    data = json.loads((tmp_path / "x" / "p.json").read_text())
    assert data["protocol"] == protocol and board_col in data["leaderboard"][0]
    rating = data["ratings"][0]
    assert {"completion_code", "condition_b", "page", "shown_at", "answer_s", "clip_s"} <= set(rating)
    if protocol == "ab":
        assert {r["wins_of"] for r in data["wins"]} == set(order)
        assert all(r["condition_b"] for r in data["ratings"] if r["kind"] == "test")
    if protocol == "mushra":
        assert all(r["page"] for r in data["ratings"])
        assert len({r["page"] for r in data["ratings"] if r["kind"] == "test"}) == 3


@pytest.mark.parametrize("protocol, label", [("acr", "MOS"), ("dcr", "DMOS"), ("mushra", "MUSHRA mean"),
                                             ("ab", "Bradley-Terry strength")])
def test_admin_and_leaderboard_pages_of_each_protocol(tmp_path, monkeypatch, clock, protocol, label):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    db = f"sqlite:///{tmp_path}/p.db"
    make_study_folder(tmp_path / "audio", conditions=["SecretAlpha", "SecretBeta"], n_items=3, seconds=0.3)
    assert main(["study", "create", "p", "--folder", str(tmp_path / "audio"), "--db", db, "--protocol", protocol,
                 "--sample-rate", "16000", "--headphone-trials", "0", "--headphone-pass", "0"]) == 0
    rate_study(db, "p", n_raters=3)
    monkeypatch.setenv("MUSEBENCH_LISTENING_DB", db)
    monkeypatch.setenv("MUSEBENCH_ADMIN_SECRET", "s3")
    app = Path(__file__).resolve().parents[2] / "listening_app" / "app.py"
    at = AppTest.from_file(str(app), default_timeout=60)
    at.switch_page(str(app.parent / "pages" / "admin.py")).run()
    at.text_input(key="admin_secret_input").input("s3")
    at.button(key="admin_sign_in").click().run()
    assert not at.exception and at.caption[0].value == f"Protocol: {protocol.upper()}"
    frames = [d.value for d in at.dataframe]
    assert sum("completion_code" in f.columns for f in frames) == 2  # screening and raters tables
    if protocol == "ab":
        assert any(f.shape == (4, 4) and list(f.index) == list(f.columns) for f in frames)  # the win matrix
    at.switch_page(str(app.parent / "pages" / "leaderboard.py")).run()
    assert not at.exception
    board = at.dataframe[0].value
    assert label in board.columns and board[label].notna().all()


def test_a_group_that_never_loses_gets_the_prior_even_when_every_condition_wins_and_loses():
    # {0, 1} never lose to {2, 3}, yet each condition has a win and a loss: no MLE, so the prior
    # is used (without it the MM iteration ran 10,000 steps per bootstrap resample)
    w = np.array([[0, 3, 2, 2], [1, 0, 2, 2], [0, 0, 0, 1], [0, 0, 1, 0]], float)
    assert A._needs_prior(w)
    assert not A._needs_prior(w + w.T)  # everyone beat everyone at least once: the MLE exists
