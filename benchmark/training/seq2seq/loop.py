"""The training loop of the seq2seq transcribers.

Every step draws ``batch_size`` segments of ``segment_steps`` frames at random offsets from a
pool of rendered pieces (``pool_pieces``; ``refresh_pieces`` of them are replaced by freshly
generated ones every step, so that the model keeps seeing new music), with a random gain;
the targets are the segment's tokens with their tie section (teacher forcing, cross-entropy).
AdamW with linear warm-up and cosine decay, gradient clipping. Every ``validate_every`` steps
the validation pieces are transcribed end to end (segments, greedy decoding, ties) and scored
with :func:`musebench.metrics.transcription.evaluate`; the best checkpoint by the primary
score (seq2seq-piano: ``onset_f1``, mt3: ``multi_instrument_f1``) is exported as
``<out>/<model>-<size>.{npz,json}`` and the latest as ``<model>-<size>-last``. Every
``checkpoint_every`` steps a resumable state (weights, optimizer, RNG, pool indices, history)
is written to ``<model>-<size>.resume.pt``; rerunning the same command continues from it.
"""
from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import ConfigError
from ...models.torch_utils import torch_threads
from ..report import parent_record
from ..settings import unknown_keys
from . import Seq2SeqTrainConfig

if TYPE_CHECKING:
    from ...models.transcription.seq2seq.network import NetConfig

PRIMARY = {"seq2seq-piano": "onset_f1", "mt3": "multi_instrument_f1"}
REPORTED = ("onset_f1", "onset_offset_f1", "onset_velocity_f1", "frame_f1", "multi_instrument_f1",
            "multi_instrument_f1_flat", "drum_onset_f1")


@dataclass
class TrainResult:
    weights_path: Path
    config_path: Path
    steps: int
    seconds: float
    best: dict[str, Any]
    n_parameters: int


def lr_at(step: int, c: Seq2SeqTrainConfig, elapsed: float = 0.0) -> float:
    """Linear warm-up to ``learning_rate``, then cosine decay to ``final_lr_fraction`` of it
    (over the steps, or over ``max_minutes`` of training time if that ends sooner)."""
    if c.warmup_steps and step < c.warmup_steps:
        return c.learning_rate * (step + 1) / c.warmup_steps
    span = max(1, c.steps - c.warmup_steps)
    progress = min(1.0, (step - c.warmup_steps) / span)
    if c.max_minutes:
        progress = max(progress, min(1.0, elapsed / (60.0 * c.max_minutes)))
    floor = c.final_lr_fraction
    return c.learning_rate * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


def make_vocabulary(c: Seq2SeqTrainConfig):
    from ...models.transcription.seq2seq.vocabulary import mt3_vocabulary, piano_vocabulary

    if c.kind == "mt3":
        return mt3_vocabulary(segment_steps=c.segment_steps)
    return piano_vocabulary(segment_steps=c.segment_steps, num_velocity_bins=c.num_velocity_bins)


def make_net_config(c: Seq2SeqTrainConfig, vocab_size: int) -> NetConfig:
    """The network of ``c.size``, with what ``c.extra["network"]`` overrides (unknown keys refused)."""
    from ...models.transcription.seq2seq.network import SIZES, NetConfig

    overrides = c.extra.get("network", {})
    if not isinstance(overrides, dict):
        raise ConfigError(f"{c.where}: extra network settings must be a mapping, not {overrides!r}")
    unknown_keys(c.where, overrides, [f.name for f in fields(NetConfig) if f.name != "vocab_size"],
                 what="network setting")
    return NetConfig(vocab_size=vocab_size, **{**SIZES[c.size], **overrides})


class Pool:
    """Rendered pieces as (log mel frames, quantised note rows), refreshed with new pieces."""

    def __init__(self, source, vocab, n_mels: int, size: int):
        self.source, self.vocab, self.n_mels, self.size = source, vocab, n_mels, size
        self.entries: list[tuple[Any, np.ndarray, str]] = []
        self.next_index = 0
        self.seconds = 0.0

    def _render_next(self):
        from ...models.transcription.seq2seq.network import log_mel

        while True:
            if self.next_index >= len(self.source):
                raise ConfigError(f"seq2seq training: all {len(self.source)} pieces used; raise --extra-pieces")
            piece = self.source.piece(self.next_index)
            self.next_index += 1
            if piece is not None:
                break
        self.seconds += len(piece.audio) / 16000
        return log_mel(piece.audio, self.n_mels), self.vocab.quantise(piece.notes), piece.name

    def fill(self, indices: list[int] | None = None) -> None:
        """Fill to ``size`` (or rebuild exactly the given piece indices after a resume)."""
        if indices is not None:
            saved = self.next_index
            self.entries = []
            for i in indices:
                self.next_index = i
                self.entries.append(self._render_next())
            self.next_index = saved
            return
        while len(self.entries) < self.size:
            self.entries.append(self._render_next())

    def refresh(self, n: int, rng: np.random.Generator) -> None:
        for _ in range(n):
            self.entries[int(rng.integers(len(self.entries)))] = self._render_next()

    def indices(self) -> list[int]:
        out = []
        for _, _, name in self.entries:
            split, i = name.split("/")
            out.append(int(i) if split == "train" else self.source.n_train + int(i))
        return out


def make_batch(pool: Pool, vocab, rng: np.random.Generator, *, batch_size: int, gain_db: float):
    """(frames (B, S, mels), decoder input (B, L), targets (B, L) with -100 padding)."""
    import torch

    from ...models.transcription.seq2seq.inference import segment_frames
    from ...models.transcription.seq2seq.network import LOG_EPS
    from ...models.transcription.seq2seq.vocabulary import PAD

    S = vocab.segment_steps
    frames, seqs = [], []
    floor = math.log(LOG_EPS)
    for _ in range(batch_size):
        mel, rows, _ = pool.entries[int(rng.integers(len(pool.entries)))]
        n = mel.shape[0]
        start = int(rng.integers(0, max(1, n - S // 4)))
        seg = segment_frames(mel[start:start + S], S)[0]
        if gain_db:
            g = float(rng.uniform(-gain_db, gain_db)) * math.log(10) / 10  # power gain in natural log
            seg = torch.clamp(seg + g, min=floor)
        frames.append(seg)
        seqs.append(vocab.encode_segment(rows, start))
    length = max(len(s) for s in seqs)
    target = torch.full((batch_size, length), -100, dtype=torch.long)
    dec_in = torch.full((batch_size, length), PAD, dtype=torch.long)
    for b, s in enumerate(seqs):
        t = torch.tensor(s, dtype=torch.long)
        target[b, :len(s)] = t
        dec_in[b, 1:len(s)] = t[:-1]
    return torch.stack(frames), dec_in, target


def token_map(source, target) -> dict[int, int]:
    """target id -> source id for the events both vocabularies have (special tokens, shifts,
    pitches, velocities -- a velocity bin maps to the source bin of the same velocity --, tie,
    programs, drums)."""
    from ...models.transcription.seq2seq.vocabulary import NUM_SPECIAL, bin_to_velocity, velocity_to_bin

    out = {i: i for i in range(NUM_SPECIAL)}
    source_types = {name for name, _, _ in source.ranges}
    for t in range(NUM_SPECIAL, target.size):
        kind, value = target.event(t)
        if kind not in source_types:
            continue
        if kind == "velocity":
            value = velocity_to_bin(bin_to_velocity(value, target.num_velocity_bins), source.num_velocity_bins)
        if kind == "shift" and value > source.segment_steps:
            continue
        out[t] = source.token(kind, value)
    return out


def init_from(net, vocab, path) -> tuple[int, dict[str, Any]]:
    """Copy the weights of a checkpoint into ``net`` where the shapes fit; token embeddings and
    output rows of shared events are copied row by row (:func:`token_map`). Returns the tensors
    touched and the parent's :func:`parent_record`."""
    import torch

    from ...models.transcription.seq2seq.checkpoint import CHECKPOINT
    from ...models.transcription.seq2seq.vocabulary import Vocabulary

    arrays, meta, _ = CHECKPOINT.load(path)
    source = Vocabulary.from_dict(meta["vocabulary"])
    mapping = token_map(source, vocab)
    own = net.state_dict()
    touched = 0
    for k, v in arrays.items():
        if k not in own:
            continue
        w = torch.from_numpy(np.asarray(v, np.float32))
        if tuple(own[k].shape) == tuple(w.shape):
            own[k] = w
            touched += 1
        elif k in ("embed.weight", "logits.weight") and w.shape[1:] == own[k].shape[1:]:
            rows = own[k].clone()
            for t, s in mapping.items():
                rows[t] = w[s]
            own[k] = rows
            touched += 1
    net.load_state_dict(own)
    training = meta.get("training", {})
    return touched, parent_record(meta, path, pieces_rendered=training.get("pieces_rendered"),
                                  learning_rate=training.get("config", {}).get("learning_rate"),
                                  best=training.get("best"))


def validate(net, vocab, pieces, *, device: str, batch_size: int = 32, max_tokens: int = 512) -> dict[str, float]:
    """Mean scores over validation pieces (transcribed end to end)."""
    import warnings

    from ...metrics.transcription import evaluate
    from ...models.transcription.seq2seq.inference import transcribe_many

    was_training = net.training
    est, stats = transcribe_many(net, vocab, [p.audio for p in pieces], batch_size=batch_size, device=device,
                                 max_tokens=max_tokens)
    net.train(was_training)
    sums: dict[str, list[float]] = {}
    for p, e in zip(pieces, est):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores = evaluate(p.notes, e)
        for k in REPORTED:
            if k in scores:
                sums.setdefault(k, []).append(float(scores[k]))
    out = {k: round(float(np.mean(v)), 6) for k, v in sums.items()}
    out.update({"n_est_notes": int(sum(len(e) for e in est)), "n_ref_notes": int(sum(len(p.notes) for p in pieces)),
                "invalid_tokens": stats["invalid"], "truncated_segments": stats["truncated"]})
    return out


def train(config: Seq2SeqTrainConfig, *, out: str | os.PathLike, progress: bool = True,
          log: Callable[[str], None] | None = None) -> TrainResult:
    """Train (or resume) and export the best checkpoint; see the module docstring."""

    from ...device import resolve_device

    config.check()
    device = resolve_device(config.device)
    with torch_threads(config.threads):
        return _train(config, out=Path(out), progress=progress, say=log or (lambda m: None), device=device)


def _fingerprint(config: Seq2SeqTrainConfig) -> dict[str, Any]:
    from ...datasets import synth
    from ...datasets.synth import SynthDataset
    from ...io_utils import canonical_json, sha256_bytes

    ds = SynthDataset(variant=config.variant)
    desc = {"generator": "musebench.datasets.synth", "generator_version": synth.GENERATOR_VERSION,
            "variant": config.variant, "train_split_fingerprint": ds.fingerprint("train"),
            "validation_split_fingerprint": ds.fingerprint("validation"),
            "extra_split": "seq2seq-extra", "extra_pieces_allowed": config.extra_pieces,
            "order": "train/0..31, then seq2seq-extra/0.. in order, each rendered once"}
    desc["sha256"] = sha256_bytes(canonical_json(desc).encode())
    return desc


def _train(config: Seq2SeqTrainConfig, *, out: Path, progress: bool, say: Callable[[str], None],
           device: str) -> TrainResult:
    import torch
    from tqdm.auto import tqdm

    from ...models.checkpoints import resolve
    from ...models.transcription.seq2seq.checkpoint import CHECKPOINT
    from ...models.transcription.seq2seq.network import Seq2SeqNet
    from .data import PieceSource, check_disjoint, validation_pieces

    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{config.model}-{config.size}"
    resume_path = stem.with_name(stem.name + ".resume.pt")
    vocab = make_vocabulary(config)
    net_config = make_net_config(config, vocab.size)
    disjoint = check_disjoint(config.variant, config.extra_pieces)
    source = PieceSource(config.variant, n_extra=config.extra_pieces)
    torch.manual_seed(config.seed)
    net = Seq2SeqNet(net_config, shift_ids=vocab.shift_ids(), steps_per_frame=net_config.frame_stack)
    n_params = sum(p.numel() for p in net.parameters())
    decay = [p for n, p in net.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in net.named_parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=config.learning_rate, betas=(0.9, 0.98))
    rng = np.random.default_rng(config.seed)
    pool = Pool(source, vocab, net_config.n_mels, config.pool_pieces)
    history: list[dict[str, Any]] = []
    validations: list[dict[str, Any]] = []
    step, elapsed = 0, 0.0
    best: dict[str, Any] = {}
    parent: dict[str, Any] | None = None
    if resume_path.is_file():
        state = torch.load(resume_path, map_location="cpu", weights_only=False)
        free = ("steps", "max_minutes", "threads", "device", "validate_every", "checkpoint_every")
        if {k: v for k, v in state["config"].items() if k not in free} != \
                {k: v for k, v in config.to_dict().items() if k not in free}:
            raise ConfigError(f"{resume_path}: resume state was written with other settings; "
                              "use another --out or delete it")
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        rng.bit_generator.state = state["rng"]
        torch.set_rng_state(state["torch_rng"])
        step, elapsed = state["step"], state["seconds"]
        history, validations, best = state["history"], state["validations"], state["best"]
        parent = state.get("parent")
        pool.next_index = state["next_index"]
        pool.seconds = state["pool_seconds"]
        say(f"resuming {resume_path} at step {step}")
        pool.fill(state["pool_indices"])
    else:
        if config.init_from:
            loaded, parent = init_from(net, vocab, config.init_from)
            say(f"initialised {loaded} tensors from {config.init_from} "
                f"(sha256 {str(parent['weights_sha256'])[:12]}, {parent['steps']} steps)")
        pool.fill()
        # per-bin standardisation from the synth train split's pieces
        mels = torch.cat([m for m, _, name in pool.entries if name.startswith("train/")] or
                         [m for m, _, _ in pool.entries], 0)
        net.mel_mean.copy_(mels.mean(0))
        net.mel_std.copy_(mels.std(0).clamp(min=1e-3))
    net.to(device)
    for group in opt.state.values():
        for k, v in group.items():
            if torch.is_tensor(v):
                group[k] = v.to(device)
    val = validation_pieces(config.variant, config.validation_items)
    data_desc = _fingerprint(config) | {"disjointness": disjoint}
    primary = PRIMARY[config.model]

    def export(path_stem: Path) -> tuple[Path, Path]:
        meta = {"model": config.model, "size": config.size, "vocabulary": vocab.to_dict(),
                "network": net_config.to_dict(),
                "features": {"sample_rate": 16000, "hop": 160, "n_fft": 2048, "fmin": 20.0, "log_eps": 1e-5,
                             "normalisation": "per-bin mean/std of the synth train split (mel_mean, mel_std)"},
                "training": {"config": config.to_dict(), "steps": step, "seconds": round(elapsed, 1),
                             "device": device, "torch": torch.__version__, "machine": platform.processor() or
                             platform.machine(), "n_parameters": n_params,
                             "pieces_rendered": pool.next_index, "audio_hours_rendered": round(pool.seconds / 3600, 3),
                             "rejected_pieces": source.rejected, "data": data_desc,
                             "validation": validations, "best": best, "loss_curve": history,
                             **({"parent": parent} if parent else {})}}
        return CHECKPOINT.save(path_stem, arrays=net.state_dict(), config=meta)

    def save_resume() -> None:
        tmp = resume_path.with_name(resume_path.name + ".tmp")
        torch.save({"config": config.to_dict(), "net": net.state_dict(), "opt": opt.state_dict(),
                    "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(), "step": step,
                    "seconds": elapsed, "history": history, "validations": validations, "best": best,
                    "parent": parent, "next_index": pool.next_index, "pool_seconds": pool.seconds,
                    "pool_indices": pool.indices()}, tmp)
        os.replace(tmp, resume_path)

    def run_validation() -> None:
        nonlocal best
        scores = validate(net, vocab, val, device=device, max_tokens=int(config.extra.get("validation_max_tokens", 512)))
        validations.append({"step": step, "seconds": round(elapsed, 1), **scores})
        say(f"step {step}: validation " + " ".join(f"{k}={v}" for k, v in scores.items()))
        if not best or scores.get(primary, 0.0) >= best.get(primary, -1.0):
            best = {"step": step, **scores}
            export(stem)
        export(stem.with_name(stem.name + "-last"))

    say(f"{config.model} ({config.size}): {n_params / 1e6:.2f} M parameters, vocabulary {vocab.size}, "
        f"{config.batch_size} segments of {vocab.segment_seconds:g} s per step, device {device}, "
        f"{config.threads} thread(s)")
    net.train()
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100, label_smoothing=config.label_smoothing)
    bar = tqdm(total=config.steps, initial=step, desc=f"train {config.model}", unit="step", disable=not progress,
               dynamic_ncols=True)
    running = None
    window_tokens = 0

    def out_of_time() -> bool:
        return config.max_minutes is not None and config.max_minutes > 0 and elapsed >= 60.0 * config.max_minutes

    while step < config.steps and not out_of_time():
        t0 = time.perf_counter()
        for g in opt.param_groups:
            g["lr"] = lr_at(step, config, elapsed)
        frames, dec_in, target = make_batch(pool, vocab, rng, batch_size=config.batch_size, gain_db=config.gain_db)
        frames, dec_in, target = frames.to(device), dec_in.to(device), target.to(device)
        with torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16,
                            enabled=config.precision == "bf16"):
            logits = net(frames, dec_in)
        loss = loss_fn(logits.float().reshape(-1, logits.shape[-1]), target.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), config.grad_clip)
        opt.step()
        pool.refresh(config.refresh_pieces, rng)
        step += 1
        elapsed += time.perf_counter() - t0
        value = float(loss.detach())
        window_tokens += int((target != -100).sum())
        running = value if running is None else 0.98 * running + 0.02 * value
        bar.update(1)
        bar.set_postfix(loss=f"{value:.3f}", avg=f"{running:.3f}", lr=f"{lr_at(step, config, elapsed):.2e}")
        if step % 10 == 0:
            history.append({"step": step, "loss": round(running, 5), "seconds": round(elapsed, 1)})
        if not progress and step % 50 == 0:
            say(f"step {step}: loss {value:.4f} (running {running:.4f}), lr {lr_at(step, config, elapsed):.2e}, "
                f"{elapsed / 60:.1f} min, {pool.next_index} pieces rendered")
        last = step == config.steps or out_of_time()
        if step % config.validate_every == 0 or last:
            run_validation()
        if step % config.checkpoint_every == 0 or last:
            save_resume()
    bar.close()
    if not validations or validations[-1]["step"] != step:
        run_validation()
    weights, cfg = resolve(stem)
    return TrainResult(weights_path=weights, config_path=cfg, steps=step, seconds=elapsed, best=best,
                       n_parameters=n_params)
