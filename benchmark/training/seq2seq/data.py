"""Training material for the seq2seq transcribers, made by the synthetic generator.

Pieces come from :func:`musebench.datasets.synth.compose` and are rendered as the synth items
are (MIDI round trip, :func:`~musebench.datasets.synth.render_synth_notes`): first the 32
pieces of the synth ``train`` split, then as many more as training asks for from the split
name ``seq2seq-extra`` (indices 0, 1, ...). A piece depends only on its seed,
``sha256("musebench-synth/<generator version>/<variant>/<split>/<index>")``
(:func:`~musebench.datasets.synth.item_seed`), so a piece of another split name can only
coincide with a validation or test piece through a sha256 collision of the 53-bit seeds;
:func:`check_disjoint` checks it anyway, for every extra index training may use, against the
seeds of the validation and test splits, and every rendered extra piece is also compared by
the content of its notes with the validation and test pieces (:class:`PieceSource`). The test
split is never rendered for training.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from ...datasets import synth
from ...errors import ConfigError
from ...types import Notes

EXTRA_SPLIT = "seq2seq-extra"
HELD_OUT = ("validation", "test")


def notes_digest(notes: Notes) -> str:
    """sha256 of a piece's notes (times on the 1-ms grid, pitch, program, drum flag)."""
    rows = np.column_stack([np.round(notes.intervals * 1000), notes.pitches, notes.programs, notes.is_drum])
    return hashlib.sha256(np.ascontiguousarray(rows.astype(np.int64)).tobytes()).hexdigest()


def held_out_seeds(variant: str) -> set[int]:
    return {synth.item_seed(variant, s, i) for s in HELD_OUT for i in range(synth.SPLIT_SIZES[s])}


def check_disjoint(variant: str, n_extra: int) -> dict[str, object]:
    """Check that no training seed (train split + ``n_extra`` extra pieces) is a held-out seed.

    Returns
    -------
    dict
        What was checked (recorded in the checkpoint).

    Raises
    ------
    ConfigError
        A training seed equals a validation or test seed.
    """
    if EXTRA_SPLIT in synth.SPLITS:
        raise ConfigError(f"seq2seq training: extra split name {EXTRA_SPLIT!r} is a synth split")
    held = held_out_seeds(variant)
    train = [synth.item_seed(variant, "train", i) for i in range(synth.SPLIT_SIZES["train"])]
    extra = (synth.item_seed(variant, EXTRA_SPLIT, i) for i in range(n_extra))
    for i, seed in enumerate(train):
        if seed in held:
            raise ConfigError(f"seq2seq training: synth train piece {i} has a held-out seed {seed}")
    for i, seed in enumerate(extra):
        if seed in held:
            raise ConfigError(f"seq2seq training: extra piece {i} ({EXTRA_SPLIT}/{i}) has a held-out seed {seed}")
    return {"variant": variant, "extra_split": EXTRA_SPLIT, "extra_pieces_checked": n_extra,
            "held_out_splits": list(HELD_OUT), "held_out_seeds": len(held), "collisions": 0}


@dataclass
class Piece:
    name: str
    audio: np.ndarray
    notes: Notes


class PieceSource:
    """Renders training pieces: ``index < 32`` is synth ``train/index``, then ``seq2seq-extra/index-32``."""

    def __init__(self, variant: str, *, n_extra: int):
        self.variant = variant
        self.n_train = synth.SPLIT_SIZES["train"]
        self.n_extra = n_extra
        self._held_digests: set[str] | None = None
        self.rejected = 0

    def __len__(self) -> int:
        return self.n_train + self.n_extra

    def held_digests(self) -> set[str]:
        if self._held_digests is None:
            self._held_digests = {notes_digest(_midi_notes(synth.compose(self.variant, s, i).notes))
                                  for s in HELD_OUT for i in range(synth.SPLIT_SIZES[s])}
        return self._held_digests

    def spec(self, index: int) -> tuple[str, int]:
        if not 0 <= index < len(self):
            raise ConfigError(f"seq2seq training: piece {index} outside 0..{len(self) - 1}")
        return ("train", index) if index < self.n_train else (EXTRA_SPLIT, index - self.n_train)

    def piece(self, index: int) -> Piece | None:
        """Render piece ``index``; None if its notes equal a held-out piece's (never seen so far)."""
        split, i = self.spec(index)
        notes = _midi_notes(synth.compose(self.variant, split, i).notes)
        if split == EXTRA_SPLIT and notes_digest(notes) in self.held_digests():
            self.rejected += 1
            return None
        return Piece(name=f"{split}/{i}", audio=synth.render_synth_notes(notes), notes=notes)


def _midi_notes(notes: Notes) -> Notes:
    """The notes as the synth items store them (written to MIDI and read back)."""
    from ...midi import midi_bytes

    return synth.notes_from_midi_bytes(midi_bytes(notes))


def validation_pieces(variant: str, n: int) -> list[Piece]:
    """The first ``n`` pieces of the synth validation split, audio as the shipped 16-bit WAV."""
    out = []
    for i in range(min(n, synth.SPLIT_SIZES["validation"])):
        notes = _midi_notes(synth.compose(variant, "validation", i).notes)
        audio = synth.render_synth_notes(notes)
        from ...render import pcm16

        audio = (pcm16(audio).astype(np.float32) / 32768.0)
        out.append(Piece(name=synth.item_id(variant, "validation", i), audio=audio, notes=notes))
    return out
