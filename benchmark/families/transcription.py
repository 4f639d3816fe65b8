"""Transcription: audio -> notes, scored with mir_eval/MT3 conventions."""
from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from ..audio import load_audio
from ..datasets.base import Dataset
from ..errors import ConfigError, ModelError
from ..midi import read_prediction, write_prediction
from ..models.base import Context, Model, TranscriptionModel
from ..tasks import Task
from ..types import Item, Notes
from .base import Family, input_audio, model_call


def _check_params(task: Task) -> None:
    """``task.params`` are keyword arguments of :func:`musebench.metrics.transcription.evaluate`:
    known names (close matches suggested), numbers, none negative (``frame_rate`` positive)."""
    import difflib
    import inspect

    from ..metrics import transcription

    known = {name: p.default for name, p in inspect.signature(transcription.evaluate).parameters.items()
             if p.kind is inspect.Parameter.KEYWORD_ONLY and isinstance(p.default, (int, float))}
    where = f"{task.path or task.name}: params"
    for key, value in task.params.items():
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else \
                f" (known: {', '.join(sorted(known))})"
            raise ConfigError(f"{where}: unknown transcription parameter {key!r}{hint}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise ConfigError(f"{where}: {key} must be a number, not {value!r}")
        if value < 0 or (key == "frame_rate" and value == 0):
            raise ConfigError(f"{where}: {key} must be {'positive' if key == 'frame_rate' else '>= 0'}, "
                              f"not {value!r}")


def _transcriber(model: Model) -> TranscriptionModel:
    """``model`` as the transcription model it is registered as (models are duck-typed: a plugin
    need not subclass :class:`TranscriptionModel`, only have its methods)."""
    return cast(TranscriptionModel, model)


class TranscriptionFamily(Family):
    name = "transcription"
    prediction_suffix = ".mid"

    def check_task(self, task: Task) -> None:
        _check_params(task)

    def reference(self, *, task: Task, dataset: Dataset, item: Item) -> Notes:
        return dataset.load_notes(item)

    def predict(self, *, model: Model, task: Task, dataset: Dataset, item: Item, context: Context) -> Notes:
        sr = model.sample_rate or task.sample_rate
        audio, sr = load_audio(input_audio(item), sample_rate=sr)
        with model_call(model, item):
            notes = _transcriber(model).transcribe(audio, sample_rate=sr, context=context)
        return self._checked(notes, model=model, item=item)

    def batches(self, *, model: Model) -> bool:
        return bool(getattr(model, "batches_items", lambda: False)())

    def predict_batch(self, *, model: Model, task: Task, dataset: Dataset, items: list[Item],
                      contexts: list[Context]) -> list[Notes]:
        """All items in one ``model.transcribe_batch`` call; raises if it or any output fails.

        The runner then falls back to :meth:`predict` item by item, so a failure is still
        recorded against the item that caused it.
        """
        loaded = [load_audio(input_audio(item), sample_rate=model.sample_rate or task.sample_rate)
                  for item in items]
        rates = {rate for _, rate in loaded}
        if len(rates) != 1:  # files at their own rates (neither model nor task sets one): one by one
            raise ModelError(f"model {model.name}: the items' audio is at {len(rates)} sample rates, not one")
        with model_call(model):
            out = _transcriber(model).transcribe_batch([audio for audio, _ in loaded], sample_rate=rates.pop(),
                                                       contexts=contexts)
        if not isinstance(out, list) or len(out) != len(items):
            raise ModelError(f"model {model.name}: transcribe_batch returned {type(out).__name__} "
                             f"of length {len(out) if hasattr(out, '__len__') else '?'} for {len(items)} items")
        return [self._checked(notes, model=model, item=item) for notes, item in zip(out, items)]

    def _checked(self, notes: Any, *, model: Model, item: Item) -> Notes:
        if not isinstance(notes, Notes):
            raise ModelError(f"item {item.id}: model {model.name} returned {type(notes).__name__}, not Notes")
        try:
            notes.validate(name=f"item {item.id}: model {model.name} output")
        except Exception as exc:
            raise ModelError(str(exc)) from None
        return notes

    def save_prediction(self, prediction: Notes, path: Path) -> None:
        write_prediction(prediction, path)  # <id>.mid plus the exact notes, <id>.notes.json

    def load_prediction(self, path: Path) -> Notes:
        return read_prediction(path)  # the exact notes: an oracle scores exactly 1.0

    def score(self, *, task: Task, dataset: Dataset, item: Item, prediction: Notes) -> dict[str, float]:
        from ..metrics import function_scores, transcription

        reference = dataset.load_notes(item)
        # per-track scores where the dataset defines tracks (Cerberus4: MT3's track specs)
        scores = transcription.evaluate(reference, prediction, track_specs=getattr(dataset, "track_specs", None),
                                        **task.params)
        return {**scores, **function_scores(task.metrics, reference=reference, estimate=prediction)}
