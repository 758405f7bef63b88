"""Running an episode: the library API the CLI, the benchmarks and other front ends call.

    project = Project.open("my-series")
    request = new_request(project, idea="...", settings=Settings.load(project.root))
    values = run_episode(project, request, {"request": request}, on_event=print)

`run_episode` opens the run's services (ledger, providers, memory) for the episode, sweeps
partial files a killed run left, drives the graph on the project's checkpointer (or resumes
it when the first input is None), reports progress as it goes, writes `run.json` next to the
episode however the run ends, and returns the final state. A budget stop is raised with what
the rest of the episode would cost.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command, StateSnapshot

from inkreel.estimate import over_budget
from inkreel.graphs.changes import plan_changes
from inkreel.graphs.checkpoint import has_checkpoints, open_checkpointer
from inkreel.graphs.episode import build_episode_graph
from inkreel.media.story_import import script_from_story
from inkreel.media.story_json import Story
from inkreel.project import Project, read_json_object, write_text_atomic
from inkreel.providers.budget import BudgetExceeded
from inkreel.providers.router import RouterError
from inkreel.run_report import run_report
from inkreel.schemas import Gate, LineEdit, Redesign, Retake, Script
from inkreel.schemas.episode import EpisodeRequest, read_state
from inkreel.schemas.review import ReviewError, cut_edit
from inkreel.services import EpisodeContext, Services, Warn, open_services
from inkreel.settings import Settings

EPISODE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
RECURSION_LIMIT = 200
DEFAULT_LENGTH_S = 60.0  # an idea's or a story's runtime when nobody says

# Progress: an agent's event (kind, payload), and a node's finished update (node, update,
# the state before it).
OnEvent = Callable[[str, dict[str, Any]], None]
OnUpdate = Callable[[str, dict[str, Any] | None, dict[str, Any]], None]


# What a finished node did, in words (a progress line).
STAGES = {
    "write_script": "Screenwriter wrote the script",
    "check_script": "Continuity checked the script",
    "design_cast": "Character designer finished the cast and sets",
    "plan_storyboard": "Director planned the storyboard",
    "check_continuity": "Continuity checked the storyboard",
    "cut_timeline": "Editor cut the timeline",
    "mix_sound": "Editor mixed the sound",
    "assemble_episode": "Editor delivered the episode",
}


def progress_events(
    node: str, update: dict[str, Any] | None, values: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """What a node's update means for progress, as events (JSON): `bar` (a count of work
    that `take`, `keyframe` and `segment` events advance) and `stage_done`."""
    events: list[tuple[str, dict[str, Any]]] = []

    def bar(key: str, label: str, total: int) -> None:
        events.append(("bar", {"bar": key, "label": label, "total": total}))

    if node == "design_cast" and values.get("script") is not None:
        bar("voices", "Recording voices", len(values["script"].dialogue()))
    if node == "review_storyboard":  # passed (or answered): the keyframes are drawn
        bar("keyframes", "Rendering keyframes", len(values.get("shot_order", [])))
    if node == "apply_changes" and update:  # only the changed shots are drawn again
        bar("keyframes", "Rendering keyframes", len(update.get("shots", {})))
    if node == "cut_timeline" and update:
        bar("shots", "Rendering shots", len(update["timeline"].video))
    if node in STAGES:
        events.append(("stage_done", {"node": node, "text": STAGES[node]}))
    return events


class StageClock:
    """Seconds from the start of a run to each node's last update (`on_update`)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.finished_at: dict[str, float] = {}

    def on_update(self, node: str, update: dict[str, Any] | None, values: dict[str, Any]) -> None:
        self.finished_at[node] = time.perf_counter() - self.started


class RunError(Exception):
    """A run that cannot start as asked (a bad name, an episode that exists...): one line."""


def check_episode_name(name: str) -> str:
    if not EPISODE_NAME.match(name):
        raise RunError(
            f"episode name {name!r} is not usable; use letters, digits, '.', '_' or '-' "
            "(at most 64 characters)."
        )
    return name


def next_episode_name(project: Project) -> str:
    """The first free epNN of the project, claimed (its folder made) so that two runs
    starting at once, on one machine or two, never get the same name."""
    # The parts of a split screenplay (ep03-part1, ...) take their base name too.
    existing = {re.sub(r"-part\d+$", "", p.name) for p in (project.root / "episodes").glob("*")}
    n = 1
    while f"ep{n:02d}" in existing or not project.claim_episode_name(f"ep{n:02d}"):
        n += 1
    return f"ep{n:02d}"


def story_input(
    story: Story,
    episode: str,
    *,
    length_s: float | None = None,
    seed: int = 0,
    settings: dict[str, Any] | None = None,
    review: Sequence[Gate] = (),
    story_file: str | None = None,
) -> tuple[EpisodeRequest, dict[str, Any]]:
    """The request and the first graph input that produce `story` as `episode`.

    The story's characters and shots are kept (`media.story_import`), in its language;
    the episode runs `length_s` seconds, else the story's own length, else 60 s. Pass both
    to `run_episode(project, request, first)`.
    """
    script = script_from_story(story)
    request = EpisodeRequest(
        episode=episode,
        story_file=story_file,
        length_s=length_s or story.length_s or DEFAULT_LENGTH_S,
        language=story.language,
        seed=seed,
        review=list(review),
        settings=dict(settings or {}),
    )
    return request, {"request": request, "script": script}


def thread_config(episode: str) -> RunnableConfig:
    """The checkpoint thread of an episode: one per episode name in a project."""
    return {"configurable": {"thread_id": episode}}


def is_delivered(project: Project, episode: str) -> bool:
    # The manifest is written last: its presence marks a finished episode.
    return (project.root / "episodes" / episode / "manifest.json").exists()


def is_started(project: Project, episode: str) -> bool:
    """Whether the episode has a checkpoint (started, finished or not)."""
    with open_checkpointer(project) as saver:
        return saver.get_tuple(thread_config(episode)) is not None


def episode_state(project: Project, episode: str) -> StateSnapshot:
    """The episode's last checkpoint (empty values when it was never started)."""
    with open_checkpointer(project) as saver:
        graph = build_episode_graph().compile(checkpointer=saver)
        state = graph.get_state(thread_config(episode))
    # What a LangGraph client wrote with update_state is JSON: read it as the models.
    return state._replace(values=read_state(state.values)) if state.values else state


def work_left(project: Project, episode: str, state: StateSnapshot) -> bool:
    """Whether a run stopped with steps to go: tasks of its last checkpoint still to run, or
    run but not yet applied (a process stopped between a step's tasks finishing and its
    checkpoint; `next` is empty then, and resuming applies them and goes on), or a command
    given (a change's Command) before it took its first step (resuming takes it)."""
    return bool(state.next or state.tasks) or _command_left(project, episode)


# LangGraph keeps the writes of a Command under this task id until a step takes them.
_COMMAND_TASK_ID = "00000000-0000-0000-0000-000000000000"


def _command_left(project: Project, episode: str) -> bool:
    if not has_checkpoints(project):
        return False
    with open_checkpointer(project) as saver:
        saved = saver.get_tuple(thread_config(episode))
    return saved is not None and any(
        task == _COMMAND_TASK_ID for task, _, _ in saved.pending_writes or []
    )


# The gates a conversation shows as its own stage (the cut gate is not one of them).
CHAT_GATES = ("script", "storyboard")


def episode_stage(project: Project, episode: str, state: StateSnapshot | None = None) -> str:
    """Where the episode is, as a conversation's stage: waiting at the script or storyboard
    gate; "rendering" while it has steps left to run (being made, or stopped while being
    made, a retake too); "episode" when delivered; "" when it was never started."""
    state = state if state is not None else episode_state(project, episode)
    if not state.values:
        return ""
    gate = _gate_of(state)
    if gate is not None and gate["gate"] in CHAT_GATES:
        return str(gate["gate"])
    if gate is None and work_left(project, episode, state):
        return "rendering"
    return "episode" if is_delivered(project, episode) else "rendering"


def context_for(project: Project, request: EpisodeRequest) -> EpisodeContext:
    """The graph's context for a request: its project, name, seed and resolved settings."""
    return EpisodeContext(
        project=str(project.root),
        episode=request.episode,
        seed=request.seed,
        settings=request.settings,
    )


def run_episode(
    project: Project,
    request: EpisodeRequest,
    first_input: dict[str, Any] | Command[Any] | None,
    *,
    settings: Settings | None = None,
    on_event: OnEvent | None = None,
    on_update: OnUpdate | None = None,
    resume: str | None = None,
    warn: Warn | None = None,
) -> dict[str, Any]:
    """Run (or resume, when first_input is None; answer a review gate, when it is a
    `Command(resume=decision)`) the episode graph and return its state when it ends or waits
    at a review gate (`pending_review` says which).

    `settings` replaces the request's (a resume with a new budget); `resume` is the command a
    budget stop suggests to go on (default: `inkreel resume`).
    """
    if settings is not None:
        request = request.model_copy(update={"settings": settings.model_dump(mode="json")})
    # The ledger is closed however the run ends (a budget stop, a crash, Ctrl-C).
    with (
        project.unclaimed_if_unused(request.episode),
        open_services(context_for(project, request), warn) as live,
    ):
        try:
            final = _stream(project, request, first_input, live, on_event, on_update)
        except BudgetExceeded as stop:
            if stop.scope != ("episode", request.episode):
                raise
            resume = resume or f"inkreel resume -o {project.root} --episode {request.episode}"
            raise rest_of_episode(stop, project, request, live, resume) from None
        finally:
            # Also when the run stops: what was spent and survived so far is worth knowing.
            write_run_report(project, request, live)
    if final.next and not final.interrupts:
        raise RuntimeError(f"the run stopped before {', '.join(final.next)}")
    return dict(final.values)


def pending_review(project: Project, episode: str) -> dict[str, Any] | None:
    """What the episode's review gate shows, when the run waits at one (else None)."""
    return _gate_of(episode_state(project, episode))


def _gate_of(state: StateSnapshot) -> dict[str, Any] | None:
    for waiting in state.interrupts:
        if isinstance(waiting.value, dict) and "gate" in waiting.value:
            return waiting.value
    return None


def answer_review(
    project: Project,
    episode: str,
    decision: dict[str, Any],
    *,
    on_event: OnEvent | None = None,
    on_update: OnUpdate | None = None,
    warn: Warn | None = None,
) -> dict[str, Any]:
    """Give the waiting gate a person's decision ({"type": "approve"}, an edit, a rejection
    with a note) and run on to the end or the next gate."""
    state = episode_state(project, episode)
    if not state.values:
        raise RunError(f"there is no episode {episode!r} in {project.root}.")
    if _gate_of(state) is None:
        where = (
            "it stopped before it finished"
            if work_left(project, episode, state)
            else "it is finished"
        )
        raise RunError(f"episode {episode} is not waiting for a review ({where}).")
    request: EpisodeRequest = state.values["request"]
    resume: Command[Any] = Command(resume={"decisions": [decision]})
    return run_episode(project, request, resume, on_event=on_event, on_update=on_update, warn=warn)


def _stream(
    project: Project,
    request: EpisodeRequest,
    first_input: dict[str, Any] | Command[Any] | None,
    live: Services,
    on_event: OnEvent | None,
    on_update: OnUpdate | None,
) -> StateSnapshot:
    """Drive the graph to its end (or the next stop) and return its last checkpoint."""
    project.sweep_partials()
    config: RunnableConfig = {
        **thread_config(request.episode),
        # LangGraph's sync stream waits for the nodes' custom events on one of the executor's
        # `max_concurrency` threads; with one thread that waiter holds it and no task ever
        # runs (`concurrency = 1`, or the default on a one-core machine, hung for good).
        "max_concurrency": max(2, live.providers.concurrency(live.settings)),
        "recursion_limit": RECURSION_LIMIT,
    }
    with open_checkpointer(project) as saver:
        graph = build_episode_graph().compile(checkpointer=saver)
        values: dict[str, Any] = {}
        # Closed however the loop ends (a callback raising too): closing waits for the
        # step's tasks in flight, which must not outlive the checkpointer they write to.
        with closing(
            graph.stream(  # type: ignore[call-overload]
                first_input,
                config,
                context=live.context,
                stream_mode=["updates", "values", "custom"],
                durability="sync",
            )
        ) as stream:
            for mode, data in stream:
                if mode == "values":
                    values = data
                elif mode == "custom":
                    if on_event is not None and isinstance(data, dict) and "event" in data:
                        payload = dict(data)
                        on_event(payload.pop("event"), payload)
                elif on_update is not None:
                    for node, update in data.items():
                        on_update(node, update, values)
        return graph.get_state(config)


def rest_of_episode(
    stop: BudgetExceeded, project: Project, request: EpisodeRequest, live: Services, resume: str
) -> BudgetExceeded:
    """The budget stop with what the rest of the episode needs (or as it was, if unknown)."""
    state = episode_state(project, request.episode)
    try:
        return over_budget(
            stop,
            state.values.get("script"),
            request.idea,
            request.length_s,
            request.language,
            request.seed,
            live.providers.roster,
            live.providers.calls.router,
            live.settings.judge_model is not None,
            live.ledger.spent(stop.scope),
            resume,
        )
    except RouterError:  # no model left to price a task on: the stop as it was
        return stop


def write_run_report(project: Project, request: EpisodeRequest, live: Services) -> None:
    """Write what the run cost, survived and handed on next to the episode.

    `sessions` keeps every run of the episode (a first run, its resumes, retakes): when it
    started and its wall time, so a report can tell how long the episode took in all.
    """
    report = run_report(request.episode, live.providers, live.ledger)
    folder = project.episode_dir(request.episode)
    path = folder / "run.json"
    before = (read_json_object(path) or {}).get("sessions") or []
    now = time.time()
    report["sessions"] = [
        *before,
        {"started_at": round(live.started_at, 3), "wall_s": round(now - live.started_at, 3)},
    ]
    write_text_atomic(path, json.dumps(report, indent=2, default=str))


def summary_rows(project: Project, values: dict[str, Any]) -> list[tuple[str, str]]:
    """The finished episode in rows (name, text): runtime, cast, dialogue, continuity..."""
    request: EpisodeRequest = values["request"]
    timeline = values["timeline"]
    script: Script = values["script"]
    rows = [
        (
            "Runtime",
            f"{timeline.duration_s:.1f} s (target {request.length_s:g} s)"
            if request.idea
            else f"{timeline.duration_s:.1f} s",
        ),
        ("Scenes", str(len(script.scenes))),
        ("Shots", str(len(values["shot_order"]))),
        ("Characters new", ", ".join(values.get("cast_new", [])) or "none"),
        ("Characters reused", ", ".join(values.get("cast_reused", [])) or "none"),
    ]
    if values.get("cast_matched"):
        # A name the script spells differently from the stored asset it resolved to.
        matched = [
            f"{m['name']} → {m['matched']} ({m['score']:.2f})" for m in values["cast_matched"]
        ]
        rows.append(("Matched in memory", ", ".join(matched)))
    lines = script.dialogue()
    heard = sum(1 for _, beat in lines if beat.unseen())
    rows.append(
        (
            "Dialogue",
            f"{len(lines)} lines voiced and subtitled ({heard} heard off screen)"
            + (f"; voices only: {', '.join(script.voices)}" if script.voices else ""),
        )
    )
    rows.append(("Continuity", _continuity_row(values)))
    if script.skipped:
        kinds: dict[str, int] = {}
        for s in script.skipped:
            kinds[s.kind] = kinds.get(s.kind, 0) + 1
        source = "story" if script.source == "story" else "screenplay"
        rows.append(
            (f"Skipped from {source}", ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
        )
    rows += report_rows(project, request.episode)
    rows.append(("Files", str(project.root / "episodes" / request.episode)))
    return rows


def _continuity_row(values: dict[str, Any]) -> str:
    report = values["continuity"]
    flagged = [s.shot_id for s in report.shots if s.status == "flagged"]
    repaired = [s.shot_id for s in report.shots if s.status == "repaired"]
    if report.script is not None:
        scenes = sorted({f.scene for f in report.script.findings if f.severity == "error"})
        where = f"script scene{'s' if len(scenes) > 1 else ''} {', '.join(map(str, scenes))}"
        if scenes:
            flagged.insert(0, where)
        elif report.script.status == "repaired":
            revised = report.script.scenes_revised
            repaired.insert(
                0, f"script scene{'s' if len(revised) > 1 else ''} " + ", ".join(map(str, revised))
            )
    repaired += [f"{name}'s sheet" for name in report.sheets_redrawn]
    return ("passed" if report.passed else f"flagged: {', '.join(flagged)}") + (
        f" (repaired {', '.join(repaired)})" if repaired else ""
    )


def report_rows(project: Project, episode: str) -> list[tuple[str, str]]:
    """Summary rows from the run report: faults survived, and calls handed to another model."""
    report = read_json_object(project.root / "episodes" / episode / "run.json")
    if report is None:
        return []
    rows = []
    survived = report.get("faults_survived") or {}
    if survived:
        kinds = ", ".join(f"{n} {kind}" for kind, n in survived.items())
        rows.append(("Faults survived", kinds))
    for hop in report.get("fallbacks") or []:
        rows.append(
            (
                "Fell back",
                f"{hop['task']}: {hop['from']} -> {hop['to']} ({hop['why']}), "
                f"{hop['calls']} call{'s' if hop['calls'] != 1 else ''}",
            )
        )
    return rows


def change_episode(
    project: Project,
    episode: str,
    retakes: list[Retake],
    edits: list[LineEdit],
    *,
    redesigns: list[Redesign] | None = None,
    on_event: OnEvent | None = None,
    on_update: OnUpdate | None = None,
    warn: Warn | None = None,
) -> dict[str, Any]:
    """Retake shots, give lines new words and characters new looks on a finished episode
    (or one waiting at its cut gate); only what that makes stale is made again, and the
    episode is cut again."""
    state = episode_state(project, episode)
    if not state.values:
        raise RunError(f"there is no episode {episode!r} in {project.root}.")
    waiting = _gate_of(state)
    if (waiting is not None and waiting["gate"] != "cut") or (
        waiting is None and work_left(project, episode, state)
    ):
        where = f"waits at the {waiting['gate']} gate" if waiting else "has not finished"
        raise RunError(
            f"episode {episode} {where}; finish it before retaking shots (inkreel resume or "
            "inkreel approve)."
        )
    try:
        plan_changes(state.values, retakes, edits, redesigns)  # type: ignore[arg-type]
    except ReviewError as exc:
        raise RunError(str(exc)) from None
    progress: dict[str, Any] = {"on_event": on_event, "on_update": on_update, "warn": warn}
    if waiting is not None:  # at the cut gate: the retakes are its edit
        return answer_review(project, episode, cut_edit(retakes, edits, redesigns), **progress)
    request: EpisodeRequest = state.values["request"]
    command: Command[Any] = Command(
        goto="apply_changes",
        update={"retakes": retakes, "line_edits": edits, "redesigns": redesigns or []},
    )
    return run_episode(project, request, command, **progress)


class LocalEpisode:
    """An episode run in this process, with the calls of `remote.RemoteEpisode` (front ends
    take either)."""

    def __init__(self, project: Project, episode: str) -> None:
        self.project = project
        self.episode = episode

    def values(self) -> dict[str, Any]:
        return dict(episode_state(self.project, self.episode).values)

    def pending_review(self) -> dict[str, Any] | None:
        return pending_review(self.project, self.episode)

    def start(
        self, request: EpisodeRequest, first_input: dict[str, Any], **progress: Any
    ) -> dict[str, Any]:
        return run_episode(self.project, request, first_input, **progress)

    def answer_review(self, decision: dict[str, Any], **progress: Any) -> dict[str, Any]:
        return answer_review(self.project, self.episode, decision, **progress)

    def change_episode(
        self, retakes: list[Retake], edits: list[LineEdit], **progress: Any
    ) -> dict[str, Any]:
        return change_episode(self.project, self.episode, retakes, edits, **progress)
