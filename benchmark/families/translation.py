"""Translation: source audio -> audio in a target domain, scored against the source (content),
the paired reference (timbre) and the target domain (distribution).

Task parameters (``params`` in the task YAML)
---------------------------------------------
``target_domain`` (required)
    A domain of :mod:`musebench.datasets.translation_domains`; handed to the model.
``source_domain``
    For unpaired tasks: the domain list whose ``held_out[<split>]`` recordings are translated.
    Paired tasks (``synth-pairs``) take every item of the split.
``radius``
    fastdtw radius (default 2).
``features``
    Overrides of :class:`musebench.metrics.translation.FeatureConfig` (``sample_rate`` is the
    task's).
``judge``, ``judge_params``
    The transcription model behind ``pitch_accuracy`` (default ``basic-pitch``, no parameters).
``source_notes``
    ``dataset`` (default: the dataset's notes of the item) or ``judge`` (the judge's
    transcription of the source, for data without notes).
``onset_tolerance``, ``pitch_tolerance``
    For ``pitch_accuracy`` (default 0.05 s, 50 cents).
``max_item_figures``
    Per-item figures drawn at the end of a run (default 16).

Model output handling (recorded per item, next to the scores)
-------------------------------------------------------------
A model returns mono float32 at the rate it was given, or ``(audio, sample_rate)``; 2-D audio
is ``(frames, channels)`` (or ``(channels, frames)`` when it has at most 8 rows and more
columns). The prediction is written as it came (16-bit WAV, samples beyond +-1 clipped).
Scoring then:

* mixes multi-channel output down to mono (mean of the channels): ``output_channels`` records
  the count;
* resamples output at another rate to the task's (soxr HQ): ``output_resampled`` = 1;
* compares outputs of another length frame by frame on the common timeline, the missing
  frames counting as silence (the DTW scores align them): ``output_length_ratio`` records
  output/source duration;
* scores silent output (no frame within 60 dB of its peak above -100 dBFS) as documented in
  :mod:`musebench.metrics.translation` -- correlations 0, pitch accuracy 0 -- with
  ``output_silent`` = 1;
* fails the item with a one-line :class:`ModelError` for NaN/inf samples, empty or
  non-numeric output;
* a task whose ``target_domain`` is not defined, or a model whose ``domains`` attribute does
  not include it, is a :class:`ConfigError` naming the domain.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from ..audio import load_audio, resample, to_mono, write_audio
from ..datasets.base import Dataset
from ..errors import ConfigError, MissingDataError, ModelError
from ..models.base import Context, Model, TranslationModel
from ..tasks import Task
from ..types import Item, Notes
from .base import Family, input_audio, model_call, one_line

DEFAULT_MAX_FIGURES = 16
_KNOWN_PARAMS = {"target_domain", "source_domain", "radius", "features", "judge", "judge_params", "source_notes",
                 "onset_tolerance", "pitch_tolerance", "max_item_figures"}


@dataclass
class TranslationOutput:
    """A model's output audio: (n,) or (n, channels) float32 at ``sample_rate``."""

    audio: np.ndarray
    sample_rate: int

    @property
    def channels(self) -> int:
        return 1 if self.audio.ndim == 1 else int(self.audio.shape[1])

    @property
    def seconds(self) -> float:
        return len(self.audio) / self.sample_rate


def check_output(raw: Any, *, sample_rate: int, name: str) -> TranslationOutput:
    """Validate what a model's ``translate`` returned.

    Parameters
    ----------
    raw : np.ndarray or (np.ndarray, int)
    sample_rate : int
        The rate the model was given (used when ``raw`` carries none).
    name : str
        ``item <id>: model <name>`` for messages.

    Raises
    ------
    ModelError
        Not audio, empty, more than 2-D, NaN/inf samples, or a bad sample rate.
    """
    if isinstance(raw, tuple) and len(raw) == 2:
        raw, sample_rate = raw
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise ModelError(f"{name} returned sample rate {sample_rate!r} (expected a positive integer)")
    if not isinstance(raw, np.ndarray):
        raise ModelError(f"{name} returned {type(raw).__name__}, not a NumPy array of audio")
    if not np.issubdtype(raw.dtype, np.number) or np.iscomplexobj(raw):
        raise ModelError(f"{name} returned audio of dtype {raw.dtype} (expected real numbers)")
    if raw.ndim not in (1, 2):
        raise ModelError(f"{name} returned audio of shape {raw.shape} (expected (n,) or (n, channels))")
    if raw.ndim == 2 and raw.shape[0] <= 8 < raw.shape[1]:
        raw = raw.T  # (channels, frames) -> (frames, channels)
    if raw.size == 0 or raw.shape[0] == 0:
        raise ModelError(f"{name} returned empty audio (zero samples)")
    if np.issubdtype(raw.dtype, np.integer):
        raw = raw.astype(np.float32) / float(np.iinfo(raw.dtype).max)
    finite = np.isfinite(raw)
    if not finite.all():
        raise ModelError(f"{name} returned audio with {int(raw.size - finite.sum())} NaN/inf sample(s)")
    if raw.ndim == 2 and raw.shape[1] == 1:
        raw = raw[:, 0]
    return TranslationOutput(np.ascontiguousarray(raw, dtype=np.float32), int(sample_rate))


def conform_output(output: TranslationOutput, *, sample_rate: int) -> tuple[np.ndarray, dict[str, float]]:
    """Mono audio at ``sample_rate`` from a model output, and what was done to it.

    Returns
    -------
    audio : np.ndarray, shape=(m,), float32
    handling : dict
        ``output_channels``, ``output_resampled`` (0/1).
    """
    audio = to_mono(output.audio).astype(np.float32, copy=False)
    resampled = output.sample_rate != sample_rate
    if resampled:
        audio = resample(audio, output.sample_rate, sample_rate)
    return np.ascontiguousarray(audio, dtype=np.float32), {"output_channels": float(output.channels),
                                                           "output_resampled": float(resampled)}


def frechet_jackknife(outputs: np.ndarray, references: np.ndarray, *, paired: list[int | None] | None = None,
                      z: float = 1.959964) -> tuple[float, float | None, float | None]:
    """Fréchet distance with a leave-one-out jackknife 95 % interval.

    The bootstrap is not used: resampling with replacement duplicates clips, which shrinks the
    covariance and biases every replicate upwards (the percentile interval of the oracle's
    distance 0 would not contain 0). The jackknife drops output ``i`` -- and, for paired
    tasks, its reference ``paired[i]`` too -- recomputes the distance, and reports
    ``value +- z * sqrt((n - 1) / n * sum (d_i - mean d)^2)``, the lower end clamped at 0.

    Returns
    -------
    value, ci_low, ci_high : float (the interval is None with fewer than 3 outputs)
    """
    from ..metrics.translation import target_domain_distance

    value = target_domain_distance(outputs, references)
    n = len(outputs)
    if n < 3:
        return value, None, None
    reps = []
    for i in range(n):
        keep = np.arange(n) != i
        refs = references
        j = paired[i] if paired is not None else None
        if j is not None and len(references) > 2:
            refs = np.delete(references, j, axis=0)
        reps.append(target_domain_distance(outputs[keep], refs))
    reps_arr = np.asarray(reps)
    se = float(np.sqrt((n - 1) / n * np.sum((reps_arr - reps_arr.mean()) ** 2)))
    return value, max(0.0, value - z * se), value + z * se


def domain_floor(references: np.ndarray, *, seed: int = 0) -> dict[str, Any]:
    """The real-vs-real floor of ``target_domain_distance``: the Fréchet distance between two
    disjoint halves of the compared references (seeded split), i.e. what real recordings of the
    domain score against each other at half the size (None with fewer than 4)."""
    from ..metrics.translation import target_domain_distance

    n = len(references)
    if n < 4:
        return {"floor": None, "floor_clips_per_half": n // 2}
    order = np.random.default_rng(seed).permutation(n)
    half = n // 2
    return {"floor": target_domain_distance(references[order[:half]], references[order[half:]]),
            "floor_clips_per_half": half}


def domain_sample_warning(n_outputs: int, n_references: int, dim: int) -> str | None:
    """The small-sample warning of ``target_domain_distance`` (one embedding per clip, so the
    covariance of ``dim`` numbers comes from as many clips as there are): the rule of the
    generation family's Fréchet distances (:func:`musebench.metrics.generation.sample_size_warning`)."""
    from ..metrics.generation import sample_size_warning

    n = min(n_outputs, n_references)
    return sample_size_warning(n_windows=n, n_clips=n, dim=dim)


class TranslationFamily(Family):
    name = "translation"
    prediction_suffix = ".wav"

    def __init__(self) -> None:
        self._judge: Any = None
        self._judge_key: tuple | None = None
        self._domain_embeddings: dict[tuple, tuple[np.ndarray, dict[str, Any]]] = {}

    def __getstate__(self) -> dict[str, Any]:
        # sent to Ray workers: without the loaded judge (an onnxruntime session) and caches
        return {"_judge": None, "_judge_key": None, "_domain_embeddings": {}}

    # ---- task parameters ----------------------------------------------------------------
    timeout_per_audio_s = 40.0  # the pitch-accuracy judge transcribes the output too

    def check_task(self, task: Task) -> None:
        self.check_params(task)
        for key in ("onset_tolerance", "pitch_tolerance", "radius"):
            value = task.params.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
                raise ConfigError(f"task {task.name}: {key} must be a number >= 0, not {value!r}")

    def check_params(self, task: Task) -> None:
        unknown = sorted(set(task.params) - _KNOWN_PARAMS)
        if unknown:
            raise ConfigError(f"task {task.name}: unknown translation parameter(s) {', '.join(unknown)} "
                              f"(known: {', '.join(sorted(_KNOWN_PARAMS))})")
        if "target_domain" not in task.params:
            raise ConfigError(f"task {task.name}: translation tasks need params.target_domain")
        if task.params.get("source_notes", "dataset") not in ("dataset", "judge"):
            raise ConfigError(f"task {task.name}: source_notes must be 'dataset' or 'judge', "
                              f"not {task.params['source_notes']!r}")

    def target_domain(self, task: Task):
        """The task's target :class:`~musebench.datasets.translation_domains.Domain`."""
        from ..datasets.translation_domains import get_domain

        self.check_params(task)
        return get_domain(str(task.params["target_domain"]), task=task.name)

    def feature_config(self, task: Task):
        from ..metrics.translation import FeatureConfig

        params = dict(task.params.get("features") or {})
        if "sample_rate" in params and params["sample_rate"] != task.sample_rate:
            raise ConfigError(f"task {task.name}: features.sample_rate must equal the task's sample_rate")
        params["sample_rate"] = int(task.sample_rate or 16000)
        return FeatureConfig.from_params(params)

    def sample_rate(self, task: Task) -> int:
        return int(task.sample_rate or 16000)

    # ---- items --------------------------------------------------------------------------
    def items(self, *, task: Task, dataset: Dataset) -> list[Item]:
        """Paired datasets: every item of the split (their target domain must be the task's).
        Unpaired: the source domain's held-out recordings of the split."""
        from ..datasets.translation_domains import get_domain, select

        target = self.target_domain(task)
        source_name = task.params.get("source_domain")
        if source_name is None:
            items = dataset.items(task.split)
            other = sorted({str(it.metadata.get("target_domain")) for it in items
                            if it.metadata.get("target_domain") not in (None, target.name)})
            if other:
                raise ConfigError(f"task {task.name}: target domain {target.name!r}, but the items of dataset "
                                  f"{dataset.name} are paired with {', '.join(other)}")
            return items
        source = get_domain(str(source_name), task=task.name)
        if source.synthetic:
            raise ConfigError(f"task {task.name}: source_domain {source.name!r} is synthetic; use dataset "
                              "synth-pairs instead")
        if source.dataset != dataset.name:
            raise ConfigError(f"task {task.name}: source domain {source.name} is drawn from {source.dataset}, "
                              f"not {dataset.name}")
        if task.split not in source.held_out:
            raise ConfigError(f"task {task.name}: domain {source.name} has no held-out recordings in split "
                              f"{task.split!r} (it has: {', '.join(source.held_out)})")
        return select(source, dataset.items(task.split), ids=source.held_out[task.split], what="held-out")

    def reference(self, *, task: Task, dataset: Dataset, item: Item) -> Notes:
        """The item's score (what ``oracle-resynth`` renders)."""
        return dataset.load_notes(item)

    # ---- prediction ---------------------------------------------------------------------
    def predict(self, *, model: Model, task: Task, dataset: Dataset, item: Item,
                context: Context) -> TranslationOutput:
        target = self.target_domain(task)
        supported = getattr(model, "domains", None)
        if supported is not None and target.name not in supported:
            raise ConfigError(f"task {task.name}: model {model.name} does not define target domain "
                              f"{target.name!r} (it has: {', '.join(supported)})")
        sr = model.sample_rate or self.sample_rate(task)
        audio, sr = load_audio(input_audio(item), sample_rate=sr)
        with model_call(model, item):
            # duck-typed: a plugin need not subclass TranslationModel, only have translate()
            raw = cast(TranslationModel, model).translate(audio, sample_rate=sr, target_domain=target.name,
                                                          context=context)
        return check_output(raw, sample_rate=sr, name=f"item {item.id}: model {model.name}")

    def save_prediction(self, prediction: TranslationOutput, path: Path) -> None:
        write_audio(path, prediction.audio, prediction.sample_rate)

    def load_prediction(self, path: Path) -> TranslationOutput:
        audio, sr = load_audio(path, sample_rate=None, mono=False)
        return TranslationOutput(audio, sr)

    # ---- scoring ------------------------------------------------------------------------
    def judge(self, task: Task):
        """The (cached, loaded) judge transcription model of ``task``."""
        from ..models import get_model_class

        name = str(task.params.get("judge", "basic-pitch"))
        params = dict(task.params.get("judge_params") or {})
        key = (name, json.dumps(params, sort_keys=True))
        if self._judge is None or self._judge_key != key:
            cls = get_model_class(name, family="transcription")
            try:
                judge = cls(device="cpu", **params)
            except TypeError as exc:
                raise ConfigError(f"task {task.name}: bad judge_params for {name} ({one_line(exc)})") from None
            judge.load()
            self._judge, self._judge_key = judge, key
        return self._judge

    def _transcribe(self, task: Task, item: Item, audio: np.ndarray, sr: int) -> Notes:
        judge = self.judge(task)
        jsr = judge.sample_rate or sr
        if jsr != sr:
            audio = resample(audio, sr, jsr)
        return judge.transcribe(audio, sample_rate=jsr, context=Context(item=item, seed=0))

    def load_triple(self, *, task: Task, item: Item, prediction: TranslationOutput
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict[str, float]]:
        """(source, output, reference or None, handling fields), mono at the task's rate."""
        sr = self.sample_rate(task)
        source, _ = load_audio(input_audio(item), sample_rate=sr)
        output, handling = conform_output(prediction, sample_rate=sr)
        reference = None
        if "reference_audio" in item.files:
            reference, _ = load_audio(item.files["reference_audio"], sample_rate=sr)
        handling["output_length_ratio"] = len(output) / len(source)
        return source, output, reference, handling

    def score(self, *, task: Task, dataset: Dataset, item: Item, prediction: TranslationOutput) -> dict[str, float]:
        from ..metrics import function_scores
        from ..metrics import translation as tm

        config = self.feature_config(task)
        sr = config.sample_rate
        source, output, reference, handling = self.load_triple(task=task, item=item, prediction=prediction)
        src = tm.extract_features(source, sample_rate=sr, config=config, name=f"item {item.id}: source")
        out = tm.extract_features(output, sample_rate=sr, config=config, name=f"item {item.id}: output")
        ref = (tm.extract_features(reference, sample_rate=sr, config=config, name=f"item {item.id}: reference")
               if reference is not None else None)
        source_notes = output_notes = None
        if "pitch_accuracy" in task.metrics:
            if task.params.get("source_notes", "dataset") == "judge":
                source_notes = self._transcribe(task, item, source, sr)
            else:
                source_notes = dataset.load_notes(item)
            output_notes = self._transcribe(task, item, output, sr)
        scores = tm.evaluate_features(src, out, ref, source_notes=source_notes, output_notes=output_notes,
                                      radius=int(task.params.get("radius", tm.DEFAULT_RADIUS)),
                                      onset_tolerance=float(task.params.get("onset_tolerance", 0.05)),
                                      pitch_tolerance=float(task.params.get("pitch_tolerance", 50.0)))
        handling["output_silent"] = float(out.silent)
        return {**scores, **handling, **function_scores(task.metrics, source=src, output=out, reference=ref)}

    # ---- set-level ----------------------------------------------------------------------
    def domain_reference_paths(self, *, task: Task, dataset: Dataset) -> tuple[list[Path], dict[str, Any]]:
        """Recordings that represent the target domain, and where they came from."""
        from ..datasets import get_dataset
        from ..datasets.translation_domains import select

        target = self.target_domain(task)
        if target.synthetic:
            items = dataset.items(task.split)
            paths = [Path(it.files["reference_audio"]) for it in items if "reference_audio" in it.files]
            if not paths:
                raise MissingDataError(f"task {task.name}: no paired reference recordings for synthetic domain "
                                       f"{target.name}")
            return paths, {"domain": target.name, "reference_split": task.split,
                           "reference_verified": dataset.is_verified(task.split),
                           "reference_ids": [it.id for it in items if "reference_audio" in it.files]}
        same = target.dataset == dataset.name and all(task.dataset_params.get(k) == v
                                                       for k, v in target.dataset_params.items())
        ref_ds = dataset if same else get_dataset(target.dataset, **target.dataset_params)
        split = target.references["split"]
        chosen = select(target, ref_ds.items(split), ids=target.references["ids"], what="reference")
        return [input_audio(it) for it in chosen], {
            "domain": target.name, "reference_split": split, "domain_list_sha256": target.sha256,
            "reference_verified": ref_ds.is_verified(split)}

    def _embedding(self, path: Path, config) -> np.ndarray:
        from ..metrics import translation as tm

        audio, _ = load_audio(path, sample_rate=config.sample_rate)
        return tm.clip_embedding(tm.extract_features(audio, sample_rate=config.sample_rate, config=config,
                                                     name=str(path)))

    def aggregate(self, *, task: Task, dataset: Dataset, items: list[Item], run_dir: Path,
                  ok_ids: list[str]) -> dict[str, dict[str, Any]]:
        """``target_domain_distance``: Fréchet distance of the outputs' MFCC statistics to the
        target domain's recordings, with a 95 % jackknife interval (see :func:`frechet_jackknife`)."""
        if "target_domain_distance" not in task.metrics:
            return {}
        from ..metrics import translation as tm

        config = self.feature_config(task)
        out_ids, outputs = [], []
        for iid in ok_ids:
            path = Path(run_dir) / "predictions" / f"{iid}{self.prediction_suffix}"
            if not path.is_file():
                continue
            audio, _ = conform_output(self.load_prediction(path), sample_rate=config.sample_rate)
            outputs.append(tm.clip_embedding(tm.extract_features(audio, sample_rate=config.sample_rate,
                                                                 config=config, name=str(path))))
            out_ids.append(iid)
        if len(outputs) < 2:
            return {}
        key = (task.name, task.yaml_sha256, str(dataset.root))
        if key not in self._domain_embeddings:
            paths, info = self.domain_reference_paths(task=task, dataset=dataset)
            refs = np.stack([self._embedding(p, config) for p in paths])
            self._domain_embeddings[key] = (refs, info)
        refs, info = self._domain_embeddings[key]
        ref_ids = info.get("reference_ids")
        n_domain = len(refs)
        if ref_ids and all(i in ref_ids for i in out_ids):
            # paired references (a synthetic target domain): the same items' references only, so a
            # --limit run (or one with failures) is compared with the references of what it scored
            refs = refs[[ref_ids.index(i) for i in out_ids]]
            paired: list[int | None] | None = list(range(len(out_ids)))
            scope = f"the references of the same {len(out_ids)} items (of {n_domain} in the domain)"
        else:
            paired = [ref_ids.index(i) if ref_ids and i in ref_ids else None for i in out_ids]
            scope = f"all {n_domain} recordings of the target domain (whatever --limit)"
        value, lo, hi = frechet_jackknife(np.stack(outputs), refs, paired=paired)
        info = {k: v for k, v in info.items() if k != "reference_ids"}
        return {"target_domain_distance": {"mean": value, "ci_low": lo, "ci_high": hi, "n": len(outputs),
                                           "n_reference": len(refs), "reference_set": scope,
                                           **domain_floor(refs), "ci_method": "jackknife",
                                           "warning": domain_sample_warning(len(outputs), len(refs), outputs[0].size),
                                           **info}}

    # ---- figures ------------------------------------------------------------------------
    def figures(self, *, task: Task, dataset: Dataset, items: list[Item], run_dir: Path) -> list[Path]:
        from ..plots import translation as plots

        return plots.run_figures(family=self, task=task, dataset=dataset, items=items, run_dir=Path(run_dir),
                                 max_items=int(task.params.get("max_item_figures", DEFAULT_MAX_FIGURES)))
