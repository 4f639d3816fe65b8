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

Output: piano notes (program 0) with the model's velocities. Offsets are key releases, as
transkun predicts them; its sustain (CC64) and soft (CC67) pedal events are not notes and are
dropped, unless ``sustain_pedal=True`` asks to extend offsets by the predicted sustain pedal.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import json
import logging
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

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
    """

    name: ClassVar[str] = "transkun"
    version: ClassVar[str] = "1"
    sample_rate: ClassVar[int] = 44100
    description: ClassVar[str] = ("Transkun 2.0 (transformer interval scoring + semi-CRF) piano transcription, "
                                  "bundled checkpoint; piano notes with velocities, program 0.")

    def __init__(self, *, device: str = "auto", segment_seconds: float | None = None,
                 hop_seconds: float | None = None, sustain_pedal: bool = False, num_threads: int | None = None):
        super().__init__(device=device, segment_seconds=segment_seconds, hop_seconds=hop_seconds,
                         sustain_pedal=sustain_pedal, num_threads=num_threads)
        if (segment_seconds is None) != (hop_seconds is None):
            raise ConfigError("transkun: give both segment_seconds and hop_seconds, or neither")
        if segment_seconds is not None and not 0 < hop_seconds <= segment_seconds:
            raise ConfigError(f"transkun: need 0 < hop_seconds <= segment_seconds, got hop {hop_seconds} "
                              f"and segment {segment_seconds}")
        self.segment_seconds = segment_seconds
        self.hop_seconds = hop_seconds
        self.sustain_pedal = bool(sustain_pedal)
        self.num_threads = num_threads
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
        if self.segment_seconds is not None:
            return float(self.segment_seconds), float(self.hop_seconds)
        return float(self._model.segmentSizeInSecond), float(self._model.segmentHopSizeInSecond)

    def transcribe(self, audio: np.ndarray, *, sample_rate: int, context: Context) -> Notes:
        import torch

        if self._model is None:
            self.load()
        if sample_rate != self.sample_rate:
            from ...audio import resample

            audio = resample(audio, sample_rate, self.sample_rate)
        audio = np.ascontiguousarray(np.asarray(audio, dtype=np.float32).reshape(-1, 1))  # (n, channels)
        segment, hop = self._segments()
        stdout = io.StringIO()
        with torch.inference_mode(), contextlib.redirect_stdout(stdout):
            x = torch.from_numpy(audio).to(self.device)
            events = self._model.transcribe(x, stepInSecond=hop, segmentSizeInSecond=segment,
                                            discardSecondHalf=False)
        if stdout.getvalue().strip():
            log.debug("transkun printed: %s", stdout.getvalue().strip())
        return self.events_to_notes(events)

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
