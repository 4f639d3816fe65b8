"""The seed LSTM networks over FFT frames (torch; imported only to train or generate).

Every variant reads a sequence of FFT frames (real and imaginary parts, scaled) and predicts
the next frame through a linear read-out; they differ in what sits in front of the read-out:

``lstm``
    One LSTM layer on the frames.
``fc-lstm``
    A fully connected layer (tanh) that maps each frame to ``hidden_size`` features, then an LSTM.
``conv-lstm``
    A causal 1-D convolution over time (``conv_kernel`` frames, ReLU) as the front end, then an LSTM.
``stacked-lstm``
    Two stacked LSTM layers.
``bilinear-lstm``
    Two LSTMs reading the same frames side by side; their outputs are summed.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

ARCHITECTURES = ("lstm", "fc-lstm", "conv-lstm", "stacked-lstm", "bilinear-lstm")

State = dict[str, Any]


class FrameLSTM(nn.Module):
    """Next-FFT-frame predictor.

    Parameters
    ----------
    architecture : str
        One of :data:`ARCHITECTURES`.
    n_features : int
        Numbers per frame (``frame_size + 2``).
    hidden_size : int
    conv_kernel : int
        Frames the ``conv-lstm`` front end sees (ignored by the others).
    """

    def __init__(self, architecture: str, *, n_features: int, hidden_size: int, conv_kernel: int = 4):
        super().__init__()
        if architecture not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {architecture!r} (known: {', '.join(ARCHITECTURES)})")
        self.architecture = architecture
        self.conv_kernel = int(conv_kernel)
        d, h = int(n_features), int(hidden_size)
        self.front: nn.Module | None = None
        self.conv: nn.Conv1d | None = None
        if architecture == "lstm":
            self.rnns = nn.ModuleList([nn.LSTM(d, h, batch_first=True)])
        elif architecture == "fc-lstm":
            self.front = nn.Sequential(nn.Linear(d, h), nn.Tanh())
            self.rnns = nn.ModuleList([nn.LSTM(h, h, batch_first=True)])
        elif architecture == "conv-lstm":
            self.conv = nn.Conv1d(d, h, kernel_size=self.conv_kernel)
            self.rnns = nn.ModuleList([nn.LSTM(h, h, batch_first=True)])
        elif architecture == "stacked-lstm":
            self.rnns = nn.ModuleList([nn.LSTM(d, h, num_layers=2, batch_first=True)])
        else:  # bilinear-lstm
            self.rnns = nn.ModuleList([nn.LSTM(d, h, batch_first=True), nn.LSTM(d, h, batch_first=True)])
        self.out = nn.Linear(h, d)

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Predict frame ``t + 1`` from frames ``<= t``.

        Parameters
        ----------
        x : torch.Tensor, shape=(batch, time, n_features)
        state : dict, optional
            The state returned by the previous call (continue a sequence), or None (start).

        Returns
        -------
        y : torch.Tensor, shape=(batch, time, n_features)
        state : dict
        """
        state = state or {}
        new_state: State = {}
        if self.conv is not None:
            k = self.conv_kernel
            history = state.get("conv")
            if history is None:
                history = x.new_zeros(x.shape[0], k - 1, x.shape[2])
            padded = torch.cat([history, x], dim=1)
            new_state["conv"] = padded[:, -(k - 1):] if k > 1 else None
            z = torch.relu(self.conv(padded.transpose(1, 2))).transpose(1, 2)
        elif self.front is not None:
            z = self.front(x)
        else:
            z = x
        rnn_states = state.get("rnn") or [None] * len(self.rnns)
        outputs, new_rnn = [], []
        for rnn, s in zip(self.rnns, rnn_states):
            y, s_new = rnn(z, s)
            outputs.append(y)
            new_rnn.append(s_new)
        new_state["rnn"] = new_rnn
        h = outputs[0] if len(outputs) == 1 else torch.stack(outputs).sum(dim=0)
        return self.out(h), new_state
