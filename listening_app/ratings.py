"""The storage path of the rater's flow: raters, stages, trials and rating submits.

Every submit is one short write transaction, committed before the app moves on; the unique
constraint (rater, trial, question) with ``ON CONFLICT DO NOTHING`` makes a double submit a
no-op (the first answer stands). A rater's position is derived from the ratings stored, so an
app restart or a closed tab loses nothing: the resume link (with the rater's unguessable token)
continues at the first trial that is not fully answered.

Checks the browser cannot forge live here, on the server: when a trial (or the headphone check)
is first shown, :func:`show` records the time in ``views``; an answer that arrives sooner than
``min_listen_fraction`` of the clip's duration after that is refused (:class:`TooEarlyError`),
whatever the browser's player reports. Answers outside a question's scale are refused too.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from collections.abc import Mapping

import numpy as np
from sqlalchemy import func, select, update, insert as sa_insert

from musebench.errors import BadInputError, ConfigError, MissingDataError

from .assignment import choose_balanced, insert_checks, spread_items
from .questions import QUESTIONS
from .store import AudioGrant, Rater, Rating, Stimulus, Store, Study, Trial, View, utcnow

STAGES = ("consent", "headphones", "trials", "done")
HEADPHONES = "headphones"  # the views key of the headphone check


class RefusedError(BadInputError):
    """A request the server refuses; the message is one line fit to show the rater."""


class TooEarlyError(RefusedError):
    """An answer sooner after showing the trial than the clip's required listening time."""


def now() -> datetime:
    """The server's clock for the listening checks (tests replace it)."""
    return utcnow()


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=timezone.utc)  # SQLite returns naive UTC


@dataclass(frozen=True)
class StudyView:
    id: int
    name: str
    public_id: str
    title: str
    family: str
    status: str
    config: dict[str, Any]

    @property
    def protocol(self) -> str:
        return str(self.config.get("protocol") or "acr")


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
    external_id: str | None = None


@dataclass(frozen=True)
class TrialView:
    id: str
    kind: str
    questions: tuple[str, ...]
    stimulus_id: str
    source_id: str | None
    caption: str | None
    index: int          # 0-based position among the rater's non-training trials (-1: training)
    total: int          # the rater's non-training trials (MUSHRA: pages)
    done: int           # non-training trials (pages) fully answered
    other_id: str | None = None                 # A/B: clip B
    members: tuple[tuple[str, str], ...] = ()   # MUSHRA: (trial id, stimulus id) rated on this page
    page: str | None = None                     # MUSHRA: the page id

    @property
    def view_key(self) -> str:
        """What ``views`` records for this trial: the trial id, or the page id (MUSHRA)."""
        return self.page or self.id

    def clip_ids(self) -> list[str]:
        """Every stimulus the page plays for this trial (what the rater is granted over HTTP)."""
        ids = [self.source_id] if self.source_id else []
        ids += [m[1] for m in self.members] if self.members else [self.stimulus_id]
        return ids + ([self.other_id] if self.other_id else [])


def _study_view(row: Any) -> StudyView:  # a Study row (select of its table)
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
        from musebench.errors import UnknownNameError

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


def _units(rows) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """Trials grouped into what a rater is assigned: one trial, or one MUSHRA page of trials."""
    units: dict[str, list[str]] = {}
    first: dict[str, Any] = {}
    for r in rows:
        u = r.page or r.id
        units.setdefault(u, []).append(r.id)
        first.setdefault(u, r)
    return units, first


def start_rater(store: Store, *, public_id: str, external_id: str | None = None) -> RaterView:
    """Create a rater with a balanced, randomised assignment; return it (with its resume token).

    The assignment takes the ``per_rater`` least-rated test trials (MUSHRA: pages) under a lock,
    so concurrent starts stay balanced, and only trials below ``raters_per_trial`` raters; it
    shuffles them with items spread apart, mixes in every gold and trap trial, and puts the
    training trials first. A second start with the same crowd-platform ``external_id`` returns
    the first rater (``duplicate_workers="resume"``) or is refused; the check runs under the same
    lock, so two simultaneous starts with one worker id still make one rater.

    Raises
    ------
    RefusedError
        The study is closed, full (every trial has ``raters_per_trial`` raters), or this worker
        id has already taken part and the study refuses duplicates.
    """
    external_id = (external_id or "").strip()[:200] or None
    with store.write() as conn:
        srow = conn.execute(select(Study.__table__).where(Study.public_id == public_id)).first()
        if srow is None:
            raise MissingDataError(f"no study with public id {public_id!r}")
        study = _study_view(srow)
        if study.status != "open":
            raise RefusedError("This study is closed.")
        rows = conn.execute(select(Trial.id, Trial.kind, Trial.position, Trial.assigned_count, Trial.page,
                                   Stimulus.item)
                            .join(Stimulus, Stimulus.id == Trial.stimulus_id)
                            .where(Trial.study_id == study.id).order_by(Trial.id).with_for_update(of=Trial)).all()
        prev = None
        if external_id is not None:
            prev = conn.execute(select(Rater.token).where(Rater.study_id == study.id, Rater.external_id == external_id)
                                .order_by(Rater.id).limit(1)).scalar()
            if prev is not None and study.config.get("duplicate_workers", "resume") == "refuse":
                raise RefusedError("This worker id has already taken part in this study.")
        if prev is None:
            token = secrets.token_urlsafe(24)
            rid, assignment, code = _assign(conn, study, rows, token, external_id)
    if prev is not None:
        view = get_rater(store, prev)
        assert view is not None
        return view
    return RaterView(id=rid, token=token, study=study, stage="consent", assignment=tuple(assignment),
                     headphone=None, completion_code=code, finished=False, external_id=external_id)


def _assign(conn, study: StudyView, rows, token: str, external_id: str | None) -> tuple[int, list[str], str]:
    rng = np.random.default_rng(secrets.randbits(64))
    units, first = _units(rows)
    tests = {u: first[u].assigned_count for u in units if first[u].kind == "test"}
    cap = study.config.get("raters_per_trial")
    if cap:
        tests = {u: n for u, n in tests.items() if n < int(cap)}
        if not tests:
            raise RefusedError("This study has all the ratings it needs. Thank you for your interest.")
    items = {u: first[u].item for u in units}
    n = study.config.get("per_rater") or len(tests)
    chosen = choose_balanced(tests, n, rng=rng)
    checks = [u for u in units if first[u].kind in ("gold", "trap")]
    rng.shuffle(checks)
    sequence = insert_checks(spread_items(chosen, items, rng=rng), checks, rng=rng)
    training = sorted((u for u in units if first[u].kind == "training"), key=lambda u: (first[u].position, u))

    def expand(us: list[str]) -> list[str]:
        out: list[str] = []
        for u in us:
            members = list(units[u])
            rng.shuffle(members)  # MUSHRA: a fresh order of the conditions on each page
            out += members
        return out

    assignment = expand(training) + expand(sequence)
    chosen_trials = [t for u in chosen for t in units[u]]
    if chosen_trials:
        conn.execute(update(Trial).where(Trial.id.in_(chosen_trials)).values(assigned_count=Trial.assigned_count + 1))
    code = study.config.get("completion_code") or f"MB-{secrets.token_hex(5).upper()}"
    rid = conn.execute(sa_insert(Rater).values(
        study_id=study.id, token=token, external_id=external_id, stage="consent",
        assignment_json=json.dumps(assignment), completion_code=code, created_at=utcnow())).inserted_primary_key[0]
    return int(rid), assignment, code


def get_rater(store: Store, token: str) -> RaterView | None:
    """The rater with this resume token, or None."""
    if not token or len(token) > 64:
        return None
    with store.read() as conn:
        row = conn.execute(select(Rater.id, Rater.token, Rater.stage, Rater.assignment_json, Rater.headphone_json,
                                  Rater.completion_code, Rater.finished_at, Rater.external_id, *_STUDY_COLS)
                           .join(Study, Study.id == Rater.study_id).where(Rater.token == token)).first()
    if row is None:
        return None
    study = StudyView(id=row.s_id, name=row.s_name, public_id=row.s_public_id, title=row.s_title,
                      family=row.s_family, status=row.s_status, config=_config(row.s_id, row.s_config_json))
    return RaterView(id=row.id, token=row.token, study=study, stage=row.stage,
                     assignment=tuple(json.loads(row.assignment_json)),
                     headphone=json.loads(row.headphone_json) if row.headphone_json else None,
                     completion_code=row.completion_code, finished=row.finished_at is not None,
                     external_id=row.external_id)


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
                                     Trial.caption, Trial.other_id, Trial.page).where(Trial.id.in_(missing))):
            cache[r.id] = r
    return {i: cache[i] for i in ids if i in cache}


def _durations(store: Store, conn, ids) -> dict[str, float]:
    """Stimulus durations (s) by id, read once per store."""
    cache = store.cache.setdefault("durations", {})
    missing = [i for i in set(ids) if i and i not in cache]
    if missing:
        for sid, d in conn.execute(select(Stimulus.id, Stimulus.duration_s).where(Stimulus.id.in_(missing))):
            cache[sid] = float(d)
    return cache


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


# --------------------------------------------------------------------------- the server's listening clock
def audio_name(rater: RaterView | str, stimulus_id: str) -> str:
    """The opaque name under which ``stimulus_id`` is served to this rater: HMAC(token, stimulus id)."""
    token = rater if isinstance(rater, str) else rater.token
    return hmac.new(token.encode(), stimulus_id.encode(), hashlib.sha256).hexdigest()[:32]


def show(store: Store, rater: RaterView, what: str, stimulus_ids=()) -> datetime:
    """Record that ``what`` (a trial's :attr:`TrialView.view_key` or :data:`HEADPHONES`) is shown now.

    The first showing stands (a rerun, reload or resume does not restart the clock). The rater is
    granted the clips ``stimulus_ids`` over HTTP under :func:`audio_name`. Returns when it was first
    shown.
    """
    rows = [dict(rater_id=rater.id, what=what, shown_at=now())]
    grants = [dict(name=audio_name(rater, s), rater_id=rater.id, stimulus_id=s) for s in dict.fromkeys(stimulus_ids)]
    with store.write() as conn:
        _insert_ignore(conn, View, rows, ["rater_id", "what"], returning=False)
        if grants:
            _insert_ignore(conn, AudioGrant, grants, ["name"], returning=False)
        shown = conn.execute(select(View.shown_at).where(View.rater_id == rater.id, View.what == what)).scalar()
    assert shown is not None  # inserted above (or kept from the first showing)
    return _aware(shown)


def _check_time(conn, rater_id: int, what: str, need_s: float, what_text: str, at: datetime) -> datetime:
    """Refuse an answer given ``at`` sooner than ``need_s`` after ``what`` was shown; return the time shown."""
    shown = conn.execute(select(View.shown_at).where(View.rater_id == rater_id, View.what == what)).scalar()
    if shown is None:
        if need_s <= 0:
            return at
        raise RefusedError(f"{what_text} was never shown to this rater: answer refused")
    shown = _aware(shown)
    waited = (at - shown).total_seconds()
    if waited < need_s:
        raise TooEarlyError(f"Answer refused: {waited:.1f} s after {what_text} was shown, but listening takes "
                            f"at least {need_s:.1f} s. Please listen to the end, then answer again.")
    return shown


def required_seconds(store: Store, conn, trial: Any, config: Mapping[str, Any], members=()) -> float:
    """Listening time the server requires before accepting an answer to ``trial``.

    ``min_listen_fraction`` of: the clip (ACR); the reference plus the clip (DCR); both clips (A/B);
    the longest clip of the page (MUSHRA: raters switch between clips, one full pass is required).
    """
    frac = float(config.get("min_listen_fraction", 0.9))
    if frac <= 0:
        return 0.0
    proto = config.get("protocol") or "acr"
    ids = [trial.stimulus_id, trial.source_id, trial.other_id] + [m[1] for m in members]
    d = _durations(store, conn, ids)
    if members:
        return frac * max(d[m[1]] for m in members)
    total = d[trial.stimulus_id]
    if proto == "dcr" and trial.source_id:
        total += d[trial.source_id]
    if trial.other_id:
        total += d[trial.other_id]
    return frac * total


def record_headphone_check(store: Store, rater: RaterView, answers: list[int]) -> dict[str, Any]:
    """Score the antiphase headphone check, store it, move the rater on to the trials.

    Refused (:class:`TooEarlyError`) sooner than ``min_listen_fraction`` of the check's clips after
    the check was shown.
    """
    from .stimuli import HEADPHONE_TRIAL_S, headphone_check

    cfg = rater.study.config
    n = int(cfg.get("headphone_trials", 0))
    if len(answers) != n or any(isinstance(a, bool) or a not in (1, 2, 3) for a in answers):
        raise RefusedError(f"the headphone check needs {n} answers, each 1, 2 or 3")
    truth = [headphone_check(seed=headphone_seed(rater, k), sample_rate=8000, tone_s=0.05)[1]
             for k in range(len(answers))]
    correct = sum(int(a == t) for a, t in zip(answers, truth))
    at = now()
    with store.write() as conn:
        shown = _check_time(conn, rater.id, HEADPHONES, float(cfg.get("min_listen_fraction", 0.9)) * n
                            * HEADPHONE_TRIAL_S, "the headphone check", at)
        result = {"answers": list(map(int, answers)), "correct": correct, "of": len(answers),
                  "passed": correct >= int(cfg.get("headphone_pass", 0)),
                  "seconds": round((at - shown).total_seconds(), 3)}
        conn.execute(update(Rater).where(Rater.id == rater.id).values(
            headphone_json=json.dumps(result), stage="trials"))
    return result


def answered_counts(store: Store, rater_id: int) -> dict[str, int]:
    with store.read() as conn:
        rows = conn.execute(select(Rating.trial_id, func.count()).where(Rating.rater_id == rater_id)
                            .group_by(Rating.trial_id)).all()
    return {t: int(n) for t, n in rows}


def next_trial(store: Store, rater: RaterView) -> TrialView | None:
    """The first trial (MUSHRA: page) of the rater's assignment not fully answered; None when all are."""
    with store.read() as conn:
        trials = _trial_rows(store, conn, rater.assignment)
        answered = {t: int(n) for t, n in conn.execute(
            select(Rating.trial_id, func.count()).where(Rating.rater_id == rater.id).group_by(Rating.trial_id))}

    def unit(t) -> str:
        return t.page or t.id

    def complete(tid: str) -> bool:
        return answered.get(tid, 0) >= len(trials[tid].questions.split(","))

    pages: dict[str, list[str]] = {}
    for tid in rater.assignment:
        pages.setdefault(unit(trials[tid]), []).append(tid)
    main = [u for u in pages if trials[pages[u][0]].kind != "training"]
    done = sum(1 for u in main if all(complete(t) for t in pages[u]))
    for u, members in pages.items():
        if all(complete(t) for t in members):
            continue
        t = trials[members[0]]
        qs = tuple(t.questions.split(","))
        mem = tuple((m, trials[m].stimulus_id) for m in members) if t.page else ()
        return TrialView(id=t.id, kind=t.kind, questions=qs, stimulus_id=t.stimulus_id, source_id=t.source_id,
                         caption=t.caption, index=main.index(u) if u in main else -1, total=len(main), done=done,
                         other_id=t.other_id, members=mem, page=t.page)
    return None


def _rater_row(store: Store, conn, token: str) -> tuple[int, frozenset, dict[str, Any]]:
    rater = store.cache["raters"].get(token)
    if rater is None:  # a rater's id, assignment and study never change: read them once
        row = conn.execute(select(Rater.id, Rater.assignment_json, Study.id.label("sid"), Study.config_json)
                           .join(Study, Study.id == Rater.study_id).where(Rater.token == token)).first()
        if row is None:
            raise BadInputError("unknown rater token")
        rater = store.cache["raters"][token] = (row.id, frozenset(json.loads(row.assignment_json)),
                                                _config(row.sid, row.config_json))
    return rater


def _validate(trial_id: str, asked: list[str], answers: Mapping[str, Any]) -> None:
    for q, v in answers.items():
        if q not in asked:
            raise BadInputError(f"trial {trial_id!r} does not ask question {q!r}")
        question = QUESTIONS.get(q)
        if question is None or not question.valid(v):
            lo, hi = (question.low, question.high) if question else (1, 5)
            raise RefusedError(f"answer to {q!r} must be an integer {lo}..{hi}, got {v!r}")


def submit_ratings(store: Store, *, token: str, trial_id: str, answers: Mapping[str, int],
                   response_ms: int | None = None, listen_fraction: float | None = None) -> int:
    """Store one trial's answers in one transaction; return how many were new (0 on a resubmit).

    Raises
    ------
    BadInputError
        Unknown rater token, a trial not assigned to the rater, a question the trial does not
        ask.
    RefusedError
        A value outside the question's scale; :class:`TooEarlyError` when the answer comes
        sooner after the trial was shown than its listening time (:func:`required_seconds`).
    """
    with store.write() as conn:
        rid, assignment, config = _rater_row(store, conn, token)
        trial = _trial_rows(store, conn, [trial_id]).get(trial_id)
        if trial is None or trial_id not in assignment:
            raise BadInputError(f"trial {trial_id!r} is not assigned to this rater")
        if trial.page:
            raise BadInputError(f"trial {trial_id!r} is rated on a MUSHRA page: use submit_page")
        _validate(trial_id, trial.questions.split(","), answers)
        if not answers:
            return 0
        dup = conn.execute(select(func.count()).select_from(Rating).where(Rating.rater_id == rid,
                                                                         Rating.trial_id == trial_id)).scalar()
        t = now()
        if not dup:  # a resubmit of a stored answer is a harmless no-op, not a timing question
            _check_time(conn, rid, trial_id, required_seconds(store, conn, trial, config), "the clip", t)
        rows = [dict(rater_id=rid, trial_id=trial_id, question=q, value=int(v), created_at=t,
                     response_ms=response_ms, listen_fraction=listen_fraction) for q, v in answers.items()]
        return _insert_ignore(conn, Rating, rows, ["rater_id", "trial_id", "question"])


def submit_page(store: Store, *, token: str, answers: Mapping[str, int], response_ms: int | None = None,
                listen_fraction: float | None = None) -> int:
    """Store a MUSHRA page (``{trial id: 0..100}``, every trial of the page) in one transaction.

    Raises
    ------
    BadInputError, RefusedError
        As :func:`submit_ratings`; also when the answers are not exactly the page's trials.
    """
    with store.write() as conn:
        rid, assignment, config = _rater_row(store, conn, token)
        ids = list(answers)
        rows_ = _trial_rows(store, conn, ids)
        if not ids or any(i not in assignment or i not in rows_ for i in ids):
            raise BadInputError("a MUSHRA page answer names a trial not assigned to this rater")
        page = rows_[ids[0]].page
        members = [t for t in assignment if _trial_rows(store, conn, [t])[t].page == page] if page else []
        if not page or sorted(members) != sorted(ids):
            raise BadInputError("a MUSHRA page answer must rate every clip of one page")
        for tid, v in answers.items():
            _validate(tid, ["mushra"], {"mushra": v})
        order = [t for t in assignment if t in answers]
        dup = conn.execute(select(func.count()).select_from(Rating).where(Rating.rater_id == rid,
                                                                         Rating.trial_id.in_(ids))).scalar()
        t = now()
        if not dup:
            mem = [(m, rows_[m].stimulus_id) for m in order]
            _check_time(conn, rid, page, required_seconds(store, conn, rows_[order[0]], config, mem), "the page", t)
        rows = [dict(rater_id=rid, trial_id=tid, question="mushra", value=int(v), created_at=t,
                     response_ms=response_ms, listen_fraction=listen_fraction) for tid, v in answers.items()]
        return _insert_ignore(conn, Rating, rows, ["rater_id", "trial_id", "question"])


def _insert_ignore(conn, table, rows: list[dict[str, Any]], keys: list[str], *, returning: bool = True) -> int:
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).values(rows).on_conflict_do_nothing(index_elements=keys)
    if not returning:
        conn.execute(stmt)
        return 0
    # RETURNING lists only the rows inserted (rowcount is unreliable here)
    return len(conn.execute(stmt.returning(table.__table__.c[next(iter(table.__table__.primary_key)).name])).all())


def stimulus_wav(store: Store, stimulus_id: str) -> bytes:
    """The WAV bytes of a stimulus (loudness-normalised at study creation)."""
    with store.read() as conn:
        data = conn.execute(select(Stimulus.audio).where(Stimulus.id == stimulus_id)).scalar()
    if data is None:
        raise MissingDataError(f"no stimulus {stimulus_id!r}")
    return bytes(data)


def granted_stimulus(store: Store, name: str) -> tuple[str, str] | None:
    """(stimulus id, sha256) of the clip granted under ``name`` (see :func:`show`), or None."""
    with store.read() as conn:
        row = conn.execute(select(Stimulus.id, Stimulus.sha256).join(AudioGrant, AudioGrant.stimulus_id == Stimulus.id)
                           .where(AudioGrant.name == name)).first()
    return (row.id, row.sha256) if row is not None else None


# --------------------------------------------------------------------------- completion codes
def completion_link(url: str, code: str) -> str:
    """``url`` with the completion code: ``{code}`` replaced, or ``cc=<code>`` appended."""
    from urllib.parse import quote

    if "{code}" in url:
        return url.replace("{code}", quote(code, safe=""))
    return url + ("&" if "?" in url else "?") + "cc=" + quote(code, safe="")
