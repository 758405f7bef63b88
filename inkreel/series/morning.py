"""The morning report: what the night's runs made of a series, what it cost, what needs a human.

    report = morning_report(Project.open("my-series", create=False), since=parse_since("12h"))

Each episode folder of the project is read from what is on disk (run.json, manifest.json,
continuity.json, storyboard.json, and the log `inkreel batch` writes when an episode fails),
from its last checkpoint (where it stopped, and why) and from the project's ledger (spend and
caps). An episode is

* finished: delivered (manifest.json) with nothing left to run;
* stopped: waiting at a review gate, stopped by a budget (a task of its last checkpoint failed
  with BudgetExceeded), or interrupted with work left (a killed process, Ctrl-C);
* failed: a task of its last checkpoint failed with another error, or `inkreel batch` logged a
  failure after its last run started, or it ended before its first checkpoint undelivered.

`inkreel.series.morning_pages` renders the report as an HTML page and a markdown summary.
"""

from __future__ import annotations

import ast
import re
import shlex
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from langgraph.types import StateSnapshot
from pydantic import ValidationError

from inkreel.project import Project, read_json_object
from inkreel.providers.budget import Ledger
from inkreel.run import episode_state, is_delivered, work_left
from inkreel.schemas import ContinuityReport, Finding

Status = Literal["finished", "waiting", "over_budget", "interrupted", "failed"]
Group = Literal["finished", "stopped", "failed"]
GROUP_OF: dict[Status, Group] = {
    "finished": "finished",
    "waiting": "stopped",
    "over_budget": "stopped",
    "interrupted": "stopped",
    "failed": "failed",
}
STATUS_LABEL: dict[Status, str] = {
    "finished": "finished",
    "waiting": "waiting for review",
    "over_budget": "over budget",
    "interrupted": "interrupted",
    "failed": "failed",
}

# Errors a checkpoint keeps when a person (Ctrl-C) or the system stopped the run, not a fault.
STOPPED_BY_HAND = frozenset({"KeyboardInterrupt", "SystemExit", "CancelledError"})
_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
_SPAN_S = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_CLOCK = re.compile(r"^\s*\d{1,2}:\d{2}(:\d{2})?\s*$")
# BudgetExceeded's message (providers.budget), as the failed task's error keeps it.
_USD = r"\$(?P<{}>\d+(?:\.\d+)?)"
_BUDGET_STOP = re.compile(
    rf"budget for (?P<kind>\w+) '(?P<name>[^']*)' is {_USD.format('cap')}; "
    rf"{_USD.format('spent')} is spent or reserved and the next call needs {_USD.format('needed')}"
)


class SinceError(ValueError):
    """A --since that is not a time: one line saying what is accepted."""


def parse_since(text: str, now: float | None = None) -> float:
    """The moment `text` names, as a Unix time: an ISO date or date-time (naive is local time),
    a clock time (the last such moment before now), or a span back from now (90m, 12h, 2d, 1w).
    """
    now = time.time() if now is None else now
    span = _SPAN.match(text)
    if span:
        return now - float(span[1]) * _SPAN_S[span[2].lower()]
    try:
        if _CLOCK.match(text):
            clock = datetime.strptime(text.strip(), "%H:%M:%S" if text.count(":") == 2 else "%H:%M")
            today = datetime.fromtimestamp(now).replace(
                hour=clock.hour, minute=clock.minute, second=clock.second, microsecond=0
            )
            moment = today if today.timestamp() <= now else today - timedelta(days=1)
        else:
            moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SinceError(
            f"--since {text!r} is not a time; give an ISO date or time (2025-06-01, "
            "2025-06-01T22:00, 22:00) or a span back from now (90m, 12h, 2d)."
        ) from None
    return moment.timestamp()


@dataclass(frozen=True)
class Spend:
    """Money of one scope (an episode, a batch) against its cap, from the ledger."""

    usd: float
    cap_usd: float | None
    reserved_usd: float = 0.0  # held by calls a killed process left in flight

    @property
    def share(self) -> float | None:
        """Spent and reserved as a fraction of the cap (None without a cap)."""
        if self.cap_usd is None:
            return None
        if self.cap_usd == 0:
            return 1.0 if self.usd + self.reserved_usd > 0 else 0.0
        return (self.usd + self.reserved_usd) / self.cap_usd


@dataclass(frozen=True)
class CostLine:
    """What one agent or one model cost: successful and failed calls, and dollars."""

    name: str
    calls: int
    failed: int
    usd: float


@dataclass(frozen=True)
class Session:
    """One run of an episode (its first run, a resume, a retake)."""

    started_at: float
    wall_s: float


@dataclass(frozen=True)
class FlaggedShot:
    """A shot the continuity checker gave up on at its limit: its kept take is for a human."""

    episode: str
    shot_id: str
    attempts: int
    score: float | None
    findings: list[Finding]
    keyframe: Path | None  # the kept take's image, when it is on disk


@dataclass(frozen=True)
class EpisodeReport:
    name: str
    folder: Path
    title: str
    source: str  # the idea, or the screenplay or story file it was made from
    status: Status
    why: str  # where and why it stopped, in one line
    next_steps: list[str]  # commands, or what to read, in order
    spend: Spend
    by_agent: list[CostLine]
    by_model: list[CostLine]
    batch: str | None
    sessions: list[Session]
    wall_s: float | None  # None: unknown (a run.json written before sessions were kept)
    runtime_s: float | None
    faults_survived: dict[str, int]
    faults_by_task: dict[str, dict[str, int]]
    fallbacks: list[dict[str, Any]]
    flagged_shots: list[FlaggedShot]
    script_findings: list[Finding]  # open script findings of a draft kept at the limit
    log: Path | None  # the failure log `inkreel batch` wrote, when it is about the last run

    @property
    def group(self) -> Group:
        return GROUP_OF[self.status]

    @property
    def label(self) -> str:
        return STATUS_LABEL[self.status]

    @property
    def last_started(self) -> float | None:
        return max((s.started_at for s in self.sessions), default=None)

    @property
    def needs_human(self) -> bool:
        return self.status != "finished" or bool(self.flagged_shots or self.script_findings)


@dataclass(frozen=True)
class BatchSpend:
    name: str
    spend: Spend
    episodes: list[str]


@dataclass(frozen=True)
class MorningReport:
    project: Path
    made_at: float
    since: float | None
    episodes: list[EpisodeReport]
    batches: list[BatchSpend]
    episodes_in_project: int  # before --since

    def group(self, name: Group) -> list[EpisodeReport]:
        return [e for e in self.episodes if e.group == name]

    def count(self, status: Status) -> int:
        return sum(1 for e in self.episodes if e.status == status)

    @property
    def spent_usd(self) -> float:
        return sum(e.spend.usd for e in self.episodes)

    @property
    def wall_s(self) -> float | None:
        """The episodes' wall time in all; None when any is unknown."""
        walls = [e.wall_s for e in self.episodes]
        return None if any(w is None for w in walls) else sum(w or 0.0 for w in walls)

    @property
    def by_agent(self) -> list[CostLine]:
        return _combine(line for e in self.episodes for line in e.by_agent)

    @property
    def by_model(self) -> list[CostLine]:
        return _combine(line for e in self.episodes for line in e.by_model)

    @property
    def flagged_shots(self) -> list[FlaggedShot]:
        return [shot for e in self.episodes for shot in e.flagged_shots]


def morning_report(
    project: Project, since: float | None = None, now: float | None = None
) -> MorningReport:
    """Read every episode of the project (those with a run started since `since`, if given)."""
    folders = sorted(
        (p for p in (project.root.resolve() / "episodes").glob("*") if p.is_dir()),
        key=lambda p: p.name,
    )
    shared = project.storage.database is not None
    ledger = Ledger.open(project) if shared or project.ledger.exists() else None
    try:
        episodes = []
        for folder in folders:
            run = read_json_object(folder / "run.json")
            if since is not None and not any(t >= since for t in _run_starts(folder, run)):
                continue
            episodes.append(_episode(project, folder, run, ledger))
        batches = _batches(episodes, ledger)
    finally:
        if ledger is not None:
            ledger.close()
    return MorningReport(
        project=project.root.resolve(),
        made_at=time.time() if now is None else now,
        since=since,
        episodes=episodes,
        batches=batches,
        episodes_in_project=len(folders),
    )


# -- one episode -----------------------------------------------------------------------------


@dataclass
class _Facts:
    """What the episode's last checkpoint says (empty when it has none)."""

    values: dict[str, Any] = field(default_factory=dict)
    gate: dict[str, Any] | None = None
    error: str | None = None  # the failed task's error, as the checkpoint keeps it (a repr)
    next: tuple[str, ...] = ()
    work_left: bool = False


def _facts(project: Project, name: str) -> _Facts:
    state: StateSnapshot = episode_state(project, name)
    if not state.values:
        return _Facts()
    # What `inkreel.run.pending_review` reads, without loading the checkpoint again.
    gate = next(
        (w.value for w in state.interrupts if isinstance(w.value, dict) and "gate" in w.value),
        None,
    )
    error = next((str(t.error) for t in state.tasks if t.error), None)
    return _Facts(
        values=dict(state.values),
        gate=gate,
        error=error,
        next=tuple(state.next or [t.name for t in state.tasks]),
        work_left=work_left(project, name, state),
    )


def _episode(
    project: Project, folder: Path, run: dict[str, Any] | None, ledger: Ledger | None
) -> EpisodeReport:
    name = folder.name
    facts = _facts(project, name)
    values = facts.values
    manifest = read_json_object(folder / "manifest.json") or {}
    summary = manifest.get("summary") or {}
    request = values.get("request")
    settings: dict[str, Any] = dict(request.settings) if request is not None else {}
    sessions = _sessions(run)
    log = _recent_log(project, name, sessions)
    delivered = is_delivered(project, name)
    status, why = _status(facts, delivered, log)
    batch = settings.get("batch") or None
    spend, rows = _spend(ledger, ("episode", name), run)
    continuity = _continuity(folder, values)
    flagged = _flagged_shots(project, folder, name, values, continuity)
    script = continuity.script if continuity is not None else values.get("script_review")
    script_findings = (
        [f for f in script.findings if f.severity == "error"]
        if script is not None and script.status == "flagged"
        else []
    )
    if status == "finished" and (flagged or script_findings):
        why += "; " + _flag_words(flagged, script_findings)
    report = EpisodeReport(
        name=name,
        folder=folder,
        title=str(summary.get("title") or getattr(values.get("script"), "title", "") or ""),
        source=_source(request),
        status=status,
        why=why,
        next_steps=[],
        spend=spend,
        by_agent=_costs(rows, "agent"),
        by_model=_costs(rows, "model"),
        batch=batch,
        sessions=sessions,
        wall_s=sum(s.wall_s for s in sessions) if run is not None and "sessions" in run else None,
        runtime_s=manifest.get("runtime_s"),
        faults_survived=dict((run or {}).get("faults_survived") or {}),
        faults_by_task=dict((run or {}).get("faults_by_task") or {}),
        fallbacks=list((run or {}).get("fallbacks") or []),
        flagged_shots=flagged,
        script_findings=script_findings,
        log=log,
    )
    return replace(report, next_steps=_next_steps(project, report, facts))


def _status(facts: _Facts, delivered: bool, log: Path | None) -> tuple[Status, str]:
    if facts.gate is not None:
        action = (facts.gate.get("action_requests") or [{}])[0]
        return (
            "waiting",
            f"waiting at the {facts.gate['gate']} gate: {action.get('description', '')}",
        )
    if facts.error is not None:
        kind, message = _error_parts(facts.error)
        if kind in STOPPED_BY_HAND:
            return "interrupted", f"interrupted at {_step(facts)} ({kind}), with work left"
        if kind == "BudgetExceeded":
            stop = _BUDGET_STOP.search(message)
            if stop is None:
                return "over_budget", f"stopped by a budget: {message}"
            return "over_budget", (
                f"stopped by the {stop['kind']} budget at {_step(facts)}: ${stop['spent']} of "
                f"${stop['cap']} spent or reserved, and the next call needs ${stop['needed']} "
                f"(a cap above ${float(stop['spent']) + float(stop['needed']):.4f} pays for that "
                "call only; inkreel estimate prices a whole episode)"
            )
        return "failed", f"failed at {_step(facts)}: {kind}: {message}"
    if facts.work_left:
        if log is not None:
            return "failed", f"failed at {_step(facts)}: {_last_line(log)}"
        return "interrupted", f"interrupted at {_step(facts)}, with work left"
    if delivered:
        return "finished", "delivered"
    if log is not None:
        return "failed", f"failed before it was delivered: {_last_line(log)}"
    if not facts.values:
        return "failed", "stopped before its first checkpoint; nothing was made"
    return "failed", "ended without being delivered"


def _last_line(log: Path, limit: int = 240) -> str:
    """The last line of a failure log: a traceback ends with the error."""
    try:
        lines = [line for line in log.read_text("utf-8", errors="replace").splitlines() if line]
    except OSError:
        return "see its log"
    last = lines[-1].strip() if lines else "see its log"
    return last if len(last) <= limit else last[: limit - 1] + "…"


def _step(facts: _Facts) -> str:
    return ", ".join(facts.next) or "its last step"


def _error_parts(error: str) -> tuple[str, str]:
    """The exception's class name and message from the repr a checkpoint keeps."""
    match = re.match(r"^(\w+)\((.*)\)$", error.strip(), re.DOTALL)
    if match is None:
        return "Error", error.strip()
    try:
        message = ast.literal_eval(match[2]) if match[2] else ""
    except (ValueError, SyntaxError):
        message = match[2]
    return match[1], str(message)


def _flag_words(flagged: list[FlaggedShot], script_findings: list[Finding]) -> str:
    parts = []
    if flagged:
        parts.append(f"{len(flagged)} shot{'s' if len(flagged) != 1 else ''} flagged")
    scenes = sorted({f.scene for f in script_findings if f.scene is not None})
    if script_findings:
        where = f" (scene{'s' if len(scenes) != 1 else ''} {', '.join(map(str, scenes))})"
        parts.append("script flagged" + (where if scenes else ""))
    return " and ".join(parts) + " for a human"


def _source(request: Any) -> str:
    if request is None:
        return ""
    return str(request.idea or request.script_file or request.story_file or "")


def _next_steps(project: Project, episode: EpisodeReport, facts: _Facts) -> list[str]:
    root = shlex.quote(str(project.root.resolve()))
    where = f"-o {root} --episode {shlex.quote(episode.name)}"
    if episode.status == "waiting":
        assert facts.gate is not None
        return _gate_commands(facts.gate, where)
    if episode.status == "over_budget":
        assert facts.error is not None
        stop = _BUDGET_STOP.search(_error_parts(facts.error)[1])
        if stop is not None and stop["kind"] == "batch":
            return [
                f"raise the cap of batch {stop['name']}: run its batch file again with a higher "
                f"cap: inkreel batch FILE -o {root} --batch-budget USD"
            ]
        return [f"inkreel resume {where} --budget USD"]
    if episode.status == "interrupted":
        return [f"inkreel resume {where}"]
    if episode.status == "failed":
        log = episode.log
        steps = [f"tail -n 40 {shlex.quote(str(log))}"] if log is not None else []
        if facts.work_left:
            steps.append(f"inkreel resume {where}")
        else:
            steps.append("produce it again (inkreel produce ... or the batch again)")
        return steps
    return [f"inkreel retake {where} --shot {s.shot_id}" for s in episode.flagged_shots]


def _gate_commands(gate: dict[str, Any], where: str) -> list[str]:
    edit = {
        "script": [f"inkreel edit {where} --script FILE"],
        "storyboard": [f"inkreel edit {where} --storyboard SHOTS.json"],
        "cut": [f"inkreel retake {where} --shot ID", f"inkreel edit-line {where} --line N TEXT"],
    }
    configs = gate.get("review_configs") or [{}]
    allowed = configs[0].get("allowed_decisions") or ["approve"]
    steps = [f"inkreel review {where}"]
    for decision in allowed:
        if decision == "approve":
            steps.append(f"inkreel approve {where}")
        elif decision == "edit":
            steps += edit.get(str(gate["gate"]), [])
        elif decision == "reject":
            steps.append(f"inkreel reject {where} --note TEXT")
    return steps


# -- what is on disk -------------------------------------------------------------------------


def _sessions(run: dict[str, Any] | None) -> list[Session]:
    sessions = []
    for item in (run or {}).get("sessions") or []:
        try:
            sessions.append(Session(float(item["started_at"]), float(item["wall_s"])))
        except (KeyError, TypeError, ValueError):
            continue
    return sessions


def _run_starts(folder: Path, run: dict[str, Any] | None) -> list[float]:
    """When the episode's runs started; for a run.json that does not keep its sessions, when
    it was last written (the end of its last run: no later than any start it hides)."""
    sessions = _sessions(run)
    if sessions:
        return [s.started_at for s in sessions]
    path = folder / "run.json"
    return [path.stat().st_mtime] if run is not None and path.exists() else []


def _recent_log(project: Project, name: str, sessions: list[Session]) -> Path | None:
    """The failure log `inkreel batch` wrote, unless a run started after it was written."""
    log = project.failure_log(name).resolve()
    try:
        written = log.stat().st_mtime
    except OSError:
        return None
    last = max((s.started_at for s in sessions), default=None)
    return log if last is None or written >= last else None


def _continuity(folder: Path, values: dict[str, Any]) -> ContinuityReport | None:
    path = folder / "continuity.json"
    if path.exists():
        try:
            return ContinuityReport.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError):
            pass
    report = values.get("continuity")
    return report if isinstance(report, ContinuityReport) else None


def _keyframe_paths(folder: Path, values: dict[str, Any]) -> dict[str, str]:
    board = read_json_object(folder / "storyboard.json") or {}
    paths = {
        sid: str(kf["path"])
        for sid, kf in (board.get("keyframes") or {}).items()
        if isinstance(kf, dict) and kf.get("path")
    }
    for sid, kf in (values.get("keyframes") or {}).items():
        if sid not in paths and getattr(kf, "path", None):
            paths[sid] = str(kf.path)
    return paths


def _flagged_shots(
    project: Project,
    folder: Path,
    name: str,
    values: dict[str, Any],
    continuity: ContinuityReport | None,
) -> list[FlaggedShot]:
    if continuity is None:
        return []
    keyframes = _keyframe_paths(folder, values)
    flagged = []
    for outcome in continuity.shots:
        if outcome.status != "flagged":
            continue
        relative = keyframes.get(outcome.shot_id)
        image = project.root.resolve() / relative if relative else None
        flagged.append(
            FlaggedShot(
                episode=name,
                shot_id=outcome.shot_id,
                attempts=outcome.attempts,
                score=outcome.score_after,
                findings=[f for f in continuity.findings if f.shot_id == outcome.shot_id],
                keyframe=image if image is not None and image.is_file() else None,
            )
        )
    return flagged


# -- money -----------------------------------------------------------------------------------


def _spend(
    ledger: Ledger | None, scope: tuple[str, str], run: dict[str, Any] | None
) -> tuple[Spend, list[dict[str, Any]]]:
    """The scope's spend and cost rows from the ledger (else what run.json last saw)."""
    if ledger is not None:
        spend = Spend(ledger.spent(scope), ledger.cap(scope), ledger.reserved(scope))
        return spend, ledger.table(scope)
    run = run or {}
    spend = Spend(float(run.get("spent_usd") or 0.0), run.get("cap_usd"))
    return spend, list(run.get("cost_table") or [])


def _costs(rows: list[dict[str, Any]], key: str) -> list[CostLine]:
    return _combine(
        CostLine(str(r.get(key) or "-"), int(r.get("calls", 0)), int(r.get("failed", 0)), r["usd"])
        for r in rows
    )


def _combine(lines: Iterable[CostLine]) -> list[CostLine]:
    """Lines of the same name added up, the dearest first."""
    total: dict[str, CostLine] = {}
    for line in lines:
        seen = total.get(line.name)
        total[line.name] = (
            line
            if seen is None
            else CostLine(
                line.name, seen.calls + line.calls, seen.failed + line.failed, seen.usd + line.usd
            )
        )
    return sorted(total.values(), key=lambda c: (-c.usd, -c.calls, c.name))


def _batches(episodes: list[EpisodeReport], ledger: Ledger | None) -> list[BatchSpend]:
    names: dict[str, list[str]] = {}
    for episode in episodes:
        if episode.batch:
            names.setdefault(episode.batch, []).append(episode.name)
    batches = []
    for name, members in sorted(names.items()):
        if ledger is not None:
            scope = ("batch", name)
            spend = Spend(ledger.spent(scope), ledger.cap(scope), ledger.reserved(scope))
        else:  # no ledger: its episodes' spend, cap unknown
            spend = Spend(sum(e.spend.usd for e in episodes if e.batch == name), None)
        batches.append(BatchSpend(name, spend, members))
    return batches
