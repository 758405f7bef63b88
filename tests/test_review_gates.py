"""Review gates: a run waits for a person's decision at the script, the storyboard and the cut."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from inkreel.agents import director
from inkreel.graphs.fan_out import keyframe_sends
from inkreel.graphs.state import reads_state
from inkreel.media.fountain import read_fountain
from inkreel.project import Project
from inkreel.run import RunError, answer_review, episode_state, pending_review, run_episode
from inkreel.schemas import Script, Shot
from inkreel.schemas.episode import EpisodeRequest

from .conftest import IDEA, open_context

FOUNTAIN = """Title: The Letter

INT. TEA HOUSE - NIGHT

Mei waits by the window.

MEI
Did you read my letter?

AIKO
Every word of it.
"""


def start(root: Path, review: list[str], **request: Any) -> tuple[Project, dict[str, Any]]:
    project = Project.open(root)
    fields: dict[str, Any] = {"idea": IDEA, "length_s": 15, "language": "en", "seed": 3}
    first: dict[str, Any] = {}
    if "script" in request:
        first["script"] = request.pop("script")
        fields = {"script_file": "letter.fountain", "language": "en"}
    req = EpisodeRequest(episode="ep01", review=review, **(fields | request))  # type: ignore[arg-type]
    values = run_episode(project, req, {"request": req, **first})
    return project, values


def edit(name: str, **args: Any) -> dict[str, Any]:
    return {"type": "edit", "edited_action": {"name": name, "args": args}}


def test_every_gate_edited_or_approved_reaches_the_delivered_episode(tmp_path: Path) -> None:
    project, _ = start(tmp_path / "p", ["script", "storyboard", "cut"])
    asked = pending_review(project, "ep01")
    assert asked is not None and asked["gate"] == "script" and asked["problem"] is None
    action = asked["action_requests"][0]
    assert action["name"] == "review_script"
    assert asked["review_configs"] == [
        {"action_name": "review_script", "allowed_decisions": ["approve", "edit", "reject"]}
    ]
    # Nothing is designed before the script is approved.
    assert not (project.root / "episodes" / "ep01" / "manifest.json").exists()
    assert not episode_state(project, "ep01").values["cast"]

    # The writer changes a line in the Fountain text.
    text = action["args"]["fountain"]
    line = Script.model_validate(action["args"]["script"]).dialogue()[0][1].text
    mine = "I kept your letter under the lamp for nine winters."
    assert line in text
    answer_review(project, "ep01", edit("review_script", fountain=text.replace(line, mine, 1)))

    asked = pending_review(project, "ep01")
    assert asked is not None and asked["gate"] == "storyboard"
    args = asked["action_requests"][0]["args"]
    assert args["estimate_usd"] == 0.0  # offline: drawing costs nothing
    state = episode_state(project, "ep01").values
    assert not state["keyframes"]  # nothing drawn before the storyboard is approved
    assert state["script"].dialogue()[0][1].text == mine
    shot = next(s for s in args["shots"] if s["framing"] in ("medium", "wide", "two_shot"))
    answer_review(
        project, "ep01", edit("review_storyboard", shots=[{**shot, "framing": "close_up"}])
    )

    asked = pending_review(project, "ep01")
    assert asked is not None and asked["gate"] == "cut"
    assert asked["action_requests"][0]["args"]["outputs"]["video"] == "episodes/ep01/episode.mp4"
    values = answer_review(project, "ep01", {"type": "approve"})
    assert pending_review(project, "ep01") is None

    folder = project.root / "episodes" / "ep01"
    assert (folder / "manifest.json").exists()
    # The human line survives to the delivered screenplay (no earlier draft came back).
    assert mine in (folder / "script.fountain").read_text(encoding="utf-8")
    # The storyboard edit reached the keyframe: the shot was restaged and drawn close.
    edited = values["shots"][shot["id"]]
    assert edited.framing == "close_up"
    assert edited.camera.view_width < shot["camera"]["view_width"]
    assert [r.gate for r in values["reviews"]] == ["script", "storyboard", "cut"]
    assert [r.decision for r in values["reviews"]] == ["edit", "edit", "approve"]
    # The keyframe drawn is the edited shot's: the planned shot, drawn, shows the face smaller.
    planned = Shot.model_validate(shot)
    task = next(
        send.arg
        for send in keyframe_sends(values, {planned.id: planned})
        if send.arg.shot.id == planned.id
    )
    with open_context(tmp_path / "other", seed=3) as live:
        before, _, _ = director.draw_keyframe(live, task)
    after = values["keyframes"][planned.id]

    def face(figures: list[Any]) -> int:
        return max(f.face.y1 - f.face.y0 for f in figures if f.face is not None)

    assert face(after.figures) > 1.5 * face(before.figures)


def test_a_rejected_script_is_drafted_again_with_the_note(tmp_path: Path) -> None:
    project, _ = start(tmp_path / "p", ["script"])
    first = pending_review(project, "ep01")
    assert first is not None
    old = Script.model_validate(first["action_requests"][0]["args"]["script"])
    answer_review(project, "ep01", {"type": "reject", "message": "Make Aiko braver."})
    again = pending_review(project, "ep01")
    assert again is not None and again["gate"] == "script"
    new = Script.model_validate(again["action_requests"][0]["args"]["script"])
    assert new != old  # a new draft (offline: new dice; the engine cannot read the note)
    state = episode_state(project, "ep01").values
    assert [(r.decision, r.note) for r in state["reviews"]] == [("reject", "Make Aiko braver.")]
    assert state["script_review"].attempts == 1  # the new draft is checked from scratch


def test_a_rejected_storyboard_is_planned_again(tmp_path: Path) -> None:
    project, _ = start(tmp_path / "p", ["storyboard"])  # no script gate: straight on
    first = pending_review(project, "ep01")
    assert first is not None and first["gate"] == "storyboard"
    old = [(s["id"], s["framing"]) for s in first["action_requests"][0]["args"]["shots"]]
    answer_review(project, "ep01", {"type": "reject", "message": "More over-the-shoulders."})
    again = pending_review(project, "ep01")
    assert again is not None and again["gate"] == "storyboard"
    new = [(s["id"], s["framing"]) for s in again["action_requests"][0]["args"]["shots"]]
    assert [i for i, _ in new] == [i for i, _ in old] and new != old


def test_an_unusable_answer_is_asked_again_with_the_problem(tmp_path: Path) -> None:
    project, _ = start(tmp_path / "p", ["script", "storyboard"])
    answer_review(project, "ep01", edit("review_script", fountain="   "))
    asked = pending_review(project, "ep01")
    assert asked is not None and asked["gate"] == "script"
    assert "empty" in asked["problem"]
    answer_review(project, "ep01", {"type": "maybe"})
    asked = pending_review(project, "ep01")
    assert asked is not None and "not a decision" in asked["problem"]
    answer_review(project, "ep01", {"type": "approve"})
    asked = pending_review(project, "ep01")
    assert asked is not None and asked["gate"] == "storyboard"
    answer_review(project, "ep01", edit("review_storyboard", shots=[{"id": "s99-001"}]))
    asked = pending_review(project, "ep01")
    assert asked is not None and "give the id of a planned shot" in asked["problem"]


def test_a_users_own_screenplay_is_never_rewritten(tmp_path: Path) -> None:
    project, _ = start(tmp_path / "p", ["script"], script=read_fountain(FOUNTAIN))
    asked = pending_review(project, "ep01")
    assert asked is not None
    assert asked["review_configs"][0]["allowed_decisions"] == ["approve", "edit"]
    answer_review(project, "ep01", {"type": "reject", "message": "rewrite it"})
    asked = pending_review(project, "ep01")
    assert asked is not None and "takes approve, edit, not reject" in asked["problem"]


def test_a_run_not_waiting_cannot_be_answered(tmp_path: Path) -> None:
    project = Project.open(tmp_path / "p")
    with pytest.raises(RunError, match="no episode 'ep01'"):
        answer_review(project, "ep01", {"type": "approve"})


def test_state_sent_as_json_is_read_as_the_models() -> None:
    script = read_fountain(FOUNTAIN)
    request = EpisodeRequest(episode="ep01", script_file="x.fountain")
    seen: list[Any] = []
    reads_state(lambda state: seen.append(state))(
        {"request": request.model_dump(mode="json"), "script": script.model_dump(mode="json")}
    )
    assert seen[0]["script"] == script and isinstance(seen[0]["request"], EpisodeRequest)
