"""`inkreel review | approve | reject | edit | retake | edit-line | status`: a person steers
an episode at its review gates and after it is finished."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from inkreel.cli.base import (
    ServerOption,
    UserError,
    app,
    err,
    guarded,
    out,
    read_text_file,
    warn,
)
from inkreel.cli.progress import ProgressView, finish_run, how_to_answer
from inkreel.project import Project
from inkreel.remote import RemoteEpisode
from inkreel.run import LocalEpisode, check_episode_name
from inkreel.schemas import Emotion, LineEdit, Retake
from inkreel.schemas.storyboard import Angle, Framing
from inkreel.status import status_of

OutputOption = Annotated[Path, typer.Option("-o", "--output", help="Project directory.")]
EpisodeOption = Annotated[str, typer.Option(help="The episode's name.")]

Episode = LocalEpisode | RemoteEpisode


def _open(output: Path, episode: str, server: str | None) -> Episode:
    """The episode, here or on a LangGraph server."""
    check_episode_name(episode)
    project = Project.open(output, create=False)
    return RemoteEpisode(server, project, episode) if server else LocalEpisode(project, episode)


def _waiting(handle: Episode) -> dict[str, Any]:
    project, episode = handle.project, handle.episode
    asked = handle.pending_review()
    if asked is None:
        raise UserError(
            f"episode {episode} is not waiting at a review gate; `inkreel status -o "
            f"{project.root} --episode {episode}` shows where it is."
        )
    return asked


def _steer(handle: Episode, call: Callable[..., dict[str, Any]]) -> None:
    """Run `call` (a run API call taking progress callbacks) with progress, then show where
    the episode is."""
    view = ProgressView(err)
    with view.progress:
        values = call(on_event=view.on_event, on_update=view.on_update, warn=warn)
    finish_run(handle.project, handle.episode, values, handle.pending_review())


@app.command()
@guarded
def review(
    output: OutputOption,
    episode: EpisodeOption,
    server: ServerOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the gate's payload as JSON.")
    ] = False,
) -> None:
    """Show what the episode's review gate is waiting for."""
    handle = _open(output, episode, server)
    project = handle.project
    asked = _waiting(handle)
    if as_json:
        out.print_json(json.dumps(asked, ensure_ascii=False))
        return
    action = asked["action_requests"][0]
    args = action["args"]
    out.print(f"[bold]{asked['gate']} gate[/] — {escape(action['description'])}", highlight=False)
    if asked.get("problem"):
        out.print(
            f"[bold red]Your last answer was not used:[/] {escape(asked['problem'])}",
            highlight=False,
        )
    if "fountain" in args:
        out.print(args["fountain"], markup=False, highlight=False)
    if "shots" in args:
        _print_shots(args["shots"])
    if "lines" in args:
        video = escape(str(args["outputs"].get("video")))
        table = Table("line", "who", "text", title=f"Lines of {video}")
        for line in args["lines"]:
            table.add_row(str(line["line"]), escape(line["who"] or ""), escape(line["text"]))
        out.print(table)
    where = f"-o {project.root} --episode {episode}"
    out.print(f"Answer with: {how_to_answer(asked, where)}", highlight=False)


def _problem(exc: ValidationError) -> str:
    return str(exc.errors()[0]["msg"]).removeprefix("Value error, ")


def _print_shots(shots: list[dict[str, Any]]) -> None:
    table = Table("shot", "framing", "angle", "move", "who", "line / action", "s")
    for shot in shots:
        who = ", ".join(b["character"] for b in shot["blocking"])
        table.add_row(
            shot["id"],
            shot["framing"],
            shot["angle"],
            shot["move"],
            escape(who),
            escape((f"{shot['speaker']}: " if shot.get("speaker") else "") + shot["text"]),
            f"{shot['duration_s']:.1f}",
        )
    out.print(table)


@app.command()
@guarded
def approve(output: OutputOption, episode: EpisodeOption, server: ServerOption = None) -> None:
    """Approve what the review gate shows and go on."""
    handle = _open(output, episode, server)
    _waiting(handle)
    decision = {"type": "approve"}
    _steer(handle, lambda **kw: handle.answer_review(decision, **kw))


@app.command()
@guarded
def reject(
    output: OutputOption,
    episode: EpisodeOption,
    note: Annotated[
        str, typer.Option(help="What to change: the screenwriter or director reads it.")
    ],
    server: ServerOption = None,
) -> None:
    """Reject the script or storyboard at its gate, with a note: a new draft or plan is made."""
    handle = _open(output, episode, server)
    _waiting(handle)
    if not note.strip():
        raise UserError("--note is empty; say what to change.")
    decision = {"type": "reject", "message": note.strip()}
    _steer(handle, lambda **kw: handle.answer_review(decision, **kw))


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(read_text_file(path, what, "utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{what} {path} is not JSON: {exc.msg} (line {exc.lineno}).") from None


@app.command()
@guarded
def edit(
    output: OutputOption,
    episode: EpisodeOption,
    script: Annotated[
        Path | None, typer.Option(help="Your script: Fountain text, or Script JSON (.json).")
    ] = None,
    storyboard: Annotated[
        Path | None,
        typer.Option(help='Shots to change, JSON: [{"id": "s01-002", "framing": "close_up"}].'),
    ] = None,
    server: ServerOption = None,
) -> None:
    """Answer the script or storyboard gate with your own version."""
    handle = _open(output, episode, server)
    if (script is None) == (storyboard is None):
        raise UserError("give either --script FILE or --storyboard FILE.")
    asked = _waiting(handle)
    gate = "script" if script is not None else "storyboard"
    if asked["gate"] != gate:
        raise UserError(f"episode {episode} waits at the {asked['gate']} gate, not the {gate} one.")
    if script is not None:
        args: dict[str, Any] = (
            {"script": _read_json(script, "script")}
            if script.suffix.lower() == ".json"
            else {"fountain": read_text_file(script, "script", "utf-8-sig")}
        )
    else:
        assert storyboard is not None
        shots = _read_json(storyboard, "storyboard")
        args = {"shots": shots["shots"] if isinstance(shots, dict) and "shots" in shots else shots}
    decision = {"type": "edit", "edited_action": {"name": f"review_{gate}", "args": args}}
    _steer(handle, lambda **kw: handle.answer_review(decision, **kw))


@app.command()
@guarded
def retake(
    output: OutputOption,
    episode: EpisodeOption,
    shot: Annotated[str, typer.Option(help="The shot to take again (s01-002...).")],
    framing: Annotated[Framing | None, typer.Option(help="A new framing.")] = None,
    angle: Annotated[Angle | None, typer.Option(help="A new camera angle.")] = None,
    emotion: Annotated[Emotion | None, typer.Option(help="The expression of --who.")] = None,
    line: Annotated[str | None, typer.Option(help="New words for the shot's line.")] = None,
    who: Annotated[
        list[str] | None, typer.Option(help="Who the camera is on (repeat, or NAME,NAME).")
    ] = None,
    note: Annotated[str, typer.Option(help="A note for a hosted image model.")] = "",
    server: ServerOption = None,
) -> None:
    """Take one shot of a finished episode again; only what that changes is made again."""
    handle = _open(output, episode, server)
    names = [n.strip() for w in who or [] for n in w.split(",") if n.strip()] or None
    try:
        change = Retake(
            shot=shot,
            framing=framing,
            angle=angle,
            emotion=emotion,
            line=line,
            who=names,
            note=note,
        )
    except ValidationError as exc:
        raise UserError(f"not a retake: {_problem(exc)}") from None
    _steer(handle, lambda **kw: handle.change_episode([change], [], **kw))


@app.command(name="edit-line")
@guarded
def edit_line(
    output: OutputOption,
    episode: EpisodeOption,
    line: Annotated[int, typer.Option(help="The line's number in the script's dialogue, from 1.")],
    text: Annotated[str, typer.Argument(help="The new words.")],
    server: ServerOption = None,
) -> None:
    """Give one line of dialogue new words: voiced again, re-timed and re-subtitled."""
    handle = _open(output, episode, server)
    try:
        change = LineEdit(line=line, text=text)
    except ValidationError as exc:
        raise UserError(f"not a line edit: {_problem(exc)}") from None
    _steer(handle, lambda **kw: handle.change_episode([], [change], **kw))


@app.command()
@guarded
def status(output: OutputOption, episode: EpisodeOption, server: ServerOption = None) -> None:
    """List the episode's takes, keyframes, clips and mix as current, stale or missing."""
    handle = _open(output, episode, server)
    project = handle.project
    values = handle.values()
    if not values:
        raise UserError(f"there is no episode {episode!r} in {project.root}.")
    rows = status_of(project, values)
    asked = handle.pending_review()
    table = Table("kind", "for", "state", "file", title=f"episode {episode}")
    colour = {"current": "green", "stale": "yellow", "missing": "red"}
    for row in rows:
        state = f"[{colour[row.state]}]{row.state}[/]"
        table.add_row(row.kind, row.name, state, row.path or "-")
    out.print(table)
    counts = {s: sum(1 for r in rows if r.state == s) for s in colour}
    where = f"; waiting at the {asked['gate']} gate" if asked else ""
    out.print(
        f"{counts['current']} current, {counts['stale']} stale, {counts['missing']} missing{where}",
        highlight=False,
    )
