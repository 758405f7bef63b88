"""What an episode will cost, before any model is called.

The episode's shape comes from its script: an imported screenplay is read as it is; for an
idea, the offline story engine drafts the script locally (no model call, no network), which
gives the scenes, characters, locations and dialogue a hosted writer would be asked for at
that length. From the shape, every call the line makes is counted and measured in the units
providers bill (tokens, images, seconds of video, characters of speech) and priced on the
model the router would choose first for its task (`providers.budget.estimate`).

Assumptions, printed with the estimate: one shot per script beat (the director's plans land
close to that: see the README's figures), prompt and answer sizes per text call from the
constants below, no continuity retries, no fallbacks. With a judge set, one judge call per
shot: its text, the keyframe and up to four references, each image billed as
`IMAGE_PART_TOKENS`. Treat the total as the expected cost,
not a ceiling; the run's own ledger enforces the cap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from langchain_core.messages import HumanMessage, SystemMessage

from inkreel.memory.retrieval import MAX_REFERENCES
from inkreel.prompts import system_prompt
from inkreel.providers.budget import (
    BudgetExceeded,
    Chooser,
    EstimateReport,
    PlannedCall,
    estimate,
)
from inkreel.providers.dispatch import IMAGE_PART_TOKENS
from inkreel.providers.offline.chat import OfflineChatModel
from inkreel.providers.prompt_io import tag
from inkreel.providers.roster import ModelEntry, Roster, Task
from inkreel.providers.router import Router
from inkreel.schemas import Script
from inkreel.settings import Settings

# Tokens per text call: the system prompt and schema plus the call's context, and the answer.
PROMPT_TOKENS = 1800
DESIGN_ANSWER_TOKENS = 450
PLAN_ANSWER_TOKENS_PER_SHOT = 90
JUDGE_TEXT_TOKENS = 1500  # the judge's system prompt, schema and one shot's facts
JUDGE_ANSWER_TOKENS = 300
CHARS_PER_TOKEN = 4
SECONDS_PER_BEAT_WITHOUT_LINE = 2.5
WORDS_PER_SECOND = 2.6
VIDEO_MIN_S, VIDEO_MAX_S = 2, 10  # what the video clients ask a vendor for, per shot
# A cap suggested for resuming covers the estimate plus this share: the estimate counts no
# continuity retries, repairs or fallbacks.
RESUME_MARGIN = 0.25


@dataclass(frozen=True)
class Shape:
    """What drives an episode's cost."""

    scenes: int
    characters: int
    locations: int
    beats: int
    lines: int
    line_chars: int
    seconds: float
    script_tokens: int


def draft_script(idea: str, length_s: float, language: str, seed: int) -> Script:
    """The offline engine's script for an idea: the same request the screenwriter makes."""
    prompt = "\n".join(
        [tag("idea", idea), tag("runtime_seconds", f"{length_s:g}"), tag("language", language)]
    )
    messages = [SystemMessage(system_prompt("screenwriter")), HumanMessage(prompt)]
    script = OfflineChatModel(seed=seed).with_structured_output(Script).invoke(messages)
    assert isinstance(script, Script)
    return script


def shape_of(script: Script, length_s: float) -> Shape:
    beats = [b for s in script.scenes for b in s.beats]
    lines = [b for b in beats if b.kind == "dialogue"]
    spoken = sum(len(b.text.split()) for b in lines) / WORDS_PER_SECOND
    seconds = max(length_s, spoken + SECONDS_PER_BEAT_WITHOUT_LINE * (len(beats) - len(lines)))
    return Shape(
        scenes=len(script.scenes),
        characters=len(script.characters),
        locations=len({s.location for s in script.scenes}),
        beats=len(beats),
        lines=len(lines),
        line_chars=sum(len(b.text) for b in lines),
        seconds=seconds,
        script_tokens=math.ceil(len(script.model_dump_json()) / CHARS_PER_TOKEN),
    )


def planned_calls(
    shape: Shape, written: bool, animate: bool, judge: bool = False
) -> list[PlannedCall]:
    """Every call of an episode of this shape, in billing units."""
    shots = max(1, shape.beats)
    per_shot_s = shape.seconds / shots
    calls: list[PlannedCall] = []
    if not written:
        units: dict[str, float] = {
            "input_tokens": PROMPT_TOKENS,
            "output_tokens": shape.script_tokens,
        }
        calls.append(PlannedCall("write", units))
    design: dict[str, float] = {
        "input_tokens": PROMPT_TOKENS,
        "output_tokens": DESIGN_ANSWER_TOKENS,
    }
    calls.append(PlannedCall("design", design, shape.characters + shape.locations))
    plan: dict[str, float] = {
        "input_tokens": PROMPT_TOKENS + shape.script_tokens / max(1, shape.scenes),
        "output_tokens": PLAN_ANSWER_TOKENS_PER_SHOT * shots / max(1, shape.scenes),
    }
    calls.append(PlannedCall("storyboard", plan, shape.scenes))
    calls.append(PlannedCall("keyframe", {"images": 1}, shots))
    if shape.lines:
        mean_chars = shape.line_chars / shape.lines
        calls.append(PlannedCall("voice", {"speech_chars": mean_chars}, shape.lines))
    if animate:
        clip = min(VIDEO_MAX_S, max(VIDEO_MIN_S, math.ceil(per_shot_s)))
        calls.append(PlannedCall("animate", {"video_seconds": clip}, shots))
    if judge:
        # The keyframe, each character's front view and the set's plate.
        images = 1 + min(MAX_REFERENCES, shape.characters + 1)
        seen: dict[str, float] = {
            "input_tokens": JUDGE_TEXT_TOKENS + images * IMAGE_PART_TOKENS,
            "output_tokens": JUDGE_ANSWER_TOKENS,
        }
        calls.append(PlannedCall("judge", seen, shots))
    return calls


def estimate_episode(
    script: Script,
    length_s: float,
    written: bool,
    roster: Roster,
    router: Chooser,
    judge: bool = False,
) -> tuple[Shape, EstimateReport]:
    animate = not router.choose("animate").offline
    shape = shape_of(script, length_s)
    return shape, estimate(planned_calls(shape, written, animate, judge), roster, router)


# What a run still calls once the storyboard is planned: per shot, a keyframe (and a clip,
# and a judge's look when set).
AFTER_STORYBOARD = frozenset({"keyframe", "animate", "judge"})


def estimate_rest_of_storyboard(
    script: Script,
    length_s: float,
    shots: int,
    roster: Roster,
    router: Chooser,
    judge: bool = False,
) -> EstimateReport:
    """What drawing (and animating) a planned storyboard of `shots` shots will cost."""
    animate = not router.choose("animate").offline
    shape = replace(shape_of(script, length_s), beats=shots)
    calls = [c for c in planned_calls(shape, True, animate, judge) if c.task in AFTER_STORYBOARD]
    return estimate(calls, roster, router)


def over_budget(
    stop: BudgetExceeded,
    script: Script | None,
    idea: str | None,
    length_s: float,
    language: str,
    seed: int,
    roster: Roster,
    router: Chooser,
    judge: bool,
    spent_usd: float,
    resume: str,
) -> EpisodeOverBudget:
    """The episode's budget stop, with what the rest of it needs from the estimate.

    `script` is the episode's script once the screenwriter wrote it (or the imported one);
    before that the estimate drafts it from the idea, as `inkreel estimate` does.
    """
    if script is None:
        assert idea is not None, "an episode without a script has an idea"
        script = draft_script(idea, length_s, language, seed)
    _, report = estimate_episode(script, length_s, idea is None, roster, router, judge)
    return EpisodeOverBudget(stop, report.total_usd, spent_usd, resume)


class EpisodeOverBudget(BudgetExceeded):
    """An episode's budget stop that says what the rest of the episode needs, not only the
    next call, and which cap would let a resume finish it."""

    def __init__(
        self, stop: BudgetExceeded, estimate_usd: float, spent_usd: float, resume: str
    ) -> None:
        super().__init__(stop.scope, stop.cap, stop.committed, stop.needed)
        self.estimate_usd = estimate_usd
        self.spent_usd = spent_usd
        # At least the next call: the estimate may already be spent on retries and repairs.
        self.rest_usd = max(estimate_usd - spent_usd, stop.needed)
        self.suggested_usd = suggested_cap(spent_usd, self.rest_usd)
        kind, name = stop.scope
        message = (
            f"budget for {kind} {name!r} is ${stop.cap:.4f} and ${spent_usd:.4f} is spent; the "
            f"rest of the episode needs about ${self.rest_usd:.4f} more (the whole episode is "
            f"estimated at ${estimate_usd:.4f}, without retries). Raise the episode cap to at "
            f"least ${spent_usd + self.rest_usd:.4f}; with a margin for retries: "
            f"{resume} --budget {self.suggested_usd:.2f}"
        )
        self.args = (message,)


def suggested_cap(spent_usd: float, rest_usd: float) -> float:
    """A cap in whole cents covering what is spent, the rest, and a margin on the rest."""
    return math.ceil((spent_usd + rest_usd * (1 + RESUME_MARGIN)) * 100 - 1e-9) / 100


# What each step a writer approves in a chat calls: the script, the designs and voices with
# the storyboard plan, one shot made again, one line re-voiced and its shot made again.
STEP_TASKS = {
    "write": frozenset({"write"}),
    "design": frozenset({"design", "voice", "storyboard"}),
    "retake": AFTER_STORYBOARD,
    "line": AFTER_STORYBOARD | {"voice"},
}


def estimate_step(
    script: Script,
    length_s: float,
    step: str,
    roster: Roster,
    router: Chooser,
    judge: bool = False,
) -> float:
    """What one step of the line costs for this script, in USD (see STEP_TASKS)."""
    animate = not router.choose("animate").offline
    shape = shape_of(script, length_s)
    if step in ("retake", "line"):  # one shot, one line
        shape = replace(shape, beats=1, seconds=shape.seconds / max(1, shape.beats))
        shape = replace(shape, line_chars=shape.line_chars // max(1, shape.lines), lines=1)
    calls = planned_calls(shape, False, animate, judge)
    return estimate([c for c in calls if c.task in STEP_TASKS[step]], roster, router).total_usd


class PinnedChooser:
    """Pinned tasks go to their pin; the rest to what the router picks with this machine's
    keys (so a placeholder key for a pin does not make other models look usable)."""

    def __init__(self, router: Router, pinned: Router) -> None:
        self.router = router
        self.pinned = pinned

    def choose(self, task: Task) -> ModelEntry:
        if task in self.pinned.overrides:
            return self.pinned.choose(task)
        return self.router.choose(task)


def pricing_chooser(
    roster: Roster, settings: Settings, environ: Mapping[str, str]
) -> tuple[PinnedChooser, list[str]]:
    """The models an estimate prices, and the keys the pinned ones lack here.

    Pricing a model needs no key: a pinned model whose key is not set is priced as if it
    were (the run itself will still ask for the key); unpinned tasks are priced on what the
    router would choose on this machine. Raises RouterError for an unusable choice.
    """
    pins = settings.task_models()
    missing = []
    for model_id in pins.values():
        entry = roster.get(model_id) if model_id in roster else None
        if entry is not None and entry.api_key_env and not environ.get(entry.api_key_env):
            missing.append(entry.api_key_env)
    keyless = {**environ, **{name: "unset" for name in missing}}
    router = Router(roster, settings.policy, None, environ)
    pinned = Router(roster, settings.policy, pins, keyless)  # type: ignore[arg-type]
    return PinnedChooser(router, pinned), missing
