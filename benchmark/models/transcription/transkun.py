"""Transkun (Yan & Duan, "Scoring intervals using non-hierarchical transformer for automatic
piano transcription", ISMIR 2024), with the checkpoint shipped in the ``transkun`` package.

Loading follows ``transkun/transcribe.py``: the model class and its configuration come from
``transkun/pretrained/2.0.conf`` (a JSON file naming ``transkun.ModelTransformer.Config``; it is
read here without the ``moduleconf`` package), the weights from ``pretrained/2.0.pt``
(``state_dict``; every key matches the model, so it is loaded strictly), and ``model.transcribe`` runs on
overlapping segments (default 16 s segments every 8 s, from the conf) with the whole-segment
decoding of the upstream command line (``discardSecondHalf=False``).

transkun imports torchaudio only to build its mel filterbank, which the checkpoint stores
as a buffer anyway; torchaudio is not installed (its wheels do not match the pinned torch), so
a stand-in for ``torchaudio.functional.melscale_fbanks`` is injected while the model is
constructed (see :mod:`._melscale`). It reproduces the stored filterbank exactly.

Batching: the network's forward pass (``processFramesBatch``: features, transformer, interval
scores) of a segment does not depend on the other segments; only the semi-CRF decoding does
(each segment's decoding starts where the previous one left each key). So ``batch_size``
segments -- of one item, or of several items through :meth:`Transkun.transcribe_batch` --
share one forward pass, and upstream's own ``transcribe`` loop then decodes and stitches the
segments of each item in order from the precomputed scores (each replayed segment is checked
to be the exact frames upstream asks for). The segment scores take ~0.17 GB each in float32
(T x T x 90 intervals for T = 690 frames), so ``batch_size`` bounds the memory as well.

Output: piano notes (program 0) with the model's velocities. Offsets are key releases, as
transkun predicts them; its sustain (CC64) and soft (CC67) pedal events are not notes and are
dropped, unless ``sustain_pedal=True`` asks to extend offsets by the predicted sustain pedal.
"""
from __future__ import annotations

import collections
import contextlib
import functools
import importlib
import importlib.util
import io
import itertools
import json
import logging
import math
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar
from collections.abc import Iterator

import numpy as np

from ...errors import ConfigError, MissingDataError, ModelError
from ...types import Notes
from ..base import Context, TranscriptionModel

log = logging.getLogger(__name__)

SUSTAIN_PEDAL = 64
CHECKPOINT = "2.0"


def pretrained_dir() -> Path:
    """``transkun/pretrained`` of the installed package (found without importing transkun)."""
    spec = importlib.util.find_spec("transkun")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDataError("transkun is not installed (pip install --no-deps transkun==2.0.1)")
    return Path(list(spec.submodule_search_locations)[0]) / "pretrained"


def checkpoint_files(name: str = CHECKPOINT) -> tuple[Path, Path]:
    """(weights ``<name>.pt``, configuration ``<name>.conf``) of a bundled checkpoint."""
    weights, conf = pretrained_dir() / f"{name}.pt", pretrained_dir() / f"{name}.conf"
    for path in (weights, conf):
        if not path.is_file():
            raise MissingDataError(f"{path}: transkun checkpoint file not found")
    return weights, conf


def read_conf(path: Path) -> tuple[str, str, dict[str, Any]]:
    """Parse a transkun ``.conf`` file: (model module, config class name, config values)."""
    try:
        model = json.loads(path.read_text())["Model"]
        module, class_name, values = model["module"], model["configClassName"], dict(model["config"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: not a transkun model conf ({type(exc).__name__}: {exc})") from None
    if not module.startswith("transkun."):
        raise ConfigError(f"{path}: model module {module!r} is not part of transkun")
    return module, class_name, values


class Transkun(TranscriptionModel):
    """Transkun 2.0 piano transcription (bundled checkpoint).

    Parameters
    ----------
    device : str
        ``auto``, ``cpu`` or ``cuda[:N]``.
    segment_seconds, hop_seconds : float or None
        Segment length and hop of the sliding-window decoding; None takes the conf's values
        (16 s and 8 s).
    sustain_pedal : bool
        Extend note offsets while the predicted sustain pedal is down (default False: key releases).
    num_threads : int or None
        ``torch.set_num_threads`` for CPU inference; None leaves torch's setting alone.
    batch_size : int
        Segments per forward pass, across items when the runner batches items
        (``--batch-items``). 1 runs upstream's loop unchanged; larger values keep a GPU busy.
        The notes do not depend on it beyond float rounding of the network's activations.
    """

    name: ClassVar[str] = "transkun"
    version: ClassVar[str] = "1"
    sample_rate: int = 44100
    description: ClassVar[str] = ("Transkun 2.0 (transformer interval scoring + semi-CRF) piano transcription, "
                                  "bundled checkpoint; piano notes with velocities, program 0.")

    def __init__(self, *, device: str = "auto", segment_seconds: float | None = None,
                 hop_seconds: float | None = None, sustain_pedal: bool = False, num_threads: int | None = None,
                 batch_size: int = 1):
        super().__init__(device=device, segment_seconds=segment_seconds, hop_seconds=hop_seconds,
                         sustain_pedal=sustain_pedal, num_threads=num_threads, batch_size=batch_size)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"transkun: batch_size must be an integer >= 1, not {batch_size!r}")
        if (segment_seconds is None) != (hop_seconds is None):
            raise ConfigError("transkun: give both segment_seconds and hop_seconds, or neither")
        if segment_seconds is not None and hop_seconds is not None and not 0 < hop_seconds <= segment_seconds:
            raise ConfigError(f"transkun: need 0 < hop_seconds <= segment_seconds, got hop {hop_seconds} "
                              f"and segment {segment_seconds}")
        self.segment_seconds = segment_seconds
        self.hop_seconds = hop_seconds
        self.sustain_pedal = bool(sustain_pedal)
        self.num_threads = num_threads
        self.batch_size = batch_size
        self._model: Any = None

    # -- provenance -------------------------------------------------------------------------
    def weights_files(self) -> list[Path]:
        return [checkpoint_files()[0]]

    def package_version(self) -> str | None:
        try:
            return metadata.version("transkun")
        except metadata.PackageNotFoundError:
            return None

    # -- inference --------------------------------------------------------------------------
    def load(self) -> None:
        import torch

        from ._melscale import torchaudio_stub

        if self.num_threads:
            torch.set_num_threads(int(self.num_threads))
        weights, conf_path = checkpoint_files()
        module_name, class_name, values = read_conf(conf_path)
        try:
            with warnings.catch_warnings():  # transkun's CRF uses the deprecated torch.jit.script
                warnings.simplefilter("ignore", DeprecationWarning)
                module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ModelError(f"{conf_path}: cannot import {module_name} ({exc})") from None
        conf = getattr(module, class_name)()
        for key, value in values.items():
            setattr(conf, key, value)
        if conf.fs != self.sample_rate:
            raise ModelError(f"{conf_path}: expects {conf.fs} Hz input, this wrapper feeds {self.sample_rate} Hz")
        with torchaudio_stub():
            model = module.TransKun(conf=conf)
        try:
            checkpoint = torch.load(weights, map_location="cpu", weights_only=True)
            state = checkpoint.get("best_state_dict", checkpoint.get("state_dict"))
            if state is None:
                raise KeyError("no state_dict")
            model.load_state_dict(state, strict=True)  # all keys of 2.0.pt match (upstream: strict=False)
        except Exception as exc:
            raise ModelError(f"{weights}: cannot load the transkun checkpoint ({type(exc).__name__}: {exc})") from None
        for module_ in model.modules():  # gradient checkpointing only matters for training
            if hasattr(module_, "useGradientCheckpoint"):
                module_.useGradientCheckpoint = False
        self._model = model.to(self.device).eval()

    def _segments(self) -> tuple[float, float]:
        if self.segment_seconds is not None and self.hop_seconds is not None:
            return float(self.segment_seconds), float(self.hop_seconds)
        return float(self._model.segmentSizeInSecond), float(self._model.segmentHopSizeInSecond)

    def transcribe(self, audio: np.ndarray, *, sample_rate: int, context: Context) -> Notes:
        return self.transcribe_batch([audio], sample_rate=sample_rate, contexts=[context])[0]

    def transcribe_batch(self, audios: list[np.ndarray], *, sample_rate: int,
                         contexts: list[Context]) -> list[Notes]:
        """Several items; their segments share forward passes of ``batch_size`` segments."""
        import torch

        if self._model is None:
            self.load()
        segment, hop = self._segments()
        inputs = []
        for audio in audios:
            if sample_rate != self.sample_rate:
                from ...audio import resample

                audio = resample(audio, sample_rate, self.sample_rate)
            audio = np.ascontiguousarray(np.asarray(audio, dtype=np.float32).reshape(-1, 1))  # (n, channels)
            inputs.append(torch.from_numpy(audio).to(self.device))
        notes = []
        stdout = io.StringIO()
        with torch.inference_mode(), contextlib.redirect_stdout(stdout):
            if self.batch_size == 1:
                for x in inputs:
                    events = self._model.transcribe(x, stepInSecond=hop, segmentSizeInSecond=segment,
                                                    discardSecondHalf=False)
                    notes.append(self.events_to_notes(events))
            else:
                feeder = _SegmentFeeder(self._model, inputs, segment=segment, hop=hop, batch_size=self.batch_size)
                for index, x in enumerate(inputs):
                    self._model.processFramesBatch = functools.partial(feeder.scores, index)
                    try:
                        events = self._model.transcribe(x, stepInSecond=hop, segmentSizeInSecond=segment,
                                                        discardSecondHalf=False)
                    finally:
                        del self._model.processFramesBatch
                    notes.append(self.events_to_notes(events))
        if stdout.getvalue().strip():
            log.debug("transkun printed: %s", stdout.getvalue().strip())
        return notes

    def events_to_notes(self, events: list[Any]) -> Notes:
        """transkun ``Note`` events (pedals have negative pitch) -> :class:`Notes`."""
        keys = [(float(e.start), float(e.end), int(e.pitch), int(e.velocity)) for e in events if e.pitch > 0]
        keys = [k for k in keys if k[1] > k[0]]
        if self.sustain_pedal and keys:
            from ...midi import _extend_with_pedal

            pedal: list[tuple[float, int]] = []
            for e in events:
                if e.pitch == -SUSTAIN_PEDAL:
                    pedal += [(float(e.start), 127), (float(e.end), 0)]
            keys = _extend_with_pedal(keys, pedal)
        if not keys:
            return Notes.empty()
        arr = np.array(keys, dtype=np.float64)
        return Notes.from_arrays(intervals=arr[:, :2], pitches=arr[:, 2],
                                 velocities=np.clip(arr[:, 3], 1, 127), programs=0).sorted()


def segment_frames(model: Any, x: Any, *, segment: float, hop: float) -> Iterator[Any]:
    """The frames ``[1, channels, frames, window]`` that ``model.transcribe(x, ...)`` hands to
    ``transcribeFrames`` for each segment, in order (the same padding and slicing)."""
    import torch.nn.functional as F
    from transkun.Util import makeFrame

    x = x.transpose(-1, -2)
    pad = segment - hop
    x = F.pad(x, (math.ceil(pad * model.fs), math.ceil(model.fs * pad)))
    n_sample = x.shape[-1]
    step = math.ceil(hop * model.fs / model.hopSize) * model.hopSize
    size = math.ceil(segment * model.fs)
    for i in range(0, n_sample, step):
        piece = x[:, i:min(i + size, n_sample)]
        if piece.shape[-1] < size:
            piece = F.pad(piece, (0, size - piece.shape[-1]))
        yield makeFrame(piece, model.hopSize, model.windowSize).unsqueeze(0)


class _SegmentFeeder:
    """Runs the forward pass of the segments of several items ``batch_size`` at a time, in
    order, and replays each segment's (CRF, context) to upstream's decoding loop.

    Only as many segments are computed ahead as one batch needs, so memory stays bounded
    whatever the length of the items.
    """

    def __init__(self, model: Any, inputs: list[Any], *, segment: float, hop: float, batch_size: int):
        self.model = model
        self.batch_size = batch_size
        self.pending = ((index, frames) for index, x in enumerate(inputs)
                        for frames in segment_frames(model, x, segment=segment, hop=hop))
        self.ready: dict[int, collections.deque[tuple[Any, Any, Any]]] = collections.defaultdict(collections.deque)

    def _forward_next_batch(self) -> bool:
        import torch
        from transkun.CRF import NeuralSemiCRFInterval

        batch = list(itertools.islice(self.pending, self.batch_size))
        if not batch:
            return False
        frames = torch.cat([f for _, f in batch])
        crf, ctx = type(self.model).processFramesBatch(self.model, frames)
        n_sym = len(self.model.targetMIDIPitch)
        for b, (index, f) in enumerate(batch):
            sym = slice(b * n_sym, (b + 1) * n_sym)
            one = NeuralSemiCRFInterval(crf.score[:, :, sym], crf.noiseScore[:, sym])
            self.ready[index].append((f, one, ctx[b:b + 1]))
        return True

    def scores(self, index: int, frames: Any) -> tuple[Any, Any]:
        """Stand-in for ``model.processFramesBatch(frames)`` while item ``index`` is decoded."""
        import torch

        queue = self.ready[index]
        while not queue:
            if not self._forward_next_batch():
                raise ModelError("transkun: upstream asked for more segments than the audio has")
        expected, crf, ctx = queue.popleft()
        if expected.shape != frames.shape or not torch.equal(expected, frames):
            raise ModelError("transkun: a batched segment differs from the one upstream decodes "
                             "(segmentation changed in this transkun version?); use batch_size=1")
        return crf, ctx
