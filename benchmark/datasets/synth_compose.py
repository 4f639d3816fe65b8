"""The composer of the ``synth`` dataset: deterministic multi-track pieces as notes.

:func:`compose` draws everything from one numpy ``default_rng`` seeded by :func:`item_seed`
(generator version, variant, split, index), in a fixed order: the form (key, mode, metre, tempo,
bars, chord progression), the instruments, the style (accompaniment patterns, articulation,
velocities), then one part after the other -- :func:`harmony_part` (with the pad),
:func:`bass_part`, :func:`melody_part`, :func:`drum_part` -- and :func:`finish` puts the notes on
the MIDI tick grid. The order of the draws is part of the generator: moving one changes every
piece, so it needs a new :data:`GENERATOR_VERSION` and a new manifest
(``python scripts/make_synth_manifest.py synth``).

Rendering is :mod:`musebench.datasets.synth_render`; the dataset is
:mod:`musebench.datasets.synth`.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..types import Notes

# ---- constants (change SPLIT_SIZES or the generator, then bump GENERATOR_VERSION and run
# scripts/make_synth_manifest.py synth) ------------------------------------------------------
GENERATOR_VERSION = "1"
VARIANTS: tuple[str, ...] = ("piano", "ensemble")
SPLITS: tuple[str, ...] = ("train", "validation", "test")
SPLIT_SIZES: dict[str, int] = {"train": 32, "validation": 6, "test": 8}
LEAD_IN = 0.2         # seconds of silence before the first beat
TICKS_PER_SECOND = 960  # musebench.midi writes 480 ticks per beat at 120 bpm
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


@dataclass
class Form:
    """The global form of a piece: key, metre, tempo and one chord (scale degree) per bar."""

    mode: str
    scale: tuple[int, ...]
    tonic_pc: int
    beats_per_bar: int
    n_bars: int
    bpm: int
    chords: list[int]
    sevenths: bool

    @property
    def beat(self) -> float:
        """Seconds per beat."""
        return 60.0 / self.bpm


@dataclass
class Style:
    """How the parts are played: accompaniment patterns, articulation (fraction of the note
    length that sounds), base velocities and timing jitter (seconds)."""

    harmony_pattern: str
    bass_pattern: str
    art_harmony: float
    art_melody: float
    vel_harmony: float
    vel_melody: float
    vel_bass: float
    jitter: float


class Score:
    """Collects the notes of named parts (times in seconds) while the parts are composed, and
    holds what every part needs: the form, the style and the random generator."""

    def __init__(self, form: Form, style: Style, rng: np.random.Generator) -> None:
        self.form = form
        self.style = style
        self.rng = rng
        self.rows: list[tuple[float, float, int, int, str]] = []

    def add(self, part: str, onset: float, offset: float, pitch: int, velocity: float) -> None:
        self.rows.append((onset, offset, int(pitch), int(np.clip(round(velocity), 1, 127)), part))

    def t(self, beat_pos: float) -> float:
        """Absolute time (seconds) of a beat position (beats since the start)."""
        return LEAD_IN + beat_pos * self.form.beat

    def humanise(self, x: float) -> float:
        return x + self.style.jitter * (2 * self.rng.random() - 1)


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


# ---- the piece as a whole -------------------------------------------------------------------
def draw_form(rng: np.random.Generator) -> Form:
    """Key, mode, metre, about 7-9 s of music at 80-150 bpm, and the chord progression."""
    mode = "major" if rng.random() < 0.6 else "minor"
    scale = _MAJOR if mode == "major" else _MINOR
    tonic_pc = int(rng.integers(12))
    beats_per_bar = 3 if rng.random() < 0.25 else 4
    target = 7.2 + 1.6 * rng.random()  # seconds of music
    options = [n for n in range(3, 9) if 80 <= n * beats_per_bar * 60 / target <= 150]
    n_bars = int(options[int(rng.integers(len(options)))])
    bpm = int(round(n_bars * beats_per_bar * 60 / target))
    progression = _PROGRESSIONS[mode][int(rng.integers(len(_PROGRESSIONS[mode])))]
    chords = [progression[b % len(progression)] for b in range(n_bars)]
    if n_bars >= 3 and rng.random() < 0.7:
        chords[-1] = 0  # cadence on the tonic
    sevenths = bool(rng.random() < 0.3)
    return Form(mode=mode, scale=scale, tonic_pc=tonic_pc, beats_per_bar=beats_per_bar, n_bars=n_bars, bpm=bpm,
                chords=chords, sevenths=sevenths)


def draw_parts(variant: str, rng: np.random.Generator) -> dict[str, dict[str, Any]]:
    """Part name -> ``{"program", "is_drum"}``: one piano for ``piano``; for ``ensemble`` an
    instrument per part from disjoint pools, sometimes a pad, and drums."""
    if variant == "piano":
        return {p: {"program": PIANO_PROGRAM, "is_drum": False} for p in ("melody", "harmony", "bass")}
    parts = {
        "melody": {"program": int(rng.choice(MELODY_PROGRAMS)), "is_drum": False},
        "harmony": {"program": int(rng.choice(HARMONY_PROGRAMS)), "is_drum": False},
        "bass": {"program": int(rng.choice(BASS_PROGRAMS)), "is_drum": False},
    }
    if rng.random() < 0.5:
        parts["pad"] = {"program": int(rng.choice(PAD_PROGRAMS)), "is_drum": False}
    parts["drums"] = {"program": 0, "is_drum": True}
    return parts


def draw_style(variant: str, rng: np.random.Generator) -> Style:
    harmony_pattern = str(rng.choice(["block", "half", "arpeggio", "sustain", "offbeat"]))
    bass_pattern = str(rng.choice(["root", "root-fifth", "pulse", "walk"]))
    art_harmony = 0.6 + 0.35 * rng.random()
    art_melody = 0.55 + 0.4 * rng.random()
    vel_harmony = 50 + 25 * rng.random()
    vel_melody = 75 + 25 * rng.random()
    vel_bass = 70 + 25 * rng.random()
    return Style(harmony_pattern=harmony_pattern, bass_pattern=bass_pattern, art_harmony=art_harmony,
                 art_melody=art_melody, vel_harmony=vel_harmony, vel_melody=vel_melody, vel_bass=vel_bass,
                 jitter=0.008 if variant == "piano" else 0.004)


# ---- the parts ------------------------------------------------------------------------------
def harmony_part(score: Score, *, pad: bool) -> None:
    """One voiced chord per bar (voice-led from the previous one) in the style's pattern (the
    last bar sustains), and with ``pad`` a sustained three-note pad over each bar."""
    form, style, rng = score.form, score.style, score.rng
    t, humanise = score.t, score.humanise
    bpb = form.beats_per_bar
    previous = None
    for i, degree in enumerate(form.chords):
        pcs = _chord_pcs(form.tonic_pc, form.scale, degree, form.mode, form.sevenths and i != form.n_bars - 1)
        voiced = _voicing(pcs, previous, rng, 48, 67)
        previous = voiced
        start = i * bpb
        last = i == form.n_bars - 1
        pattern = "sustain" if last else style.harmony_pattern
        slots: list[tuple[float, float]]
        if pattern == "block":
            slots = [(start + k, 1.0) for k in range(bpb)]
        elif pattern == "half":
            slots = [(start, 2.0), (start + 2, 2.0)] if bpb == 4 else [(start, 3.0)]
        elif pattern == "offbeat":
            slots = [(start + k + 0.5, 0.5) for k in range(bpb)]
        elif pattern == "sustain":
            slots = [(start, float(bpb))]
        else:
            slots = []
        if pattern == "arpeggio":
            order = voiced + voiced[-2:0:-1]
            for k in range(2 * bpb):
                pitch = order[k % len(order)]
                on = humanise(t(start + 0.5 * k))
                off = t(start + 0.5 * k + 0.5 * (1 + style.art_harmony))
                score.add("harmony", on, off, pitch,
                          style.vel_harmony + (8 if k % 2 == 0 else 0) + 6 * rng.standard_normal())
        for pos, length in slots:
            on = humanise(t(pos))
            off = t(pos + length * style.art_harmony) if pattern != "sustain" else t(pos + length) - 0.02
            accent = 8 if (pos - start) == 0 else 0
            for pitch in voiced:
                score.add("harmony", on, off, pitch, style.vel_harmony + accent + 5 * rng.standard_normal())
        if pad:
            pad_pitches = sorted(p + 12 for p in voiced[:3]) if voiced[0] < 52 else voiced[:3]
            for pitch in pad_pitches:
                score.add("pad", t(start), t(start + bpb) - 0.03, pitch, 45 + 10 * rng.random())


def bass_part(score: Score) -> None:
    """The chord roots in the second octave, in the style's bass pattern (root, root-fifth,
    pulse, or a walk towards the next root); the last bar holds the root."""
    form, style, rng = score.form, score.style, score.rng
    t, humanise = score.t, score.humanise
    bpb = form.beats_per_bar
    for i, degree in enumerate(form.chords):
        pcs = _chord_pcs(form.tonic_pc, form.scale, degree, form.mode, False)
        root = 36 + (pcs[0] - 36) % 12  # C2..B2
        fifth = root + 7 if root + 7 <= 52 else root - 5
        start = i * bpb
        last = i == form.n_bars - 1
        pattern = "root" if last else style.bass_pattern
        notes: list[tuple[float, float, int]]
        if pattern == "root":
            notes = [(0.0, float(bpb), root)]
        elif pattern == "root-fifth":
            notes = [(0.0, 2.0, root), (2.0, 2.0, fifth)] if bpb == 4 else [(0.0, 2.0, root), (2.0, 1.0, fifth)]
        elif pattern == "pulse":
            step = 0.5 if form.bpm < 110 else 1.0
            notes = [(k * step, step, root) for k in range(int(bpb / step))]
        else:  # walk towards the next chord's root
            nxt = _chord_pcs(form.tonic_pc, form.scale, form.chords[i + 1], form.mode, False)[0]
            target_root = 36 + (nxt - 36) % 12
            approach = target_root - 1 if rng.random() < 0.5 else target_root + 1
            third = root + (pcs[1] - pcs[0]) % 12
            line = [root, third, fifth, approach] if bpb == 4 else [root, fifth, approach]
            notes = [(float(k), 1.0, p) for k, p in enumerate(line)]
        for pos, length, pitch in notes:
            art = 0.95 if pattern == "root" else 0.85
            on = humanise(t(start + pos))
            off = t(start + pos + length * art) if not last else t(start + pos + length) - 0.02
            score.add("bass", on, off, int(np.clip(pitch, 28, 55)),
                      style.vel_bass + (8 if pos == 0 else 0) + 5 * rng.standard_normal())


def _melody_rhythms(form: Form, rng: np.random.Generator) -> list[tuple[float, ...]]:
    """One rhythm (note lengths in beats) per bar; bars repeat the rhythm of two bars before."""
    rhythms = _MELODY_RHYTHMS[form.beats_per_bar]
    bar_rhythms: list[tuple[float, ...]] = []
    for i in range(form.n_bars):
        if i == form.n_bars - 1:
            bar_rhythms.append((2.0, float(form.beats_per_bar - 2)) if rng.random() < 0.5
                               else (float(form.beats_per_bar),))
        elif i >= 2 and rng.random() < 0.4:
            bar_rhythms.append(bar_rhythms[i - 2])  # repeated motif rhythm
        else:
            bar_rhythms.append(rhythms[int(rng.integers(len(rhythms)))])
    return bar_rhythms


def melody_part(score: Score) -> None:
    """A melody in the fifth octave: a rhythm per bar (bars repeat earlier rhythms), pitches by
    steps and leaps, chord tones on strong beats, the tonic on the last note."""
    form, style, rng = score.form, score.style, score.rng
    t, humanise = score.t, score.humanise
    bpb, scale, tonic_pc = form.beats_per_bar, form.scale, form.tonic_pc
    bar_rhythms = _melody_rhythms(form, rng)
    degree_now = 7 + int(rng.integers(0, 5))  # absolute scale degree around the 5th octave
    tonic = 60 + tonic_pc
    for i, rhythm in enumerate(bar_rhythms):
        chord_pcs = set(_chord_pcs(tonic_pc, scale, form.chords[i], form.mode, False))
        pos = 0.0
        for k, length in enumerate(rhythm):
            last_note = i == form.n_bars - 1 and k == len(rhythm) - 1
            strong = pos == 0 or (bpb == 4 and pos == 2)
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
            if form.mode == "minor" and form.chords[i] == 4 and pitch % 12 == (tonic_pc + 10) % 12:
                pitch += 1  # leading tone over the dominant
            on = humanise(t(i * bpb + pos))
            art = style.art_melody + 0.05 * (2 * rng.random() - 1)
            off = t(i * bpb + pos + length * (0.97 if last_note else art))
            off = max(off, on + 0.06)
            velocity = style.vel_melody + (10 if strong else 0) + 6 * rng.standard_normal()
            score.add("melody", on, off, pitch, velocity)
            pos += length


def drum_part(score: Score) -> str:
    """A drum pattern (rock, half-time or ride in 4/4; waltz in 3/4) with crashes, an optional
    fill in bar 4 and a final hit; returns the pattern's name."""
    form, rng, t = score.form, score.rng, score.t
    n_bars, bpb = form.n_bars, form.beats_per_bar
    drum_pattern = str(rng.choice(["rock", "half-time", "ride"])) if bpb == 4 else "waltz"
    fill = rng.random() < 0.5 and n_bars >= 4
    for i in range(n_bars):
        start = i * bpb
        hits: list[tuple[float, int, float]] = []
        if i == 0 or (i == 4 and n_bars > 5):
            hits.append((0.0, CRASH, 95))
        if i == n_bars - 1:
            hits += [(0.0, KICK, 105), (0.0, CRASH, 100)] if i > 0 else [(0.0, KICK, 105)]
        elif drum_pattern == "waltz":
            hits += [(0.0, KICK, 100), (1.0, CLOSED_HAT, 65), (2.0, CLOSED_HAT, 65), (1.0, SNARE, 70),
                     (2.0, SNARE, 70)]
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
                hits = [h for h in hits if h[0] < 2.0] + [(2.0, HIGH_TOM, 85), (2.5, HIGH_TOM, 80),
                                                          (3.0, MID_TOM, 88), (3.5, LOW_TOM, 92)]
        for pos, pitch, velocity in hits:
            on = t(start + pos)
            score.add("drums", on, on + 0.1, pitch, velocity + 6 * rng.standard_normal())
    return drum_pattern


def compose(variant: str, split: str, index: int) -> Piece:
    """Compose item ``index`` of ``split`` of ``variant`` (deterministic).

    Returns
    -------
    Piece
    """
    if variant not in VARIANTS:
        raise ConfigError(f"synth: unknown variant {variant!r} (known: {', '.join(VARIANTS)})")
    rng = np.random.default_rng(item_seed(variant, split, index))
    form = draw_form(rng)
    parts = draw_parts(variant, rng)
    style = draw_style(variant, rng)
    score = Score(form, style, rng)
    harmony_part(score, pad="pad" in parts)
    bass_part(score)
    melody_part(score)
    drum_pattern = drum_part(score) if "drums" in parts else None
    notes, part_of_note = finish(score.rows, parts)
    info = {
        "key": f"{_NOTE_NAMES[form.tonic_pc]} {form.mode}",
        "tempo": form.bpm,
        "meter": f"{form.beats_per_bar}/4",
        "bars": form.n_bars,
        "chords": [int(c) for c in form.chords],
        "patterns": {"harmony": style.harmony_pattern, "bass": style.bass_pattern, "drums": drum_pattern},
    }
    return Piece(notes=notes, parts=parts, info=info, part_of_note=part_of_note)


def finish(rows: list[tuple[float, float, int, int, str]],
           parts: dict[str, dict[str, Any]]) -> tuple[Notes, np.ndarray]:
    """Quantise to the MIDI tick grid, remove same-key overlaps per track, sort."""
    grid = float(TICKS_PER_SECOND)
    by_key: dict[tuple[int, bool, int], list[list[Any]]] = {}
    kept: list[list[Any]] = []
    for on, off, pitch, velocity, part in sorted(rows):
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
        pitches=np.asarray([r[2] for r in kept], dtype=np.float64),
        velocities=np.asarray([r[3] for r in kept], dtype=np.float64),
        programs=np.asarray([parts[r[4]]["program"] for r in kept], dtype=np.int64),
        is_drum=np.asarray([parts[r[4]]["is_drum"] for r in kept], dtype=bool),
    )
    labels = np.array([r[4] for r in kept])
    order = np.lexsort((notes.is_drum, notes.programs, notes.intervals[:, 1], notes.pitches, notes.intervals[:, 0]))
    return notes.select(order).validate(name="synth"), labels[order]
