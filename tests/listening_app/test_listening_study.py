"""Study building: loudness, degradations, manifests, runs, opaque ids, assignment balance."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from musebench.audio import write_audio
from musebench.errors import BadInputError, ConfigError, MissingDataError
from musebench.listening_app import stimuli as sx
from musebench.listening_app.assignment import choose_balanced, insert_checks, spread_items
from musebench.listening_app.study import (Entry, StudyConfig, build_study, check_no_names, entries_from_manifest,
                                 entries_from_runs)
from musebench.listening_app.synthetic import make_study_folder

SR = 48000


def sine(freq: float = 997.0, seconds: float = 2.0, amp: float = 1.0, sr: int = SR) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr)).astype(np.float32)


# --------------------------------------------------------------------------- loudness
def test_loudness_of_full_scale_sine_matches_bs1770():
    # BS.1770: a 0 dBFS 997 Hz sine in one channel reads -3.01 LKFS; halving the amplitude -6.02 dB.
    assert sx.integrated_loudness(sine(), sample_rate=SR) == pytest.approx(-3.01, abs=0.1)
    assert sx.integrated_loudness(sine(amp=0.5), sample_rate=SR) == pytest.approx(-9.03, abs=0.1)
    assert sx.integrated_loudness(np.zeros(SR), sample_rate=SR) is None
    # shorter than one 400 ms block: looped, same loudness
    assert sx.integrated_loudness(sine(amp=0.5, seconds=0.1), sample_rate=SR) == pytest.approx(-9.03, abs=0.15)


def test_true_peak_and_silence():
    assert sx.true_peak_dbfs(sine(amp=0.5), sample_rate=SR) == pytest.approx(-6.02, abs=0.05)
    assert sx.true_peak_dbfs(np.zeros(100), sample_rate=SR) == sx.SILENCE_DB


def test_target_is_lowered_so_nothing_clips():
    quiet_spiky = sx.Level(loudness_lufs=-30.0, peak_dbfs=-3.0)  # crest 27 dB: at -23 LUFS it would clip
    normal = sx.Level(loudness_lufs=-12.0, peak_dbfs=-1.0)
    silent = sx.Level(loudness_lufs=None, peak_dbfs=sx.SILENCE_DB)
    assert sx.choose_target([normal, silent], preferred_lufs=-23.0) == -23.0
    target = sx.choose_target([normal, quiet_spiky, silent], preferred_lufs=-23.0, headroom_db=1.0)
    assert target == -28.0  # -30 - (-3) - 1
    assert sx.gain_for(quiet_spiky, target_lufs=target) == pytest.approx(2.0)
    assert sx.gain_for(normal, target_lufs=target) == pytest.approx(-16.0)
    assert sx.gain_for(silent, target_lufs=target) == 0.0
    # a clip that would need more than max_gain_db is capped and does not drag the target down
    faint = sx.Level(loudness_lufs=-80.0, peak_dbfs=-60.0)
    assert sx.choose_target([normal, faint], preferred_lufs=-23.0, max_gain_db=40.0) == -23.0
    assert sx.gain_for(faint, target_lufs=-23.0, max_gain_db=40.0) == 40.0


def test_lowpass_anchor_removes_high_frequencies():
    x = sine(freq=440.0) * 0.3 + sine(freq=8000.0) * 0.3
    y = sx.lowpass(x, sample_rate=SR, cutoff_hz=3500.0)
    spec = np.abs(np.fft.rfft(y[SR // 2: SR // 2 + SR]))
    assert spec[8000] < 1e-3 * spec[440]
    with pytest.raises(BadInputError, match=r"^low-pass cutoff 30000.0 Hz must lie between 0 and 24000.0 Hz$"):
        sx.lowpass(x, sample_rate=SR, cutoff_hz=30000.0)


def test_trap_clip_has_the_beeps_at_the_end():
    sr = 16000
    source = sine(freq=300, seconds=5, amp=0.2, sr=sr)
    clip = sx.with_beeps(source, sample_rate=sr, count=3)
    assert clip.shape[0] == source.shape[0]  # a trap is as long as the clip it is made from
    head = 5 * sr - int(0.5 * sr) - 3 * (int(0.15 * sr) + int(0.2 * sr))
    assert np.array_equal(clip[:head], source[:head])
    hop = int(0.01 * sr)
    tail = clip[head + int(0.5 * sr):]
    env = np.sqrt(np.mean(tail[: tail.size // hop * hop].reshape(-1, hop) ** 2, axis=1)) > 0.01
    onsets = np.flatnonzero(env[1:] & ~env[:-1])
    assert len(onsets) + int(env[0]) == 3
    with pytest.raises(BadInputError, match=r"^trap beep count must be 1..5, got 6$"):
        sx.with_beeps(clip, sample_rate=sr, count=6)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_headphone_check_answer_is_the_quiet_tone(seed):
    sr = 8000
    audio, answer = sx.headphone_check(seed=seed, sample_rate=sr, tone_s=0.5)
    seg = int(0.5 * sr) + int(0.5 * sr)
    tones = [audio[k * seg: k * seg + int(0.5 * sr)] for k in range(3)]
    rms = [float(np.sqrt(np.mean(t ** 2))) for t in tones]
    assert int(np.argmin(rms)) + 1 == answer
    assert rms[answer - 1] == pytest.approx(rms[(answer % 3)] / 2, rel=0.02)  # -6 dB
    antiphase = [k for k in range(3) if np.allclose(tones[k][:, 0], -tones[k][:, 1]) and np.any(tones[k] != 0)]
    assert len(antiphase) == 1 and antiphase[0] + 1 != answer


# --------------------------------------------------------------------------- manifests and runs
def test_manifest_errors_are_one_line_and_name_the_row(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    with pytest.raises(MissingDataError, match=r"no manifest.csv or manifest.json \(pass --manifest\)$"):
        entries_from_manifest(folder)
    (folder / "manifest.csv").write_text("file,condition,item,colour\na.wav,x,i1,red\n")
    with pytest.raises(BadInputError, match=r"manifest.csv: row 1: unknown column\(s\) colour \(known: condition, "
                                            r"file, item, kind, reference, source\)$"):
        entries_from_manifest(folder)
    (folder / "manifest.csv").write_text("file,condition,item\na.wav,x,i1\n")
    with pytest.raises(MissingDataError, match=r"manifest.csv: row 1: file file .*a.wav not found$"):
        entries_from_manifest(folder)
    (folder / "manifest.json").write_text(json.dumps({"stimuli": [{"file": "a.wav", "condition": "x"}]}))
    with pytest.raises(BadInputError, match=r"manifest.json: row 1: missing 'item'$"):
        entries_from_manifest(folder, folder / "manifest.json")


def test_manifest_json_and_csv_agree(tmp_path):
    make_study_folder(tmp_path / "f", conditions=["a", "b"], n_items=2, seconds=0.3)
    csv_entries = entries_from_manifest(tmp_path / "f")
    import csv

    rows = list(csv.DictReader((tmp_path / "f" / "manifest.csv").open()))
    (tmp_path / "f" / "m.json").write_text(json.dumps(rows))
    assert entries_from_manifest(tmp_path / "f", tmp_path / "f" / "m.json") == csv_entries
    assert len(csv_entries) == 4 and {e.condition for e in csv_entries} == {"a", "b"}
    assert all(e.source is not None and e.reference is not None for e in csv_entries)


def fake_runs(root: Path, models: dict[str, str], items=("it1", "it2", "it3"), sr: int = 16000) -> Path:
    """results/runs/task1/<dir>/<run>/ with results.json, items/*.json, predictions/*.wav."""
    rng = np.random.default_rng(0)
    for dirname, model in models.items():
        for run_id, created in (("old", "2024-01-01T00:00:00+00:00"), ("new", "2025-01-01T00:00:00+00:00")):
            run = root / "runs" / "task1" / dirname / run_id
            (run / "items").mkdir(parents=True)
            (run / "results.json").write_text(json.dumps({
                "run_id": run_id, "created": created, "model": {"name": model},
                "task": {"name": "task1", "family": "translation", "version": 1, "dataset": "d", "split": "test"},
                "metrics": {"fad": {"mean": 1.5, "ci_low": 1.0, "ci_high": 2.0, "higher_is_better": False}}}))
            for i, item in enumerate(items):
                failed = run_id == "new" and i == 2 and dirname == "m1"
                (run / "items" / f"{item}.json").write_text(json.dumps(
                    {"id": item, "status": "failed" if failed else "ok", "scores": {}}))
                if not failed:
                    write_audio(run / "predictions" / f"{item}.wav",
                                (0.1 * rng.standard_normal(sr // 2)).astype(np.float32), sr)
    for item in items:
        write_audio(root / "src" / f"{item}.wav", sine(freq=330, seconds=0.5, amp=0.3, sr=sr), sr)
    return root


def test_entries_from_runs_uses_newest_run_and_ok_items(tmp_path):
    fake_runs(tmp_path, {"m1": "SecretModelOne", "m2": "SecretModelTwo"})
    resolver = lambda task: {i: (tmp_path / "src" / f"{i}.wav", None) for i in ("it1", "it2", "it3")}  # noqa: E731
    entries = entries_from_runs(results_dir=tmp_path, task="task1", resolve_items=resolver)
    by_model = {}
    for e in entries:
        by_model.setdefault(e.condition, []).append(e.item)
        assert e.run_dir.name == "new" and e.source == tmp_path / "src" / f"{e.item}.wav"
    assert by_model == {"SecretModelOne": ["it1", "it2"], "SecretModelTwo": ["it1", "it2", "it3"]}
    old = entries_from_runs(results_dir=tmp_path, task="task1", run_ids={"m1": "old"}, models=["SecretModelOne"],
                            resolve_items=resolver)
    assert [e.item for e in old] == ["it1", "it2", "it3"]
    with pytest.raises(MissingDataError, match=r"no run with results.json for model\(s\) nope$"):
        entries_from_runs(results_dir=tmp_path, task="task1", models=["nope"], resolve_items=resolver)
    with pytest.raises(MissingDataError, match=r"runs/task9: no runs for task 'task9'$"):
        entries_from_runs(results_dir=tmp_path, task="task9")
    # a study from these runs: only items with a clip from every model; similarity needs the source
    built = build_study(entries, StudyConfig(name="runs", sample_rate=16000, n_gold=1, n_traps=1))
    assert sorted(built.items + built.check_items) == ["it1", "it2"] and len(built.check_items) == 1
    assert {c["name"] for c in built.conditions} == {"SecretModelOne", "SecretModelTwo"}  # no reference: no anchor


def test_similarity_without_source_is_refused(tmp_path):
    fake_runs(tmp_path, {"m1": "A"})
    entries = entries_from_runs(results_dir=tmp_path, task="task1", resolve_items=lambda t: {})
    with pytest.raises(ConfigError, match=r"^study 's': the similarity question needs source audio, missing for "
                                          r"item\(s\) it1, it2$"):
        build_study(entries, StudyConfig(name="s", sample_rate=16000))
    built = build_study(entries, StudyConfig(name="s", family="generation", sample_rate=16000, n_gold=1))
    assert built.config.questions == ("quality",)


# --------------------------------------------------------------------------- building
@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("study")
    make_study_folder(folder, conditions=["SecretAlpha", "SecretBeta", "SecretGamma"], n_items=4, seconds=0.6)
    return build_study(entries_from_manifest(folder), StudyConfig(name="demo", sample_rate=16000, n_gold=2,
                                                                   n_traps=2, per_rater=6))


def test_built_study_has_reference_anchor_gold_traps_training(built):
    kinds = {c["name"]: c["kind"] for c in built.conditions}
    assert kinds == {"SecretAlpha": "system", "SecretBeta": "system", "SecretGamma": "system",
                     "reference": "reference", "anchor": "anchor"}
    count = {}
    for t in built.trials:
        count[t.kind] = count.get(t.kind, 0) + 1
    assert count == {"test": 5 * 3, "gold": 2, "trap": 2, "training": 4}  # 4 items: 3 tested, 1 held out
    assert len(built.items) == 3 and len(built.check_items) == 1 and not set(built.items) & set(built.check_items)
    gold = [t.expected for t in built.trials if t.kind == "gold"]
    assert gold == [{"quality": [4, 5]}, {"quality": [1, 2]}]
    for t in built.trials:
        if t.kind == "trap":
            k = t.expected["quality"][0]
            assert t.expected == {"quality": [k, k], "similarity": [k, k]}
        assert t.source_id is not None and t.questions == ("quality", "similarity")
    assert [t.position for t in built.trials if t.kind == "training"] == [0, 1, 2, 3]


def test_stimuli_have_opaque_ids_and_plain_wav(built):
    ids = [s.id for s in built.stimuli] + [t.id for t in built.trials]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", built.public_id)
    for s in built.stimuli:
        assert s.wav[:4] == b"RIFF" and b"Secret" not in s.wav and b"LIST" not in s.wav  # no metadata chunk


def test_loudness_is_matched_and_nothing_clips(built):
    assert built.target_lufs == -23.0
    for s in built.stimuli:
        audio, sr = sf.read(io.BytesIO(s.wav), dtype="float32")
        assert sr == 16000
        assert 20 * np.log10(np.max(np.abs(audio))) <= -1.0 + 0.01
        assert s.peak_dbfs <= -1.0 + 1e-9
        assert sx.integrated_loudness(audio, sample_rate=sr) == pytest.approx(-23.0, abs=0.1)
    log = built.loudness_log()
    assert len(log) == len(built.stimuli)
    assert set(log[0]) == {"stimulus", "role", "condition", "item", "loudness_lufs", "gain_db", "peak_dbfs",
                           "duration_s"}


def test_condition_names_may_not_appear_in_rater_text(tmp_path):
    with pytest.raises(ConfigError, match=r"^rater-facing text 'Rate SecretAlpha' contains condition name "
                                          r"'SecretAlpha'$"):
        check_no_names(["Rate SecretAlpha"], names=["SecretAlpha", "reference"])
    check_no_names(["Compare with the reference"], names=["reference"])  # generic names are fine
    folder = tmp_path / "f"
    make_study_folder(folder, conditions=["SecretAlpha"], n_items=2, seconds=0.3)
    with pytest.raises(ConfigError, match="contains condition name 'SecretAlpha'"):
        build_study(entries_from_manifest(folder), StudyConfig(name="x", title="secretalpha test", sample_rate=16000))


def test_config_validation_messages():
    with pytest.raises(ConfigError, match=r"^study 'x': unknown question 'loudness' \(known: quality, similarity, "
                                          r"degradation, mushra, preference\)$"):
        StudyConfig(name="x", questions=("loudness",))
    with pytest.raises(ConfigError, match=r"^study name 'a b' must be letters, digits, '-', '_' or '.'$"):
        StudyConfig(name="a b")
    with pytest.raises(ConfigError, match=r"^study 'x': headphone_pass \(4\) exceeds headphone_trials \(3\)$"):
        StudyConfig(name="x", headphone_trials=3, headphone_pass=4)
    with pytest.raises(ConfigError, match=r"^study 'x': no item has a clip from every condition \(a, b\)$"):
        build_study([Entry("i1", "a", Path("x.wav")), Entry("i2", "b", Path("y.wav"))],
                    StudyConfig(name="x", family="generation"))


# --------------------------------------------------------------------------- assignment
def test_balanced_coverage_within_one():
    rng = np.random.default_rng(0)
    counts = {f"t{i}": 0 for i in range(12)}
    for _ in range(37):
        for t in choose_balanced(counts, 5, rng=rng):
            counts[t] += 1
        assert max(counts.values()) - min(counts.values()) <= 1
    assert sum(counts.values()) == 37 * 5


def test_order_spreads_items_and_checks_skip_warmup():
    rng = np.random.default_rng(1)
    items = {f"t{i}": f"item{i % 4}" for i in range(12)}
    for _ in range(20):
        order = spread_items(list(items), items, rng=rng)
        assert sorted(order) == sorted(items)
        assert all(items[a] != items[b] for a, b in zip(order, order[1:]))
        full = insert_checks(order, ["g1", "g2", "trap"], rng=rng, warmup=2)
        assert len(full) == 15 and not {"g1", "g2", "trap"} & set(full[:2])
