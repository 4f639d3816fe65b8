"""``umt``: the Universal Music Translation Network (Mor, Wolf, Polyak and Taigman, ICLR 2019,
arXiv:1805.07848) as a MuseBench translation model.

Translation (paper Sec. 3.4): the source audio, at the network's rate, is mu-law quantised and
encoded by the shared encoder; the target domain's WaveNet decoder generates new audio
conditioned on that latent. Because the encoder is shared, a source instrument never heard in
training can be translated (the ``synth-unseen-clarinet-to-piano`` task).

Generation is autoregressive and the cost of the model: it runs the queue ("fast WaveNet")
method of :class:`~musebench.models.translation.umt_networks.FastGenerator`, batched over
short segments of an item (and, through :meth:`UMTTranslator.translate_batch`, of several
items). Segment ``k`` covers ``[k*L - W, (k+1)*L)`` (``L`` = ``segment_seconds``, ``W`` =
``warmup_seconds``, both whole latent frames): the decoder starts from silence ``W`` before
its segment, conditioned on the latent there, so that it has settled into the note by the
segment start; the first ``W - F`` warm-up samples are dropped and the last
``F = crossfade_seconds`` are cross-faded linearly with the end of segment ``k - 1``. The
first segment starts at 0 (sources start in silence). Every item draws its random numbers from
its own generator (``context.seed``), so the output of an item does not depend on how items
are batched.

The shipped checkpoint is ``benchmark/data/checkpoints/umt-tiny.npz`` (+ ``.json`` with its
config, domains, training steps and data fingerprint); ``--param checkpoint=PATH`` evaluates
any checkpoint of the same format, its sha256 goes into results.json.

Domains: the target must be one of the checkpoint's decoders (else a one-line ``ConfigError``
naming them). The source need not be (that is the unseen-domain claim), but a source domain
the checkpoint was not trained on is only accepted when the item declares it unseen
(``metadata["unseen_source"]``, as synth-pairs' clarinet pair does) or with
``--param allow_unseen_source=true``; otherwise it is a one-line ``ConfigError`` naming the
checkpoint's domains, so that a mislabelled source does not pass silently.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ...errors import ConfigError, ModelError
from ..base import Context, TranslationModel
from ..checkpoints import CheckpointFormat, checkpoint_path
from ..torch_utils import torch_threads

SHIPPED = "umt-tiny"
#: The UMT checkpoints (written by :mod:`musebench.training.umt`).
CHECKPOINT = CheckpointFormat("musebench-umt/1", label="UMT checkpoint", hint="train one with `musebench train umt`")


class UMTTranslator(TranslationModel):
    """Universal Music Translation Network (shared encoder, one WaveNet decoder per domain).

    Parameters
    ----------
    device : str
        ``auto`` (CUDA when visible), ``cpu``, ``cuda`` or ``cuda:N``.
    checkpoint : str, optional
        Path of a UMT checkpoint (``.npz``, ``.json`` or their stem); default the shipped umt-tiny.
    temperature : float
        Softmax temperature of sampling (1 = the model's distribution, 0 = most likely class).
    segment_seconds : float
        Length of the segments generated in parallel.
    warmup_seconds : float
        Extra generation before each segment (dropped or cross-faded).
    crossfade_seconds : float
        Linear cross-fade between consecutive segments (at most warmup_seconds).
    max_batch : int
        Most segments generated at once.
    allow_unseen_source : bool
        Accept a source domain the checkpoint was not trained on even if the item does not declare it unseen.
    threads : int
        torch CPU threads while translating.
    """

    name: ClassVar[str] = "umt"
    sample_rate: int  # the checkpoint's (set in __init__; the harness resamples the source to it)
    version: ClassVar[str] = "1"
    description: ClassVar[str] = ("Universal Music Translation Network (Mor et al., ICLR 2019): shared WaveNet "
                                  "encoder with domain confusion, one WaveNet decoder per domain; shipped tiny "
                                  "8 kHz checkpoint trained here on synth piano/violin/flute/strings")

    def __init__(self, *, device: str = "auto", checkpoint: str | None = None, temperature: float = 1.0,
                 segment_seconds: float = 0.5, warmup_seconds: float = 0.1, crossfade_seconds: float = 0.01,
                 max_batch: int = 64, allow_unseen_source: bool = False, threads: int = 1):
        given = {"checkpoint": checkpoint, "temperature": temperature, "segment_seconds": segment_seconds,
                 "warmup_seconds": warmup_seconds, "crossfade_seconds": crossfade_seconds, "max_batch": max_batch,
                 "allow_unseen_source": allow_unseen_source}
        defaults = {"checkpoint": None, "temperature": 1.0, "segment_seconds": 0.5, "warmup_seconds": 0.1,
                    "crossfade_seconds": 0.01, "max_batch": 64, "allow_unseen_source": False}
        super().__init__(device=device, **{k: v for k, v in given.items() if v != defaults[k]})
        for key, value in (("temperature", temperature), ("warmup_seconds", warmup_seconds),
                           ("crossfade_seconds", crossfade_seconds)):
            if value < 0:
                raise ConfigError(f"model umt: {key} must be >= 0, not {value}")
        if segment_seconds <= 0:
            raise ConfigError(f"model umt: segment_seconds must be > 0, not {segment_seconds}")
        if crossfade_seconds > warmup_seconds:
            raise ConfigError(f"model umt: crossfade_seconds ({crossfade_seconds}) must not exceed warmup_seconds "
                              f"({warmup_seconds})")
        if max_batch < 1 or threads < 1:
            raise ConfigError("model umt: max_batch and threads must be >= 1")
        self.checkpoint = checkpoint_path(checkpoint, shipped=SHIPPED)
        self.config, self.files = CHECKPOINT.read_config(self.checkpoint)
        network = self.config.get("network") or {}
        self.domains: tuple[str, ...] = tuple(network.get("domains") or ())
        self.sample_rate = int(network["sample_rate"])
        self.temperature = float(temperature)
        self.segment_seconds, self.warmup_seconds = float(segment_seconds), float(warmup_seconds)
        self.crossfade_seconds = float(crossfade_seconds)
        self.max_batch, self.threads = int(max_batch), int(threads)
        self.allow_unseen_source = bool(allow_unseen_source)
        self._net: Any = None
        self._generators: dict[int, Any] = {}

    # -- provenance -------------------------------------------------------------------------
    def weights_files(self) -> list[Path]:
        return self.files.weights_files()

    def info(self) -> dict[str, Any]:
        out = super().info()
        training = self.config.get("training", {})
        out["settings"] = {"checkpoint": str(self.checkpoint), "temperature": self.temperature,
                           "segment_seconds": self.segment_seconds, "warmup_seconds": self.warmup_seconds,
                           "crossfade_seconds": self.crossfade_seconds, "sample_rate": self.sample_rate}
        out["checkpoint"] = {"size": self.config.get("size"), "domains": list(self.domains),
                             "network": self.config.get("network"),
                             "data_fingerprint": (self.config.get("data") or {}).get("fingerprint"),
                             "training": {k: training.get(k) for k in ("steps", "seconds", "final", "validation",
                                                                       "seed", "device")}}
        return out

    # -- loading ----------------------------------------------------------------------------
    def load(self) -> None:
        import torch

        from .umt_networks import UMT, UMTConfig

        arrays, config, path = CHECKPOINT.load(self.checkpoint)
        try:
            net = UMT(UMTConfig.from_dict(config["network"]))
            net.load_state_dict({k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in arrays.items()})
        except (KeyError, ValueError, RuntimeError, TypeError) as exc:
            raise ModelError(f"{path}: weights do not fit the UMT network of its config "
                             f"({str(exc).splitlines()[0]})") from None
        self._net = net.eval().to(self.device)
        self._generators = {}

    # -- domains ----------------------------------------------------------------------------
    def check_domains(self, target_domain: str, context: Context | None) -> int:
        """Index of the target decoder; raises ConfigError for an unknown target or an undeclared unseen source."""
        have = ", ".join(self.domains)
        if target_domain not in self.domains:
            raise ConfigError(f"model umt: checkpoint {self.checkpoint.name} has no decoder for target domain "
                              f"{target_domain!r} (it has: {have})")
        item = context.item if context is not None else None
        if item is None:  # nothing declares a source domain
            return self.domains.index(target_domain)
        meta = item.metadata
        source = meta.get("source_domain")
        if (source is not None and source not in self.domains and not meta.get("unseen_source")
                and not self.allow_unseen_source):
            raise ConfigError(f"model umt: source domain {source!r} of item {item.id} is not one checkpoint "
                              f"{self.checkpoint.name} was trained on (it has: {have}) and the item does not declare "
                              "it unseen; pass --param allow_unseen_source=true to translate it anyway")
        return self.domains.index(target_domain)

    # -- translation ------------------------------------------------------------------------
    def translate(self, audio: np.ndarray, *, sample_rate: int, target_domain: str,
                  context: Context) -> tuple[np.ndarray, int]:
        """Translate one item; returns ``(audio, network rate)`` (the harness resamples for scoring)."""
        return self.translate_batch([audio], sample_rate=sample_rate, target_domains=[target_domain],
                                    contexts=[context])[0]

    def translate_batch(self, audios: list[np.ndarray], *, sample_rate: int, target_domains: list[str],
                        contexts: list[Context | None]) -> list[tuple[np.ndarray, int]]:
        """Translate several items at once: their segments share the generation batches."""

        targets = [self.check_domains(t, c) for t, c in zip(target_domains, contexts)]
        if self._net is None:
            self.load()
        sources = []
        for audio in audios:
            x = np.asarray(audio, dtype=np.float32).reshape(-1)
            if sample_rate != self.sample_rate:
                from ...audio import resample

                x = resample(x, sample_rate, self.sample_rate)
            if len(x) == 0:
                raise ModelError("model umt: empty source audio")
            sources.append(x)
        seeds = [int(c.seed) if c is not None else 0 for c in contexts]
        with torch_threads(self.threads):
            outs = self._translate(sources, targets, seeds)
        return [(o, self.sample_rate) for o in outs]

    def _plan(self, n: int) -> tuple[int, int, int, list[tuple[int, int]]]:
        """Segment length, warm-up and cross-fade in samples, and ``(start, end)`` of each segment."""
        pool = self._net.cfg.pool
        seg = max(1, int(round(self.segment_seconds * self.sample_rate / pool))) * pool
        warm = int(round(self.warmup_seconds * self.sample_rate / pool)) * pool
        fade = min(int(round(self.crossfade_seconds * self.sample_rate)), warm)
        n_pad = -(-n // pool) * pool
        spans = [(max(0, k * seg - warm), min((k + 1) * seg, n_pad)) for k in range(-(-n_pad // seg))]
        return seg, warm, fade, spans

    def _translate(self, sources: list[np.ndarray], targets: list[int], seeds: list[int]) -> list[np.ndarray]:
        import torch

        from .umt_networks import FastGenerator, mu_law_decode, mu_law_encode

        net = self._net
        pool = net.cfg.pool
        device = torch.device(self.device)
        jobs = []  # (item, segment index, start, end, decoder, latent frames, uniforms)
        plans = []
        with torch.no_grad():
            for i, (x, target, seed) in enumerate(zip(sources, targets, seeds)):
                seg, warm, fade, spans = self._plan(len(x))
                plans.append((seg, warm, fade, spans))
                n_pad = spans[-1][1]
                classes = np.full(n_pad, 128, np.int64)
                classes[:len(x)] = mu_law_encode(x)
                z = net.encoder(torch.from_numpy(classes[None]).to(device))[0]  # (latent, frames)
                width = seg + warm
                gen = torch.Generator().manual_seed(int(seed) % (2 ** 63))
                uniforms = torch.rand(len(spans), width, generator=gen)
                for k, (start, end) in enumerate(spans):
                    f0 = start // pool
                    frames = z[:, f0:f0 + width // pool]
                    if frames.shape[1] < width // pool:  # past the end: repeat the last frame
                        frames = torch.cat([frames, frames[:, -1:].repeat(1, width // pool - frames.shape[1])], 1)
                    jobs.append((i, k, start, end, target, frames, uniforms[k]))
            generated: dict[tuple[int, int], np.ndarray] = {}
            for target in sorted(set(targets)):
                if target not in self._generators:
                    self._generators[target] = FastGenerator(net.decoders[target])
                mine = [j for j in jobs if j[4] == target]
                for b0 in range(0, len(mine), self.max_batch):
                    chunk = mine[b0:b0 + self.max_batch]
                    width = max(j[5].shape[1] for j in chunk) * pool
                    z = torch.stack([j[5] for j in chunk]).to(device)
                    u = torch.stack([j[6] for j in chunk]).to(device)
                    out = self._generators[target].generate(z, width, uniform=u, temperature=self.temperature)
                    audio = mu_law_decode(out.cpu().numpy())
                    for j, a in zip(chunk, audio):
                        generated[(j[0], j[1])] = a[:j[3] - j[2]]
        results = []
        for i, x in enumerate(sources):
            seg, warm, fade, spans = plans[i]
            out = np.zeros(spans[-1][1], np.float32)
            for k, (start, end) in enumerate(spans):
                a = generated[(i, k)]
                if k == 0:
                    out[start:end] = a
                    continue
                boundary = k * seg
                if fade:
                    ramp = (np.arange(1, fade + 1, dtype=np.float32) / (fade + 1))
                    lo = boundary - fade
                    out[lo:boundary] = out[lo:boundary] * (1 - ramp) + a[lo - start:boundary - start] * ramp
                out[boundary:end] = a[boundary - start:]
            results.append(np.clip(out[:len(x)], -1.0, 1.0).astype(np.float32))
        return results
