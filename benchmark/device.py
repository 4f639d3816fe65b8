"""Device selection: ``auto`` means CUDA when a CUDA device is visible, else CPU."""
from __future__ import annotations

from .errors import ConfigError

DEVICES = ("auto", "cpu", "cuda")


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        try:
            import onnxruntime

            return "CUDAExecutionProvider" in onnxruntime.get_available_providers()
        except ImportError:
            return False
    return bool(torch.cuda.is_available())


def resolve_device(device: str) -> str:
    """Map ``auto|cpu|cuda`` (or ``cuda:N``) to the device to use; refuse CUDA when absent."""
    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    if device == "cpu":
        return "cpu"
    if device == "cuda" or device.startswith("cuda:"):
        if not cuda_available():
            raise ConfigError(f"device {device!r} requested but no CUDA device is visible")
        return device
    raise ConfigError(f"device must be one of {', '.join(DEVICES)} (or cuda:N), not {device!r}")
