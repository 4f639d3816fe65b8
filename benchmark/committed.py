"""Which runs make MuseBench's committed results: the leaderboard in ``results/leaderboard/`` and
the project's own CI gate baselines in ``results/baselines/``.

``scripts/update_leaderboard.py`` (``make leaderboard``) runs them; ``tests/test_project_gate.py``
checks the gate's runs against their baselines.
"""
from __future__ import annotations

from typing import Any

#: (task, model, params) on the committed leaderboard
LEADERBOARD: list[tuple[str, str, dict[str, Any]]] = [
    ("synth-piano", "oracle", {}), ("synth-piano", "noisy-oracle", {}),
    ("synth-piano", "basic-pitch", {}), ("synth-piano", "transkun", {}),
    ("synth-ensemble", "oracle", {}), ("synth-ensemble", "noisy-oracle", {}),
    ("synth-ensemble", "basic-pitch", {}),
    # the MT3-style seq2seq transcribers, shipped tiny checkpoints (docs/models/seq2seq.md); transkun beside mt3
    ("synth-piano", "seq2seq-piano", {}), ("synth-ensemble", "mt3", {}), ("synth-ensemble", "transkun", {}),
    ("synth-piano-to-violin", "identity", {}), ("synth-piano-to-violin", "resynth", {}),
    ("synth-piano-to-violin", "oracle-resynth", {}),
    ("synth-strings-to-piano", "identity", {}), ("synth-strings-to-piano", "resynth", {}),
    ("synth-strings-to-piano", "oracle-resynth", {}),
    ("synth-piano-to-flute", "identity", {}), ("synth-piano-to-flute", "resynth", {}),
    ("synth-piano-to-flute", "oracle-resynth", {}),
    ("synth-unseen-clarinet-to-piano", "identity", {}), ("synth-unseen-clarinet-to-piano", "resynth", {}),
    ("synth-unseen-clarinet-to-piano", "oracle-resynth", {}),
    # the Universal Music Translation Network, shipped umt-tiny checkpoint (docs/models/umt.md)
    ("synth-piano-to-violin", "umt", {}), ("synth-piano-to-flute", "umt", {}),
    ("synth-strings-to-piano", "umt", {}), ("synth-unseen-clarinet-to-piano", "umt", {}),
    ("synth-continuation", "noise", {}), ("synth-continuation", "copy-train", {}),
    ("synth-continuation", "lstm", {}), ("synth-continuation", "stacked-lstm", {}),
    ("synth-continuation", "bilinear-lstm", {}), ("synth-continuation", "fc-lstm", {}),
    ("synth-continuation", "conv-lstm", {}), ("synth-continuation", "oracle", {}),
    ("synth-unconditional", "noise", {}), ("synth-unconditional", "copy-train", {}),
    ("synth-unconditional", "lstm", {}), ("synth-unconditional", "oracle", {}),
]
#: the project's own CI gate: (task, model, params, limit); deterministic models, small and fast
CI_GATE: list[tuple[str, str, dict[str, Any], int | None]] = [
    ("synth-piano", "noisy-oracle", {}, None),
    ("synth-piano", "basic-pitch", {}, None),
    ("synth-ensemble", "noisy-oracle", {}, None),
    ("synth-ensemble", "basic-pitch", {}, 4),
]
