"""Training the seed LSTM generators on FFT frames of the synthetic train split.

Each training example is a random run of ``seq_frames + 1`` consecutive frames of one
training clip (real and imaginary FFT parts divided by one global ``feature_scale``, the
standard deviation of all training features); the network predicts frames 2.. under mean
squared error, with Adam and gradient-norm clipping. The first frames are teacher-forced
(the true previous frame is the input); the last ``free_run_frames`` are predicted from the
network's own predictions, as at generation time, so that it learns to continue a seed
rather than only to extrapolate one frame. An
*epoch* is as many batches as it takes to draw as many frames as the training split holds.
Everything is seeded (crops, initial weights), so a rerun on the same device reproduces
the checkpoint. After training, the per-feature standard deviation of the residuals over
the whole training split is stored (``_residual_std``) for sampling with a temperature,
and the validation loss is recorded.
"""
from __future__ import annotations

import json
import math
import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from collections.abc import Callable

import numpy as np

from ..errors import MissingDataError
from .config import TrainConfig
from ..models.generation import fft_frames
from ..models.generation.lstm import FRAME_SIZE, HOP_SIZE, SAMPLE_RATE
from ..models.torch_utils import count_parameters, torch_threads


@dataclass
class TrainResult:
    weights_path: Path
    config_path: Path
    seconds: float
    steps: int
    final_loss: float
    validation_loss: float | None
    n_parameters: int
    bytes: int
    config: dict[str, Any]


def load_frames(*, dataset: str, variant: str, split: str,
                data_dir: str | os.PathLike | None = None) -> tuple[list[np.ndarray], dict[str, Any]]:
    """FFT frames of every clip of a split, and a description of the data (fingerprint, ids).

    Returns
    -------
    frames : list of np.ndarray, each shape=(n_frames_i, FRAME_SIZE + 2), unscaled
    data : dict
        ``dataset``, ``variant``, ``split``, ``fingerprint``, ``n_items``, ``item_ids``, ``seconds``.
    """
    from ..audio import load_audio
    from ..datasets import get_dataset
    from ..families.base import input_audio

    ds = get_dataset(dataset, root=data_dir, variant=variant)
    items = ds.items(split)
    if not items:
        raise MissingDataError(f"dataset {dataset} ({variant}): split {split!r} has no items to train on")
    frames, seconds = [], 0.0
    for item in items:
        audio, _ = load_audio(input_audio(item), sample_rate=SAMPLE_RATE)
        seconds += len(audio) / SAMPLE_RATE
        frames.append(fft_frames.analyze(audio, frame_size=FRAME_SIZE, hop_size=HOP_SIZE))
    data = {"dataset": dataset, "variant": variant, "split": split, "fingerprint": ds.fingerprint(split),
            "verified": ds.is_verified(split), "n_items": len(items), "item_ids": [it.id for it in items],
            "seconds": round(seconds, 3)}
    return frames, data


def _batch(frames: list[np.ndarray], *, rng: np.random.Generator, batch_size: int, length: int) -> np.ndarray:
    out = np.zeros((batch_size, length, frames[0].shape[1]), np.float32)
    for b in range(batch_size):
        clip = frames[int(rng.integers(len(frames)))]
        if len(clip) <= length:
            out[b, :len(clip)] = clip
        else:
            start = int(rng.integers(0, len(clip) - length + 1))
            out[b] = clip[start:start + length]
    return out


def _teacher_forced_residuals(net: Any, frames: list[np.ndarray], device: Any) -> tuple[np.ndarray, float]:
    """Per-feature residual std and the mean squared error over whole clips (teacher forcing)."""
    import torch

    sq_sum = np.zeros(frames[0].shape[1])
    sums = np.zeros(frames[0].shape[1])
    count = 0
    with torch.no_grad():
        for clip in frames:
            x = torch.from_numpy(clip[None]).to(device)
            y, _ = net(x[:, :-1])
            r = (x[:, 1:] - y)[0].cpu().numpy().astype(np.float64)
            sq_sum += (r ** 2).sum(axis=0)
            sums += r.sum(axis=0)
            count += len(r)
    mean = sums / count
    var = np.maximum(sq_sum / count - mean ** 2, 0.0)
    return np.sqrt(var).astype(np.float32), float(sq_sum.sum() / (count * len(sq_sum)))


def train(config: TrainConfig, *, output: str | os.PathLike, data_dir: str | os.PathLike | None = None,
          progress: bool = True, log: Callable[[str], None] | None = None) -> TrainResult:
    """Train one seed LSTM variant and write ``<output>/<model>.npz`` and ``.json``.

    Parameters
    ----------
    config : TrainConfig
    output : path-like
        Directory for the checkpoint (created).
    data_dir : path-like, optional
        Dataset root (default: the dataset's registered or cache location).
    progress : bool
        Show a tqdm bar.
    log : callable, optional
        Receives one-line progress messages (e.g. ``print``).

    Returns
    -------
    TrainResult
    """
    import torch

    from ..device import resolve_device

    config.check()
    device_name = resolve_device(config.device)
    device = torch.device(device_name)
    say = log or (lambda message: None)
    with torch_threads(config.threads):
        return _train(config, output=output, data_dir=data_dir, progress=progress, say=say,
                      device=device, device_name=device_name)


def _train(config: TrainConfig, *, output: str | os.PathLike, data_dir: str | os.PathLike | None, progress: bool,
           say: Callable[[str], None], device: Any, device_name: str) -> TrainResult:
    import torch
    from tqdm.auto import tqdm

    from ..models.generation.lstm import CHECKPOINT
    from ..models.generation.networks import FrameLSTM

    raw, data = load_frames(dataset=config.dataset, variant=config.variant, split=config.split, data_dir=data_dir)
    scale = float(np.concatenate(raw).std()) or 1.0
    frames = [(f / scale).astype(np.float32) for f in raw]
    n_features = frames[0].shape[1]
    total_frames = sum(len(f) for f in frames)
    steps_per_epoch = max(1, math.ceil(total_frames / (config.batch_size * config.seq_frames)))
    steps = config.epochs * steps_per_epoch
    if config.max_steps is not None:
        steps = min(steps, config.max_steps)
    say(f"train {config.model}: {data['n_items']} clips ({data['seconds']:.0f} s, {total_frames} frames) of "
        f"{config.dataset}/{config.variant}/{config.split}; {steps} steps ({steps_per_epoch} per epoch) "
        f"on {device_name}")

    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    net = FrameLSTM(config.model, n_features=n_features, hidden_size=config.hidden_size,
                    conv_kernel=config.conv_kernel).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.learning_rate)
    losses: list[float] = []
    t0 = time.perf_counter()
    bar = tqdm(range(steps), desc=f"train {config.model}", unit="step", disable=not progress)
    for step in bar:
        batch = torch.from_numpy(_batch(frames, rng=rng, batch_size=config.batch_size,
                                        length=config.seq_frames + 1)).to(device)
        forced = config.seq_frames - config.free_run_frames
        inputs = batch[:, :forced]
        if config.input_noise > 0:
            noise = rng.standard_normal(inputs.shape).astype(np.float32) * config.input_noise
            inputs = inputs + torch.from_numpy(noise).to(device)
        prediction, state = net(inputs)
        if config.free_run_frames:
            outputs = [prediction]
            frame = prediction[:, -1:]
            for _ in range(config.free_run_frames):
                frame, state = net(frame, state)
                outputs.append(frame)
            prediction = torch.cat(outputs, dim=1)
        loss = torch.nn.functional.mse_loss(prediction, batch[:, 1:])
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), config.grad_clip)
        optimizer.step()
        losses.append(float(loss.item()))
        if step % 25 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-25:]):.4f}")
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    net.eval()
    residual_std, train_mse = _teacher_forced_residuals(net, frames, device)
    validation_loss = None
    if config.validation_split:
        val_raw, _ = load_frames(dataset=config.dataset, variant=config.variant, split=config.validation_split,
                                 data_dir=data_dir)
        _, validation_loss = _teacher_forced_residuals(net, [(f / scale).astype(np.float32) for f in val_raw], device)
    final_loss = float(np.mean(losses[-min(len(losses), 50):]))
    say(f"train {config.model}: {steps} steps in {seconds:.1f} s, final loss {final_loss:.4f}"
        + (f", validation {validation_loss:.4f}" if validation_loss is not None else ""))

    arrays = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    arrays["_residual_std"] = residual_std
    checkpoint_config = {
        "model": config.model,
        "architecture": config.model,
        "network": {"n_features": n_features, "hidden_size": config.hidden_size, "conv_kernel": config.conv_kernel,
                    "n_parameters": count_parameters(net)},
        "frames": {"sample_rate": SAMPLE_RATE, "frame_size": FRAME_SIZE, "hop_size": HOP_SIZE,
                   "window": "periodic sqrt-Hann", "features": "real then imaginary rfft parts / feature_scale"},
        "feature_scale": scale,
        "training": {**{k: v for k, v in asdict(config).items() if k not in ("dataset", "variant", "split")},
                     "device": device_name, "steps": steps, "steps_per_epoch": steps_per_epoch,
                     "seconds": round(seconds, 2), "final_loss": final_loss,
                     "train_mse_teacher_forced": train_mse, "validation_loss": validation_loss,
                     "loss_every_50_steps": [round(float(np.mean(losses[i:i + 50])), 5)
                                             for i in range(0, len(losses), 50)]},
        "data": data,
        "environment": {"python": platform.python_version(), "torch": torch.__version__,
                        "numpy": np.__version__, "platform": platform.platform()},
    }
    out_dir = Path(output).expanduser()
    out_dir.mkdir(parents=True, exist_ok=True)
    weights_path, config_path = CHECKPOINT.save(out_dir / config.model, arrays=arrays, config=checkpoint_config,
                                                dtype=config.dtype)
    saved = json.loads(config_path.read_text())
    return TrainResult(weights_path=weights_path, config_path=config_path, seconds=seconds, steps=steps,
                       final_loss=final_loss, validation_loss=validation_loss,
                       n_parameters=count_parameters(net), bytes=weights_path.stat().st_size, config=saved)
