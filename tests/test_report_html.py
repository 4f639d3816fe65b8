"""The HTML leaderboard as a person sees it, in a real browser (Chromium through Playwright):
the table fits a 1400-px window, the per-item scatter has axes with ticks and scale, and runs
that are not ranked with the others are drawn greyed in the bar charts."""
from __future__ import annotations

from pathlib import Path

import pytest

from musebench.leaderboard import build_leaderboards
from musebench.report import render
from musebench.runner import RunOptions, run_task

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def board_html(synth_env, tmp_path) -> Path:
    results = tmp_path / "results"
    for model, params, limit in [("oracle", {}, None), ("noisy-oracle", {}, None),
                                 ("noisy-oracle", {"drop_prob": 0.5}, 3)]:
        run_task(RunOptions(task="synth-piano", model=model, model_params=params, limit=limit,
                            results_dir=results, progress=False))
    boards = build_leaderboards(results_dir=results, task="synth-piano")
    path = tmp_path / "board.html"
    path.write_text(render(boards, fmt="html"))
    return path


def test_flagged_runs_are_greyed_in_the_bar_charts(board_html):
    text = board_html.read_text()
    assert "Not ranked with the above (not comparable; greyed in the charts):" in text
    assert text.count("<!-- noisy-oracle(drop_prob=0.5) (flagged) -->") == 9  # a greyed bar per metric chart
    assert text.count(' fill="#bbbbbb"') == 9  # its hatch pattern's grey ground


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium not installed")
def test_table_fits_1400px_and_scatter_has_axes(board_html):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(board_html.as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") <= 1400
            rights = page.eval_on_selector_all("table.board", "ts => ts.map(t => t.getBoundingClientRect().right)")
            assert len(rights) == 2 and max(rights) <= 1400
            # oracle (x) against noisy-oracle (y), onset_f1: scores in [0, 1] -> a unit scale, ticks 0..1 by 0.2
            assert page.locator(".tick-x-label").all_text_contents() == ["0", "0.2", "0.4", "0.6", "0.8", "1"]
            assert page.locator(".tick-y-label").all_text_contents() == ["0", "0.2", "0.4", "0.6", "0.8", "1"]
            assert page.locator(".axis-x").text_content() == "oracle: onset_f1 (linear, 8 items)"
            assert page.locator(".axis-y").text_content() == "noisy-oracle: onset_f1"
            assert page.locator("svg[id$='-svg'] circle").count() == 8
            # every point lies inside the plotting frame
            frame = page.locator("svg[id$='-svg'] rect").first.bounding_box()
            for box in (page.locator("svg[id$='-svg'] circle").nth(i).bounding_box() for i in range(8)):
                cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
                assert frame["x"] - 0.5 <= cx <= frame["x"] + frame["width"] + 0.5
                assert frame["y"] - 0.5 <= cy <= frame["y"] + frame["height"] + 0.5
        finally:
            browser.close()
