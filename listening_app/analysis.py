"""MOS with confidence intervals, pairwise tests with Holm correction, ties and the leaderboard.

- MOS per (question, condition) over the test trials of the raters kept by screening, with a
  95 % Student-t interval ``mean +- t(0.975, n-1) s / sqrt(n)`` (clipped to the scale, 1-5) and,
  optionally, a percentile bootstrap interval over ratings.
- Pairwise comparisons per question between conditions: Mann-Whitney U on all ratings
  (default), or the Wilcoxon signed-rank test on ratings paired by (rater, item). p-values are
  corrected with Holm's step-down method across all pairs of a question.
- Ranks with ties: a condition's rank is 1 + the number of conditions significantly better than
  it; ``tied_with`` lists the conditions it does not differ from significantly.

Per protocol the same tables hold the protocol's score (column ``mos``, named by ``score``):
ACR MOS (ITU-T P.800 / P.808), DCR DMOS (P.800 Annex D), the MUSHRA mean on 0-100 with paired
t-tests between conditions on ratings paired by (rater, item) (ITU-R BS.1534-3), and for A/B
preference the Bradley-Terry log-strength (maximum likelihood; ties count half a win to each
side), with percentile intervals from a bootstrap over raters, a win matrix and ranks.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from musebench.errors import ConfigError

from .screening import Thresholds, screen

MOS_COLUMNS = ["question", "score", "condition", "condition_kind", "n", "n_raters", "n_items", "mos", "std",
               "ci_low", "ci_high", "boot_low", "boot_high", "n1", "n2", "n3", "n4", "n5", "win_rate"]
#: what the ``mos`` column holds per question, and its name in leaderboard columns
SCORE_NAMES = {"quality": "mos", "similarity": "mos", "degradation": "dmos", "mushra": "mean", "preference": "bt"}
SCORE_LABELS = {"mos": "MOS", "dmos": "DMOS", "mean": "MUSHRA mean", "bt": "Bradley-Terry strength"}
PAIRWISE_TESTS = ("mannwhitney", "wilcoxon", "ttest")


def score_name(question: str) -> str:
    return SCORE_NAMES.get(question, "mos")
PAIR_COLUMNS = ["question", "a", "b", "mos_a", "mos_b", "diff", "n_a", "n_b", "test", "statistic", "p", "p_holm",
                "significant"]


def t_interval(values: np.ndarray, *, level: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval of the mean; (nan, nan) with fewer than two values."""
    from scipy import stats

    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return float("nan"), float("nan")
    half = stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return float(x.mean() - half), float(x.mean() + half)


def bootstrap_interval(values: np.ndarray, *, level: float = 0.95, n_boot: int = 2000,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (ratings resampled with replacement)."""
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm step-down adjusted p-values (same order as given)."""
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    order = np.argsort(p, kind="stable")
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj


def mos_table(ratings: pd.DataFrame, *, level: float = 0.95, bootstrap: int = 0, seed: int = 0) -> pd.DataFrame:
    """MOS (DMOS, MUSHRA mean) per (question, condition) of the test ratings given (filter raters before).

    A/B preference ratings are left out: :func:`bradley_terry` scores them.
    """
    from .questions import QUESTIONS

    test = ratings[(ratings["kind"] == "test") & (ratings["question"] != "preference")]
    rows = []
    for (q, cond), grp in test.groupby(["question", "condition"], sort=True):
        v = grp["value"].to_numpy(float)
        scale = QUESTIONS.get(q)
        lo_s, hi_s = (scale.low, scale.high) if scale else (1, 5)
        lo, hi = np.clip(t_interval(v, level=level), lo_s, hi_s)  # the scale's bounds
        blo, bhi = bootstrap_interval(v, level=level, n_boot=bootstrap, seed=seed) if bootstrap else (np.nan, np.nan)
        counts = np.bincount(grp["value"].to_numpy(int), minlength=6) if hi_s <= 5 else None
        rows.append({"question": q, "score": score_name(q), "condition": cond,
                     "condition_kind": grp["condition_kind"].iloc[0],
                     "n": int(v.size), "n_raters": int(grp["rater_id"].nunique()), "n_items": int(grp["item"].nunique()),
                     "mos": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else float("nan"),
                     "ci_low": lo, "ci_high": hi, "boot_low": blo, "boot_high": bhi,
                     **{f"n{k}": int(counts[k]) if counts is not None else None for k in range(1, 6)},
                     "win_rate": float("nan")})
    df = pd.DataFrame(rows, columns=MOS_COLUMNS)
    return df.sort_values(["question", "mos"], ascending=[True, False]).reset_index(drop=True)


def _paired(test: pd.DataFrame, a: str, b: str) -> tuple[np.ndarray, np.ndarray]:
    piv = test[test["condition"].isin([a, b])].groupby(["rater_id", "item", "condition"])["value"].mean().unstack()
    piv = piv.dropna() if {a, b} <= set(piv.columns) else piv.iloc[0:0]
    return (piv[a].to_numpy(float), piv[b].to_numpy(float)) if len(piv) else (np.array([]), np.array([]))


def pairwise(ratings: pd.DataFrame, *, method: str = "mannwhitney", alpha: float = 0.05) -> pd.DataFrame:
    """Two-sided tests between every pair of conditions, per question, with Holm correction."""
    from scipy import stats

    if method not in PAIRWISE_TESTS:
        raise ConfigError(f"pairwise test must be one of {', '.join(PAIRWISE_TESTS)}, not {method!r}")
    test = ratings[(ratings["kind"] == "test") & (ratings["question"] != "preference")]
    out = []
    for q, qdf in test.groupby("question", sort=True):
        conds = sorted(qdf["condition"].dropna().unique())
        rows = []
        for a, b in itertools.combinations(conds, 2):
            xa = qdf.loc[qdf["condition"] == a, "value"].to_numpy(float)
            xb = qdf.loc[qdf["condition"] == b, "value"].to_numpy(float)
            if method == "mannwhitney":
                res = stats.mannwhitneyu(xa, xb, alternative="two-sided")
                stat, p = float(res.statistic), float(res.pvalue)
            else:
                pa, pb = _paired(qdf, a, b)
                if pa.size < 2 or np.all(pa == pb):
                    stat, p = float("nan"), 1.0
                elif method == "ttest":  # paired t-test on (rater, item) pairs, as BS.1534-3 analyses MUSHRA
                    res = stats.ttest_rel(pa, pb)
                    stat, p = float(res.statistic), float(res.pvalue)
                else:
                    res = stats.wilcoxon(pa, pb, zero_method="wilcox", alternative="two-sided")
                    stat, p = float(res.statistic), float(res.pvalue)
            if not np.isfinite(p):
                p = 1.0  # e.g. both samples constant and equal
            rows.append({"question": q, "a": a, "b": b, "mos_a": xa.mean(), "mos_b": xb.mean(),
                         "diff": xa.mean() - xb.mean(), "n_a": xa.size, "n_b": xb.size, "test": method,
                         "statistic": stat, "p": p})
        if rows:
            adj = holm([r["p"] for r in rows])
            for r, pa_ in zip(rows, adj):
                r["p_holm"] = float(pa_)
                r["significant"] = bool(pa_ < alpha)
        out.extend(rows)
    return pd.DataFrame(out, columns=PAIR_COLUMNS)


# --------------------------------------------------------------------------- A/B preference
def preference_outcomes(ratings: pd.DataFrame) -> pd.DataFrame:
    """A/B test ratings as outcomes: rater_id, item, a, b (conditions), result (1 A wins, 0 B wins, 0.5 tie)."""
    pref = ratings[(ratings["kind"] == "test") & (ratings["question"] == "preference")]
    pref = pref.dropna(subset=["condition", "condition_b"])
    result = pref["value"].map({1: 1.0, 2: 0.0, 0: 0.5})
    return pd.DataFrame({"rater_id": pref["rater_id"].to_numpy(), "item": pref["item"].to_numpy(),
                         "a": pref["condition"].to_numpy(), "b": pref["condition_b"].to_numpy(),
                         "result": result.to_numpy(float)})


def win_matrix(outcomes: pd.DataFrame, conditions: Sequence[str]) -> pd.DataFrame:
    """``W[i, j]``: wins of row condition i over column condition j (a tie counts 0.5 to each)."""
    idx = {c: k for k, c in enumerate(conditions)}
    w = np.zeros((len(conditions), len(conditions)))
    for a, b, r in zip(outcomes["a"], outcomes["b"], outcomes["result"]):
        w[idx[a], idx[b]] += r
        w[idx[b], idx[a]] += 1.0 - r
    return pd.DataFrame(w, index=list(conditions), columns=list(conditions))


def bt_fit(wins: np.ndarray, *, prior: float = 0.0, tol: float = 1e-12, max_iter: int = 10000) -> np.ndarray:
    """Bradley-Terry maximum-likelihood log-strengths (mean 0) from a win matrix.

    The likelihood is ``prod (p_i / (p_i + p_j)) ** w_ij``. ``prior`` adds that many wins to each
    side of every compared pair (needed when a condition never wins or never loses, where the MLE
    does not exist). Where the MLE exists (Ford's condition: no group of conditions that never
    loses to the others, i.e. the "beat at least once" graph is strongly connected), Newton's
    method on the log-strengths finds it in a handful of steps (the log-likelihood is concave there; step halving keeps every step uphill). Otherwise, Hunter's
    (2004) MM iteration ``p_i <- W_i / sum_j n_ij / (p_i + p_j)``, which increases the likelihood
    at every step, runs to ``max_iter`` (strengths of conditions that never win tend to 0).
    """
    w = np.asarray(wins, dtype=float).copy()
    n_games = w + w.T
    if prior:
        w = w + prior * (n_games > 0)
        n_games = w + w.T
    total = w.sum(axis=1)
    if _strongly_connected(w > 0):  # Ford (1957): then, and only then, the MLE exists
        try:
            return _bt_newton(w, n_games, total, tol=tol, max_iter=max_iter)
        except np.linalg.LinAlgError:  # pragma: no cover - numerically flat; MM below still climbs
            pass
    p = np.ones(w.shape[0])
    for _ in range(max_iter):
        denom = (n_games / (p[:, None] + p[None, :])).sum(axis=1)
        new = np.where(denom > 0, total / np.where(denom > 0, denom, 1.0), p)
        new = new / np.exp(np.mean(np.log(np.maximum(new, 1e-300))))
        if np.max(np.abs(np.log(np.maximum(new, 1e-300)) - np.log(np.maximum(p, 1e-300)))) < tol:
            p = new
            break
        p = new
    lp = np.log(np.maximum(p, 1e-300))
    return lp - lp.mean()


def _reach(edges: np.ndarray) -> set[int]:
    seen, todo = {0}, [0]
    while todo:
        i = todo.pop()
        for j in np.flatnonzero(edges[i]):
            if int(j) not in seen:
                seen.add(int(j))
                todo.append(int(j))
    return seen


def _strongly_connected(beat: np.ndarray) -> bool:
    """Whether every condition reaches every other along "beat at least once" edges: the
    condition under which the Bradley-Terry MLE exists (no group of conditions that never loses
    to the rest)."""
    k = beat.shape[0]
    return len(_reach(beat)) == k and len(_reach(beat.T)) == k


def _bt_loglik(theta: np.ndarray, w: np.ndarray) -> float:
    diff = theta[:, None] - theta[None, :]
    return float(-(w * np.logaddexp(0.0, -diff)).sum())  # sum w_ij log sigma(theta_i - theta_j)


def _bt_newton(w: np.ndarray, n_games: np.ndarray, total: np.ndarray, *, tol: float, max_iter: int) -> np.ndarray:
    k = w.shape[0]
    theta = np.zeros(k)
    ll = _bt_loglik(theta, w)
    for _ in range(max_iter):
        sig = 1.0 / (1.0 + np.exp(-(theta[:, None] - theta[None, :])))  # P(i beats j)
        grad = total - (n_games * sig).sum(axis=1)
        curv = n_games * sig * sig.T
        neg_hess = np.diag(curv.sum(axis=1)) - curv
        # the likelihood is flat along (1, ..., 1): adding 11^T/k fixes the mean without moving the step
        step = np.linalg.solve(neg_hess + np.ones((k, k)) / k, grad)
        t = 1.0
        while True:
            cand = theta + t * step
            cand_ll = _bt_loglik(cand, w)
            if cand_ll >= ll - 1e-12 * abs(ll) or t < 1e-6:
                break
            t /= 2
        theta, ll = cand - cand.mean(), cand_ll
        if np.max(np.abs(t * step)) < tol:
            break
    return theta - theta.mean()


def _needs_prior(w: np.ndarray) -> bool:
    """Whether the Bradley-Terry MLE of ``w`` does not exist: some group of conditions never
    loses to the rest (the "beat at least once" graph is not strongly connected; a condition
    that never wins or never loses is the simplest case). Without the prior such a fit has no
    optimum and the MM iteration runs to ``max_iter`` (0.7 s measured for 4 conditions), which
    over 1,000 bootstrap resamples pushed one admin page past a 60 s test timeout."""
    return not _strongly_connected(w > 0)


def bradley_terry(ratings: pd.DataFrame, *, n_boot: int = 1000, level: float = 0.95, alpha: float = 0.05,
                  seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Bradley-Terry scores of A/B preference ratings: (scores, pairwise, win matrix).

    Scores have the columns of :data:`MOS_COLUMNS` (``mos`` = log-strength, mean 0 over the
    conditions; ``ci_low``/``ci_high`` percentile intervals from ``n_boot`` resamples of raters;
    ``win_rate`` = wins / comparisons). Pairwise rows test each difference of log-strengths with
    the bootstrap (two-sided p = twice the smaller share of resamples on either side of 0), Holm-
    corrected, in the columns of :data:`PAIR_COLUMNS`.
    """
    out = preference_outcomes(ratings)
    conds = sorted(set(out["a"]) | set(out["b"]))
    if not conds:
        return (pd.DataFrame(columns=MOS_COLUMNS), pd.DataFrame(columns=PAIR_COLUMNS),
                pd.DataFrame())
    wins = win_matrix(out, conds)
    w = wins.to_numpy()
    prior = 0.5 if _needs_prior(w) else 0.0
    est = bt_fit(w, prior=prior)
    raters = np.array(sorted(out["rater_id"].unique()))
    by_rater = {r: win_matrix(out[out["rater_id"] == r], conds).to_numpy() for r in raters}
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot if len(raters) > 1 else 0):
        pick = rng.integers(0, len(raters), size=len(raters))
        wb = sum(by_rater[raters[k]] for k in pick)
        boots.append(bt_fit(wb, prior=0.5 if _needs_prior(wb) else 0.0, tol=1e-9))
    boots_a = np.array(boots) if boots else np.full((0, len(conds)), np.nan)
    kinds = dict(zip(ratings["condition"], ratings["condition_kind"]))
    games = (w + w.T).sum(axis=1)
    rows = []
    for k, c in enumerate(conds):
        lo, hi = (np.quantile(boots_a[:, k], [(1 - level) / 2, (1 + level) / 2]) if len(boots_a)
                  else (np.nan, np.nan))
        # Resamples in which a condition never wins or never loses are fitted with the prior (no
        # MLE without it), which pulls them towards 0; the percentile interval can then miss the
        # point estimate of a strong condition. Such an interval is widened to reach the estimate.
        lo, hi = min(lo, est[k]), max(hi, est[k])
        mine = out[(out["a"] == c) | (out["b"] == c)]
        rows.append({"question": "preference", "score": "bt", "condition": c, "condition_kind": kinds.get(c),
                     "n": int(games[k]), "n_raters": int(mine["rater_id"].nunique()),
                     "n_items": int(mine["item"].nunique()), "mos": float(est[k]), "std": float("nan"),
                     "ci_low": float(lo), "ci_high": float(hi), "boot_low": float(lo), "boot_high": float(hi),
                     **{f"n{j}": None for j in range(1, 6)},
                     "win_rate": float(w[k].sum() / games[k]) if games[k] else float("nan")})
    scores = pd.DataFrame(rows, columns=MOS_COLUMNS).sort_values("mos", ascending=False).reset_index(drop=True)
    pairs = []
    for i, j in itertools.combinations(range(len(conds)), 2):
        d = boots_a[:, i] - boots_a[:, j]
        p = float(min(1.0, 2 * min(np.mean(d <= 0), np.mean(d >= 0)))) if len(d) else 1.0
        pairs.append({"question": "preference", "a": conds[i], "b": conds[j], "mos_a": float(est[i]),
                      "mos_b": float(est[j]), "diff": float(est[i] - est[j]), "n_a": int(games[i]),
                      "n_b": int(games[j]), "test": "bootstrap over raters", "statistic": float(est[i] - est[j]),
                      "p": p})
    if pairs:
        for r, pa in zip(pairs, holm([r["p"] for r in pairs])):
            r["p_holm"], r["significant"] = float(pa), bool(pa < alpha)
    return scores, pd.DataFrame(pairs, columns=PAIR_COLUMNS), wins


def ranks_with_ties(mos: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Per question and condition: rank = 1 + conditions significantly better; ``tied_with``."""
    out = []
    for q, qm in mos.groupby("question", sort=True):
        qp = pairs[pairs["question"] == q]
        for c in qm["condition"]:
            better, tied = 0, []
            for r in qp.itertuples(index=False):
                if c not in (r.a, r.b):
                    continue
                other = r.b if r.a == c else r.a
                other_better = (r.diff < 0) if r.a == c else (r.diff > 0)
                if r.significant and other_better:
                    better += 1
                elif not r.significant:
                    tied.append(other)
            out.append({"question": q, "condition": c, "rank": 1 + better, "tied_with": ", ".join(sorted(tied))})
    return pd.DataFrame(out, columns=["question", "condition", "rank", "tied_with"])


def run_metrics(run_dir: str | Path | None) -> dict[str, dict]:
    """``results.json`` "metrics" of a run: {name: {"mean", "ci_low", "ci_high", ...}} ({} if absent)."""
    if not isinstance(run_dir, (str, Path)) or not str(run_dir):
        return {}  # no run (reference, anchor, manifest studies)
    path = Path(run_dir) / "results.json"
    try:
        return dict(json.loads(path.read_text()).get("metrics") or {})
    except (OSError, json.JSONDecodeError):
        return {}


def leaderboard(mos: pd.DataFrame, ranks: pd.DataFrame, conditions: pd.DataFrame) -> pd.DataFrame:
    """One row per condition: MOS [CI] and rank per question, then the run's automatic metrics."""
    rows = []
    for c in conditions.itertuples(index=False):
        row: dict = {"condition": c.condition, "kind": c.kind}
        for q in sorted(mos["question"].unique()):
            m = mos[(mos["question"] == q) & (mos["condition"] == c.condition)]
            rk = ranks[(ranks["question"] == q) & (ranks["condition"] == c.condition)]
            row[f"{q}_{score_name(q)}"] = float(m["mos"].iloc[0]) if len(m) else np.nan
            if q == "preference":
                row[f"{q}_win_rate"] = float(m["win_rate"].iloc[0]) if len(m) else np.nan
            row[f"{q}_ci_low"] = float(m["ci_low"].iloc[0]) if len(m) else np.nan
            row[f"{q}_ci_high"] = float(m["ci_high"].iloc[0]) if len(m) else np.nan
            row[f"{q}_n"] = int(m["n"].iloc[0]) if len(m) else 0
            row[f"{q}_rank"] = int(rk["rank"].iloc[0]) if len(rk) else np.nan
            row[f"{q}_tied_with"] = rk["tied_with"].iloc[0] if len(rk) else ""
        for name, val in run_metrics(c.run_dir).items():
            if isinstance(val, dict) and "mean" in val:
                row[f"metric:{name}"] = val.get("mean")
                row[f"metric:{name}:ci"] = (f"[{val['ci_low']:.3g}, {val['ci_high']:.3g}]"
                                            if val.get("ci_low") is not None and val.get("ci_high") is not None else "")
        rows.append(row)
    df = pd.DataFrame(rows)
    first_q = sorted(mos["question"].unique())[0] if len(mos) else None
    if first_q and f"{first_q}_{score_name(first_q)}" in df:
        df = df.sort_values(f"{first_q}_{score_name(first_q)}", ascending=False, na_position="last")
    return df.reset_index(drop=True)


def metric_agreement(board: pd.DataFrame, *, question: str) -> pd.DataFrame:
    """Spearman correlation, across system conditions, between MOS and each automatic metric."""
    from scipy import stats

    sys_rows = board[board["kind"] == "system"]
    out = []
    for col in [c for c in board.columns if c.startswith("metric:") and not c.endswith(":ci")]:
        sub = sys_rows[[f"{question}_{score_name(question)}", col]].dropna()
        rho = float(stats.spearmanr(sub.iloc[:, 0], sub.iloc[:, 1]).statistic) if len(sub) >= 3 else float("nan")
        out.append({"metric": col.split(":", 1)[1], "n_systems": len(sub), "spearman_rho": rho,
                    "caveat": spearman_caveat(len(sub))})
    return pd.DataFrame(out, columns=["metric", "n_systems", "spearman_rho", "caveat"])


#: fewer systems than this and a Spearman correlation cannot be significant at 0.05 (exact p >= 2/n!)
MIN_SYSTEMS_FOR_SPEARMAN = 5


def spearman_caveat(n_systems: int) -> str:
    """The caveat shown beside a Spearman correlation over ``n_systems`` systems ("" when none)."""
    if n_systems >= MIN_SYSTEMS_FOR_SPEARMAN:
        return ""
    import math

    floor = 2.0 / math.factorial(max(n_systems, 1))
    return (f"only {n_systems} systems: even a perfect ordering has exact two-sided p = 2/{n_systems}! = "
            f"{floor:.3g} >= 0.05, so this rho cannot be significant; it needs >= {MIN_SYSTEMS_FOR_SPEARMAN} systems")


@dataclass
class StudyAnalysis:
    """Everything the CLI, the admin page and the leaderboard show for one study."""

    study: str
    ratings: pd.DataFrame
    raters: pd.DataFrame
    screening: pd.DataFrame
    kept: pd.DataFrame
    mos: pd.DataFrame
    pairs: pd.DataFrame
    ranks: pd.DataFrame
    board: pd.DataFrame
    thresholds: Thresholds = field(default_factory=Thresholds)
    protocol: str = "acr"
    wins: pd.DataFrame = field(default_factory=pd.DataFrame)  # A/B: win matrix of the kept raters


#: the pairwise test each protocol uses unless told otherwise
DEFAULT_TEST = {"acr": "mannwhitney", "dcr": "mannwhitney", "mushra": "ttest", "ab": "bootstrap"}


def analyse(store, name: str, *, thresholds: Thresholds | None = None, bootstrap: int = 0,
            method: str | None = None, alpha: float = 0.05, seed: int = 0) -> StudyAnalysis:
    """Screen the raters of study ``name``, then scores, pairwise tests, ranks and the leaderboard.

    ``method`` (None: the protocol's :data:`DEFAULT_TEST`) chooses the pairwise test of the
    ACR, DCR and MUSHRA scores; A/B preference always tests with the bootstrap over raters
    (``bootstrap`` resamples, 1000 when 0).
    """
    from .data import conditions_frame, raters_frame, ratings_frame
    from .ratings import get_study

    thresholds = thresholds or Thresholds()
    study = get_study(store, name)
    protocol = study.protocol
    ratings = ratings_frame(store, study.id)
    raters = raters_frame(store, study.id)
    table = screen(ratings, raters, thresholds)
    kept_ids = set(table.loc[~table["excluded"], "rater_id"]) if len(table) else set()
    kept = ratings[ratings["rater_id"].isin(kept_ids)]
    wins = pd.DataFrame()
    if protocol == "ab":
        mos, pairs, wins = bradley_terry(kept, n_boot=bootstrap or 1000, alpha=alpha, seed=seed)
    else:
        method = method or DEFAULT_TEST[protocol]
        if method == "bootstrap":
            raise ConfigError("the bootstrap test is for A/B preference studies")
        mos = mos_table(kept, bootstrap=bootstrap, seed=seed)
        pairs = pairwise(kept, method=method, alpha=alpha)
    ranks = ranks_with_ties(mos, pairs)
    board = leaderboard(mos, ranks, conditions_frame(store, study.id))
    return StudyAnalysis(study=name, ratings=ratings, raters=raters, screening=table, kept=kept, mos=mos,
                         pairs=pairs, ranks=ranks, board=board, thresholds=thresholds, protocol=protocol, wins=wins)


def format_mos(mos: pd.DataFrame, ranks: pd.DataFrame) -> str:
    """A plain-text MOS table per question, ties marked with '='."""
    if mos.empty:
        return "MOS: no ratings from kept raters yet"
    lines = []
    for q, qm in mos.groupby("question", sort=True):
        name = score_name(q)
        head = {"mos": "MOS", "dmos": "DMOS", "mean": "MUSHRA", "bt": "BT"}[name]
        what = {"mos": "95% t CI", "dmos": "DCR, ITU-T P.800 Annex D, 95% t CI",
                "mean": "ITU-R BS.1534-3, mean 0-100, 95% t CI",
                "bt": "Bradley-Terry log-strength, 95% bootstrap CI over raters"}[name]
        lines.append(f"{head if name != 'bt' else 'Preference'} ({q}, {what}):")
        lines.append(f"  {'rank':>5}  {'condition':<28} {head:>5}  {'95% CI':<15} {'n':>5} {'raters':>6}  tied with")
        for r in qm.itertuples(index=False):
            rk = ranks[(ranks["question"] == q) & (ranks["condition"] == r.condition)]
            rank = int(rk["rank"].iloc[0]) if len(rk) else 0
            tied = rk["tied_with"].iloc[0] if len(rk) else ""
            # "=" as on every MuseBench board: a rank number another row shares (not "ties with someone")
            shared = ranks[(ranks["question"] == q) & (ranks["rank"] == rank)]
            mark = "=" if len(shared) > 1 else " "
            ci = f"[{r.ci_low:.2f}, {r.ci_high:.2f}]" if np.isfinite(r.ci_low) else "[n/a]"
            value = f"{r.mos:>5.1f}" if name == "mean" else f"{r.mos:>+5.2f}" if name == "bt" else f"{r.mos:>5.2f}"
            lines.append(f"  {rank:>4}{mark}  {r.condition:<28} {value}  {ci:<15} {r.n:>5} {r.n_raters:>6}  {tied}")
    return "\n".join(lines)


def plot_distributions(mos: pd.DataFrame, *, question: str):
    """Stacked horizontal bars: the share of each rating 1-5 per condition (a matplotlib Figure)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    qm = mos[mos["question"] == question].sort_values("mos")
    if len(qm) and qm["n1"].isna().any():  # a continuous or preference scale: means with intervals
        fig, ax = plt.subplots(figsize=(7, 1.2 + 0.45 * max(len(qm), 1)))
        err = np.vstack([qm["mos"] - qm["ci_low"], qm["ci_high"] - qm["mos"]])
        ax.errorbar(qm["mos"], qm["condition"], xerr=np.maximum(np.nan_to_num(err), 0.0), fmt="o", capsize=3)
        ax.set_xlabel(f"{SCORE_LABELS[score_name(question)]} ({question}), 95 % CI")
        fig.tight_layout()
        return fig
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.45 * max(len(qm), 1)))
    left = np.zeros(len(qm))
    colours = ["#b2182b", "#ef8a62", "#d9d9d9", "#67a9cf", "#2166ac"]
    totals = qm["n"].to_numpy(float) if len(qm) else np.ones(0)
    for k in range(1, 6):
        share = qm[f"n{k}"].to_numpy(float) / np.maximum(totals, 1)
        ax.barh(qm["condition"], share, left=left, color=colours[k - 1], label=str(k))
        left += share
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"share of ratings ({question})")
    ax.legend(title=None, ncol=5, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False,
              handlelength=1.0, columnspacing=1.0)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- completion codes
@dataclass(frozen=True)
class CodeCheck:
    """What :func:`verify_code` found: whether the code is real and whose it is."""

    real: bool
    raters: tuple[dict[str, Any], ...] = ()   # rater, external_id, finished, kept, reasons

    def describe(self, code: str, study: str) -> str:
        if not self.real:
            return f"{code}: not a completion code of study {study!r}"
        lines = []
        shared = len(self.raters) > 1
        if shared:
            lines.append(f"{code}: a fixed code of study {study!r}, shared by {len(self.raters)} raters "
                         "(it cannot tell who finished; use per-rater codes)")
        for r in self.raters:
            who = r["rater"] + (f" (worker {r['external_id']})" if r["external_id"] else "")
            state = "finished" if r["finished"] else "NOT finished"
            kept = "passed screening" if r["kept"] else f"excluded by screening: {r['reasons']}"
            lines.append(f"{'  ' if shared else code + ': '}real code of {who}; {state}; {kept}")
        return "\n".join(lines)


def verify_code(store, study: str, code: str, *, thresholds=None) -> CodeCheck:
    """Whether ``code`` was given to a rater of ``study``; whose, finished, kept by screening."""
    an = analyse(store, study, thresholds=thresholds or Thresholds())
    code = code.strip()
    hits = an.screening[an.screening["completion_code"] == code] if len(an.screening) else an.screening
    if not len(hits):
        return CodeCheck(False)
    return CodeCheck(True, tuple({"rater": r.rater, "external_id": r.external_id if isinstance(r.external_id, str)
                                  else None, "finished": bool(r.finished), "kept": not bool(r.excluded),
                                  "reasons": r.reasons} for r in hits.itertuples(index=False)))
