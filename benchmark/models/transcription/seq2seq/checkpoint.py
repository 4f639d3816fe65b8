"""Checkpoints of the seq2seq transcribers: ``<stem>.npz`` (weights) + ``<stem>.json`` (everything else).

The format is :mod:`musebench.models.checkpoints`' (deterministic ``.npz``, no pickle, float16
unless asked otherwise); the JSON records the model name, size, vocabulary, network config,
feature settings, the training config, the fingerprint of the training data, steps, time and
the validation scores, plus the weights' sha256 (checked on load). Shipped ones: ``benchmark/data/checkpoints/{mt3-tiny,seq2seq-piano-tiny}.{npz,json}``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ....errors import BadInputError, ConfigError
from ...checkpoints import CheckpointFormat
from .vocabulary import Vocabulary

#: The seq2seq checkpoints: the ``mel_*`` feature statistics stay float32 and are not counted as parameters.
CHECKPOINT = CheckpointFormat("musebench-seq2seq/1", label="seq2seq checkpoint",
                              hint="give --param checkpoint=STEM, where STEM.npz and STEM.json exist",
                              full_precision=("mel_",))


def build_net(config: dict[str, Any], arrays: dict[str, np.ndarray] | None = None, *, where: str = "checkpoint"):
    """(network, vocabulary) from a checkpoint config (and weights)."""
    import torch

    from .network import NetConfig, Seq2SeqNet

    try:
        vocab = Vocabulary.from_dict(config["vocabulary"])
        net_config = NetConfig.from_dict(config["network"])
    except KeyError as exc:
        raise ConfigError(f"{where}: missing {exc} in the checkpoint config") from None
    if net_config.vocab_size != vocab.size:
        raise ConfigError(f"{where}: network vocab_size {net_config.vocab_size} != vocabulary size {vocab.size}")
    net = Seq2SeqNet(net_config, shift_ids=vocab.shift_ids(), steps_per_frame=net_config.frame_stack)
    if arrays is not None:
        state = {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in arrays.items()}
        missing, unexpected = net.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise BadInputError(f"{where}: weights do not fit the architecture (missing {list(missing)[:3]}, "
                                f"unexpected {list(unexpected)[:3]})")
    return net, vocab
