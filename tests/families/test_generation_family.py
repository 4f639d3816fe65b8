"""The generation family end to end: tasks, runs, set metrics, memorization, leaderboard."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from musebench.errors import ConfigError
from musebench.families.generation import GenerationParams
from musebench.models import MODELS
from musebench.models.base import GenerationModel
from musebench.runner import RunOptions, run_task
from musebench.tasks import get_task, load_task_file

SR = 16000


def _run(model: str, task: str = "synth-continuation", **kw):
    return run_task(RunOptions(task=task, model=model, progress=False, **kw))


@pytest.fixture(scope="module")
def continuation_runs(tmp_path_factory, synth_root):
    """oracle, noise and copy-train on the first 4 items of synth-continuation (one results dir)."""
    results = tmp_path_factory.mktemp("gen-results")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MUSEBENCH_SYNTH_ROOT", str(synth_root))
        runs = {m: _run(m, limit=4, results_dir=results) for m in ("oracle", "noise", "copy-train")}
    return results, runs


def test_tasks_load():
    for name, mode in (("synth-continuation", "continuation"), ("synth-unconditional", "unconditional")):
        task = get_task(name)
        assert task.family == "generation" and task.metrics[0] == "frechet_mfcc"
        assert GenerationParams.from_task(task).mode == mode
    p = GenerationParams.from_task(get_task("synth-continuation"))
    assert (p.seed_seconds, p.seconds) == (3.0, 5.0)
    assert p.embedding_for("frechet_my_clap") == "my-clap"
    assert p.embedding_for("kad_mfcc") == p.embedding_for("frechet_inf_mfcc") == p.embedding_for("frechet_mfcc") == "mfcc"


def test_bad_task_parameters(tmp_path: Path):
    src = Path(get_task("synth-continuation").path).read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(src.replace("  mode: continuation", "  mode: continuation\n  seeds: 3"))
    with pytest.raises(ConfigError,
                       match=r"^task synth-continuation: unknown generation parameter\(s\) seeds \(known: "):
        GenerationParams.from_task(load_task_file(bad))


def test_continuation_runs_order_floors_and_ceilings(continuation_runs):
    results, runs = continuation_runs
    m = {name: out.results["metrics"] for name, out in runs.items()}
    for name, out in runs.items():
        assert out.results["n_scored"] == 4 and not out.failures, name
    # the oracle is the true continuation: distance 0 with a paired CI of 0
    assert m["oracle"]["frechet_mfcc"]["mean"] == pytest.approx(0.0, abs=1e-6)
    assert m["oracle"]["frechet_mfcc"]["ci_high"] == pytest.approx(0.0, abs=1e-6)
    assert m["oracle"]["continuation_correlation"]["mean"] == pytest.approx(1.0)
    assert m["noise"]["frechet_mfcc"]["mean"] > 10 * m["copy-train"]["frechet_mfcc"]["mean"]
    assert m["noise"]["frechet_mfcc"]["ci_low"] > m["copy-train"]["frechet_mfcc"]["ci_high"]
    for metric in ("frechet_mfcc", "kad_mfcc"):
        assert min(m["noise"][metric]["mean"], m["copy-train"][metric]["mean"]) > m["oracle"][metric]["mean"] + 0.1
        fd = m["noise"][metric]
        assert fd["n"] == fd["n_generated"] == fd["n_reference"] == 4 and fd["paired"] is True
        assert fd["floor"] is not None and fd["reference_set"] == "the true continuations of the same 4 items"
        for run in m.values():  # every point estimate inside its own interval
            assert run[metric]["ci_low"] <= run[metric]["mean"] <= run[metric]["ci_high"], metric
    assert m["noise"]["frechet_mfcc"]["warning"].startswith("small sample:")
    assert m["noise"]["frechet_inf_mfcc"]["mean"] > m["copy-train"]["frechet_inf_mfcc"]["mean"]
    assert {"slope", "r2", "points"} <= set(m["noise"]["frechet_inf_mfcc"])
    per_clip = m["noise"]["frechet_mfcc"]["per_clip"]  # fadtk's per-song FAD, worst first
    assert len(per_clip) == 4 and per_clip[0]["distance"] >= per_clip[-1]["distance"]
    assert m["noise"]["spectral_flatness"]["mean"] > 10 * m["oracle"]["spectral_flatness"]["mean"]
    assert m["noise"]["pitch_salience"]["mean"] < m["oracle"]["pitch_salience"]["mean"] - 0.3
    # memorization: copy-train is flagged on every clip, the others on none
    assert m["copy-train"]["memorized_ratio"]["mean"] == 1.0
    assert m["oracle"]["memorized_ratio"]["mean"] == 0.0 and m["noise"]["memorized_ratio"]["mean"] == 0.0
    assert m["copy-train"]["memorization_distance"]["mean"] < m["copy-train"]["memorized_ratio"]["threshold"]
    assert m["oracle"]["memorized_ratio"]["n_train_clips"] == 32
    # predictions are 5 s, 16-bit WAVs named by item id
    import soundfile as sf

    info = sf.info(str(runs["noise"].run_dir / "predictions" / "piano-test-000.wav"))
    assert (info.samplerate, info.frames, info.subtype) == (SR, 5 * SR, "PCM_16")


def test_leaderboard_ranks_floor_last(continuation_runs):
    from musebench.leaderboard import build_leaderboards
    from musebench.report import render

    results, _ = continuation_runs
    board = build_leaderboards(results_dir=results, task="synth-continuation")[0]
    assert board.primary == "frechet_mfcc"
    assert list(board.table["model"]) == ["oracle", "copy-train", "noise"]
    assert list(board.table["rank"]) == [1, 2, 3]
    assert ("rank = 1 + the number of models significantly better (its bootstrap CI lies wholly on the better "
            "side; a set-level metric)") in render([board])


def test_predictions_folder_scores_like_the_run_it_came_from(continuation_runs, synth_env, tmp_path: Path):
    results, runs = continuation_runs
    folder = tmp_path / "generated"
    shutil.copytree(runs["copy-train"].run_dir / "predictions", folder)
    out = _run("predictions", limit=4, results_dir=tmp_path / "r", model_params={"path": str(folder)})
    for name in ("frechet_mfcc", "silence_ratio", "memorized_ratio", "seed_coherence"):
        assert out.results["metrics"][name]["mean"] == pytest.approx(
            runs["copy-train"].results["metrics"][name]["mean"], abs=1e-9), name


class _BadGenerator(GenerationModel):
    name = "bad-generator"

    def generate(self, n, seconds, *, seed_audio=None, sample_rate, rng, context=None):
        kind = self.params.get("kind")
        if kind == "short":
            return [np.zeros(int(sample_rate * seconds / 2), np.float32)]
        if kind == "nan":
            return [np.full(int(sample_rate * seconds), np.nan, np.float32)]
        raise RuntimeError("boom")


@pytest.mark.parametrize("kind, message", [
    ("short", "item piano-test-000: model bad-generator returned 2.500 s of audio, expected 5 s"),
    ("nan", "item piano-test-000: model bad-generator output: audio contains 80000 NaN/inf sample(s)"),
    ("raise", "item piano-test-000: model bad-generator raised RuntimeError: boom"),
])
def test_broken_generators_fail_their_items(synth_env, kind, message):
    MODELS["generation"].register("bad-generator", _BadGenerator, replace=True)
    out = _run("bad-generator", limit=1, model_params={"kind": kind})
    assert out.failures == [{"item": "piano-test-000", "error": message}]
    assert out.results["metrics"] == {}


def test_unconditional_oracle_and_plugin_embedding(synth_env, tmp_path: Path):
    """synth-unconditional with the oracle; a plug-in Fréchet metric through a custom embedding."""
    from musebench.embeddings import EMBEDDINGS, Embedding, frechet_metric_spec
    from musebench.metrics import METRICS

    class Loudness(Embedding):
        name = "loudness"
        sample_rate = 16000

        @property
        def dim(self):
            return 2

        def frames(self, audio):
            x = audio[: len(audio) // 160 * 160].reshape(-1, 160)
            rms = np.sqrt(np.mean(x ** 2, axis=1) + 1e-12)
            return np.stack([rms, np.abs(x).max(axis=1)], axis=1), 100.0

    EMBEDDINGS.register("loudness", Loudness, replace=True)
    METRICS.register("frechet_loudness", frechet_metric_spec("loudness"), replace=True)
    try:
        src = Path(get_task("synth-unconditional").path).read_text()
        task_file = tmp_path / "uncond-plugin.yaml"
        task_file.write_text(src.replace("name: synth-unconditional", "name: uncond-plugin")
                             .replace("  - kad_mfcc\n", "  - frechet_loudness\n")
                             .replace("  - pitch_salience\n", ""))
        out = _run("oracle", task=str(task_file))
        metrics = out.results["metrics"]
        ids = sorted(p.stem for p in (out.run_dir / "predictions").glob("*.wav"))
        assert ids == [f"clip-{k:03d}" for k in range(16)]
        assert metrics["frechet_mfcc"]["mean"] == pytest.approx(0.0, abs=1e-6)
        assert metrics["frechet_loudness"]["mean"] == pytest.approx(0.0, abs=1e-9)
        assert metrics["frechet_loudness"]["embedding"] == "loudness" and metrics["frechet_loudness"]["dim"] == 2
        assert metrics["memorized_ratio"]["mean"] == 0.0
        assert metrics["frechet_mfcc"]["warning"] is None  # 16 clips x 13 windows for 52 dimensions
        results = json.loads((out.run_dir / "results.json").read_text())
        assert results["metrics"]["frechet_loudness"]["higher_is_better"] is False
    finally:
        METRICS._entries.pop("frechet_loudness", None)
        EMBEDDINGS._entries.pop("loudness", None)
