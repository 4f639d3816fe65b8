"""Rater screening in the spirit of ITU-T P.808 and CrowdMOS.

A rater is excluded, with every reason recorded, when they

- did not finish (``require_finished``);
- failed more than ``max_gold_failures`` gold items (a known answer range, e.g. a clean
  reference must get 4-5, a heavily degraded clip 1-2);
- failed more than ``max_trap_failures`` trap items (the answer must equal the number of beeps);
- gave ratings with a standard deviation of at most ``min_std`` (zero variance: the same button
  every time), judged once they have ``min_ratings_for_std`` test ratings;
- agree poorly with the others: Pearson correlation below ``min_correlation`` between their test
  ratings and the mean of the other (not yet excluded) raters on the same stimuli and questions,
  judged when they share at least ``min_common`` of them (CrowdMOS used r < 0.25);
- failed the headphone check, if ``require_headphones``;
- share a crowd-platform worker id with an earlier rater (``exclude_duplicates``: the later ones);
- answered faster than ``min_answer_ratio`` times the clip's length on the median test trial
  (server clock, from showing the trial to the answer; off by default, since the server already
  refuses answers sooner than the study's listening requirement);
- MUSHRA (ITU-R BS.1534-3 post-screening): rated the hidden reference below 90 on more than
  15 % of the items, or the mid-range (7 kHz) anchor above 90 on more than 15 % of the items.

A/B preference answers enter the agreement check coded +1 (A), -1 (B), 0 (no preference).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

SCREEN_COLUMNS = ["rater_id", "rater", "external_id", "completion_code", "n_done", "n_assigned", "finished",
                  "gold_failures", "gold_n", "trap_failures", "trap_n", "std", "correlation", "n_common",
                  "headphone_passed", "duplicate_of", "answer_s_median", "answer_ratio_median",
                  "hidden_ref_below_share", "mid_anchor_above_share", "excluded", "reasons"]


@dataclass(frozen=True)
class Thresholds:
    require_finished: bool = True
    max_gold_failures: int = 0
    max_trap_failures: int = 0
    min_std: float = 0.0
    min_ratings_for_std: int = 5
    min_correlation: float = 0.25
    min_common: int = 4
    require_headphones: bool = False
    exclude_duplicates: bool = True
    min_answer_ratio: float = 0.0
    mushra_reference_min: float = 90.0
    mushra_anchor_max: float = 90.0
    mushra_max_share: float = 0.15

    def to_json(self) -> dict:
        return asdict(self)


def _failures(ratings: pd.DataFrame, kind: str) -> tuple[dict[int, int], dict[int, int]]:
    """Per rater: (trials of ``kind`` failed, trials of ``kind`` answered)."""
    failed: dict[int, int] = {}
    seen: dict[int, int] = {}
    sub = ratings[ratings["kind"] == kind]
    for (rid, _trial), grp in sub.groupby(["rater_id", "trial"]):
        expected = json.loads(grp["expected"].iloc[0]) if isinstance(grp["expected"].iloc[0], str) else {}
        bad = False
        for q, v in zip(grp["question"], grp["value"]):
            if q in expected:
                lo, hi = expected[q]
                bad = bad or not lo <= int(v) <= hi
        seen[rid] = seen.get(rid, 0) + 1
        failed[rid] = failed.get(rid, 0) + int(bad)
    return failed, seen


def consensus_correlation(ratings: pd.DataFrame, rater_id: int, others: set[int]) -> tuple[float, int]:
    """Pearson r between a rater's test ratings and the others' mean on the same (trial, question).

    Returns ``(r, n_common)``; r is NaN with fewer than two common keys or a constant side.
    """
    test = ratings[ratings["kind"] == "test"]
    mine = test[test["rater_id"] == rater_id].groupby(["trial", "question"])["value"].mean()
    rest = test[test["rater_id"].isin(others - {rater_id})].groupby(["trial", "question"])["value"].mean()
    common = mine.index.intersection(rest.index)
    if len(common) < 2:
        return float("nan"), len(common)
    a, b = mine.loc[common].to_numpy(float), rest.loc[common].to_numpy(float)
    if a.std() == 0 or b.std() == 0:
        return float("nan"), len(common)
    return float(np.corrcoef(a, b)[0, 1]), len(common)


def screen(ratings: pd.DataFrame, raters: pd.DataFrame, thresholds: Thresholds = Thresholds()) -> pd.DataFrame:
    """Screen every rater; one row each with the measures, ``excluded`` and ``reasons``.

    The correlation is computed against the raters who pass every other criterion, so that
    careless raters do not shape the consensus they are judged against.
    """
    th = thresholds
    gold_failed, gold_seen = _failures(ratings, "gold")
    trap_failed, trap_seen = _failures(ratings, "trap")
    ratings = ratings.copy()
    pref = ratings["question"] == "preference"
    ratings.loc[pref, "value"] = ratings.loc[pref, "value"].map({1: 1, 2: -1, 0: 0})
    test = ratings[ratings["kind"] == "test"]
    first_of: dict[str, str] = {}
    rows = []
    for r in raters.itertuples(index=False):
        mine_df = test[test["rater_id"] == r.rater_id]
        mine = mine_df["value"].to_numpy(float)
        timed = len(mine_df) and {"answer_s", "clip_s"} <= set(mine_df.columns)
        per_trial = mine_df.groupby("trial")[["answer_s", "clip_s"]].first() if timed else None
        ans_med = float(per_trial["answer_s"].median()) if per_trial is not None else float("nan")
        ratio_med = (float((per_trial["answer_s"] / per_trial["clip_s"]).median())
                     if per_trial is not None else float("nan"))
        ref_share, anchor_share = _mushra_shares(mine_df, th)
        std = float(mine.std()) if mine.size else float("nan")
        reasons = []
        if th.require_finished and not r.finished:
            reasons.append(f"unfinished ({r.n_done}/{r.n_assigned} trials)")
        if gold_failed.get(r.rater_id, 0) > th.max_gold_failures:
            reasons.append(f"failed {gold_failed[r.rater_id]} of {gold_seen[r.rater_id]} gold item(s)")
        if trap_failed.get(r.rater_id, 0) > th.max_trap_failures:
            reasons.append(f"failed {trap_failed[r.rater_id]} of {trap_seen[r.rater_id]} trap item(s)")
        if mine.size >= th.min_ratings_for_std and std <= th.min_std:
            reasons.append(f"no variance (std {std:.2f} over {mine.size} ratings)")
        if th.require_headphones and r.headphone_passed is not True:
            reasons.append("failed or skipped the headphone check")
        dup = None
        if isinstance(r.external_id, str) and r.external_id:
            dup = first_of.setdefault(r.external_id, r.rater)
            dup = None if dup == r.rater else dup
            if dup and th.exclude_duplicates:
                reasons.append(f"same worker id as {dup}")
        if th.min_answer_ratio > 0 and np.isfinite(ratio_med) and ratio_med < th.min_answer_ratio:
            reasons.append(f"answered after {ratio_med:.2f} x the clip length on the median trial")
        if np.isfinite(ref_share) and ref_share > th.mushra_max_share:
            reasons.append(f"hidden reference below {th.mushra_reference_min:g} on {ref_share:.0%} of items")
        if np.isfinite(anchor_share) and anchor_share > th.mushra_max_share:
            reasons.append(f"mid-range anchor above {th.mushra_anchor_max:g} on {anchor_share:.0%} of items")
        rows.append({"rater_id": r.rater_id, "rater": r.rater, "external_id": r.external_id,
                     "completion_code": getattr(r, "completion_code", None), "n_done": r.n_done,
                     "n_assigned": r.n_assigned, "finished": bool(r.finished),
                     "gold_failures": gold_failed.get(r.rater_id, 0), "gold_n": gold_seen.get(r.rater_id, 0),
                     "trap_failures": trap_failed.get(r.rater_id, 0), "trap_n": trap_seen.get(r.rater_id, 0),
                     "std": std, "headphone_passed": r.headphone_passed, "duplicate_of": dup,
                     "answer_s_median": ans_med, "answer_ratio_median": ratio_med,
                     "hidden_ref_below_share": ref_share, "mid_anchor_above_share": anchor_share,
                     "reasons": reasons})
    passing = {row["rater_id"] for row in rows if not row["reasons"]}
    for row in rows:
        r_, n = consensus_correlation(ratings, row["rater_id"], passing)
        row["correlation"], row["n_common"] = r_, n
        if n >= th.min_common and np.isfinite(r_) and r_ < th.min_correlation:
            row["reasons"].append(f"low correlation with other raters (r={r_:.2f} over {n})")
    for row in rows:
        row["excluded"] = bool(row["reasons"])
        row["reasons"] = "; ".join(row["reasons"])
    return pd.DataFrame(rows, columns=SCREEN_COLUMNS)


def _mushra_shares(mine: pd.DataFrame, th: Thresholds) -> tuple[float, float]:
    """BS.1534-3 post-screening measures of one rater's MUSHRA ratings (NaN for other protocols).

    The share of items whose hidden reference got less than ``mushra_reference_min``, and the
    share whose mid-range anchor (``anchor-7kHz``) got more than ``mushra_anchor_max``.
    """
    m = mine[mine["question"] == "mushra"]
    if m.empty:
        return float("nan"), float("nan")
    ref = m[m["condition_kind"] == "reference"].groupby("item")["value"].min()
    mid = m[m["condition"] == "anchor-7kHz"].groupby("item")["value"].max()
    ref_share = float((ref < th.mushra_reference_min).mean()) if len(ref) else float("nan")
    mid_share = float((mid > th.mushra_anchor_max).mean()) if len(mid) else float("nan")
    return ref_share, mid_share


def format_screening(table: pd.DataFrame) -> str:
    """A short text report: how many raters were kept, and who was excluded and why."""
    if table.empty:
        return "screening: no raters yet"
    kept = int((~table["excluded"]).sum())
    lines = [f"screening: {kept} of {len(table)} rater(s) kept, {len(table) - kept} excluded"]
    for r in table[table["excluded"]].itertuples(index=False):
        who = f"{r.rater}" + (f" ({r.external_id})" if isinstance(r.external_id, str) and r.external_id else "")
        lines.append(f"  excluded {who}: {r.reasons}")
    return "\n".join(lines)
