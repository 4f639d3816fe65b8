"""Read a study's ratings, raters and conditions into pandas frames (server side only)."""
from __future__ import annotations

import json

import pandas as pd
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from .store import Condition, Rater, Rating, Stimulus, Store, Trial, View

#: ``condition_b``: the second clip's condition (A/B); ``page``: the MUSHRA page; ``shown_at``: when the
#: server first showed the trial; ``answer_s``: seconds from then to the answer (server clock);
#: ``clip_s``: the rated clip's duration
RATING_COLUMNS = ["rater_id", "rater", "external_id", "completion_code", "trial", "kind", "condition",
                  "condition_kind", "condition_b", "item", "page", "question", "value", "expected", "shown_at",
                  "created_at", "answer_s", "clip_s", "response_ms", "listen_fraction"]
RATER_COLUMNS = ["rater_id", "rater", "external_id", "completion_code", "stage", "n_assigned", "n_done", "finished",
                 "headphone_correct", "headphone_of", "headphone_passed", "headphone_s", "created_at", "finished_at"]


def pseudonym(rater_id: int) -> str:
    return f"R{rater_id:04d}"


def ratings_frame(store: Store, study_id: int) -> pd.DataFrame:
    """One row per stored rating, with the trial kind, condition(s), item, expected answers and times."""
    stim_b, cond_b = aliased(Stimulus), aliased(Condition)
    q = (select(Rating.rater_id, Rater.external_id, Rater.completion_code, Rating.trial_id.label("trial"), Trial.kind,
                Condition.name.label("condition"), Condition.kind.label("condition_kind"),
                cond_b.name.label("condition_b"), Stimulus.item, Trial.page, Rating.question, Rating.value,
                Trial.expected_json.label("expected"), View.shown_at, Rating.created_at,
                Stimulus.duration_s.label("clip_s"), Rating.response_ms, Rating.listen_fraction)
         .join(Rater, Rater.id == Rating.rater_id).join(Trial, Trial.id == Rating.trial_id)
         .join(Stimulus, Stimulus.id == Trial.stimulus_id)
         .outerjoin(Condition, Condition.id == Stimulus.condition_id)
         .outerjoin(stim_b, stim_b.id == Trial.other_id).outerjoin(cond_b, cond_b.id == stim_b.condition_id)
         .outerjoin(View, and_(View.rater_id == Rating.rater_id, View.what == func.coalesce(Trial.page, Trial.id)))
         .where(Trial.study_id == study_id).order_by(Rating.id))
    with store.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q)]
    df = pd.DataFrame(rows, columns=[c for c in RATING_COLUMNS if c not in ("rater", "answer_s")])
    df.insert(1, "rater", [pseudonym(int(i)) for i in df["rater_id"]])
    df["value"] = df["value"].astype(int)
    shown = pd.to_datetime(df["shown_at"], utc=True)
    answered = pd.to_datetime(df["created_at"], utc=True)
    df.insert(df.columns.get_loc("created_at") + 1, "answer_s", (answered - shown).dt.total_seconds())
    return df


def raters_frame(store: Store, study_id: int) -> pd.DataFrame:
    """One row per rater: progress, completion and headphone-check result."""
    with store.read() as conn:
        raters = conn.execute(select(Rater.__table__).where(Rater.study_id == study_id).order_by(Rater.id)).all()
        trials = {r.id: r for r in conn.execute(select(Trial.id, Trial.kind, Trial.questions)
                                                .where(Trial.study_id == study_id))}
        counts: dict[tuple[int, str], int] = {}
        for rid, tid in conn.execute(select(Rating.rater_id, Rating.trial_id).join(Trial, Trial.id == Rating.trial_id)
                                     .where(Trial.study_id == study_id)):
            counts[(rid, tid)] = counts.get((rid, tid), 0) + 1
    rows = []
    for r in raters:
        main = [t for t in json.loads(r.assignment_json) if trials[t].kind != "training"]
        done = sum(1 for t in main if counts.get((r.id, t), 0) >= len(trials[t].questions.split(",")))
        hp = json.loads(r.headphone_json) if r.headphone_json else {}
        rows.append({"rater_id": r.id, "rater": pseudonym(r.id), "external_id": r.external_id,
                     "completion_code": r.completion_code, "stage": r.stage,
                     "n_assigned": len(main), "n_done": done,
                     "finished": r.finished_at is not None or (bool(main) and done >= len(main)),
                     "headphone_correct": hp.get("correct"), "headphone_of": hp.get("of"),
                     "headphone_passed": hp.get("passed"), "headphone_s": hp.get("seconds"),
                     "created_at": r.created_at, "finished_at": r.finished_at})
    return pd.DataFrame(rows, columns=RATER_COLUMNS)


def conditions_frame(store: Store, study_id: int) -> pd.DataFrame:
    with store.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(
            select(Condition.name.label("condition"), Condition.kind, Condition.run_dir)
            .where(Condition.study_id == study_id).order_by(Condition.id))]
    return pd.DataFrame(rows, columns=["condition", "kind", "run_dir"])


def stimuli_frame(store: Store, study_id: int) -> pd.DataFrame:
    """The loudness log: per stimulus its role, condition, item, loudness, gain and true peak."""
    with store.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(
            select(Stimulus.id.label("stimulus"), Stimulus.role, Condition.name.label("condition"), Stimulus.item,
                   Stimulus.loudness_lufs, Stimulus.gain_db, Stimulus.peak_dbfs, Stimulus.duration_s, Stimulus.sha256)
            .outerjoin(Condition, Condition.id == Stimulus.condition_id)
            .where(Stimulus.study_id == study_id).order_by(Stimulus.role, Stimulus.item))]
    return pd.DataFrame(rows)


def trial_coverage(store: Store, study_id: int) -> pd.DataFrame:
    """Per test trial: how many raters were assigned it (balance check)."""
    with store.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(
            select(Trial.id.label("trial"), Condition.name.label("condition"), Stimulus.item, Trial.assigned_count)
            .join(Stimulus, Stimulus.id == Trial.stimulus_id).outerjoin(Condition, Condition.id == Stimulus.condition_id)
            .where(Trial.study_id == study_id, Trial.kind == "test"))]
    return pd.DataFrame(rows, columns=["trial", "condition", "item", "assigned_count"])
