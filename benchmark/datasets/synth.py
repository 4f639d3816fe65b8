"""``synth``: MuseBench's own synthetic multi-track pieces, generated and rendered locally.

Every item is composed by a deterministic generator (numpy ``default_rng`` seeded from the
generator version, variant, split and index): a chord progression in a random key and mode,
a melody over it, a bass line, and (``ensemble`` only) a pad and a drum track. Tempo, metre,
note lengths, articulation and velocities vary per piece; notes and chords are repeated. The
score is written as a Standard MIDI File (:func:`musebench.midi.write_midi`, one track per
(program, is_drum)), read back, and rendered with :func:`musebench.render.render_notes`
(TinySoundFont + ``TimGM6mb.sf2``) to 16 kHz mono 16-bit PCM WAV, peak-normalised to -1 dBFS.
The WAV bytes are written with the standard library, so regeneration is byte-identical; the
shipped manifest (``benchmark/data/manifests/synth.json``) freezes every file's sha256 and
:meth:`SynthDataset.prepare` refuses data that differs from it.

Variants (dataset parameter ``variant``):

``piano``
    Solo piano (program 0): melody, accompaniment and bass all on one polyphonic track.
``ensemble``
    A different General MIDI instrument per part (melody, harmony, bass, sometimes a pad,
    drawn per piece from disjoint pools) plus a drum track on MIDI channel 10.

Unseen programs: no synth item of any split or variant uses a program in
:data:`UNSEEN_PROGRAMS` (71, clarinet), so a translation task can render a score with it as
an instrument the models never heard in ``synth`` training data
(:meth:`SynthDataset.render_item` with ``program_override=71``).

Layout under the dataset root: ``<variant>/<split>/<item id>.mid`` and ``.wav``.
"""
from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Iterator

import numpy as np

from ..errors import BadInputError, ConfigError, MissingDataError
from ..io_utils import canonical_json, sha256_bytes, sha256_file
from ..paths import package_data
from ..types import Item, Notes
from .base import Dataset, Manifest, VerifyReport

# ---- constants (change SPLIT_SIZES or the generator, then bump GENERATOR_VERSION and run
# scripts/make_synth_manifest.py) -----------------------------------------------------------
GENERATOR_VERSION = "1"
VARIANTS: tuple[str, ...] = ("piano", "ensemble")
SPLITS: tuple[str, ...] = ("train", "validation", "test")
SPLIT_SIZES: dict[str, int] = {"train": 32, "validation": 6, "test": 8}
SAMPLE_RATE = 16000
TAIL = 0.8            # seconds rendered after the last note-off
GAIN_DB = -6.0        # synthesizer gain
PEAK_DBFS = -1.0      # every rendering is peak-normalised to this level
LEAD_IN = 0.2         # seconds of silence before the first beat
TICKS_PER_SECOND = 960  # musebench.midi writes 480 ticks per beat at 120 bpm
MANIFEST_FILE = "synth.json"
UNSEEN_PROGRAMS: tuple[int, ...] = (71,)  # clarinet: never used by any synth item

# Disjoint General MIDI program pools (0-based) of the ensemble variant.
MELODY_PROGRAMS = (73, 40, 56, 65, 68, 11, 80)     # flute, violin, trumpet, alto sax, oboe, vibraphone, square lead
HARMONY_PROGRAMS = (48, 24, 25, 16, 19, 4, 0, 46)  # strings, nylon/steel guitar, organs, e-piano, piano, harp
BASS_PROGRAMS = (32, 33, 35, 38, 43)               # acoustic, finger, fretless, synth bass, contrabass
PAD_PROGRAMS = (49, 52, 89, 61)                    # slow strings, choir aahs, warm pad, brass section
PIANO_PROGRAM = 0

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
_PROGRESSIONS = {
    "major": ((0, 4, 5, 3), (0, 3, 4, 0), (1, 4, 0, 5), (5, 3, 0, 4), (0, 5, 3, 4), (0, 3, 0, 4), (3, 4, 2, 5)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 4), (0, 3, 6, 2), (0, 5, 3, 4)),
}
_MELODY_RHYTHMS = {
    4: ((1, 1, 1, 1), (2, 1, 1), (1, 1, 2), (0.5, 0.5, 1, 1, 1), (1.5, 0.5, 1, 1), (1, 0.5, 0.5, 2),
        (0.5,) * 8, (3, 1), (1, 1, 0.5, 0.5, 1), (2, 2), (0.5, 0.5, 0.5, 0.5, 2)),
    3: ((1, 1, 1), (2, 1), (1, 0.5, 0.5, 1), (1.5, 0.5, 1), (0.5,) * 6, (3,), (1, 2)),
}
_NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
KICK, SNARE, CLOSED_HAT, OPEN_HAT, CRASH, RIDE, LOW_TOM, MID_TOM, HIGH_TOM = 36, 38, 42, 46, 49, 51, 45, 47, 50

CITATION = ("MuseBench synth: deterministic synthetic multi-track pieces rendered with TinySoundFont "
            "and the TimGM6mb General MIDI soundfont (MuseBench, generator version "
            f"{GENERATOR_VERSION}).")
LICENSE = ("CC0-1.0 for the generated scores and audio; the audio is rendered with TimGM6mb.sf2 "
           "(Tim Brechbill, bundled with pretty_midi, which states no licence for it; Debian's "
           "timgm6mb-soundfont package records it as GPL-2)")


# ---- composition ----------------------------------------------------------------------------
def item_id(variant: str, split: str, index: int) -> str:
    """``<variant>-<split>-<index:03d>``, e.g. ``piano-test-000``."""
    return f"{variant}-{split}-{index:03d}"


def item_seed(variant: str, split: str, index: int) -> int:
    """The 53-bit seed of one item, from the generator version, variant, split and index."""
    digest = hashlib.sha256(f"musebench-synth/{GENERATOR_VERSION}/{variant}/{split}/{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 11


@dataclass
class Piece:
    """A composed item before rendering.

    Attributes
    ----------
    notes : Notes
        All notes, times on the MIDI tick grid (1/960 s), sorted.
    parts : dict
        Part name -> ``{"program": int, "is_drum": bool}``.
    info : dict
        Musical facts (key, mode, tempo, metre, bars, patterns) for the manifest.
    part_of_note : np.ndarray, shape=(n,), str
        The part each note of ``notes`` belongs to.
    """

    notes: Notes
    parts: dict[str, dict[str, Any]]
    info: dict[str, Any]
    part_of_note: np.ndarray = field(repr=False)


class _Builder:
    """Collects notes of named parts (times in seconds)."""

    def __init__(self) -> None:
        self.rows: list[tuple[float, float, int, int, str]] = []

    def add(self, part: str, onset: float, offset: float, pitch: int, velocity: float) -> None:
        self.rows.append((onset, offset, int(pitch), int(np.clip(round(velocity), 1, 127)), part))


def _scale_pitch(tonic: int, scale: tuple[int, ...], degree: int) -> int:
    """Pitch of an absolute scale degree (degree 0 = ``tonic``; 7 = one octave up)."""
    return tonic + 12 * (degree // 7) + scale[degree % 7]


def _chord_pcs(tonic_pc: int, scale: tuple[int, ...], root_degree: int, mode: str, seventh: bool) -> list[int]:
    """Pitch classes of the diatonic triad (or seventh chord) on ``root_degree``; root first."""
    pcs = []
    for k in range(4 if seventh else 3):
        pc = (tonic_pc + scale[(root_degree + 2 * k) % 7]) % 12
        if mode == "minor" and root_degree == 4 and (root_degree + 2 * k) % 7 == 6:
            pc = (pc + 1) % 12  # harmonic minor: major dominant
        pcs.append(pc)
    return pcs


def _voicing(pcs: list[int], previous: list[int] | None, rng: np.random.Generator, lo: int, hi: int) -> list[int]:
    """Close voicing of ``pcs`` within [lo, hi] nearest to the previous voicing."""
    candidates = []
    for base in range(lo, hi - 6):
        voiced = sorted(base + (pc - base) % 12 for pc in pcs)
        if voiced[-1] <= hi:
            candidates.append(voiced)
    if previous is None:
        return candidates[int(rng.integers(len(candidates)))]
    centre = float(np.mean(previous))
    costs = [abs(float(np.mean(c)) - centre) + 0.01 * i for i, c in enumerate(candidates)]
    return candidates[int(np.argmin(costs))]


def compose(variant: str, split: str, index: int) -> Piece:
    """Compose item ``index`` of ``split`` of ``variant`` (deterministic).

    Returns
    -------
    Piece
    """
    if variant not in VARIANTS:
        raise ConfigError(f"synth: unknown variant {variant!r} (known: {', '.join(VARIANTS)})")
    seed = item_seed(variant, split, index)
    rng = np.random.default_rng(seed)

    # global form
    mode = "major" if rng.random() < 0.6 else "minor"
    scale = _MAJOR if mode == "major" else _MINOR
    tonic_pc = int(rng.integers(12))
    beats_per_bar = 3 if rng.random() < 0.25 else 4
    target = 7.2 + 1.6 * rng.random()  # seconds of music
    options = [n for n in range(3, 9) if 80 <= n * beats_per_bar * 60 / target <= 150]
    n_bars = int(options[int(rng.integers(len(options)))])
    bpm = int(round(n_bars * beats_per_bar * 60 / target))
    beat = 60.0 / bpm
    progression = _PROGRESSIONS[mode][int(rng.integers(len(_PROGRESSIONS[mode])))]
    chords = [progression[b % len(progression)] for b in range(n_bars)]
    if n_bars >= 3 and rng.random() < 0.7:
        chords[-1] = 0  # cadence on the tonic
    sevenths = rng.random() < 0.3

    if variant == "piano":
        parts = {p: {"program": PIANO_PROGRAM, "is_drum": False} for p in ("melody", "harmony", "bass")}
    else:
        parts = {
            "melody": {"program": int(rng.choice(MELODY_PROGRAMS)), "is_drum": False},
            "harmony": {"program": int(rng.choice(HARMONY_PROGRAMS)), "is_drum": False},
            "bass": {"program": int(rng.choice(BASS_PROGRAMS)), "is_drum": False},
        }
        if rng.random() < 0.5:
            parts["pad"] = {"program": int(rng.choice(PAD_PROGRAMS)), "is_drum": False}
        parts["drums"] = {"program": 0, "is_drum": True}

    b = _Builder()
    harmony_pattern = str(rng.choice(["block", "half", "arpeggio", "sustain", "offbeat"]))
    bass_pattern = str(rng.choice(["root", "root-fifth", "pulse", "walk"]))
    art_harmony = 0.6 + 0.35 * rng.random()
    art_melody = 0.55 + 0.4 * rng.random()
    vel_harmony = 50 + 25 * rng.random()
    vel_melody = 75 + 25 * rng.random()
    vel_bass = 70 + 25 * rng.random()
    jitter = 0.008 if variant == "piano" else 0.004

    def t(beat_pos: float) -> float:  # absolute time of a beat position (beats since the start)
        return LEAD_IN + beat_pos * beat

    def humanise(x: float) -> float:
        return x + jitter * (2 * rng.random() - 1)

    # harmony (+ pad)
    previous = None
    for i, degree in enumerate(chords):
        pcs = _chord_pcs(tonic_pc, scale, degree, mode, sevenths and i != n_bars - 1)
        voiced = _voicing(pcs, previous, rng, 48, 67)
        previous = voiced
        start = i * beats_per_bar
        last = i == n_bars - 1
        pattern = "sustain" if last else harmony_pattern
        if pattern == "block":
            slots = [(start + k, 1.0) for k in range(beats_per_bar)]
        elif pattern == "half":
            slots = [(start, 2.0), (start + 2, 2.0)] if beats_per_bar == 4 else [(start, 3.0)]
        elif pattern == "offbeat":
            slots = [(start + k + 0.5, 0.5) for k in range(beats_per_bar)]
        elif pattern == "sustain":
            slots = [(start, float(beats_per_bar))]
        else:
            slots = []
        if pattern == "arpeggio":
            order = voiced + voiced[-2:0:-1]
            for k in range(2 * beats_per_bar):
                pitch = order[k % len(order)]
                on = humanise(t(start + 0.5 * k))
                off = t(start + 0.5 * k + 0.5 * (1 + art_harmony))
                b.add("harmony", on, off, pitch, vel_harmony + (8 if k % 2 == 0 else 0) + 6 * rng.standard_normal())
        for pos, length in slots:
            on = humanise(t(pos))
            off = t(pos + length * art_harmony) if pattern != "sustain" else t(pos + length) - 0.02
            accent = 8 if (pos - start) == 0 else 0
            for pitch in voiced:
                b.add("harmony", on, off, pitch, vel_harmony + accent + 5 * rng.standard_normal())
        if "pad" in parts:
            pad = sorted(p + 12 for p in voiced[:3]) if voiced[0] < 52 else voiced[:3]
            for pitch in pad:
                b.add("pad", t(start), t(start + beats_per_bar) - 0.03, pitch, 45 + 10 * rng.random())

    # bass
    for i, degree in enumerate(chords):
        pcs = _chord_pcs(tonic_pc, scale, degree, mode, False)
        root = 36 + (pcs[0] - 36) % 12  # C2..B2
        fifth = root + 7 if root + 7 <= 52 else root - 5
        start = i * beats_per_bar
        last = i == n_bars - 1
        pattern = "root" if last else bass_pattern
        if pattern == "root":
            notes = [(0.0, float(beats_per_bar), root)]
        elif pattern == "root-fifth":
            notes = [(0.0, 2.0, root), (2.0, 2.0, fifth)] if beats_per_bar == 4 else [(0.0, 2.0, root), (2.0, 1.0, fifth)]
        elif pattern == "pulse":
            step = 0.5 if bpm < 110 else 1.0
            notes = [(k * step, step, root) for k in range(int(beats_per_bar / step))]
        else:  # walk towards the next chord's root
            nxt = _chord_pcs(tonic_pc, scale, chords[i + 1], mode, False)[0]
            target_root = 36 + (nxt - 36) % 12
            approach = target_root - 1 if rng.random() < 0.5 else target_root + 1
            third = root + (pcs[1] - pcs[0]) % 12
            line = [root, third, fifth, approach] if beats_per_bar == 4 else [root, fifth, approach]
            notes = [(float(k), 1.0, p) for k, p in enumerate(line)]
        for pos, length, pitch in notes:
            art = 0.95 if pattern == "root" else 0.85
            on = humanise(t(start + pos))
            off = t(start + pos + length * art) if not last else t(start + pos + length) - 0.02
            b.add("bass", on, off, int(np.clip(pitch, 28, 55)), vel_bass + (8 if pos == 0 else 0) + 5 * rng.standard_normal())

    # melody: rhythm per bar (bars repeat earlier rhythms), pitches by steps and chord tones
    rhythms = _MELODY_RHYTHMS[beats_per_bar]
    bar_rhythms: list[tuple[float, ...]] = []
    for i in range(n_bars):
        if i == n_bars - 1:
            bar_rhythms.append((2.0, float(beats_per_bar - 2)) if rng.random() < 0.5 else (float(beats_per_bar),))
        elif i >= 2 and rng.random() < 0.4:
            bar_rhythms.append(bar_rhythms[i - 2])  # repeated motif rhythm
        else:
            bar_rhythms.append(rhythms[int(rng.integers(len(rhythms)))])
    degree_now = 7 + int(rng.integers(0, 5))  # absolute scale degree around the 5th octave
    tonic = 60 + tonic_pc
    for i, rhythm in enumerate(bar_rhythms):
        chord_pcs = set(_chord_pcs(tonic_pc, scale, chords[i], mode, False))
        pos = 0.0
        for k, length in enumerate(rhythm):
            last_note = i == n_bars - 1 and k == len(rhythm) - 1
            strong = pos == 0 or (beats_per_bar == 4 and pos == 2)
            if k > 0 and not last_note and rng.random() < 0.08:
                pos += length  # a rest
                continue
            r = rng.random()
            if r < 0.15:
                step = 0  # repeated note
            elif r < 0.65:
                step = int(rng.choice([-1, 1]))
            elif r < 0.85:
                step = int(rng.choice([-2, 2]))
            else:
                step = int(rng.choice([-4, -3, 3, 4]))
            candidate = degree_now + step
            if strong or last_note:
                # move to the nearest chord tone (the tonic on the last note)
                wanted = {tonic_pc} if last_note else chord_pcs
                for delta in (0, 1, -1, 2, -2, 3, -3):
                    if _scale_pitch(tonic, scale, candidate + delta) % 12 in wanted:
                        candidate += delta
                        break
            while _scale_pitch(tonic, scale, candidate) > 88:
                candidate -= 7
            while _scale_pitch(tonic, scale, candidate) < 65:
                candidate += 7
            degree_now = candidate
            pitch = _scale_pitch(tonic, scale, candidate)
            if mode == "minor" and chords[i] == 4 and pitch % 12 == (tonic_pc + 10) % 12:
                pitch += 1  # leading tone over the dominant
            on = humanise(t(i * beats_per_bar + pos))
            art = art_melody + 0.05 * (2 * rng.random() - 1)
            off = t(i * beats_per_bar + pos + length * (0.97 if last_note else art))
            off = max(off, on + 0.06)
            velocity = vel_melody + (10 if strong else 0) + 6 * rng.standard_normal()
            b.add("melody", on, off, pitch, velocity)
            pos += length

    # drums
    drum_pattern = None
    if "drums" in parts:
        drum_pattern = str(rng.choice(["rock", "half-time", "ride"])) if beats_per_bar == 4 else "waltz"
        fill = rng.random() < 0.5 and n_bars >= 4
        for i in range(n_bars):
            start = i * beats_per_bar
            hits: list[tuple[float, int, float]] = []
            if i == 0 or (i == 4 and n_bars > 5):
                hits.append((0.0, CRASH, 95))
            if i == n_bars - 1:
                hits += [(0.0, KICK, 105), (0.0, CRASH, 100)] if i > 0 else [(0.0, KICK, 105)]
            elif drum_pattern == "waltz":
                hits += [(0.0, KICK, 100), (1.0, CLOSED_HAT, 65), (2.0, CLOSED_HAT, 65), (1.0, SNARE, 70), (2.0, SNARE, 70)]
            else:
                kicks = [0.0, 2.0] if drum_pattern != "half-time" else [0.0, 2.5]
                snares = [1.0, 3.0] if drum_pattern != "half-time" else [2.0]
                cymbal = RIDE if drum_pattern == "ride" else CLOSED_HAT
                step = 1.0 if drum_pattern == "ride" else 0.5
                hits += [(k, KICK, 100) for k in kicks] + [(s, SNARE, 92) for s in snares]
                hits += [(k * step, cymbal, 70 if (k * step) % 1 == 0 else 55) for k in range(int(4 / step))]
                if drum_pattern == "rock" and rng.random() < 0.3:
                    hits.append((3.5, OPEN_HAT, 70))
                if fill and i == 3 and n_bars > 4:
                    hits = [h for h in hits if h[0] < 2.0] + [(2.0, HIGH_TOM, 85), (2.5, HIGH_TOM, 80), (3.0, MID_TOM, 88), (3.5, LOW_TOM, 92)]
            for pos, pitch, velocity in hits:
                on = t(start + pos)
                b.add("drums", on, on + 0.1, pitch, velocity + 6 * rng.standard_normal())

    notes, part_of_note = _finish(b, parts)
    info = {
        "key": f"{_NOTE_NAMES[tonic_pc]} {mode}",
        "tempo": bpm,
        "meter": f"{beats_per_bar}/4",
        "bars": n_bars,
        "chords": [int(c) for c in chords],
        "patterns": {"harmony": harmony_pattern, "bass": bass_pattern, "drums": drum_pattern},
    }
    return Piece(notes=notes, parts=parts, info=info, part_of_note=part_of_note)


def _finish(b: _Builder, parts: dict[str, dict[str, Any]]) -> tuple[Notes, np.ndarray]:
    """Quantise to the MIDI tick grid, remove same-key overlaps per track, sort."""
    rows = sorted(b.rows)
    grid = float(TICKS_PER_SECOND)
    by_key: dict[tuple[int, bool, int], list[list[Any]]] = {}
    kept: list[list[Any]] = []
    for on, off, pitch, velocity, part in rows:
        on_q = round(max(on, 0.0) * grid)
        off_q = round(off * grid)
        spec = parts[part]
        key = (spec["program"], spec["is_drum"], pitch)
        prev = by_key.setdefault(key, [])
        if prev and prev[-1][1] > on_q:  # the same key of the same track is still sounding
            if prev[-1][0] >= on_q - int(0.03 * grid):
                continue  # (nearly) simultaneous duplicate: keep the first
            prev[-1][1] = on_q  # cut the earlier note at the re-strike
        if off_q - on_q < int(0.03 * grid):
            continue
        row = [on_q, off_q, pitch, velocity, part]
        prev.append(row)
        kept.append(row)
    arr = np.array([[r[0] / grid, r[1] / grid] for r in kept])
    notes = Notes(
        intervals=arr,
        pitches=[r[2] for r in kept],
        velocities=[r[3] for r in kept],
        programs=[parts[r[4]]["program"] for r in kept],
        is_drum=[parts[r[4]]["is_drum"] for r in kept],
    )
    labels = np.array([r[4] for r in kept])
    order = np.lexsort((notes.is_drum, notes.programs, notes.intervals[:, 1], notes.pitches, notes.intervals[:, 0]))
    return notes.select(order).validate(name="synth"), labels[order]


# ---- rendering and files --------------------------------------------------------------------
def _notes_from_midi_bytes(data: bytes) -> Notes:
    from ..midi import read_midi

    with tempfile.TemporaryDirectory(prefix="musebench-synth-") as tmp:
        path = Path(tmp) / "item.mid"
        path.write_bytes(data)
        return read_midi(path)


def normalise_peak(audio: np.ndarray, *, peak_dbfs: float = PEAK_DBFS) -> np.ndarray:
    """Scale ``audio`` so that its absolute peak is ``peak_dbfs`` (silence is returned as is)."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak == 0.0:
        return audio.astype(np.float32, copy=False)
    return (audio * np.float32(10.0 ** (peak_dbfs / 20.0) / peak)).astype(np.float32)


def render_synth_notes(notes: Notes, *, program_override: int | None = None,
                       sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Render notes the way synth items are rendered (tail, gain, peak normalisation).

    Returns
    -------
    audio : np.ndarray, shape=(n,), float32
    """
    from ..render import render_notes

    audio = render_notes(notes, sample_rate=sample_rate, program_override=program_override,
                         tail=TAIL, gain_db=GAIN_DB)
    return normalise_peak(audio)


@dataclass
class BuiltItem:
    """The files and manifest entry of one generated item."""

    id: str
    midi: bytes
    wav: bytes
    entry: dict[str, Any]


def _relpaths(variant: str, split: str, iid: str) -> dict[str, str]:
    return {"audio": f"{variant}/{split}/{iid}.wav", "midi": f"{variant}/{split}/{iid}.mid"}


def build_item(variant: str, split: str, index: int) -> BuiltItem:
    """Compose, write and render one item in memory (MIDI bytes, WAV bytes, manifest entry)."""
    from ..midi import midi_bytes
    from ..render import pcm16_wav_bytes

    iid = item_id(variant, split, index)
    piece = compose(variant, split, index)
    midi = midi_bytes(piece.notes)
    notes = _notes_from_midi_bytes(midi)
    audio = render_synth_notes(notes)
    wav = pcm16_wav_bytes(audio, SAMPLE_RATE)
    tracks = []
    for name, spec in piece.parts.items():
        same = [t for t in tracks if t["program"] == spec["program"] and t["is_drum"] == spec["is_drum"]]
        count = int(np.sum(piece.part_of_note == name))
        if same:
            same[0]["parts"].append(name)
            same[0]["notes"] += count
        else:
            tracks.append({"program": spec["program"], "is_drum": spec["is_drum"], "parts": [name], "notes": count})
    tracks.sort(key=lambda t: (t["is_drum"], t["program"]))
    paths = _relpaths(variant, split, iid)
    entry = {
        "split": split,
        "files": {
            "audio": {"path": paths["audio"], "sha256": sha256_bytes(wav), "size": len(wav)},
            "midi": {"path": paths["midi"], "sha256": sha256_bytes(midi), "size": len(midi)},
        },
        "metadata": {
            "variant": variant,
            "index": index,
            "duration": round(len(audio) / SAMPLE_RATE, 6),
            "programs": sorted({t["program"] for t in tracks if not t["is_drum"]}),
            "has_drums": any(t["is_drum"] for t in tracks),
            "n_notes": len(notes),
            "tracks": tracks,
            "generator_version": GENERATOR_VERSION,
            "seed": item_seed(variant, split, index),
            **piece.info,
        },
    }
    return BuiltItem(id=iid, midi=midi, wav=wav, entry=entry)


def all_item_specs() -> Iterator[tuple[str, str, int]]:
    """(variant, split, index) of every item the generator makes, in manifest order."""
    for variant in VARIANTS:
        for split in SPLITS:
            for index in range(SPLIT_SIZES[split]):
                yield variant, split, index


def _soundfont_sha256() -> str:
    from ..render import default_soundfont

    return sha256_file(default_soundfont())


def generate_manifest(*, progress: bool = False) -> Manifest:
    """Build every item in memory and return the manifest that freezes their bytes.

    ``scripts/make_synth_manifest.py`` writes it to ``benchmark/data/manifests/synth.json``.
    """
    from tqdm.auto import tqdm

    items = {}
    for variant, split, index in tqdm(list(all_item_specs()), desc="synth manifest", unit="item",
                                      disable=not progress):
        built = build_item(variant, split, index)
        items[built.id] = built.entry
    extra = {
        "generator_version": GENERATOR_VERSION,
        "sample_rate": SAMPLE_RATE,
        "variants": list(VARIANTS),
        "unseen_programs": list(UNSEEN_PROGRAMS),
        "soundfont": {"name": "TimGM6mb.sf2", "sha256": _soundfont_sha256()},
    }
    return Manifest(dataset="synth", version=GENERATOR_VERSION, items=items, extra=extra)


# ---- the dataset ----------------------------------------------------------------------------
def _prepare_hint() -> str:
    return "run `musebench datasets prepare synth`"


class SynthDataset(Dataset):
    """MuseBench's synthetic pieces (see the module docstring).

    Parameters
    ----------
    root : path-like, optional
        Where the data lives (default: ``$MUSEBENCH_SYNTH_ROOT``, the registered path, or
        ``<data home>/synth``).
    variant : {"piano", "ensemble"}
        Which half of the data :meth:`items` and :meth:`fingerprint` cover.
    """

    name = "synth"
    title = "MuseBench synthetic multi-track pieces"
    citation = CITATION
    license = LICENSE
    homepage = ""  # generated locally by this module; the soundfont comes with pretty_midi
    splits = SPLITS
    manifest_file = MANIFEST_FILE

    def __init__(self, *, root: str | os.PathLike | None = None, variant: str = "piano", **params: Any):
        if params:
            raise ConfigError(f"dataset 'synth': unknown parameter(s) {', '.join(sorted(params))} (known: variant)")
        if variant not in VARIANTS:
            raise ConfigError(f"dataset 'synth': unknown variant {variant!r} (known: {', '.join(VARIANTS)})")
        super().__init__(root=root, variant=variant)
        self.variant = variant
        self._manifest: Manifest | None = None

    def manifest(self) -> Manifest:
        if self._manifest is None:
            self._manifest = Manifest.load(package_data("manifests", MANIFEST_FILE))
        return self._manifest

    def _variant_entries(self, split: str) -> dict[str, dict[str, Any]]:
        manifest = self.manifest()
        return {i: e for i, e in manifest.items.items()
                if e["split"] == split and e["metadata"]["variant"] == self.variant}

    def fingerprint(self, split: str) -> str:
        """sha256 of the canonical JSON of this variant's manifest entries of ``split``."""
        self.check_split(split)
        manifest = self.manifest()
        payload = {"dataset": manifest.dataset, "version": manifest.version, "split": split,
                   "variant": self.variant, "items": self._variant_entries(split)}
        return sha256_bytes(canonical_json(payload).encode())

    def is_verified(self, split: str) -> bool:
        """True when :meth:`verify` passed for the current manifest of ``split`` (all variants)."""
        import json

        stamp = self._stamp_path()
        if not stamp.exists():
            return False
        try:
            return json.loads(stamp.read_text()).get(split) == self.manifest().fingerprint(split)
        except json.JSONDecodeError:
            return False

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["sizes"] = {s: len(self._variant_entries(s)) for s in self.splits}
        out["variant"] = self.variant
        return out

    def items(self, split: str) -> list[Item]:
        """Items of ``split`` of this variant, sorted by id.

        Raises
        ------
        MissingDataError
            The data is not prepared under :attr:`root`.
        """
        self.check_split(split)
        root = self.root
        out = []
        for iid in sorted(self._variant_entries(split)):
            entry = self.manifest().items[iid]
            files = {role: root / spec["path"] for role, spec in entry["files"].items()}
            out.append(Item(id=iid, dataset=self.name, audio_path=files["audio"], files=files,
                            metadata={"split": split, **entry["metadata"]}))
        missing = [p for it in out for p in it.files.values() if not p.is_file()]
        self.prepare_if_missing(missing, split)
        missing = [p for it in out for p in it.files.values() if not p.is_file()]
        if missing:
            raise MissingDataError(f"dataset 'synth' is not prepared under {root} ({len(missing)} file(s) missing, "
                                   f"e.g. {missing[0]}); {_prepare_hint()}")
        return out

    def load_notes(self, item: Item) -> Notes:
        """The reference notes of ``item``, read from its MIDI file."""
        from ..midi import read_midi

        path = Path(item.files["midi"])
        if not path.is_file():
            raise MissingDataError(f"{path}: MIDI file of synth item {item.id} not found; {_prepare_hint()}")
        return read_midi(path).validate(name=f"synth item {item.id}")

    def render_item(self, item: Item, *, program_override: int | None = None,
                    sample_rate: int = SAMPLE_RATE, include_drums: bool = True) -> np.ndarray:
        """Re-render an item's MIDI, e.g. with another instrument (for translation tasks).

        Parameters
        ----------
        item : Item
        program_override : int or None
            Render every non-drum note with this General MIDI program; None keeps the
            item's programs (then the result equals the shipped WAV up to 16-bit rounding).
        sample_rate : int
        include_drums : bool
            Keep the drum track.

        Returns
        -------
        audio : np.ndarray, shape=(n,), float32, peak-normalised like the shipped audio
        """
        notes = self.load_notes(item)
        if not include_drums:
            notes = notes.select(~notes.is_drum)
        return render_synth_notes(notes, program_override=program_override, sample_rate=sample_rate)

    # ---- preparation --------------------------------------------------------------------
    def prepare(self, *, root: str | os.PathLike | None = None, progress: bool = True,
                force: bool = False) -> VerifyReport:
        """Generate every item of every variant into the root and check it against the manifest.

        Files that already exist with the manifest's sha256 are kept (unless ``force``).

        Parameters
        ----------
        root : path-like, optional
            Build here (and use it as this dataset's root from now on).
        progress : bool
            Show a tqdm progress bar.
        force : bool
            Regenerate every file.

        Returns
        -------
        VerifyReport
            The (passing) verification of the whole root.

        Raises
        ------
        BadInputError
            The generator produced bytes that differ from the shipped manifest (each such file
            is printed to stderr first).
        """
        from tqdm.auto import tqdm

        from ..io_utils import atomic_write_bytes

        if root is not None:
            self._root = Path(root).expanduser()
        root = self.root
        manifest = self.manifest()
        differ: list[str] = []
        for _iid, entry in tqdm(sorted(manifest.items.items()), desc="prepare synth", unit="item",
                               disable=not progress):
            specs = entry["files"]
            todo = [role for role, spec in specs.items()
                    if force or not _file_matches(root / spec["path"], spec)]
            if not todo:
                continue
            meta = entry["metadata"]
            built = build_item(meta["variant"], entry["split"], int(meta["index"]))
            for role in todo:
                spec = specs[role]
                data = built.midi if role == "midi" else built.wav
                atomic_write_bytes(root / spec["path"], data)
                if sha256_bytes(data) != spec["sha256"]:
                    differ.append(spec["path"])
                    tqdm.write(f"{root / spec['path']}: generated bytes differ from the manifest "
                               f"(sha256 {sha256_bytes(data)[:12]}..., expected {spec['sha256'][:12]}...)",
                               file=sys.stderr)
        if differ:
            sf_note = ""
            expected_sf = manifest.extra.get("soundfont", {}).get("sha256")
            if expected_sf and expected_sf != _soundfont_sha256():
                sf_note = "; the installed TimGM6mb.sf2 differs from the one the manifest was made with"
            raise BadInputError(f"synth: {len(differ)} generated file(s) differ from the shipped manifest, first "
                                f"{root / differ[0]}{sf_note}")
        report = self.verify()
        if not report.ok:
            first = report.lines()[0]
            raise BadInputError(f"synth: verification after prepare failed: {first}")
        return report


def _file_matches(path: Path, spec: dict[str, Any]) -> bool:
    if not path.is_file():
        return False
    if spec.get("size") is not None and path.stat().st_size != spec["size"]:
        return False
    return sha256_file(path) == spec["sha256"]
