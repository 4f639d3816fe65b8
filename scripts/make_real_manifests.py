#!/usr/bin/env python
"""Regenerate the split manifests of the real datasets from their public definitions.

The manifests under ``benchmark/data/manifests/`` freeze the splits MuseBench evaluates on.
They are built from public files (facts, not code), which this script takes as inputs:

=================  =========================================================================
--maestro-csv      ``maestro-v3.0.0.csv`` (https://storage.googleapis.com/magentadata/datasets/
                   maestro/v3.0.0/maestro-v3.0.0.csv; the copy used came from
                   github.com/alvaro-lg/TFG@25ce3861dd3f3164797c48571865bfc9df84f0a7 (extra
                   pandas columns ignored; 1276 rows, 962/137/177, 198.7 h as published).
--slakh-redux      ``splits/redux.json`` of github.com/ethman/slakh-utils
                   (@3f62d6a4b0e5952237dd5178ac3513e42161ec0a): one action per track
                   (None = stays, "omit" = moved to omitted/); original splits by track
                   number (Track00001-01500 train, -01875 validation, -02100 test) as in
                   that repository's ``splits/resplit_slakh.py``.
--guitarset-index  mirdata's ``guitarset_index_1.1.0.json`` (github.com/mir-dataset-loaders/
                   mirdata@c625f44e30e305e910ecd7dd42153894bc6a28b8): 360 tracks, 5 files
                   each, md5 checksums.
--musicnet-csv     ``musicnet_metadata.csv`` (https://zenodo.org/record/5120004; the copy
                   used came from github.com/iferco/DTWMatcher@54bd7706a4baa2eb906d909e56780c37624e92e4,
                   330 rows).
=================  =========================================================================

MT3's MusicNet validation/test ids are ``TRACKS_BY_SPLIT`` in magenta/mt3
``mt3/colab/mt3_reconvat_baseline.ipynb``; MT3's URMP validation pieces and the URMP piece
list are written below. Run::

    python scripts/make_real_manifests.py --maestro-csv ... --slakh-redux ... \
        --guitarset-index ... --musicnet-csv ... [--out benchmark/data/manifests]

Output is deterministic (sorted keys); rerunning on the same inputs reproduces the files
byte for byte.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
from collections import Counter
from pathlib import Path

# ---- MusicNet: MT3's held-out tracks (mt3_reconvat_baseline.ipynb, TRACKS_BY_SPLIT) --------
MT3_MUSICNET_VALIDATION = ["2336", "2466", "2160", "1818", "1733", "1765", "2198", "2300", "2308", "2477",
                           "2611", "2289", "1790", "2315", "2504"]
MT3_MUSICNET_TEST = ["2118", "2501", "1813", "1729", "1893", "2296", "1776", "2487", "2537", "2186", "2431",
                     "2432", "2497", "2621", "2507"]
# The 10 recordings of MusicNet's own test_data/ folder (Thickstun et al.); the rest are in train_data/.
MUSICNET_OFFICIAL_TEST = ["1759", "1819", "2106", "2191", "2298", "2303", "2382", "2416", "2556", "2628"]

# ---- URMP: the 44 piece folders, and MT3's validation pieces ---------------------------------
URMP_PIECES = [
    "01_Jupiter_vn_vc", "02_Sonata_vn_vn", "03_Dance_fl_cl", "04_Allegro_fl_fl", "05_Entertainer_tpt_tpt",
    "06_Entertainer_sax_sax", "07_GString_tpt_tbn", "08_Spring_fl_vn", "09_Jesus_tpt_vn", "10_March_tpt_sax",
    "11_Maria_ob_vc", "12_Spring_vn_vn_vc", "13_Hark_vn_vn_va", "14_Waltz_fl_fl_cl", "15_Surprise_tpt_tpt_tbn",
    "16_Surprise_tpt_tpt_sax", "17_Nocturne_vn_fl_cl", "18_Nocturne_vn_fl_tpt", "19_Pavane_cl_vn_vc",
    "20_Pavane_tpt_vn_vc", "21_Rejouissance_cl_tbn_tba", "22_Rejouissance_sax_tbn_tba",
    "23_Rejouissance_cl_sax_tba", "24_Pirates_vn_vn_va_vc", "25_Pirates_vn_vn_va_sax", "26_King_vn_vn_va_vc",
    "27_King_vn_vn_va_sax", "28_Fugue_fl_ob_cl_bn", "29_Fugue_fl_fl_ob_cl", "30_Fugue_fl_fl_ob_sax",
    "31_Slavonic_tpt_tpt_hn_tbn", "32_Fugue_vn_vn_va_vc", "33_Elise_tpt_tpt_hn_tbn", "34_Fugue_tpt_tpt_hn_tbn",
    "35_Rondeau_vn_vn_va_db", "36_Rondeau_vn_vn_va_vc", "37_Rondeau_fl_vn_va_cl", "38_Jerusalem_vn_vn_va_vc_db",
    "39_Jerusalem_vn_vn_va_sax_db", "40_Miserere_fl_fl_ob_cl_bn", "41_Miserere_fl_fl_ob_sax_bn",
    "42_Arioso_tpt_tpt_hn_tbn_tba", "43_Chorale_tpt_tpt_hn_tbn_tba", "44_K515_vn_vn_va_va_vc",
]
MT3_URMP_VALIDATION = [1, 2, 12, 13, 24, 25, 31, 38, 39]
# The corpus names part 3 of piece 15 "tpt" in its file names although the folder (and the
# instrument, a trombone) says "tbn".
URMP_FILE_ABBR_FIXES = {("15_Surprise_tpt_tpt_tbn", 3): "tpt"}

GUITARSET_FILES = {"audio_mic": "audio_mic", "audio_mix": "audio_mix", "audio_hex": "audio_hex",
                   "audio_hex_cln": "audio_hex_cln", "jams": "jams"}

SIZES = {"nsynth": {"train": 289205, "validation": 12678, "test": 4096}}


def write(out: Path, name: str, manifest: dict) -> None:
    path = out / f"{name}.json"
    text = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=True) + "\n"
    path.write_text(text)
    sizes = Counter(e["split"] for e in manifest["items"].values())
    print(f"{path}: {len(manifest['items'])} items {dict(sorted(sizes.items()))}")


def maestro(csv_path: Path) -> dict:
    items = {}
    with open(csv_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            midi, audio = row["midi_filename"], row["audio_filename"]
            item_id = os.path.basename(midi)[: -len(".midi")]
            assert re.fullmatch(r"[A-Za-z0-9._-]+", item_id) and item_id not in items, item_id
            items[item_id] = {
                "split": row["split"],
                "files": {"midi": {"path": midi}, "audio": {"path": audio}},
                "metadata": {"canonical_composer": row["canonical_composer"],
                             "canonical_title": row["canonical_title"], "year": int(row["year"]),
                             "duration": round(float(row["duration"]), 6)},
            }
    assert Counter(e["split"] for e in items.values()) == {"train": 962, "validation": 137, "test": 177}
    return {
        "dataset": "maestro-v3", "version": "3.0.0", "items": items,
        "shared_files": {"maestro-v3.0.0.csv": {}},
        "split_source": "the 'split' column of maestro-v3.0.0.csv (MAESTRO v3.0.0, 962/137/177 "
                        "performances as published); the loader re-reads the local csv and refuses a copy "
                        "whose split column disagrees with this manifest",
        "sources": ["https://magenta.tensorflow.org/datasets/maestro (maestro-v3.0.0.csv; statistics table)",
                    "github.com/alvaro-lg/TFG@25ce3861dd3f3164797c48571865bfc9df84f0a7:maestro-v3.0.0.csv"],
    }


def slakh(redux_path: Path) -> dict:
    actions = json.loads(redux_path.read_text())
    items = {}
    for track, action in sorted(actions.items()):
        number = int(track[len("Track"):])
        orig = "train" if number <= 1500 else ("validation" if number <= 1875 else "test")
        if action["action"] is None:
            split = orig
        elif action["action"] == "omit":
            assert action["source_split"] == orig, track
            split = "omitted"
        else:
            raise ValueError(f"{track}: unexpected action {action}")
        items[track] = {
            "split": split,
            "files": {"mix": {"path": f"{split}/{track}/mix.flac"},
                      "midi": {"path": f"{split}/{track}/all_src.mid"},
                      "metadata": {"path": f"{split}/{track}/metadata.yaml"}},
            "metadata": {"orig_split": orig},
        }
    assert Counter(e["split"] for e in items.values()) == {"train": 1289, "validation": 270, "test": 151,
                                                           "omitted": 390}
    return {
        "dataset": "slakh2100", "version": "2100-redux", "items": items,
        "split_source": "Slakh2100-redux: github.com/ethman/slakh-utils splits/redux.json "
                        "(1289/270/151, 390 omitted duplicates); the original Slakh2100 split "
                        "(1500/375/225 by track number) is kept per item as metadata.orig_split",
        "sources": ["github.com/ethman/slakh-utils@3f62d6a4b0e5952237dd5178ac3513e42161ec0a:splits/redux.json",
                    "github.com/ethman/slakh-utils:splits/resplit_slakh.py (original split by track number)",
                    "github.com/ethman/slakh-utils:splits/README.md (counts)"],
    }


def guitarset(index_path: Path) -> dict:
    index = json.loads(index_path.read_text())["tracks"]
    assert len(index) == 360
    items = {}
    for track_id, files in sorted(index.items()):
        player, rest = track_id.split("_", 1)
        style_prog = rest.split("-")[0]
        style, progression = style_prog[:-1], int(style_prog[-1])
        mode = track_id.rsplit("_", 1)[1]
        item_id = track_id.replace("#", "s")
        assert re.fullmatch(r"[A-Za-z0-9._-]+", item_id)
        items[item_id] = {
            "split": "train" if progression in (1, 2) else "validation",
            "files": {role: {"path": files[key][0], "md5": files[key][1]} for role, key in GUITARSET_FILES.items()},
            "metadata": {"track_id": track_id, "player": player, "style": style, "progression": progression,
                         "tempo": int(rest.split("-")[1]), "mode": mode},
        }
    assert Counter(e["split"] for e in items.values()) == {"train": 240, "validation": 120}
    return {
        "dataset": "guitarset", "version": "1.1.0", "items": items,
        "split_source": "MT3's GuitarSet split as described in issue 3 and used as 'guitarset_progression' by "
                        "YourMT3 (config/data_presets.py): progressions 1 and 2 of every style -> train (240), "
                        "progression 3 -> validation (120); MT3's own split lives only in its pre-built "
                        "TFRecords. split_scheme='player' holds out one player instead",
        "sources": ["github.com/mir-dataset-loaders/mirdata@c625f44e30e305e910ecd7dd42153894bc6a28b8:"
                    "mirdata/datasets/indexes/guitarset_index_1.1.0.json (file list, md5)"],
    }


def musicnet(csv_path: Path) -> dict:
    items = {}
    with open(csv_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            track = row["id"]
            folder = "test" if track in MUSICNET_OFFICIAL_TEST else "train"
            split = ("validation" if track in MT3_MUSICNET_VALIDATION
                     else "test" if track in MT3_MUSICNET_TEST else "train")
            items[track] = {
                "split": split,
                "files": {"audio": {"path": f"{folder}_data/{track}.wav"},
                          "labels": {"path": f"{folder}_labels/{track}.csv"}},
                "metadata": {"composer": row["composer"], "composition": row["composition"],
                             "movement": row["movement"], "ensemble": row["ensemble"], "source": row["source"],
                             "transcriber": row["transcriber"], "catalog_name": row["catalog_name"],
                             "duration": float(row["seconds"]), "official_split": folder},
            }
    assert len(items) == 330
    assert Counter(e["split"] for e in items.values()) == {"train": 300, "validation": 15, "test": 15}
    assert Counter(e["metadata"]["official_split"] for e in items.values()) == {"train": 320, "test": 10}
    return {
        "dataset": "musicnet", "version": "2021-zenodo", "items": items,
        "split_source": "MT3: validation and test track ids are TRACKS_BY_SPLIT in magenta/mt3 "
                        "mt3/colab/mt3_reconvat_baseline.ipynb (15 + 15); train is the other 300 of the 330 "
                        "recordings (as YourMT3's preprocess_musicnet.py derives it). split_scheme='official' "
                        "uses MusicNet's own train_data/test_data folders (320/10)",
        "sources": ["github.com/magenta/mt3@fa04532779a6078819c3418adcd83747c94329a4:"
                    "mt3/colab/mt3_reconvat_baseline.ipynb (TRACKS_BY_SPLIT)",
                    "https://zenodo.org/record/5120004 musicnet_metadata.csv (copy: "
                    "github.com/iferco/DTWMatcher@54bd7706a4baa2eb906d909e56780c37624e92e4)"],
    }


def urmp() -> dict:
    items = {}
    for folder in URMP_PIECES:
        number, title, *abbrs = folder.split("_")
        piece = f"{number}_{title}"
        files = {"mix": {"path": f"{folder}/AuMix_{folder}.wav"}}
        for part, abbr in enumerate(abbrs, start=1):
            file_abbr = URMP_FILE_ABBR_FIXES.get((folder, part), abbr)
            files[f"notes_{part}"] = {"path": f"{folder}/Notes_{part}_{file_abbr}_{piece}.txt"}
        items[folder] = {
            "split": "validation" if int(number) in MT3_URMP_VALIDATION else "train",
            "files": files,
            "metadata": {"piece": int(number), "title": title, "instruments": abbrs},
        }
    assert Counter(e["split"] for e in items.values()) == {"train": 35, "validation": 9}
    return {
        "dataset": "urmp", "version": "1.0", "items": items,
        "split_source": "MT3's URMP validation pieces 1, 2, 12, 13, 24, 25, 31, 38, 39 (issue 3; the same ids "
                        "are MT3_TEST_IDS in YourMT3's preprocess_urmp.py); the other 35 pieces are train",
        "sources": ["URMP piece folders (Li et al. 2018, doi:10.5061/dryad.ng3r749)"],
    }


def nsynth() -> dict:
    return {
        "dataset": "nsynth", "version": "2.2", "items": {}, "sizes": SIZES["nsynth"],
        "split_dirs": {"train": "nsynth-train", "validation": "nsynth-valid", "test": "nsynth-test"},
        "split_source": "the official NSynth split: one folder per split (nsynth-train/valid/test) with its "
                        "examples.json (289205/12678/4096 notes); item ids and files are read from the local "
                        "examples.json and the split fingerprint includes that file's sha256",
        "sources": ["https://magenta.tensorflow.org/datasets/nsynth"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--maestro-csv", type=Path, required=True)
    parser.add_argument("--slakh-redux", type=Path, required=True)
    parser.add_argument("--guitarset-index", type=Path, required=True)
    parser.add_argument("--musicnet-csv", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "benchmark" / "data"
                        / "manifests")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    write(args.out, "maestro-v3", maestro(args.maestro_csv))
    write(args.out, "slakh2100", slakh(args.slakh_redux))
    write(args.out, "guitarset", guitarset(args.guitarset_index))
    write(args.out, "musicnet", musicnet(args.musicnet_csv))
    write(args.out, "urmp", urmp())
    write(args.out, "nsynth", nsynth())


if __name__ == "__main__":
    main()
