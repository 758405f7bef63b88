"""LLM-as-judge prompt alignment: a hosted model that reads images grades each keyframe
against what its shot asked for, on ViStoryBench's 0-4 scale (prompt `alignment_judge`).

The request per shot is the storyboard's own: the people blocked in it, the place and time of
day, framing and angle, and the action or line. The calls go through `Dispatch.structured`
as the continuity agent's task "judge" (so only roster models that read images are asked,
never the offline engine), paid in the cell's ledger and answered from it when asked again.
Reported apart from the weight-free scores (`metrics`: judge/prompt_alignment, judged).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from inkreel.agents.judge import image_data_url
from inkreel.checks import Bundle
from inkreel.prompts import system_prompt
from inkreel.providers.dispatch import Answer, Dispatch
from inkreel.providers.errors import UnusableAnswer
from inkreel.providers.prompt_io import tag
from inkreel.providers.router import AllProvidersFailed
from inkreel.schemas import Shot

AGENT = "continuity"  # routed to the task "judge"
PROMPT = "alignment_judge"


class AlignmentVerdict(BaseModel):
    """The judge's grade of one keyframe against its shot."""

    score: int = Field(ge=0, le=4, description="0 (not this shot) to 4 (everything asked).")
    reason: str = Field(description="One sentence: what decided the score.")


def shot_request(shot: Shot) -> dict[str, Any]:
    """What the shot asked for, as the judge reads it."""
    return {
        "on_screen": [b.character for b in shot.blocking],
        "place": shot.location,
        "time_of_day": shot.time_of_day,
        "framing": shot.framing.value,
        "angle": shot.angle.value,
        "action": shot.text,
        "speaker": shot.speaker,
    }


def judge_alignment(
    calls: Dispatch, bundle: Bundle, shot_ids: Iterable[str] | None = None
) -> dict[str, tuple[int | None, str]]:
    """Each shot's grade (None when no model could judge it) and the judge's reason."""
    wanted = set(shot_ids) if shot_ids is not None else None
    grades: dict[str, tuple[int | None, str]] = {}
    for shot in bundle.board.shots:
        if wanted is not None and shot.id not in wanted:
            continue
        frame = bundle.board.keyframes.get(shot.id)
        url = image_data_url(bundle.root / frame.path) if frame is not None else None
        if url is None:
            grades[shot.id] = (None, "no keyframe image")
            continue
        messages = [
            SystemMessage(system_prompt(PROMPT)),
            HumanMessage(
                content=[
                    {"type": "text", "text": tag("shot", shot_request(shot))},
                    {"type": "image_url", "image_url": {"url": url}},
                ]
            ),
        ]
        try:
            answer: Answer[AlignmentVerdict] = calls.structured(
                AGENT, AlignmentVerdict, messages, f"align-{shot.id}"
            )
        except (AllProvidersFailed, UnusableAnswer) as exc:
            grades[shot.id] = (None, f"no verdict: {exc}")
            continue
        grades[shot.id] = (answer.value.score, answer.value.reason)
    return grades
