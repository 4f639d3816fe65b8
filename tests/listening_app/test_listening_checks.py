"""Checks the browser cannot forge (issue 18 part 3), the crowd platform's plumbing (part 4) and
clips served over HTTP (part 2): all decided on the server, tested without a browser."""
from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from musebench.cli import main
from musebench.errors import ConfigError
from musebench.listening_app import audio_route, signin
from musebench.listening_app import ratings as R
from musebench.listening_app import stimuli as sx
from musebench.listening_app.store import Rating, Store, View
from musebench.listening_app.study import StudyConfig, build_study, entries_from_manifest, save_study
from musebench.listening_app.synthetic import make_study_folder
from musebench.testing.app import free_port, wait_healthy

APP = str(Path(__file__).resolve().parents[2] / "listening_app" / "app.py")
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


class Clock:
    """The server's clock, set by hand."""

    def __init__(self):
        self.t = T0

    def __call__(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(R, "now", c)
    return c


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    f = tmp_path_factory.mktemp("audio")
    make_study_folder(f, conditions=["SecretAlpha", "SecretBeta"], n_items=4, seconds=2.0, sample_rate=8000)
    return f


def make(tmp_path, folder, **kw) -> tuple[Store, object]:
    cfg = dict(name="chk", sample_rate=8000, max_seconds=2.0, headphone_trials=0, headphone_pass=0)
    cfg.update(kw)
    built = build_study(entries_from_manifest(folder), StudyConfig(**cfg))
    store = Store(f"sqlite:///{tmp_path}/chk.db")
    save_study(store, built)
    return store, built


def first_test_trial(store, rater):
    while (t := R.next_trial(store, R.get_rater(store, rater.token))).kind == "training":
        R.show(store, rater, t.view_key, t.clip_ids())
        R.now.advance(60)
        R.submit_ratings(store, token=rater.token, trial_id=t.id, answers={q: 3 for q in t.questions})
    return t


# --------------------------------------------------------------------------- the listening clock
def test_answer_sooner_than_the_clip_is_refused_whatever_the_browser_says(tmp_path, folder, clock):
    store, built = make(tmp_path, folder)
    r = R.start_rater(store, public_id=built.public_id)
    t = R.next_trial(store, r)
    # never shown: a forged submit straight to the server is refused
    with pytest.raises(R.RefusedError, match=r"^the clip was never shown to this rater: answer refused$"):
        R.submit_ratings(store, token=r.token, trial_id=t.id, answers={"quality": 4, "similarity": 4},
                         listen_fraction=1.0)
    assert R.show(store, r, t.view_key, t.clip_ids()) == T0
    clock.advance(1.2)  # the clip is 2.0 s; 90 % of it is 1.8 s
    with pytest.raises(R.TooEarlyError, match=r"^Answer refused: 1\.2 s after the clip was shown, but listening "
                                              r"takes at least 1\.8 s\. Please listen to the end, then answer "
                                              r"again\.$"):
        R.submit_ratings(store, token=r.token, trial_id=t.id, answers={"quality": 4, "similarity": 4},
                         listen_fraction=1.0)  # the browser's forged "listened: 1" changes nothing
    clock.advance(10)
    assert R.show(store, r, t.view_key, t.clip_ids()) == T0  # showing again does not restart the clock
    clock.advance(0.7)  # 1.9 s after the first showing
    assert R.submit_ratings(store, token=r.token, trial_id=t.id, answers={"quality": 4, "similarity": 4}) == 2
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(View)).scalar() == 1


def test_dcr_and_ab_need_both_clips_and_mushra_one_full_pass(tmp_path, folder, clock):
    for proto, need in (("dcr", 0.9 * 4.0), ("ab", 0.9 * 4.0), ("mushra", 0.9 * 2.0)):
        store, built = make(tmp_path / proto, folder, name=proto, protocol=proto, training=False,
                            n_gold=0, n_traps=0, low_anchor=proto == "mushra", sample_rate=16000)
        r = R.start_rater(store, public_id=built.public_id)
        t = R.next_trial(store, r)
        R.show(store, r, t.view_key, t.clip_ids())
        clock.advance(need - 0.05)
        if t.members:
            answers = {tid: 50 for tid, _ in t.members}
            with pytest.raises(R.TooEarlyError, match=rf"listening takes at least {need:.1f} s"):
                R.submit_page(store, token=r.token, answers=answers)
            clock.advance(0.1)
            assert R.submit_page(store, token=r.token, answers=answers) == len(t.members) == 5
        else:
            q = t.questions[0]
            with pytest.raises(R.TooEarlyError, match=rf"listening takes at least {need:.1f} s"):
                R.submit_ratings(store, token=r.token, trial_id=t.id, answers={q: 1})
            clock.advance(0.1)
            assert R.submit_ratings(store, token=r.token, trial_id=t.id, answers={q: 1}) == 1
        store.dispose()


def test_headphone_check_answered_too_early_is_refused(tmp_path, folder, clock):
    store, built = make(tmp_path, folder, headphone_trials=6, headphone_pass=5)
    r = R.start_rater(store, public_id=built.public_id)
    R.show(store, r, R.HEADPHONES)
    truth = [sx.headphone_check(seed=R.headphone_seed(r, k), sample_rate=8000, tone_s=0.05)[1] for k in range(6)]
    clock.advance(20.0)  # six 4 s checks: 0.9 * 24 = 21.6 s
    with pytest.raises(R.TooEarlyError, match=r"^Answer refused: 20\.0 s after the headphone check was shown, "
                                              r"but listening takes at least 21\.6 s\."):
        R.record_headphone_check(store, r, truth)
    with pytest.raises(R.RefusedError, match=r"^the headphone check needs 6 answers, each 1, 2 or 3$"):
        R.record_headphone_check(store, r, truth[:5] + [7])
    clock.advance(2.0)
    result = R.record_headphone_check(store, r, truth)
    assert result == {"answers": truth, "correct": 6, "of": 6, "passed": True, "seconds": 22.0}


def test_guess_pass_rate_of_the_headphone_check():
    assert sx.guess_pass_rate(6, 5) == pytest.approx(13 / 729)   # Woods et al. (2017): 1.8 %
    assert sx.guess_pass_rate(3, 2) == pytest.approx(7 / 27)     # the old default: 25.9 %
    assert sx.guess_pass_rate(6, 0) == pytest.approx(1.0)
    cfg = StudyConfig(name="x")
    assert (cfg.headphone_trials, cfg.headphone_pass) == (6, 5)


def test_out_of_scale_answers_are_refused_in_one_line(tmp_path, folder, clock):
    store, built = make(tmp_path, folder)
    r = R.start_rater(store, public_id=built.public_id)
    t = R.next_trial(store, r)
    R.show(store, r, t.view_key, t.clip_ids())
    clock.advance(60)
    for bad in (7, 0, True, "4", 4.0):
        with pytest.raises(R.RefusedError, match=rf"^answer to 'quality' must be an integer 1\.\.5, got {bad!r}$"):
            R.submit_ratings(store, token=r.token, trial_id=t.id, answers={"quality": bad, "similarity": 3})


from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402
from streamlit.testing.v1.element_tree import Radio  # noqa: E402


class ForgedRadio(Radio):
    """The widget state a forged WebSocket message would carry: an option the radio does not have."""

    @property
    def _widget_state(self) -> WidgetState:
        ws = WidgetState()
        ws.id = self.id
        ws.string_value = "9 - Superb"
        return ws


def test_forged_widget_value_shows_a_warning_not_a_traceback(tmp_path, folder, clock, monkeypatch):
    store, built = make(tmp_path, folder)
    monkeypatch.setenv("MUSEBENCH_LISTENING_DB", store.url)
    r = R.start_rater(store, public_id=built.public_id)
    R.set_stage(store, r.token, "trials")
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["r"] = r.token
    at.run()
    tid = at.session_state["current_trial"]
    at.session_state[f"stim-{tid}"] = {"listened": 1.0}  # what a forged component state would say
    at.run()
    # a radio value outside the options (as a forged WebSocket message would carry) counts as no answer
    forged = at.radio(key=f"ans-{tid}-quality")
    forged.__class__ = ForgedRadio
    at.radio(key=f"ans-{tid}-similarity").set_value(3)
    at.run()
    assert not at.exception and at.button(key=f"submit-{tid}").disabled
    at.radio(key=f"ans-{tid}-quality").set_value(4).run()
    at.button(key=f"submit-{tid}").click().run()  # the server's clock has not moved: too early
    assert not at.exception
    assert at.warning[0].value.startswith("Answer refused: 0.0 s after the clip was shown, but listening takes")
    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(Rating)).scalar() == 0
    clock.advance(60)
    at.button(key=f"submit-{tid}").click().run()
    assert not at.exception and at.session_state["current_trial"] != tid
    store.dispose()


# --------------------------------------------------------------------------- traps and check clips
def test_traps_have_the_length_of_test_clips_and_checks_never_reuse_a_test_clip(tmp_path):
    folder = tmp_path / "a"
    make_study_folder(folder, conditions=["SecretAlpha", "SecretBeta"], n_items=6, seconds=4.0, sample_rate=8000)
    built = build_study(entries_from_manifest(folder), StudyConfig(
        name="t", sample_rate=8000, n_gold=2, n_traps=2, headphone_trials=0, headphone_pass=0))
    by_id = {s.id: s for s in built.stimuli}
    tests = [by_id[t.stimulus_id] for t in built.trials if t.kind == "test"]
    traps = [by_id[t.stimulus_id] for t in built.trials if t.kind == "trap"]
    checks = [by_id[t.stimulus_id] for t in built.trials if t.kind in ("gold", "trap", "training")]
    assert {s.duration_s for s in traps} == {s.duration_s for s in tests} == {4.0}
    assert len(built.items) == 5 and built.check_items and not set(built.items) & set(built.check_items)
    assert {s.item for s in checks} <= set(built.check_items)
    assert not {s.sha256 for s in checks} & {s.sha256 for s in tests}  # no check clip is a test clip


def test_items_asked_beyond_the_runs_or_leaving_none_for_checks_are_errors(folder):
    entries = entries_from_manifest(folder)
    with pytest.raises(ConfigError, match=r"^study 'x': --items 30 asks for more items than the runs have: "
                                          r"4 item\(s\) have a clip from every condition$"):
        build_study(entries, StudyConfig(name="x", n_items=30, sample_rate=8000))
    with pytest.raises(ConfigError, match=r"^study 'x': gold, trap and training clips never reuse a test clip, so "
                                          r"they need an item no test trial uses: 4 item\(s\) available, 4 asked "
                                          r"for the tests \(ask for fewer --items, or --gold 0 --traps 0 "
                                          r"--no-training\)$"):
        build_study(entries, StudyConfig(name="x", n_items=4, sample_rate=8000))
    built = build_study(entries, StudyConfig(name="x", n_items=4, n_gold=0, n_traps=0, training=False,
                                             sample_rate=8000))
    assert len(built.items) == 4 and built.check_items == []


# --------------------------------------------------------------------------- admin sign-in
def test_admin_sign_in_locks_out_across_sessions(tmp_path, folder, monkeypatch):
    store, _ = make(tmp_path, folder)
    monkeypatch.setenv("MUSEBENCH_LISTENING_DB", store.url)
    monkeypatch.setenv("MUSEBENCH_ADMIN_SECRET", "open-sesame")
    t0 = datetime.now(timezone.utc)
    monkeypatch.setattr(signin, "utcnow", lambda: t0)  # the lock's seconds do not depend on how long AppTest took
    admin = str(Path(APP).parent / "pages" / "admin.py")

    def attempt(secret: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)  # a new browser session every time
        at.switch_page(admin).run()
        at.text_input(key="admin_secret_input").input(secret)
        at.button(key="admin_sign_in").click().run()
        return at

    for k in range(signin.FREE_FAILURES - 1):
        assert attempt(f"guess{k}").error[0].value == "Wrong secret."
    assert attempt("guess4").error[0].value == "Wrong secret. Too many wrong secrets: sign-in is locked for 30 s."
    at = attempt("open-sesame")  # even the right secret waits out the lock
    assert at.error[0].value == "Too many wrong secrets: sign-in is locked for 30 s."
    later = t0 + timedelta(seconds=31)
    assert signin.locked_for(store, now=later) == 0.0
    signin.record(store, ok=False, at=later)  # the 6th wrong one doubles the lock
    assert signin.locked_for(store, now=later) == 60.0
    signin.record(store, ok=True, at=later + timedelta(seconds=61))
    assert signin.locked_for(store, now=later + timedelta(seconds=62)) == 0.0
    store.dispose()


# --------------------------------------------------------------------------- crowd plumbing
def test_one_worker_id_one_rater_resume_or_refuse(tmp_path, folder):
    store, built = make(tmp_path, folder)
    a = R.start_rater(store, public_id=built.public_id, external_id="PROLIFIC-1")
    b = R.start_rater(store, public_id=built.public_id, external_id=" PROLIFIC-1 ")
    assert b.token == a.token and b.id == a.id and b.assignment == a.assignment
    c = R.start_rater(store, public_id=built.public_id)
    d = R.start_rater(store, public_id=built.public_id)
    assert c.id != d.id  # no worker id: every start is a new rater
    store.dispose()
    store2, built2 = make(tmp_path / "refuse", folder, duplicate_workers="refuse")
    R.start_rater(store2, public_id=built2.public_id, external_id="w1")
    with pytest.raises(R.RefusedError, match=r"^This worker id has already taken part in this study\.$"):
        R.start_rater(store2, public_id=built2.public_id, external_id="w1")
    store2.dispose()


def test_duplicates_already_stored_are_flagged_by_screening(tmp_path, folder):
    import pandas as pd

    from musebench.listening_app.screening import Thresholds, screen

    raters = pd.DataFrame({"rater_id": [1, 2, 3], "rater": ["R0001", "R0002", "R0003"],
                           "external_id": ["w1", "w1", None], "completion_code": ["A", "B", "C"],
                           "n_done": [1, 1, 1], "n_assigned": [1, 1, 1], "finished": [True] * 3,
                           "headphone_passed": [None] * 3})
    ratings = pd.DataFrame(columns=["rater_id", "trial", "kind", "question", "value", "expected", "condition",
                                    "condition_kind", "item"])
    table = screen(ratings, raters, Thresholds())
    assert [d if isinstance(d, str) else None for d in table["duplicate_of"]] == [None, "R0001", None]
    assert table["reasons"].tolist() == ["", "same worker id as R0001", ""]
    assert screen(ratings, raters, Thresholds(exclude_duplicates=False))["excluded"].tolist() == [False] * 3


def test_raters_per_trial_fills_every_trial_then_refuses(tmp_path, folder):
    store, built = make(tmp_path, folder, n_items=2, per_rater=3, raters_per_trial=3)
    n_tests = sum(t.kind == "test" for t in built.trials)
    assert n_tests == 8  # 2 items x (2 systems + reference + anchor)
    for _ in range(8):  # 8 raters x 3 trials = 24 = 8 trials x 3 raters
        R.start_rater(store, public_id=built.public_id)
    from musebench.listening_app.data import trial_coverage

    assert trial_coverage(store, R.get_study(store, "chk").id)["assigned_count"].tolist() == [3] * 8
    with pytest.raises(R.RefusedError, match=r"^This study has all the ratings it needs\. Thank you for your "
                                             r"interest\.$"):
        R.start_rater(store, public_id=built.public_id)
    store.dispose()


def test_completion_link_and_verify_code_cli(tmp_path, folder, clock, capsys):
    assert R.completion_link("https://app.prolific.com/submissions/complete?cc={code}", "MB-1") == \
        "https://app.prolific.com/submissions/complete?cc=MB-1"
    assert R.completion_link("https://example.org/done", "A B") == "https://example.org/done?cc=A%20B"
    assert R.completion_link("https://example.org/done?x=1", "C") == "https://example.org/done?x=1&cc=C"
    with pytest.raises(ConfigError, match=r"^study 'x': completion URL 'ftp://a' must start with https:// or "
                                          r"http://$"):
        StudyConfig(name="x", completion_url="ftp://a")
    store, built = make(tmp_path, folder)
    codes = []
    for k, careless in ((0, False), (1, True)):
        r = R.start_rater(store, public_id=built.public_id, external_id=f"w{k}")
        R.set_stage(store, r.token, "trials")
        while (t := R.next_trial(store, R.get_rater(store, r.token))) is not None:
            R.show(store, r, t.view_key, t.clip_ids())
            clock.advance(60)
            exp = json.loads(built_expected(store, t.id) or "null")
            v = 3 if careless else (exp["quality"][0] if exp else 1 + t.index % 5)
            R.submit_ratings(store, token=r.token, trial_id=t.id, answers={q: v for q in t.questions})
        R.set_stage(store, r.token, "done")
        codes.append(r.completion_code)
    db = store.url
    store.dispose()
    capsys.readouterr()
    assert main(["study", "verify-code", "chk", codes[0], "--db", db]) == 0
    assert capsys.readouterr().out == f"{codes[0]}: real code of R0001 (worker w0); finished; passed screening\n"
    assert main(["study", "verify-code", "chk", codes[1], "--db", db]) == 0
    assert capsys.readouterr().out.startswith(f"{codes[1]}: real code of R0002 (worker w1); finished; excluded by "
                                              "screening: failed 2 of 2 gold item(s); failed 1 of 1 trap item(s)")
    assert main(["study", "verify-code", "chk", "MB-NOPE", "--db", db]) == 1
    assert capsys.readouterr().out == "MB-NOPE: not a completion code of study 'chk'\n"


def built_expected(store, trial_id):
    from musebench.listening_app.store import Trial

    with store.read() as conn:
        return conn.execute(select(Trial.expected_json).where(Trial.id == trial_id)).scalar()


# --------------------------------------------------------------------------- audio over HTTP
def test_clips_are_served_only_under_a_grant_lossless_and_cacheable(tmp_path, folder, monkeypatch):
    from starlette.requests import Request

    class Client:  # the endpoint called with real Starlette requests (no HTTP client needed)
        def get(self, path: str, headers: dict | None = None):
            name = path.split("/audio/", 1)[1]
            scope = {"type": "http", "method": "GET", "path": path, "query_string": b"",
                     "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
                     "path_params": {"name": name}}
            resp = audio_route.audio_endpoint(Request(scope))
            resp.content = resp.body
            return resp

    store, built = make(tmp_path, folder)
    monkeypatch.setenv("MUSEBENCH_LISTENING_DB", store.url)
    r = R.start_rater(store, public_id=built.public_id)
    other = R.start_rater(store, public_id=built.public_id)
    t = R.next_trial(store, r)
    client = Client()
    name = R.audio_name(r, t.stimulus_id)
    assert client.get(f"/audio/{name}.flac").status_code == 404  # not shown yet: not granted
    R.show(store, r, t.view_key, t.clip_ids())
    flac = client.get(f"/audio/{name}.flac")
    wav = client.get(f"/audio/{name}.wav")
    assert flac.status_code == wav.status_code == 200
    assert flac.headers["content-type"] == "audio/flac" and wav.headers["content-type"] == "audio/wav"
    assert flac.headers["cache-control"] == wav.headers["cache-control"] == "private, max-age=31536000, immutable"
    stored = R.stimulus_wav(store, t.stimulus_id)
    assert wav.content == stored  # the stored, loudness-normalised bytes
    a, sr_a = sf.read(io.BytesIO(flac.content), dtype="int16")
    b, sr_b = sf.read(io.BytesIO(stored), dtype="int16")
    assert sr_a == sr_b == 8000 and np.array_equal(a, b) and len(flac.content) < len(stored)
    sha = hashlib.sha256(stored).hexdigest()
    assert flac.headers["etag"] == f'"{sha[:32]}-flac"'
    assert client.get(f"/audio/{name}.flac", headers={"If-None-Match": flac.headers["etag"]}).status_code == 304
    part = client.get(f"/audio/{name}.wav", headers={"Range": "bytes=4-11"})
    assert part.status_code == 206 and part.content == stored[4:12]
    assert part.headers["content-range"] == f"bytes 4-11/{len(stored)}"
    # another rater's name for the same clip is not granted; names are opaque and per rater
    assert client.get(f"/audio/{R.audio_name(other, t.stimulus_id)}.flac").status_code == 404
    assert R.audio_name(other, t.stimulus_id) != name and t.stimulus_id not in name
    assert client.get("/audio/../../etc/passwd").status_code == 404
    assert client.get(f"/audio/{name}.mp3").status_code == 404
    store.dispose()


# --------------------------------------------------------------------------- stopping the app
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_musebench_app_stops_its_streamlit_child(tmp_path, sig):
    port = free_port()
    env = dict(os.environ, MUSEBENCH_LISTENING_DB=f"sqlite:///{tmp_path}/app.db")
    env.pop("MUSEBENCH_ADMIN_SECRET", None)
    parent = subprocess.Popen([sys.executable, "-c", "import sys; from musebench.cli import main; sys.exit(main())",
                               "app", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path,
                              start_new_session=True)
    try:
        wait_healthy(port, parent)
        children = subprocess.run(["pgrep", "-P", str(parent.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) == 1
        parent.send_signal(sig)
        assert parent.wait(timeout=30) == (130 if sig == signal.SIGINT else 128 + sig)
        child = int(children[0])
        deadline = time.monotonic() + 15
        while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not Path(f"/proc/{child}").exists(), "the Streamlit child survived its parent"
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
    finally:
        if parent.poll() is None:
            os.killpg(parent.pid, signal.SIGKILL)
