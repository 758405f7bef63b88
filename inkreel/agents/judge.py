"""An optional vision-LLM judge: a hosted model looks at each keyframe beside its references.

    findings = judge_shots(ctx.providers.calls, bundle, ["s02-003"])

The image checks (`checks.image`) measure pixels against what the procedural renderer would
draw. The judge asks a hosted model that reads images the same questions in words, which also
works for keyframes no renderer of ours drew: one request per shot carries the storyboard's
facts (who should be on screen with their design colours, the set, the time of day, the
framing), the keyframe and at most MAX_REFERENCES references (each expected character's
turnaround view as the shot sees them, then the set's plate at the shot's time of day, then
their faces where the shot shows them: `memory.retrieval`), each downscaled to
IMAGE_MAX_SIDE px. The model answers a `JudgeVerdict`; each problem in it becomes an
image-level Finding named like the image checks' findings (`DETECTS`), so it routes, scores
and evaluates like theirs, with `evidence["source"] == "judge"`, the model's confidence and
the model id. A problem of the reference sheet itself goes to the character designer.

The calls go through `Dispatch.structured` as the continuity agent's task "judge": routed to a
roster entry that serves it (only models that read images do; never the offline engine),
rate-limited, paid in the ledger and answered from it after a resume. A shot no model could
judge (every candidate failed, even after the structured-output repair) gets no findings and a
note in `bundle.notes`: the judge adds to the pixel checks, it does not stop the line.
"""

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from PIL import Image
from pydantic import BaseModel, Field

from inkreel.checks.bundle import Bundle
from inkreel.memory.retrieval import (
    MAX_REFERENCES,
    LabelsOf,
    labelled_references,
    pick_face,
    pick_view,
    shot_expression,
    shot_view,
)
from inkreel.prompts import system_prompt
from inkreel.providers.dispatch import Answer, Dispatch
from inkreel.providers.errors import UnusableAnswer
from inkreel.providers.prompt_io import tag
from inkreel.providers.router import AllProvidersFailed
from inkreel.schemas import Finding, Shot

AGENT = "continuity"  # Dispatch routes the continuity agent's structured calls to task "judge"
PROMPT = "judge"
ERROR_CONFIDENCE = 0.5  # a problem at least this sure is an error, below it a warning
IMAGE_MAX_SIDE = 512
JPEG_QUALITY = 85
JUDGE_WORKERS = 8
# What a judge finding does to a take's score (see `score_factor`).
ERROR_FACTOR = 0.5
WARNING_FACTOR = 0.75

JudgeCheck = Literal[
    "identity",
    "hair_colour",
    "skin_colour",
    "outfit_colour",
    "outfit_swap",
    "figure_missing",
    "figure_extra",
    "set_element_moved",
    "set_element_missing",
    "set_element_changed",
    "mirrored_frame",
    "wrong_light",
    "wrong_set",
]


class CharacterVerdict(BaseModel):
    name: str = Field(description="An expected character, as named in <expected>.")
    visible: bool = Field(description="They are drawn in the keyframe.")
    matches_reference: bool = Field(
        description="Face, hair and outfit match their reference and design colours "
        "(true when not visible: nothing to compare)."
    )
    problem: str = Field(default="", description="What differs, in a few words; else empty.")


class JudgeProblem(BaseModel):
    check: JudgeCheck = Field(
        description="What is wrong: identity (looks like someone else), hair_colour, "
        "skin_colour or outfit_colour (that colour is off the design), outfit_swap (two "
        "characters wear each other's outfits), figure_missing (an expected character is not "
        "drawn), figure_extra (someone not expected is drawn), set_element_moved, "
        "set_element_missing or set_element_changed (a piece of the set), mirrored_frame "
        "(flipped left to right), wrong_light (another time of day), wrong_set (another "
        "location)."
    )
    character: str = Field(
        default="",
        description="The character concerned, as named in <expected>; empty for the set or "
        "the whole frame.",
    )
    description: str = Field(description="What is wrong in the keyframe, in one sentence.")
    fix: str = Field(description="One instruction for redrawing the shot right.")
    confidence: float = Field(ge=0, le=1, description="How sure you are, 0 to 1.")
    reference_wrong: bool = Field(
        default=False,
        description="True when the reference image itself is off its design, not the keyframe.",
    )


class JudgeVerdict(BaseModel):
    """One keyframe compared with its shot's storyboard facts and its references."""

    characters: list[CharacterVerdict] = Field(
        description="One entry per expected character, in the order of <expected>."
    )
    extra_figures: int = Field(ge=0, description="People drawn who are not expected.")
    set_matches: bool = Field(
        description="The background is the plate's set, its pieces in place (the camera may "
        "frame it closer or wider)."
    )
    time_of_day_matches: bool = Field(description="The light is the shot's time of day.")
    problems: list[JudgeProblem] = Field(
        default_factory=list,
        description="Every continuity problem, one entry each; empty when the keyframe is "
        "right. Each 'no' above is one.",
    )


def is_judged(finding: Finding) -> bool:
    """Whether a finding came from the judge (not from a pixel measure)."""
    return finding.evidence.get("source") == "judge"


def score_factor(findings: Iterable[Finding]) -> float:
    """What the judge's findings do to a take's score, which the pixel measures cannot see:
    x0.5 per error (as a storyboard finding halves it), x0.75 per warning, 1.0 with none."""
    factor = 1.0
    for finding in findings:
        if is_judged(finding):
            factor *= ERROR_FACTOR if finding.severity == "error" else WARNING_FACTOR
    return factor


def judge_shots(
    calls: Dispatch,
    bundle: Bundle,
    shot_ids: Iterable[str],
    label: str = "",
    labels_of: LabelsOf | None = None,
) -> list[Finding]:
    """Ask the judge about each shot's keyframe; findings in storyboard order.

    `label` prefixes each call's label in the ledger and the call log (the shot id follows).
    `labels_of` gives a character's labelled reference images: in a run, the asset memory's
    (`AssetMemory.stored_references`); by default the storyboard's cast records' own.
    """
    wanted = set(shot_ids)
    requests: list[tuple[Shot, list[BaseMessage]]] = []
    for shot in bundle.board.shots:
        if shot.id not in wanted:
            continue
        messages, problem = _request(bundle, shot, labels_of or labelled_references)
        if messages is None:
            _note(bundle, f"judge skipped {shot.id}: {problem}.")
        else:
            requests.append((shot, messages))
    if not requests:
        return []

    def judge(job: tuple[Shot, list[BaseMessage]]) -> tuple[list[Finding], str]:
        shot, messages = job
        call_label = f"{label}{shot.id}"
        try:
            answer: Answer[JudgeVerdict] = calls.structured(
                AGENT, JudgeVerdict, messages, call_label
            )
        except (AllProvidersFailed, UnusableAnswer) as exc:
            return [], f"judge gave no verdict for {shot.id}: {exc}."
        return _findings(answer.value, shot, _expected(shot), answer.model_id), ""

    workers = min(JUDGE_WORKERS, len(requests))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="judge") as pool:
        results = list(pool.map(judge, requests))
    findings: list[Finding] = []
    for found, note in results:
        findings += found
        if note:
            _note(bundle, note)
    return findings


# -- the request ------------------------------------------------------------------------------


def _expected(shot: Shot) -> list[str]:
    return list(dict.fromkeys(b.character for b in shot.blocking))


def _request(
    bundle: Bundle, shot: Shot, labels_of: LabelsOf
) -> tuple[list[BaseMessage] | None, str]:
    """The messages for one shot, or None and why not."""
    keyframe = bundle.board.keyframes.get(shot.id)
    if keyframe is None:
        return None, "no keyframe in the storyboard"
    frame = image_data_url(bundle.root / keyframe.path)
    if frame is None:
        return None, f"keyframe {keyframe.path} is missing or not an image"
    images = [frame]
    captions = [f"1: the keyframe of shot {shot.id}"]
    for caption, path in _references(bundle, shot, labels_of):
        url = image_data_url(bundle.root / path)
        if url is not None:
            images.append(url)
            captions.append(f"{len(images)}: {caption}")
    text = "\n".join(
        [
            tag("shot", _shot_facts(shot)),
            tag("expected", _expected_facts(bundle, shot)),
            tag("set", _set_facts(bundle, shot)),
            tag("images", "\n".join(captions)),
        ]
    )
    content: list[str | dict[str, Any]] = [{"type": "text", "text": text}]
    content += [{"type": "image_url", "image_url": {"url": url}} for url in images]
    return [SystemMessage(system_prompt(PROMPT)), HumanMessage(content=content)], ""


def _references(bundle: Bundle, shot: Shot, labels_of: LabelsOf) -> list[tuple[str, str]]:
    """(caption, project-relative path): each expected character's turnaround view as the
    shot sees them (the speaker first), then the set's plate at the shot's time of day, then
    their expression heads where the shot shows their face, while there is room; at most
    MAX_REFERENCES."""
    location = bundle.board.locations.get(shot.location)
    plate = None
    if location is not None:
        plate = location.plates.get(shot.time_of_day) or next(iter(location.plates.values()), None)
    names = _expected(shot)
    if shot.speaker in names:
        names.remove(shot.speaker)
        names.insert(0, shot.speaker)
    blocked = {b.character: b for b in shot.blocking}
    views: list[tuple[str, str]] = []
    faces: list[tuple[str, str]] = []
    for name in names:
        character = bundle.board.cast.get(name)
        if character is None:
            continue
        labels = labels_of(character)
        seen = pick_view(labels, shot_view(shot, blocked[name]))
        if seen is not None:
            view, path = seen
            caption = f"{name}, {view.replace('_', ' ')} view from the reference sheet"
            if view in ("three_quarter", "side") and blocked[name].facing == "left":
                caption += " (drawn facing right; the shot has them facing left)"
            views.append((caption, path))
        expression = shot_expression(shot, blocked[name])
        face = pick_face(labels, expression) if expression else None
        if face is not None:
            faces.append((f"{name}'s face, {face[0]}, from the reference sheet", face[1]))
    room = MAX_REFERENCES - (1 if plate else 0)
    refs = views[:room]
    if plate:
        refs.append((f"the set {shot.location} at {shot.time_of_day}, nobody in it", plate))
    return refs + faces[: MAX_REFERENCES - len(refs)]


def _shot_facts(shot: Shot) -> dict[str, Any]:
    return {
        "id": shot.id,
        "take": shot.revision + 1,
        "scene": shot.scene,
        "beat": shot.beat,
        "location": shot.location,
        "time_of_day": shot.time_of_day,
        "framing": shot.framing.value,
        "angle": shot.angle.value,
        "move": shot.move.value,
        "reverse_angle": shot.camera.reverse,
        "speaker": shot.speaker,
        "action": shot.text,
    }


def _expected_facts(bundle: Bundle, shot: Shot) -> list[dict[str, Any]]:
    keyframe = bundle.board.keyframes.get(shot.id)
    in_frame = {f.character: f.visible_fraction for f in keyframe.figures} if keyframe else {}
    facts = []
    for b in shot.blocking:
        fact: dict[str, Any] = {
            "name": b.character,
            "screen_x": round(b.screen_x, 2),
            "facing": b.facing,
            "expression": b.expression.value,
            "speaking": b.speaking,
        }
        if b.character in in_frame:
            fact["share_in_frame"] = round(in_frame[b.character], 2)
        character = bundle.board.cast.get(b.character)
        if character is not None:
            d = character.design
            fact["design"] = {
                "hair": f"{d.hair_style.value} {d.hair_colour}",
                "skin": d.skin,
                "eyes": f"{d.eyes} {d.eye_colour}",
                "outfit": f"{d.outfit} {d.outfit_colour}".strip(),
                "accent": d.accent_colour,
                "accessories": list(d.accessories),
            }
        facts.append(fact)
    return facts


def _set_facts(bundle: Bundle, shot: Shot) -> dict[str, Any]:
    location = bundle.board.locations.get(shot.location)
    if location is None:
        return {"name": shot.location}
    d = location.design
    return {
        "name": d.name,
        "interior": d.interior,
        "description": d.description,
        "pieces": [e.kind for e in d.elements],
    }


def image_data_url(path: Path) -> str | None:
    """The image as a JPEG data URL for a vision model (None when it cannot be read)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _encoded(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=128)
def _encoded(path: str, mtime_ns: int, size: int) -> str | None:
    """A JPEG data URL of the image, at most IMAGE_MAX_SIDE a side, transparency on white."""
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                rgba = image.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.getchannel("A"))
            else:
                flat = image.convert("RGB")
    except OSError:
        return None
    flat.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    flat.save(out, format="JPEG", quality=JPEG_QUALITY)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


# -- the answer -------------------------------------------------------------------------------


def _findings(verdict: JudgeVerdict, shot: Shot, expected: list[str], model: str) -> list[Finding]:
    """One finding per distinct problem (check and character), the surest kept."""
    known = {name.casefold(): name for name in expected}
    best: dict[tuple[str, str], JudgeProblem] = {}
    for problem in verdict.problems:
        key = (problem.check, problem.character.strip().casefold())
        if key not in best or problem.confidence > best[key].confidence:
            best[key] = problem
    findings = []
    for problem in best.values():
        raw = problem.character.strip()
        name = known.get(raw.casefold(), "")
        evidence: dict[str, float | str] = {
            "source": "judge",
            "confidence": round(problem.confidence, 2),
            "model": model,
        }
        if name:
            evidence["character"] = name
            if problem.reference_wrong:
                # The continuity node sends such a sheet to the designer to be redrawn.
                evidence["sheet_off_design"] = "judge"
        elif raw:
            # Not a character of this shot: never one the repair loop should add to it.
            evidence["named"] = raw[:80]
        description = problem.description.strip().rstrip(".") or problem.check
        findings.append(
            Finding(
                check=problem.check,
                level="image",
                shot_id=shot.id,
                shots=[shot.id],
                scene=shot.scene,
                beat=shot.beat,
                severity="error" if problem.confidence >= ERROR_CONFIDENCE else "warning",
                message=f"The judge ({model}) sees in {shot.id}: {description}.",
                fix_instruction=problem.fix.strip()
                or f"Redraw {shot.id} to match its storyboard and references.",
                agent="character_designer" if "sheet_off_design" in evidence else "director",
                evidence=evidence,
            )
        )
    return findings


def _note(bundle: Bundle, note: str) -> None:
    if note not in bundle.notes:
        bundle.notes.append(note)
