"""`inkreel chat`: talk an idea into an episode with the showrunner, in the terminal."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.markup import escape

from inkreel.chat import ChatError, ChatSession, list_threads
from inkreel.cli.base import UserError, app, check_language, err, guarded, out
from inkreel.cli.progress import ProgressView
from inkreel.project import Project

COMMANDS = {
    "/help": "what you can say, and these commands",
    "/status": "where the conversation and its episode are",
    "/threads": "the project's conversations (continue one with --thread ID)",
    "/quit": "leave (the conversation is saved)",
}


@app.command()
@guarded
def chat(
    output: Annotated[Path, typer.Option("-o", "--output", help="Project directory.")],
    thread: Annotated[
        str | None, typer.Option(help="Continue this conversation (see /threads).")
    ] = None,
    lang: Annotated[str, typer.Option(help="Dialogue language of a new episode.")] = "en",
    length: Annotated[
        float, typer.Option(help="Target runtime of a new episode, seconds.", min=5, max=3600)
    ] = 60.0,
    seed: Annotated[int, typer.Option(help="Same seed, same episode.")] = 0,
) -> None:
    """Chat a story idea into an episode: loglines, outline, script, storyboard, render,
    then changes ("shot 7 close-up"). Ctrl-C stops a render; saying "render" goes on."""
    lang = check_language(lang)
    project = Project.open(output)
    try:
        session = ChatSession.open(project, thread, language=lang, length_s=length, seed=seed)
    except ChatError as exc:
        raise UserError(str(exc)) from None
    _greet(session, project, thread is not None)
    while True:
        try:
            line = out.input("[bold cyan]you>[/] ")
        except (EOFError, KeyboardInterrupt):
            break
        text = line.strip()
        if text in ("/quit", "/exit"):
            break
        if text.startswith("/") and _command(text, session, project):
            continue
        _say(session, line)
    err.print(f"Saved. Continue with: inkreel chat -o {project.root} --thread {session.thread}")


def _greet(session: ChatSession, project: Project, again: bool) -> None:
    err.print(f"Conversation [bold]{session.thread}[/] in {escape(str(project.root))}.")
    if again:
        _command("/status", session, project)
    else:
        out.print("showrunner> Tell me your story idea. (/help for what you can say)")


def _say(session: ChatSession, text: str) -> None:
    view = ProgressView(err)
    try:
        with view.progress, _stopped_by_ctrl_c() as stop:
            replies = session.send(text, on_event=view.on_event, stop=stop)
    except ChatError as exc:
        err.print(f"[red]{escape(str(exc))}[/]")
        return
    except KeyboardInterrupt:
        err.print(
            "\n[yellow]Stopped.[/] What was made is kept; say 'render' to go on where it stopped."
        )
        return
    for reply in replies:
        out.print("showrunner> ", end="")
        out.print(reply, markup=False, highlight=False)


@contextmanager
def _stopped_by_ctrl_c() -> Iterator[threading.Event]:
    """An event Ctrl-C sets before it raises KeyboardInterrupt: the turn's run (in LangGraph's
    worker thread, which KeyboardInterrupt never reaches) stops at its next step."""
    stop = threading.Event()

    def interrupted(signum: int, frame: FrameType | None) -> None:
        stop.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def _command(text: str, session: ChatSession, project: Project) -> bool:
    """Run a /command; False when it is not one (then it is said to the showrunner)."""
    name = text.split()[0]
    if name == "/help":
        for command, what in COMMANDS.items():
            out.print(f"  {command:9} {what}")
        _say(session, "help")
    elif name == "/status":
        values = session.values()
        episode = values.get("episode") or "none yet"
        out.print(f"  conversation {session.thread}: stage {values.get('stage', 'idea')}, "
                  f"episode {episode}")  # fmt: skip
        if values.get("messages"):
            _say(session, "status")
    elif name == "/threads":
        threads = list_threads(project)
        if not threads:
            out.print("  no conversations yet")
        for info in threads:
            mark = "*" if info.thread == session.thread else " "
            first = (info.last.splitlines() or [""])[0][:60]
            out.print(
                f" {mark}{info.thread}  {info.stage:10} {info.episode or '-':8} {first}",
                markup=False,
            )
    else:
        return False
    return True
