"""Built-in generation models (lazy targets; see benchmark.models).

The seed LSTM family (``lstm``, ``fc-lstm``, ``conv-lstm``, ``stacked-lstm``, ``bilinear-lstm``)
ships small trained checkpoints in ``benchmark/data/checkpoints/``; ``noise`` and ``copy-train``
are floors (the latter exists to be caught by the memorization check), ``oracle`` the ceiling,
and ``predictions`` reads audio generated elsewhere.
"""
BUILTIN: dict[str, str] = {
    "lstm": "benchmark.models.generation.lstm:LSTM",
    "fc-lstm": "benchmark.models.generation.lstm:FCLSTM",
    "conv-lstm": "benchmark.models.generation.lstm:ConvLSTM",
    "stacked-lstm": "benchmark.models.generation.lstm:StackedLSTM",
    "bilinear-lstm": "benchmark.models.generation.lstm:BilinearLSTM",
    "noise": "benchmark.models.generation.baselines:Noise",
    "copy-train": "benchmark.models.generation.baselines:CopyTrain",
    "oracle": "benchmark.models.generation.baselines:Oracle",
    "predictions": "benchmark.models.generation.predictions:AudioPredictions",
}
