"""Event vocabulary of the seq2seq transcribers: notes <-> tokens, one audio segment at a time.

The layout follows magenta/mt3 (``mt3/vocabularies.py`` ``build_codec``, ``mt3/event_codec.py``
``Codec``, ``mt3/note_sequences.py``, ``mt3/run_length_encoding.py``):

* ids 0, 1, 2 are PAD (also the decoder's start token, as in T5), EOS and UNK
  (``GenericTokenVocabulary``: "0=PAD, 1=EOS, and 2=UNK");
* then the event ranges, shift first (``Codec`` "shift events are always the first block"):
  ``shift`` 0..max_shift_steps, ``pitch`` 0..127, ``velocity`` 0..num_velocity_bins (bin 0 =
  note-off), ``tie`` (one token), and for the multi-instrument vocabulary ``program`` 0..127
  and ``drum`` 0..127.

A segment covers ``segment_steps`` time steps of ``1 / steps_per_second`` s (10 ms, MT3's
``DEFAULT_STEPS_PER_SECOND = 100``). Its tokens are:

1. the **tie section** (``note_sequences.note_encoding_state_to_events``): for every note
   sounding at the segment start, sorted by (program, pitch), ``[program] pitch``; then ``tie``;
2. the events of the segment sorted by time, offsets before onsets, then program, then pitch
   (``note_sequence_to_onsets_and_offsets_and_programs``), each preceded when needed by a
   ``shift`` token holding the **absolute** step within the segment (MT3's
   ``run_length_encode_shifts`` emits the accumulated total) and by ``program`` / ``velocity``
   tokens only where they change (``state_change_event_types``);
   an onset is ``[program] velocity(bin) pitch``, an offset ``[program] velocity(0) pitch``,
   a drum hit ``velocity(bin) drum(pitch)`` (drums have no offset);
3. ``EOS``.

Times are quantised on one global grid: a note from ``t_on`` to ``t_off`` starts at step
``round(t_on * steps_per_second)`` and ends at ``max(round(t_off * sps), start + 1)``; segment
``k`` starting at step ``b`` holds the events with ``b <= step < b + segment_steps``, and a note
is tied into it when ``start < b <= end``. Same-pitch overlaps within one (program, drum) track
are trimmed first, as MT3 does (``note_sequences.trim_overlapping_notes``): the earlier note
ends at the later onset. With that, :meth:`Vocabulary.decode` of the concatenated segments
gives back the quantised notes exactly; drum hits come back with MT3's 10-ms duration
(``DEFAULT_NOTE_DURATION``), non-drum velocities as the centre of their bin
(``bin_to_velocity``) and, for the multi-instrument vocabulary (one velocity bin, as MT3),
as 100 (note_seq's default velocity).

Decoding is MT3's state machine (``decode_note_event``); a token that makes no sense where it
stands (a note-off of a silent pitch, time going back, a tie of a silent note) is skipped and
counted, as MT3 counts invalid events.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any
from collections.abc import Iterable, Sequence

import numpy as np

from ....errors import BadInputError, ConfigError
from ....types import Notes

PAD, EOS, UNK = 0, 1, 2
NUM_SPECIAL = 3
MIN_PITCH, MAX_PITCH = 0, 127
DEFAULT_VELOCITY = 100          # note_seq / MT3 default velocity (one velocity bin)
DRUM_DURATION = 0.01            # MT3 DEFAULT_NOTE_DURATION for decoded drum hits
KINDS = ("mt3", "piano")


def velocity_to_bin(velocity: float, num_bins: int) -> int:
    """MT3 ``velocity_to_bin``: ``ceil(num_bins * velocity / 127)``, 0 only for velocity 0."""
    v = int(round(float(velocity)))
    if v <= 0:
        return 0
    return min(num_bins, max(1, math.ceil(num_bins * v / 127)))


def bin_to_velocity(velocity_bin: int, num_bins: int) -> int:
    """The velocity of a bin: 100 for a one-bin vocabulary, else the bin's centre (1-127)."""
    if velocity_bin <= 0:
        return 0
    if num_bins == 1:
        return DEFAULT_VELOCITY
    lo = 127 * (velocity_bin - 1) / num_bins
    hi = 127 * velocity_bin / num_bins
    return int(min(127, max(1, round((lo + hi) / 2 + 0.5))))


@dataclass
class DecodeState:
    """What the decoder knows between tokens and segments (MT3 ``NoteDecodingState``)."""

    active: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)  # (pitch, program) -> (start, vel)
    notes: list[tuple[int, int, int, int, int, bool]] = field(default_factory=list)  # start, end, pitch, vel, prog, drum
    invalid: int = 0
    last_step: int = 0


@dataclass(frozen=True)
class Vocabulary:
    """The token layout of one model; recorded in its checkpoint.

    Parameters
    ----------
    kind : {"mt3", "piano"}
        ``mt3``: programs and drums, one velocity bin (on/off), as MT3 (``mt3.gin``:
        ``NUM_VELOCITY_BINS = 1``, ``PROGRAM_GRANULARITY = 'full'``, ``USE_TIES = True``).
        ``piano``: no programs or drums, ``num_velocity_bins`` velocity bins (Hawthorne et al.,
        ``ismir2021.gin``: 127 bins).
    steps_per_second : int
        Time resolution of shift tokens (100 = 10 ms).
    segment_steps : int
        Steps per segment; shift tokens run 0..segment_steps.
    num_velocity_bins : int
        Velocity bins (``mt3``: 1).
    """

    kind: str = "mt3"
    steps_per_second: int = 100
    segment_steps: int = 200
    num_velocity_bins: int = 1

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"seq2seq vocabulary: unknown kind {self.kind!r} (known: {', '.join(KINDS)})")
        if self.steps_per_second < 1 or self.segment_steps < 1 or self.num_velocity_bins < 1:
            raise ConfigError("seq2seq vocabulary: steps_per_second, segment_steps and num_velocity_bins must be >= 1")
        if self.kind == "mt3" and self.num_velocity_bins != 1:
            raise ConfigError("seq2seq vocabulary: the mt3 vocabulary has one velocity bin (note on/off)")

    # ---- layout ------------------------------------------------------------------------
    @property
    def ranges(self) -> list[tuple[str, int, int]]:
        """(type, min value, max value) of each event range, in id order."""
        out = [("shift", 0, self.segment_steps), ("pitch", MIN_PITCH, MAX_PITCH),
               ("velocity", 0, self.num_velocity_bins), ("tie", 0, 0)]
        if self.kind == "mt3":
            out += [("program", 0, 127), ("drum", MIN_PITCH, MAX_PITCH)]
        return out

    @property
    def size(self) -> int:
        """Number of token ids (special tokens included)."""
        return NUM_SPECIAL + sum(hi - lo + 1 for _, lo, hi in self.ranges)

    def offset(self, event_type: str) -> int:
        """Id of the first token of ``event_type``."""
        off = NUM_SPECIAL
        for name, lo, hi in self.ranges:
            if name == event_type:
                return off
            off += hi - lo + 1
        raise ConfigError(f"seq2seq vocabulary ({self.kind}): no event type {event_type!r}")

    def token(self, event_type: str, value: int) -> int:
        """Id of one event."""
        for name, lo, hi in self.ranges:
            if name == event_type:
                if not lo <= value <= hi:
                    raise BadInputError(f"seq2seq vocabulary: {event_type} value {value} outside [{lo}, {hi}]")
                return self.offset(event_type) + int(value) - lo
        raise ConfigError(f"seq2seq vocabulary ({self.kind}): no event type {event_type!r}")

    def event(self, token: int) -> tuple[str, int]:
        """(type, value) of an id; special ids give ("pad"|"eos"|"unk", 0)."""
        token = int(token)
        if token < NUM_SPECIAL:
            return (("pad", "eos", "unk")[token], 0) if token >= 0 else ("unk", 0)
        off = NUM_SPECIAL
        for name, lo, hi in self.ranges:
            if token < off + hi - lo + 1:
                return name, lo + token - off
            off += hi - lo + 1
        return "unk", 0

    def shift_ids(self) -> tuple[int, int]:
        """[first, last] id of the shift tokens."""
        first = self.offset("shift")
        return first, first + self.segment_steps

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "size": self.size}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vocabulary:
        try:
            vocab = cls(kind=data["kind"], steps_per_second=int(data["steps_per_second"]),
                        segment_steps=int(data["segment_steps"]), num_velocity_bins=int(data["num_velocity_bins"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"seq2seq vocabulary: malformed description ({type(exc).__name__}: {exc})") from None
        if "size" in data and int(data["size"]) != vocab.size:
            raise ConfigError(f"seq2seq vocabulary: recorded size {data['size']} != {vocab.size}")
        return vocab

    @property
    def segment_seconds(self) -> float:
        return self.segment_steps / self.steps_per_second

    # ---- notes -> steps ----------------------------------------------------------------
    def quantise(self, notes: Notes) -> np.ndarray:
        """Notes on the step grid, trimmed like MT3 and sorted.

        Returns
        -------
        rows : np.ndarray, shape=(n, 6), int64
            ``start, end, pitch, velocity, program, is_drum`` (steps; drum ends = start + 1;
            for the piano vocabulary drums are dropped and programs set to 0).
        """
        sps = self.steps_per_second
        if len(notes) == 0:
            return np.zeros((0, 6), np.int64)
        keep = np.ones(len(notes), bool) if self.kind == "mt3" else ~notes.is_drum
        n = notes.select(keep)
        start = np.round(n.intervals[:, 0] * sps).astype(np.int64)
        end = np.maximum(np.round(n.intervals[:, 1] * sps).astype(np.int64), start + 1)
        drum = n.is_drum.astype(np.int64)
        end = np.where(drum == 1, start + 1, end)
        program = np.where(drum == 1, 0, n.programs) if self.kind == "mt3" else np.zeros(len(n), np.int64)
        pitch = np.clip(np.round(n.pitches), 0, 127).astype(np.int64)
        velocity = np.clip(np.round(n.velocities), 1, 127).astype(np.int64)
        rows = np.column_stack([start, end, pitch, velocity, program, drum])
        rows = rows[np.lexsort((rows[:, 1], rows[:, 0], rows[:, 2], rows[:, 4], rows[:, 5]))]
        out = []
        last: dict[tuple[int, int, int], list[int]] = {}
        for r in rows.tolist():
            key = (r[5], r[4], r[2])
            prev = last.get(key)
            if prev is not None and not r[5]:
                if prev[0] == r[0]:
                    continue  # identical onset on the same key: keep the first
                if prev[1] > r[0]:
                    prev[1] = r[0]  # MT3 trim_overlapping_notes: end at the re-strike
            elif prev is not None and prev[0] == r[0]:
                continue  # duplicate drum hit
            last[key] = r
            out.append(r)
        arr = np.array(out, dtype=np.int64).reshape(-1, 6)
        return arr[np.lexsort((arr[:, 5], arr[:, 4], arr[:, 1], arr[:, 2], arr[:, 0]))]

    # ---- encoding ----------------------------------------------------------------------
    def encode_segment(self, rows: np.ndarray, start_step: int) -> list[int]:
        """Tokens of the segment ``[start_step, start_step + segment_steps)`` (ending with EOS).

        ``rows`` come from :meth:`quantise`.
        """
        b, e = int(start_step), int(start_step) + self.segment_steps
        mt3 = self.kind == "mt3"
        tokens: list[int] = []
        if len(rows):
            tied = rows[(rows[:, 5] == 0) & (rows[:, 0] < b) & (rows[:, 1] >= b)]
            tied = tied[np.lexsort((tied[:, 2], tied[:, 4]))]
        else:
            tied = rows
        program_state: int | None = None
        for r in tied.tolist():
            if mt3 and r[4] != program_state:
                tokens.append(self.token("program", r[4]))
                program_state = r[4]
            tokens.append(self.token("pitch", r[2]))
        tokens.append(self.token("tie", 0))
        events: list[tuple[int, int, int, int, int, int]] = []  # step, is_onset, drum, program, pitch, vel bin
        for r in rows.tolist():
            start, end, pitch, vel, prog, drum = r
            if b <= start < e:
                vbin = velocity_to_bin(vel, self.num_velocity_bins)
                events.append((start - b, 1, drum, prog, pitch, vbin))
            if not drum and b <= end < e:
                events.append((end - b, 0, drum, prog, pitch, 0))
        events.sort(key=lambda ev: (ev[0], ev[1], ev[2], ev[3], ev[4]))
        step_state = -1
        velocity_state: int | None = None
        for step, _is_onset, drum, prog, pitch, vbin in events:
            if step != step_state:
                tokens.append(self.token("shift", step))
                step_state = step
            if mt3 and not drum and prog != program_state:
                tokens.append(self.token("program", prog))
                program_state = prog
            if vbin != velocity_state:
                tokens.append(self.token("velocity", vbin))
                velocity_state = vbin
            tokens.append(self.token("drum" if drum else "pitch", pitch))
        tokens.append(EOS)
        return tokens

    def encode(self, notes: Notes, n_segments: int) -> list[list[int]]:
        """Tokens of ``n_segments`` consecutive segments starting at time 0."""
        rows = self.quantise(notes)
        return [self.encode_segment(rows, k * self.segment_steps) for k in range(n_segments)]

    # ---- decoding ----------------------------------------------------------------------
    def decode_segment(self, state: DecodeState, tokens: Iterable[int], start_step: int) -> DecodeState:
        """Apply one segment's tokens (MT3 ``decode_note_event`` with a tie section)."""
        b = int(start_step)
        mt3 = self.kind == "mt3"
        tied: set[tuple[int, int]] = set()
        in_tie = True
        step = b
        state.last_step = max(state.last_step, b)
        program, velocity_bin = 0, None
        for tok in tokens:
            kind, value = self.event(tok)
            if kind == "eos":
                break
            if kind in ("pad", "unk"):
                state.invalid += 1
                continue
            if in_tie and kind not in ("pitch", "program", "tie"):
                self._end_untied(state, tied, b)  # a tie-less segment: close the section here
                in_tie = False
            if kind == "tie":
                if in_tie:
                    self._end_untied(state, tied, b)
                    in_tie = False
                else:
                    state.invalid += 1
            elif kind == "program":
                program = value if mt3 else 0
            elif kind == "pitch" and in_tie:
                key = (value, program if mt3 else 0)
                if key in state.active and key not in tied:
                    tied.add(key)
                else:
                    state.invalid += 1
            elif kind == "shift":
                t = b + value
                if t < step:
                    state.invalid += 1
                    continue
                step = t
                state.last_step = max(state.last_step, step)
            elif kind == "velocity":
                velocity_bin = value
            elif kind == "pitch":
                key = (value, program if mt3 else 0)
                if velocity_bin is None:
                    state.invalid += 1
                elif velocity_bin == 0:
                    if key in state.active:
                        onset, vel = state.active.pop(key)
                        state.notes.append((onset, max(step, onset + 1), key[0], vel, key[1], False))
                    else:
                        state.invalid += 1
                else:
                    if key in state.active:  # re-strike of a sounding key: end it here (as MT3)
                        onset, vel = state.active.pop(key)
                        if step > onset:
                            state.notes.append((onset, step, key[0], vel, key[1], False))
                    state.active[key] = (step, bin_to_velocity(velocity_bin, self.num_velocity_bins))
            elif kind == "drum":
                if velocity_bin:
                    state.notes.append((step, step + 1, value, bin_to_velocity(velocity_bin, self.num_velocity_bins),
                                        0, True))
                else:
                    state.invalid += 1
        if in_tie:
            self._end_untied(state, tied, b)
        return state

    @staticmethod
    def _end_untied(state: DecodeState, tied: set[tuple[int, int]], b: int) -> None:
        for key in [k for k in state.active if k not in tied]:
            onset, vel = state.active.pop(key)
            state.notes.append((onset, max(b, onset + 1), key[0], vel, key[1], False))

    def finish(self, state: DecodeState, *, end_step: int | None = None) -> Notes:
        """End every sounding note (at ``end_step`` or the last step seen) and return the notes."""
        last = state.last_step if end_step is None else int(end_step)
        for key in list(state.active):
            onset, vel = state.active.pop(key)
            state.notes.append((onset, max(last, onset + 1), key[0], vel, key[1], False))
        if not state.notes:
            return Notes.empty()
        arr = np.array(state.notes, dtype=np.float64)
        sps = float(self.steps_per_second)
        drum = arr[:, 5].astype(bool)
        intervals = np.column_stack([arr[:, 0] / sps, arr[:, 1] / sps])
        intervals[drum, 1] = intervals[drum, 0] + DRUM_DURATION
        return Notes(intervals=intervals, pitches=arr[:, 2], velocities=arr[:, 3],
                     programs=arr[:, 4].astype(np.int64), is_drum=drum).sorted()

    def decode(self, segments: Sequence[Sequence[int]]) -> Notes:
        """Notes of consecutive segments starting at time 0 (inverse of :meth:`encode`)."""
        state = DecodeState()
        for k, tokens in enumerate(segments):
            self.decode_segment(state, tokens, k * self.segment_steps)
        return self.finish(state, end_step=len(segments) * self.segment_steps)

    def quantised_notes(self, notes: Notes) -> Notes:
        """What an exact round trip returns for ``notes``: quantised, trimmed, drums 10 ms,
        velocities of their bin's value."""
        rows = self.quantise(notes)
        state = DecodeState()
        for r in rows.tolist():
            vel = bin_to_velocity(velocity_to_bin(r[3], self.num_velocity_bins), self.num_velocity_bins)
            state.notes.append((r[0], r[1], r[2], vel, r[4], bool(r[5])))
        return self.finish(state)


def mt3_vocabulary(*, segment_steps: int = 200, steps_per_second: int = 100) -> Vocabulary:
    return Vocabulary(kind="mt3", steps_per_second=steps_per_second, segment_steps=segment_steps, num_velocity_bins=1)


def piano_vocabulary(*, segment_steps: int = 200, steps_per_second: int = 100,
                     num_velocity_bins: int = 32) -> Vocabulary:
    return Vocabulary(kind="piano", steps_per_second=steps_per_second, segment_steps=segment_steps,
                      num_velocity_bins=num_velocity_bins)
