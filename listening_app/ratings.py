"""The storage path of the rater's flow: raters, stages, trials and rating submits.

Every submit is one short write transaction, committed before the app moves on; the unique
constraint (rater, trial, question) with ``ON CONFLICT DO NOTHING`` makes a double submit a
no-op (the first answer stands). A rater's position is derived from the ratings stored, so an
app restart or a closed tab loses nothing: the resume link (with the rater's unguessable token)
continues at the first trial that is not fully answered.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
from sqlalchemy import func, select, update

from benchmark.errors import BadInputError, ConfigError, MissingDataError

from .assignment import choose_balanced, insert_checks, spread_items
from .store import Rater, Rating, Stimulus, Store, Study, Trial, utcnow

STAGES = ("consent", "headphones", "trials", "done")


@dataclass(frozen=True)
class StudyView:
    id: int
    name: str
    public_id: str
    title: str
    family: str
    status: str
    config: dict[str, Any]


@dataclass(frozen=True)
class RaterView:
    id: int
    token: str
    study: StudyView
    stage: str
    assignment: tuple[str, ...]
    headphone: dict[str, Any] | None
    completion_code: str
    finished: bool


@dataclass(frozen=True)
class TrialView:
    id: str
    kind: str
    questions: tuple[str, ...]
    stimulus_id: str
    source_id: str | None
    caption: str | None
    index: int          # 0-based position among the rater's non-training trials (-1: training)
    total: int          # the rater's non-training trials
    done: int           # non-training trials fully answered


def _study_view(row: Study) -> StudyView:
    return StudyView(id=row.id, name=row.name, public_id=row.public_id, title=row.title, family=row.family,
                     status=row.status, config=json.loads(row.config_json))


def find_study(store: Store, *, public_id: str | None = None, name: str | None = None) -> StudyView | None:
    """The study with this public id (from a rater's URL) or server-side name."""
    cond = Study.public_id == public_id if public_id is not None else Study.name == name
    with store.read() as conn:
        row = conn.execute(select(Study.__table__).where(cond)).first()
    return _study_view(row) if row is not None else None


def get_study(store: Store, name: str) -> StudyView:
    study = find_study(store, name=name)
    if study is None:
        with store.read() as conn:
            known = [r[0] for r in conn.execute(select(Study.name))]
        from benchmark.errors import UnknownNameError

        raise UnknownNameError("study", name, known)
    return study


def list_studies(store: Store) -> list[StudyView]:
    with store.read() as conn:
        return [_study_view(r) for r in conn.execute(select(Study.__table__).order_by(Study.id))]


def set_study_status(store: Store, name: str, status: str) -> None:
    if status not in ("open", "closed"):
        raise ConfigError(f"study status must be 'open' or 'closed', not {status!r}")
    with store.write() as conn:
        conn.execute(update(Study).where(Study.name == name).values(status=status))


def start_rater(store: Store, *, public_id: str, external_id: str | None = None) -> RaterView:
    """Create a rater with a balanced, randomised assignment; return it (with its resume token).

    The assignment takes the ``per_rater`` least-rated test trials (under a lock, so concurrent
    starts stay balanced), shuffles them with items spread apart, mixes in every gold and trap
    trial, and puts the training trials first.
    """
    token = secrets.token_urlsafe(24)
    with store.write() as conn:
        srow = conn.execute(select(Study.__table__).where(Study.public_id == public_id)).first()
        if srow is None:
            raise MissingDataError(f"no study with public id {public_id!r}")
        study = _study_view(srow)
        if study.status != "open":
            raise ConfigError("this study is closed")
        rows = conn.execute(select(Trial.id, Trial.kind, Trial.position, Trial.assigned_count, Stimulus.item)
                            .join(Stimulus, Stimulus.id == Trial.stimulus_id)
                            .where(Trial.study_id == study.id).order_by(Trial.id).with_for_update(of=Trial)).all()
        rng = np.random.default_rng(secrets.randbits(64))
        tests = {r.id: r.assigned_count for r in rows if r.kind == "test"}
        items = {r.id: r.item for r in rows}
        n = study.config.get("per_rater") or len(tests)
        chosen = choose_balanced(tests, n, rng=rng)
        checks = [r.id for r in rows if r.kind in ("gold", "trap")]
        rng.shuffle(checks)
        sequence = insert_checks(spread_items(chosen, items, rng=rng), checks, rng=rng)
        training = [r.id for r in sorted((r for r in rows if r.kind == "training"), key=lambda r: r.position)]
        if chosen:
            conn.execute(update(Trial).where(Trial.id.in_(chosen)).values(assigned_count=Trial.assigned_count + 1))
        code = study.config.get("completion_code") or f"MB-{secrets.token_hex(5).upper()}"
        stage = "consent"
        rid = conn.execute(Rater.__table__.insert().values(
            study_id=study.id, token=token, external_id=(external_id or None), stage=stage,
            assignment_json=json.dumps(training + sequence), completion_code=code,
            created_at=utcnow())).inserted_primary_key[0]
    return RaterView(id=int(rid), token=token, study=study, stage=stage, assignment=tuple(training + sequence),
                     headphone=None, completion_code=code, finished=False)


def get_rater(store: Store, token: str) -> RaterView | None:
    """The rater with this resume token, or None."""
    if not token or len(token) > 64:
        return None
    with store.read() as conn:
        row = conn.execute(select(Rater.id, Rater.token, Rater.stage, Rater.assignment_json, Rater.headphone_json,
                                  Rater.completion_code, Rater.finished_at, *_STUDY_COLS)
                           .join(Study, Study.id == Rater.study_id).where(Rater.token == token)).first()
    if row is None:
        return None
    study = StudyView(id=row.s_id, name=row.s_name, public_id=row.s_public_id, title=row.s_title,
                      family=row.s_family, status=row.s_status, config=_config(row.s_id, row.s_config_json))
    return RaterView(id=row.id, token=row.token, study=study, stage=row.stage,
                     assignment=tuple(json.loads(row.assignment_json)),
                     headphone=json.loads(row.headphone_json) if row.headphone_json else None,
                     completion_code=row.completion_code, finished=row.finished_at is not None)


_STUDY_COLS = (Study.id.label("s_id"), Study.name.label("s_name"), Study.public_id.label("s_public_id"),
               Study.title.label("s_title"), Study.family.label("s_family"), Study.status.label("s_status"),
               Study.config_json.label("s_config_json"))
_CONFIGS: dict[tuple[int, str], dict[str, Any]] = {}


def _config(study_id: int, config_json: str) -> dict[str, Any]:
    key = (study_id, config_json)
    if key not in _CONFIGS:
        _CONFIGS[key] = json.loads(config_json)
    return _CONFIGS[key]


def _trial_rows(store: Store, conn, ids) -> dict[str, Any]:
    """Trial rows by id; trials never change once saved, so they are read once per store."""
    cache = store.cache["trials"]
    missing = [i for i in ids if i not in cache]
    if missing:
        for r in conn.execute(select(Trial.id, Trial.kind, Trial.questions, Trial.stimulus_id, Trial.source_id,
                                     Trial.caption).where(Trial.id.in_(missing))):
            cache[r.id] = r
    return {i: cache[i] for i in ids if i in cache}


def set_stage(store: Store, token: str, stage: str) -> None:
    if stage not in STAGES:
        raise BadInputError(f"unknown stage {stage!r} (known: {', '.join(STAGES)})")
    with store.write() as conn:
        values: dict[str, Any] = {"stage": stage}
        if stage == "done":
            values["finished_at"] = utcnow()
        conn.execute(update(Rater).where(Rater.token == token).values(**values))


def headphone_seed(rater: RaterView, k: int) -> int:
    """Seed of the rater's k-th headphone trial (from server-side ids, never sent to the browser)."""
    digest = hashlib.sha256(f"{rater.study.id}:{rater.id}:{rater.completion_code}:{k}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def record_headphone_check(store: Store, rater: RaterView, answers: list[int]) -> dict[str, Any]:
    """Score the antiphase headphone check, store it, move the rater on to the trials."""
    from .stimuli import headphone_check

    cfg = rater.study.config
    truth = [headphone_check(seed=headphone_seed(rater, k), sample_rate=8000, tone_s=0.05)[1]
             for k in range(len(answers))]
    correct = sum(int(a == t) for a, t in zip(answers, truth))
    result = {"answers": list(map(int, answers)), "correct": correct, "of": len(answers),
              "passed": correct >= int(cfg.get("headphone_pass", 0))}
    with store.write() as conn:
        conn.execute(update(Rater).where(Rater.id == rater.id).values(
            headphone_json=json.dumps(result), stage="trials"))
    return result


def answered_counts(store: Store, rater_id: int) -> dict[str, int]:
    with store.read() as conn:
        rows = conn.execute(select(Rating.trial_id, func.count()).where(Rating.rater_id == rater_id)
                            .group_by(Rating.trial_id)).all()
    return {t: int(n) for t, n in rows}


def next_trial(store: Store, rater: RaterView) -> TrialView | None:
    """The first trial of the rater's assignment not fully answered; None when all are."""
    with store.read() as conn:
        trials = _trial_rows(store, conn, rater.assignment)
        answered = {t: int(n) for t, n in conn.execute(
            select(Rating.trial_id, func.count()).where(Rating.rater_id == rater.id).group_by(Rating.trial_id))}
    main = [t for t in rater.assignment if trials[t].kind != "training"]
    done = sum(1 for t in main if answered.get(t, 0) >= len(trials[t].questions.split(",")))
    for tid in rater.assignment:
        t = trials[tid]
        qs = tuple(t.questions.split(","))
        if answered.get(tid, 0) < len(qs):
            return TrialView(id=t.id, kind=t.kind, questions=qs, stimulus_id=t.stimulus_id, source_id=t.source_id,
                             caption=t.caption, index=main.index(tid) if tid in main else -1, total=len(main),
                             done=done)
    return None


def submit_ratings(store: Store, *, token: str, trial_id: str, answers: Mapping[str, int],
                   response_ms: int | None = None, listen_fraction: float | None = None) -> int:
    """Store one trial's answers in one transaction; return how many were new (0 on a resubmit).

    Raises
    ------
    BadInputError
        Unknown rater token, a trial not assigned to the rater, a question the trial does not
        ask, or a value outside 1..5.
    """
    with store.write() as conn:
        rater = store.cache["raters"].get(token)
        if rater is None:  # a rater's id and assignment never change: read them once
            row = conn.execute(select(Rater.id, Rater.assignment_json).where(Rater.token == token)).first()
            if row is None:
                raise BadInputError("unknown rater token")
            rater = store.cache["raters"][token] = (row.id, frozenset(json.loads(row.assignment_json)))
        trial = _trial_rows(store, conn, [trial_id]).get(trial_id)
        if trial is None or trial_id not in rater[1]:
            raise BadInputError(f"trial {trial_id!r} is not assigned to this rater")
        asked = trial.questions.split(",")
        for q, v in answers.items():
            if q not in asked:
                raise BadInputError(f"trial {trial_id!r} does not ask question {q!r}")
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 1 <= int(v) <= 5:
                raise BadInputError(f"answer to {q!r} must be an integer 1..5, got {v!r}")
        now = utcnow()
        rows = [dict(rater_id=rater[0], trial_id=trial_id, question=q, value=int(v), created_at=now,
                     response_ms=response_ms, listen_fraction=listen_fraction) for q, v in answers.items()]
        if not rows:
            return 0
        return _insert_ignore(conn, rows)


def _insert_ignore(conn, rows: list[dict[str, Any]]) -> int:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = (insert(Rating).values(rows).on_conflict_do_nothing(index_elements=["rater_id", "trial_id", "question"])
            .returning(Rating.id))  # RETURNING lists only the rows inserted (rowcount is unreliable here)
    return len(conn.execute(stmt).all())


def stimulus_wav(store: Store, stimulus_id: str) -> bytes:
    """The WAV bytes of a stimulus (loudness-normalised at study creation)."""
    with store.read() as conn:
        data = conn.execute(select(Stimulus.audio).where(Stimulus.id == stimulus_id)).scalar()
    if data is None:
        raise MissingDataError(f"no stimulus {stimulus_id!r}")
    return bytes(data)
