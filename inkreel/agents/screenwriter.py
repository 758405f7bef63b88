"""The screenwriter: an idea becomes a Script (an imported screenplay passes straight through)."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from inkreel.agents.common import ask
from inkreel.graphs.state import EpisodeContext, EpisodeState
from inkreel.providers.prompt_io import tag
from inkreel.schemas import Script


def write_script(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """Write the episode's script from the idea, unless the user brought a screenplay."""
    if state.get("script") is not None:
        return {}
    request = state["request"]
    prompt = "\n".join(
        [
            tag("idea", request.idea or ""),
            tag("runtime_seconds", f"{request.length_s:g}"),
            tag("language", request.language),
        ]
    )
    script = ask(runtime.context, "screenwriter", Script, prompt)
    return {"script": script.model_copy(update={"language": request.language})}
