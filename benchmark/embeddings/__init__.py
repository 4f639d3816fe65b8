"""Audio embeddings for set-level generation metrics (Fréchet distances, memorization).

Built in, both offline:

``mfcc``
    MFCC and spectral statistics (librosa), 52 dimensions per window.
``basic-pitch``
    The 88-key note posteriorgram of the Basic Pitch network bundled with the ``basic-pitch``
    package (ONNX via onnxruntime), 88 dimensions per window.

Plug-ins (CLAP, VGGish, MERT, ... with weights the user has locally) are never a dependency.
A package subclasses :class:`Embedding` and declares two entry points: the embedding, and
the metric that reports its Fréchet distance (the task loader only accepts declared metrics;
:func:`frechet_metric_spec` builds the declaration)::

    [project.entry-points."musebench.embeddings"]
    clap = "my_package.clap:ClapEmbedding"

    [project.entry-points."musebench.metrics"]
    frechet_clap = "my_package.clap:FRECHET_CLAP"   # = frechet_metric_spec("clap")

A task then lists ``frechet_clap`` under ``metrics``; the generation family computes a
metric ``frechet_<name>`` with the embedding ``<name>`` (or the one named in the task's
``params.embeddings`` mapping). See docs/generation.md.
"""
from __future__ import annotations

from typing import Any

from ..metrics import MetricSpec
from ..registry import Registry
from .base import Embedding, pool_windows

ENTRY_POINT_GROUP = "musebench.embeddings"

EMBEDDINGS: Registry[type[Embedding]] = Registry("embedding", entry_point_group=ENTRY_POINT_GROUP)
EMBEDDINGS.register("mfcc", "musebench.embeddings.mfcc:MFCCEmbedding")
EMBEDDINGS.register("basic-pitch", "musebench.embeddings.basic_pitch:BasicPitchEmbedding")


def get_embedding(name: str, **params: Any) -> Embedding:
    """Instantiate the embedding registered as ``name`` (e.g. ``window_seconds=1.0``)."""
    return EMBEDDINGS.get(name)(**params)


def frechet_metric_spec(embedding: str, *, description: str | None = None) -> MetricSpec:
    """The catalogue entry of the metric ``frechet_<embedding>`` (for plug-in embeddings).

    Returns
    -------
    musebench.metrics.MetricSpec
        Family ``generation``, lower is better, aggregated once per run (``"set"``).
    """
    name = f"frechet_{embedding.replace('-', '_')}"
    return MetricSpec(name, "generation", False,
                      description or f"Frechet distance of {embedding} embeddings, generated vs reference clips",
                      "set")


def set_distance_metric_specs(embedding: str) -> list[MetricSpec]:
    """The three catalogue entries of an embedding's set distances: ``frechet_<e>``,
    ``frechet_inf_<e>`` (FAD-inf) and ``kad_<e>`` (KAD), for a plug-in to declare together."""
    e = embedding.replace("-", "_")
    return [frechet_metric_spec(embedding),
            MetricSpec(f"frechet_inf_{e}", "generation", False, f"FAD-inf of {embedding} embeddings", "set"),
            MetricSpec(f"kad_{e}", "generation", False, f"Kernel Audio Distance of {embedding} embeddings", "set")]


__all__ = ["EMBEDDINGS", "Embedding", "get_embedding", "frechet_metric_spec", "set_distance_metric_specs",
           "pool_windows"]
