"""The episode graph: screenwriter -> character designer -> director -> continuity -> editor.

The script is checked before anything is designed (`check_script`, looping through
`revise_script`); keyframes are checked before the cut (`check_continuity`, looping through
`revise_shot`).

Lines, keyframes and shot renders fan out with `Send` and fan back in through reducers, so a
resumed run redoes only the branches that had not finished.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from langgraph.graph import END, START, StateGraph
from langgraph.types import RetryPolicy, Send
from pydantic import BaseModel, TypeAdapter

from inkreel.agents import continuity, director, editor, screenwriter
from inkreel.agents.character_designer import SheetTask, design_cast, redraw_sheet
from inkreel.graphs.state import EpisodeInput, EpisodeOutput, EpisodeState
from inkreel.services import EpisodeContext

F = TypeVar("F", bound=Callable[..., Any])
_STATE: TypeAdapter[EpisodeState] = TypeAdapter(EpisodeState)


def reads_state(func: F) -> F:
    """Validate the state a node or router reads into the project's models: a LangGraph
    client sends it as JSON (an input, `update_state`), which arrives as plain dicts."""

    @functools.wraps(func)
    def read(state: Any, *args: Any, **kwargs: Any) -> Any:
        return func(_STATE.validate_python(state), *args, **kwargs)

    return read  # type: ignore[return-value]


def reads_payload(func: F, payload: type[BaseModel]) -> F:
    """Validate a Send payload that arrives as JSON into its model."""

    @functools.wraps(func)
    def read(task: Any, *args: Any, **kwargs: Any) -> Any:
        return func(payload.model_validate(task), *args, **kwargs)

    return read  # type: ignore[return-value]


# Transient faults (an encoder hiccup, a provider timeout) get a few retries with backoff.
TRANSIENT = RetryPolicy(max_attempts=3, retry_on=(OSError, TimeoutError, ConnectionError))


@reads_state
def to_lines(state: EpisodeState) -> list[Send] | str:
    """Fan out one recording per dialogue line (or go straight on if nobody speaks)."""
    tasks = director.line_tasks(state)
    return [Send("record_line", t) for t in tasks] or "plan_storyboard"


@reads_state
def to_keyframes(state: EpisodeState) -> list[Send]:
    """Fan out one keyframe render per shot."""
    request = state["request"]
    cast = {n: c.design for n, c in state["cast"].items()}
    return [
        Send(
            "render_keyframe",
            director.ShotTask(
                shot=shot,
                location=state["locations"][shot.location].design,
                cast=cast,
                seed=request.seed,
                references=director.reference_paths(
                    shot, state["cast"], state["locations"][shot.location]
                ),
            ),
        )
        for shot in (state["shots"][i] for i in state["shot_order"])
    ]


@reads_state
def to_segments(state: EpisodeState) -> list[Send]:
    """Fan out one encode per shot on the timeline."""
    return [Send("render_segment", t) for t in editor.segment_tasks(state)]


def build_episode_graph() -> StateGraph[EpisodeState, EpisodeContext, EpisodeInput, EpisodeOutput]:
    """Return the uncompiled episode graph; the caller picks the checkpointer."""
    graph = StateGraph(
        EpisodeState,
        context_schema=EpisodeContext,
        input_schema=EpisodeInput,
        output_schema=EpisodeOutput,
    )
    graph.add_node("write_script", reads_state(screenwriter.write_script))
    graph.add_node(
        "check_script",
        reads_state(screenwriter.check_script),
        destinations=("revise_script", "design_cast"),
    )
    graph.add_node("revise_script", reads_state(screenwriter.revise_script))
    graph.add_node("design_cast", reads_state(design_cast))
    graph.add_node("plan_storyboard", reads_state(director.plan_storyboard))
    graph.add_node(
        "check_continuity",
        reads_state(continuity.check_continuity),
        destinations=("revise_shot", "redraw_sheet", "cut_timeline"),
    )
    graph.add_node("cut_timeline", reads_state(editor.cut_timeline))
    graph.add_node("assemble_episode", reads_state(editor.assemble_episode), retry_policy=TRANSIENT)
    fan_out: list[tuple[str, Any, type[BaseModel]]] = [
        ("record_line", director.record_line, director.LineTask),
        ("render_keyframe", director.render_keyframe, director.ShotTask),
        ("revise_shot", director.revise_shot, director.ShotTask),
        ("redraw_sheet", redraw_sheet, SheetTask),
        ("render_segment", editor.render_segment, editor.SegmentTask),
    ]
    for name, node, payload in fan_out:
        # These nodes take a Send payload model, not the graph state.
        graph.add_node(
            name, reads_payload(node, payload), input_schema=payload, retry_policy=TRANSIENT
        )

    graph.add_edge(START, "write_script")
    graph.add_edge("write_script", "check_script")
    graph.add_edge("revise_script", "check_script")
    graph.add_conditional_edges("design_cast", to_lines, ["record_line", "plan_storyboard"])
    graph.add_edge("record_line", "plan_storyboard")
    graph.add_conditional_edges("plan_storyboard", to_keyframes, ["render_keyframe"])
    graph.add_edge("render_keyframe", "check_continuity")
    graph.add_edge("revise_shot", "check_continuity")
    graph.add_edge("redraw_sheet", "check_continuity")
    graph.add_conditional_edges("cut_timeline", to_segments, ["render_segment"])
    graph.add_edge("render_segment", "assemble_episode")
    graph.add_edge("assemble_episode", END)
    return graph


# Compiled without a checkpointer for `langgraph.json` (LangGraph tooling supplies its own).
graph = build_episode_graph().compile()
