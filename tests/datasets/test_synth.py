"""The embedded ``synth`` dataset: generation, manifest, verification, fingerprints and CLI."""
from __future__ import annotations

import copy
import hashlib
import json
import re
import shutil
import time
import wave

import numpy as np
import pytest

import musebench.cli as cli
from musebench.datasets import DATASETS, get_dataset
from musebench.datasets.base import Manifest
from musebench.datasets.synth import (
    SPLIT_SIZES,
    SPLITS,
    UNSEEN_PROGRAMS,
    VARIANTS,
    SynthDataset,
    build_item,
    compose,
    item_id,
    item_seed,
)
from musebench.errors import BadInputError, ConfigError, MissingDataError, UnknownNameError
from musebench.io_utils import sha256_file
from musebench.midi import read_midi
from musebench.render import pcm16
from musebench.types import Item

# Fingerprints of the committed manifest; they change only when the manifest does
# (regenerate with scripts/make_synth_manifest.py and update them on purpose).
TEST_FINGERPRINTS = {
    "piano": "622cb7630ada4a15db008698472caae3e351e4b5f0ad3e3ccaed3a1779908eb1",
    "ensemble": "02f4477ba67f46f31e25749e4dc005cf50cf604d57e3d5366dc7e2525aaf83c2",
}


def run_cli(argv, monkeypatch, capsys):
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["musebench.cli.datasets"])
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def synth_copy(synth_root, tmp_path):
    """A private, modifiable copy of the prepared data."""
    root = tmp_path / "copy" / "synth"
    shutil.copytree(synth_root, root)
    return root


# ---- generation -----------------------------------------------------------------------------
def test_regeneration_is_byte_identical():
    first, second = build_item("ensemble", "test", 3), build_item("ensemble", "test", 3)
    assert hashlib.sha256(first.wav).digest() == hashlib.sha256(second.wav).digest()
    assert first.midi == second.midi and first.entry == second.entry
    other = build_item("ensemble", "test", 4)
    assert other.wav != first.wav and other.midi != first.midi


def test_seed_depends_on_variant_split_and_index():
    seeds = {item_seed(v, s, i) for v in VARIANTS for s in SPLITS for i in range(SPLIT_SIZES[s])}
    assert len(seeds) == 2 * sum(SPLIT_SIZES.values())
    assert all(0 <= s < 2 ** 53 for s in seeds)
    assert item_id("piano", "test", 0) == "piano-test-000"


def test_compose_is_musically_plausible():
    for variant in VARIANTS:
        for index in range(4):
            piece = compose(variant, "train", index)
            notes = piece.notes
            assert 8.0 <= notes.end_time + 0.8 <= 10.0
            melody = notes.pitches[piece.part_of_note == "melody"]
            bass = notes.pitches[piece.part_of_note == "bass"]
            assert melody.min() >= 65 and bass.max() <= 55 and melody.mean() > bass.mean() + 20
            assert 60 <= piece.info["tempo"] <= 160 and piece.info["meter"] in ("3/4", "4/4")
            # repeated notes and chords: some onset carries several notes, some pitch recurs
            _, counts = np.unique(np.round(notes.onsets, 3), return_counts=True)
            assert counts.max() >= 2
            assert len(np.unique(notes.pitches)) < len(notes)
            assert len(np.unique(notes.velocities)) > 5


def test_variants_differ_in_instruments():
    piano = compose("piano", "test", 0)
    assert set(piano.notes.programs.tolist()) == {0} and not piano.notes.is_drum.any()
    ensemble = compose("ensemble", "test", 0)
    assert ensemble.notes.is_drum.any()
    assert len(set(ensemble.notes.programs[~ensemble.notes.is_drum].tolist())) >= 3


# ---- manifest, splits, fingerprints ---------------------------------------------------------
def test_splits_are_disjoint_and_ids_unique():
    for variant in VARIANTS:
        ds = SynthDataset(variant=variant)
        entries = {s: ds._variant_entries(s) for s in SPLITS}
        assert {s: len(e) for s, e in entries.items()} == SPLIT_SIZES
        ids = [i for e in entries.values() for i in e]
        assert len(ids) == len(set(ids))
        for split, e in entries.items():
            assert all(re.fullmatch(rf"{variant}-{split}-\d{{3}}", i) for i in e)
        paths = [f["path"] for e in entries.values() for entry in e.values() for f in entry["files"].values()]
        assert len(paths) == len(set(paths))
    manifest = SynthDataset().manifest()
    assert len(manifest.items) == 2 * sum(SPLIT_SIZES.values())


def test_manifest_metadata():
    manifest = SynthDataset().manifest()
    assert manifest.extra["unseen_programs"] == list(UNSEEN_PROGRAMS) == [71]
    for _iid, entry in manifest.items.items():
        meta = entry["metadata"]
        assert set(meta) >= {"variant", "duration", "programs", "has_drums", "generator_version", "seed", "tracks"}
        assert 8.0 <= meta["duration"] <= 10.0
        assert not set(meta["programs"]) & set(UNSEEN_PROGRAMS)
        assert meta["has_drums"] == (meta["variant"] == "ensemble")
        if meta["variant"] == "piano":
            assert meta["programs"] == [0]
        assert sum(t["notes"] for t in meta["tracks"]) == meta["n_notes"]


def test_fingerprints_are_stable_and_cover_only_the_variant(monkeypatch):
    piano, ensemble = SynthDataset(variant="piano"), SynthDataset(variant="ensemble")
    assert piano.fingerprint("test") == TEST_FINGERPRINTS["piano"]
    assert ensemble.fingerprint("test") == TEST_FINGERPRINTS["ensemble"]
    assert SynthDataset().fingerprint("test") == TEST_FINGERPRINTS["piano"]  # piano is the default
    assert len({piano.fingerprint(s) for s in SPLITS} | {ensemble.fingerprint(s) for s in SPLITS}) == 6

    changed = copy.deepcopy(piano.manifest().to_json())
    changed["items"]["ensemble-test-002"]["metadata"]["duration"] += 0.001
    manifest = Manifest(dataset=changed["dataset"], version=changed["version"], items=changed["items"])
    monkeypatch.setattr(SynthDataset, "manifest", lambda self: manifest)
    assert SynthDataset(variant="piano").fingerprint("test") == TEST_FINGERPRINTS["piano"]
    assert SynthDataset(variant="ensemble").fingerprint("test") != TEST_FINGERPRINTS["ensemble"]
    changed["items"]["piano-test-007"]["files"]["audio"]["sha256"] = "0" * 64
    assert SynthDataset(variant="piano").fingerprint("test") != TEST_FINGERPRINTS["piano"]


def test_bad_parameters():
    with pytest.raises(ConfigError) as exc:
        SynthDataset(variant="organ")
    assert str(exc.value) == "dataset 'synth': unknown variant 'organ' (known: piano, ensemble)"
    with pytest.raises(ConfigError) as exc:
        get_dataset("synth", varient="piano")
    assert str(exc.value) == "dataset 'synth': unknown parameter(s) varient (known: variant)"
    with pytest.raises(UnknownNameError) as exc:
        SynthDataset().items("tests")
    assert "did you mean 'test'" in str(exc.value)


def test_registry_and_describe():
    assert "synth" in DATASETS
    ds = get_dataset("synth", variant="ensemble")
    assert isinstance(ds, SynthDataset) and ds.variant == "ensemble"
    info = ds.describe()
    assert info["sizes"] == SPLIT_SIZES and info["variant"] == "ensemble"
    assert "CC0-1.0" in info["license"] and "GPL-2" in info["license"] and info["citation"]


# ---- not prepared ---------------------------------------------------------------------------
def test_items_without_data_say_how_to_prepare(tmp_path):
    ds = SynthDataset()  # root: $MUSEBENCH_DATA/synth, empty (see conftest.isolated_env)
    with pytest.raises(MissingDataError) as exc:
        ds.items("test")
    missing = ds.root / "piano/test/piano-test-000.wav"
    assert str(exc.value) == (f"dataset 'synth' is not prepared under {ds.root} (16 file(s) missing, "
                              f"e.g. {missing}); run `musebench datasets prepare synth`")


def test_load_notes_without_data(tmp_path):
    item = Item(id="piano-test-000", dataset="synth", files={"midi": tmp_path / "elsewhere" / "x.mid"})
    with pytest.raises(MissingDataError) as exc:
        SynthDataset(root=tmp_path / "elsewhere").load_notes(item)
    assert str(exc.value) == (f"{tmp_path / 'elsewhere' / 'x.mid'}: MIDI file of synth item piano-test-000 "
                              "not found; run `musebench datasets prepare synth`")


# ---- prepared data --------------------------------------------------------------------------
def test_fresh_prepare_matches_the_manifest(synth_root):
    ds = SynthDataset(root=synth_root)
    expected = ds.expected_files()
    assert len(expected) == 2 * 2 * sum(SPLIT_SIZES.values())
    for rel, spec in expected.items():
        path = synth_root / rel
        assert path.stat().st_size == spec["size"]
        assert sha256_file(path) == spec["sha256"], rel
    report = ds.verify()
    assert report.ok and not report.extra and report.checked == len(expected)
    assert all(SynthDataset(root=synth_root, variant=v).is_verified(s) for v in VARIANTS for s in SPLITS)


def test_prepare_again_skips_existing_files(synth_copy):
    wav = synth_copy / "piano/test/piano-test-000.wav"
    before = wav.stat().st_mtime_ns
    start = time.perf_counter()
    report = SynthDataset(root=synth_copy).prepare(progress=False)
    assert report.ok
    assert time.perf_counter() - start < 10
    assert wav.stat().st_mtime_ns == before


def test_items_and_audio_format(synth_root):
    ds = SynthDataset(root=synth_root, variant="ensemble")
    items = ds.items("test")
    assert [it.id for it in items] == [f"ensemble-test-{i:03d}" for i in range(SPLIT_SIZES["test"])]
    for it in items:
        assert it.dataset == "synth" and it.audio_path == synth_root / "ensemble/test" / f"{it.id}.wav"
        assert it.metadata["variant"] == "ensemble"
        with wave.open(str(it.audio_path)) as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16000)
            assert w.getnframes() == round(it.metadata["duration"] * 16000)


def test_load_notes_match_the_composition(synth_root):
    ds = SynthDataset(root=synth_root, variant="ensemble")
    item = ds.items("validation")[2]
    notes = ds.load_notes(item)
    piece = compose("ensemble", "validation", 2)
    assert len(notes) == len(piece.notes) == item.metadata["n_notes"]
    assert np.allclose(notes.intervals, piece.notes.intervals, atol=1e-9)
    assert np.array_equal(notes.pitches, piece.notes.pitches)
    assert np.array_equal(notes.programs, piece.notes.programs)
    assert np.array_equal(notes.is_drum, piece.notes.is_drum)
    assert sorted(set(notes.programs[~notes.is_drum].tolist())) == item.metadata["programs"]


def test_render_item_reproduces_the_audio_and_translates(synth_root):
    ds = SynthDataset(root=synth_root, variant="piano")
    item = ds.items("test")[1]
    audio = ds.render_item(item)
    with wave.open(str(item.audio_path)) as w:
        stored = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    assert np.array_equal(pcm16(audio), stored)
    clarinet = ds.render_item(item, program_override=UNSEEN_PROGRAMS[0])
    assert clarinet.shape == audio.shape
    assert np.max(np.abs(clarinet)) == pytest.approx(10 ** (-1 / 20), rel=1e-4)
    assert not np.allclose(clarinet, audio, atol=0.05)
    drums_off = SynthDataset(root=synth_root, variant="ensemble")
    ens = drums_off.items("test")[0]
    assert not np.array_equal(drums_off.render_item(ens, include_drums=False), drums_off.render_item(ens))


def test_unseen_program_never_appears(synth_root):
    for variant in VARIANTS:
        ds = SynthDataset(root=synth_root, variant=variant)
        for split in SPLITS:
            for item in ds.items(split):
                programs = set(read_midi(item.files["midi"]).programs.tolist())
                assert not programs & set(UNSEEN_PROGRAMS), item.id


def test_verify_reports_corrupt_and_missing_files(synth_copy):
    corrupt = synth_copy / "piano/test/piano-test-003.wav"
    data = bytearray(corrupt.read_bytes())
    data[1000] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    missing = synth_copy / "ensemble/train/ensemble-train-010.mid"
    missing.unlink()
    (synth_copy / "piano/test/stray.txt").write_text("x")
    report = SynthDataset(root=synth_copy).verify()
    assert not report.ok
    assert report.lines() == [
        f"{missing}: missing",
        f"{corrupt}: checksum differs from the manifest",
        f"{synth_copy / 'piano/test/stray.txt'}: extra file not in the manifest",
    ]
    # preparing again repairs exactly those files
    SynthDataset(root=synth_copy).prepare(progress=False)
    assert SynthDataset(root=synth_copy).verify().lines() == [
        f"{synth_copy / 'piano/test/stray.txt'}: extra file not in the manifest"]


def test_prepare_refuses_bytes_that_differ_from_the_manifest(synth_copy, monkeypatch, capsys):
    original = SynthDataset().manifest()
    changed = copy.deepcopy(original.to_json())
    changed["items"]["piano-test-000"]["files"]["midi"]["sha256"] = "0" * 64
    manifest = Manifest(dataset="synth", version=original.version, items=changed["items"], extra=original.extra)
    monkeypatch.setattr(SynthDataset, "manifest", lambda self: manifest)
    with pytest.raises(BadInputError) as exc:
        SynthDataset(root=synth_copy).prepare(progress=False)
    path = synth_copy / "piano/test/piano-test-000.mid"
    assert str(exc.value) == f"synth: 1 generated file(s) differ from the shipped manifest, first {path}"
    assert f"{path}: generated bytes differ from the manifest" in capsys.readouterr().err


# ---- CLI ------------------------------------------------------------------------------------
def test_cli_list(monkeypatch, capsys, synth_root):
    code, out, _ = run_cli(["datasets", "list"], monkeypatch, capsys)
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("synth "))
    assert "train 32, validation 6, test 8" in row and "not prepared" in row
    assert "synth citation" not in out  # citations and licences are on `datasets show NAME`
    code, out, _ = run_cli(["datasets", "show", "synth"], monkeypatch, capsys)
    assert code == 0 and "MuseBench synth" in out and "GPL-2" in out
    code, out, _ = run_cli(["datasets", "list", "--json"], monkeypatch, capsys)
    row = next(r for r in json.loads(out) if r["name"] == "synth")
    assert row["sizes"] == SPLIT_SIZES and not row["prepared"] and not row["note"]
    monkeypatch.setenv("MUSEBENCH_SYNTH_ROOT", str(synth_root))
    code, out, _ = run_cli(["datasets", "list"], monkeypatch, capsys)
    row = next(line for line in out.splitlines() if line.startswith("synth "))
    assert "prepared, verified" in row and str(synth_root) in row


def test_cli_verify_ok_prints_fingerprints(synth_env, monkeypatch, capsys):
    code, out, _ = run_cli(["datasets", "verify", "synth", "--quiet"], monkeypatch, capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"synth: 184 files checked under {synth_env}: ok"
    assert f"synth[variant=piano] test fingerprint: {TEST_FINGERPRINTS['piano']}" in lines
    code, out, _ = run_cli(["datasets", "verify", "synth", "--quiet", "--split", "test", "--param",
                            "variant=ensemble"], monkeypatch, capsys)
    assert code == 0
    assert out.splitlines() == [f"synth: 32 files checked under {synth_env}: ok",
                                f"synth[variant=ensemble] test fingerprint: {TEST_FINGERPRINTS['ensemble']}"]


def test_cli_verify_and_prepare_a_damaged_copy(synth_copy, monkeypatch, capsys):
    (synth_copy / "piano/validation/piano-validation-001.mid").unlink()
    wav = synth_copy / "ensemble/test/ensemble-test-005.wav"
    wav.write_bytes(wav.read_bytes()[:-2])
    code, out, _ = run_cli(["datasets", "verify", "synth", "--quiet", "--data-dir", str(synth_copy)],
                           monkeypatch, capsys)
    assert code == 1
    assert out.splitlines()[:5] == [
        "1 missing:",
        f"  {synth_copy / 'piano/validation/piano-validation-001.mid'}",
        "1 changed (checksum or size differs from the manifest):",
        f"  {wav}",
        f"synth: 184 files checked under {synth_copy}: FAILED (1 missing, 1 changed)",
    ]
    code, out, _ = run_cli(["datasets", "verify", "synth", "--quiet", "--all", "--data-dir", str(synth_copy)],
                           monkeypatch, capsys)
    assert out.splitlines()[:2] == [f"{synth_copy / 'piano/validation/piano-validation-001.mid'}: missing",
                                    f"{wav}: checksum differs from the manifest"]
    code, out, _ = run_cli(["datasets", "prepare", "synth", "--quiet", "--data-dir", str(synth_copy)],
                           monkeypatch, capsys)
    assert code == 0 and out == f"synth: prepared under {synth_copy} (184 files verified)\n"
    code, _, _ = run_cli(["datasets", "verify", "synth", "--quiet", "--data-dir", str(synth_copy)],
                         monkeypatch, capsys)
    assert code == 0


def test_cli_register(synth_root, monkeypatch, capsys, tmp_path):
    code, out, _ = run_cli(["datasets", "register", "synth", str(synth_root)], monkeypatch, capsys)
    assert code == 0 and out.startswith(f"synth: registered {synth_root.resolve()} (in ")
    assert SynthDataset().root == synth_root.resolve()
    code, out, _ = run_cli(["datasets", "list"], monkeypatch, capsys)
    assert "registered, prepared, verified" in out
    code, _, err = run_cli(["datasets", "register", "synth", str(tmp_path / "nope")], monkeypatch, capsys)
    assert code == 2
    assert err == (f"musebench: error: {tmp_path / 'nope'}: not a directory; cannot register it as "
                   "dataset 'synth'\n")
    code, _, err = run_cli(["datasets", "verify", "synht"], monkeypatch, capsys)
    assert code == 2 and err.startswith("musebench: error: unknown dataset 'synht'; did you mean 'synth'")


def test_cli_download_points_to_prepare(monkeypatch, capsys):
    code, _, err = run_cli(["datasets", "download", "synth"], monkeypatch, capsys)
    assert code == 2
    assert err == ("musebench: error: dataset 'synth' cannot be downloaded by MuseBench; "
                   "run `musebench datasets prepare synth`\n")
