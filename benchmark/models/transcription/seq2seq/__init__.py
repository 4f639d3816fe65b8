"""MT3-style seq2seq transcribers (``mt3``, ``seq2seq-piano``): vocabulary, network, inference.

See docs/models/seq2seq.md. Submodules: :mod:`.vocabulary` (event codec, no torch),
:mod:`.network` (PyTorch encoder-decoder, features, greedy decoding), :mod:`.checkpoint`
(files), :mod:`.inference` (segments and ties), :mod:`.model` (the registered models).
"""
