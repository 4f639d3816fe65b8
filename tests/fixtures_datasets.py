"""Tiny copies of the real datasets in their official layouts, for tests.

Each ``build_<dataset>(base)`` writes a few items under ``base/<dataset>/`` in the real layout and
file formats (CSV, YAML, JAMS-schema JSON, MIDI, label CSV, note TXT, examples JSON, WAV/FLAC with
a couple of seconds of synthetic audio) and a *fixture manifest* ``base/<dataset>-manifest.json``:
the shipped manifest's entries for the chosen (real) item ids, with checksums of the fixture files
where the real manifest has published ones. It returns a :class:`Fixture` with the root, the
manifest path, and the known reference notes of each item so tests can assert exact values.

Datasets are opened on a fixture with ``get_dataset(name, root=fx.root, manifest=fx.manifest)``.
"""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from musebench.midi import write_midi
from musebench.paths import package_data
from musebench.types import Notes

SR = 16000


@dataclass
class Fixture:
    name: str
    root: Path
    manifest: Path
    notes: dict[str, Notes] = field(default_factory=dict)  # item id -> expected reference notes
    splits: dict[str, list[str]] = field(default_factory=dict)  # split -> item ids (default scheme)

    def dataset(self, **params: Any):
        from musebench.datasets import get_dataset

        return get_dataset(self.name, root=self.root, manifest=self.manifest, **params)


def tone(seconds: float = 2.0, *, sr: int = SR, freq: float = 220.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    mono = (0.2 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return mono if channels == 1 else np.repeat(mono[:, None], channels, axis=1)


def write_wav(path: Path, audio: np.ndarray, sr: int = SR) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio, sr, subtype="PCM_16")
    return path


def write_flac(path: Path, audio: np.ndarray, sr: int = SR) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio, sr, format="FLAC", subtype="PCM_16")
    return path


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def notes(rows: list[tuple[float, float, float]], *, velocity: float = 0.0, program: int = 0,
          drum: bool = False) -> Notes:
    """Notes from (onset, offset, pitch) rows."""
    arr = np.array(rows, dtype=np.float64).reshape(-1, 3)
    n = len(arr)
    return Notes(arr[:, :2], arr[:, 2], np.full(n, velocity), np.full(n, program, np.int64), np.full(n, drum))


def _fixture_manifest(name: str, base: Path, ids: list[str], *, manifest_file: str | None = None,
                      update: dict[str, dict[str, Any]] | None = None, extra: dict[str, Any] | None = None) -> Path:
    real = json.loads(package_data("manifests", manifest_file or f"{name}.json").read_text())
    items = {i: real["items"][i] for i in ids}
    for item_id, change in (update or {}).items():
        items[item_id] = {**items[item_id], **change}
    out = {**real, "items": items, **(extra or {})}
    path = base / f"{name}-manifest.json"
    path.write_text(json.dumps(out, indent=1, sort_keys=True))
    return path


# ---- MAESTRO ------------------------------------------------------------------------------------
MAESTRO_IDS = {
    "test": ["MIDI-Unprocessed_09_R3_2008_01-07_ORIG_MID--AUDIO_09_R3_2008_wav--2",   # Scarlatti K. 525
             "MIDI-Unprocessed_09_R3_2008_01-07_ORIG_MID--AUDIO_09_R3_2008_wav--1"],  # Scarlatti K. 54
    "train": ["MIDI-Unprocessed_09_R3_2008_01-07_ORIG_MID--AUDIO_09_R3_2008_wav--3"],  # Scarlatti K. 466
}


def build_maestro(base: Path) -> Fixture:
    import pretty_midi

    root = base / "maestro-v3.0.0"
    real = json.loads(package_data("manifests", "maestro-v3.json").read_text())["items"]
    rows = [["canonical_composer", "canonical_title", "split", "year", "midi_filename", "audio_filename", "duration"]]
    expected = {}
    ids = [i for split in ("test", "train") for i in MAESTRO_IDS[split]]
    for k, item_id in enumerate(ids):
        entry = real[item_id]
        midi_rel, audio_rel = entry["files"]["midi"]["path"], entry["files"]["audio"]["path"]
        pm = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=120.0)
        piano = pretty_midi.Instrument(program=0)
        piano.notes += [pretty_midi.Note(velocity=80, pitch=60 + k, start=0.0, end=0.5),
                        pretty_midi.Note(velocity=70, pitch=64 + k, start=0.6, end=0.9),
                        pretty_midi.Note(velocity=90, pitch=67 + k, start=1.6, end=1.8)]
        piano.control_changes += [pretty_midi.ControlChange(64, 127, 0.4), pretty_midi.ControlChange(64, 0, 1.5)]
        pm.instruments.append(piano)
        (root / midi_rel).parent.mkdir(parents=True, exist_ok=True)
        pm.write(str(root / midi_rel))
        write_wav(root / audio_rel, tone(2.0, channels=2))
        meta = entry["metadata"]
        rows.append([meta["canonical_composer"], meta["canonical_title"], entry["split"], str(meta["year"]),
                     midi_rel, audio_rel, "2.0"])
        expected[item_id] = Notes(np.array([[0.0, 0.5], [0.6, 0.9], [1.6, 1.8]]),
                                  np.array([60 + k, 64 + k, 67 + k], float), np.array([80.0, 70.0, 90.0]),
                                  np.zeros(3, np.int64), np.zeros(3, bool))
    with open(root / "maestro-v3.0.0.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    (root / "README").write_text("fixture\n")
    manifest = _fixture_manifest("maestro-v3", base, ids)
    return Fixture("maestro-v3", root, manifest, expected, {s: sorted(v) for s, v in MAESTRO_IDS.items()})


# ---- Slakh2100 / Cerberus4 ----------------------------------------------------------------------
SLAKH_TRACKS = {  # track -> (split folder, stems); a stem = (program_num, is_drum, rendered, saved, notes rows)
    "Track01876": ("test", {
        "S00": (0, False, True, True, [(0.0, 0.5, 60.0), (0.5, 1.0, 64.0)]),     # piano
        "S01": (25, False, True, True, [(0.25, 0.75, 55.0)]),                     # guitar
        "S02": (33, False, True, True, [(0.0, 1.0, 40.0)]),                       # bass
        "S03": (128, True, True, True, [(0.0, 0.1, 36.0), (0.5, 0.6, 38.0)]),     # drums
        "S04": (48, False, True, True, [(1.0, 1.5, 72.0)]),                       # strings: not in Cerberus4
        "S05": (80, False, False, True, [(0.2, 0.4, 90.0)]),                      # not rendered: not a reference
    }),
    "Track01877": ("test", {
        "S00": (4, False, True, True, [(0.1, 0.6, 62.0)]),
        "S01": (29, False, True, True, [(0.3, 0.8, 57.0)]),
        "S02": (38, False, True, True, [(0.0, 0.9, 41.0)]),
        "S03": (128, True, True, True, [(0.2, 0.3, 42.0)]),
    }),
    "Track01878": ("test", {  # no guitar: not a Cerberus4 track
        "S00": (0, False, True, True, [(0.0, 0.4, 65.0)]),
        "S01": (32, False, True, True, [(0.0, 0.8, 36.0)]),
        "S02": (128, True, True, True, [(0.1, 0.2, 36.0)]),
    }),
}


def _slakh_yaml(track: str, stems: dict) -> str:
    lines = [f"UUID: fixture{track[-4:]}", f"audio_dir: {track}/stems", f"midi_dir: {track}/MIDI",
             "normalized: true", "overall_gain: 0.5", "stems:"]
    for sid, (program, drum, rendered, saved, _rows) in stems.items():
        lines += [f"  {sid}:", f"    audio_rendered: {str(rendered).lower()}", "    inst_class: Fixture",
                  f"    is_drum: {str(drum).lower()}", "    midi_program_name: Fixture",
                  f"    midi_saved: {str(saved).lower()}", "    plugin_name: fixture.nkm",
                  f"    program_num: {program}"]
    return "\n".join(lines) + "\n"


#: the fixture's raw programs under MT3's Slakh class convention (the loader's default, programs="slakh_class"):
#: approximated by family (no slakh_class in these metadata files), written out by hand
SLAKH_CLASS_OF = {0: 0, 4: 4, 25: 24, 29: 29, 32: 32, 33: 33, 38: 33, 48: 48}


def build_slakh(base: Path) -> Fixture:
    root = base / "slakh2100_flac_redux"
    expected, cerberus = {}, {}
    for _k, (track, (split, stems)) in enumerate(SLAKH_TRACKS.items()):
        folder = root / split / track
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "metadata.yaml").write_text(_slakh_yaml(track, stems))
        mix = np.zeros(int(2.0 * SR), np.float32)
        parts, cparts, all_parts = [], [], []
        for j, (sid, (program, drum, rendered, saved, rows)) in enumerate(stems.items()):
            prog = 0 if drum else program
            stem_notes = notes(rows, velocity=100.0, program=prog, drum=drum)
            all_parts.append(stem_notes)
            if saved:
                write_midi(stem_notes, folder / "MIDI" / f"{sid}.mid")
            if rendered:
                audio = tone(2.0, freq=110.0 * (j + 1))
                write_flac(folder / "stems" / f"{sid}.flac", audio)
                mix += audio
            if rendered and saved:
                parts.append(notes(rows, velocity=100.0, program=0 if drum else SLAKH_CLASS_OF[program], drum=drum))
                cls_prog = 0 if program in range(8) else 24 if program in range(24, 32) else \
                    32 if program in range(32, 40) else None
                if drum or cls_prog is not None:
                    cparts.append(notes(rows, velocity=100.0, program=0 if drum else cls_prog, drum=drum))
        write_midi(Notes.concatenate(all_parts), folder / "all_src.mid")
        write_flac(folder / "mix.flac", mix * 0.5)
        expected[track] = Notes.concatenate(parts).sorted()
        cerberus[track] = Notes.concatenate(cparts).sorted()
    manifest = _fixture_manifest("slakh2100", base, list(SLAKH_TRACKS))
    fx = Fixture("slakh2100", root, manifest, expected, {"test": sorted(SLAKH_TRACKS)})
    fx.cerberus_notes = cerberus  # type: ignore[attr-defined]
    return fx


# ---- GuitarSet ----------------------------------------------------------------------------------
GUITARSET_IDS = {"validation": ["00_BN3-119-G_comp", "04_SS3-84-Bb_solo"], "train": ["04_SS1-100-Cs_solo"]}


def _jams(rows_by_string: dict[int, list[tuple[float, float, float]]], duration: float) -> dict:
    annotations = [{"namespace": "pitch_contour", "data": [], "annotation_metadata": {"data_source": "0"}}]
    for string in range(6):
        data = [{"time": t, "duration": d, "value": v, "confidence": None} for t, d, v in rows_by_string.get(string, [])]
        annotations.append({"namespace": "note_midi", "data": data, "sandbox": {},
                            "annotation_metadata": {"data_source": str(string)}, "time": 0, "duration": duration})
    return {"annotations": annotations, "file_metadata": {"duration": duration, "title": "fixture"}, "sandbox": {}}


def build_guitarset(base: Path) -> Fixture:
    root = base / "GuitarSet"
    real = json.loads(package_data("manifests", "guitarset.json").read_text())["items"]
    ids = [i for s in ("validation", "train") for i in GUITARSET_IDS[s]]
    expected, update = {}, {}
    for k, item_id in enumerate(ids):
        entry = real[item_id]
        rows = {0: [(0.1, 0.4, 40.02 + k)], 2: [(0.5, 0.3, 50.0)], 5: [(0.9, 0.6, 64.97)]}
        files = {}
        for role, spec in entry["files"].items():
            path = root / spec["path"]
            path.parent.mkdir(parents=True, exist_ok=True)
            if role == "jams":
                path.write_text(json.dumps(_jams(rows, 2.0)))
            else:
                write_wav(path, tone(2.0, sr=SR, freq=196.0 + k))
            files[role] = {"path": spec["path"], "md5": md5(path)}
        update[item_id] = {"files": files}
        flat = sorted((t, t + d, v) for r in rows.values() for t, d, v in r)
        expected[item_id] = notes(flat, program=25)
    manifest = _fixture_manifest("guitarset", base, ids, update=update)
    return Fixture("guitarset", root, manifest, expected, {s: sorted(v) for s, v in GUITARSET_IDS.items()})


# ---- MusicNet -----------------------------------------------------------------------------------
MUSICNET_IDS = {"test": ["1729", "2118"], "validation": ["1733"], "train": ["1759"]}  # 1759 is in test_data/


def build_musicnet(base: Path) -> Fixture:
    root = base / "musicnet"
    real = json.loads(package_data("manifests", "musicnet.json").read_text())["items"]
    ids = [i for s in ("test", "validation", "train") for i in MUSICNET_IDS[s]]
    expected = {}
    for k, item_id in enumerate(ids):
        entry = real[item_id]
        write_wav(root / entry["files"]["audio"]["path"], tone(2.0, sr=44100))
        rows = [(4410, 26460, 1, 60 + k), (22050, 44100, 41, 67), (44100, 66150, 43, 48)]
        text = "start_time,end_time,instrument,note,start_beat,end_beat,note_value\n" + "".join(
            f"{s},{e},{i},{n},0.0,1.0,Quarter\n" for s, e, i, n in rows)
        label = root / entry["files"]["labels"]["path"]
        label.parent.mkdir(parents=True, exist_ok=True)
        label.write_text(text)
        arr = np.array([[s / 44100, e / 44100, n] for s, e, _i, n in rows])
        expected[item_id] = Notes(arr[:, :2], arr[:, 2], np.zeros(3), np.array([i - 1 for _s, _e, i, _n in rows]),
                                  np.zeros(3, bool)).sorted()
    for folder in ("train_data", "train_labels", "test_data", "test_labels"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    manifest = _fixture_manifest("musicnet", base, ids)
    return Fixture("musicnet", root, manifest, expected, {s: sorted(v) for s, v in MUSICNET_IDS.items()})


# ---- URMP ---------------------------------------------------------------------------------------
URMP_IDS = {"validation": ["01_Jupiter_vn_vc", "12_Spring_vn_vn_vc"], "train": ["15_Surprise_tpt_tpt_tbn"]}
URMP_PROGRAMS = {"vn": 40, "vc": 42, "tpt": 56, "tbn": 57}


def build_urmp(base: Path) -> Fixture:
    root = base / "URMP" / "Dataset"
    real = json.loads(package_data("manifests", "urmp.json").read_text())["items"]
    ids = [i for s in ("validation", "train") for i in URMP_IDS[s]]
    expected = {}
    for item_id in ids:
        entry = real[item_id]
        write_wav(root / entry["files"]["mix"]["path"], tone(2.0, sr=48000))
        parts = []
        for part, abbr in enumerate(entry["metadata"]["instruments"], start=1):
            freq = 220.0 * 2 ** ((part - 1) / 12)  # A3 + (part-1) semitones, slightly detuned below
            rows = [(0.25 * part, freq * 0.995, 0.5), (1.0, freq, 0.25)]
            path = root / entry["files"][f"notes_{part}"]["path"]
            path.write_text("".join(f"{o:.3f}\t{f:.4f}\t{d:.3f}\n" for o, f, d in rows))
            pitch = 57.0 + part - 1
            parts.append(notes([(o, o + d, pitch) for o, _f, d in rows], program=URMP_PROGRAMS[abbr]))
        for extra in ("AuSep_1_x.wav", "F0s_1_x.txt"):
            (root / item_id / extra).write_bytes(b"")  # annex files of the real layout
        expected[item_id] = Notes.concatenate(parts).sorted()
    manifest = _fixture_manifest("urmp", base, ids)
    return Fixture("urmp", root, manifest, expected, {s: sorted(v) for s, v in URMP_IDS.items()})


# ---- NSynth -------------------------------------------------------------------------------------
NSYNTH_EXAMPLES = {
    "bass_synthetic_033-022-050": ("bass", "synthetic", 22, 50),
    "guitar_acoustic_010-060-100": ("guitar", "acoustic", 60, 100),
    "keyboard_electronic_001-072-127": ("keyboard", "electronic", 72, 127),
}


def build_nsynth(base: Path) -> Fixture:
    root = base / "nsynth"
    folder = root / "nsynth-test"
    examples, expected = {}, {}
    programs = {"bass": 32, "guitar": 24, "keyboard": 0}
    for n, (key, (family, source, pitch, velocity)) in enumerate(sorted(NSYNTH_EXAMPLES.items())):
        write_wav(folder / "audio" / f"{key}.wav", tone(4.0, freq=440.0 * 2 ** ((pitch - 69) / 12)))
        examples[key] = {"note": n, "note_str": key, "instrument": n, "instrument_str": key.rsplit("-", 2)[0],
                         "pitch": pitch, "velocity": velocity, "sample_rate": SR, "qualities": [0] * 10,
                         "qualities_str": ["bright"] if n == 1 else [], "instrument_family": n,
                         "instrument_family_str": family, "instrument_source": n, "instrument_source_str": source}
        expected[key] = Notes(np.array([[0.0, 3.0]]), np.array([float(pitch)]), np.array([float(velocity)]),
                              np.array([programs[family]]), np.zeros(1, bool))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "examples.json").write_text(json.dumps(examples, indent=2))
    manifest = _fixture_manifest("nsynth", base, [], extra={"sizes": {"train": 0, "validation": 0, "test": 3}})
    return Fixture("nsynth", root, manifest, expected, {"test": sorted(NSYNTH_EXAMPLES)})


BUILDERS = {"maestro-v3": build_maestro, "slakh2100": build_slakh, "guitarset": build_guitarset,
            "musicnet": build_musicnet, "urmp": build_urmp, "nsynth": build_nsynth}


def build_all(base: Path) -> dict[str, Fixture]:
    return {name: build(base) for name, build in BUILDERS.items()}
