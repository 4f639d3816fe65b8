"""Storage on SQLite and on a real PostgreSQL server started by the tests: migrations, idempotent
submits, restart (including kill -9), and 24 raters submitting at once."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from musebench.errors import BadInputError, ConfigError
from musebench.listening_app import ratings as R
from musebench.listening_app.store import SCHEMA_VERSION, Base, Rating, Store, Trial
from musebench.listening_app.study import StudyConfig, build_study, entries_from_manifest, save_study
from musebench.listening_app.synthetic import make_study_folder
from musebench.testing.postgres import fresh_database, pg_bin, postgres_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pg_server():
    if pg_bin() is None:
        pytest.skip("PostgreSQL binaries not found in /usr/lib/postgresql/*/bin (apt-get install -y postgresql)")
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/studies.db"
    server = request.getfixturevalue("pg_server")
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50]
    return fresh_database(server, name)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("audio")
    make_study_folder(folder, conditions=["SecretAlpha", "SecretBeta", "SecretGamma"], n_items=3, seconds=0.3,
                      sample_rate=8000)
    return build_study(entries_from_manifest(folder), StudyConfig(
        name="st", sample_rate=8000, max_seconds=0.3, per_rater=6, n_gold=1, n_traps=1, headphone_trials=0,
        headphone_pass=0, min_listen_fraction=0.0))  # storage tests: the listening clock is tested elsewhere


@pytest.fixture
def store(url, built):
    s = Store(url)
    save_study(s, built)
    yield s
    s.dispose()


def rate_all(store: Store, token: str, value: int = 3, *, double: bool = False) -> int:
    n = 0
    while (t := R.next_trial(store, R.get_rater(store, token))) is not None:
        ans = {q: value for q in t.questions}
        n += R.submit_ratings(store, token=token, trial_id=t.id, answers=ans)
        if double:
            assert R.submit_ratings(store, token=token, trial_id=t.id, answers=ans) == 0
    return n


def test_fresh_schema_matches_the_models(store):
    assert store.schema_version() == SCHEMA_VERSION
    insp = inspect(store.engine)
    for table in Base.metadata.sorted_tables:
        assert {c["name"] for c in insp.get_columns(table.name)} == set(table.columns.keys()), table.name
    assert store.migrate() == []  # idempotent


def test_upgrade_from_version_1_keeps_data(url):
    s1 = Store(url, migrate=False)
    assert s1.migrate(target=1) == [1]
    with s1.write() as conn:
        conn.execute(text("INSERT INTO studies (id, name, public_id, title, family, config_json, status, created_at) "
                          "VALUES (1, 'old', 'pub', 'T', 'generation', '{}', 'open', CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO stimuli (id, study_id, item, role, audio, sha256, sample_rate, duration_s, "
                          "gain_db, peak_dbfs, info_json) VALUES ('s1', 1, 'i', 'test', :a, 'x', 8000, 1, 0, -3, '{}')"),
                     {"a": b"RIFF"})
        conn.execute(text("INSERT INTO trials (id, study_id, stimulus_id, kind, questions, position, assigned_count) "
                          "VALUES ('t1', 1, 's1', 'test', 'quality', 0, 1)"))
        conn.execute(text("INSERT INTO raters (id, study_id, token, stage, assignment_json, completion_code, "
                          "created_at) VALUES (1, 1, 'tok', 'trials', '[\"t1\"]', 'C', CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO ratings (rater_id, trial_id, question, value, created_at) "
                          "VALUES (1, 't1', 'quality', 4, CURRENT_TIMESTAMP)"))
    s1.dispose()
    s2 = Store(url)
    assert s2.schema_version() == 3
    with s2.read() as conn:
        rows = conn.execute(select(Rating.value, Rating.listen_fraction)).all()
        trial = conn.execute(text("SELECT other_id, page FROM trials")).all()
    assert [tuple(r) for r in rows] == [(4, None)] and [tuple(t) for t in trial] == [(None, None)]
    assert R.submit_ratings(s2, token="tok", trial_id="t1", answers={"quality": 1}) == 0  # unique kept
    s2.dispose()


def test_newer_schema_is_refused(url):
    s = Store(url)
    with s.write() as conn:
        conn.execute(text("INSERT INTO schema_version (version, description, applied_at) "
                          "VALUES (99, 'future', CURRENT_TIMESTAMP)"))
    with pytest.raises(ConfigError, match=r"database schema version 99 is newer than this MuseBench understands "
                                          r"\(3\); upgrade MuseBench$"):
        s.migrate()
    s.dispose()


def test_submit_is_idempotent_and_validated(store, built):
    r = R.start_rater(store, public_id=built.public_id, external_id="worker-1")
    assert r.stage == "consent" and len(r.assignment) == 4 + 6 + 2
    t = R.next_trial(store, r)
    assert t.kind == "training" and t.index == -1 and (t.done, t.total) == (0, 8)
    assert R.submit_ratings(store, token=r.token, trial_id=t.id, answers={"quality": 5, "similarity": 4},
                            listen_fraction=1.0) == 2
    assert R.submit_ratings(store, token=r.token, trial_id=t.id, answers={"quality": 1, "similarity": 1}) == 0
    with store.read() as conn:
        vals = sorted(tuple(x) for x in conn.execute(select(Rating.question, Rating.value, Rating.listen_fraction)))
    assert vals == [("quality", 5, 1.0), ("similarity", 4, 1.0)]
    with pytest.raises(BadInputError, match=r"^unknown rater token$"):
        R.submit_ratings(store, token="nope", trial_id=t.id, answers={"quality": 3})
    other = [tr.id for tr in built.trials if tr.id not in r.assignment][0]
    with pytest.raises(BadInputError, match=rf"^trial '{other}' is not assigned to this rater$"):
        R.submit_ratings(store, token=r.token, trial_id=other, answers={"quality": 3})
    nxt = R.next_trial(store, R.get_rater(store, r.token))
    with pytest.raises(BadInputError, match=r"^answer to 'quality' must be an integer 1..5, got 6$"):
        R.submit_ratings(store, token=r.token, trial_id=nxt.id, answers={"quality": 6})
    with pytest.raises(BadInputError, match=rf"^trial '{nxt.id}' does not ask question 'loudness'$"):
        R.submit_ratings(store, token=r.token, trial_id=nxt.id, answers={"loudness": 3})
    assert R.get_rater(store, "x" * 65) is None and R.get_rater(store, "missing") is None


def test_restart_loses_nothing(url, built):
    s = Store(url)
    save_study(s, built)
    r = R.start_rater(s, public_id=built.public_id)
    R.set_stage(s, r.token, "trials")
    for _ in range(5):
        t = R.next_trial(s, R.get_rater(s, r.token))
        R.submit_ratings(s, token=r.token, trial_id=t.id, answers={q: 4 for q in t.questions})
    s.dispose()  # the app stops
    s2 = Store(url)  # ... and starts again
    again = R.get_rater(s2, r.token)
    assert again.stage == "trials" and again.assignment == r.assignment
    t = R.next_trial(s2, again)
    assert t.id == r.assignment[5] and t.done == 1  # 4 training + 1 main trial answered
    assert rate_all(s2, r.token) == 2 * (len(r.assignment) - 5)
    s2.dispose()


def test_kill_9_after_submit_loses_nothing(tmp_path, built):
    url = f"sqlite:///{tmp_path}/kill.db"
    s = Store(url)
    save_study(s, built)
    r = R.start_rater(s, public_id=built.public_id)
    t = R.next_trial(s, r)
    code = ("import os\n"
            "from musebench.listening_app.store import Store; from musebench.listening_app import ratings as R\n"
            f"s = Store({url!r}); R.submit_ratings(s, token={r.token!r}, trial_id={t.id!r}, "
            "answers={'quality': 2, 'similarity': 5}); print('stored', flush=True); os.kill(os.getpid(), 9)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9 and proc.stdout == "stored\n"
    s.dispose()
    s2 = Store(url)
    with s2.read() as conn:
        assert sorted(tuple(x) for x in conn.execute(select(Rating.question, Rating.value))) == [
            ("quality", 2), ("similarity", 5)]
    assert R.next_trial(s2, R.get_rater(s2, r.token)).id == r.assignment[1]
    s2.dispose()


def test_24_raters_at_once_no_lost_or_duplicated_ratings(store, built):
    n_raters = 24
    barrier = threading.Barrier(n_raters)
    stored: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        try:
            barrier.wait(timeout=30)
            r = R.start_rater(store, public_id=built.public_id, external_id=f"w{k}")
            n = rate_all(store, r.token, value=1 + k % 5, double=(k % 3 == 0))
            with lock:
                stored.append(n)
        except Exception as exc:  # pragma: no cover - reported by the assert below
            with lock:
                errors.append(f"{k}: {exc!r}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_raters)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and len(stored) == n_raters
    per_rater = 2 * (4 + 6 + 2)
    assert stored == [per_rater] * n_raters
    with store.read() as conn:
        total = conn.execute(select(func.count()).select_from(Rating)).scalar()
        distinct = conn.execute(select(func.count()).select_from(
            select(Rating.rater_id, Rating.trial_id, Rating.question).distinct().subquery())).scalar()
        counts = [c for (c,) in conn.execute(select(Trial.assigned_count).where(Trial.kind == "test"))]
    assert total == distinct == n_raters * per_rater
    assert sum(counts) == n_raters * 6 and max(counts) - min(counts) <= 1  # balanced under concurrency


def test_simultaneous_double_submits_store_one_rating(store, built):
    r = R.start_rater(store, public_id=built.public_id)
    t = R.next_trial(store, r)
    barrier = threading.Barrier(10)
    results: list[int] = []

    def submit(v: int) -> None:
        barrier.wait(timeout=30)
        results.append(R.submit_ratings(store, token=r.token, trial_id=t.id, answers={"quality": v, "similarity": v}))

    threads = [threading.Thread(target=submit, args=(1 + k % 5,)) for k in range(10)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert sorted(results) == [0] * 9 + [2]
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(Rating)).scalar() == 2


def test_closed_study_refuses_new_raters(store, built):
    R.set_study_status(store, "st", "closed")
    with pytest.raises(R.RefusedError, match=r"^This study is closed.$"):
        R.start_rater(store, public_id=built.public_id)
    with pytest.raises(ConfigError, match=r"^study status must be 'open' or 'closed', not 'paused'$"):
        R.set_study_status(store, "st", "paused")


def test_save_study_twice_needs_replace(store, built):
    with pytest.raises(ConfigError, match=r"^study 'st' already exists in .* \(use --replace or another name\)$"):
        save_study(store, built)
    save_study(store, built, replace=True)  # no rater yet: allowed
    R.start_rater(store, public_id=built.public_id)
    with pytest.raises(ConfigError, match=r"^study 'st' has 1 rater\(s\); refusing to replace it$"):
        save_study(store, built, replace=True)


def test_unsupported_and_memory_urls():
    with pytest.raises(ConfigError, match=r"unsupported database 'mysql'"):
        Store("mysql://u@127.0.0.1/x", migrate=False)
    with pytest.raises(ConfigError, match=r"in-memory SQLite is one per connection"):
        Store("sqlite://")
    assert json.loads(json.dumps({"ok": True}))
