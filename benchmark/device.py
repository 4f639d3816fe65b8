"""Device selection: ``auto`` means CUDA when a CUDA device is visible, else CPU."""
from __future__ import annotations

from .errors import ConfigError

DEVICES = ("auto", "cpu", "cuda")


def _no_cuda_driver() -> bool:
    """True when this is Linux and no NVIDIA driver is visible (so CUDA cannot be available).

    Checked before importing torch (2-3 s on a small machine) just to hear "no": CUDA on Linux
    needs the NVIDIA kernel driver, which shows as ``/proc/driver/nvidia``, ``/dev/nvidia*``
    device nodes, or ``/dev/dxg`` under WSL2. Elsewhere this never answers True.
    """
    import glob
    import os
    import sys

    if not sys.platform.startswith("linux"):
        return False
    return not (os.path.exists("/proc/driver/nvidia") or glob.glob("/dev/nvidia*") or os.path.exists("/dev/dxg"))


def cuda_available() -> bool:
    if _no_cuda_driver():
        return False
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
