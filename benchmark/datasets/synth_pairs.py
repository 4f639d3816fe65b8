"""``synth-pairs``: paired translation data rendered from MuseBench's synth scores.

Every score of the ``piano`` variant of :mod:`musebench.datasets.synth` (validation and test
splits) is rendered once per General MIDI program that a pair needs, with the synth renderer
(:func:`musebench.datasets.synth.render_synth_notes`: TinySoundFont + TimGM6mb, 16 kHz, tail
0.8 s, peak-normalised to -1 dBFS, 16-bit PCM WAV written with the standard library), so the
bytes are deterministic and frozen by sha256 in ``benchmark/data/manifests/synth_pairs.json``.

Pairs (dataset parameter ``pair``; source program -> target program):

``piano-to-violin`` 0 -> 40, ``piano-to-flute`` 0 -> 73, ``strings-to-piano`` 48 -> 0, and
``clarinet-to-piano`` 71 -> 0: the *unseen-domain* case, since no synth item of any split or
variant uses program 71 (:data:`musebench.datasets.synth.UNSEEN_PROGRAMS`).

An item's ``audio_path`` is the source rendering, ``files["reference_audio"]`` the same score
rendered in the target program (the paired reference) and ``files["midi"]`` the score (the
synth item's MIDI file, byte for byte). Metadata: source/target program and domain, the synth
item id, duration, note count. Item ids are the synth ids (``piano-test-000``); one dataset
instance covers one pair (default ``piano-to-violin``); :meth:`SynthPairs.prepare` renders all.

Layout under the root: ``midi/<split>/<id>.mid`` and ``program-<PPP>/<split>/<id>.wav`` (one
rendering per program, shared by the pairs that use it).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import BadInputError, ConfigError, MissingDataError
from ..io_utils import sha256_bytes
from ..paths import package_data
from ..types import Item, Notes
from . import register_dataset, synth
from .base import Manifest, VerifyReport, items_from_manifest
from .generated import GeneratedDataset

VERSION = "1"
MANIFEST_FILE = "synth_pairs.json"
SPLITS: tuple[str, ...] = ("validation", "test")
VARIANT = "piano"


@dataclass(frozen=True)
class Pair:
    """A (source domain -> target domain) pair of synthetic renderings."""

    source_domain: str
    target_domain: str
    source_program: int
    target_program: int
    unseen_source: bool = False


DEFAULT_PAIR = "piano-to-violin"
PAIRS: dict[str, Pair] = {
    "piano-to-violin": Pair("piano", "violin", 0, 40),
    "piano-to-flute": Pair("piano", "flute", 0, 73),
    "strings-to-piano": Pair("strings", "piano", 48, 0),
    "clarinet-to-piano": Pair("clarinet", "piano", 71, 0, unseen_source=True),
}


def programs_needed() -> list[int]:
    return sorted({p for pair in PAIRS.values() for p in (pair.source_program, pair.target_program)})


def _rel(kind: str, split: str, iid: str, program: int | None = None) -> str:
    if kind == "midi":
        return f"midi/{split}/{iid}.mid"
    return f"program-{program:03d}/{split}/{iid}.wav"


def score_midi(split: str, index: int) -> bytes:
    """The MIDI bytes of synth item ``piano-<split>-<index>`` (identical to synth's file)."""
    from ..midi import midi_bytes

    return midi_bytes(synth.compose(VARIANT, split, index).notes)


def _wav_frames(data: bytes) -> int:
    import io
    import wave

    with wave.open(io.BytesIO(data)) as w:
        return w.getnframes()


def render_wav(notes: Notes, program: int) -> bytes:
    """16-bit WAV bytes of ``notes`` rendered with ``program`` the way synth renders."""
    from ..render import pcm16_wav_bytes

    audio = synth.render_synth_notes(notes, program_override=program, sample_rate=synth.SAMPLE_RATE)
    return pcm16_wav_bytes(audio, synth.SAMPLE_RATE)


def build_files(split: str, index: int) -> dict[str, bytes]:
    """Relative path -> bytes of every file one score contributes (MIDI + one WAV per program)."""
    iid = synth.item_id(VARIANT, split, index)
    midi = score_midi(split, index)
    notes = synth.notes_from_midi_bytes(midi)
    files = {_rel("midi", split, iid): midi}
    for program in programs_needed():
        files[_rel("wav", split, iid, program)] = render_wav(notes, program)
    return files


def generate_manifest(*, progress: bool = False) -> Manifest:
    """Render everything in memory and return the manifest freezing its bytes.

    ``python scripts/make_synth_manifest.py synth-pairs`` writes it to ``benchmark/data/manifests/synth_pairs.json``.
    """
    from tqdm.auto import tqdm

    items: dict[str, dict[str, Any]] = {}
    specs = [(split, i) for split in SPLITS for i in range(synth.SPLIT_SIZES[split])]
    for split, index in tqdm(specs, desc="synth-pairs manifest", unit="score", disable=not progress):
        iid = synth.item_id(VARIANT, split, index)
        files = build_files(split, index)
        spec = {rel: {"path": rel, "sha256": sha256_bytes(data), "size": len(data)} for rel, data in files.items()}
        midi_rel = _rel("midi", split, iid)
        n_notes = len(synth.notes_from_midi_bytes(files[midi_rel]))
        for pair_name, pair in PAIRS.items():
            src = _rel("wav", split, iid, pair.source_program)
            ref = _rel("wav", split, iid, pair.target_program)
            items[f"{pair_name}/{iid}"] = {
                "split": split,
                "files": {"audio": spec[src], "reference_audio": spec[ref], "midi": spec[midi_rel]},
                "metadata": {
                    "pair": pair_name, "synth_id": iid, "source_program": pair.source_program,
                    "target_program": pair.target_program, "source_domain": pair.source_domain,
                    "target_domain": pair.target_domain, "unseen_source": pair.unseen_source,
                    "duration": round(_wav_frames(files[src]) / synth.SAMPLE_RATE, 6),
                    "n_notes": n_notes,
                },
            }
    extra = {"synth_generator_version": synth.GENERATOR_VERSION, "sample_rate": synth.SAMPLE_RATE,
             "variant": VARIANT, "pairs": {k: vars(v) for k, v in PAIRS.items()},
             "soundfont_sha256": synth.soundfont_sha256()}
    return Manifest(dataset="synth-pairs", version=VERSION, items=items, extra=extra)


def _prepare_hint() -> str:
    return "run `musebench datasets prepare synth-pairs`"


@register_dataset
class SynthPairs(GeneratedDataset):
    """Paired synthetic translation data (see the module docstring).

    Parameters
    ----------
    root : path-like, optional
        Default ``$MUSEBENCH_SYNTH_PAIRS_ROOT``, the registered path, or ``<data home>/synth-pairs``.
    pair : str
        One of :data:`PAIRS` (default ``piano-to-violin``). :meth:`prepare` always renders
        every pair; :meth:`verify`, :meth:`items` and the fingerprints cover this pair.
    """

    name = "synth-pairs"
    title = "MuseBench paired synthetic renderings (translation)"
    citation = synth.CITATION + " Paired renderings: benchmark/datasets/synth_pairs.py."
    license = synth.LICENSE
    homepage = synth.SynthDataset.homepage
    splits = SPLITS
    manifest_file = MANIFEST_FILE

    def __init__(self, *, root: str | os.PathLike | None = None, pair: str = DEFAULT_PAIR, **params: Any):
        if params:
            raise ConfigError(f"dataset 'synth-pairs': unknown parameter(s) {', '.join(sorted(params))} (known: pair)")
        if pair not in PAIRS:
            raise ConfigError(f"dataset 'synth-pairs': unknown pair {pair!r} (known: {', '.join(PAIRS)})")
        super().__init__(root=root, pair=pair)
        self.pair = pair
        self._full: Manifest | None = None

    # ---- manifest ---------------------------------------------------------------------
    def full_manifest(self) -> Manifest:
        """The manifest of every pair (keys ``<pair>/<synth id>``)."""
        if self._full is None:
            self._full = Manifest.load(package_data("manifests", MANIFEST_FILE))
        return self._full

    def manifest(self) -> Manifest:
        """This pair's entries (keys = synth ids)."""
        full = self.full_manifest()
        prefix = f"{self.pair}/"
        items = {k[len(prefix):]: v for k, v in full.items.items() if k.startswith(prefix)}
        return Manifest(dataset=full.dataset, version=full.version, items=items,
                        extra={k: v for k, v in full.extra.items() if k != "shared_files"})

    def is_annex_file(self, rel: str) -> bool:
        return rel in self._all_paths()

    def _all_paths(self) -> set[str]:
        return {spec["path"] for e in self.full_manifest().items.values() for spec in e["files"].values()}

    def stamp_key(self, split: str) -> str:
        """One verified stamp per (pair, split): ``<pair>:<split>``."""
        return f"{self.pair}:{split}"

    # ---- items ------------------------------------------------------------------------
    def items(self, split: str) -> list[Item]:
        """Items of ``split`` for this pair, sorted by id.

        Raises
        ------
        MissingDataError
            The renderings are not prepared under :attr:`root`.
        """
        items = items_from_manifest(self, split, audio_role="audio")
        missing = [p for it in items for p in it.files.values() if not p.is_file()]
        self.prepare_if_missing(missing, split)
        missing = [p for it in items for p in it.files.values() if not p.is_file()]
        if missing:
            raise MissingDataError(f"dataset 'synth-pairs' is not prepared under {self.root} ({len(missing)} "
                                   f"file(s) missing, e.g. {missing[0]}); {_prepare_hint()}")
        return items

    def load_notes(self, item: Item) -> Notes:
        """The score of ``item`` (its MIDI file)."""
        from ..midi import read_midi

        path = Path(item.files["midi"])
        if not path.is_file():
            raise MissingDataError(f"{path}: MIDI file of synth-pairs item {item.id} not found; {_prepare_hint()}")
        return read_midi(path).validate(name=f"synth-pairs item {item.id}")

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["pair"] = self.pair
        out["pairs"] = list(PAIRS)
        return out

    # ---- preparation (GeneratedDataset.prepare renders every pair) --------------------------
    made = "rendered"
    prepare_unit = "score"

    def prepare_units(self) -> list[tuple[Any, dict[str, dict[str, Any]]]]:
        """One unit per score: ``(split, synth id)`` and its MIDI file and one WAV per program."""
        expected = {spec["path"]: spec for e in self.full_manifest().items.values() for spec in e["files"].values()}
        scores = sorted({(e["split"], e["metadata"]["synth_id"]) for e in self.full_manifest().items.values()})
        return [((split, iid), {r: expected[r] for r in expected
                                if r.endswith(f"/{split}/{iid}.mid") or r.endswith(f"/{split}/{iid}.wav")})
                for split, iid in scores]

    def build_unit(self, unit: Any) -> dict[str, bytes]:
        split, iid = unit  # the units prepare_units made
        return build_files(split, int(iid.rsplit("-", 1)[1]))

    def verify_prepared(self) -> VerifyReport:
        """Every pair is verified (and stamped); the report counts each file once."""
        root_dir = self.root
        expected = {spec["path"] for e in self.full_manifest().items.values() for spec in e["files"].values()}
        total = VerifyReport(dataset=self.name, root=root_dir, checked=len(expected))
        for pair in PAIRS:
            report = SynthPairs(root=root_dir, pair=pair).verify()
            if not report.ok:
                raise BadInputError(f"synth-pairs: verification after prepare failed: {report.lines()[0]}")
            total.extra += [e for e in report.extra if e not in total.extra]
        return total


__all__ = ["PAIRS", "Pair", "SynthPairs", "build_files", "generate_manifest"]
