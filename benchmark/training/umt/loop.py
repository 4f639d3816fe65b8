"""The training loop of the UMT (losses, optimizer, schedule, resumable state, checkpoints);
see :mod:`musebench.training.umt`."""
from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import ConfigError
from ...models.torch_utils import count_parameters, torch_threads
from ...models.translation.umt import CHECKPOINT
from ..report import parent_record
from . import UMTTrainConfig
from .data import draw_batch, load_training_audio, noisy_inputs, validation_segments

LR_DECAY_EVERY = 1000


@dataclass
class UMTTrainResult:
    weights_path: Path
    config_path: Path
    steps: int
    seconds: float
    bytes: int
    n_parameters: int
    config: dict[str, Any]


def train(config: UMTTrainConfig, *, output: str | os.PathLike, progress: bool = True, restart: bool = False,
          log: Callable[[str], None] | None = None, name: str | None = None,
          network: Any = None) -> UMTTrainResult:
    """Train (or resume) a UMT and write ``<output>/umt-<size>.npz`` and ``.json``.

    Parameters
    ----------
    config : UMTTrainConfig
    output : path-like
        Directory of the checkpoint and the resume state (created).
    progress : bool
        tqdm bar with the reconstruction loss, the confusion loss and the classifier's accuracy.
    restart : bool
        Ignore an existing resume state.
    log : callable, optional
        Receives one-line messages.
    name : str, optional
        File stem (default ``umt-<size>``).
    network : UMTConfig, optional
        Other network sizes than ``config.size`` gives (tests; recorded in the checkpoint).

    Returns
    -------
    UMTTrainResult
    """

    from ...device import resolve_device

    config.check()
    device_name = resolve_device(config.device)
    with torch_threads(config.threads):
        return _train(config, output=Path(output).expanduser(), progress=progress, restart=restart,
                      say=log or (lambda message: None), device_name=device_name,
                      stem=name or f"umt-{config.size}", network=network)


def _lr(config: UMTTrainConfig, step: int) -> float:
    return config.learning_rate * config.lr_decay ** (step / LR_DECAY_EVERY)


def _train(config: UMTTrainConfig, *, output: Path, progress: bool, restart: bool, say: Callable[[str], None],
           device_name: str, stem: str, network: Any = None) -> UMTTrainResult:
    import torch
    import torch.nn.functional as F
    from tqdm.auto import tqdm

    from ...models.translation.umt_networks import UMT, grad_reverse

    net_cfg = network if network is not None else config.network()
    if list(net_cfg.domains) != list(config.domains):
        raise ConfigError(f"train umt: network domains {net_cfg.domains} differ from {config.domains}")
    if config.init_from and (restart or not (output / f"{stem}.state.pt").is_file()):
        check_parent_network(config.init_from, net_cfg)  # before the (slow) training audio
    sr = net_cfg.sample_rate
    clean, shifted, data = load_training_audio(config, sample_rate=sr, progress=progress)
    device = torch.device(device_name)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = UMT(net_cfg).to(device)
    ae_params = list(model.encoder.parameters()) + list(model.decoders.parameters())
    groups: list[dict[str, Any]] = [{"params": ae_params}, {"params": model.classifier.parameters()}]
    optimizer = torch.optim.Adam(groups, lr=config.learning_rate)
    history: dict[str, list[float]] = {"recon": [], "confusion": [], "accuracy": []}
    step, seconds = 0, 0.0
    parent: dict[str, Any] | None = None
    state_path = output / f"{stem}.state.pt"
    settings = asdict(config)
    resumable = {k: v for k, v in settings.items() if k not in ("steps", "device", "threads", "checkpoint_every")}
    resumable["network"] = net_cfg.to_dict()
    if state_path.is_file() and not restart:
        state = torch.load(state_path, map_location=device, weights_only=False)
        state["settings"].setdefault("network", config.network().to_dict())  # states written before it was recorded
        state["settings"].setdefault("input_noise", 0.0)  # states written before these settings existed
        state["settings"].setdefault("init_from", None)
        if state["settings"] != resumable:
            changed = sorted(k for k in resumable if state["settings"].get(k) != resumable[k])
            raise ConfigError(f"{state_path}: resume state was trained with other settings ({', '.join(changed)}); "
                              "pass --restart to start over")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        rng.bit_generator.state = state["np_rng"]
        torch.set_rng_state(state["torch_rng"])
        history, step, seconds = state["history"], int(state["step"]), float(state["seconds"])
        parent = state.get("parent")
        say(f"train umt: resuming {state_path} at step {step}")
    elif config.init_from:
        parent = init_from(model, config.init_from)
        say(f"train umt: initialised from {config.init_from} (sha256 {str(parent['weights_sha256'])[:12]}, "
            f"{parent['steps']} steps)")
    output.mkdir(parents=True, exist_ok=True)
    length = int(round(config.segment_seconds * sr))
    aug_min, aug_max = int(round(config.aug_min_seconds * sr)), int(round(config.aug_max_seconds * sr))
    say(f"train umt ({config.size}): domains {', '.join(config.domains)}; {config.pieces} train pieces per domain "
        f"({sum(data['seconds'].values()):.0f} s in all at {sr} Hz); {count_parameters(model)} parameters; "
        f"steps {step} -> {config.steps} on {device_name}, {config.threads} thread(s)")

    def save() -> tuple[Path, Path]:
        val = _validation_loss(model, config, sr, device)
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "np_rng": rng.bit_generator.state,
                    "torch_rng": torch.get_rng_state(), "history": history, "step": step, "seconds": seconds,
                    "settings": resumable, "parent": parent}, state_path.with_suffix(".tmp"))
        os.replace(state_path.with_suffix(".tmp"), state_path)
        every = 50
        curve = {k: [round(float(np.mean(v[i:i + every])), 5) for i in range(0, len(v), every)]
                 for k, v in history.items()}
        ckpt = {"model": "umt", "size": config.size, "network": net_cfg.to_dict(), "domains": list(config.domains),
                "receptive_field": {"decoder_samples": model.decoders[0].receptive_field,
                                    "encoder_samples": model.encoder.receptive_field},
                "training": {**settings, "device": device_name, "steps": step, "seconds": round(seconds, 1),
                             "final": {k: (round(float(np.mean(v[-100:])), 5) if v else None)
                                       for k, v in history.items()},
                             "validation": val, f"every_{every}_steps": curve,
                             **({"parent": parent} if parent else {})},
                "data": data,
                "environment": {"python": platform.python_version(), "torch": torch.__version__,
                                "numpy": np.__version__, "platform": platform.platform()}}
        return CHECKPOINT.save(output / stem, arrays=model.state_dict(), config=ckpt, dtype=config.dtype)

    model.train()
    bar = tqdm(total=config.steps, initial=step, desc=f"train umt-{config.size}", unit="step", disable=not progress)
    paths = None
    while step < config.steps:
        t0 = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = _lr(config, step)
        x, x_aug, labels = draw_batch(clean, shifted, list(config.domains), rng=rng,
                                      per_domain=config.batch_per_domain, length=length, augment=config.augment,
                                      aug_min=aug_min, aug_max=aug_max)
        x_t = torch.from_numpy(x).to(device)
        labels_t = torch.from_numpy(labels).to(device)
        z = model.encoder(torch.from_numpy(x_aug).to(device))
        logits = model.classifier(grad_reverse(z, config.lambda_confusion))
        confusion = F.cross_entropy(logits, labels_t)
        b = config.batch_per_domain
        rows = [slice(j * b, (j + 1) * b) for j in range(len(model.decoders))]  # the batch is ordered by domain
        # the decoders read (optionally noisy) past samples and predict the clean ones
        x_in = torch.from_numpy(noisy_inputs(x, rng, config.input_noise)).to(device) if config.input_noise else x_t
        terms = [F.cross_entropy(decoder(x_in[r], z[r]), x_t[r]) for decoder, r in zip(model.decoders, rows)]
        recon = sum(terms[1:], terms[0]) / len(terms)  # the decoders' mean, summed in domain order
        loss = recon + confusion
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        history["recon"].append(float(recon.item()))
        history["confusion"].append(float(confusion.item()))
        history["accuracy"].append(float((logits.argmax(1) == labels_t).float().mean().item()))
        seconds += time.perf_counter() - t0
        step += 1
        bar.update(1)
        if step % 10 == 0 or step == config.steps:
            bar.set_postfix(recon=f"{np.mean(history['recon'][-50:]):.3f}",
                            conf=f"{np.mean(history['confusion'][-50:]):.3f}",
                            acc=f"{np.mean(history['accuracy'][-50:]):.2f}")
        if step % config.checkpoint_every == 0 or step == config.steps:
            paths = save()
            if not progress:
                say(f"train umt: step {step}: recon {np.mean(history['recon'][-100:]):.4f} confusion "
                    f"{np.mean(history['confusion'][-100:]):.4f} accuracy {np.mean(history['accuracy'][-100:]):.3f} "
                    f"({seconds:.0f} s)")
    bar.close()
    if paths is None:
        paths = save()
    weights_path, config_path = paths
    saved = json.loads(config_path.read_text())
    say(f"train umt: {step} steps, {seconds:.0f} s of training; wrote {weights_path}")
    return UMTTrainResult(weights_path=weights_path, config_path=config_path, steps=step, seconds=seconds,
                          bytes=weights_path.stat().st_size, n_parameters=saved["weights"]["n_parameters"],
                          config=saved)


def check_parent_network(path: str, network: Any) -> None:
    """Raise a one-line ConfigError when the UMT checkpoint ``path`` (its JSON only) has
    another network than ``network``; MissingDataError when it is not there."""
    meta, _ = CHECKPOINT.read_config(path)
    theirs, ours = meta.get("network") or {}, network.to_dict()
    if theirs != ours:
        changed = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
        raise ConfigError(f"train umt: --init-from {path} has another network ({', '.join(changed)} differ)")


def init_from(model: Any, path: str) -> dict[str, Any]:
    """Load the weights of the UMT checkpoint ``path`` into ``model`` (whose network the caller
    has checked with :func:`check_parent_network`) and return its
    :func:`~musebench.training.report.parent_record`."""
    import torch

    arrays, meta, _ = CHECKPOINT.load(path)
    model.load_state_dict({k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in arrays.items()})
    training = meta.get("training", {})
    return parent_record(meta, path, learning_rate=training.get("learning_rate"),
                         validation=training.get("validation"))


def _validation_loss(model: Any, config: UMTTrainConfig, sr: int, device: Any) -> dict[str, Any]:
    """Teacher-forced reconstruction loss and classifier accuracy on fixed validation segments
    (validation pieces 0-1, rendered in each domain; never trained on)."""
    import torch
    import torch.nn.functional as F

    x, labels = validation_segments(config, sr)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        x_t = torch.from_numpy(x).to(device)
        z = model.encoder(x_t)
        acc = float((model.classifier(z).argmax(1).cpu().numpy() == labels).mean())
        recon = []
        for j in range(len(config.domains)):
            rows = torch.from_numpy(labels == j).to(device)
            recon.append(float(F.cross_entropy(model.decoders[j](x_t[rows], z[rows]), x_t[rows])))
    if was_training:
        model.train()
    return {"recon": round(float(np.mean(recon)), 5), "classifier_accuracy": round(acc, 4),
            "recon_per_domain": {d: round(v, 5) for d, v in zip(config.domains, recon)}}
