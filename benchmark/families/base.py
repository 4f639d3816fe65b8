"""The family interface the runner drives."""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from ..datasets.base import Dataset
from ..models.base import Context, Model
from ..tasks import Task
from ..types import Item


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
        """Run ``model`` on ``item``; returns the prediction (validated)."""
        raise NotImplementedError

    def batches(self, *, model: Model) -> bool:
        """True when :meth:`predict_batch` gains from grouping items for ``model`` (default False)."""
        return False

    def predict_batch(self, *, model: Model, task: Task, dataset: Dataset, items: list[Item],
                      contexts: list[Context]) -> list[Any]:
        """Predictions for several items (default: :meth:`predict` on each). Raises if any fails."""
        return [self.predict(model=model, task=task, dataset=dataset, item=item, context=context)
                for item, context in zip(items, contexts)]

    def input_seconds(self, *, task: Task, item: Item, prediction: Any) -> float:
        """Seconds of audio the prediction covers (for the real-time factor)."""
        return float(item.metadata.get("duration", 0.0))

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
