"""Translation family, baselines and runner: end-to-end runs, leaderboard order, bad model output."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from musebench.datasets.synth_pairs import SynthPairs
from musebench.errors import ConfigError, ModelError
from musebench.families.translation import TranslationFamily, check_output
from musebench.models import get_model_class
from musebench.models.base import Context, TranslationModel
from musebench.runner import RunOptions, run_task
from musebench.tasks import get_task

pytest.importorskip("tinysoundfont")

TASK = "synth-piano-to-violin"


@pytest.fixture(scope="session")
def pairs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """synth-pairs rendered (and verified) once per session (about 5 s)."""
    root = tmp_path_factory.mktemp("synth-pairs")
    SynthPairs(root=root).prepare(progress=False)
    return root


@pytest.fixture
def pairs_env(pairs_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MUSEBENCH_SYNTH_PAIRS_ROOT", str(pairs_root))
    return pairs_root


@pytest.fixture(scope="session")
def baseline_runs(pairs_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """identity (through the CLI), oracle-resynth and resynth on 3 items of synth-piano-to-violin."""
    from musebench.cli import main as cli_main

    results = tmp_path_factory.mktemp("results")
    runs = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MUSEBENCH_SYNTH_PAIRS_ROOT", str(pairs_root))
        assert cli_main(["run", "--task", TASK, "--model", "identity", "--limit", "3", "--no-progress",
                         "--results-dir", str(results)]) == 0
        runs["identity"] = next((results / "runs" / TASK / "identity").iterdir())
        for model in ("oracle-resynth", "resynth"):
            out = run_task(RunOptions(task=TASK, model=model, limit=3, results_dir=results, progress=False))
            assert not out.failures, out.failures
            runs[model] = out.run_dir
    return runs


def metric(run_dir: Path, name: str) -> float:
    return json.loads((run_dir / "results.json").read_text())["metrics"][name]["mean"]


# --- end to end --------------------------------------------------------------------------------

def test_runs_write_audio_predictions_and_figures(baseline_runs):
    for _model, run_dir in baseline_runs.items():
        results = json.loads((run_dir / "results.json").read_text())
        assert results["n_scored"] == 3 and results["failures"] == []
        assert set(results["metrics"]) == set(get_task(TASK).metrics)
        ids = sorted(p.stem for p in (run_dir / "items").glob("*.json"))
        assert ids == ["piano-test-000", "piano-test-001", "piano-test-002"]
        for iid in ids:
            info = sf.info(str(run_dir / "predictions" / f"{iid}.wav"))
            assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
            assert (run_dir / "figures" / f"{iid}.png").stat().st_size > 10_000
            record = json.loads((run_dir / "items" / f"{iid}.json").read_text())
            assert record["scores"]["output_length_ratio"] == 1.0
            assert record["scores"]["output_resampled"] == 0.0 and record["scores"]["output_silent"] == 0.0
        assert (run_dir / "figures" / "summary.png").is_file()
        tdd = results["metrics"]["target_domain_distance"]
        # --limit 3: compared with the references of the same 3 items, not all 8 (issue 14)
        assert tdd["n"] == 3 and tdd["n_reference"] == 3 and tdd["domain"] == "violin"
        assert tdd["reference_set"] == "the references of the same 3 items (of 8 in the domain)"
        assert "floor" in tdd and tdd["warning"].startswith("small sample: 3 windows for 38 dimensions")
        assert tdd["ci_low"] <= tdd["mean"] <= tdd["ci_high"]


def test_baselines_are_ordered_as_expected(baseline_runs):
    idt, res, orc = (baseline_runs[m] for m in ("identity", "resynth", "oracle-resynth"))
    for name in ("timbre_correlation", "timbre_correlation_dtw"):
        assert metric(orc, name) > metric(res, name) > metric(idt, name), name
    assert metric(orc, "timbre_correlation_dtw") == pytest.approx(1.0, abs=1e-3)
    for name in ("content_correlation", "content_correlation_dtw", "source_timbre_correlation"):
        assert metric(idt, name) == pytest.approx(1.0, abs=1e-9)
        assert metric(idt, name) > max(metric(res, name), metric(orc, name)), name
    assert metric(orc, "target_domain_distance") < metric(res, "target_domain_distance") \
        < metric(idt, "target_domain_distance")


def test_leaderboard_ranks_oracle_resynth_identity(baseline_runs):
    from musebench.leaderboard import build_leaderboards
    from musebench.report import render

    results_dir = baseline_runs["identity"].parents[3]
    (board,) = build_leaderboards(results_dir=results_dir, task=TASK)
    assert board.primary == "timbre_correlation_dtw"
    assert list(board.table["model"]) == ["oracle-resynth", "resynth", "identity"]
    text = render([board])
    assert "target_domain_distance" in text and "[" in text


# --- bad model output --------------------------------------------------------------------------

class Fake(TranslationModel):
    name = "fake"

    def __init__(self, produce, *, domains=None):
        super().__init__(device="cpu")
        self.produce = produce
        if domains is not None:
            self.domains = domains

    def translate(self, audio, *, sample_rate, target_domain, context):
        return self.produce(audio, sample_rate)


@pytest.fixture
def setup(pairs_env):
    family = TranslationFamily()
    task = dataclasses.replace(get_task(TASK), metrics=("content_correlation", "source_timbre_correlation",
                                                        "timbre_correlation"))
    dataset = SynthPairs(pair="piano-to-violin")
    item = family.items(task=task, dataset=dataset)[0]
    return family, task, dataset, item


def predict_and_score(setup, produce, **kw):
    family, task, dataset, item = setup
    out = family.predict(model=Fake(produce, **kw), task=task, dataset=dataset, item=item,
                         context=Context(item=item, seed=0))
    return out, family.score(task=task, dataset=dataset, item=item, prediction=out)


def test_nan_output_is_a_one_line_model_error(setup):
    def nan(audio, sr):
        audio = audio.copy()
        audio[[10, 20]] = np.nan
        return audio

    message = r"^item piano-test-000: model fake returned audio with 2 NaN/inf sample\(s\)$"
    with pytest.raises(ModelError, match=message):
        predict_and_score(setup, nan)


@pytest.mark.parametrize("produce, message", [
    (lambda a, sr: np.zeros(0, np.float32), "returned empty audio (zero samples)"),
    (lambda a, sr: "noise", "returned str, not a NumPy array of audio"),
    (lambda a, sr: (a, 0), "returned sample rate 0 (expected a positive integer)"),
    (lambda a, sr: 1 / 0, "raised ZeroDivisionError: division by zero"),
])
def test_other_bad_outputs(setup, produce, message):
    with pytest.raises(ModelError) as err:
        predict_and_score(setup, produce)
    assert str(err.value) == f"item piano-test-000: model fake {message}"


def test_stereo_output_is_mixed_down_and_recorded(setup, tmp_path):
    family = setup[0]
    out, scores = predict_and_score(setup, lambda a, sr: np.stack([a, a], axis=1))
    assert out.channels == 2
    assert scores["output_channels"] == 2.0 and scores["content_correlation"] == pytest.approx(1.0, abs=1e-6)
    # (channels, frames) orientation is accepted too; the prediction file keeps both channels
    out2, _ = predict_and_score(setup, lambda a, sr: np.stack([a, 0.5 * a]))
    family.save_prediction(out2, tmp_path / "x.wav")
    assert sf.info(str(tmp_path / "x.wav")).channels == 2
    assert family.load_prediction(tmp_path / "x.wav").channels == 2


def test_other_sample_rate_is_resampled_and_recorded(setup):
    from musebench.audio import resample

    out, scores = predict_and_score(setup, lambda a, sr: (resample(a, sr, 22050), 22050))
    assert out.sample_rate == 22050
    assert scores["output_resampled"] == 1.0
    assert scores["output_length_ratio"] == pytest.approx(1.0, abs=1e-3)
    assert scores["content_correlation"] > 0.99 and scores["source_timbre_correlation"] > 0.99


def test_shorter_output_is_aligned_and_recorded(setup):
    _, scores = predict_and_score(setup, lambda a, sr: a[: len(a) // 2])
    assert scores["output_length_ratio"] == pytest.approx(0.5, abs=1e-4)
    assert 0.3 < scores["content_correlation"] < 0.8  # the missing half counts as silence


def test_silent_output_scores_zero_and_is_flagged(setup):
    family, task, dataset, item = setup
    task = dataclasses.replace(task, metrics=task.metrics + ("pitch_accuracy",))
    out = family.predict(model=Fake(lambda a, sr: np.zeros_like(a)), task=task, dataset=dataset, item=item,
                         context=Context(item=item, seed=0))
    scores = family.score(task=task, dataset=dataset, item=item, prediction=out)
    assert scores["output_silent"] == 1.0
    for name in ("content_correlation", "content_correlation_dtw", "timbre_correlation", "timbre_correlation_dtw",
                 "source_timbre_correlation", "pitch_accuracy"):
        assert scores[name] == 0.0, name


def test_undefined_target_domain_is_a_config_error(setup):
    family, task, dataset, _ = setup
    bad = dataclasses.replace(task, params={**task.params, "target_domain": "violn"})
    with pytest.raises(ConfigError, match=r"^task synth-piano-to-violin: target domain 'violn' is not defined; "
                                          r"did you mean 'violin'\?$"):
        family.items(task=bad, dataset=dataset)
    other = dataclasses.replace(task, params={**task.params, "target_domain": "flute"})
    with pytest.raises(ConfigError, match="target domain 'flute', but the items of dataset synth-pairs are paired "
                                          "with violin"):
        family.items(task=other, dataset=dataset)


def test_model_without_the_target_domain_is_a_config_error(setup):
    message = r"model fake does not define target domain 'violin' \(it has: piano, flute\)"
    with pytest.raises(ConfigError, match=message):
        predict_and_score(setup, lambda a, sr: a, domains=("piano", "flute"))
    resynth = get_model_class("resynth", family="translation")(device="cpu")
    with pytest.raises(ConfigError, match="^resynth: target domain 'tuba' is not defined"):
        resynth.translate(np.zeros(100, np.float32), sample_rate=16000, target_domain="tuba", context=None)


def test_check_output_integer_and_column_audio():
    out = check_output((np.full((4, 1), 16384, np.int16), 8000), sample_rate=16000, name="m")
    assert out.sample_rate == 8000 and out.audio.shape == (4,) and out.audio[0] == pytest.approx(0.5, abs=1e-4)


# --- the predictions adapter -------------------------------------------------------------------

def test_predictions_directory(pairs_env, tmp_path):
    from musebench.audio import load_audio, resample

    dataset = SynthPairs(pair="piano-to-violin")
    items = dataset.items("test")[:2]
    folder = tmp_path / "outputs"
    folder.mkdir()
    ref, _ = load_audio(items[0].files["reference_audio"], sample_rate=16000)
    stereo = np.stack([ref, ref], axis=1)
    sf.write(str(folder / f"{items[0].id}.flac"), resample(stereo, 16000, 44100), 44100, subtype="PCM_16")
    task = dataclasses.replace(get_task(TASK), metrics=("timbre_correlation", "content_correlation"))
    task_file = tmp_path / "task.yaml"
    import yaml

    raw = yaml.safe_load(get_task(TASK).path.read_text())
    raw.update(metrics=list(task.metrics), name="tmp-predictions", primary_metric=task.metrics[0])
    task_file.write_text(yaml.safe_dump(raw))
    out = run_task(RunOptions(task=str(task_file), model="predictions", model_params={"path": str(folder)},
                              limit=2, results_dir=tmp_path / "res", progress=False))
    assert out.failures == [{"item": items[1].id, "error": f"predictions: no audio file for item {items[1].id!r} "
                                                             f"(expected {folder / (items[1].id + '.wav')} or .flac)"}]
    record = json.loads((out.run_dir / "items" / f"{items[0].id}.json").read_text())["scores"]
    assert record["output_channels"] == 2.0 and record["output_resampled"] == 1.0
    assert record["timbre_correlation"] > 0.95  # 16 -> 44.1 -> 16 kHz loses a little near Nyquist
    assert out.results["model"]["predictions_files"] == 1
