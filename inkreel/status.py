"""Which of an episode's artifacts are current, stale or missing.

Every take, keyframe, clip and mix records the digest of its direct inputs (its *basis*:
`Artifact.basis`). The episode's state says what those inputs are now: an artifact whose
recorded basis is not what the state gives is *stale* (a line got new words, a shot was
restaged, and it was not made again yet); one the state has no file for is *missing*. The
model and the seed are not inputs: changing them alone makes nothing stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from inkreel.agents import director, editor
from inkreel.graphs.changes import retakes_of
from inkreel.graphs.fan_out import keyframe_sends
from inkreel.project import Project
from inkreel.run import RunError, episode_state
from inkreel.schemas import Artifact
from inkreel.settings import Settings

State = Literal["current", "stale", "missing"]


@dataclass(frozen=True)
class ArtifactStatus:
    kind: str  # voice_take, keyframe, shot_segment, audio_mix
    name: str  # the line or shot it is for
    path: str | None  # project-relative; None when the state has none
    state: State


class _Judge:
    """Compares what the state points at with the basis its inputs give now."""

    def __init__(self, project: Project, values: dict[str, Any]) -> None:
        self.root = project.root
        self.recorded: dict[str, Artifact] = {a.path: a for a in values.get("artifacts", [])}

    def __call__(self, kind: str, name: str, path: str | None, basis: str) -> ArtifactStatus:
        found = self.recorded.get(path) if path else None
        if path is None or found is None or not (self.root / path).is_file():
            return ArtifactStatus(kind, name, path, "missing")
        return ArtifactStatus(kind, name, path, "current" if found.basis == basis else "stale")


def episode_status(project: Project, episode: str) -> list[ArtifactStatus]:
    """Every take, keyframe, clip and the mix the episode's state calls for, with its state."""
    values: dict[str, Any] = dict(episode_state(project, episode).values)
    if not values:
        raise RunError(f"there is no episode {episode!r} in {project.root}.")
    return status_of(project, values)


def status_of(project: Project, values: dict[str, Any]) -> list[ArtifactStatus]:
    """The status of what an episode's state (`values`, as the models) points at."""
    judge = _Judge(project, values)
    rows: list[ArtifactStatus] = []
    if values.get("cast") and values.get("script"):
        takes = values.get("takes", {})
        for task in director.line_tasks(values):  # type: ignore[arg-type]
            take = takes.get(task.line_id)
            basis = director.take_basis(task)
            rows.append(judge("voice_take", task.line_id, take.path if take else None, basis))
    if values.get("shot_order"):
        keyframes = values.get("keyframes", {})
        for send in keyframe_sends(values):  # type: ignore[arg-type]
            shot_id = send.arg.shot.id
            retake = retakes_of(values, shot_id)  # type: ignore[arg-type]
            basis = director.keyframe_basis(send.arg.model_copy(update={"retake": retake}))
            drawn = keyframes.get(shot_id)
            rows.append(judge("keyframe", shot_id, drawn.path if drawn else None, basis))
    timeline = values.get("timeline")
    if timeline is not None:
        segments = values.get("segments", {})
        for clip in editor.segment_tasks(values):  # type: ignore[arg-type]
            shot_id = clip.clip.shot_id
            basis = editor.segment_basis(clip)
            rows.append(judge("shot_segment", shot_id, segments.get(shot_id), basis))
        music = Settings.load(project.root, **values["request"].settings).music
        basis = editor.mix_basis(timeline, music)
        rows.append(judge("audio_mix", "episode", values.get("mix"), basis))
    return rows
