"""The family interface the runner drives, and the one rule for a model's failures.

Every call into a model's code for an item (``transcribe``, ``transcribe_batch``, ``translate``,
``generate``) goes through :func:`model_call`, and every exception met while an item runs is
turned into that item's record by :func:`item_error`:

* a :class:`~musebench.errors.MuseBenchError` passes through as it is (its message is already
  one line naming what is wrong, e.g. the item's time limit); of those, :data:`RUN_ERRORS` (a
  configuration error, a model that cannot load, a full disk) stop the run, every other one
  fails the item with its own message;
* any other ``Exception`` a model raises fails the item:
  ``item X: model M raised RuntimeError: <first line>``; one raised by anything else while the
  item runs (a file, the family's scoring): ``item X: RuntimeError: <first line>``;
* ``KeyboardInterrupt`` and ``SystemExit`` (not an ``Exception``) are never caught: in the
  supervised worker they end the worker process and are pinned on the item
  (``item X: the model raised SystemExit(3)``, see docs/reliability.md).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from ..audio import audio_info
from ..datasets.base import Dataset
from ..errors import ConfigError, DiskFullError, MissingDataError, ModelError, ModelLoadError, MuseBenchError
from ..models.base import Context, Model
from ..tasks import Task
from ..types import Item

#: errors that are the run's problem, not an item's: wherever they come from, the run stops
RUN_ERRORS: tuple[type[MuseBenchError], ...] = (ConfigError, ModelLoadError, DiskFullError)


def one_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message, or the name of its type when it has none."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def describe(exc: BaseException) -> str:
    """``exc`` in one line: a MuseBenchError's own message, else ``Type: first line``."""
    return one_line(exc) if isinstance(exc, MuseBenchError) else f"{type(exc).__name__}: {one_line(exc)}"


@contextmanager
def model_call(model: Model, item: Item | None = None) -> Iterator[None]:
    """Run a call into ``model``'s code (for ``item``, or for a batch when None) by the rule of
    the module docstring: a MuseBenchError passes through, any other ``Exception`` becomes a
    :class:`ModelError` ``[item X: ]model M raised Type: first line``."""
    try:
        yield
    except MuseBenchError:
        raise
    except Exception as exc:
        where = f"item {item.id}: " if item is not None else ""
        raise ModelError(f"{where}model {model.name} raised {describe(exc)}") from exc


def item_error(exc: Exception, item: Item) -> str:
    """The one-line error of ``item``'s record for ``exc`` (see the module docstring); raises
    ``exc`` again when it is one of :data:`RUN_ERRORS`."""
    if isinstance(exc, RUN_ERRORS):
        raise exc
    return one_line(exc) if isinstance(exc, MuseBenchError) else f"item {item.id}: {describe(exc)}"


def input_audio(item: Item) -> Path:
    """The item's input audio; MissingDataError (one line) for an item without one."""
    if item.audio_path is None:
        raise MissingDataError(f"item {item.id}: no input audio")
    return item.audio_path


class Family:
    name: ClassVar[str]
    #: suffix of the per-item prediction file under predictions/
    prediction_suffix: ClassVar[str]
    #: the default ``--item-timeout``: ``timeout_base_s + timeout_per_audio_s * seconds of audio``
    #: (generous: a slow model on a CPU stays well inside it; a hang still ends)
    timeout_base_s: ClassVar[float] = 120.0
    timeout_per_audio_s: ClassVar[float] = 20.0

    def check_task(self, task: Task) -> None:
        """Raise ConfigError (one line) when ``task.params`` are not what this family reads."""

    def item_timeout(self, *, task: Task, item: Item) -> float:
        """Seconds one item may take when ``--item-timeout`` is not given (see ``timeout_base_s``)."""
        seconds = float(item.metadata.get("duration") or 0.0)
        return self.timeout_base_s + self.timeout_per_audio_s * max(seconds, 0.0)

    def items(self, *, task: Task, dataset: Dataset) -> list[Item]:
        """The items a run of ``task`` goes through, in a stable order."""
        return dataset.items(task.split)

    def reference(self, *, task: Task, dataset: Dataset, item: Item) -> Any:
        """What an oracle model may see for ``item`` (only models with uses_reference get it)."""
        return None

    def predict(self, *, model: Model, task: Task, dataset: Dataset, item: Item, context: Context) -> Any:
        """Run ``model`` on ``item`` (inside :func:`model_call`); returns the prediction (validated)."""
        raise NotImplementedError

    def batches(self, *, model: Model) -> bool:
        """True when :meth:`predict_batch` gains from grouping items for ``model`` (default False)."""
        return False

    def predict_batch(self, *, model: Model, task: Task, dataset: Dataset, items: list[Item],
                      contexts: list[Context]) -> list[Any]:
        """Predictions for several items (default: :meth:`predict` on each). Raises if any fails."""
        return [self.predict(model=model, task=task, dataset=dataset, item=item, context=context)
                for item, context in zip(items, contexts)]

    def prediction_seconds(self, prediction: Any) -> float | None:
        """Seconds of audio a prediction is itself, for families whose model makes audio of a
        length it is asked for (generation); None (the default): the item's input decides."""
        return None

    def input_seconds(self, *, task: Task, item: Item, prediction: Any) -> float:
        """Seconds of audio the prediction covers (for the real-time factor): the prediction's own
        length where :meth:`prediction_seconds` gives one, else the item's ``duration``, else
        the length of its input audio file."""
        seconds = self.prediction_seconds(prediction)
        if seconds is not None:
            return seconds
        if "duration" in item.metadata:
            return float(item.metadata["duration"])
        return audio_info(input_audio(item))[2]

    def save_prediction(self, prediction: Any, path: Path) -> None:
        raise NotImplementedError

    def load_prediction(self, path: Path) -> Any:
        raise NotImplementedError

    def score(self, *, task: Task, dataset: Dataset, item: Item, prediction: Any) -> dict[str, float]:
        """Per-item scores (all that the family computes; the task picks which to report)."""
        raise NotImplementedError

    def aggregate(self, *, task: Task, dataset: Dataset, items: list[Item], run_dir: Path,
                  ok_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Set-level metrics computed once per run: name -> {"value", ...}."""
        return {}

    def figures(self, *, task: Task, dataset: Dataset, items: list[Item], run_dir: Path) -> list[Path]:
        """Optional plots written into the run directory."""
        return []
