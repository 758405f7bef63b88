"""The `inkreel` command line: produce and resume episodes."""

from __future__ import annotations

import functools
import json
import os
import re
import traceback
import unicodedata
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from inkreel import __version__
from inkreel.estimate import EpisodeOverBudget, draft_script, estimate_episode
from inkreel.graphs.state import EpisodeRequest
from inkreel.media import languages
from inkreel.media.fountain import ScriptError, load_fountain
from inkreel.project import Project, ProjectError, write_text_atomic
from inkreel.providers import ProviderError, build_providers
from inkreel.providers.budget import BudgetExceeded, Ledger
from inkreel.providers.errors import RunStop
from inkreel.providers.roster import ModelEntry, Roster, RosterError, Task, format_roster
from inkreel.providers.router import Router, RouterError
from inkreel.run import (
    RunError,
    check_episode_name,
    episode_state,
    is_started,
    next_episode_name,
    run_episode,
    summary_rows,
)
from inkreel.schemas import Script
from inkreel.settings import LANGUAGES, Settings, SettingsFileError
from inkreel.split import SplitError, part_names, split_script

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="inkreel: turn a story idea or a Fountain screenplay into a motion-comic episode.",
)
err = Console(stderr=True)
out = Console()

MAX_IDEA_CHARS = 4000
STAGES = {
    "write_script": "Screenwriter wrote the script",
    "check_script": "Continuity checked the script",
    "design_cast": "Character designer finished the cast and sets",
    "plan_storyboard": "Director planned the storyboard",
    "check_continuity": "Continuity checked the storyboard",
    "cut_timeline": "Editor cut the timeline and mixed the sound",
    "assemble_episode": "Editor delivered the episode",
}


# Events of an agent that got no usable answer and went on without one (the why follows).
GAVE_UP = {
    "script_not_revised": "continuity: scene {scene} kept as drafted, flagged",
    "scene_not_planned": "director: scene {scene} covered by default shots",
    "shot_not_replanned": "continuity: {shot_id} drawn again as planned",
}


# Bad input: reported as one line on stderr with exit code 2.
UserError = RunError


PolicyOption = Annotated[str | None, typer.Option(help="Model choice: draft, balanced or best.")]
PinOption = Annotated[
    list[str] | None, typer.Option(help="Pin a model for a task: TASK=ID (repeatable).")
]
LangOption = Annotated[
    str,
    typer.Option(
        help="Dialogue language: auto (detect a screenplay's; en for an idea), en, zh or ja "
        "for an idea, any code of `inkreel languages` for a --script."
    ),
]
FallbackOption = Annotated[
    str | None,
    typer.Option(
        help="When the next model takes a call: on-error (default: unusable answers, repeated "
        "failures; a rejected key or an unreachable endpoint stops the run), always (those "
        "too, with a warning), never (first model only)."
    ),
]
JudgeOption = Annotated[
    str | None,
    typer.Option(
        help="Also judge every keyframe with a hosted model that reads images: a roster id "
        "(gpt-4.1-mini...) or auto (default: no judge)."
    ),
]


def fail(message: str, code: int = 2) -> NoReturn:
    # The message is plain text: "[[models]]" or a path with brackets must print as written.
    err.print(f"[bold red]inkreel: error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def check_idea(idea: str) -> str:
    text = idea.strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Undecodable bytes from the shell arrive as lone surrogates.
        raise UserError(
            "the idea is not valid UTF-8 text; retype it or save it as UTF-8."
        ) from None
    if not text or not re.search(r"\w", text):
        raise UserError('the idea is empty; give a sentence such as "A courier finds a map".')
    if len(text) > MAX_IDEA_CHARS:
        raise UserError(
            f"the idea is {len(text)} characters long (at most {MAX_IDEA_CHARS}); put a longer "
            "story in a Fountain screenplay and use --script."
        )
    return text


def check_language(lang: str, screenplay: bool = False) -> str:
    """Return the --lang to use: a known code or auto for a screenplay; for a story idea en, zh
    or ja (auto is en), the languages the offline story engine writes."""
    code = lang.strip().lower()
    if code == languages.AUTO:
        return code if screenplay else "en"
    if not languages.is_known(code):
        raise UserError(languages.unknown_language_message(lang))
    code = languages.canonical(code)
    if not screenplay and code not in LANGUAGES:
        raise UserError(
            f"a story idea is written in one of {', '.join(LANGUAGES)}; "
            f"{languages.language_name(code)} ({code}) dialogue comes from a Fountain screenplay "
            "(--script, or a .fountain line in a batch)."
        )
    return code


def settle_language(script: Script, lang: str) -> Script:
    """Return the screenplay in the language of its dialogue (detected for auto), after one
    warning for each thing about it that cannot be voiced or drawn."""
    lines = [beat.text for scene in script.scenes for beat in scene.beats if beat.voices()]
    try:
        code, notes = languages.resolve_language(lang, lines)
    except languages.LanguageError as exc:
        raise UserError(str(exc)) from None
    if lang == languages.AUTO:
        err.print(f"Dialogue language: {languages.language_name(code)} ({code}), detected.")
    for note in notes:
        warn(note)
    return script.model_copy(update={"language": code})


def _placeholder(lang: str) -> str:
    # The language a screenplay is read with before its dialogue is detected.
    return languages.DEFAULT if lang == languages.AUTO else lang


class ProgressView:
    """Rich progress: one line per finished stage, bars for per-line and per-shot work."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, Any] = {}
        self.console = console

    def bar(self, key: str, label: str, total: int) -> None:
        if key in self.tasks:
            self.progress.update(self.tasks[key], total=total)
        else:
            self.tasks[key] = self.progress.add_task(label, total=total)

    def advance(self, key: str) -> None:
        if key in self.tasks:
            self.progress.advance(self.tasks[key])

    def on_event(self, kind: str, payload: dict[str, Any]) -> None:
        if kind == "take":
            self.advance("voices")
        elif kind == "keyframe":
            self.advance("keyframes")
        elif kind == "checking":
            # Each round of the continuity gate checks the shots that changed: a fresh bar.
            if "continuity" in self.tasks:
                self.progress.reset(self.tasks["continuity"], total=payload["shots"])
            else:
                self.bar("continuity", "Checking continuity", payload["shots"])
        elif kind == "checked":
            self.advance("continuity")
        elif kind == "revised":
            self.progress.console.print(f"  continuity: revised {payload['shot_id']}")
        elif kind == "script_revised":
            self.progress.console.print(f"  continuity: rewrote scene {payload['scene']}")
        elif kind == "redrawn":
            self.progress.console.print(f"  continuity: redrew {payload['name']}'s sheet")
        elif kind == "segment":
            self.advance("shots")
        elif kind == "character":
            state = "reused from memory" if payload["reused"] else "designed"
            self.progress.console.print(f"  {payload['name']}: {state}")
        elif kind == "asset_repaired":
            self.progress.console.print(
                f"  {payload['name']}: stored design repaired: {payload['issue']}", markup=False
            )
        elif kind == "script_repaired":
            self.progress.console.print(f"  screenplay repaired: {payload['issue']}", markup=False)
        elif kind in GAVE_UP:
            what = GAVE_UP[kind].format(**payload)
            self.progress.console.print(f"  {what}: {payload['why']}", markup=False)

    def on_update(self, node: str, update: dict[str, Any] | None, values: dict[str, Any]) -> None:
        if node == "design_cast" and values.get("script") is not None:
            lines = len(values["script"].dialogue())
            self.bar("voices", "Recording voices", lines)
        if node == "plan_storyboard" and update:
            self.bar("keyframes", "Rendering keyframes", len(update.get("shot_order", [])))
        if node == "cut_timeline" and update:
            self.bar("shots", "Rendering shots", len(update["timeline"].video))
        if node in STAGES:
            self.progress.console.print(f"[green]✓[/] {STAGES[node]}")


def parse_models(pins: list[str] | None) -> dict[str, str] | None:
    if not pins:
        return None
    chosen = {}
    for pin in pins:
        task, _, model_id = pin.partition("=")
        if not task or not model_id:
            raise UserError(f"--model {pin!r}: write it as TASK=ID, e.g. write=deepseek-chat.")
        chosen[task.strip()] = model_id.strip()
    return chosen


def load_settings(root: Path | None, **flags: Any) -> Settings:
    try:
        return Settings.load(root, **flags)
    except SettingsFileError as exc:
        raise UserError(str(exc)) from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise UserError(f"invalid settings: {problems}") from None


def load_roster(root: Path | None) -> Roster:
    try:
        return Roster.load(root)
    except RosterError as exc:
        raise UserError(str(exc)) from None


def warn(message: str) -> None:
    """Print a warning the run goes on after (a model that hands its calls on)."""
    err.print(
        f"[bold yellow]inkreel: warning:[/] {escape(message)}", highlight=False, soft_wrap=True
    )


def print_summary(project: Project, values: dict[str, Any]) -> None:
    request: EpisodeRequest = values["request"]
    script: Script = values["script"]
    table = Table(title=f"{script.title} — episode {request.episode}", show_header=False)
    for name, text in summary_rows(project, values):
        table.add_row(name, text)
    out.print(table)


def run_with_progress(
    project: Project,
    request: EpisodeRequest,
    first_input: dict[str, Any] | None,
    settings: Settings | None = None,
    resume: str | None = None,
) -> dict[str, Any]:
    """`run.run_episode` with progress bars on stderr."""
    view = ProgressView(err)
    with view.progress:
        return run_episode(
            project,
            request,
            first_input,
            settings=settings,
            on_event=view.on_event,
            on_update=view.on_update,
            resume=resume,
            warn=warn,
        )


def guarded(func: Any) -> Any:
    """Turn user errors into one message and exit 2; keep internal failures resumable."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (UserError, ProjectError, ScriptError, ProviderError, RunStop) as exc:
            fail(str(exc))
        except EpisodeOverBudget as exc:
            fail(f"{exc} (the run is checkpointed: nothing is paid twice).")
        except BudgetExceeded as exc:
            fail(f"{exc} The run is checkpointed: continue with `inkreel resume ... --budget`.")
        except KeyboardInterrupt:
            fail("interrupted; the run is checkpointed: continue it with `inkreel resume`.", 130)

    return wrapper


def _run_or_report(
    project: Project,
    request: EpisodeRequest,
    first_input: dict[str, Any] | None,
    settings: Settings | None = None,
) -> None:
    try:
        values = run_with_progress(project, request, first_input, settings)
    except (
        UserError,
        ProjectError,
        ScriptError,
        ProviderError,
        RunStop,
        BudgetExceeded,
        KeyboardInterrupt,
    ):
        raise
    except Exception as exc:
        log = project.root / "logs" / f"{request.episode}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(traceback.format_exc(), encoding="utf-8")
        fail(
            f"episode {request.episode} failed: {exc}. Nothing finished was lost; details in "
            f"{log}. Continue with: inkreel resume -o {project.root} --episode {request.episode}",
            1,
        )
    print_summary(project, values)


@app.command()
@guarded
def produce(
    idea: Annotated[
        str | None, typer.Argument(help="The story idea, in one or two sentences.")
    ] = None,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Project directory (a series).")
    ] = Path("inkreel-project"),
    script: Annotated[Path | None, typer.Option("--script", help="A Fountain screenplay.")] = None,
    episode: Annotated[
        str | None, typer.Option(help="Episode name (default ep01, ep02, ...).")
    ] = None,
    length: Annotated[
        float, typer.Option(help="Target runtime in seconds.", min=10, max=900)
    ] = 60.0,
    lang: LangOption = "auto",
    seed: Annotated[int, typer.Option(help="Seed: same seed, same episode.")] = 0,
    text_model: Annotated[str | None, typer.Option(help="Text model (default: offline).")] = None,
    image_model: Annotated[
        str | None, typer.Option(help="Keyframe model id, or auto (default: offline).")
    ] = None,
    speech_model: Annotated[
        str | None, typer.Option(help="Voice model id, or auto (default: offline).")
    ] = None,
    video_model: Annotated[
        str | None,
        typer.Option(help="Image-to-video model id (seedance-2.0, viduq3-pro...), or auto."),
    ] = None,
    judge_model: JudgeOption = None,
    max_attempts: Annotated[
        int | None, typer.Option(help="Renders per shot before continuity flags it.", min=1, max=10)
    ] = None,
    title_card: Annotated[
        bool | None, typer.Option("--title-card/--no-title-card", help="Open with a title card.")
    ] = None,
    budget: Annotated[
        float | None, typer.Option(help="Hard cap on this episode's model spend, USD.", min=0)
    ] = None,
    policy: PolicyOption = None,
    model: PinOption = None,
    fallback: FallbackOption = None,
    split_episodes: Annotated[
        int,
        typer.Option(
            "--split-episodes",
            min=1,
            help="Produce the --script screenplay as N episodes (NAME-part1...), cut between "
            "scenes at act or sequence breaks where it can, balanced by runtime.",
        ),
    ] = 1,
) -> None:
    """Produce an episode from an IDEA or a --script screenplay."""
    if (idea is None) == (script is None):
        raise UserError("give either an IDEA or --script FILE.fountain (not both, not neither).")
    if split_episodes > 1 and script is None:
        raise UserError("--split-episodes splits a --script screenplay; an idea is one episode.")
    lang = check_language(lang, screenplay=script is not None)
    imported: Script | None = None
    if idea is not None:
        idea = check_idea(idea)
    else:
        assert script is not None
        imported = settle_language(load_fountain(script, language=_placeholder(lang)), lang)
        lang = imported.language
    if episode is not None:
        check_episode_name(episode)
    project = Project.open(output)
    name = episode or next_episode_name(project)
    parts: list[Script] = []
    if split_episodes > 1:
        assert imported is not None and script is not None
        try:
            parts = split_script(imported, split_episodes, script.read_text(encoding="utf-8-sig"))
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
    request = EpisodeRequest(
        episode=name,
        idea=idea,
        script_file=str(script) if script else None,
        length_s=length,
        language=lang,
        seed=seed,
        settings=settings.model_dump(),
    )
    first: dict[str, Any] = {"request": request}
    if imported is not None:
        first["script"] = imported
        if imported.skipped:
            err.print(
                f"Screenplay import skipped {len(imported.skipped)} element(s); see the "
                "summary and manifest."
            )
    if parts:
        _produce_parts(project, request, parts)
        return
    err.print(f"inkreel {__version__}: producing episode [bold]{name}[/] in {project.root}")
    _run_or_report(project, request, first)


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


def read_batch(path: Path) -> list[tuple[str | None, Path | None]]:
    """A batch file: one episode per line, an idea or a path to a .fountain screenplay
    (relative to the batch file); blank lines and lines starting with # are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"batch file {path} does not exist.") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"batch file {path} is not UTF-8 text ({exc.reason}).") from None
    except OSError as exc:
        raise UserError(f"cannot read batch file {path}: {exc.strerror}.") from None
    entries: list[tuple[str | None, Path | None]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.lower().endswith(".fountain"):
            script = (path.parent / line).resolve()
            if not script.is_file():
                raise UserError(f"{path}:{number}: screenplay {line} does not exist.")
            entries.append((None, script))
        else:
            try:
                entries.append((check_idea(line), None))
            except UserError as exc:
                raise UserError(f"{path}:{number}: {exc}") from None
    if not entries:
        raise UserError(f"batch file {path} names no episodes (one idea or .fountain per line).")
    return entries


@app.command()
@guarded
def batch(
    file: Annotated[Path, typer.Argument(help="One idea or .fountain path per line.")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Project directory (the series).")
    ] = Path("inkreel-project"),
    budget: Annotated[
        float | None, typer.Option(help="Hard cap on each episode's model spend, USD.", min=0)
    ] = None,
    batch_budget: Annotated[
        float | None, typer.Option(help="Hard cap on the whole batch's model spend, USD.", min=0)
    ] = None,
    length: Annotated[
        float, typer.Option(help="Target runtime per episode, seconds.", min=10, max=900)
    ] = 60.0,
    lang: LangOption = "auto",
    seed: Annotated[int, typer.Option(help="Seed of the first episode (then +1 each).")] = 0,
    policy: PolicyOption = None,
    model: PinOption = None,
    fallback: FallbackOption = None,
) -> None:
    """Produce a series overnight: every episode of FILE, under per-episode and batch caps.

    Run it again after a stop (a budget, a crash, Ctrl-C): finished episodes are skipped,
    unfinished ones resume from their checkpoints, so nothing is produced or paid twice.
    """
    lang = check_language(lang, screenplay=True)
    entries = read_batch(file)
    idea_lang = check_language(lang) if any(idea for idea, _ in entries) else lang
    project = Project.open(output)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", file.stem) or "batch"
    settings = load_settings(
        project.root,
        budget_usd=budget,
        batch=name,
        batch_budget_usd=batch_budget,
        policy=policy,
        pins=parse_models(model),
        fallback=fallback,
    )
    failed: list[str] = []
    for index, (idea, script) in enumerate(entries, 1):
        episode = f"ep{index:02d}"
        folder = project.root / "episodes" / episode
        if (folder / "manifest.json").exists():
            err.print(f"[{index}/{len(entries)}] {episode} is already produced; skipped.")
            continue
        started = is_started(project, episode)
        imported = None
        if started:
            err.print(f"[{index}/{len(entries)}] resuming {episode}")
        else:
            err.print(f"[{index}/{len(entries)}] producing {episode}: {idea or script}")
            if script is not None:
                imported = settle_language(load_fountain(script, language=_placeholder(lang)), lang)
        request = EpisodeRequest(
            episode=episode,
            idea=idea,
            script_file=str(script) if script else None,
            length_s=length,
            language=imported.language if imported else idea_lang,
            seed=seed + index - 1,
            settings=settings.model_dump(),
        )
        first: dict[str, Any] | None = None if started else {"request": request}
        if first is not None and imported is not None:
            first["script"] = imported
        try:
            values = run_with_progress(
                project, request, first, resume="the same batch command with"
            )
        except BudgetExceeded as exc:
            raise UserError(
                f"{exc} The batch stopped at {episode}; everything before it is delivered and "
                f"{episode} is checkpointed. Continue with the same command and a higher cap."
            ) from None
        except (UserError, ProjectError, ScriptError, ProviderError, RunStop, KeyboardInterrupt):
            raise
        except Exception as exc:
            log = project.root / "logs" / f"{episode}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(traceback.format_exc(), encoding="utf-8")
            err.print(f"[red]{episode} failed[/]: {exc} (details in {log}); going on.")
            failed.append(episode)
            continue
        print_summary(project, values)
    with Ledger(project.ledger) as ledger:
        spent = ledger.spent(("batch", name))
    cap = f" of ${batch_budget:.4f}" if batch_budget is not None else ""
    err.print(
        f"Batch {name}: {len(entries) - len(failed)}/{len(entries)} episodes, ${spent:.4f}{cap}."
    )
    if failed:
        fail(f"{len(failed)} episode(s) failed: {', '.join(failed)}; run the batch again.", 1)


@app.command()
@guarded
def resume(
    output: Annotated[Path, typer.Option("-o", "--output", help="Project directory.")],
    episode: Annotated[str, typer.Option(help="Episode name to continue.")],
    budget: Annotated[
        float | None, typer.Option(help="A new cap on this episode's model spend, USD.", min=0)
    ] = None,
    fallback: FallbackOption = None,
) -> None:
    """Continue an interrupted episode from its last checkpoint."""
    check_episode_name(episode)
    project = Project.open(output, create=False)
    state = episode_state(project, episode)
    if not state.values:
        raise UserError(f"there is no episode {episode!r} in {project.root} to resume.")
    if not state.next:
        raise UserError(
            f"episode {episode} is already finished; files are in "
            f"{project.root / 'episodes' / episode}."
        )
    request: EpisodeRequest = state.values["request"]
    changed = {"budget_usd": budget, "fallback": fallback}
    try:
        settings = Settings.model_validate(
            {**request.settings, **{k: v for k, v in changed.items() if v is not None}}
        )
    except ValidationError as exc:
        raise UserError(f"invalid settings: {exc.errors()[0]['msg']}") from None
    err.print(
        f"inkreel {__version__}: resuming episode [bold]{episode}[/] at {', '.join(state.next)}"
    )
    _run_or_report(project, request, None, settings)


class PinnedChooser:
    """Pinned tasks go to their pin; the rest to what the router picks with this machine's
    keys (so a placeholder key for a pin does not make other models look usable)."""

    def __init__(self, router: Router, pinned: Router) -> None:
        self.router = router
        self.pinned = pinned

    def choose(self, task: Task) -> ModelEntry:
        if task in self.pinned.overrides:
            return self.pinned.choose(task)
        return self.router.choose(task)


@app.command()
@guarded
def estimate(
    idea: Annotated[
        str | None, typer.Argument(help="The story idea, in one or two sentences.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Project whose inkreel.toml to use.")
    ] = None,
    script: Annotated[Path | None, typer.Option("--script", help="A Fountain screenplay.")] = None,
    length: Annotated[
        float, typer.Option(help="Target runtime in seconds.", min=10, max=900)
    ] = 60.0,
    lang: LangOption = "auto",
    seed: Annotated[int, typer.Option(help="Seed of the local draft.")] = 0,
    episodes: Annotated[int, typer.Option(help="Episodes in the batch.", min=1)] = 1,
    budget: Annotated[
        float | None, typer.Option(help="Compare with this cap per episode, USD.", min=0)
    ] = None,
    policy: PolicyOption = None,
    model: PinOption = None,
    text_model: Annotated[str | None, typer.Option(help="Text model id.")] = None,
    image_model: Annotated[str | None, typer.Option(help="Keyframe model id, or auto.")] = None,
    speech_model: Annotated[str | None, typer.Option(help="Voice model id, or auto.")] = None,
    video_model: Annotated[
        str | None, typer.Option(help="Image-to-video model id, or auto.")
    ] = None,
    judge_model: JudgeOption = None,
) -> None:
    """Print what an episode (or a batch) will cost, before any model is called."""
    if (idea is None) == (script is None):
        raise UserError("give either an IDEA or --script FILE.fountain (not both, not neither).")
    lang = check_language(lang, screenplay=script is not None)
    root = Project.settings_root(output) if output else None
    settings = load_settings(
        root,
        text_model=text_model,
        image_model=image_model,
        speech_model=speech_model,
        video_model=video_model,
        judge_model=judge_model,
        policy=policy,
        pins=parse_models(model),
    )
    roster = load_roster(root)
    # Pricing a model needs no key: a pinned model whose key is not set here is priced as
    # if it were (the run itself will still ask for the key); unpinned tasks are priced on
    # what the router would choose on this machine.
    pins = settings.task_models()
    missing = []
    for model_id in pins.values():
        entry = roster.get(model_id) if model_id in roster else None
        if entry is not None and entry.api_key_env and not os.environ.get(entry.api_key_env):
            missing.append(entry.api_key_env)
    keyless = {name: "unset" for name in missing}
    try:
        router = Router(roster, settings.policy, None, os.environ)
        chooser = PinnedChooser(
            router,
            Router(roster, settings.policy, pins, {**os.environ, **keyless}),  # type: ignore[arg-type]
        )
    except RouterError as exc:
        raise UserError(str(exc)) from None
    if idea is not None:
        the_script = draft_script(check_idea(idea), length, lang, seed)
    else:
        assert script is not None
        the_script = settle_language(load_fountain(script, language=_placeholder(lang)), lang)
    try:
        shape, report = estimate_episode(
            the_script,
            length,
            script is not None,
            roster,
            chooser,
            judge=settings.judge_model is not None,
        )
    except RouterError as exc:  # e.g. a judge left to the router with no vision model usable
        raise UserError(str(exc)) from None
    table = Table(title="Expected cost per episode (no model was called)")
    for column in ("task", "model", "calls", "units", "USD"):
        table.add_column(column, justify="right" if column in ("calls", "USD") else "left")
    for line in report.lines:
        units = ", ".join(f"{v:,.0f} {k.replace('_', ' ')}" for k, v in line.units.items())
        table.add_row(line.task, line.model_id, str(line.calls), units, f"{line.usd:.4f}")
    table.add_row("total", "", "", "", f"{report.total_usd:.4f}")
    out.print(table)
    out.print(
        f"Shape: {shape.scenes} scenes, {shape.characters} characters, {shape.locations} "
        f"locations, {shape.beats} beats -> about {shape.beats} shots, {shape.lines} lines "
        f"({shape.line_chars} characters), about {shape.seconds:.0f} s."
    )
    if episodes > 1:
        out.print(f"Batch of {episodes} episodes: about ${report.total_usd * episodes:.4f}.")
    if budget is not None:
        verdict = "fits" if report.total_usd <= budget else "does NOT fit"
        out.print(f"Expected ${report.total_usd:.4f} {verdict} a ${budget:.4f} cap per episode.")
    out.print(
        "Assumes one shot per beat, no continuity retries and no fallbacks; the ledger "
        "enforces --budget during the run."
    )
    if missing:
        out.print(f"Priced without keys; producing needs {', '.join(sorted(set(missing)))}.")


@app.command()
@guarded
def models(
    project_dir: Annotated[
        Path | None, typer.Option("-o", "--output", help="Project with an inkreel.toml.")
    ] = None,
) -> None:
    """List the model roster: capability, price, quality tier, usable now or not."""
    roster = load_roster(Project.settings_root(project_dir) if project_dir else None)
    table = Table(show_lines=False)
    for column in ("capability", "id", "model", "price", "tier", "usable"):
        table.add_column(column)
    for row in format_roster(roster, os.environ):
        usable_now = "yes" if row["usable"] == "yes" else f"no: {row['reason']}"
        table.add_row(
            row["capability"], row["id"], row["model"], row["price"], str(row["tier"]), usable_now
        )
    out.print(table)


@app.command(name="languages")
def list_languages() -> None:
    """List the dialogue languages: code, eSpeak voice, script, and whether a font draws it."""
    from inkreel.media import fonts

    letters = _script_letters()
    table = Table(show_lines=False)
    for column in ("code", "language", "eSpeak voice", "script", "subtitles"):
        table.add_column(column)
    for code, lang in sorted(languages.LANGUAGES.items()):
        drawn = "yes" if not fonts.uncovered([letters.get(lang.script, "")]) else "boxes"
        table.add_row(code, lang.name, lang.voice, languages.script_name(lang.script), drawn)
    out.print(table)
    unvoiced = ", ".join(
        f"{name} ({code})" for code, (name, _, _) in sorted(languages.UNVOICED.items())
    )
    out.print(
        f"{len(languages.LANGUAGES)} voiced languages. --lang auto (the default) detects a "
        "screenplay's language from its dialogue. Detected but voiced by a stand-in, with a "
        f"warning: {unvoiced}.",
        highlight=False,
    )


def _script_letters(per_script: int = 24) -> dict[str, str]:
    """Return some letters of each script, to ask the fonts whether they draw it."""
    letters: dict[str, str] = {}
    for point in range(0x41, 0x30000):
        ch = chr(point)
        script = languages.script_of(ch) if unicodedata.category(ch)[0] == "L" else None
        if script and len(letters.get(script, "")) < per_script:
            letters[script] = letters.get(script, "") + chr(point)
    return letters


eval_app = typer.Typer(no_args_is_help=True, help="Measure what the line produced.")
app.add_typer(eval_app, name="eval")


@eval_app.command("consistency")
@guarded
def eval_consistency(
    project_dir: Annotated[Path, typer.Argument(help="Project directory.")],
    episode: Annotated[str, typer.Option(help="Episode to measure.")],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Where to write the JSON report.")
    ] = None,
) -> None:
    """Score character identity, on-screen counts and set stability of an episode."""
    from inkreel.evals.consistency import evaluate_episode, format_report, write_report

    check_episode_name(episode)
    project = Project.open(project_dir, create=False)
    folder = project.root / "episodes" / episode
    if not (folder / "storyboard.json").exists():
        raise UserError(
            f"episode {episode} in {project.root} has no storyboard.json; produce or "
            "resume it first."
        )
    report = evaluate_episode(project.root, episode)
    path = write_report(report, json_out or folder / "consistency.json")
    out.print(format_report(report))
    out.print(f"Report: {path}")


@eval_app.command("continuity")
@guarded
def eval_continuity(
    projects: Annotated[
        list[Path], typer.Argument(help="Project directories whose episodes are the clean set.")
    ],
    episode: Annotated[
        list[str] | None, typer.Option(help="Only these episodes (repeatable).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the planted defects.")] = 0,
    cases: Annotated[int, typer.Option(help="Cases per defect type and level.", min=1)] = 3,
    level: Annotated[
        list[str] | None, typer.Option(help="Only these levels: script, storyboard, image.")
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Where results.jsonl and summary.json go.")
    ] = Path("continuity-eval"),
) -> None:
    """Plant one defect per case in clean episodes and score the continuity checker."""
    from inkreel.checks import Bundle
    from inkreel.evals.continuity import evaluate, format_summary

    levels = check_levels(level)
    bundles: dict[str, Bundle] = {}
    for root in projects:
        project = Project.open(root, create=False)
        for folder in sorted((project.root / "episodes").glob("*")):
            board = folder / "storyboard.json"
            if episode and folder.name not in episode:
                continue
            if board.is_file() and (folder / "manifest.json").is_file():
                bundles[f"{project.root.name}/{folder.name}"] = load_bundle(board, project.root)
    if not bundles:
        raise UserError("no produced episodes found in " + ", ".join(map(str, projects)) + ".")
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err
    ) as bar:
        job = bar.add_task("Planting and checking", total=None)
        summary = evaluate(
            bundles,
            out_dir,
            seed=seed,
            cases_per_type=cases,
            levels=levels,
            progress=lambda case: bar.update(job, advance=1, description=case),
        )
    out.print(format_summary(summary), soft_wrap=True, highlight=False)
    out.print(f"Results: {out_dir / 'results.jsonl'}, {out_dir / 'summary.json'}")


def check_levels(given: list[str] | None) -> tuple[str, ...]:
    from inkreel.checks import LEVELS

    levels = tuple(given or LEVELS)
    unknown = sorted(set(levels) - set(LEVELS))
    if unknown:
        raise UserError(f"unknown level {', '.join(unknown)}; use {', '.join(LEVELS)}.")
    return levels


def load_bundle(path: Path, root: Path | None = None) -> Any:
    """A storyboard JSON file as a check bundle, or one clear error."""
    from inkreel.checks import Bundle

    try:
        return Bundle.load(path, root)
    except FileNotFoundError:
        raise UserError(f"{path} does not exist.") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path} is not UTF-8 text ({exc.reason}).") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "the file"
        raise UserError(
            f"{path} is not a storyboard JSON file ({exc.error_count()} problem(s); first at "
            f"{where}: {first['msg']}). See docs/storyboard-schema.json."
        ) from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}.") from None


def judge_storyboard(
    storyboard: Path, bundle: Any, judge_model: str | None, budget: float | None
) -> list[Any]:
    """The judge's findings on every keyframe, when a judge is set (flag, environment or the
    project's inkreel.toml). Calls are paid in the project's ledger when the storyboard is in
    a project (a keyframe judged before is answered from it), else in a temporary one; the
    providers are the ones `produce` builds from the same settings."""
    import contextlib
    import tempfile

    from inkreel.checks.judge import judge_shots
    from inkreel.project import MARKER

    settings = load_settings(bundle.root, judge_model=judge_model, budget_usd=budget)
    if settings.judge_model is None:
        return []
    try:
        roster = Roster.load(bundle.root)
    except RosterError as exc:
        raise UserError(str(exc)) from None
    folder = storyboard.resolve().parent
    name = folder.name if folder.parent.name == "episodes" else storyboard.stem
    with contextlib.ExitStack() as stack:
        if (bundle.root / MARKER).is_file():
            path = Project.open(bundle.root, create=False).ledger
        else:
            temporary = stack.enter_context(tempfile.TemporaryDirectory(prefix="inkreel-"))
            path = Path(temporary) / "ledger.sqlite"
        ledger = stack.enter_context(Ledger(path))
        providers = build_providers(
            settings, 0, ledger, f"check-{name}", roster=roster, context=name
        )
        try:
            return judge_shots(providers.calls, bundle, [s.id for s in bundle.board.shots])
        except BudgetExceeded as exc:
            raise UserError(
                f"{exc} Judging {storyboard} stopped; give a higher --budget (in a project, "
                "verdicts already paid for are not paid again)."
            ) from None


@app.command()
@guarded
def check(
    storyboard: Annotated[Path, typer.Argument(help="A storyboard JSON file.")],
    root: Annotated[
        Path | None,
        typer.Option(help="Directory the file's image paths are relative to."),
    ] = None,
    level: Annotated[
        list[str] | None, typer.Option(help="Only these levels: script, storyboard, image.")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Where to write the findings as JSON.")
    ] = None,
    judge_model: JudgeOption = None,
    budget: Annotated[
        float | None,
        typer.Option(help="Hard cap on what judging this storyboard may spend, USD.", min=0),
    ] = None,
) -> None:
    """Check a storyboard (ours or made elsewhere) for continuity errors; exit 1 if any."""
    from inkreel.checks import run_checks

    levels = check_levels(level)
    bundle = load_bundle(storyboard, root)
    findings = run_checks(bundle, levels)
    if "image" in levels and bundle.has_images:
        findings += judge_storyboard(storyboard, bundle, judge_model, budget)
    table = Table(title=f"Continuity: {storyboard}", show_lines=True)
    for column in ("level", "check", "shots", "severity", "finding", "fix (for)"):
        table.add_column(column)
    for f in findings:
        where = ", ".join(s for s in dict.fromkeys([f.shot_id, *f.shots]) if s) or (
            f"scene {f.scene}" if f.scene is not None else ""
        )
        table.add_row(
            f.level, f.check, where, f.severity, f.message, f"{f.fix_instruction} ({f.agent})"
        )
    out.print(table if findings else f"No continuity findings in {storyboard}.")
    for note in bundle.notes:
        out.print(f"note: {note}")
    if json_out is not None:
        report = {
            "storyboard": str(storyboard),
            "levels": list(levels),
            "notes": bundle.notes,
            "findings": [f.model_dump(mode="json") for f in findings],
        }
        write_text_atomic(json_out, json.dumps(report, indent=2, ensure_ascii=False))
        out.print(f"Report: {json_out}")
    if any(f.severity == "error" for f in findings):
        raise typer.Exit(1)


@app.command()
def version() -> None:
    """Print the inkreel version."""
    out.print(__version__)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
