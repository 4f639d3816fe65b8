"""Basic Pitch (Bittner et al., ICASSP 2022) through its bundled ONNX model and onnxruntime.

The package ``basic-pitch`` is installed without TensorFlow; its ONNX export
(``basic_pitch/saved_models/icassp_2022/nmp.onnx``) is run here with onnxruntime directly.
Pre- and post-processing reproduce ``basic_pitch.inference.predict``:

* the 22050 Hz input is prefixed with 3840 zeros (half of a 30-frame overlap) and cut into
  windows of 43844 samples every 36164 samples, the last one zero-padded;
* the model's per-window note/onset/contour activations lose 15 frames at each end, are
  concatenated and trimmed to ``floor(n_samples * 86 / 22050)`` frames;
* notes come from basic_pitch's own pure-numpy decoder
  (``basic_pitch.note_creation.output_to_notes_polyphonic`` and ``model_frames_to_time``) with
  its defaults: onset threshold 0.5, frame threshold 0.3, minimum note length 127.70 ms
  (11 frames), inferred onsets and the "melodia trick" on.

Notes are integer MIDI pitches (pitch bends are not kept), program 0, velocity
``round(127 * mean frame activation)`` as in basic_pitch's MIDI output. The only difference
from ``predict`` is that windows are sent to the model in batches (``batch_size``) instead of
one at a time, which does not change the activations.
"""
from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar
from collections.abc import Iterator

import numpy as np

from ...errors import MissingDataError, ModelError
from ...types import Notes
from ..base import Context, TranscriptionModel

SAMPLE_RATE = 22050
FFT_HOP = 256
WINDOW_SAMPLES = 2 * SAMPLE_RATE - FFT_HOP          # 43844, basic_pitch.constants.AUDIO_N_SAMPLES
FRAMES_PER_SECOND = SAMPLE_RATE // FFT_HOP           # 86, basic_pitch.constants.ANNOTATIONS_FPS
OVERLAP_FRAMES = 30
OVERLAP_SAMPLES = OVERLAP_FRAMES * FFT_HOP           # 7680
HOP_SAMPLES = WINDOW_SAMPLES - OVERLAP_SAMPLES       # 36164
MIDI_OFFSET = 21                                     # activation bin 0 is A0
ONNX_INPUT = "serving_default_input_2:0"
#: ONNX output names in the order note (frame), onset, contour
ONNX_OUTPUTS = ("StatefulPartitionedCall:1", "StatefulPartitionedCall:2", "StatefulPartitionedCall:0")


def package_dir() -> Path:
    """Directory of the installed ``basic_pitch`` package (found without importing it)."""
    spec = importlib.util.find_spec("basic_pitch")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDataError("basic-pitch is not installed (pip install --no-deps basic-pitch==0.4.0)")
    return Path(list(spec.submodule_search_locations)[0])


def onnx_model_path() -> Path:
    """Path of the bundled ICASSP 2022 ONNX model."""
    path = package_dir() / "saved_models" / "icassp_2022" / "nmp.onnx"
    if not path.is_file():
        raise MissingDataError(f"{path}: basic-pitch ONNX model not found")
    return path


@contextlib.contextmanager
def quiet_import() -> Iterator[None]:
    """Silence the root-logger warnings basic_pitch emits at import about missing backends."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)


def window_audio(audio: np.ndarray) -> np.ndarray:
    """Cut 22050 Hz mono audio into basic-pitch's overlapping model windows.

    Parameters
    ----------
    audio : np.ndarray, shape=(n,), float32

    Returns
    -------
    np.ndarray, shape=(n_windows, 43844, 1), float32
        ``n_windows = ceil((n + 3840) / 36164)``; the last window is zero-padded.
    """
    padded = np.concatenate([np.zeros(OVERLAP_SAMPLES // 2, np.float32), audio.astype(np.float32, copy=False)])
    starts = range(0, len(padded), HOP_SAMPLES)
    windows = np.zeros((len(starts), WINDOW_SAMPLES, 1), np.float32)
    for k, i in enumerate(starts):
        chunk = padded[i:i + WINDOW_SAMPLES]
        windows[k, :len(chunk), 0] = chunk
    return windows


def unwrap_activations(batched: np.ndarray, *, n_samples: int) -> np.ndarray:
    """Per-window activations ``(n_windows, 172, bins)`` -> one matrix ``(n_frames, bins)``.

    Drops half the overlap (15 frames) at both ends of every window, concatenates, and
    trims to ``floor(n_samples * 86 / 22050)`` frames.
    """
    half = OVERLAP_FRAMES // 2
    core = batched[:, half:-half, :]
    n_frames = int(np.floor(n_samples * (FRAMES_PER_SECOND / SAMPLE_RATE)))
    return core.reshape(-1, core.shape[-1])[:n_frames]


class BasicPitch(TranscriptionModel):
    """Basic Pitch ICASSP 2022 model, ONNX export, with basic_pitch's default note decoding.

    Parameters
    ----------
    device : str
        ``auto``, ``cpu`` or ``cuda[:N]``; CUDA is used when onnxruntime has the
        CUDAExecutionProvider, otherwise the CPU.
    onset_threshold, frame_threshold : float
        Decoder thresholds (basic_pitch defaults 0.5 and 0.3).
    minimum_note_length : float
        Minimum note length in milliseconds (default 127.70, i.e. 11 frames).
    minimum_frequency, maximum_frequency : float or None
        Drop activations outside this range (Hz); None keeps all 88 keys.
    melodia_trick : bool
        Also decode notes without onsets from the remaining frame energy (default True).
    batch_size : int
        Number of 2-second windows per ONNX call.
    num_threads : int or None
        onnxruntime intra-op threads; None = the CPUs this process may run on.
    """

    name: ClassVar[str] = "basic-pitch"
    version: ClassVar[str] = "1"
    sample_rate: int = SAMPLE_RATE
    description: ClassVar[str] = ("Spotify Basic Pitch (ICASSP 2022), bundled ONNX model via onnxruntime, "
                                  "basic_pitch's default note decoding; instrument-agnostic, program 0.")

    def __init__(self, *, device: str = "auto", onset_threshold: float = 0.5, frame_threshold: float = 0.3,
                 minimum_note_length: float = 127.70, minimum_frequency: float | None = None,
                 maximum_frequency: float | None = None, melodia_trick: bool = True, batch_size: int = 16,
                 num_threads: int | None = None):
        super().__init__(device=device, onset_threshold=onset_threshold, frame_threshold=frame_threshold,
                         minimum_note_length=minimum_note_length, minimum_frequency=minimum_frequency,
                         maximum_frequency=maximum_frequency, melodia_trick=melodia_trick,
                         batch_size=batch_size, num_threads=num_threads)
        if batch_size < 1:
            raise ModelError(f"basic-pitch: batch_size must be >= 1, not {batch_size}")
        self.onset_threshold = float(onset_threshold)
        self.frame_threshold = float(frame_threshold)
        self.min_note_frames = int(np.round(minimum_note_length / 1000 * (SAMPLE_RATE / FFT_HOP)))
        self.minimum_frequency = minimum_frequency
        self.maximum_frequency = maximum_frequency
        self.melodia_trick = bool(melodia_trick)
        self.batch_size = int(batch_size)
        self.num_threads = num_threads
        self._session: Any = None
        self._decoder: Any = None

    # -- provenance -------------------------------------------------------------------------
    def weights_files(self) -> list[Path]:
        return [onnx_model_path()]

    def package_version(self) -> str | None:
        try:
            return metadata.version("basic-pitch")
        except metadata.PackageNotFoundError:
            return None

    def info(self) -> dict[str, Any]:
        out = super().info()
        out["providers"] = list(self._session.get_providers()) if self._session is not None else None
        return out

    # -- inference --------------------------------------------------------------------------
    def _providers(self) -> list[Any]:
        import onnxruntime as ort

        if self.device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
            device_id = int(self.device.split(":", 1)[1]) if ":" in self.device else 0
            return [("CUDAExecutionProvider", {"device_id": device_id}), "CPUExecutionProvider"]
        return ["CPUExecutionProvider"]

    def load(self) -> None:
        try:
            import onnxruntime as ort

            with quiet_import():
                from basic_pitch import note_creation
        except ImportError as exc:
            raise ModelError(f"basic-pitch: cannot import its backend ({exc})") from None
        options = ort.SessionOptions()
        threads = self.num_threads or len(os.sched_getaffinity(0))
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # onnxruntime's idle intra-op threads spin-wait after each call by default; they then
        # compete with the note decoding and the harness that follow every call (on 2 busy
        # cores: 2-3x slower harness work per item, and a slower model; docs/performance.md)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        path = onnx_model_path()
        try:
            self._session = ort.InferenceSession(str(path), sess_options=options, providers=self._providers())
        except Exception as exc:
            raise ModelError(f"{path}: onnxruntime cannot load the basic-pitch model ({exc})") from None
        self._decoder = note_creation

    def activations(self, audio: np.ndarray) -> dict[str, np.ndarray]:
        """Model activations for 22050 Hz mono audio, as ``basic_pitch.inference.run_inference``.

        Returns
        -------
        dict
            ``note`` and ``onset``: shape (n_frames, 88); ``contour``: shape (n_frames, 264);
            86 frames per second.
        """
        windows = self._run_windows(window_audio(audio))
        return {key: unwrap_activations(out, n_samples=len(audio)) for key, out in windows.items()}

    def _run_windows(self, windows: np.ndarray) -> dict[str, np.ndarray]:
        """Per-window activations ``(n_windows, 172, bins)`` of ``note``, ``onset``, ``contour``,
        ``batch_size`` windows per ONNX call."""
        if self._session is None:
            self.load()
        parts: list[list[np.ndarray]] = [[], [], []]
        for b in range(0, len(windows), self.batch_size):
            outputs = self._session.run(list(ONNX_OUTPUTS), {ONNX_INPUT: windows[b:b + self.batch_size]})
            for part, out in zip(parts, outputs):
                part.append(out)
        return {key: np.concatenate(part) for key, part in zip(("note", "onset", "contour"), parts)}

    def transcribe_batch(self, audios: list[np.ndarray], *, sample_rate: int,
                         contexts: list[Context]) -> list[Notes]:
        """Several items at once: their windows share ONNX calls of ``batch_size`` windows.

        Each item is windowed, decoded and trimmed exactly as in :meth:`transcribe`; only the
        grouping of windows into ONNX calls differs, which moves activations by float rounding
        at most (as ``batch_size`` does).
        """
        prepared = [self._prepare(audio, sample_rate) for audio in audios]
        windowed = [window_audio(a) if len(a) else np.zeros((0, WINDOW_SAMPLES, 1), np.float32) for a in prepared]
        counts = [len(w) for w in windowed]
        if sum(counts) == 0:
            return [Notes.empty() for _ in audios]
        outputs = self._run_windows(np.concatenate(windowed))
        bounds = np.cumsum([0] + counts)
        notes = []
        for audio, start, stop in zip(prepared, bounds[:-1], bounds[1:]):
            if len(audio) == 0:
                notes.append(Notes.empty())
                continue
            act = {key: unwrap_activations(out[start:stop], n_samples=len(audio)) for key, out in outputs.items()}
            with np.errstate(divide="ignore", invalid="ignore"):
                notes.append(self.notes_from_activations(act))
        return notes

    def notes_from_activations(self, output: dict[str, np.ndarray]) -> Notes:
        """Decode activations into notes with basic_pitch's polyphonic note decoder."""
        frames, onsets = output["note"], output["onset"]
        if frames.shape[0] < 2:
            return Notes.empty()
        nc = self._decoder
        events = nc.output_to_notes_polyphonic(
            frames.copy(), onsets.copy(), onset_thresh=self.onset_threshold, frame_thresh=self.frame_threshold,
            min_note_len=self.min_note_frames, infer_onsets=True, max_freq=self.maximum_frequency,
            min_freq=self.minimum_frequency, melodia_trick=self.melodia_trick)
        if not events:
            return Notes.empty()
        times = nc.model_frames_to_time(frames.shape[0])
        start, end, pitch, amplitude = (np.array(col) for col in zip(*events))
        velocity = np.clip(np.round(127 * amplitude.astype(np.float64)), 1, 127)
        return Notes.from_arrays(intervals=np.stack([times[start], times[end]], axis=1),
                                 pitches=pitch.astype(np.float64), velocities=velocity, programs=0).sorted()

    @staticmethod
    def _prepare(audio: np.ndarray, sample_rate: int) -> np.ndarray:
        if sample_rate != SAMPLE_RATE:
            from ...audio import resample

            audio = resample(audio, sample_rate, SAMPLE_RATE)
        return np.asarray(audio, dtype=np.float32).reshape(-1)

    def transcribe(self, audio: np.ndarray, *, sample_rate: int, context: Context) -> Notes:
        audio = self._prepare(audio, sample_rate)
        if len(audio) == 0:
            return Notes.empty()
        with np.errstate(divide="ignore", invalid="ignore"):  # silent input: 0/0 in inferred onsets
            return self.notes_from_activations(self.activations(audio))
