"""DCR, A/B and MUSHRA studies completed in Debian's Chromium (Playwright) through the real server
(`streamlit run listening_app/server.py`): the clips come over HTTP, the server times the listening,
the answers land in the database, and the analysis ranks the conditions."""
from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from musebench.listening_app import analysis as A
from musebench.listening_app import ratings as R
from musebench.listening_app.store import Rating, Store
from musebench.listening_app.study import StudyConfig, build_study, entries_from_manifest, save_study
from musebench.listening_app.synthetic import make_study_folder
from musebench.testing.app import AppDidNotStart, running_app

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required"]
NAMES = ["SecretAlpha", "SecretBeta"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason="Chromium not installed (apt-get install -y chromium chromium-driver)")]


@contextmanager
def serve(tmp_path: Path, **config):
    url = f"sqlite:///{tmp_path}/b.db"
    make_study_folder(tmp_path / "audio", conditions=NAMES, n_items=1, seconds=0.5, sample_rate=16000)
    built = build_study(entries_from_manifest(tmp_path / "audio"), StudyConfig(
        name="b", title="Music listening test", sample_rate=16000, n_gold=0, n_traps=0, training=False,
        headphone_trials=0, headphone_pass=0, **config))
    store = Store(url)
    save_study(store, built)
    try:
        with running_app(url, cwd=tmp_path) as base:
            yield base, store, built
    except AppDidNotStart as exc:
        pytest.fail(str(exc))
    finally:
        store.dispose()


@contextmanager
def browser_page(received: list):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.on("websocket", lambda ws: ws.on("framereceived", lambda p: received.append(
            p if isinstance(p, bytes) else p.encode())))
        page.on("response", lambda r: received.append(r.url.encode()))
        try:
            yield page
        finally:
            browser.close()


def start(page, base, built, store) -> str:
    from playwright.sync_api import expect

    page.goto(f"{base}/?study={built.public_id}&worker=chromium-1")
    expect(page.get_by_text("Music listening test")).to_be_visible(timeout=30000)
    page.get_by_text("I have read the above and agree to take part.").click()
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(re.compile(r"[?&]r="), timeout=20000)
    return re.search(r"[?&]r=([\w-]+)", page.url).group(1)


def play(page, keys) -> None:
    for key in keys:  # found by key inside the components' shadow roots; real time
        page.locator(f'audio[data-clip="{key}"]').evaluate(
            "a => { a.muted = true; a.currentTime = 0; return a.play(); }", timeout=20000)


def no_names(received: list) -> None:
    blob = b"".join(received)
    for name in NAMES:
        assert name.encode() not in blob and name.lower().encode() not in blob


@pytest.mark.parametrize("protocol", ["dcr", "ab"])
def test_dcr_and_ab_studies_completed_in_chromium(tmp_path, protocol):
    from playwright.sync_api import expect

    received: list = []
    with serve(tmp_path, protocol=protocol, per_rater=3, low_anchor=False) as (base, store, built), \
            browser_page(received) as page:
        token = start(page, base, built, store)
        rater = R.get_rater(store, token)
        n = len(rater.assignment)
        for k in range(n):
            expect(page.get_by_text(f"Clip {k + 1} of {n}")).to_be_visible(timeout=20000)
            t = R.next_trial(store, R.get_rater(store, token))
            if protocol == "dcr":
                expect(page.get_by_text("1. Reference")).to_be_visible()
                answer = page.get_by_role("radio", name="4 - Degradation is audible but not annoying")
                keys = [f"src-{t.id}", f"stim-{t.id}"]
            else:
                answer = page.get_by_role("radio", name="A", exact=True)
                keys = [f"a-{t.id}", f"b-{t.id}"]
            expect(answer).to_be_disabled()
            play(page, keys)
            expect(answer).to_be_enabled(timeout=20000)
            answer.click(force=True)
            page.get_by_role("button", name="Submit rating").click()
        expect(page.get_by_text("Thank you!")).to_be_visible(timeout=20000)
    no_names(received)
    with store.read() as conn:
        values = [v for (v,) in conn.execute(select(Rating.value).where(Rating.rater_id == rater.id))]
    assert values == [4 if protocol == "dcr" else 1] * n
    an = A.analyse(store, "b", thresholds=A.Thresholds(require_finished=True, min_correlation=-1.0, min_std=-1.0))
    assert an.protocol == protocol and len(an.mos) == 3 and (an.mos["n"] > 0).all()


def test_mushra_study_completed_in_chromium(tmp_path):
    from playwright.sync_api import expect

    received: list = []
    with serve(tmp_path, protocol="mushra") as (base, store, built), browser_page(received) as page:
        token = start(page, base, built, store)
        expect(page.get_by_text("Page 1 of 1")).to_be_visible(timeout=20000)
        t = R.next_trial(store, R.get_rater(store, token))
        assert len(t.members) == 5  # 2 systems, hidden reference, 3.5 kHz and 7 kHz anchors
        player = page.locator("div[data-ready='1']")
        expect(player).to_have_count(1, timeout=30000)  # every clip fetched and decoded (Web Audio)
        submit = page.get_by_role("button", name="Submit ratings")
        expect(submit).to_be_disabled()
        for label in ["Reference", "A", "B", "C", "D", "E"]:  # switching keeps the position
            page.locator("button.mb-clip", has_text=re.compile(f"^{label}$")).click()
            page.wait_for_timeout(150)
        page.locator("button.mb-stop").click()
        expect(submit).to_be_enabled(timeout=20000)
        sliders = page.get_by_role("slider")
        expect(sliders).to_have_count(5)
        for k in range(5):
            sliders.nth(k).focus()
            page.keyboard.press("End")  # 100
            for _ in range(k):
                page.keyboard.press("PageDown")  # Streamlit's slider: -10 per PageDown
            page.wait_for_timeout(300)
        page.wait_for_timeout(1000)  # the last slider's value reaches the server
        submit.click()
        expect(page.get_by_text("Thank you!")).to_be_visible(timeout=20000)
    no_names(received)
    with store.read() as conn:
        got = {tid: v for tid, v in conn.execute(select(Rating.trial_id, Rating.value)
                                                 .where(Rating.question == "mushra"))}
    assert sorted(got) == sorted(tid for tid, _ in t.members)
    assert sorted(got.values()) == [60, 70, 80, 90, 100]
