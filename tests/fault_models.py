"""Test models that fail below Python, for real: a segfault, a self-kill, ``os._exit``,
``SystemExit``/``KeyboardInterrupt``, a deadlock inside a C call, runaway memory, a failing load.

Each fails only on the item ``fail_id`` (default ``toy-01``) and returns no notes elsewhere.
They live in a module of their own so that a worker process can import them by name.
"""
from __future__ import annotations

import ctypes
import os
import signal
from typing import ClassVar

import numpy as np

from musebench.models import MODELS
from musebench.models.base import TranscriptionModel
from musebench.types import Notes

SR = 16000


def _segfault() -> None:
    ctypes.string_at(0)  # reads address 0: SIGSEGV


def _deadlock_in_c() -> None:
    """Lock a default (non-recursive) pthread mutex twice: blocks forever inside libc, with the
    GIL released; no signal handler of Python's can run, so SIGALRM cannot stop it."""
    libc = ctypes.CDLL(None)
    mutex = ctypes.create_string_buffer(64)  # zeroed = PTHREAD_MUTEX_INITIALIZER on glibc
    libc.pthread_mutex_lock(mutex)
    libc.pthread_mutex_lock(mutex)


def _raise(exc: BaseException):
    def fault() -> None:
        raise exc
    return fault


FAULTS = {
    "segfault": _segfault,
    "exit": lambda: os._exit(3),
    "sigkill": lambda: os.kill(os.getpid(), signal.SIGKILL),
    "system-exit": _raise(SystemExit(3)),
    "keyboard-interrupt": _raise(KeyboardInterrupt()),
    "deadlock": _deadlock_in_c,
}


class FaultyModel(TranscriptionModel):
    """Fails in the way ``fault`` names on item ``fail_id``.

    Parameters
    ----------
    fault : str
        One of segfault, exit, sigkill, system-exit, keyboard-interrupt, deadlock.
    fail_id : str
        The item that triggers it.
    """

    name: ClassVar[str] = "faulty"
    sample_rate: ClassVar[int] = SR

    def __init__(self, *, device: str = "auto", fault: str = "segfault", fail_id: str = "toy-01"):
        super().__init__(device=device, fault=fault, fail_id=fail_id)

    def transcribe(self, audio, *, sample_rate, context):
        if context.item.id == self.params["fail_id"]:
            FAULTS[self.params["fault"]]()
        return Notes.empty()


class BatchingFaultyModel(FaultyModel):
    """As FaultyModel, but batches across items (the fault then hits inside the batched call)."""

    name: ClassVar[str] = "faulty-batching"

    def transcribe_batch(self, audios, *, sample_rate, contexts):
        return [self.transcribe(a, sample_rate=sample_rate, context=c) for a, c in zip(audios, contexts)]


class MemoryHog(TranscriptionModel):
    """Allocates (and touches) ``mb`` MiB on item ``fail_id``, then waits ``seconds``.

    Parameters
    ----------
    mb : int
        MiB to allocate.
    """

    name: ClassVar[str] = "memory-hog"
    sample_rate: ClassVar[int] = SR

    def __init__(self, *, device: str = "auto", mb: int = 600, seconds: float = 30.0, fail_id: str = "toy-01"):
        super().__init__(device=device, mb=mb, seconds=seconds, fail_id=fail_id)

    def transcribe(self, audio, *, sample_rate, context):
        if context.item.id == self.params["fail_id"]:
            block = np.ones(self.params["mb"] * 2 ** 20, dtype=np.uint8)
            import time

            time.sleep(self.params["seconds"])
            del block
        return Notes.empty()


class BadLoad(TranscriptionModel):
    """``load()`` raises (``how="raise"``), segfaults (``how="segfault"``) or deadlocks in C
    (``how="deadlock"``)."""

    name: ClassVar[str] = "bad-load"
    sample_rate: ClassVar[int] = SR

    def __init__(self, *, device: str = "auto", how: str = "raise"):
        super().__init__(device=device, how=how)

    def load(self):
        if self.params["how"] == "segfault":
            _segfault()
        if self.params["how"] == "deadlock":
            _deadlock_in_c()
        raise OSError("weights.bin: checkpoint truncated")

    def transcribe(self, audio, *, sample_rate, context):
        return Notes.empty()


class WeightsFileModel(TranscriptionModel):
    """No notes; its weights are the file ``weights`` (so a test can replace them in place)."""

    name: ClassVar[str] = "weights-file"
    sample_rate: ClassVar[int] = SR

    def __init__(self, *, device: str = "auto", weights: str = ""):
        super().__init__(device=device, weights=weights)

    def weights_files(self):
        from pathlib import Path

        return [Path(self.params["weights"])]

    def transcribe(self, audio, *, sample_rate, context):
        return Notes.empty()


def install() -> None:
    for cls in (FaultyModel, BatchingFaultyModel, MemoryHog, BadLoad, WeightsFileModel):
        MODELS["transcription"].register(cls.name, cls, replace=True)
