"""MuseBench: an evaluation and listening-test benchmark suite for music AI models."""
__version__ = "0.1.0"
