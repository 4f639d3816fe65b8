"""Generation: models make audio; clips are scored one by one and as a set.

Two modes (task ``params.mode``):

``continuation``
    One item per test clip: the model gets its first ``seed_seconds`` and generates the next
    ``seconds``; the reference is the true continuation (what an oracle returns).
``unconditional``
    ``n_clips`` synthetic items ``clip-000``, ``clip-001``, ... of ``seconds`` each, generated
    without a seed; the reference set is the test split cut into consecutive ``seconds``-long
    clips (an oracle returns reference clip ``k mod n_reference``).

Per item the family writes ``predictions/<id>.wav`` (16-bit, the task's sample rate) and
scores descriptors, coherence and the memorization distance
(:func:`musebench.metrics.generation.evaluate`); :meth:`GenerationFamily.aggregate` adds the
set metrics: a Fréchet distance per embedding and the memorized ratio.

Models see ``context.params``: ``mode``, ``seconds``, ``seed_seconds`` and ``train_items``
(the training split's items, for models that need training data such as ``copy-train``).
Each call of ``generate`` asks for one clip (``n=1``) so that runs resume item by item.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, cast

import numpy as np

from ..audio import audio_info, load_audio, resample, write_audio
from ..datasets.base import Dataset
from ..errors import BadInputError, ConfigError, ModelError
from ..models.base import Context, GenerationModel, Model
from ..tasks import Task
from ..types import Item
from .base import Family, input_audio, model_call

MODES = ("continuation", "unconditional")
#: metric -> embedding for the built-in Fréchet metrics (others: frechet_<name> -> <name>)
DEFAULT_EMBEDDINGS = {"frechet_mfcc": "mfcc"}
#: a generated clip may be this many seconds shorter or longer than asked (then cut / zero-padded)
LENGTH_TOLERANCE = 0.05
PITCH_METRICS = ("pitch_salience", "seed_coherence", "continuation_correlation")
MEMORIZATION_METRICS = ("memorization_distance", "memorized_ratio")


@dataclass(frozen=True)
class Clip:
    """Mono audio and its sample rate (the prediction type of the generation family)."""

    audio: np.ndarray
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.audio) / float(self.sample_rate)


#: the isinstance check of a parameter, by its annotation (the dataclass's annotations are strings)
_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {"float": (int, float), "int": int, "str": str}


def _task_rate(task: Task) -> int:
    """The task's sample rate (every generation task sets one: see :meth:`GenerationParams.from_task`)."""
    if not task.sample_rate:
        raise ConfigError(f"task {task.name}: generation tasks must set sample_rate")
    return int(task.sample_rate)


@dataclass(frozen=True)
class GenerationParams:
    """The task parameters of a generation task, with their defaults (see docs/generation.md)."""

    mode: str = "continuation"
    seconds: float = 5.0
    seed_seconds: float = 3.0
    n_clips: int = 16
    train_split: str | None = "train"
    embeddings: dict[str, str] = field(default_factory=dict)
    window_seconds: float = 1.0
    hop_seconds: float = 0.25
    memorization_embedding: str = "mfcc"
    memorization_hop_seconds: float = 0.1
    threshold_factor: float = 0.5
    n_resamples: int = 200
    silence_db: float = -60.0
    clip_level: float = 0.999

    @classmethod
    def from_task(cls, task: Task) -> GenerationParams:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(task.params) - known)
        if unknown:
            raise ConfigError(f"task {task.name}: unknown generation parameter(s) {', '.join(unknown)} "
                              f"(known: {', '.join(sorted(known))})")
        p = cls(**task.params)
        for f in fields(cls):
            value, want = getattr(p, f.name), _FIELD_TYPES.get(str(f.type))
            if want and (isinstance(value, bool) or not isinstance(value, want)):
                raise ConfigError(f"task {task.name}: {f.name} must be {f.type}, not {value!r}")
        if p.mode not in MODES:
            raise ConfigError(f"task {task.name}: mode must be one of {', '.join(MODES)}, not {p.mode!r}")
        if p.seconds <= 0 or p.seed_seconds < 0 or p.n_clips < 1:
            raise ConfigError(f"task {task.name}: seconds and n_clips must be positive, seed_seconds >= 0")
        if p.mode == "continuation" and p.seed_seconds <= 0:
            raise ConfigError(f"task {task.name}: a continuation task needs seed_seconds > 0")
        _task_rate(task)  # must be set
        return p

    def embedding_for(self, metric: str) -> str:
        """The embedding that ``metric`` (``frechet_*``, ``frechet_inf_*``, ``kad_*``) is computed with;
        the three metrics of one embedding share it (``kad_mfcc`` -> the embedding of ``frechet_mfcc``)."""
        if metric in self.embeddings:
            return self.embeddings[metric]
        base = set_distance_base(metric)
        if base in self.embeddings:
            return self.embeddings[base]
        if base in DEFAULT_EMBEDDINGS:
            return DEFAULT_EMBEDDINGS[base]
        return base[len("frechet_"):].replace("_", "-")


def set_distance_base(metric: str) -> str:
    """``frechet_inf_mfcc`` and ``kad_mfcc`` -> ``frechet_mfcc``; a ``frechet_*`` name is its own base."""
    if metric.startswith("frechet_inf_"):
        return "frechet_" + metric[len("frechet_inf_"):]
    if metric.startswith("kad_"):
        return "frechet_" + metric[len("kad_"):]
    return metric


def _crop(audio: np.ndarray, start: int, length: int) -> np.ndarray:
    out = audio[start:start + length]
    if len(out) < length:
        out = np.concatenate([out, np.zeros(length - len(out), np.float32)])
    return np.asarray(out, dtype=np.float32)


class GenerationFamily(Family):
    name = "generation"
    prediction_suffix = ".wav"
    timeout_base_s = 300.0  # the first item also builds the training-set index the baselines read
    timeout_per_audio_s = 60.0  # per second generated (autoregressive frame by frame on a CPU)

    def check_task(self, task: Task) -> None:
        GenerationParams.from_task(task)

    def item_timeout(self, *, task: Task, item: Item) -> float:
        p = GenerationParams.from_task(task)
        return self.timeout_base_s + self.timeout_per_audio_s * (p.seconds + p.seed_seconds)

    def __init__(self) -> None:
        self._cache: dict[tuple, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        # sent to other processes (the Ray backend) without its caches (networks, audio)
        return {**self.__dict__, "_cache": {}}

    # ---- cached helpers -------------------------------------------------------------------
    def _cached(self, key: tuple, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @staticmethod
    def _dataset_key(dataset: Dataset) -> tuple:
        return (dataset.name, str(dataset.root), tuple(sorted((dataset.params or {}).items())))

    def _embedding(self, name: str, *, hop_seconds: float, window_seconds: float):
        from ..embeddings import get_embedding

        base = self._cached(("embedding", name), lambda: get_embedding(name))
        return self._cached(("embedding", name, window_seconds, hop_seconds),
                            lambda: base.with_windows(window_seconds=window_seconds, hop_seconds=hop_seconds))

    def _pitch(self):
        return self._embedding("basic-pitch", window_seconds=1.0, hop_seconds=0.5)

    def _posteriorgram(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        return self._pitch().posteriorgram(audio, sample_rate=sample_rate)

    def _item_audio(self, item: Item, sample_rate: int) -> np.ndarray:
        return self._cached(("audio", str(item.audio_path), sample_rate),
                            lambda: load_audio(input_audio(item), sample_rate=sample_rate)[0])

    def train_items(self, *, task: Task, dataset: Dataset) -> list[Item]:
        """The items of the task's training split (what memorization is checked against); none when
        the task sets ``train_split: null`` (a reference set without training data)."""
        p = GenerationParams.from_task(task)
        if p.train_split is None:
            return []
        dataset.check_split(p.train_split)
        return self._cached(("train_items", self._dataset_key(dataset), p.train_split),
                            lambda: dataset.items(p.train_split))

    def reference_clips(self, *, task: Task, dataset: Dataset) -> list[Clip]:
        """The reference set at the task's sample rate: true continuations, or test clips cut in pieces."""
        p = GenerationParams.from_task(task)
        sr = _task_rate(task)
        key = ("references", self._dataset_key(dataset), task.split, p.mode, p.seconds, p.seed_seconds, sr)

        def make() -> list[Clip]:
            n = int(round(p.seconds * sr))
            clips = []
            for item in dataset.items(task.split):
                audio = self._item_audio(item, sr)
                if p.mode == "continuation":
                    clips.append(Clip(_crop(audio, int(round(p.seed_seconds * sr)), n), sr))
                else:
                    for j in range(max(1, len(audio) // n)):
                        clips.append(Clip(_crop(audio, j * n, n), sr))
            return clips

        return self._cached(key, make)

    # ---- the family interface -------------------------------------------------------------
    def items(self, *, task: Task, dataset: Dataset) -> list[Item]:
        p = GenerationParams.from_task(task)
        if p.mode == "unconditional":
            return [Item(id=f"clip-{k:03d}", dataset=dataset.name, metadata={"duration": p.seconds, "index": k})
                    for k in range(p.n_clips)]
        items = dataset.items(task.split)
        need = p.seed_seconds + p.seconds
        for item in items:
            duration = item.metadata.get("duration")
            if duration is None:
                duration = audio_info(input_audio(item))[2]
            if float(duration) + 1e-6 < need:
                raise ConfigError(f"task {task.name}: item {item.id} lasts {float(duration):.2f} s, shorter than "
                                  f"seed {p.seed_seconds:g} s + continuation {p.seconds:g} s")
        return items

    def reference(self, *, task: Task, dataset: Dataset, item: Item) -> Clip:
        p = GenerationParams.from_task(task)
        sr = _task_rate(task)
        if p.mode == "continuation":
            audio = self._item_audio(item, sr)
            return Clip(_crop(audio, int(round(p.seed_seconds * sr)), int(round(p.seconds * sr))), sr)
        refs = self.reference_clips(task=task, dataset=dataset)
        return refs[int(item.metadata["index"]) % len(refs)]

    def predict(self, *, model: Model, task: Task, dataset: Dataset, item: Item, context: Context) -> Clip:
        p = GenerationParams.from_task(task)
        sr = int(model.sample_rate or _task_rate(task))
        seed_audio = None
        if p.mode == "continuation":
            seed_audio = self._item_audio(item, sr)[:int(round(p.seed_seconds * sr))].copy()
        context.params.update(mode=p.mode, seconds=p.seconds, seed_seconds=p.seed_seconds if seed_audio is not None
                              else 0.0, train_items=self.train_items(task=task, dataset=dataset))
        rng = np.random.default_rng(context.seed)
        with model_call(model, item):
            # duck-typed: a plugin need not subclass GenerationModel, only have generate()
            clips = cast(GenerationModel, model).generate(1, p.seconds, seed_audio=seed_audio, sample_rate=sr,
                                                          rng=rng, context=context)
        if not isinstance(clips, (list, tuple)) or len(clips) != 1:
            got = f"{len(clips)} clips" if isinstance(clips, (list, tuple)) else type(clips).__name__
            raise ModelError(f"item {item.id}: model {model.name} returned {got}, expected a list of 1 clip")
        from ..metrics.generation import validate

        try:
            audio = validate(clips[0], name=f"item {item.id}: model {model.name} output").astype(np.float32)
        except BadInputError as exc:
            raise ModelError(str(exc)) from None
        expected = int(round(p.seconds * sr))
        if abs(len(audio) - expected) > LENGTH_TOLERANCE * sr:
            raise ModelError(f"item {item.id}: model {model.name} returned {len(audio) / sr:.3f} s of audio, "
                             f"expected {p.seconds:g} s")
        audio = _crop(audio, 0, expected)
        rate = _task_rate(task)
        if sr != rate:
            audio = _crop(resample(audio, sr, rate), 0, int(round(p.seconds * rate)))
        return Clip(audio, rate)

    def prediction_seconds(self, prediction: Clip) -> float:
        return prediction.seconds  # the clip generated (its seed excluded)

    def save_prediction(self, prediction: Clip, path: Path) -> None:
        write_audio(path, prediction.audio, prediction.sample_rate)

    def load_prediction(self, path: Path) -> Clip:
        audio, sr = load_audio(path)
        return Clip(audio, sr)

    # ---- scoring --------------------------------------------------------------------------
    def memorization_index(self, *, task: Task, dataset: Dataset):
        """Training windows + threshold calibrated on the reference clips (cached)."""
        from ..metrics.generation import build_memorization_index

        p = GenerationParams.from_task(task)
        sr = _task_rate(task)
        key = ("memorization", self._dataset_key(dataset), task.split, p.mode, p.seconds, p.seed_seconds,
               p.train_split, p.memorization_embedding, p.window_seconds, p.memorization_hop_seconds,
               p.threshold_factor, sr)

        def make():
            emb = self._embedding(p.memorization_embedding, window_seconds=p.window_seconds,
                                  hop_seconds=p.memorization_hop_seconds)
            train = [emb.embed(self._item_audio(it, sr), sample_rate=sr)
                     for it in self.train_items(task=task, dataset=dataset)]
            calibration = [emb.embed(c.audio, sample_rate=sr) for c in self.reference_clips(task=task, dataset=dataset)]
            index = build_memorization_index(train, calibration, threshold_factor=p.threshold_factor)
            index.extra.update(embedding=p.memorization_embedding, hop_seconds=p.memorization_hop_seconds,
                               calibrated_on=f"{task.split} reference clips")
            return index

        return self._cached(key, make)

    def score(self, *, task: Task, dataset: Dataset, item: Item, prediction: Clip) -> dict[str, float]:
        from ..metrics import function_scores
        from ..metrics import generation as gm

        p = GenerationParams.from_task(task)
        wanted = set(task.metrics)
        sr = prediction.sample_rate
        if sr != task.sample_rate:
            raise BadInputError(f"item {item.id}: prediction is at {sr} Hz, the task at {task.sample_rate} Hz")
        kwargs: dict[str, Any] = {}
        if wanted & set(PITCH_METRICS):
            kwargs["posteriorgram"] = self._posteriorgram(prediction.audio, sr)
            if p.mode == "continuation":
                audio = self._item_audio(item, sr)
                seed = audio[:int(round(p.seed_seconds * sr))]
                reference = self.reference(task=task, dataset=dataset, item=item).audio
                if "seed_coherence" in wanted:
                    kwargs["seed_posteriorgram"] = self._cached(
                        ("seed_pg", str(item.audio_path), p.seed_seconds, sr), lambda: self._posteriorgram(seed, sr))
                if "continuation_correlation" in wanted:
                    kwargs["reference_posteriorgram"] = self._cached(
                        ("ref_pg", str(item.audio_path), p.seed_seconds, p.seconds, sr),
                        lambda: self._posteriorgram(reference, sr))
        scores = gm.evaluate(prediction.audio, sample_rate=sr, silence_db=p.silence_db, clip_level=p.clip_level,
                             **kwargs)
        if wanted & set(MEMORIZATION_METRICS):
            index = self.memorization_index(task=task, dataset=dataset)
            emb = self._embedding(p.memorization_embedding, window_seconds=p.window_seconds,
                                  hop_seconds=p.memorization_hop_seconds)
            scores["memorization_distance"] = gm.memorization_distance(emb.embed(prediction.audio, sample_rate=sr),
                                                                       index)
        return {**scores, **function_scores(task.metrics, audio=prediction.audio, sample_rate=sr)}

    def aggregate(self, *, task: Task, dataset: Dataset, items: list[Item], run_dir: Path,
                  ok_ids: list[str]) -> dict[str, dict[str, Any]]:
        import json

        from ..metrics import METRICS
        from ..metrics import generation as gm

        p = GenerationParams.from_task(task)
        sr = _task_rate(task)
        out: dict[str, dict[str, Any]] = {}
        distance_metrics = [m for m in task.metrics if m.startswith(("frechet_", "kad_"))
                            and METRICS.get(m).aggregate == "set"]
        if distance_metrics and ok_ids:
            generated = [self.load_prediction(run_dir / "predictions" / f"{i}{self.prediction_suffix}") for i in ok_ids]
            references = self.reference_clips(task=task, dataset=dataset)
            # which reference clip belongs with each generated clip (continuation: the same item;
            # unconditional: clip k <-> reference k when both sets are complete and equally large)
            positions = {it.id: k for k, it in enumerate(items)}
            pairs = [positions[i] for i in ok_ids] if p.mode == "continuation" else None
            if p.mode == "unconditional" and len(ok_ids) == len(references):
                pairs = list(range(len(references)))
            gen_embeddings: dict[str, list[np.ndarray]] = {}
            for metric in distance_metrics:
                name = p.embedding_for(metric)
                emb = self._embedding(name, window_seconds=p.window_seconds, hop_seconds=p.hop_seconds)
                if name not in gen_embeddings:  # frechet_, frechet_inf_ and kad_ of one embedding share it
                    gen_embeddings[name] = [emb.embed(c.audio, sample_rate=c.sample_rate) for c in generated]
                gen = gen_embeddings[name]
                ref = self._cached(("ref_emb", self._dataset_key(dataset), task.split, p.mode, p.seconds,
                                    p.seed_seconds, name, p.window_seconds, p.hop_seconds, sr),
                                   lambda emb=emb: [emb.embed(c.audio, sample_rate=c.sample_rate) for c in references])
                # the references compared: the same items' true continuations (paired), else the whole set
                compared = [ref[k] for k in pairs] if pairs is not None else ref
                floor = gm.real_floor(ref)
                scope = {"embedding": name, "reference_set": (
                    f"the true continuations of the same {len(compared)} items" if p.mode == "continuation"
                    else f"all {len(ref)} reference clips"), "floor_clips_per_half": floor["n_per_half"]}
                if metric.startswith("kad_"):
                    out[metric] = {**gm.kad(gen, compared, n_resamples=p.n_resamples, seed=0, paired=pairs is not None),
                                   "floor": floor["kad"], **scope}
                elif metric.startswith("frechet_inf_"):
                    inf = gm.frechet_inf(gen, compared, seed=0)
                    out[metric] = {"mean": inf["value"], "ci_low": None, "ci_high": None, "n": len(gen),
                                   **{k: v for k, v in inf.items() if k != "value"},
                                   "ci_method": "none (an extrapolation; see frechet_<embedding> for a CI)",
                                   "floor": floor["frechet"], **scope}
                else:
                    result = gm.frechet(gen, compared, n_resamples=p.n_resamples, seed=0, paired=pairs is not None)
                    per_clip = gm.per_clip_frechet(gen, compared)
                    out[metric] = {**result.to_json(), "floor": floor["frechet"], **scope,
                                   "per_clip": sorted(({"item": i, "distance": d} for i, d in zip(ok_ids, per_clip)),
                                                      key=lambda r: -r["distance"])}
        if "memorized_ratio" in task.metrics and ok_ids:
            distances = []
            for i in ok_ids:
                record = json.loads((run_dir / "items" / f"{i}.json").read_text())
                value = record.get("scores", {}).get("memorization_distance")
                if value is not None:
                    distances.append(float(value))
            if distances:
                index = self.memorization_index(task=task, dataset=dataset)
                out["memorized_ratio"] = {**gm.memorized_ratio(distances, threshold=index.threshold),
                                          **{k: v for k, v in index.summary().items() if k != "threshold"}}
        return out
