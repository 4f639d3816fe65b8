"""NSynth: 305,979 four-second single notes of 1,006 instruments (Engel et al., 2017).

Layout (the three ``nsynth-<split>.jsonwav.tar.gz`` archives unpacked side by side)::

    nsynth-train/ nsynth-valid/ nsynth-test/
        examples.json          {note_str: {note, note_str, instrument, instrument_str, pitch,
                                velocity, sample_rate, qualities, qualities_str,
                                instrument_family, instrument_family_str,
                                instrument_source, instrument_source_str}, ...}
        audio/<note_str>.wav   16 kHz mono, 4 s (the key is held 3 s, then released)

Split: the official one, a folder per split -- train 289,205, validation (``nsynth-valid``)
12,678, test 4,096 notes. The names are too many to ship, so the manifest records the folder
of each split and its size; items come from the local ``examples.json``, whose sha256 is part
of the split fingerprint, and a copy whose count differs from the published size is refused.

Items (for note-level transcription and for translation domains): metadata holds pitch,
velocity, instrument family/source (as strings), instrument name and qualities. Reference
notes: one note, onset 0 s, offset ``note_seconds`` (default 3.0, the key-release time), the
example's pitch and velocity; program = the first General MIDI program of the family's GM
group (NSynth has no GM programs): bass 32, brass 56, flute 73, guitar 24, keyboard 0, mallet 8,
organ 16, reed 64, string 40, synth_lead 80, vocal 52.
"""
from __future__ import annotations

from typing import Any, ClassVar

from ..errors import BadInputError, MissingDataError
from ..io_utils import canonical_json, read_json, sha256_bytes
from ..types import Item, Notes
from . import register_dataset
from .download import Archive
from .readers import check_audio_file, hash_file, make_notes
from .real import RealDataset

FAMILY_PROGRAMS = {"bass": 32, "brass": 56, "flute": 73, "guitar": 24, "keyboard": 0, "mallet": 8, "organ": 16,
                   "reed": 64, "string": 40, "synth_lead": 80, "vocal": 52}
EXAMPLE_KEYS = ("pitch", "velocity", "instrument_family_str", "instrument_source_str")


@register_dataset
class NSynth(RealDataset):
    """NSynth v2.2 (single notes; official train/valid/test folders)."""

    name = "nsynth"
    title = "NSynth"
    citation = """@inproceedings{engel2017neural,
  title={Neural Audio Synthesis of Musical Notes with {WaveNet} Autoencoders},
  author={Engel, Jesse and Resnick, Cinjon and Roberts, Adam and Dieleman, Sander and Norouzi, Mohammad and
          Eck, Douglas and Simonyan, Karen},
  booktitle={International Conference on Machine Learning (ICML)},
  year={2017}
}"""
    license = "CC BY 4.0"
    homepage = "https://magenta.tensorflow.org/datasets/nsynth"
    splits = ("train", "validation", "test")
    manifest_file = "nsynth.json"
    archives: ClassVar[tuple[Archive, ...]] = tuple(  # no checksum published
        Archive(part, f"http://download.magenta.tensorflow.org/datasets/nsynth/nsynth-{part}.jsonwav.tar.gz",
                f"nsynth-{part}.jsonwav.tar.gz") for part in ("test", "valid", "train"))
    default_params: ClassVar[dict[str, Any]] = {"note_seconds": 3.0}

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        seconds = self.params["note_seconds"]
        if not isinstance(seconds, (int, float)) or not 0 < float(seconds) <= 4.0:
            from ..errors import ConfigError

            raise ConfigError(f"dataset 'nsynth': parameter note_seconds={seconds!r} must be in (0, 4]")
        self._examples: dict[str, dict[str, Any]] = {}
        self._examples_sha: dict[str, str] = {}

    def split_dir(self, split: str) -> str:
        self.check_split(split)
        return self.manifest().extra["split_dirs"][split]

    def check_layout(self) -> None:
        super().check_layout()
        root = self.root
        dirs = self.manifest().extra["split_dirs"]
        if not any((root / d / "examples.json").is_file() for d in dirs.values()):
            raise MissingDataError(f"{root}: not an NSynth copy (no nsynth-train/, nsynth-valid/ or nsynth-test/ "
                                   f"folder with an examples.json)")

    def examples(self, split: str) -> dict[str, dict[str, Any]]:
        """The checked ``examples.json`` of ``split`` (note_str -> example)."""
        if split not in self._examples:
            self.check_layout()
            path = self.root / self.split_dir(split) / "examples.json"
            data = read_json(path, what=f"NSynth {split} examples.json")
            if not isinstance(data, dict):
                raise BadInputError(f"{path}: not an NSynth examples file (expected a mapping of note names)")
            for key, example in data.items():
                if not isinstance(example, dict):
                    raise BadInputError(f"{path}: example {key!r} is not a mapping")
                missing = [k for k in EXAMPLE_KEYS if k not in example]
                if missing:
                    raise BadInputError(f"{path}: example {key!r} lacks {', '.join(missing)}")
                pitch, velocity = example["pitch"], example["velocity"]
                if not isinstance(pitch, int) or not 0 <= pitch <= 127:
                    raise BadInputError(f"{path}: example {key!r} has pitch {pitch!r} (expected 0-127)")
                if not isinstance(velocity, int) or not 0 <= velocity <= 127:
                    raise BadInputError(f"{path}: example {key!r} has velocity {velocity!r} (expected 0-127)")
                if example["instrument_family_str"] not in FAMILY_PROGRAMS:
                    raise BadInputError(f"{path}: example {key!r} has unknown instrument family "
                                        f"{example['instrument_family_str']!r}")
            expected = self.manifest().extra.get("sizes", {}).get(split)
            if expected is not None and len(data) != int(expected):
                raise BadInputError(f"{path}: lists {len(data)} examples, the NSynth {split} split has {expected}")
            self._examples[split] = data
            self._examples_sha[split] = hash_file(path)[0]
        return self._examples[split]

    def split_fingerprint(self, split: str) -> str:
        base = super().split_fingerprint(split)
        self.examples(split)
        return sha256_bytes(canonical_json({"manifest": base, "examples_json_sha256": self._examples_sha[split],
                                            "split_dir": self.split_dir(split)}).encode())

    def split_ids(self, split: str) -> list[str]:
        return sorted(self.examples(split))

    def expected_files(self, split: str | None = None) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for s in ([split] if split else list(self.splits)):
            folder = self.split_dir(s)
            out[f"{folder}/examples.json"] = {"path": f"{folder}/examples.json"}
            if not (self.root / folder / "examples.json").is_file():
                continue  # reported missing by verify; the audio files are unknown without it
            for key in self.examples(s):
                rel = f"{folder}/audio/{key}.wav"
                out[rel] = {"path": rel}
        return out

    def items(self, split: str) -> list[Item]:
        self.check_split(split)
        examples = self.examples(split)
        folder = self.root / self.split_dir(split)
        out = []
        for key in sorted(examples):
            ex = examples[key]
            audio = folder / "audio" / f"{key}.wav"
            meta = {"split": split, "pitch": ex["pitch"], "velocity": ex["velocity"],
                    "instrument_family": ex["instrument_family_str"], "instrument_source": ex["instrument_source_str"],
                    "instrument": ex.get("instrument_str", ""), "qualities": list(ex.get("qualities_str", [])),
                    "duration": 4.0}
            out.append(Item(id=key, dataset=self.name, audio_path=audio, files={"audio": audio}, metadata=meta))
        return out

    def split_sizes(self) -> dict[str, int]:
        sizes = self.manifest().extra["sizes"]
        return {s: int(sizes[s]) for s in self.splits}

    def load_notes(self, item: Item) -> Notes:
        if item.audio_path is not None:
            check_audio_file(item.audio_path)
        meta = item.metadata
        return make_notes(onsets=[0.0], offsets=[float(self.params["note_seconds"])], pitches=[meta["pitch"]],
                          velocities=[meta["velocity"]], programs=FAMILY_PROGRAMS[meta["instrument_family"]],
                          name=f"{item.audio_path}")


# ---- the manifest builder (scripts/make_real_manifests.py) ---------------------------------
SIZES = {"train": 289205, "validation": 12678, "test": 4096}


def build_manifest() -> dict[str, Any]:
    """The shipped manifest: the official split folders and their sizes (items come from the local
    ``examples.json``)."""
    return {
        "dataset": "nsynth", "version": "2.2", "items": {}, "sizes": SIZES,
        "split_dirs": {"train": "nsynth-train", "validation": "nsynth-valid", "test": "nsynth-test"},
        "split_source": "the official NSynth split: one folder per split (nsynth-train/valid/test) with its "
                        "examples.json (289205/12678/4096 notes); item ids and files are read from the local "
                        "examples.json and the split fingerprint includes that file's sha256",
        "sources": ["https://magenta.tensorflow.org/datasets/nsynth"],
    }
