"""An episode run by a LangGraph server (`langgraph dev`, LangGraph Platform), through
langgraph-sdk: the calls of `inkreel.run` for a thread on the server.

A thread belongs to a series and an episode. Its id is `thread_id(project, episode)`, a
UUID made from the project directory and the episode's name, and its metadata names both, so
the CLI (`--server URL`), the SDK and Studio find the same conversation:

    client.threads.create(thread_id=thread_id(root, "ep01"), if_exists="do_nothing",
                          metadata=thread_metadata(root, "ep01"))

The server and this process must see the project directory at the same path (one machine,
or a shared filesystem mounted at the same place).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import APIConnectionError, APIError

from inkreel.project import Project
from inkreel.run import OnEvent, OnUpdate, RunError
from inkreel.schemas import LineEdit, Retake
from inkreel.schemas.episode import EpisodeRequest, read_state
from inkreel.schemas.review import cut_edit

GRAPH = "episode"
# Fixed: the same project and episode give the same thread id on every machine and version.
NAMESPACE = uuid.UUID("6b1f3c52-8d0e-4f7a-9a43-2f1e5c7d9b10")


def thread_id(project_root: Path, episode: str) -> str:
    root = Path(project_root).expanduser().resolve()
    return str(uuid.uuid5(NAMESPACE, f"{root}\n{episode}"))


def thread_metadata(project_root: Path, episode: str) -> dict[str, str]:
    return {"inkreel_project": str(Path(project_root).expanduser().resolve()), "episode": episode}


class RemoteEpisode:
    """One episode's thread on a LangGraph server."""

    def __init__(self, url: str, project: Project, episode: str) -> None:
        self.url = url
        self.project = project
        self.episode = episode
        self.thread = thread_id(project.root, episode)
        self.client = get_sync_client(url=url, api_key=None)

    # -- reading ------------------------------------------------------------------------------

    def _call(self, what: str, call: Any) -> Any:
        try:
            return call()
        except (httpx.TransportError, APIConnectionError) as exc:
            raise RunError(f"cannot reach the LangGraph server at {self.url}: {exc}") from None
        except APIError as exc:
            raise RunError(f"the LangGraph server at {self.url} refused to {what}: {exc}") from None

    def _find(self) -> str:
        """The episode's thread: by its metadata (a client may have made it with its own id)."""
        metadata = thread_metadata(self.project.root, self.episode)
        found = self._call(
            "find the thread", lambda: self.client.threads.search(metadata=metadata, limit=1)
        )
        if not found:
            raise RunError(
                f"the server at {self.url} has no thread for episode {self.episode!r} of "
                f"{self.project.root}."
            )
        self.thread = str(found[0]["thread_id"])
        return self.thread

    def state(self) -> dict[str, Any]:
        """The thread's values (validated into the models), next nodes and interrupts."""
        thread = self._find()
        state = self._call("read the thread", lambda: self.client.threads.get_state(thread))
        values = read_state(state["values"]) if state.get("values") else {}
        interrupts = state.get("interrupts") or []
        return {"values": values, "next": state.get("next") or [], "interrupts": interrupts}

    def values(self) -> dict[str, Any]:
        return dict(self.state()["values"])

    def pending_review(self) -> dict[str, Any] | None:
        for waiting in self.state()["interrupts"]:
            value = waiting.get("value")
            if isinstance(value, dict) and "gate" in value:
                return value
        return None

    # -- running ------------------------------------------------------------------------------

    def _context(self, request: EpisodeRequest) -> dict[str, Any]:
        return {
            "project": str(self.project.root),
            "episode": request.episode,
            "seed": request.seed,
            "settings": request.settings,
        }

    def _stream(
        self,
        request: EpisodeRequest,
        on_event: OnEvent | None,
        on_update: OnUpdate | None,
        **run: Any,
    ) -> dict[str, Any]:
        """Stream one run on the thread, report its progress, return the thread's values."""

        def go() -> None:
            parts = self.client.runs.stream(
                self.thread,
                GRAPH,
                context=self._context(request),
                stream_mode=["custom", "updates", "values"],
                **run,
            )
            latest: dict[str, Any] = {}
            for part in parts:
                if part.event == "values" and isinstance(part.data, dict):
                    latest = _read_update(part.data)
                if part.event == "error":
                    raise RunError(f"the run failed on the server at {self.url}: {part.data}")
                if part.event == "custom" and on_event is not None and isinstance(part.data, dict):
                    payload = dict(part.data)
                    if "event" in payload:
                        on_event(payload.pop("event"), payload)
                elif part.event == "updates" and on_update is not None:
                    for node, update in (part.data or {}).items():
                        if not node.startswith("__"):
                            on_update(node, _read_update(update), latest)

        self._call("run the episode", go)
        return self.values()

    def start(
        self,
        request: EpisodeRequest,
        first_input: dict[str, Any],
        *,
        on_event: OnEvent | None = None,
        on_update: OnUpdate | None = None,
        warn: Any = None,
    ) -> dict[str, Any]:
        """Create the episode's thread and run it to the end or its first gate."""
        self._call(
            "create the thread",
            lambda: self.client.threads.create(
                thread_id=self.thread,
                if_exists="raise",
                metadata=thread_metadata(self.project.root, self.episode),
            ),
        )
        body = {k: v.model_dump(mode="json") for k, v in first_input.items()}
        return self._stream(request, on_event, on_update, input=body)

    def _request(self) -> EpisodeRequest:
        request = self.values().get("request")
        if request is None:
            raise RunError(f"episode {self.episode} on {self.url} has no request yet.")
        return request

    def answer_review(
        self,
        decision: dict[str, Any],
        *,
        on_event: OnEvent | None = None,
        on_update: OnUpdate | None = None,
        warn: Any = None,
    ) -> dict[str, Any]:
        """Give the waiting gate a decision and run on (as `run.answer_review`)."""
        if self.pending_review() is None:
            raise RunError(f"episode {self.episode} is not waiting for a review on {self.url}.")
        command = {"resume": {"decisions": [decision]}}
        return self._stream(self._request(), on_event, on_update, command=command)

    def change_episode(
        self,
        retakes: list[Retake],
        edits: list[LineEdit],
        *,
        on_event: OnEvent | None = None,
        on_update: OnUpdate | None = None,
        warn: Any = None,
    ) -> dict[str, Any]:
        """Retakes and line edits on the server's finished episode (as `run.change_episode`)."""
        edit = cut_edit(retakes, edits)
        asked = self.pending_review()
        if asked is not None and asked["gate"] == "cut":
            return self.answer_review(edit, on_event=on_event, on_update=on_update)
        state = self.state()
        if asked is not None or state["next"]:
            raise RunError(f"episode {self.episode} has not finished on {self.url}.")
        command = {"goto": "apply_changes", "update": edit["edited_action"]["args"]}
        return self._stream(self._request(), on_event, on_update, command=command)


def _read_update(update: Any) -> Any:
    """A node's update as the models where it is state (progress views read them)."""
    if not isinstance(update, dict):
        return update
    try:
        return read_state(update)
    except ValueError:
        return update
