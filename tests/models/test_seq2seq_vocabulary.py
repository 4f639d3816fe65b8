"""The seq2seq event vocabulary: layout, exact token sequences, round trips (ties, drums,
overlapping same-pitch notes, empty segments), tolerant decoding, and the training-data seed check."""
from __future__ import annotations

import math

import numpy as np
import pytest

from musebench.datasets import synth
from musebench.errors import ConfigError
from musebench.models.transcription.seq2seq.vocabulary import (EOS, Vocabulary, bin_to_velocity, mt3_vocabulary,
                                                               piano_vocabulary, velocity_to_bin)
from musebench.training.seq2seq import data as s2s_data
from musebench.types import Notes


def notes(rows, drums=()):
    """rows: (onset, offset, pitch, velocity, program)."""
    arr = np.array(rows, dtype=float).reshape(-1, 5)
    return Notes(intervals=arr[:, :2], pitches=arr[:, 2], velocities=arr[:, 3], programs=arr[:, 4].astype(int),
                 is_drum=np.array([i in drums for i in range(len(arr))], bool))


def assert_same(a: Notes, b: Notes):
    a, b = a.sorted(), b.sorted()
    assert len(a) == len(b)
    np.testing.assert_allclose(a.intervals, b.intervals, atol=1e-12)
    np.testing.assert_array_equal(a.pitches, b.pitches)
    np.testing.assert_array_equal(a.velocities, b.velocities)
    np.testing.assert_array_equal(a.programs, b.programs)
    np.testing.assert_array_equal(a.is_drum, b.is_drum)


def names(vocab, tokens):
    return [f"{k}:{v}" if k not in ("eos", "tie") else k for k, v in map(vocab.event, tokens)]


def test_layout_follows_mt3():
    v = mt3_vocabulary(segment_steps=200)
    # 3 special + 201 shifts + 128 pitches + 2 velocities + tie + 128 programs + 128 drums
    assert v.size == 3 + 201 + 128 + 2 + 1 + 128 + 128 == 591
    assert v.token("shift", 0) == 3 and v.token("pitch", 0) == 204 and v.token("velocity", 0) == 332
    assert v.token("tie", 0) == 334 and v.token("program", 0) == 335 and v.token("drum", 0) == 463
    p = piano_vocabulary(segment_steps=200, num_velocity_bins=32)
    assert p.size == 3 + 201 + 128 + 33 + 1 == 366
    for t in range(v.size):
        kind, value = v.event(t)
        if kind not in ("pad", "eos", "unk"):
            assert v.token(kind, value) == t
    assert Vocabulary.from_dict(v.to_dict()) == v
    with pytest.raises(ConfigError, match="one velocity bin"):
        Vocabulary(kind="mt3", num_velocity_bins=4)


def test_exact_tokens_of_one_segment_with_a_tie():
    v = mt3_vocabulary(segment_steps=100)  # 1-s segments
    ns = notes([(0.5, 1.5, 60, 90, 0),       # held across the boundary at 1.0 s
                (0.5, 0.7, 64, 90, 40),
                (1.2, 1.3, 36, 100, 0)], drums=(2,))
    seg0, seg1 = v.encode(ns, 2)
    assert names(v, seg0) == ["tie", "shift:50", "program:0", "velocity:1", "pitch:60", "program:40", "pitch:64",
                              "shift:70", "velocity:0", "pitch:64", "eos"]
    # the tie section lists the sounding piano note; then the drum hit and the offset
    assert names(v, seg1) == ["program:0", "pitch:60", "tie", "shift:20", "velocity:1", "drum:36",
                              "shift:50", "velocity:0", "pitch:60", "eos"]  # program 0 still in force
    out = v.decode([seg0, seg1])
    assert_same(out, notes([(0.5, 1.5, 60, 100, 0), (0.5, 0.7, 64, 100, 40), (1.2, 1.21, 36, 100, 0)], drums=(2,)))


def test_round_trip_ties_drums_overlaps_and_empty_segments():
    v = mt3_vocabulary(segment_steps=200)
    ns = notes([
        (0.10, 5.30, 48, 80, 0),     # held through two boundaries (2 s and 4 s)
        (1.95, 2.00, 50, 80, 0),     # ends exactly on a boundary (tied, off at step 0)
        (2.00, 2.50, 52, 80, 0),     # starts exactly on a boundary (not tied)
        (0.50, 1.00, 60, 80, 33),
        (0.80, 1.20, 60, 80, 33),    # overlaps the previous same-pitch note: MT3 trims it to 0.80
        (0.80, 1.20, 60, 80, 40),    # same pitch, other program: independent
        (1.00, 1.01, 38, 110, 0),    # drum
        (1.00, 1.50, 38, 70, 0),     # same pitch as the drum, but a piano note
        (9.00, 9.40, 72, 80, 73),    # after two empty segments (5.3-9 s)
    ], drums=(6,))
    segments = v.encode(ns, 5)
    assert names(v, segments[3]) == ["tie", "eos"]  # 6-8 s: nothing sounds, nothing happens
    expected = notes([(0.10, 5.30, 48, 100, 0), (1.95, 2.00, 50, 100, 0), (2.00, 2.50, 52, 100, 0),
                      (0.50, 0.80, 60, 100, 33), (0.80, 1.20, 60, 100, 33), (0.80, 1.20, 60, 100, 40),
                      (1.00, 1.01, 38, 100, 0), (1.00, 1.50, 38, 100, 0), (9.00, 9.40, 72, 100, 73)], drums=(6,))
    assert_same(v.decode(segments), expected)
    assert_same(v.quantised_notes(ns), expected)


def test_piano_vocabulary_velocities_and_rounding():
    v = piano_vocabulary(segment_steps=200, num_velocity_bins=32)
    ns = notes([(0.123, 0.456, 60, 17, 5), (0.1234, 2.71, 64, 101, 0), (1.0, 1.1, 36, 100, 0)], drums=(2,))
    out = v.decode(v.encode(ns, 2))
    # times on the 10-ms grid, program 0, drums dropped, velocities = the centre of their bin
    assert_same(out, notes([(0.12, 0.46, 60, bin_to_velocity(velocity_to_bin(17, 32), 32), 0),
                            (0.12, 2.71, 64, bin_to_velocity(velocity_to_bin(101, 32), 32), 0)]))
    assert [velocity_to_bin(x, 32) for x in (0, 1, 4, 5, 17, 101, 127)] == [0, 1, 2, 2, 5, 26, 32]
    for bins in (1, 32, 127):
        for b in range(1, bins + 1):
            assert velocity_to_bin(bin_to_velocity(b, bins), bins) == b
    assert bin_to_velocity(77, 127) == 77


@pytest.mark.parametrize("variant,kind", [("ensemble", "mt3"), ("piano", "piano")])
def test_synth_pieces_round_trip(variant, kind):
    v = mt3_vocabulary() if kind == "mt3" else piano_vocabulary()
    for i in range(3):
        ns = s2s_data._midi_notes(synth.compose(variant, "train", i).notes)
        n_seg = math.ceil((ns.end_time + 0.01) / v.segment_seconds)
        segments = v.encode(ns, n_seg)
        assert all(s[-1] == EOS for s in segments)
        decoded = v.decode(segments)
        assert_same(decoded, v.quantised_notes(ns))
        # within half a 10-ms step of the originals (compared key by key: order on a key is kept)
        def by_key(n):
            n = n.select(~n.is_drum)
            return n.select(np.lexsort((n.onsets, n.pitches, n.programs)))
        a, b = by_key(decoded), by_key(ns)
        assert len(a) == len(b) and len(a) > 20
        np.testing.assert_array_equal(a.pitches, b.pitches)
        assert np.max(np.abs(a.intervals - b.intervals)) <= 0.005 + 1e-9


def test_decoding_skips_and_counts_invalid_tokens():
    v = mt3_vocabulary(segment_steps=100)
    from musebench.models.transcription.seq2seq.vocabulary import DecodeState

    t = v.token
    state = DecodeState()
    tokens = [t("tie", 0), t("shift", 10), t("velocity", 0), t("pitch", 60),      # off of a silent pitch
              t("velocity", 1), t("pitch", 62), t("shift", 5),                    # time going back
              t("pitch", 64), t("tie", 0), t("shift", 30), t("velocity", 0), t("pitch", 62), EOS, t("pitch", 70)]
    v.decode_segment(state, tokens, 0)
    assert state.invalid == 3
    out = v.finish(state)
    assert_same(out, notes([(0.10, 0.30, 62, 100, 0), (0.10, 0.30, 64, 100, 0)]))


def test_untied_note_ends_at_the_boundary():
    v = mt3_vocabulary(segment_steps=100)
    seg0 = [v.token("tie", 0), v.token("shift", 50), v.token("program", 0), v.token("velocity", 1),
            v.token("pitch", 60), EOS]
    seg1_tied = [v.token("program", 0), v.token("pitch", 60), v.token("tie", 0), EOS]
    seg1_untied = [v.token("tie", 0), EOS]
    assert_same(v.decode([seg0, seg1_tied]), notes([(0.5, 2.0, 60, 100, 0)]))  # to the end of the audio
    assert_same(v.decode([seg0, seg1_untied]), notes([(0.5, 1.0, 60, 100, 0)]))


def test_training_seeds_are_disjoint_from_validation_and_test(monkeypatch):
    info = s2s_data.check_disjoint("piano", 5000)
    assert info["collisions"] == 0 and info["held_out_seeds"] == 14
    held = s2s_data.held_out_seeds("ensemble")
    assert len(held) == 14
    assert not held & {synth.item_seed("ensemble", s2s_data.EXTRA_SPLIT, i) for i in range(5000)}
    # the check does catch a collision
    real = synth.item_seed
    monkeypatch.setattr(synth, "item_seed", lambda variant, split, index:
                        real(variant, "test", 3) if (split, index) == (s2s_data.EXTRA_SPLIT, 17) else
                        real(variant, split, index))
    with pytest.raises(ConfigError, match="extra piece 17"):
        s2s_data.check_disjoint("piano", 100)


def test_extra_piece_with_held_out_content_is_rejected(monkeypatch):
    source = s2s_data.PieceSource("piano", n_extra=3)
    real = synth.compose
    monkeypatch.setattr(synth, "compose", lambda variant, split, index:
                        real(variant, "validation", 0) if split == s2s_data.EXTRA_SPLIT and index == 1 else
                        real(variant, split, index))
    assert source.spec(0) == ("train", 0) and source.spec(33) == (s2s_data.EXTRA_SPLIT, 1)
    assert source.piece(33) is None and source.rejected == 1
