"""The seed LSTM family: raw-audio generators that predict the next FFT frame.

After the raw-audio piano-generation papers with recurrent networks over FFT frames (e.g.
Nayebi and Vitelli, "GRUV: Algorithmic Music Generation using Recurrent Neural Networks",
2015): audio is cut into frames, each frame's FFT is represented by its real and imaginary
parts, and an LSTM trained with mean squared error predicts frame ``t + 1`` from frames
``<= t``. Generation runs the network over the seed's frames, then feeds each predicted
frame back in; the frames are turned into audio by inverse FFT and overlap-add
(:mod:`musebench.models.generation.fft_frames`).

Here the frames are 512-sample FFTs under a square-root Hann window every 256 samples at
16 kHz (62.5 frames per second), so the resynthesis is exact for real frames. Optional
sampling noise (``temperature``) adds ``temperature * residual_std`` Gaussian noise to each
predicted frame, where ``residual_std`` is the per-feature standard deviation of the
training residuals stored in the checkpoint: the MSE model read as a Gaussian
autoregressive model.

Every variant has a shipped checkpoint in ``benchmark/data/checkpoints/<name>.npz`` (+ ``.json``
with its training config and data fingerprint); ``musebench train <name>`` trains a new one,
and ``--param checkpoint=PATH`` runs it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ...errors import ConfigError, ModelError
from ..base import Context, GenerationModel
from ..checkpoints import CheckpointFiles, CheckpointFormat, checkpoint_path
from ..torch_utils import torch_threads
from . import fft_frames

SAMPLE_RATE = 16000
FRAME_SIZE = 512
HOP_SIZE = 256

#: The LSTM checkpoints: arrays named ``_*`` (the training residuals' std) stay float32 and are
#: not counted as parameters.
CHECKPOINT = CheckpointFormat("musebench-fft-lstm/1", label="checkpoint", hint="train one with `musebench train`",
                              full_precision=("_",))


class FFTLSTMGenerator(GenerationModel):
    """Base class of the seed LSTM generators (one subclass per architecture).

    Parameters
    ----------
    device : str
        ``auto`` (CUDA when visible), ``cpu``, ``cuda`` or ``cuda:N``.
    checkpoint : str, optional
        Path of a checkpoint (``.npz``, ``.json`` or their common stem); default: the shipped
        ``benchmark/data/checkpoints/<name>``.
    temperature : float
        Scale of the sampling noise relative to the training residuals (0 = deterministic).
    burn_in : float
        Seconds generated and discarded before an unconditional clip (no seed), so that the
        clip does not start from the network's silent initial state.
    threads : int
        torch CPU threads while generating (frame-by-frame steps of a small network: one
        thread is fastest).
    """

    architecture: ClassVar[str] = "lstm"
    sample_rate: int = SAMPLE_RATE
    trainable: ClassVar[bool] = True

    def __init__(self, *, device: str = "auto", checkpoint: str | None = None, temperature: float = 0.25,
                 burn_in: float = 1.0, threads: int = 1):
        given = {"checkpoint": checkpoint, "temperature": temperature, "burn_in": burn_in}
        defaults = {"checkpoint": None, "temperature": 0.25, "burn_in": 1.0}
        # only what differs from the defaults, so the leaderboard labels the shipped model plainly
        super().__init__(device=device, **{k: v for k, v in given.items() if v != defaults[k]})
        if temperature < 0:
            raise ConfigError(f"model {self.name}: temperature must be >= 0, not {temperature}")
        if burn_in < 0:
            raise ConfigError(f"model {self.name}: burn_in must be >= 0, not {burn_in}")
        if threads < 1:
            raise ConfigError(f"model {self.name}: threads must be >= 1, not {threads}")
        self.threads = int(threads)
        self.checkpoint = checkpoint_path(checkpoint, shipped=self.name)
        self.temperature = float(temperature)
        self.burn_in = float(burn_in)
        self.config: dict[str, Any] | None = None
        self._net: Any = None
        self._weights_path: Path | None = None
        self._residual_std: np.ndarray | None = None

    # -- provenance -------------------------------------------------------------------------
    def weights_files(self) -> list[Path]:
        return CheckpointFiles.of(self.checkpoint).weights_files()

    def info(self) -> dict[str, Any]:
        out = super().info()
        out["settings"] = {"checkpoint": str(self.checkpoint), "temperature": self.temperature,
                           "burn_in": self.burn_in}
        if self.config is not None:
            out["checkpoint"] = {"architecture": self.config.get("architecture"),
                                 "network": self.config.get("network"),
                                 "data": self.config.get("data"),
                                 "training": {k: self.config.get("training", {}).get(k)
                                              for k in ("epochs", "steps", "seconds", "final_loss", "seed", "device")}}
        return out

    # -- loading ----------------------------------------------------------------------------
    def load(self) -> None:
        import torch

        from .networks import FrameLSTM

        arrays, config, weights_path = CHECKPOINT.load(self.checkpoint)
        if config.get("architecture") != self.architecture:
            raise ModelError(f"{weights_path}: checkpoint is a {config.get('architecture')!r} network, "
                             f"model {self.name} needs {self.architecture!r}")
        frames = config["frames"]
        if (frames["sample_rate"], frames["frame_size"], frames["hop_size"]) != (SAMPLE_RATE, FRAME_SIZE, HOP_SIZE):
            raise ModelError(f"{weights_path}: checkpoint framing {frames} is not "
                             f"{SAMPLE_RATE} Hz / {FRAME_SIZE} / {HOP_SIZE}")
        net_cfg = config["network"]
        net = FrameLSTM(self.architecture, n_features=net_cfg["n_features"], hidden_size=net_cfg["hidden_size"],
                        conv_kernel=net_cfg.get("conv_kernel", 4))
        state = {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in arrays.items()
                 if not k.startswith("_")}
        try:
            net.load_state_dict(state)
        except RuntimeError as exc:
            raise ModelError(f"{weights_path}: weights do not fit the {self.architecture} network "
                             f"({str(exc).splitlines()[0]})") from None
        net.eval().to(self.device)
        self._net = net
        self._residual_std = np.asarray(arrays.get("_residual_std", np.ones(net_cfg["n_features"])), np.float32)
        self._weights_path = weights_path
        self.config = config

    # -- generation -------------------------------------------------------------------------
    def generate(self, n: int, seconds: float, *, seed_audio: np.ndarray | None = None,
                 sample_rate: int, rng: np.random.Generator, context: Context | None = None) -> list[np.ndarray]:
        """Generate ``n`` clips of ``seconds``; with ``seed_audio``, each continues the seed."""

        if self._net is None:
            self.load()
        with torch_threads(self.threads):
            return self._generate(n, seconds, seed_audio=seed_audio, sample_rate=sample_rate, rng=rng)

    def _generate(self, n: int, seconds: float, *, seed_audio: np.ndarray | None, sample_rate: int,
                  rng: np.random.Generator) -> list[np.ndarray]:
        import torch

        assert self.config is not None and self._residual_std is not None
        if n < 1 or seconds <= 0:
            raise ModelError(f"model {self.name}: need n >= 1 and seconds > 0 (got n={n}, seconds={seconds})")
        scale = float(self.config["feature_scale"])
        n_out = int(round(seconds * SAMPLE_RATE))
        if seed_audio is not None:
            seed = np.asarray(seed_audio, dtype=np.float32).reshape(-1)
            if sample_rate != SAMPLE_RATE:
                from ...audio import resample

                seed = resample(seed, sample_rate, SAMPLE_RATE)
            k = fft_frames.inner_frames(len(seed), hop_size=HOP_SIZE)
            if k < 1:
                raise ModelError(f"model {self.name}: seed shorter than one hop ({HOP_SIZE} samples)")
            seed_frames = fft_frames.analyze(seed, frame_size=FRAME_SIZE, hop_size=HOP_SIZE)[:k] / scale
            prefix = np.repeat(seed_frames[None], n, axis=0)
            total = len(seed) + n_out
            skip = len(seed)
        else:
            k = 1
            prefix = np.zeros((n, 1, FRAME_SIZE + 2), np.float32)
            burn = int(round(self.burn_in * SAMPLE_RATE / HOP_SIZE)) * HOP_SIZE
            total = burn + n_out
            skip = burn
        n_new = fft_frames.n_frames(total, hop_size=HOP_SIZE) - k
        sigma = (self.temperature * self._residual_std).astype(np.float32)
        device = torch.device(self.device)
        out = np.zeros((n, n_new, FRAME_SIZE + 2), np.float32)
        with torch.no_grad():
            y, state = self._net(torch.from_numpy(prefix).to(device))
            nxt = y[:, -1:]
            for t in range(n_new):
                frame = nxt.cpu().numpy()[:, 0]
                if self.temperature > 0:
                    frame = frame + sigma * rng.standard_normal(frame.shape).astype(np.float32)
                out[:, t] = frame
                if t + 1 < n_new:
                    nxt, state = self._net(torch.from_numpy(frame[:, None]).to(device), state)
        clips = []
        for b in range(n):
            frames = np.concatenate([prefix[b], out[b]]) * scale
            audio = fft_frames.synthesize(frames, frame_size=FRAME_SIZE, hop_size=HOP_SIZE, n_samples=total)
            clip = audio[skip:skip + n_out]
            if sample_rate != SAMPLE_RATE:
                from ...audio import resample

                clip = resample(clip, SAMPLE_RATE, sample_rate)
            clips.append(np.asarray(clip, dtype=np.float32))
        return clips


class LSTM(FFTLSTMGenerator):
    name: ClassVar[str] = "lstm"
    architecture: ClassVar[str] = "lstm"
    description: ClassVar[str] = "seed LSTM over FFT frames (real+imag, MSE), one layer; shipped checkpoint"


class FCLSTM(FFTLSTMGenerator):
    name: ClassVar[str] = "fc-lstm"
    architecture: ClassVar[str] = "fc-lstm"
    description: ClassVar[str] = "seed LSTM with a fully connected layer before it; shipped checkpoint"


class ConvLSTM(FFTLSTMGenerator):
    name: ClassVar[str] = "conv-lstm"
    architecture: ClassVar[str] = "conv-lstm"
    description: ClassVar[str] = "seed LSTM with a causal Conv1D front end over frames; shipped checkpoint"


class StackedLSTM(FFTLSTMGenerator):
    name: ClassVar[str] = "stacked-lstm"
    architecture: ClassVar[str] = "stacked-lstm"
    description: ClassVar[str] = "two stacked LSTM layers over FFT frames; shipped checkpoint"


class BilinearLSTM(FFTLSTMGenerator):
    name: ClassVar[str] = "bilinear-lstm"
    architecture: ClassVar[str] = "bilinear-lstm"
    description: ClassVar[str] = "two parallel LSTMs over FFT frames, outputs summed; shipped checkpoint"


ARCHITECTURE_MODELS: dict[str, type[FFTLSTMGenerator]] = {
    cls.name: cls for cls in (LSTM, FCLSTM, ConvLSTM, StackedLSTM, BilinearLSTM)}
