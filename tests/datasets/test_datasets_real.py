"""Real-dataset loaders, split manifests, verification, registration, download and full runs.

Every dataset is exercised on a tiny copy of its official layout (``tests/fixtures_datasets/``, one module per dataset);
the shipped manifests are checked against the public split definitions they cite. Tests that
need a full local copy of a dataset run only when one is registered (``MUSEBENCH_FULL_DATA=1``).
"""
from __future__ import annotations

import http.server
import io
import json
import os
import re
import shutil
import threading
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml

import fixtures_datasets as F
from musebench.cli import main as cli_main
from musebench.datasets import DATASETS, get_dataset
from musebench.datasets import download as dl
from musebench.errors import BadInputError, ConfigError, MissingDataError, UnknownNameError
from musebench.tasks import get_task, load_task_file, tasks_dir

REAL = ["maestro-v3", "slakh2100", "cerberus4", "guitarset", "musicnet", "urmp", "nsynth"]
ID_RE = re.compile(r"[A-Za-z0-9._-]+")


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text, text
    return text


def assert_notes_equal(got, expected) -> None:
    expected = expected.sorted()
    assert len(got) == len(expected)
    np.testing.assert_allclose(got.intervals, expected.intervals, atol=1e-3)
    np.testing.assert_allclose(got.pitches, expected.pitches, atol=1e-9)
    np.testing.assert_allclose(got.velocities, expected.velocities, atol=1e-9)
    assert got.programs.tolist() == expected.programs.tolist()
    assert got.is_drum.tolist() == expected.is_drum.tolist()


class _Fixtures(dict):
    """Fixture copies built on first access (a few ms each)."""

    def __init__(self, base: Path):
        super().__init__()
        self.base = base

    def __missing__(self, name: str) -> F.Fixture:
        self.base.mkdir(parents=True, exist_ok=True)
        self[name] = F.BUILDERS[name](self.base)
        return self[name]


@pytest.fixture
def fx(tmp_path: Path) -> dict[str, F.Fixture]:
    """Fresh fixture copies of the datasets, safe to modify."""
    return _Fixtures(tmp_path / "fixtures")


# =============================================================================================
# contract tests over the whole registry
# =============================================================================================
def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [k for k, _ in pairs]
    dupes = [k for k, n in Counter(keys).items() if n > 1]
    assert not dupes, f"duplicate keys {dupes[:3]}"
    return dict(pairs)


@pytest.mark.parametrize("name", DATASETS.names())
def test_registry_contract(name: str) -> None:
    cls = DATASETS.get(name)
    assert cls.name == name
    assert cls.citation.strip() and cls.license.strip() and cls.title.strip()
    ds = cls()
    manifest = ds.manifest()
    if manifest is None or not manifest.items:
        return
    from musebench.paths import package_data

    path = ds.manifest_path() if hasattr(ds, "manifest_path") else package_data("manifests", cls.manifest_file)
    json.loads(path.read_text(), object_pairs_hook=_no_duplicate_keys)  # ids unique in the file
    splits = {}
    for item_id, entry in manifest.items.items():
        assert ID_RE.fullmatch(item_id), item_id
        assert entry["split"] in ds.splits, (item_id, entry["split"])
        splits.setdefault(entry["split"], set()).add(item_id)
    ids = [i for s in splits.values() for i in s]
    assert len(ids) == len(set(ids))  # every id in exactly one split: splits are disjoint
    paths = [spec["path"] for e in manifest.items.values() for spec in e.get("files", {}).values()]
    assert len(paths) == len(set(paths))  # no file belongs to two items


@pytest.mark.parametrize("name", REAL)
def test_real_dataset_has_docs_task_and_download_entry(name: str) -> None:
    assert (Path(__file__).resolve().parents[2] / "docs" / "datasets" / f"{name}.md").is_file()
    task = get_task(name)
    assert task.dataset == name and task.family == "transcription" and task.sample_rate == 16000
    if name == "urmp":
        assert dl.downloadable()[name].manual_download
    else:
        assert dl.archives_for(name)


# =============================================================================================
# the shipped manifests match the public split definitions
# =============================================================================================
MT3_MUSICNET = {"validation": {"2336", "2466", "2160", "1818", "1733", "1765", "2198", "2300", "2308", "2477",
                               "2611", "2289", "1790", "2315", "2504"},
                "test": {"2118", "2501", "1813", "1729", "1893", "2296", "1776", "2487", "2537", "2186", "2431",
                         "2432", "2497", "2621", "2507"}}


def sizes(ds) -> dict[str, int]:
    return {s: len(ds.manifest().ids(s)) for s in ds.splits}


def test_maestro_manifest_is_maestro_v3() -> None:
    ds = get_dataset("maestro-v3")
    assert sizes(ds) == {"train": 962, "validation": 137, "test": 177}
    hours = sum(e["metadata"]["duration"] for e in ds.manifest().items.values()) / 3600
    assert round(hours, 1) == 198.7
    entry = ds.manifest().items["MIDI-Unprocessed_Chamber3_MID--AUDIO_10_R3_2018_wav--1"]
    assert entry["split"] == "train" and entry["files"]["audio"]["path"].startswith("2018/")


def test_slakh_manifest_redux_and_orig_splits() -> None:
    redux = get_dataset("slakh2100")
    assert sizes(redux) == {"train": 1289, "validation": 270, "test": 151, "omitted": 390}
    orig = get_dataset("slakh2100", split_scheme="orig")
    assert sizes(orig) == {"train": 1500, "validation": 375, "test": 225}
    assert orig.manifest().ids("test")[0] == "Track01876" and orig.manifest().ids("train")[-1] == "Track01500"
    assert redux.split_fingerprint("test") != orig.split_fingerprint("test")
    assert get_dataset("cerberus4").splits == ("train", "validation", "test")


def test_guitarset_manifest_mt3_and_player_splits() -> None:
    ds = get_dataset("guitarset")
    manifest = ds.manifest()
    assert sizes(ds) == {"train": 240, "validation": 120}
    for entry in manifest.items.values():
        assert (entry["split"] == "validation") == (entry["metadata"]["progression"] == 3)
        assert all(len(spec["md5"]) == 32 for spec in entry["files"].values())
    valid = [manifest.items[i]["metadata"] for i in manifest.ids("validation")]
    assert Counter(m["style"] for m in valid) == {s: 24 for s in ("BN", "Funk", "Jazz", "Rock", "SS")}
    player = get_dataset("guitarset", split_scheme="player")
    assert player.splits == ("train", "test") and sizes(player) == {"train": 300, "test": 60}
    assert {player.manifest().items[i]["metadata"]["player"] for i in player.manifest().ids("test")} == {"05"}
    assert "04_SS1-100-Cs_solo" in manifest.items  # '#' of the key written as 's'


def test_musicnet_manifest_mt3_and_official_splits() -> None:
    ds = get_dataset("musicnet")
    manifest = ds.manifest()
    assert sizes(ds) == {"train": 300, "validation": 15, "test": 15}
    assert set(manifest.ids("validation")) == MT3_MUSICNET["validation"]
    assert set(manifest.ids("test")) == MT3_MUSICNET["test"]
    official = get_dataset("musicnet", split_scheme="official")
    assert set(official.manifest().ids("test")) == {"1759", "1819", "2106", "2191", "2298", "2303", "2382", "2416",
                                                    "2556", "2628"}
    assert manifest.items["2118"]["metadata"]["composer"] == "Brahms"
    assert manifest.items["2118"]["metadata"]["ensemble"] == "Accompanied Clarinet"
    assert manifest.items["1759"]["files"]["labels"]["path"] == "test_labels/1759.csv"


def test_urmp_and_nsynth_manifests() -> None:
    urmp = get_dataset("urmp")
    assert sizes(urmp) == {"train": 35, "validation": 9}
    assert sorted(urmp.manifest().items[i]["metadata"]["piece"] for i in urmp.manifest().ids("validation")) == \
        [1, 2, 12, 13, 24, 25, 31, 38, 39]
    fifteen = urmp.manifest().items["15_Surprise_tpt_tpt_tbn"]["files"]
    assert fifteen["notes_3"]["path"] == "15_Surprise_tpt_tpt_tbn/Notes_3_tpt_15_Surprise.txt"
    assert get_dataset("nsynth").describe()["sizes"] == {"train": 289205, "validation": 12678, "test": 4096}


# =============================================================================================
# loaders on fixture copies
# =============================================================================================
@pytest.mark.parametrize("name", ["maestro-v3", "slakh2100", "guitarset", "musicnet", "urmp", "nsynth"])
def test_loader_items_and_notes(fx: dict[str, F.Fixture], name: str) -> None:
    f = fx[name]
    ds = f.dataset()
    for split, ids in f.splits.items():
        items = ds.items(split)
        assert [i.id for i in items] == ids
        for item in items:
            assert item.dataset == name and item.audio_path.is_file() and item.metadata["split"] == split
            json.dumps(item.metadata)  # JSON-serialisable
            assert_notes_equal(ds.load_notes(item), f.notes[item.id])


def test_maestro_sustain_pedal_is_a_dataset_parameter(fx: dict[str, F.Fixture]) -> None:
    f = fx["maestro-v3"]
    item = f.dataset().items("test")[0]
    plain = f.dataset().load_notes(item)
    pedal = f.dataset(sustain_pedal="true").load_notes(item)  # CLI-style text is coerced
    assert plain.offsets.tolist() == pytest.approx([0.5, 0.9, 1.8], abs=1e-3)
    assert pedal.offsets.tolist() == pytest.approx([1.5, 1.5, 1.8], abs=1e-3)
    with pytest.raises(ConfigError) as exc:
        f.dataset(sustain="yes")
    assert one_line(exc) == "dataset 'maestro-v3': unknown parameter(s) sustain (known: manifest, sustain_pedal)"


def test_slakh_metadata_programs_drums_and_all_src(fx: dict[str, F.Fixture]) -> None:
    f = fx["slakh2100"]
    item = f.dataset().items("test")[0]
    assert item.id == "Track01876"
    # MT3's Slakh class programs by default (25 "Acoustic Guitar (steel)" -> class Acoustic Guitar, 24)
    assert item.metadata["programs"] == [0, 24, 33, 0, 48] and item.metadata["is_drum"] == [False] * 3 + [True, False]
    assert item.metadata["raw_programs"] == [0, 25, 33, 128, 48] and item.metadata["programs_approximated"] == 4
    notes = f.dataset().load_notes(item)
    assert sorted(set(zip(notes.programs.tolist(), notes.is_drum.tolist()))) == [(0, False), (0, True), (24, False),
                                                                               (33, False), (48, False)]
    raw = f.dataset(programs="raw").load_notes(item)
    assert sorted(set(raw.programs.tolist())) == [0, 25, 33, 48]
    assert 90.0 not in notes.pitches  # the unrendered stem S05 is not a reference
    all_src = f.dataset(midi_source="all_src").load_notes(item)
    assert len(all_src) == len(notes) + 1


def test_cerberus4_subset_mix_and_classes(fx: dict[str, F.Fixture]) -> None:
    f = fx["slakh2100"]
    ds = get_dataset("cerberus4", root=f.root, manifest=f.manifest)
    assert ds.members("test") == ["Track01876", "Track01877"]  # Track01878 has no guitar
    items = ds.items("test")
    assert items[0].metadata["classes"] == ["piano", "guitar", "bass", "drums"]
    for item in items:
        assert item.audio_path.is_file() and "derived" in item.audio_path.parts
        assert_notes_equal(ds.load_notes(item), f.cerberus_notes[item.id])
    import soundfile as sf

    mix, sr = sf.read(str(items[0].audio_path))
    stems = sum(sf.read(str(f.root / "test/Track01876/stems" / f"S0{k}.flac"))[0] for k in range(4))
    assert sr == F.SR and np.max(np.abs(mix - stems)) < 1e-4  # S04 (strings) is left out of the mix
    assert ds.describe()["sizes"] == {"train": 0, "validation": 0, "test": 2}


def test_guitarset_player_split_and_audio_choice(fx: dict[str, F.Fixture]) -> None:
    f = fx["guitarset"]
    items = f.dataset(split_scheme="player", held_out_player="04").items("test")
    assert [i.id for i in items] == ["04_SS1-100-Cs_solo", "04_SS3-84-Bb_solo"]
    assert items[0].metadata["track_id"] == "04_SS1-100-C#_solo"
    assert f.dataset(audio="mix").items("validation")[0].audio_path.name == "00_BN3-119-G_comp_mix.wav"
    assert f.dataset(program=24).load_notes(items[0]).programs.tolist() == [24, 24, 24]


def test_musicnet_metadata_for_translation_domains(fx: dict[str, F.Fixture]) -> None:
    f = fx["musicnet"]
    items = {i.id: i for i in f.dataset().items("test")}
    assert items["2118"].metadata["composer"] == "Brahms" and items["1729"].metadata["ensemble"] == "Piano Quintet"
    assert items["2118"].audio_path.parent.name == "train_data"
    official = f.dataset(split_scheme="official")
    assert [i.id for i in official.items("test")] == ["1759"]


# =============================================================================================
# bad input: one clear line naming the file and what is wrong
# =============================================================================================
def test_unknown_split_and_not_the_dataset(fx: dict[str, F.Fixture], tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError) as exc:
        fx["maestro-v3"].dataset().items("tset")
    assert one_line(exc) == "unknown split of dataset 'maestro-v3' 'tset'; did you mean 'test'?"
    empty = tmp_path / "empty"
    empty.mkdir()
    expected = {
        "maestro-v3": "not a MAESTRO v3.0.0 copy (maestro-v3.0.0.csv is missing)",
        "slakh2100": "not a Slakh2100 (redux) copy (no train/, validation/, test/ or omitted/ folder)",
        "guitarset": "not a GuitarSet copy (annotation is missing)",
        "musicnet": "not a MusicNet copy (train_labels is missing)",
        "urmp": "not a URMP copy (none of its 44 piece folders, e.g. 01_Jupiter_vn_vc/, is there)",
        "nsynth": "not an NSynth copy (no nsynth-train/, nsynth-valid/ or nsynth-test/ folder with an examples.json)",
    }
    for name, message in expected.items():
        ds = get_dataset(name, root=empty)
        with pytest.raises(MissingDataError) as exc:
            ds.items(ds.splits[0])
        assert one_line(exc).startswith(f"{empty}: {message}")
    with pytest.raises(MissingDataError) as exc:
        get_dataset("musicnet", root=tmp_path / "nowhere").items("test")
    assert one_line(exc).startswith(f"{tmp_path / 'nowhere'}: MusicNet not found (no such folder)")


def test_missing_and_truncated_files(fx: dict[str, F.Fixture]) -> None:
    f = fx["musicnet"]
    ds = f.dataset()
    item = ds.items("test")[0]
    labels = Path(item.files["labels"])
    labels.unlink()
    with pytest.raises(MissingDataError) as exc:
        ds.load_notes(item)
    assert one_line(exc) == f"{labels}: MusicNet label file not found"
    g = fx["guitarset"].dataset()
    gitem = g.items("validation")[0]
    data = gitem.audio_path.read_bytes()
    gitem.audio_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInputError) as exc:
        g.load_notes(gitem)
    assert re.fullmatch(rf"{re.escape(str(gitem.audio_path))}: truncated WAV file \(header declares 64000 bytes of "
                        rf"samples, the file holds \d+\)", one_line(exc))
    s = fx["slakh2100"].dataset()
    sitem = s.items("test")[0]
    flac = sitem.audio_path.read_bytes()
    sitem.audio_path.write_bytes(flac[: len(flac) // 2])
    with pytest.raises(BadInputError) as exc:
        s.load_notes(sitem)
    assert one_line(exc).startswith(f"{sitem.audio_path}: truncated or corrupt audio file")


def test_malformed_annotations(fx: dict[str, F.Fixture]) -> None:
    cases = []
    # MusicNet label row
    mn = fx["musicnet"].dataset()
    item = mn.items("test")[0]
    path = Path(item.files["labels"])
    lines = path.read_text().splitlines()
    lines[2] = "abc," + lines[2].split(",", 1)[1]
    path.write_text("\n".join(lines) + "\n")
    cases.append((mn, item, f"{path}: line 3: start_time 'abc' is not an integer"))
    # URMP note line
    ur = fx["urmp"].dataset()
    uitem = ur.items("validation")[0]
    upath = Path(uitem.files["notes_2"])
    upath.write_text(upath.read_text() + "1.5\t220.0\n")
    cases.append((ur, uitem, f"{upath}: line 3: expected onset, frequency and duration, found 2 field(s)"))
    # GuitarSet JAMS observation
    gs = fx["guitarset"].dataset()
    gitem = gs.items("validation")[0]
    gpath = Path(gitem.files["jams"])
    jam = json.loads(gpath.read_text())
    jam["annotations"][1]["data"][0]["value"] = "E2"
    gpath.write_text(json.dumps(jam))
    cases.append((gs, gitem, f"{gpath}: note_midi annotation 1, observation 0: time, duration and value must be "
                             f"numbers (got {jam['annotations'][1]['data'][0]!r:.80})"))
    # Slakh metadata.yaml
    sl = fx["slakh2100"].dataset()
    sitem = sl.items("test")[1]
    meta = Path(sitem.files["metadata"])
    meta.write_text(meta.read_text().replace("    program_num: 29\n", ""))
    cases.append((sl, sitem, f"{meta}: stem S01 lacks 'program_num'"))
    for ds, it, message in cases:
        with pytest.raises(BadInputError) as exc:
            ds.load_notes(it)
        assert one_line(exc) == message
    # MAESTRO csv whose split column disagrees with v3.0.0
    ma = fx["maestro-v3"]
    csv_path = ma.root / "maestro-v3.0.0.csv"
    csv_path.write_text(csv_path.read_text().replace(",test,", ",train,", 1))
    with pytest.raises(BadInputError) as exc:
        ma.dataset().items("test")
    assert one_line(exc) == (f"{csv_path}: line 2: 2008/{F.MAESTRO_IDS['test'][0]}.midi is in split 'train', "
                             f"MAESTRO v3.0.0 puts it in 'test'")
    # NSynth examples.json
    ns = fx["nsynth"]
    ex_path = ns.root / "nsynth-test" / "examples.json"
    examples = json.loads(ex_path.read_text())
    del examples["guitar_acoustic_010-060-100"]["pitch"]
    ex_path.write_text(json.dumps(examples))
    with pytest.raises(BadInputError) as exc:
        ns.dataset().items("test")
    assert one_line(exc) == f"{ex_path}: example 'guitar_acoustic_010-060-100' lacks pitch"


# =============================================================================================
# verification and fingerprints
# =============================================================================================
def test_verify_stamps_and_fingerprints(fx: dict[str, F.Fixture], tmp_path: Path) -> None:
    f = fx["musicnet"]
    ds = f.dataset()
    split_fp = ds.split_fingerprint("test")
    unverified_fp = ds.fingerprint("test")
    assert not ds.is_verified("test") and unverified_fp != split_fp
    assert f.dataset(split_scheme="mt3").fingerprint("test") == unverified_fp
    assert f.dataset(split_scheme="official").fingerprint("test") != unverified_fp
    report = ds.verify(split="test")
    assert report.ok and report.checked == 4 and report.lines() == []
    assert ds.is_verified("test") and not ds.is_verified("train")
    verified_fp = f.dataset().fingerprint("test")
    assert verified_fp not in (split_fp, unverified_fp) and report.fingerprints == {"test": verified_fp}
    # a byte-identical second copy gets the same fingerprint: its runs are comparable
    copy = tmp_path / "copy"
    shutil.copytree(f.root, copy)
    other = get_dataset("musicnet", root=copy, manifest=f.manifest)
    assert other.verify(split="test").ok and other.fingerprint("test") == verified_fp
    # same size, other bytes: no published checksum catches it, but the fingerprint differs
    audio = copy / "train_data" / "1729.wav"
    data = bytearray(audio.read_bytes())
    data[-10] ^= 0xFF
    audio.write_bytes(bytes(data))
    assert not other.is_verified("test")  # size/mtime changed since the stamp
    again = get_dataset("musicnet", root=copy, manifest=f.manifest)
    assert again.verify(split="test").ok and again.fingerprint("test") not in (verified_fp, unverified_fp)


def test_verify_reports_missing_changed_truncated_and_extra(fx: dict[str, F.Fixture]) -> None:
    g = fx["guitarset"]
    ds = g.dataset()
    assert ds.verify().ok
    item = ds.items("validation")[0]
    item.audio_path.unlink()
    (g.root / "audio_hex-pickup_original" / "00_BN3-119-G_comp_hex.wav").unlink()  # not used with audio=mic
    jams = Path(item.files["jams"])
    jams.write_text(jams.read_text() + " ")
    (g.root / "annotation" / "stray.jams").write_text("{}")
    report = ds.verify()
    assert not report.ok and not ds.is_verified("validation")
    assert report.lines() == [f"{g.root}/audio_mono-mic/00_BN3-119-G_comp_mic.wav: missing",
                              f"{jams}: checksum or size differs from the published one",
                              f"{g.root}/annotation/stray.jams: extra file not in the manifest"]
    ns = fx["nsynth"].dataset()
    report = ns.verify()  # only nsynth-test is there: the whole check fails, the test split is stamped
    assert not report.ok and ns.is_verified("test") and not ns.is_verified("train")
    assert report.lines() == [f"{fx['nsynth'].root}/nsynth-train/examples.json: missing",
                              f"{fx['nsynth'].root}/nsynth-valid/examples.json: missing"]
    m = fx["maestro-v3"].dataset()
    wav = m.items("test")[0].audio_path
    wav.write_bytes(wav.read_bytes()[:-1000])
    report = m.verify(split="test")
    assert not report.ok and len(report.problems) == 1
    assert report.lines()[0].startswith(f"{wav}: truncated WAV file (header declares")


def test_cli_verify_register_list(fx: dict[str, F.Fixture], tmp_path: Path, capsys) -> None:
    u = fx["urmp"]
    assert cli_main(["datasets", "verify", "urmp", "--data-dir", str(u.root), "--param", f"manifest={u.manifest}",
                     "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "urmp: 11 files checked" in out and ": ok" in out  # 3 mixes + 8 note files
    assert re.search(r"validation fingerprint: [0-9a-f]{64}", out)
    assert cli_main(["datasets", "register", "urmp", str(u.root)]) == 0
    assert get_dataset("urmp").root == u.root.resolve()
    not_urmp = tmp_path / "not-urmp"
    not_urmp.mkdir()
    capsys.readouterr()
    assert cli_main(["datasets", "register", "urmp", str(not_urmp)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"musebench: error: {not_urmp}: not a URMP copy (none of its 44 piece folders, e.g. " \
                  f"01_Jupiter_vn_vc/, is there)"
    assert cli_main(["datasets", "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["maestro-v3"]["sizes"] == {"train": 962, "validation": 137, "test": 177}
    assert rows["urmp"]["registered"] and rows["musicnet"]["license"] == "CC BY 4.0"


# =============================================================================================
# download: loopback HTTP server with Range support
# =============================================================================================
class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    log: list[tuple[str, str | None]] = []
    cut_next: list[bool] = []
    honour_range = True

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?")[0]
        self.log.append((path, self.headers.get("Range")))
        body = self.files.get(path)
        if body is None:
            self.send_error(404)
            return
        start = 0
        rng = self.headers.get("Range")
        if rng and self.honour_range:
            start = int(rng.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        if self.cut_next and self.cut_next.pop(0):
            self.wfile.write(body[start:start + (len(body) - start) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body[start:])


@pytest.fixture
def server():
    _Handler.files, _Handler.log, _Handler.cut_next, _Handler.honour_range = {}, [], [], True
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _zip_folder(folder: Path, arcroot: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, f"{arcroot}/{path.relative_to(folder)}")
        zf.writestr(f"{arcroot}/pad.bin", os.urandom(200_000))  # big enough to cut in half
    return buf.getvalue()


def test_download_resumes_checks_and_unpacks(fx: dict[str, F.Fixture], tmp_path: Path, server, monkeypatch,
                                             capsys) -> None:
    httpd, base = server
    g = fx["guitarset"]
    body = _zip_folder(g.root / "annotation", "annotation")
    _Handler.files["/files/annotation.zip"] = body
    import hashlib

    archive = dl.Archive("annotation", f"{base}/files/annotation.zip?download=1", "annotation.zip",
                         md5=hashlib.md5(body).hexdigest(), into="annotation", strip="annotation")
    monkeypatch.setattr(DATASETS.get("guitarset"), "archives", (archive,))
    dest, root = tmp_path / "downloads", tmp_path / "GuitarSet"
    _Handler.cut_next = [True]
    with pytest.raises(MissingDataError) as exc:
        dl.download_dataset("guitarset", dest=dest, root=root, extract=True, progress=False)
    part = dest / "annotation.zip.part"
    assert re.fullmatch(rf"{re.escape(archive.url)}: download interrupted after {part.stat().st_size} of "
                        rf"{len(body)} bytes; run the same command again to resume", one_line(exc))
    assert 0 < part.stat().st_size < len(body) and not (dest / "annotation.zip").exists()
    # resume through the CLI
    assert cli_main(["datasets", "download", "guitarset", "--dest", str(dest), "--data-dir", str(root),
                     "--quiet"]) == 0
    assert _Handler.log[-1] == ("/files/annotation.zip", f"bytes={len(body) // 2}-")
    assert (dest / "annotation.zip").read_bytes() == body and not part.exists()
    assert sorted(p.name for p in (root / "annotation").iterdir()) == sorted(
        [p.name for p in (g.root / "annotation").iterdir()] + ["pad.bin"])
    assert "guitarset: unpacked into" in capsys.readouterr().out
    # already there and correct: nothing is fetched again
    n = len(_Handler.log)
    dl.download_dataset("guitarset", dest=dest, progress=False)
    assert len(_Handler.log) == n


def test_download_checksum_mismatch_and_ignored_range(tmp_path: Path, server) -> None:
    httpd, base = server
    body = os.urandom(300_000)
    _Handler.files["/blob.tar.gz"] = body
    target = tmp_path / "blob.tar.gz"
    with pytest.raises(BadInputError) as exc:
        dl.download_file(f"{base}/blob.tar.gz", target, md5="0" * 32, progress=False)
    import hashlib

    actual = hashlib.md5(body).hexdigest()
    assert one_line(exc) == (f"{target}: checksum mismatch after downloading {base}/blob.tar.gz (expected md5 "
                             f"{'0' * 32}, got {actual}); the partial file was deleted, run again to retry")
    assert not target.exists() and not (tmp_path / "blob.tar.gz.part").exists()
    # a server that ignores Range: the partial file is discarded and the download restarts
    _Handler.honour_range = False
    (tmp_path / "blob.tar.gz.part").write_bytes(b"garbage" * 10)
    sha = hashlib.sha256(body).hexdigest()
    assert dl.download_file(f"{base}/blob.tar.gz", target, sha256=sha, progress=False).read_bytes() == body
    with pytest.raises(MissingDataError) as exc:
        dl.download_file(f"{base}/missing.zip", tmp_path / "m.zip", progress=False)
    assert one_line(exc) == f"{base}/missing.zip: download failed (HTTP 404 Not Found)"


def test_extract_refuses_escaping_members(tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../outside.txt", "x")
    with pytest.raises(BadInputError) as exc:
        dl.extract_archive(evil, tmp_path / "out")
    assert one_line(exc) == f"{evil}: archive member '../outside.txt' would be written outside {tmp_path / 'out'}"


# =============================================================================================
# a full `musebench run` of the oracle on every fixture dataset
# =============================================================================================
def _fixture_task(f: F.Fixture, name: str, tmp_path: Path) -> Path:
    raw = yaml.safe_load((tasks_dir() / "transcription" / f"{name}.yaml").read_text())
    raw.setdefault("dataset_params", {})["manifest"] = str(f.manifest)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    load_task_file(path)
    return path


@pytest.mark.parametrize("name", REAL)
def test_full_run_oracle_on_fixture(fx: dict[str, F.Fixture], name: str, tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("musebench.models.transcription.oracle")
    from musebench.runner import RunOptions, run_task

    f = fx["slakh2100" if name == "cerberus4" else name]
    monkeypatch.setenv(f"MUSEBENCH_{name.upper().replace('-', '_')}_ROOT", str(f.root))
    task = _fixture_task(f, name, tmp_path)
    with pytest.raises(MissingDataError) as exc:
        run_task(RunOptions(task=str(task), model="oracle", progress=False))
    assert "is not verified" in one_line(exc)
    unverified = run_task(RunOptions(task=str(task), model="oracle", progress=False, allow_unverified=True)).results
    ds = get_dataset(name, manifest=f.manifest, **{k: v for k, v in get_task(str(task)).dataset_params.items()
                                                      if k != "manifest"})
    assert ds.verify(split=get_task(str(task)).split).ok
    res = run_task(RunOptions(task=str(task), model="oracle", progress=False)).results
    assert res["dataset"]["verified"] and not unverified["dataset"]["verified"]
    assert res["dataset"]["fingerprint"] == ds.fingerprint(get_task(str(task)).split)
    assert res["dataset"]["fingerprint"] != unverified["dataset"]["fingerprint"]
    assert res["n_scored"] == res["n_items"] == {"cerberus4": 2, "slakh2100": 3, "nsynth": 3}.get(name, 2)
    assert not res["failures"]
    assert all(m["mean"] == pytest.approx(1.0) for m in res["metrics"].values() if m.get("mean") is not None)


# =============================================================================================
# full data: only with a registered local copy
# =============================================================================================
def _user_config() -> Path:
    from musebench.paths import config_file

    return config_file()


USER_CONFIG = _user_config()  # read at import, before the autouse fixture isolates the config


@pytest.mark.parametrize("name", REAL)
def test_full_local_copy(name: str, monkeypatch) -> None:
    """With a registered copy: sizes, items and one reference; MUSEBENCH_FULL_DATA=1 also verifies
    the task's split (hashes every file: minutes for MAESTRO)."""
    registered = json.loads(USER_CONFIG.read_text()).get("datasets", {}) if USER_CONFIG.is_file() else {}
    if name not in registered and not (name == "cerberus4" and "slakh2100" in registered):
        pytest.skip(f"no local copy of {name} registered in {USER_CONFIG}")
    monkeypatch.setenv("MUSEBENCH_CONFIG", str(USER_CONFIG))
    ds = get_dataset(name)
    split = get_task(name).split
    if os.environ.get("MUSEBENCH_FULL_DATA") == "1":
        assert ds.verify(split=split, progress=True).ok
    items = ds.items(split)
    assert len(items) == ds.split_sizes()[split]
    assert len(ds.load_notes(items[0])) > 0
