"""Reference translation baselines.

* ``identity`` returns the source unchanged: the floor for timbre change and the ceiling for
  content preservation.
* ``resynth`` is the "level-0" approach of transcription then resynthesis: a transcription
  model (basic-pitch by default) turns the source into notes, which are rendered with the
  target domain's General MIDI program (:mod:`musebench.datasets.translation_domains`) by the
  synth renderer (:func:`musebench.render.render_notes`, TimGM6mb, tail 0.8 s, gain -6 dB,
  peak-normalised to -1 dBFS, exactly as the synthetic references are made).
* ``oracle-resynth`` renders the item's own score (the harness's reference notes) the same
  way: on paired synthetic tasks this reproduces the reference, the paired upper bound; on
  real data it is "oracle transcription, then resynthesis".

The rendering baselines return audio of exactly the source's length (the render is cut or
padded with silence), at the rate they were given.
"""
from __future__ import annotations

from importlib import metadata
from typing import Any, ClassVar

import numpy as np

from ...errors import ConfigError, ModelError
from ...types import Notes
from ..base import Context, TranslationModel

TAIL = 0.8
GAIN_DB = -6.0
PEAK_DBFS = -1.0


class Identity(TranslationModel):
    """Returns the source audio unchanged."""

    name: ClassVar[str] = "identity"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = "Returns the source unchanged (timbre-change floor, content ceiling)."

    def __init__(self, *, device: str = "auto"):
        super().__init__(device="cpu" if device == "auto" else device)

    def translate(self, audio: np.ndarray, *, sample_rate: int, target_domain: str,
                  context: Context) -> np.ndarray:
        return np.asarray(audio, dtype=np.float32).copy()


def render_in_domain(notes: Notes, *, program: int, sample_rate: int, n_samples: int) -> np.ndarray:
    """Render ``notes`` with ``program`` like the synthetic references, cut/padded to ``n_samples``.

    Returns
    -------
    np.ndarray, shape=(n_samples,), float32
        Peak-normalised to -1 dBFS (silence stays silence).
    """
    from ...render import render_notes

    audio = render_notes(notes, sample_rate=sample_rate, program_override=int(program), tail=TAIL, gain_db=GAIN_DB)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > 0:
        audio = audio * np.float32(10.0 ** (PEAK_DBFS / 20.0) / peak)
    out = np.zeros(n_samples, dtype=np.float32)
    n = min(n_samples, len(audio))
    out[:n] = audio[:n]
    return out


def _program(model: TranslationModel, target_domain: str, override: int | None) -> int:
    if override is not None:
        return override
    from ...datasets.translation_domains import get_domain

    try:
        return get_domain(target_domain).program
    except ConfigError as exc:
        raise ConfigError(f"{model.name}: {exc}") from None


def _check_program(name: str, program: Any) -> int | None:
    if program is None:
        return None
    if isinstance(program, bool) or not isinstance(program, int) or not 0 <= program <= 127:
        raise ConfigError(f"{name}: program must be a General MIDI program 0-127, not {program!r}")
    return int(program)


class Resynth(TranslationModel):
    """Transcribe, then render the notes with the target domain's program.

    Parameters
    ----------
    transcriber : str
        A registered transcription model (default ``basic-pitch``).
    transcriber_params : dict
        Its parameters.
    program : int, optional
        Render with this General MIDI program instead of the target domain's.
    """

    name: ClassVar[str] = "resynth"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = ("Transcription (basic-pitch) then resynthesis with the target domain's GM "
                                  "program (TimGM6mb), the level-0 translation baseline.")

    def __init__(self, *, device: str = "auto", transcriber: str = "basic-pitch",
                 transcriber_params: dict[str, Any] | None = None, program: int | None = None):
        super().__init__(device=device, transcriber=transcriber, transcriber_params=dict(transcriber_params or {}),
                         program=program)
        self.program = _check_program(self.name, program)
        from .. import get_model_class

        self._transcriber_cls = get_model_class(transcriber, family="transcription")
        self._transcriber: Any = None

    def load(self) -> None:
        try:
            self._transcriber = self._transcriber_cls(device=self.device, **self.params["transcriber_params"])
        except TypeError as exc:
            raise ConfigError(f"resynth: bad transcriber_params for {self.params['transcriber']} ({exc})") from None
        self._transcriber.load()

    def package_version(self) -> str | None:
        try:
            return metadata.version("tinysoundfont")
        except metadata.PackageNotFoundError:
            return None

    def info(self) -> dict[str, Any]:
        out = super().info()
        if self._transcriber is not None:
            out["transcriber"] = self._transcriber.info()
        return out

    def weights_sha256(self) -> str | None:
        return self._transcriber.weights_sha256() if self._transcriber is not None else None

    def translate(self, audio: np.ndarray, *, sample_rate: int, target_domain: str,
                  context: Context) -> np.ndarray:
        program = _program(self, target_domain, self.program)
        if self._transcriber is None:
            self.load()
        notes = self._transcriber.transcribe(np.asarray(audio, dtype=np.float32), sample_rate=sample_rate,
                                             context=context)
        return render_in_domain(notes.select(~notes.is_drum), program=program, sample_rate=sample_rate,
                                n_samples=len(audio))


class OracleResynth(TranslationModel):
    """Render the item's own score with the target domain's program (uses the reference).

    Parameters
    ----------
    program : int, optional
        Render with this General MIDI program instead of the target domain's.
    """

    name: ClassVar[str] = "oracle-resynth"
    version: ClassVar[str] = "1"
    uses_reference: ClassVar[bool] = True
    description: ClassVar[str] = ("Renders the item's score with the target domain's program: the paired "
                                  "upper bound on synthetic tasks.")

    def __init__(self, *, device: str = "auto", program: int | None = None):
        super().__init__(device="cpu" if device == "auto" else device, program=program)
        self.program = _check_program(self.name, program)

    def translate(self, audio: np.ndarray, *, sample_rate: int, target_domain: str,
                  context: Context) -> np.ndarray:
        ref = context.reference if context is not None else None
        if not isinstance(ref, Notes):
            item = context.item.id if context is not None and context.item is not None else "?"
            raise ModelError(f"{self.name}: no reference notes for item {item!r} "
                             "(the harness passes them only to models with uses_reference = True)")
        program = _program(self, target_domain, self.program)
        return render_in_domain(ref.select(~ref.is_drum), program=program, sample_rate=sample_rate,
                                n_samples=len(audio))
