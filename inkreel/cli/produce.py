"""`inkreel produce`: one episode from an idea, a screenplay or a story (ViStoryBench's
story.json), or a screenplay as several."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from inkreel import __version__
from inkreel.cli.base import (
    FallbackOption,
    JudgeOption,
    LangOption,
    PinOption,
    PolicyOption,
    ReviewOption,
    ServerOption,
    UserError,
    _placeholder,
    app,
    check_idea,
    check_language,
    err,
    guarded,
    load_settings,
    parse_models,
    parse_review,
    settle_language,
)
from inkreel.cli.progress import ProgressView, _run_or_report, finish_run
from inkreel.media import languages
from inkreel.media.fountain import load_fountain
from inkreel.media.story_json import Story, StoryError, load_story
from inkreel.project import Project
from inkreel.remote import RemoteEpisode
from inkreel.run import (
    DEFAULT_LENGTH_S,
    check_episode_name,
    is_started,
    next_episode_name,
    pending_review,
    story_input,
)
from inkreel.schemas import Script
from inkreel.schemas.episode import EpisodeRequest
from inkreel.schemas.review import Gate
from inkreel.settings import Settings
from inkreel.split import SplitError, part_names, split_script

IdeaArgument = Annotated[
    str | None, typer.Argument(help="The story idea, in one or two sentences.")
]
OutputOption = Annotated[Path, typer.Option("-o", "--output", help="Project directory (a series).")]
ScriptOption = Annotated[Path | None, typer.Option("--script", help="A Fountain screenplay.")]
StoryOption = Annotated[
    Path | None,
    typer.Option(
        "--story",
        help="A story in ViStoryBench's story.json layout (the file or its folder): its "
        "characters and shots are kept.",
    ),
]
EpisodeOption = Annotated[str | None, typer.Option(help="Episode name (default ep01, ep02, ...).")]
LengthOption = Annotated[
    float | None,
    typer.Option(
        help="Target runtime in seconds (default 60; a story's own length if it has one).",
        min=10,
        max=900,
    ),
]
SeedOption = Annotated[int, typer.Option(help="Seed: same seed, same episode.")]
TextModelOption = Annotated[str | None, typer.Option(help="Text model (default: offline).")]
ImageModelOption = Annotated[
    str | None, typer.Option(help="Keyframe model id, or auto (default: offline).")
]
SpeechModelOption = Annotated[
    str | None, typer.Option(help="Voice model id, or auto (default: offline).")
]
VideoModelOption = Annotated[
    str | None, typer.Option(help="Image-to-video model id (seedance-2.0, viduq3-pro...), or auto.")
]
AttemptsOption = Annotated[
    int | None, typer.Option(help="Renders per shot before continuity flags it.", min=1, max=10)
]
TitleCardOption = Annotated[
    bool | None, typer.Option("--title-card/--no-title-card", help="Open with a title card.")
]
BudgetOption = Annotated[
    float | None, typer.Option(help="Hard cap on this episode's model spend, USD.", min=0)
]
SplitOption = Annotated[
    int,
    typer.Option(
        "--split-episodes",
        min=1,
        help="Produce the --script screenplay as N episodes (NAME-part1...), cut between "
        "scenes at act or sequence breaks where it can, balanced by runtime.",
    ),
]


@dataclass
class _Source:
    """What the episode is made from, read and checked: exactly one of the three."""

    lang: str
    idea: str | None = None
    imported: Script | None = None
    told: Story | None = None


@app.command()
@guarded
def produce(
    idea: IdeaArgument = None,
    output: OutputOption = Path("inkreel-project"),
    script: ScriptOption = None,
    story: StoryOption = None,
    episode: EpisodeOption = None,
    length: LengthOption = None,
    lang: LangOption = "auto",
    seed: SeedOption = 0,
    text_model: TextModelOption = None,
    image_model: ImageModelOption = None,
    speech_model: SpeechModelOption = None,
    video_model: VideoModelOption = None,
    judge_model: JudgeOption = None,
    max_attempts: AttemptsOption = None,
    title_card: TitleCardOption = None,
    budget: BudgetOption = None,
    policy: PolicyOption = None,
    model: PinOption = None,
    fallback: FallbackOption = None,
    split_episodes: SplitOption = 1,
    review: ReviewOption = "",
    server: ServerOption = None,
) -> None:
    """Produce an episode from an IDEA, a --script screenplay or a --story."""
    gates = parse_review(review)
    _check_choices(idea, script, story, split_episodes, server)
    source = _read_source(idea, script, story, lang)
    if episode is not None:
        check_episode_name(episode)
    project = Project.open(output)
    name = episode or next_episode_name(project)
    parts = _parts(project, name, source, script, split_episodes)
    settings = load_settings(
        project.root,
        text_model=text_model,
        image_model=image_model,
        speech_model=speech_model,
        video_model=video_model,
        judge_model=judge_model,
        continuity_max_attempts=max_attempts,
        title_card=title_card,
        budget_usd=budget,
        policy=policy,
        pins=parse_models(model),
        fallback=fallback,
    )
    request, first = _first_input(source, name, story, script, length, seed, gates, settings)
    if parts:
        _produce_parts(project, request, parts)
    elif server:
        _produce_on_server(server, project, request, first)
    else:
        err.print(f"inkreel {__version__}: producing episode [bold]{name}[/] in {project.root}")
        _run_or_report(project, request, first)


def _check_choices(
    idea: str | None, script: Path | None, story: Path | None, split: int, server: str | None
) -> None:
    """Exactly one source; --split-episodes only for a screenplay made here."""
    if server and split > 1:
        raise UserError("--split-episodes runs here; produce the parts without --server.")
    if sum(x is not None for x in (idea, script, story)) != 1:
        raise UserError(
            "give one of an IDEA, --script FILE.fountain or --story story.json (exactly one)."
        )
    if split > 1 and script is None:
        raise UserError(
            "--split-episodes splits a --script screenplay; an idea or a story is one episode."
        )


def _read_source(idea: str | None, script: Path | None, story: Path | None, lang: str) -> _Source:
    """Read and check the one source; the episode's language is settled here."""
    if story is not None:
        # A story is in the language it is read in: its own unless --lang picks another.
        wanted = None if lang.strip().lower() == languages.AUTO else check_language(lang)
        try:
            told = load_story(story, wanted)
        except StoryError as exc:
            raise UserError(str(exc)) from None
        return _Source(told.language, told=told)
    if idea is not None:
        return _Source(check_language(lang), idea=check_idea(idea))
    assert script is not None
    lang = check_language(lang, screenplay=True)
    imported = settle_language(load_fountain(script, language=_placeholder(lang)), lang)
    return _Source(imported.language, imported=imported)


def _parts(
    project: Project, name: str, source: _Source, script: Path | None, split: int
) -> list[Script]:
    """The screenplay's parts with --split-episodes (else none); a name already produced or
    started is refused."""
    parts: list[Script] = []
    if split > 1:
        assert source.imported is not None and script is not None
        try:
            parts = split_script(source.imported, split, script.read_text(encoding="utf-8-sig"))
        except SplitError as exc:
            raise UserError(str(exc)) from None
        for part_name in part_names(name, len(parts)):
            check_episode_name(part_name)
    elif (project.root / "episodes" / name / "manifest.json").exists():
        raise UserError(
            f"episode {name} is already produced in {project.root}; choose another --episode name."
        )
    if not parts and is_started(project, name):
        raise UserError(
            f"episode {name} was started before and did not finish; continue it "
            f"with: inkreel resume -o {project.root} --episode {name}"
        )
    return parts


def _first_input(
    source: _Source,
    name: str,
    story: Path | None,
    script: Path | None,
    length: float | None,
    seed: int,
    gates: list[Gate],
    settings: Settings,
) -> tuple[EpisodeRequest, dict[str, Any]]:
    """The episode's request and the graph's first input (with the script when it is given)."""
    first: dict[str, Any]
    if source.told is not None:
        request, first = story_input(
            source.told,
            name,
            length_s=length,
            seed=seed,
            settings=settings.model_dump(),
            review=gates,
            story_file=str(story),
        )
        _say_unread_perspectives(first["script"])
    else:
        request = EpisodeRequest(
            episode=name,
            idea=source.idea,
            script_file=str(script) if script else None,
            length_s=length or DEFAULT_LENGTH_S,
            language=source.lang,
            seed=seed,
            review=gates,
            settings=settings.model_dump(),
        )
        first = {"request": request}
    if source.imported is not None:
        first["script"] = source.imported
        _say_skipped(source.imported)
    return request, first


def _say_unread_perspectives(script: Script) -> None:
    unread = [s for s in script.skipped if s.kind == "perspective"]
    if unread:
        err.print(
            f"Story import: {len(unread)} shot perspective(s) not read; the director chose "
            "their framing (see the summary and manifest)."
        )


def _say_skipped(imported: Script) -> None:
    if imported.skipped:
        err.print(
            f"Screenplay import skipped {len(imported.skipped)} element(s); see the "
            "summary and manifest."
        )


def _produce_on_server(
    server: str, project: Project, request: EpisodeRequest, first: dict[str, Any]
) -> None:
    """Produce on an `inkreel serve` server, showing its progress here."""
    name = request.episode
    err.print(f"inkreel {__version__}: producing episode [bold]{name}[/] on {server}")
    handle = RemoteEpisode(server, project, name)
    view = ProgressView(err)
    with view.progress:
        values = handle.start(request, first, on_event=view.on_event, on_update=view.on_update)
    finish_run(project, name, values, handle.pending_review())


def _produce_parts(project: Project, request: EpisodeRequest, parts: list[Script]) -> None:
    """Produce each part of a split screenplay as its own episode, sharing the project's cast.

    A part already produced is skipped and a started one resumed, so the same command goes on
    after a stop.
    """
    names = part_names(request.episode, len(parts))
    err.print(
        f"inkreel {__version__}: producing the screenplay as {len(parts)} episodes "
        f"({', '.join(names)}) in {project.root}; after a stop, run the same command again "
        f"with --episode {request.episode}."
    )
    for k, (name, part) in enumerate(zip(names, parts, strict=True), 1):
        if (project.root / "episodes" / name / "manifest.json").exists():
            err.print(f"[{k}/{len(parts)}] {name} is already produced; skipped.")
            continue
        started = is_started(project, name)
        scenes = f"scenes {part.scenes[0].heading} ... {part.scenes[-1].heading}"
        err.print(f"[{k}/{len(parts)}] {'resuming' if started else 'producing'} {name}: {scenes}")
        mine = request.model_copy(update={"episode": name})
        _run_or_report(project, mine, None if started else {"request": mine, "script": part})
        if pending_review(project, name) is not None:
            return  # the next part waits for this one's review
