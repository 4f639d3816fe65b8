"""Translation data: the synth-pairs manifest and dataset, domain lists, task files, and an
unpaired run on a tiny MusicNet copy."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from musebench.datasets import synth
from musebench.datasets.synth_pairs import PAIRS, SynthPairs
from musebench.datasets.translation_domains import SYNTH_DOMAINS, domain_names, get_domain
from musebench.errors import ConfigError, MissingDataError
from musebench.paths import package_data
from musebench.tasks import all_tasks

PAIRS_MANIFEST = json.loads(package_data("manifests", "synth_pairs.json").read_text())
SYNTH_MANIFEST = json.loads(package_data("manifests", "synth.json").read_text())


def test_pairs_manifest_agrees_with_synth():
    items = PAIRS_MANIFEST["items"]
    assert len(items) == len(PAIRS) * (synth.SPLIT_SIZES["validation"] + synth.SPLIT_SIZES["test"])
    for key, entry in items.items():
        meta = entry["metadata"]
        pair = PAIRS[meta["pair"]]
        synth_entry = SYNTH_MANIFEST["items"][meta["synth_id"]]
        assert key == f"{meta['pair']}/{meta['synth_id']}"
        assert entry["split"] == synth_entry["split"]
        assert entry["files"]["midi"]["sha256"] == synth_entry["files"]["midi"]["sha256"]
        assert entry["files"]["audio"]["path"].startswith(f"program-{pair.source_program:03d}/")
        assert entry["files"]["reference_audio"]["path"].startswith(f"program-{pair.target_program:03d}/")
        if pair.source_program == 0:  # the piano rendering is synth's own audio, byte for byte
            assert entry["files"]["audio"]["sha256"] == synth_entry["files"]["audio"]["sha256"]
        assert (meta["source_domain"], meta["target_domain"]) == (pair.source_domain, pair.target_domain)
        assert SYNTH_DOMAINS[pair.source_domain][0] == pair.source_program


def test_unseen_pair_uses_a_program_no_synth_item_uses():
    unseen = [name for name, p in PAIRS.items() if p.unseen_source]
    assert unseen == ["clarinet-to-piano"]
    used = {prog for e in SYNTH_MANIFEST["items"].values() for prog in e["metadata"]["programs"]}
    assert PAIRS["clarinet-to-piano"].source_program not in used
    assert PAIRS["clarinet-to-piano"].source_program in synth.UNSEEN_PROGRAMS


def test_dataset_parameters_and_missing_data(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown pair 'piano-to-tuba' \(known: piano-to-violin"):
        SynthPairs(pair="piano-to-tuba")
    assert SynthPairs().pair == "piano-to-violin"
    with pytest.raises(MissingDataError, match=r"not prepared under .*; run `musebench datasets prepare synth-pairs`"):
        SynthPairs(root=tmp_path, pair="piano-to-flute").items("test")
    a, b = SynthPairs(pair="piano-to-violin"), SynthPairs(pair="piano-to-flute")
    assert a.fingerprint("test") != b.fingerprint("test")
    assert sorted(a.manifest().ids("test")) == [f"piano-test-{i:03d}" for i in range(8)]


def test_prepared_pairs_verify_and_items(tmp_path):
    """prepare() renders every pair, checks the bytes against the manifest and stamps each pair."""
    ds = SynthPairs(root=tmp_path / "pairs", pair="clarinet-to-piano")
    assert not ds.is_verified("test")
    report = ds.prepare(progress=False)  # renders every pair; raises if bytes differ from the manifest
    assert report.ok and report.checked == 84 and report.extra == []
    for pair in PAIRS:
        assert SynthPairs(root=tmp_path / "pairs", pair=pair).is_verified("test")
    items = ds.items("test")
    assert [it.id for it in items][:2] == ["piano-test-000", "piano-test-001"]
    it = items[0]
    assert it.metadata["source_program"] == 71 and it.metadata["target_program"] == 0
    assert it.audio_path.name == "piano-test-000.wav" and "program-071" in str(it.audio_path)
    notes = ds.load_notes(it)
    assert len(notes) == it.metadata["n_notes"]
    (tmp_path / "pairs" / "program-071" / "test" / "piano-test-000.wav").write_bytes(b"RIFF")
    broken = ds.verify()
    assert broken.changed == ["program-071/test/piano-test-000.wav"]


# --- domains -------------------------------------------------------------------------------------

def test_every_domain_list_loads():
    names = domain_names()
    assert names[:5] == list(SYNTH_DOMAINS)
    assert {"musicnet-beethoven-violin", "musicnet-bach-cello", "musicnet-bach-piano", "musicnet-beethoven-piano",
            "musicnet-beethoven-quartet", "musicnet-cambini-quintet"} <= set(names)
    assert sum(n.startswith("nsynth-") for n in names) == 11
    for name in names:
        d = get_domain(name)
        assert 0 <= d.program <= 127 and d.description


def test_musicnet_lists_match_the_manifest_metadata():
    manifest = json.loads(package_data("manifests", "musicnet.json").read_text())["items"]
    for name in domain_names():
        d = get_domain(name)
        if d.dataset != "musicnet":
            continue
        sel = d.selection
        for split, ids in d.held_out.items():
            for i in ids:
                assert manifest[i]["split"] == split
                assert (manifest[i]["metadata"]["composer"], manifest[i]["metadata"]["ensemble"]) == \
                    (sel["composer"], sel["ensemble"])
        refs = d.references["ids"]
        assert d.references["split"] == "train" and 0 < len(refs) <= 16 and refs == sorted(refs, key=int)
        assert all(manifest[i]["split"] == "train" for i in refs)
    assert get_domain("musicnet-bach-cello").held_out["test"] == ["2296"]


def test_translation_tasks_reference_defined_domains():
    tasks = [t for t in all_tasks().values() if t.family == "translation"]
    names = {t.name for t in tasks}
    assert {"synth-piano-to-violin", "synth-piano-to-flute", "synth-strings-to-piano",
            "synth-unseen-clarinet-to-piano"} <= names
    assert any(n.startswith("musicnet-") for n in names) and any(n.startswith("nsynth-") for n in names)
    for t in tasks:
        target = get_domain(t.params["target_domain"], task=t.name)
        if t.dataset == "synth-pairs":
            pair = PAIRS[t.dataset_params["pair"]]
            assert pair.target_domain == target.name
            assert "timbre_correlation" in t.metrics
        else:
            source = get_domain(t.params["source_domain"])
            assert source.dataset == target.dataset == t.dataset
            assert t.split in source.held_out
            assert "timbre_correlation" not in t.metrics  # no paired reference
            if source.held_out[t.split] is not None:
                assert source.held_out[t.split], t.name


def test_nsynth_lists_are_rules_until_frozen():
    d = get_domain("nsynth-guitar")
    assert d.selection["instrument_family"] == "guitar" and d.selection["velocity"] == 100
    assert d.references["split"] == "validation"


# --- an unpaired run on a tiny MusicNet copy -----------------------------------------------------

def build_musicnet(base: Path, ids: list[str]) -> tuple[Path, Path]:
    import fixtures_datasets as F

    root = base / "musicnet"
    real = json.loads(package_data("manifests", "musicnet.json").read_text())["items"]
    rng = np.random.default_rng(0)
    for _k, item_id in enumerate(ids):
        entry = real[item_id]
        pitches = rng.integers(55, 75, 6)
        t = np.arange(int(0.4 * 44100)) / 44100
        audio = np.concatenate([0.2 * np.sin(2 * np.pi * 440 * 2 ** ((p - 69) / 12) * t) * np.exp(-4 * t)
                                for p in pitches]).astype(np.float32)
        F.write_wav(root / entry["files"]["audio"]["path"], audio, 44100)
        rows = "".join(f"{int(i * 0.4 * 44100)},{int((i + 1) * 0.4 * 44100) - 1},41,{p},0,1,Quarter\n"
                       for i, p in enumerate(pitches))
        label = root / entry["files"]["labels"]["path"]
        label.parent.mkdir(parents=True, exist_ok=True)
        label.write_text("start_time,end_time,instrument,note,start_beat,end_beat,note_value\n" + rows)
    for folder in ("train_data", "train_labels", "test_data", "test_labels"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    return root, F._fixture_manifest("musicnet", base, ids)


def test_unpaired_musicnet_task_on_a_tiny_copy(tmp_path):
    pytest.importorskip("musebench.datasets.musicnet")
    from musebench.runner import RunOptions, run_task
    from musebench.tasks import get_task

    task = get_task("musicnet-beethoven-piano-to-bach-cello")
    source, target = get_domain(task.params["source_domain"]), get_domain(task.params["target_domain"])
    ids = source.held_out["test"] + target.references["ids"]
    root, manifest = build_musicnet(tmp_path, ids)
    raw = yaml.safe_load(task.path.read_text())
    raw["dataset_params"]["manifest"] = str(manifest)
    raw["name"] = "tmp-musicnet-translation"
    task_file = tmp_path / "task.yaml"
    task_file.write_text(yaml.safe_dump(raw))
    out = run_task(RunOptions(task=str(task_file), model="identity", data_dir=root, allow_unverified=True,
                              results_dir=tmp_path / "res", progress=False))
    assert out.failures == []
    assert out.results["n_scored"] == len(source.held_out["test"]) == 2
    m = out.results["metrics"]
    assert m["content_correlation"]["mean"] == pytest.approx(1.0, abs=1e-9)
    assert m["pitch_accuracy"]["mean"] > 0.5  # judge (basic-pitch) vs the labels
    tdd = m["target_domain_distance"]
    assert tdd["n"] == 2 and tdd["n_reference"] == 11 and tdd["domain"] == "musicnet-bach-cello"
    assert tdd["domain_list_sha256"] == target.sha256 and tdd["ci_low"] is None
    assert "timbre_correlation" not in m


def test_committed_domain_lists_are_up_to_date():
    import runpy

    script = Path(__file__).resolve().parents[2] / "scripts" / "freeze_translation_domains.py"
    main = runpy.run_path(str(script))["main"]
    assert main(["--check"]) == 0


def test_unpaired_nsynth_task_selects_by_rule_on_a_tiny_copy(tmp_path):
    """The NSynth domain lists are rules until frozen: guitar notes at velocity 100, MIDI 36-84."""
    import fixtures_datasets as F
    from musebench.runner import RunOptions, run_task
    from musebench.tasks import get_task

    root = tmp_path / "nsynth"
    notes = {"test": [("guitar_acoustic_010-048-100", "guitar", 48, 100),
                      ("guitar_acoustic_010-060-100", "guitar", 60, 100),
                      ("guitar_acoustic_010-060-050", "guitar", 60, 50),
                      ("guitar_acoustic_010-090-100", "guitar", 90, 100),
                      ("keyboard_acoustic_004-060-100", "keyboard", 60, 100)],
             "validation": [(f"flute_acoustic_002-0{p}-100", "flute", p, 100) for p in (60, 64, 67, 72)]}
    folders = {"test": "nsynth-test", "validation": "nsynth-valid"}
    for split, rows in notes.items():
        examples = {}
        for _n, (key, family, pitch, velocity) in enumerate(rows):
            audio = F.tone(1.0, freq=440.0 * 2 ** ((pitch - 69) / 12))
            F.write_wav(root / folders[split] / "audio" / f"{key}.wav", audio)
            examples[key] = {"note_str": key, "pitch": pitch, "velocity": velocity, "instrument_family_str": family,
                             "instrument_source_str": "acoustic", "instrument_str": key.rsplit("-", 2)[0],
                             "qualities_str": []}
        (root / folders[split] / "examples.json").write_text(json.dumps(examples))
    manifest = F._fixture_manifest("nsynth", tmp_path, [], extra={"sizes": {"train": 0, "validation": 4, "test": 5}})
    task = get_task("nsynth-guitar-to-flute")
    raw = yaml.safe_load(task.path.read_text())
    raw.update(name="tmp-nsynth-translation", dataset_params={"manifest": str(manifest)})
    task_file = tmp_path / "task.yaml"
    task_file.write_text(yaml.safe_dump(raw))
    out = run_task(RunOptions(task=str(task_file), model="resynth", data_dir=root, allow_unverified=True,
                              results_dir=tmp_path / "res", progress=False))
    assert out.failures == []
    assert out.results["model"]["name"] == "resynth"
    assert sorted(p.stem for p in (out.run_dir / "items").glob("*.json")) == [
        "guitar_acoustic_010-048-100", "guitar_acoustic_010-060-100"]  # velocity 50 and MIDI 90 excluded
    tdd = out.results["metrics"]["target_domain_distance"]
    assert tdd["n"] == 2 and tdd["n_reference"] == 4 and tdd["reference_split"] == "validation"
