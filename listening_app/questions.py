"""The question types a study can ask, with their scales.

- ``quality``, ``similarity``: absolute category rating (ACR), 1-5 (ITU-T P.800 Annex B labels).
- ``degradation``: degradation category rating (DCR), 1-5 (ITU-T P.800 Annex D labels): the
  reference is played first, then the clip; the mean is the DMOS.
- ``mushra``: 0-100 continuous quality scale (ITU-R BS.1534-3), one slider per condition.
- ``preference``: A/B preference, 1 = first clip (A), 2 = second clip (B), 0 = no preference.
"""
from __future__ import annotations

from dataclasses import dataclass

from musebench.errors import UnknownNameError


@dataclass(frozen=True)
class Question:
    key: str
    prompt: str
    labels: dict[int, str]       # value -> label (shown order)
    needs_source: bool = False   # the source clip is shown and playable beside the stimulus
    low: int = 1                 # smallest valid answer
    high: int = 5                # largest valid answer

    def option_text(self, value: int) -> str:
        if self.key == "preference":
            return self.labels[value]
        return f"{value} - {self.labels[value]}"

    @property
    def options(self) -> list[int]:
        return list(self.labels)

    def valid(self, value: object) -> bool:
        """True for an int (not bool) within ``low..high`` (and one of the labels for a category scale)."""
        import numpy as np

        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            return False
        v = int(value)
        return self.low <= v <= self.high and (self.key == "mushra" or v in self.labels)


ACR_LABELS = {5: "Excellent", 4: "Good", 3: "Fair", 2: "Poor", 1: "Bad"}
DCR_LABELS = {5: "Degradation is inaudible", 4: "Degradation is audible but not annoying",
              3: "Degradation is slightly annoying", 2: "Degradation is annoying", 1: "Degradation is very annoying"}
#: BS.1534-3 quality scale: five equal intervals of the 0-100 slider
MUSHRA_BANDS = {100: "Excellent", 80: "Good", 60: "Fair", 40: "Poor", 20: "Bad"}

QUESTIONS: dict[str, Question] = {
    "quality": Question("quality", "How would you rate the overall audio quality of this clip?", ACR_LABELS),
    "similarity": Question("similarity",
                           "How similar is the music of this clip to the source clip "
                           "(melody, rhythm, harmony; not the instrument or sound)?",
                           {5: "Identical", 4: "Very similar", 3: "Somewhat similar", 2: "Slightly similar",
                            1: "Not similar at all"}, needs_source=True),
    "degradation": Question("degradation", "Compared with the reference, how would you describe the second clip?",
                            DCR_LABELS),
    "mushra": Question("mushra", "Rate the quality of each clip compared with the reference (0-100).",
                       MUSHRA_BANDS, low=0, high=100),
    "preference": Question("preference", "Which clip do you prefer?",
                           {1: "A", 2: "B", 0: "No preference"}, low=0, high=2),
}

#: the questions each protocol asks (ACR: per family, see musebench.listening_app.study.DEFAULT_QUESTIONS)
PROTOCOL_QUESTIONS = {"dcr": ("degradation",), "mushra": ("mushra",), "ab": ("preference",)}


def get_question(key: str) -> Question:
    if key not in QUESTIONS:
        raise UnknownNameError("question", key, QUESTIONS)
    return QUESTIONS[key]
