"""An episode as plain JSON data, for a front end's artifacts pane (the web page's).

    view = episode_view(project, "ep01")                  # the episode as it is made
    view = episode_view(project, "ep01", chat=values)     # with a conversation's changes

It reads the episode's checkpoint and the ledger, never runs anything, and never raises for
what is not there yet: a part the episode does not have (no script yet, not delivered) is
null or empty. With a conversation's state (`ChatSession.values()`), the view also shows what
the writer changed and has not had made: the script draft at the script gate, storyboard edits
before the drawing, retakes and line edits before "render".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inkreel.graphs.changes import numbered_lines
from inkreel.project import Project
from inkreel.providers.budget import Ledger
from inkreel.run import EPISODE_NAME, episode_stage, episode_state
from inkreel.schemas import Script


def episode_view(
    project: Project, episode: str | None, chat: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The episode as JSON-ready data: its script, storyboard, files, continuity and cost.

    `chat` is the state of the conversation making it (optional): its stage stands in before
    the episode exists, and its changes not yet made are shown with the script and shots.
    """
    chat = chat or {}
    view: dict[str, Any] = {
        "episode": episode,
        "stage": chat.get("stage"),
        "script": None,
        "storyboard": [],
        "video": None,
        "subtitles": None,
        "outputs": {},
        "continuity": None,
        "cost_usd": 0.0,
        "pending": {"retakes": list(chat.get("retakes") or []),
                    "line_edits": list(chat.get("line_edits") or [])},
    }  # fmt: skip
    if not episode or not EPISODE_NAME.match(episode):
        return view
    state = episode_state(project, episode)
    values = dict(state.values)
    if not values:
        return view
    view["stage"] = episode_stage(project, episode, state)
    draft = chat.get("script_draft") if view["stage"] == "script" else None
    script = _script(draft, values.get("script"))
    if script is not None:
        view["script"] = script_view(script, draft is not None)
    view["storyboard"] = storyboard_view(values, script, chat)
    outputs = {k: str(v) for k, v in (values.get("outputs") or {}).items()}
    view["outputs"] = outputs
    view["video"] = outputs.get("video")
    view["subtitles"] = outputs.get("subtitles")
    view["continuity"] = continuity_view(values.get("continuity"))
    view["cost_usd"] = spent_usd(project, episode)
    return view


def _script(draft: Any, script: Any) -> Script | None:
    if draft:
        try:
            return Script.model_validate(draft)
        except ValueError:  # a draft that no longer reads: show the episode's own
            pass
    return script if isinstance(script, Script) else None


def script_view(script: Script, draft: bool = False) -> dict[str, Any]:
    """The script scene by scene; dialogue lines carry their number (1..N in order, the
    numbers `edit_line` takes)."""
    numbers = {
        (scene.number, i): n for n, (_, scene, i, _) in enumerate(numbered_lines(script), start=1)
    }
    scenes = []
    for scene in script.scenes:
        beats = []
        for i, beat in enumerate(scene.beats):
            beats.append(
                {
                    "kind": beat.kind,
                    "character": beat.character,
                    "parenthetical": beat.parenthetical,
                    "emotion": beat.emotion.value,
                    "text": beat.text,
                    "line": numbers.get((scene.number, i)),
                }
            )
        scenes.append(
            {
                "number": scene.number,
                "heading": scene.heading,
                "characters": list(scene.characters),
                "beats": beats,
            }
        )
    return {
        "title": script.title,
        "logline": script.logline,
        "characters": list(script.characters),
        "language": script.language,
        "draft": draft,
        "lines": len(numbers),
        "scenes": scenes,
    }


def storyboard_view(
    values: Mapping[str, Any], script: Script | None, chat: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """One entry per shot in order: its camera, line, keyframe, continuity status and any
    change the writer asked for and has not had made."""
    shots = values.get("shots") or {}
    keyframes = values.get("keyframes") or {}
    status = _statuses(values.get("continuity"))
    lines = (
        {line_id: n for n, (line_id, *_) in enumerate(numbered_lines(script), start=1)}
        if script is not None
        else {}
    )
    edits = dict(chat.get("shot_edits") or {})
    retakes = {r.get("shot"): r for r in chat.get("retakes") or [] if isinstance(r, dict)}
    board = []
    for number, shot_id in enumerate(values.get("shot_order") or [], start=1):
        shot = shots.get(shot_id)
        if shot is None:
            continue
        keyframe = keyframes.get(shot_id)
        pending = {
            k: v for k, v in {**edits.get(shot_id, {}), **retakes.get(shot_id, {})}.items()
            if k not in ("id", "shot") and v not in (None, "", [])
        }  # fmt: skip
        board.append(
            {
                "number": number,
                "id": shot.id,
                "scene": shot.scene,
                "framing": shot.framing.value,
                "angle": shot.angle.value,
                "move": shot.move.value,
                "speaker": shot.speaker,
                "text": shot.text,
                "line": lines.get(shot.line_id) if shot.line_id else None,
                "duration_s": round(float(shot.duration_s), 3),
                "keyframe": str(keyframe.path) if keyframe is not None else None,
                "continuity": status.get(shot_id),
                "pending": pending or None,
            }
        )
    return board


def _statuses(report: Any) -> dict[str, str]:
    return {s.shot_id: s.status for s in getattr(report, "shots", None) or []}


def continuity_view(report: Any) -> dict[str, Any] | None:
    """The continuity report in short: passed, the shots flagged and repaired, the open
    findings (and the script's), or None before the keyframes are checked."""
    if report is None:
        return None
    shots = list(report.shots)
    findings = list(report.findings)
    script_review = report.script
    if script_review is not None:
        findings = [*script_review.findings, *findings]
    return {
        "passed": bool(report.passed),
        "rounds": report.rounds,
        "flagged": [s.shot_id for s in shots if s.status == "flagged"],
        "repaired": [s.shot_id for s in shots if s.status == "repaired"],
        "sheets_redrawn": sorted(report.sheets_redrawn),
        "findings": [
            {
                "check": f.check,
                "level": f.level,
                "shot_id": f.shot_id or None,
                "scene": f.scene,
                "severity": f.severity,
                "message": f.message,
            }
            for f in findings
        ],
        "raised": len(report.history),
    }


def spent_usd(project: Project, episode: str) -> float:
    """What the episode has cost so far (0 when nothing was ever paid in the project)."""
    if not project.ledger.exists():
        return 0.0
    ledger = Ledger.open(project)
    try:
        return round(float(ledger.spent(("episode", episode))), 6)
    finally:
        ledger.close()
