"""Built-in generation models (lazy targets; see musebench.models).

The seed LSTM family (``lstm``, ``fc-lstm``, ``conv-lstm``, ``stacked-lstm``, ``bilinear-lstm``)
ships small trained checkpoints in ``benchmark/data/checkpoints/``; ``noise`` and ``copy-train``
are floors (the latter exists to be caught by the memorization check), ``oracle`` the ceiling,
and ``predictions`` reads audio generated elsewhere.
"""
BUILTIN: dict[str, str] = {
    "lstm": "musebench.models.generation.lstm:LSTM",
    "fc-lstm": "musebench.models.generation.lstm:FCLSTM",
    "conv-lstm": "musebench.models.generation.lstm:ConvLSTM",
    "stacked-lstm": "musebench.models.generation.lstm:StackedLSTM",
    "bilinear-lstm": "musebench.models.generation.lstm:BilinearLSTM",
    "noise": "musebench.models.generation.baselines:Noise",
    "copy-train": "musebench.models.generation.baselines:CopyTrain",
    "oracle": "musebench.models.generation.baselines:Oracle",
    "predictions": "musebench.models.generation.predictions:AudioPredictions",
}
