"""``musebench bench`` and musebench.bench: output structure and the definitions behind the ratios.

Correctness and smoke only: no timing is asserted (timings belong to docs/performance.md).
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from musebench.bench import SECTIONS, common, dtw, overhead, ray_scaling, scoring
from musebench.cli import main


def test_quick_scoring_section_through_the_cli(tmp_path, capsys):
    out_json = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--sections", "scoring", "--json", str(out_json)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("machine: ")
    assert "Note scoring: mir_eval 0.8.2 vs musebench.metrics.matching" in captured.out
    assert captured.out.count("scores identical") == len(scoring.QUICK_SIZES)
    assert "[bench " in captured.err and "scoring: mir_eval at 300 notes" in captured.err

    report = json.loads(out_json.read_text())
    assert set(report) == {"machine", "quick", "sections"} and report["quick"] is True
    assert {"cpu", "cores", "memory_gib", "gpu", "load_average", "python", "numpy"} <= set(report["machine"])
    result = report["sections"]["scoring"]
    assert list(report["sections"]) == ["scoring"]
    assert result["identical"] is True
    assert [(r["impl"], r["size"]) for r in result["rows"]] == [
        (impl, size) for size in scoring.QUICK_SIZES for impl in scoring.IMPLEMENTATIONS]
    for r in result["rows"]:
        assert r["n_ref"] == r["size"] and r["time_onset_offset_s"] > 0 and r["tracemalloc_peak_mib"] > 0
        assert len(r["scores_onset_offset"]) == 4 and len(r["scores_onset"]) == 4
    assert [c["size"] for c in result["comparisons"]] == list(scoring.QUICK_SIZES)
    for c in result["comparisons"]:
        assert c["identical"] is True and c["speedup_onset_offset"] > 0 and c["tracemalloc_ratio"] > 0


def test_unknown_section_is_refused_with_a_suggestion(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--sections", "scoring,dwt"])
    assert exc.value.code == 2
    assert "argument --sections: unknown bench section 'dwt'; did you mean 'dtw'?" in capsys.readouterr().err
    assert list(SECTIONS) == ["scoring", "dtw", "overhead", "models", "batching"]


def test_piano_like_notes_are_seeded_and_well_formed():
    (ri, rp, rv), (ei, ep, ev) = scoring.piano_like(500, seed=3)
    (ri2, *_), (ei2, *_) = scoring.piano_like(500, seed=3)
    np.testing.assert_array_equal(ri, ri2)
    np.testing.assert_array_equal(ei, ei2)
    assert len(ri) == len(rp) == len(rv) == 500
    assert np.all(ri[:, 1] > ri[:, 0]) and np.all(ei[:, 1] > ei[:, 0])
    assert np.all(np.diff(ei[:, 0]) >= 0)
    assert rp.min() >= 27.5 - 1e-9 and rp.max() <= 4186.01  # A0..C8 in Hz


def _exact_dtw_cost(x: np.ndarray, y: np.ndarray) -> float:
    cost = np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1))
    acc = np.full((len(x) + 1, len(y) + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(1, len(x) + 1):
        for j in range(1, len(y) + 1):
            acc[i, j] = cost[i - 1, j - 1] + min(acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1])
    return float(acc[-1, -1])


def test_dtw_costs_compare_like_with_like():
    """fastdtw with a radius covering everything, librosa's D[-1, -1] and a plain DP agree."""
    x, y = dtw.feature_pair(40, seed=1)
    assert x.shape == (40, 12) and y.shape == (42, 12)
    np.testing.assert_allclose(x.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(x.std(axis=1), 1, atol=1e-12)
    from musebench.metrics.translation import dtw as fast

    exact = _exact_dtw_cost(x, y)
    assert fast(x, y, radius=100)[0] == pytest.approx(exact, rel=1e-12)
    assert fast(x, y, radius=1)[0] >= exact - 1e-9
    librosa = pytest.importorskip("librosa")
    D, _ = librosa.sequence.dtw(X=x.T, Y=y.T, metric="euclidean")
    assert D[-1, -1] == pytest.approx(exact, rel=1e-12)


def test_overhead_shares_are_derived_from_the_timings():
    r = overhead._derive({"wall_s": 10.0, "model_s": 8.0, "load_s": 1.5, "n_items": 4,
                          "item_harness_each_s": [0.2, 0.05, 0.1, 0.07]})
    assert r["run_overhead"] == pytest.approx(0.25)
    assert r["harness_overhead"] == pytest.approx(0.5 / 8)
    assert r["harness_ms_per_item"] == pytest.approx(70.0)  # median of the items after the first
    assert r["first_item_harness_ms"] == pytest.approx(200.0)
    assert r["steady_overhead"] == pytest.approx(0.07 * 4 / 8)
    oracle = overhead._derive({"wall_s": 0.3, "model_s": 0.008, "load_s": 0.0, "n_items": 2,
                               "item_harness_each_s": [0.05, 0.02]})  # 4 ms of "model" per item: no shares
    assert oracle["run_overhead"] is None and oracle["harness_ms_per_item"] == pytest.approx(20.0)


def test_ray_steady_rate_and_task_copy(tmp_path):
    assert ray_scaling._steady_rate([1.0, 2.0, 3.0, 5.0], 1) == pytest.approx(3 / 4)
    assert ray_scaling._steady_rate([2.0, 2.1, 3.0, 4.1], 2) == pytest.approx(2 / 2)
    assert ray_scaling._steady_rate([2.0, 2.1], 2) is None
    from musebench.tasks import get_task

    path = ray_scaling.task_for_split("synth-piano", "train", tmp_path)
    copy, original = get_task(path), get_task("synth-piano")
    assert copy.name == "synth-piano-train" and copy.split == "train"
    assert (copy.dataset, copy.dataset_params, copy.metrics, copy.params) == (
        original.dataset, original.dataset_params, original.metrics, original.params)
    assert ray_scaling.task_for_split("synth-piano", "test", tmp_path) == "synth-piano"


def test_table_and_number_formatting():
    table = common.Table("T", ["a", "bbb"], [["1", "2"], ["333", "4"]], ["note"])
    assert table.render().splitlines() == ["T", "=", "  a  bbb", "--------", "  1    2", "333    4", "  note"]
    assert common.fmt(None) == "n/a" and common.fmt(float("nan")) == "n/a" and common.fmt(0.12345, ".2f") == "0.12"
    assert common.fmt_x(3.14159) == "3.1x" and common.fmt_x(1234.5) == "1,234x" and common.fmt_x(None) == "n/a"
    assert common.ratio(1.0, 0.0) is None and common.memory_ratio(100.0, 0.5) is None
    assert common.memory_ratio(100.0, 4.0) == 25.0
