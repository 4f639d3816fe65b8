"""The Streamlit app with AppTest: the rater's flow, resume, bad links, admin and leaderboard pages,
and that nothing a rater's page renders contains a condition (model) name."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from musebench.listening_app import ratings as R
from musebench.listening_app.store import Rating, Store
from musebench.listening_app.study import StudyConfig, build_study, entries_from_manifest, save_study
from musebench.listening_app.synthetic import make_study_folder

APP = str(Path(__file__).resolve().parents[2] / "listening_app" / "app.py")
NAMES = [b"SecretAlpha", b"SecretBeta", b"secretalpha", b"secretbeta"]


class Clock:
    """The server's listening clock, advanced by hand (``step`` seconds per reading by default)."""

    def __init__(self, step: float = 60.0):
        self.t = datetime(2026, 1, 1, tzinfo=timezone.utc)
        self.step = step

    def __call__(self) -> datetime:
        self.t += timedelta(seconds=self.step)
        return self.t


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(R, "now", c)
    return c


@pytest.fixture
def env(tmp_path, monkeypatch, clock):
    url = f"sqlite:///{tmp_path}/app.db"
    monkeypatch.setenv("MUSEBENCH_LISTENING_DB", url)
    monkeypatch.delenv("MUSEBENCH_ADMIN_SECRET", raising=False)
    make_study_folder(tmp_path / "audio", conditions=["SecretAlpha", "SecretBeta"], n_items=2, seconds=0.3,
                      sample_rate=8000)
    built = build_study(entries_from_manifest(tmp_path / "audio"), StudyConfig(
        name="apptest", title="Music listening test", sample_rate=8000, max_seconds=0.3, n_gold=1, n_traps=1,
        headphone_trials=1, headphone_pass=1, completion_code="DONE-123"))
    store = Store(url)
    save_study(store, built)
    yield store, built
    store.dispose()


def new_app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60)


def element_bytes(at: AppTest) -> bytes:
    """Serialized protos of every element on the page: what the browser would receive."""
    out = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "SerializeToString"):
            out.append(proto.SerializeToString())
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return b"".join(out)


def assert_no_names(at: AppTest) -> None:
    data = element_bytes(at)
    assert len(data) > 100
    for name in NAMES:
        assert name not in data


def play(at: AppTest, key: str) -> None:
    """What the player component reports when a clip has been played to its end."""
    at.session_state[key] = {"listened": 1.0}


def test_rater_flow_from_consent_to_completion_code(env):
    store, built = env
    at = new_app()
    at.query_params["study"] = built.public_id
    at.query_params["worker"] = "PROLIFIC-42"
    at.run()
    assert not at.exception
    assert at.title[0].value == "Music listening test"
    assert at.button(key="consent_start").disabled
    at.checkbox(key="consent_agree").check().run()
    at.button(key="consent_start").click().run()
    token = at.query_params["r"][0] if isinstance(at.query_params["r"], list) else at.query_params["r"]
    assert set(at.query_params) == {"r"} and len(token) == 32
    assert at.title[0].value == "Volume and headphone check"
    assert at.radio(key="hp-answer-0").disabled  # not played yet
    assert_no_names(at)
    play(at, "hp-0")
    at.run()
    at.radio(key="hp-answer-0").set_value(2).run()
    at.button(key="hp-continue").click().run()
    rater = R.get_rater(store, token)
    assert rater.stage == "trials" and rater.headphone["of"] == 1 and rater.headphone["answers"] == [2]
    seen_kinds = []
    for _ in range(40):
        if at.title and at.title[0].value == "Thank you!":
            break
        tid = at.session_state["current_trial"]
        seen_kinds.append("training" if at.subheader and at.subheader[0].value == "Training" else "main")
        radios = [at.radio(key=f"ans-{tid}-{q}") for q in ("quality", "similarity")]
        assert all(r.disabled for r in radios) and at.button(key=f"submit-{tid}").disabled
        assert [o for o in radios[0].options] == ["5 - Excellent", "4 - Good", "3 - Fair", "2 - Poor", "1 - Bad"]
        assert_no_names(at)
        play(at, f"stim-{tid}")
        at.run()
        assert not at.radio(key=f"ans-{tid}-quality").disabled
        assert at.button(key=f"submit-{tid}").disabled  # not answered yet
        at.radio(key=f"ans-{tid}-quality").set_value(4)
        at.radio(key=f"ans-{tid}-similarity").set_value(3)
        at.run()
        at.button(key=f"submit-{tid}").click().run()
        assert not at.exception
    assert at.title[0].value == "Thank you!" and at.code[0].value == "DONE-123"
    rater = R.get_rater(store, token)
    assert rater.finished and rater.stage == "done"
    assert seen_kinds[:4] == ["training"] * 4 and seen_kinds[4:] == ["main"] * (len(rater.assignment) - 4)
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(Rating)).scalar() == 2 * len(rater.assignment)
        fractions = {f for (f,) in conn.execute(select(Rating.listen_fraction))}
    assert fractions == {1.0}


def test_resume_from_link_continues_where_the_rater_stopped(env):
    store, built = env
    r = R.start_rater(store, public_id=built.public_id)
    R.set_stage(store, r.token, "trials")
    for _ in range(5):
        t = R.next_trial(store, R.get_rater(store, r.token))
        R.show(store, r, t.view_key, t.clip_ids())
        R.submit_ratings(store, token=r.token, trial_id=t.id, answers={q: 3 for q in t.questions})
    at = new_app()
    at.query_params["r"] = r.token
    at.run()
    assert at.session_state["current_trial"] == r.assignment[5]
    total = len(r.assignment) - 4
    assert at.get("progress")[0].proto.text == f"Clip 2 of {total}"
    assert at.code[0].value.endswith(f"?r={r.token}")  # the resume link
    assert_no_names(at)


@pytest.mark.parametrize("params, message", [
    ({}, "Please open the study link you were given."),
    ({"study": "nope"}, "This study link is not valid."),
])
def test_bad_or_missing_study_link(env, params, message):
    at = new_app()
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert at.info[0].value == message


def test_bad_token_and_closed_study(env):
    store, built = env
    at = new_app()
    at.query_params["r"] = "forged-token"
    at.run()
    assert at.error[0].value == "This link is not valid. Please use the link you were given."
    R.set_study_status(store, "apptest", "closed")
    at = new_app()
    at.query_params["study"] = built.public_id
    at.run()
    assert at.warning[0].value == "This study is closed."


def test_admin_pages_need_the_secret(env, monkeypatch):
    at = new_app()
    at.switch_page(str(Path(APP).parent / "pages" / "admin.py")).run()
    assert at.error[0].value.startswith("The admin pages are disabled: set MUSEBENCH_ADMIN_SECRET")
    monkeypatch.setenv("MUSEBENCH_ADMIN_SECRET", "open-sesame")
    for page in ("admin.py", "leaderboard.py"):
        at = new_app()
        at.switch_page(str(Path(APP).parent / "pages" / page)).run()
        assert at.title[0].value == "Admin sign-in"
        assert b"SecretAlpha" not in element_bytes(at)
        at.text_input(key="admin_secret_input").input("wrong")
        at.button(key="admin_sign_in").click().run()
        assert at.error[0].value == "Wrong secret."


def test_admin_and_leaderboard_show_progress_mos_and_exports(env, monkeypatch):
    store, built = env
    monkeypatch.setenv("MUSEBENCH_ADMIN_SECRET", "open-sesame")
    for k in range(3):
        r = R.start_rater(store, public_id=built.public_id, external_id=f"w{k}")
        while (t := R.next_trial(store, R.get_rater(store, r.token))) is not None:
            # 3 on every gold item (which expects 4-5 or 1-2) fails screening for sure; the test
            # items get varied answers so that no rater is excluded for a lack of variance
            value = 3 if t.kind in ("gold", "trap") else 1 + (k + t.index) % 5
            R.show(store, r, t.view_key, t.clip_ids())
            R.submit_ratings(store, token=r.token, trial_id=t.id, answers={q: value for q in t.questions})
        R.set_stage(store, r.token, "done")
    at = new_app()
    at.switch_page(str(Path(APP).parent / "pages" / "admin.py")).run()
    at.text_input(key="admin_secret_input").input("open-sesame")
    at.button(key="admin_sign_in").click().run()
    assert not at.exception
    assert at.title[0].value == "Listening studies: admin"
    assert [m.value for m in at.metric] == ["3", "3", "0", str(3 * 2 * len(r.assignment))]
    assert f"?study={built.public_id}" in at.code[0].value
    assert at.text[0].value == "MOS: no ratings from kept raters yet"  # all three fail gold/trap items
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["ratings.csv", "raters.csv", "screening.csv", "mos.csv", "pairwise.csv", "leaderboard.csv",
                      "everything (JSON)"]
    at.sidebar.checkbox(key="th_finished").uncheck()
    at.sidebar.number_input(key="th_gold").set_value(5)
    at.sidebar.number_input(key="th_trap").set_value(5)
    at.sidebar.number_input(key="th_corr").set_value(-1.0)
    at.run()
    assert at.metric[2].value == "3" and "SecretAlpha" in at.text[0].value
    at.radio(key="admin_status").set_value("closed").run()
    assert R.get_study(store, "apptest").status == "closed"
    at.switch_page(str(Path(APP).parent / "pages" / "leaderboard.py")).run()  # same session: signed in
    assert not at.exception
    assert at.title[0].value == "Leaderboard: listening tests and automatic metrics"
    assert at.info[0].value == "No ratings from kept raters yet."  # default thresholds exclude all three
