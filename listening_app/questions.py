"""The question types a study can ask, each on a 1-5 scale."""
from __future__ import annotations

from dataclasses import dataclass

from benchmark.errors import UnknownNameError


@dataclass(frozen=True)
class Question:
    key: str
    prompt: str
    labels: dict[int, str]       # value -> label, 5 first
    needs_source: bool = False   # the source clip is shown and playable beside the stimulus

    def option_text(self, value: int) -> str:
        return f"{value} - {self.labels[value]}"


QUESTIONS: dict[str, Question] = {
    # ITU-T P.800 absolute category rating (ACR) labels.
    "quality": Question("quality", "How would you rate the overall audio quality of this clip?",
                        {5: "Excellent", 4: "Good", 3: "Fair", 2: "Poor", 1: "Bad"}),
    "similarity": Question("similarity",
                           "How similar is the music of this clip to the source clip "
                           "(melody, rhythm, harmony; not the instrument or sound)?",
                           {5: "Identical", 4: "Very similar", 3: "Somewhat similar", 2: "Slightly similar",
                            1: "Not similar at all"}, needs_source=True),
}


def get_question(key: str) -> Question:
    if key not in QUESTIONS:
        raise UnknownNameError("question", key, QUESTIONS)
    return QUESTIONS[key]
