"""Training the Universal Music Translation Network (``musebench train umt``).

Training material (paper Sec. 4.1 trains on one set of recordings per domain; here the domains
are General MIDI renderings): the *train* pieces of the synth generator's ``piano`` variant
(:func:`musebench.datasets.synth.compose`, split ``train``, indices ``0 .. pieces-1``; the
published train split is 32 pieces), each read back from its MIDI bytes and rendered with every
training domain's program exactly as ``synth-pairs`` renders (TimGM6mb, 16 kHz, 16-bit PCM),
then resampled to the network's rate. A piece's seed is a hash of ``(generator version,
variant, split, index)``, so a train seed can never be a validation or test seed;
:func:`training_pieces` checks this, and that no train score equals a validation or test
score, before anything is trained. The clarinet (GM 71, the unseen domain of
``synth-unseen-clarinet-to-piano``) is refused as a training domain.

Each step draws ``batch_per_domain`` random segments of ``segment_seconds`` from every domain.
The encoder reads the segment after the paper's local pitch augmentation (Sec. 3.2: a random
part of 0.25-0.5 s is pitch-shifted by a random amount in [-0.5, 0.5] semitones, with librosa):
for speed every clip is pitch-shifted once per ``aug_versions`` random amounts up front, and
the part is spliced in from one of these. Losses (Sec. 3.3): the decoders' softmax cross
entropy on the clean 8-bit mu-law segment (teacher forcing), plus the domain classifier's cross
entropy on the latent, which reaches the encoder through a gradient reversal scaled by
``lambda_confusion`` (1e-2 as in the paper). Adam, gradient-norm clipping, and an exponential
learning-rate decay per 1000 steps.

Resumable and seeded: every ``checkpoint_every`` steps the full state (float32 weights,
optimizer, random generators, loss history) goes to ``<output>/umt-<size>.state.pt`` and the
inference checkpoint to ``<output>/umt-<size>.npz`` + ``.json``; a rerun with the same settings
continues from the state file (``restart=True`` starts over).
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable

import numpy as np

from ..errors import BadInputError, ConfigError
from ..io_utils import sha256_bytes
from ..models.translation.umt import CHECKPOINT

DEFAULT_DOMAINS = ("piano", "violin", "flute", "strings")
LR_DECAY_EVERY = 1000


@dataclass
class UMTTrainConfig:
    """Settings of one UMT training run (all recorded in the checkpoint).

    Attributes
    ----------
    size : str
        ``tiny`` (CPU) or ``paper`` (the paper's sizes; a GPU's job).
    domains : list of str
        Synthetic training domains (their GM programs render the train pieces).
    steps : int
        Total optimizer steps (a resumed run continues up to this many).
    batch_per_domain : int
        Segments per domain per step.
    segment_seconds : float
        Length of a training segment.
    learning_rate, lr_decay, grad_clip : float
        Adam step, its decay factor per 1000 steps, gradient-norm clip.
    lambda_confusion : float
        Weight of the domain-confusion term (gradient reversal scale), paper: 1e-2.
    augment : bool
        Local pitch augmentation of the encoder's input (paper Sec. 3.2).
    aug_versions, aug_semitones, aug_min_seconds, aug_max_seconds
        Pitch-shifted versions per clip, the largest shift, and the length range of the shifted part.
    pieces : int
        Train pieces (indices ``0 .. pieces-1`` of the synth train split; 32 = the published split).
    seed, device, threads, checkpoint_every, dtype
        Seed of everything; torch device; CPU threads; steps between checkpoints; weight storage dtype.
    """

    size: str = "tiny"
    domains: list[str] = field(default_factory=lambda: list(DEFAULT_DOMAINS))
    steps: int = 4000
    batch_per_domain: int = 2
    segment_seconds: float = 0.5
    learning_rate: float = 1e-3
    lr_decay: float = 0.98
    grad_clip: float = 1.0
    lambda_confusion: float = 1e-2
    augment: bool = True
    aug_versions: int = 4
    aug_semitones: float = 0.5
    aug_min_seconds: float = 0.25
    aug_max_seconds: float = 0.5
    pieces: int = 32
    seed: int = 0
    device: str = "auto"
    threads: int = 1
    checkpoint_every: int = 200
    dtype: str = "float16"

    def check(self) -> None:
        from ..datasets.synth import UNSEEN_PROGRAMS
        from ..datasets.translation_domains import get_domain
        from ..models.translation.umt_networks import SIZES

        if self.size not in SIZES:
            raise ConfigError(f"train umt: size must be one of {', '.join(SIZES)}, not {self.size!r}")
        if not self.domains or len(set(self.domains)) != len(self.domains):
            raise ConfigError(f"train umt: need distinct domains, got {self.domains}")
        if len(self.domains) < 2:
            raise ConfigError("train umt: domain confusion needs at least 2 domains")
        for name in self.domains:
            domain = get_domain(name)
            if not domain.synthetic:
                raise ConfigError(f"train umt: domain {name!r} is not synthetic (train on: piano, violin, flute, "
                                  "strings)")
            if domain.program in UNSEEN_PROGRAMS:
                raise ConfigError(f"train umt: domain {name!r} (GM {domain.program}) is the unseen domain of "
                                  "synth-unseen-clarinet-to-piano; training on it would make that task seen")
        for name in ("steps", "batch_per_domain", "aug_versions", "pieces", "threads", "checkpoint_every"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"train umt: {name} must be >= 1, not {getattr(self, name)}")
        if self.segment_seconds <= 0 or self.learning_rate <= 0 or self.grad_clip <= 0:
            raise ConfigError("train umt: segment_seconds, learning_rate and grad_clip must be > 0")
        if not 0 < self.lr_decay <= 1 or self.lambda_confusion < 0:
            raise ConfigError("train umt: lr_decay must be in (0, 1], lambda_confusion >= 0")
        if not 0 < self.aug_min_seconds <= self.aug_max_seconds < self.segment_seconds + 1e-9:
            raise ConfigError("train umt: need 0 < aug_min_seconds <= aug_max_seconds <= segment_seconds")
        if self.dtype not in ("float16", "float32"):
            raise ConfigError(f"train umt: dtype must be float16 or float32, not {self.dtype!r}")

    def network(self):
        from ..models.translation.umt_networks import SIZES

        return SIZES[self.size](list(self.domains))


@dataclass
class UMTTrainResult:
    weights_path: Path
    config_path: Path
    steps: int
    seconds: float
    bytes: int
    n_parameters: int
    config: dict[str, Any]


# ---- data ----------------------------------------------------------------------------------------
def training_pieces(n: int) -> list[dict[str, Any]]:
    """The train pieces ``0 .. n-1`` with their seeds and MIDI bytes, checked against held-out data.

    Raises
    ------
    BadInputError
        A train seed or score equals one of the validation or test split (cannot happen with
        the hashed seeds, but it is what makes the evaluation honest, so it is checked).
    """
    from ..datasets import synth, synth_pairs

    held_seeds: dict[int, str] = {}
    held_scores: dict[str, str] = {}
    for split in ("validation", "test"):
        for i in range(synth.SPLIT_SIZES[split]):
            iid = synth.item_id(synth_pairs.VARIANT, split, i)
            held_seeds[synth.item_seed(synth_pairs.VARIANT, split, i)] = iid
            held_scores[sha256_bytes(synth_pairs.score_midi(split, i))] = iid
    out = []
    for i in range(n):
        seed = synth.item_seed(synth_pairs.VARIANT, "train", i)
        iid = synth.item_id(synth_pairs.VARIANT, "train", i)
        if seed in held_seeds:
            raise BadInputError(f"train umt: train piece {iid} has the seed of held-out piece {held_seeds[seed]}")
        midi = synth_pairs.score_midi("train", i)
        digest = sha256_bytes(midi)
        if digest in held_scores:
            raise BadInputError(f"train umt: train piece {iid} has the score of held-out piece {held_scores[digest]}")
        out.append({"id": iid, "seed": seed, "midi": midi, "midi_sha256": digest})
    return out


def _cache_dir() -> Path:
    from ..paths import data_home

    return data_home() / "umt-train"


def load_training_audio(config: UMTTrainConfig, *, sample_rate: int, progress: bool = False,
                        cache: bool = True) -> tuple[dict[str, list[np.ndarray]], dict[str, list[np.ndarray]],
                                                     dict[str, Any]]:
    """Mu-law classes of every training clip per domain, their pitch-shifted versions, and provenance.

    Returns
    -------
    clean : dict domain -> list of uint8 arrays (n_i,)
    shifted : dict domain -> list of uint8 arrays (aug_versions, n_i)
    data : dict
        ``fingerprint`` (sha256 over the rendered WAV bytes, pieces, programs and shifts),
        ``pieces``, ``programs``, ``seconds``, ``sample_rate``, ``soundfont_sha256``.
    """
    import io

    from tqdm.auto import tqdm

    from ..audio import resample
    from ..datasets import synth, synth_pairs
    from ..datasets.translation_domains import get_domain
    from ..models.translation.umt_networks import mu_law_encode

    pieces = training_pieces(config.pieces)
    programs = {name: get_domain(name).program for name in config.domains}
    rng = np.random.default_rng([config.seed, 7919])
    shifts = rng.uniform(-config.aug_semitones, config.aug_semitones,
                         size=(len(config.domains), config.pieces, config.aug_versions)).round(4)
    key = hashlib.sha256(json.dumps({"pieces": [p["midi_sha256"] for p in pieces], "programs": programs,
                                     "sr": sample_rate, "shifts": shifts.tolist(), "augment": config.augment,
                                     "generator": synth.GENERATOR_VERSION}, sort_keys=True).encode()).hexdigest()
    cache_path = _cache_dir() / f"{key[:24]}.npz"
    if cache and cache_path.is_file():
        with np.load(cache_path, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
            clean = {d: [f[f"clean/{d}/{i}"] for i in range(config.pieces)] for d in config.domains}
            shifted = {d: [f[f"shifted/{d}/{i}"] for i in range(config.pieces)] for d in config.domains}
        return clean, shifted, meta
    import soundfile as sf

    clean: dict[str, list[np.ndarray]] = {d: [] for d in config.domains}
    shifted: dict[str, list[np.ndarray]] = {d: [] for d in config.domains}
    wav_hashes: dict[str, list[str]] = {d: [] for d in config.domains}
    seconds = {d: 0.0 for d in config.domains}
    specs = [(di, d, pi) for di, d in enumerate(config.domains) for pi in range(config.pieces)]
    notes_cache: dict[int, Any] = {}
    for di, d, pi in tqdm(specs, desc="umt: render train pieces", unit="clip", disable=not progress):
        if pi not in notes_cache:
            notes_cache[pi] = synth_pairs._notes_from_midi(pieces[pi]["midi"])
        wav = synth_pairs.render_wav(notes_cache[pi], programs[d])
        wav_hashes[d].append(sha256_bytes(wav))
        audio, sr = sf.read(io.BytesIO(wav), dtype="float32")
        audio = resample(audio, sr, sample_rate) if sr != sample_rate else audio
        seconds[d] += len(audio) / sample_rate
        clean[d].append(mu_law_encode(audio).astype(np.uint8))
        if config.augment:
            import librosa

            versions = [librosa.effects.pitch_shift(audio, sr=sample_rate, n_steps=float(s))[:len(audio)]
                        for s in shifts[di, pi]]
            shifted[d].append(np.stack([mu_law_encode(v).astype(np.uint8) for v in versions]))
        else:
            shifted[d].append(clean[d][-1][None])
    fingerprint = hashlib.sha256(json.dumps({"wav_sha256": wav_hashes, "shifts": shifts.tolist(),
                                             "sample_rate": sample_rate}, sort_keys=True).encode()).hexdigest()
    meta = {"source": "synth generator, variant piano, split train, rendered like synth-pairs",
            "generator_version": synth.GENERATOR_VERSION, "pieces": [p["id"] for p in pieces],
            "piece_seeds": [p["seed"] for p in pieces], "programs": programs,
            "seconds": {d: round(s, 3) for d, s in seconds.items()}, "sample_rate": sample_rate,
            "soundfont_sha256": synth._soundfont_sha256(), "fingerprint": fingerprint,
            "held_out_checked": "no train seed or score equals a validation or test piece",
            "pitch_shifts": shifts.tolist() if config.augment else None}
    if cache:
        arrays = {f"clean/{d}/{i}": a for d in config.domains for i, a in enumerate(clean[d])}
        arrays.update({f"shifted/{d}/{i}": a for d in config.domains for i, a in enumerate(shifted[d])})
        arrays["meta"] = np.array(json.dumps(meta))
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)
        os.replace(tmp, cache_path)
    return clean, shifted, meta


def draw_batch(clean: dict[str, list[np.ndarray]], shifted: dict[str, list[np.ndarray]], domains: list[str], *,
               rng: np.random.Generator, per_domain: int, length: int, augment: bool, aug_min: int,
               aug_max: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random segments: clean classes ``(B, length)``, augmented classes, domain labels ``(B,)``.

    The batch is ordered by domain (``per_domain`` rows each).
    """
    batch = len(domains) * per_domain
    x = np.zeros((batch, length), np.int64)
    x_aug = np.zeros((batch, length), np.int64)
    labels = np.repeat(np.arange(len(domains)), per_domain)
    for row in range(batch):
        d = domains[labels[row]]
        k = int(rng.integers(len(clean[d])))
        clip = clean[d][k]
        start = int(rng.integers(0, max(1, len(clip) - length + 1)))
        seg = clip[start:start + length].astype(np.int64)
        x[row, :len(seg)] = seg
        x[row, len(seg):] = 128  # silence
        x_aug[row] = x[row]
        if augment:
            part = int(rng.integers(aug_min, aug_max + 1))
            a = int(rng.integers(0, max(1, length - part + 1)))
            version = shifted[d][k][int(rng.integers(len(shifted[d][k])))]
            src = version[start + a:start + a + part].astype(np.int64)
            x_aug[row, a:a + len(src)] = src
    return x, x_aug, labels


# ---- training --------------------------------------------------------------------------------------
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
    import torch

    from ..device import resolve_device

    config.check()
    device_name = resolve_device(config.device)
    previous = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        return _train(config, output=Path(output).expanduser(), progress=progress, restart=restart,
                      say=log or (lambda message: None), device_name=device_name,
                      stem=name or f"umt-{config.size}", network=network)
    finally:
        torch.set_num_threads(previous)


def _lr(config: UMTTrainConfig, step: int) -> float:
    return config.learning_rate * config.lr_decay ** (step / LR_DECAY_EVERY)


def _train(config: UMTTrainConfig, *, output: Path, progress: bool, restart: bool, say: Callable[[str], None],
           device_name: str, stem: str, network: Any = None) -> UMTTrainResult:
    import torch
    import torch.nn.functional as F
    from tqdm.auto import tqdm

    from ..models.translation.umt_networks import UMT, count_parameters, grad_reverse

    net_cfg = network if network is not None else config.network()
    if list(net_cfg.domains) != list(config.domains):
        raise ConfigError(f"train umt: network domains {net_cfg.domains} differ from {config.domains}")
    sr = net_cfg.sample_rate
    clean, shifted, data = load_training_audio(config, sample_rate=sr, progress=progress)
    device = torch.device(device_name)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = UMT(net_cfg).to(device)
    ae_params = list(model.encoder.parameters()) + list(model.decoders.parameters())
    optimizer = torch.optim.Adam([{"params": ae_params}, {"params": model.classifier.parameters()}],
                                 lr=config.learning_rate)
    history: dict[str, list[float]] = {"recon": [], "confusion": [], "accuracy": []}
    step, seconds = 0, 0.0
    output.mkdir(parents=True, exist_ok=True)
    state_path = output / f"{stem}.state.pt"
    settings = asdict(config)
    resumable = {k: v for k, v in settings.items() if k not in ("steps", "device", "threads", "checkpoint_every")}
    resumable["network"] = net_cfg.to_dict()
    if state_path.is_file() and not restart:
        state = torch.load(state_path, map_location=device, weights_only=False)
        state["settings"].setdefault("network", config.network().to_dict())  # states written before it was recorded
        if state["settings"] != resumable:
            changed = sorted(k for k in resumable if state["settings"].get(k) != resumable[k])
            raise ConfigError(f"{state_path}: resume state was trained with other settings ({', '.join(changed)}); "
                              "pass --restart to start over")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        rng.bit_generator.state = state["np_rng"]
        torch.set_rng_state(state["torch_rng"])
        history, step, seconds = state["history"], int(state["step"]), float(state["seconds"])
        say(f"train umt: resuming {state_path} at step {step}")
    length = int(round(config.segment_seconds * sr))
    aug_min, aug_max = int(round(config.aug_min_seconds * sr)), int(round(config.aug_max_seconds * sr))
    say(f"train umt ({config.size}): domains {', '.join(config.domains)}; {config.pieces} train pieces per domain "
        f"({sum(data['seconds'].values()):.0f} s in all at {sr} Hz); {count_parameters(model)} parameters; "
        f"steps {step} -> {config.steps} on {device_name}, {config.threads} thread(s)")

    def save() -> tuple[Path, Path]:
        val = _validation_loss(model, config, sr, device)
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "np_rng": rng.bit_generator.state,
                    "torch_rng": torch.get_rng_state(), "history": history, "step": step, "seconds": seconds,
                    "settings": resumable}, state_path.with_suffix(".tmp"))
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
                             "validation": val, f"every_{every}_steps": curve},
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
        recon = 0.0
        b = config.batch_per_domain
        for j, decoder in enumerate(model.decoders):
            rows = slice(j * b, (j + 1) * b)
            recon = recon + F.cross_entropy(decoder(x_t[rows], z[rows]), x_t[rows])
        recon = recon / len(model.decoders)
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


def _validation_loss(model: Any, config: UMTTrainConfig, sr: int, device: Any) -> dict[str, float]:
    """Teacher-forced reconstruction loss and classifier accuracy on fixed validation segments
    (validation pieces 0-1, rendered in each domain; never trained on)."""
    import io

    import soundfile as sf
    import torch
    import torch.nn.functional as F

    from ..audio import resample
    from ..datasets import synth_pairs
    from ..datasets.translation_domains import get_domain
    from ..models.translation.umt_networks import mu_law_encode

    cache = getattr(_validation_loss, "_cache", {})
    key = (tuple(config.domains), sr, config.segment_seconds)
    if key not in cache:
        length = int(round(config.segment_seconds * sr))
        rows, labels = [], []
        for j, d in enumerate(config.domains):
            for i in range(2):
                notes = synth_pairs._notes_from_midi(synth_pairs.score_midi("validation", i))
                audio, r = sf.read(io.BytesIO(synth_pairs.render_wav(notes, get_domain(d).program)), dtype="float32")
                audio = resample(audio, r, sr)
                start = len(audio) // 3
                rows.append(mu_law_encode(audio[start:start + length]))
                labels.append(j)
        cache[key] = (np.stack(rows), np.array(labels))
        _validation_loss._cache = cache  # type: ignore[attr-defined]
    x, labels = cache[key]
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


def main_cli(args: Any) -> int:
    """``musebench train umt ...`` (see :mod:`musebench.cli.train`)."""
    from ..paths import results_home

    config = UMTTrainConfig(size=args.size, domains=[d.strip() for d in args.domains.split(",") if d.strip()],
                            steps=args.steps, seed=args.seed, device=args.device, threads=args.threads,
                            checkpoint_every=args.checkpoint_every, dtype=args.dtype)
    output = args.output or results_home(args.results_dir) / "checkpoints"
    result = train(config, output=output, progress=not args.no_progress, restart=args.restart,
                   log=None if args.json else print)
    if args.json:
        print(json.dumps(result.config, indent=2, sort_keys=True))
        return 0
    print(f"wrote {result.weights_path} ({result.bytes / 1e6:.2f} MB, {result.n_parameters} parameters) "
          f"and {result.config_path.name}")
    print(f"run it: musebench run --task synth-piano-to-violin --model umt "
          f"--param checkpoint={result.weights_path.with_suffix('')}")
    return 0
