"""URMP: 44 classical chamber pieces recorded part by part (Li et al., 2018).

Layout (the Dryad release, doi:10.5061/dryad.ng3r749; one folder per piece)::

    01_Jupiter_vn_vc/
        AuMix_01_Jupiter_vn_vc.wav        the mix (48 kHz) -- the input
        AuSep_1_vn_01_Jupiter.wav ...     one recording per part
        Notes_1_vn_01_Jupiter.txt ...     note annotation per part: onset (s), pitch (Hz),
                                          duration (s), whitespace separated, one note a line
        F0s_*, Sco_*, Vid_*               pitch tracks, score, video (not used)

The folder name lists the instruments in part order: vn violin, va viola, vc cello, db double
bass, fl flute, ob oboe, cl clarinet, sax saxophone, bn bassoon, tpt trumpet, hn horn, tbn
trombone, tba tuba; they map to General MIDI programs (0-based) 40, 41, 42, 43, 73, 68, 71, 65
(alto sax), 70, 56, 60 (French horn), 57, 58. In piece 15 (``15_Surprise_tpt_tpt_tbn``) the third
part's files say ``tpt`` although the part is the trombone; the manifest names the files as
they are and the folder decides the instrument.

Split: MT3's validation pieces 1, 2, 12, 13, 24, 25, 31, 38, 39 (9) -> ``validation``, the other
35 -> ``train`` (the same nine ids are ``MT3_TEST_IDS`` in YourMT3's ``preprocess_urmp.py``).

Reference notes: pitch = the annotated mean frequency converted to MIDI and rounded to the
nearest semitone (``round_pitch=True``, default; False keeps the fractional pitch), one
program per part, velocity unknown (0).
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import BadInputError, MissingDataError
from ..types import Item, Notes
from . import register_dataset
from .readers import check_audio_file, hz_to_midi, make_notes
from .real import RealDataset

URMP_PROGRAMS = {"vn": 40, "va": 41, "vc": 42, "db": 43, "fl": 73, "ob": 68, "cl": 71, "sax": 65, "bn": 70,
                 "tpt": 56, "hn": 60, "tbn": 57, "tba": 58}


def read_urmp_notes(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(onsets s, offsets s, frequencies Hz) of a URMP ``Notes_*.txt`` file."""
    path = Path(path)
    if not path.is_file():
        raise MissingDataError(f"{path}: URMP note file not found")
    onsets, offsets, freqs = [], [], []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise BadInputError(f"{path}: URMP note file is not text") from None
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 3:
            raise BadInputError(f"{path}: line {number}: expected onset, frequency and duration, "
                                f"found {len(fields)} field(s)")
        try:
            onset, freq, duration = (float(x) for x in fields)
        except ValueError:
            raise BadInputError(f"{path}: line {number}: {line.strip()!r} is not three numbers") from None
        if not all(np.isfinite([onset, freq, duration])) or onset < 0 or freq <= 0 or duration <= 0:
            raise BadInputError(f"{path}: line {number}: bad note (onset {onset}, frequency {freq} Hz, "
                                f"duration {duration} s)")
        onsets.append(onset)
        offsets.append(onset + duration)
        freqs.append(freq)
    return np.array(onsets), np.array(offsets), np.array(freqs)


@register_dataset
class URMP(RealDataset):
    """URMP (University of Rochester Multi-Modal Music Performance dataset)."""

    name = "urmp"
    title = "URMP"
    citation = """@article{li2019creating,
  title={Creating a Multitrack Classical Music Performance Dataset for Multimodal Music Analysis:
         Challenges, Insights, and Applications},
  author={Li, Bochen and Liu, Xinzhao and Dinesh, Karthik and Duan, Zhiyao and Sharma, Gaurav},
  journal={IEEE Transactions on Multimedia},
  volume={21}, number={2}, pages={522--535},
  year={2019}
}"""
    license = "CC0 1.0 (Dryad release doi:10.5061/dryad.ng3r749)"
    homepage = "https://labsites.rochester.edu/air/projects/URMP.html"
    splits = ("train", "validation")
    manifest_file = "urmp.json"
    annex_patterns = RealDataset.annex_patterns + ("AuSep_*", "F0s_*", "Sco_*", "Vid_*", "*.pdf", "*.mp4")
    manual_download = ("URMP has no direct archive URL: request/download it from https://labsites.rochester.edu/air/"
                       "projects/URMP.html (Dryad doi:10.5061/dryad.ng3r749), unpack it and run `musebench datasets "
                       "register urmp PATH`")
    default_params: ClassVar[dict[str, Any]] = {"round_pitch": True}
    param_choices: ClassVar[dict[str, tuple[Any, ...]]] = {"round_pitch": (True, False)}

    def check_layout(self) -> None:
        super().check_layout()
        root = self.root
        folders = sorted(self.manifest().items)
        if not any((root / f).is_dir() for f in folders):
            raise MissingDataError(f"{root}: not a URMP copy (none of its {len(folders)} piece folders, "
                                   f"e.g. {folders[0]}/, is there)")

    def items(self, split: str) -> list[Item]:
        items = self.manifest_items(split, audio_role="mix")
        out = []
        for item in items:
            abbrs = list(item.metadata["instruments"])
            out.append(Item(id=item.id, dataset=item.dataset, audio_path=item.audio_path, files=item.files,
                            metadata={**item.metadata,
                                      "programs": [URMP_PROGRAMS[a] for a in abbrs],
                                      "is_drum": [False] * len(abbrs)}))
        return out

    def load_notes(self, item: Item) -> Notes:
        if item.audio_path is not None:
            check_audio_file(item.audio_path)
        abbrs = list(item.metadata["instruments"])
        parts = []
        for part, abbr in enumerate(abbrs, start=1):
            path = Path(item.files[f"notes_{part}"])
            if abbr not in URMP_PROGRAMS:
                raise BadInputError(f"{path.parent}: unknown URMP instrument abbreviation {abbr!r}")
            onsets, offsets, freqs = read_urmp_notes(path)
            pitches = hz_to_midi(freqs)
            if self.params["round_pitch"]:
                pitches = np.round(pitches)
            parts.append(make_notes(onsets=onsets, offsets=offsets, pitches=pitches, programs=URMP_PROGRAMS[abbr],
                                    name=str(path)))
        return Notes.concatenate(parts).sorted()


# ---- the manifest builder (scripts/make_real_manifests.py) ---------------------------------
# the 44 piece folders, and MT3's validation pieces
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


def build_manifest() -> dict[str, Any]:
    """The shipped manifest: the 44 piece folders and MT3's validation pieces (written above)."""
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
