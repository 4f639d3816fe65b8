"""The CI regression gate: self-consistency, refusals, outputs, pytest fixture."""
from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET

import pytest

import core_fixtures
from musebench.cli import main
from musebench.errors import IncomparableError
from musebench.gate import check, save_baseline
from musebench.io_utils import atomic_write_json
from musebench.runner import RunOptions, run_task

pytest_plugins = ["pytester"]

TASK = textwrap.dedent("""\
    name: toy-gate
    family: transcription
    version: {version}
    dataset: toy
    split: test
    sample_rate: 16000
    metrics: [onset_f1, onset_offset_f1]
""")


@pytest.fixture
def env(tmp_path, monkeypatch):
    _, task = core_fixtures.toy_task(tmp_path, monkeypatch, task_yaml=TASK.format(version=1), n=12)
    results = tmp_path / "results"

    def run(model="noisy-oracle", run_id="base", task_path=task, **kw):
        return run_task(RunOptions(task=str(task_path), model=model, results_dir=results, progress=False,
                                   device="cpu", run_id=run_id, **kw)).run_dir

    base = run()
    save_baseline(base, name="toy", results_dir=results)
    return {"run": run, "results": results, "base": base, "tmp": tmp_path}


def test_a_run_checked_against_itself_passes(env):
    report = check(env["base"], baseline="toy", results_dir=env["results"])
    assert report.passed and report.exit_code == 0
    assert [r.metric for r in report.rows] == ["onset_f1", "onset_offset_f1"]
    assert all(r.delta == 0.0 and r.p == 1.0 and r.n == 12 for r in report.rows)


def test_a_rerun_of_a_deterministic_model_passes(env):
    rerun = env["run"](run_id="rerun")
    assert check(rerun, baseline="toy", results_dir=env["results"]).passed


def test_more_noise_fails(env, capsys):
    worse = env["run"](run_id="worse", model_params={"drop_prob": 0.5, "onset_jitter": 0.04})
    report = check(worse, baseline="toy", results_dir=env["results"])
    assert not report.passed and report.exit_code == 1
    onset = report.rows[0]
    assert onset.verdict == "FAIL" and onset.delta < -0.1 and onset.p < 0.01
    assert onset.ci_high < 0
    code = main(["check", str(worse), "--baseline", "toy", "--results-dir", str(env["results"]),
                 "--json", str(env["tmp"] / "r.json"), "--junit", str(env["tmp"] / "r.xml")])
    assert code == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["metric", "baseline", "new", "delta", "95%", "CI", "p", "verdict"]
    assert out.strip().splitlines()[-1].startswith("FAIL: ")
    assert json.loads((env["tmp"] / "r.json").read_text())["passed"] is False
    suite = ET.parse(env["tmp"] / "r.xml").getroot()
    assert suite.get("failures") == "2" and suite.get("tests") == "2"


def _edit_scores(run_dir, changes):
    for item, delta in changes.items():
        p = run_dir / "items" / f"{item}.json"
        rec = json.loads(p.read_text())
        rec["scores"]["onset_f1"] += delta
        atomic_write_json(p, rec)


def test_tiny_or_insignificant_changes_pass(env):
    tiny = env["run"](run_id="tiny")
    _edit_scores(tiny, {"toy-03": -0.01})  # mean drop 0.0008 < 0.005
    report = check(tiny, baseline="toy", results_dir=env["results"])
    assert report.passed and report.rows[0].reason == ""
    one_item = env["run"](run_id="one")
    _edit_scores(one_item, {"toy-05": -0.3})  # mean drop 0.025 > 0.005, but one item: not significant
    report = check(one_item, baseline="toy", results_dir=env["results"])
    assert report.passed and report.rows[0].reason == "drop not significant"
    assert report.rows[0].p == 0.5


def test_refuses_other_version_fingerprint_or_items(env, capsys):
    v2 = env["tmp"] / "v2" / "toy-gate.yaml"
    v2.parent.mkdir()
    v2.write_text(TASK.format(version=2))
    other = env["run"](run_id="v2", task_path=v2)
    with pytest.raises(IncomparableError, match="task toy-gate version 2 vs baseline version 1"):
        check(other, baseline="toy", results_dir=env["results"])
    assert main(["check", str(other), "--baseline", "toy", "--results-dir", str(env["results"])]) == 2
    assert "refusing to compare" in capsys.readouterr().err
    fewer = env["run"](run_id="fewer", limit=5)
    with pytest.raises(IncomparableError, match=r"item sets differ \(0 only in the run, 7 only in the baseline"):
        check(fewer, baseline="toy", results_dir=env["results"])
    res = json.loads((env["base"] / "results.json").read_text())
    res["dataset"]["fingerprint"] = "0" * 64
    atomic_write_json(env["tmp"] / "fp" / "results.json", res)
    (env["tmp"] / "fp" / "items").symlink_to(env["base"] / "items")
    with pytest.raises(IncomparableError, match="data fingerprint 000000000000 vs baseline"):
        check(env["tmp"] / "fp", baseline="toy", results_dir=env["results"])


def test_failed_items_fail_the_gate(env):
    broken = env["run"](model="raising", run_id="raise")
    base = env["run"](model="raising", run_id="raise-ok", model_params={"fail_suffix": "zz"})
    save_baseline(base, name="raising", results_dir=env["results"])
    report = check(broken, baseline="raising", results_dir=env["results"])
    assert report.failed_items == ["toy-01"] and report.exit_code == 1


def test_pytest_fixture(env, pytester):
    worse = env["run"](run_id="worse2", model_params={"drop_prob": 0.5})
    pytester.makepyfile(f"""
        def test_same(musebench_check):
            musebench_check({str(env['base'])!r}, baseline="toy", results_dir={str(env['results'])!r})

        def test_worse(musebench_check):
            musebench_check({str(worse)!r}, baseline="toy", results_dir={str(env['results'])!r})
    """)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*musebench regression gate failed:*"])


def test_html_and_markdown_leaderboards_show_ties(env, capsys):
    env["run"](model="oracle", run_id="o")
    env["run"](run_id="noisy-seed1", seed=0, model_params={"onset_jitter": 0.021})
    assert main(["leaderboard", "--results-dir", str(env["results"]), "--format", "html",
                 "-o", str(env["tmp"] / "lb.html")]) == 0
    page = (env["tmp"] / "lb.html").read_text()
    assert page.count("<svg") >= 3 and "drawScatter('scatter0')" in page
    capsys.readouterr()
    assert main(["leaderboard", "--results-dir", str(env["results"])]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")][1:]
    assert rows[0].split("|")[1].strip() == "1" and "oracle" in rows[0]
    # the two noisy-oracle variants are statistically indistinguishable: they share rank 2
    assert [r.split("|")[1].strip() for r in rows[1:]] == ["2=", "2="]


def test_bar_chart_draws_intervals_that_exclude_the_point_value():
    """A set-level metric's bootstrap CI may lie wholly above its point value (a Frechet distance
    is biased upwards on resampled sets), and a missing CI is NaN: both must draw."""
    import pandas as pd

    from musebench.leaderboard import TaskBoard
    from musebench.report import _bar_chart_svg

    def chart(low, high):
        table = pd.DataFrame({"model": ["noise", "lstm", "oracle"], "frechet": [40.0, 12.0, 0.5],
                              "frechet_ci_low": low, "frechet_ci_high": high})
        board = TaskBoard(task="t", primary="frechet", metrics=["frechet"], table=table, flagged=table.iloc[:0],
                          runs=[])
        return _bar_chart_svg(board, "frechet")

    nan = float("nan")
    with_ci = chart([41.5, 10.0, nan], [47.0, 15.0, nan])
    without = chart([nan] * 3, [nan] * 3)
    assert with_ci.startswith("<svg") and without.startswith("<svg")
    # two intervals, each a vertical line and two caps: 6 more paths than the chart without CIs
    assert with_ci.count("<path") == without.count("<path") + 6
