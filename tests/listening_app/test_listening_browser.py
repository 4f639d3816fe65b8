"""End to end in a real browser: `streamlit run` on a loopback port, Debian's Chromium driven by
Playwright; a rater completes a short study, the ratings are in the database, and nothing the
browser received (page source, WebSocket frames, HTTP responses, URLs) contains a model name."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from musebench.listening_app import ratings as R
from musebench.listening_app.store import Rating, Store
from musebench.listening_app.study import StudyConfig, build_study, entries_from_manifest, save_study
from musebench.listening_app.synthetic import make_study_folder
from musebench.testing.app import AppDidNotStart, running_app

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NAMES = ["SecretAlpha", "SecretBeta"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason="Chromium not installed (apt-get install -y chromium chromium-driver)")]


@pytest.fixture
def server(tmp_path):
    url = f"sqlite:///{tmp_path}/e2e.db"
    # 2 items: one for the test trials, one held out for the gold clip (check clips never reuse a test clip)
    make_study_folder(tmp_path / "audio", conditions=NAMES, n_items=2, seconds=0.5, sample_rate=16000)
    built = build_study(entries_from_manifest(tmp_path / "audio"), StudyConfig(
        name="e2e", title="Music listening test", sample_rate=16000, per_rater=2, n_gold=1, n_traps=0,
        training=False, headphone_trials=1, headphone_pass=1))
    store = Store(url)
    save_study(store, built)
    try:
        with running_app(url, cwd=tmp_path) as base:
            yield base, store, built
    except AppDidNotStart as exc:
        pytest.fail(str(exc))
    finally:
        store.dispose()


def play_all(page, keys) -> None:
    """Play the players ``keys`` to their end, in real time (the server times the listening itself).

    Each player is found by its key (``data-clip``), not by position.
    """
    for key in keys:  # Playwright's locators reach into the components' shadow roots
        page.locator(f'audio[data-clip="{key}"]').evaluate(
            "a => { a.muted = true; a.currentTime = 0; return a.play(); }", timeout=20000)


def test_rater_completes_a_study_in_chromium(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    base, store, built = server
    frames: list[bytes] = []
    bodies: list[bytes] = []
    urls: list[str] = []
    sources: list[str] = []

    def on_ws(ws):
        urls.append(ws.url)
        ws.on("framereceived", lambda payload: frames.append(payload if isinstance(payload, bytes)
                                                             else payload.encode()))

    def on_response(resp):
        urls.append(resp.url)
        try:
            bodies.append(resp.body())
        except Exception:  # redirects and aborted requests have no body
            pass

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS + ["--autoplay-policy=no-user-gesture-required"])
        page = browser.new_page()
        page.on("websocket", on_ws)
        page.on("response", on_response)
        page.goto(f"{base}/?study={built.public_id}&worker=e2e-worker")
        expect(page.get_by_text("Music listening test")).to_be_visible(timeout=30000)
        page.get_by_text("I have read the above and agree to take part.").click()
        page.get_by_role("button", name="Start").click()
        expect(page.get_by_text("Volume and headphone check")).to_be_visible(timeout=20000)
        token = re.search(r"[?&]r=([\w-]+)", page.url).group(1)
        sources.append(page.content())
        play_all(page, ["volume-clip", "hp-0"])
        expect(page.get_by_role("radio", name="second")).to_be_enabled(timeout=20000)
        page.get_by_text("second", exact=True).click()
        page.get_by_role("button", name="Continue").click()
        n_trials = len(R.get_rater(store, token).assignment)
        for k in range(n_trials):
            expect(page.get_by_text(f"Clip {k + 1} of {n_trials}")).to_be_visible(timeout=20000)
            good = page.get_by_role("radio", name="4 - Good")
            expect(good).to_be_disabled()  # rating is enabled only after the clip was played
            sources.append(page.content())
            tid = R.next_trial(store, R.get_rater(store, token)).id
            # the moment this trial's players are attached, the previous view's are gone (rate.page_body)
            page.locator(f'audio[data-clip="stim-{tid}"]').wait_for(state="attached", timeout=20000)
            assert page.locator("audio").evaluate_all("els => els.map(e => e.dataset.clip)") == [
                f"src-{tid}", f"stim-{tid}"]
            play_all(page, [f"src-{tid}", f"stim-{tid}"])
            expect(good).to_be_enabled(timeout=20000)
            if k == 0:
                page.screenshot(path=str(tmp_path / "trial.png"), full_page=True)
            page.get_by_text("4 - Good", exact=True).click()
            page.get_by_text("3 - Somewhat similar", exact=True).click()
            page.get_by_role("button", name="Submit rating").click()
        expect(page.get_by_text("Thank you!")).to_be_visible(timeout=20000)
        code = R.get_rater(store, token).completion_code
        expect(page.get_by_text(code)).to_be_visible()
        sources.append(page.content())
        page.screenshot(path=str(tmp_path / "done.png"))
        # the resume link of a finished rater shows the completion page again
        page.goto(f"{base}/?r={token}")
        expect(page.get_by_text(code)).to_be_visible(timeout=20000)
        browser.close()

    rater = R.get_rater(store, token)
    assert rater.finished and rater.headphone["answers"] == [2]
    with store.read() as conn:
        rows = conn.execute(select(Rating.question, Rating.value, Rating.listen_fraction)
                            .where(Rating.rater_id == rater.id)).all()
        total = conn.execute(select(func.count()).select_from(Rating)).scalar()
    assert total == len(rows) == 2 * n_trials == 6
    assert sorted({(q, v) for q, v, _ in rows}) == [("quality", 4), ("similarity", 3)]
    assert all(f is not None and f >= 0.9 for _, _, f in rows)
    # nothing the browser received names a model: page source, WebSocket frames, responses, URLs
    assert frames and bodies and len(sources) == n_trials + 2
    received = b"".join(frames + bodies) + "".join(sources + urls).encode()
    for name in NAMES:
        for variant in (name, name.lower(), name.upper()):
            assert variant.encode() not in received
    # study clips came over HTTP as FLAC under opaque per-rater names: exactly the clips of the rater's trials
    # (source and stimulus; the volume clip is the first trial's); only the generated headphone check is inline
    audio_urls = [u for u in urls if "/audio/" in u]
    assert audio_urls and all(re.search(r"/audio/[0-9a-f]{32}\.flac$", u) for u in audio_urls)
    trials = {t.id: t for t in built.trials}
    clips = {s for tid in rater.assignment for s in (trials[tid].stimulus_id, trials[tid].source_id)}
    assert {u.rsplit("/", 1)[1] for u in audio_urls} == {f"{R.audio_name(rater, s)}.flac" for s in clips}
    assert sum(f.count(b"data:audio/wav;base64,") for f in frames) == 0
    assert sum(f.count(b"data:audio/flac;base64,") for f in frames) == 1  # the generated headphone check
