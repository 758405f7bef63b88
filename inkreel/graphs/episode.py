"""The episode graph: screenwriter -> character designer -> director -> continuity -> editor.

The script is checked before anything is designed (`check_script`, looping through
`revise_script`); keyframes are checked before the cut (`check_continuity`, looping through
`revise_shot`). Three review gates (`graphs.review`) wait for a person where the request asks:
after the script check, after the storyboard is planned and after assembly. Retakes and line
edits after the fact enter at `apply_changes` (`graphs.changes`), from the cut gate or as a
`Command(goto="apply_changes")` on a finished episode, and redo only what they make stale.

Lines, keyframes and shot renders fan out with `Send` and fan back in through reducers, so a
resumed run redoes only the branches that had not finished.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import RetryPolicy
from pydantic import BaseModel

from inkreel.agents import continuity, director, editor, screenwriter
from inkreel.agents.character_designer import SheetTask, design_cast, redraw_sheet
from inkreel.graphs.changes import apply_changes
from inkreel.graphs.fan_out import to_lines, to_segments
from inkreel.graphs.review import review_cut, review_script, review_storyboard
from inkreel.graphs.state import reads_payload, reads_state
from inkreel.schemas.episode import EpisodeInput, EpisodeOutput, EpisodeState
from inkreel.schemas.segment import SegmentTask
from inkreel.services import EpisodeContext, services

# Transient faults (an encoder hiccup, a provider timeout) get a few retries with backoff.
TRANSIENT = RetryPolicy(max_attempts=3, retry_on=(OSError, TimeoutError, ConnectionError))


def design_cast_once(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """`design_cast` under the project's cast lock: episodes of a series made at the same
    moment (workers on several machines) design a shared character once; the others wait,
    then find it in the asset memory."""
    with services(runtime).project.lock("cast"):
        return design_cast(state, runtime)


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
        destinations=("revise_script", "review_script"),
    )
    graph.add_node("revise_script", reads_state(screenwriter.revise_script))
    graph.add_node(
        "review_script", reads_state(review_script), destinations=("design_cast", "write_script")
    )
    graph.add_node("design_cast", reads_state(design_cast_once))
    graph.add_node("plan_storyboard", reads_state(director.plan_storyboard))
    graph.add_node(
        "review_storyboard",
        reads_state(review_storyboard),
        destinations=("plan_storyboard", "render_keyframe"),
    )
    graph.add_node(
        "check_continuity",
        reads_state(continuity.check_continuity),
        destinations=("revise_shot", "redraw_sheet", "cut_timeline"),
    )
    graph.add_node("cut_timeline", reads_state(editor.cut_timeline))
    graph.add_node("mix_sound", reads_state(editor.mix_sound), retry_policy=TRANSIENT)
    graph.add_node("assemble_episode", reads_state(editor.assemble_episode), retry_policy=TRANSIENT)
    graph.add_node("review_cut", reads_state(review_cut), destinations=(END, "apply_changes"))
    graph.add_node(
        "apply_changes",
        reads_state(apply_changes),
        destinations=("render_keyframe", "check_continuity"),
    )
    fan_out: list[tuple[str, Any, type[BaseModel]]] = [
        ("record_line", director.record_line, director.LineTask),
        ("render_keyframe", director.render_keyframe, director.ShotTask),
        ("revise_shot", director.revise_shot, director.ShotTask),
        ("redraw_sheet", redraw_sheet, SheetTask),
        ("render_segment", editor.render_segment, SegmentTask),
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
    graph.add_edge("plan_storyboard", "review_storyboard")
    graph.add_edge("render_keyframe", "check_continuity")
    graph.add_edge("revise_shot", "check_continuity")
    graph.add_edge("redraw_sheet", "check_continuity")
    graph.add_conditional_edges("cut_timeline", to_segments, ["render_segment", "mix_sound"])
    graph.add_edge("render_segment", "assemble_episode")
    graph.add_edge("mix_sound", "assemble_episode")
    graph.add_edge("assemble_episode", "review_cut")
    return graph


# Compiled without a checkpointer for `langgraph.json` (LangGraph tooling supplies its own).
graph = build_episode_graph().compile()
