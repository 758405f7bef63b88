"""Scores per agent for one produced item, from what the line wrote and what is measured again.

Every score is weight-free and deterministic for the same files. Each row names its metric in
`evalruns.metrics`; a score that cannot be had (no dialogue to subtitle, no second character
to compare) is None with the reason in `comment`.

* screenwriter: script-check errors and drafts (from the checker and `continuity.json`); acts
  present; the script's estimated runtime against the target; the share of the cast with a
  line; the idea's words used in the script (English: words of 3+ letters that are not
  stop-words; Chinese and Japanese: the idea's two-character chunks of Han/kana text).
* character_designer: the consistency eval's identity scores (`evals.consistency`).
* director: storyboard-check errors, OCCM and set stability (consistency eval), and the shots
  whose first take continuity flagged.
* continuity: `evals.continuity` plants one defect per type and level in this item: recall,
  precision, and the clean item's units it flagged (false positives).
* editor: the delivered audio's length and integrated loudness (decoded from episode.mp4 with
  the bundled ffmpeg, measured with pyloudnorm) against the target; the share of lines whose
  words are in a subtitle.
* line: wall time, cost, calls, retries, faults survived, shots left for a person.

`seconds` is the wall time attributed to the agent's graph nodes (time between node
completions, `run.StageClock`); `cost_usd` its spend in the ledger.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyloudnorm
import srt
from imageio_ffmpeg import get_ffmpeg_exe

from inkreel.checks import Bundle, run_checks
from inkreel.estimate import shape_of
from inkreel.evalruns.dataset import Item
from inkreel.evals import consistency, continuity
from inkreel.media.loudness import TARGET_LUFS
from inkreel.schemas import Act, Script

AUDIO_RATE = 48000
# The levels defects are planted at (image planting redraws keyframes: most of the time).
PLANT_LEVELS = ("script", "storyboard", "image")
NODE_AGENT = {
    "write_script": "screenwriter",
    "revise_script": "screenwriter",
    "check_script": "continuity",
    "check_continuity": "continuity",
    "design_cast": "character_designer",
    "redraw_sheet": "character_designer",
    "plan_storyboard": "director",
    "record_line": "director",
    "render_keyframe": "director",
    "revise_shot": "director",
    "cut_timeline": "editor",
    "render_segment": "editor",
    "mix_sound": "editor",
    "assemble_episode": "editor",
}
STOP_WORDS = frozenset(
    "the and for with from that this into their they them then than when where what who "
    "while must has have had was were are his her its our out one two all but not can "
    "will before after over under about only just every each more most some".split()
)


@dataclass(frozen=True)
class Score:
    agent: str
    metric: str
    score: float | None
    comment: str = ""


def score_item(
    root: Path,
    episode: str,
    item: Item,
    *,
    wall_s: float,
    seed: int,
    plant_levels: tuple[str, ...] = PLANT_LEVELS,
) -> list[Score]:
    """Every agent's scores for the episode `episode` of the project at `root`."""
    folder = root / "episodes" / episode
    bundle = Bundle.load(folder / "storyboard.json", root)
    script = bundle.script
    if script is None:
        raise ValueError(f"{folder / 'storyboard.json'} carries no script")
    checked = json.loads((folder / "continuity.json").read_text(encoding="utf-8"))
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    report = consistency.evaluate_episode(root, episode)
    scores = [
        *_screenwriter(bundle, script, checked, item),
        *_designer(report),
        *_director(bundle, checked, report),
        *_continuity(bundle, item.id, seed, plant_levels),
        *_editor(folder, script, item.length_s),
        *_line(run, manifest, wall_s),
    ]
    return scores


# ----------------------------------------------------------------------------- agents


def _errors(bundle: Bundle, level: str) -> tuple[float, str]:
    found = [f for f in run_checks(bundle, (level,)) if f.severity == "error"]
    return float(len(found)), "; ".join(sorted({f.check for f in found}))


def _screenwriter(
    bundle: Bundle, script: Script, checked: dict[str, Any], item: Item
) -> list[Score]:
    errors, which = _errors(bundle, "script")
    acts = {scene.act for scene in script.scenes}
    seconds = shape_of(script, item.length_s).seconds
    speakers = {beat.character for s in script.scenes for beat in s.beats if beat.voices()}
    cast = list(script.characters)
    silent = [c for c in cast if c not in speakers]
    coverage, missing = _idea_coverage(item, script)
    return [
        Score("screenwriter", "script_errors", errors, which),
        Score("screenwriter", "drafts", float(checked.get("script", {}).get("attempts", 1))),
        Score(
            "screenwriter",
            "acts_present",
            len(acts) / len(Act),
            "missing: " + ", ".join(a.value for a in Act if a not in acts) if len(acts) < 4 else "",
        ),
        Score(
            "screenwriter",
            "runtime_error",
            abs(seconds - item.length_s) / item.length_s,
            f"{seconds:.1f} s estimated for {item.length_s:g} s",
        ),
        Score(
            "screenwriter",
            "cast_speaks",
            (len(cast) - len(silent)) / len(cast) if cast else None,
            "silent: " + ", ".join(silent) if silent else "",
        ),
        Score("screenwriter", "idea_coverage", coverage, missing),
    ]


def _idea_coverage(item: Item, script: Script) -> tuple[float | None, str]:
    if item.idea is None:
        return None, f"a {item.kind} item has no idea to cover"
    text = " ".join(
        [script.title, script.logline, *script.characters]
        + [s.location for s in script.scenes]
        + [b.text for s in script.scenes for b in s.beats]
    ).lower()
    wanted = sorted(_idea_terms(item.idea, item.language))
    if not wanted:
        return None, "the idea has no names or nouns to look for"
    missing = [w for w in wanted if w not in text]
    said = "missing: " + ", ".join(missing[:12]) if missing else f"all {len(wanted)} used"
    return (len(wanted) - len(missing)) / len(wanted), said


def _idea_terms(idea: str, language: str) -> set[str]:
    if language in ("zh", "ja"):
        runs = re.findall(r"[\u3040-\u30ff\u4e00-\u9fff]{2,}", idea)
        return {run[i : i + 2] for run in runs for i in range(0, len(run) - 1, 2)}
    words = re.findall(r"[A-Za-z][A-Za-z'-]{2,}", idea)
    return {w.lower().strip("'-") for w in words} - STOP_WORDS


def _designer(report: consistency.ConsistencyReport) -> list[Score]:
    idn = report.identity
    note = "; ".join(report.notes[:2])
    return [
        Score("character_designer", "cids_cross", idn.cross_cids, note),
        Score("character_designer", "cids_self", idn.self_cids, note),
        Score("character_designer", "cids_margin", idn.cross_margin_mean, note),
    ]


def _director(
    bundle: Bundle, checked: dict[str, Any], report: consistency.ConsistencyReport
) -> list[Score]:
    errors, which = _errors(bundle, "storyboard")
    flagged = [s["shot_id"] for s in checked.get("shots", []) if s.get("findings_first")]
    return [
        Score("director", "storyboard_errors", errors, which),
        Score("director", "occm", report.counts.min_occm),
        Score("director", "set_stability_px", report.set_stability.max_px),
        Score("director", "shots_flagged", float(len(flagged)), ", ".join(flagged)),
    ]


def _continuity(bundle: Bundle, name: str, seed: int, levels: tuple[str, ...]) -> list[Score]:
    with tempfile.TemporaryDirectory(prefix="inkreel-plant-") as work:
        summary = continuity.evaluate(
            {name: bundle}, Path(work), seed=seed, cases_per_type=1, levels=levels
        )
    cases = detected = false = controls = flagged = 0.0
    for level in summary["levels"].values():
        o = level["overall"]
        n = o["cases"] or 0
        found = round((o["recall"] or 0.0) * n)
        cases += n
        detected += found
        if o["precision"]:
            false += found / o["precision"] - found
        controls += o["controls"] or 0
        flagged += round((o["false_positive_rate"] or 0.0) * (o["controls"] or 0))
    return [
        Score(
            "continuity",
            "precision",
            detected / (detected + false) if detected + false else None,
            f"{detected:.0f} detected, {false:.0f} wrong types",
        ),
        Score(
            "continuity",
            "recall",
            detected / cases if cases else None,
            f"{detected:.0f} of {cases:.0f} planted defects",
        ),
        Score(
            "continuity",
            "false_positives",
            flagged,
            f"{flagged:.0f} of {controls:.0f} clean scenes and shots flagged",
        ),
    ]


def _editor(folder: Path, script: Script, target_s: float) -> list[Score]:
    samples = _episode_audio(folder / "episode.mp4")
    seconds = len(samples) / AUDIO_RATE
    loudness = float(pyloudnorm.Meter(AUDIO_RATE).integrated_loudness(samples))
    lines = [b.text for s in script.scenes for b in s.beats if b.voices()]
    subtitles = _subtitle_text(folder / "episode.srt")
    shown = [line for line in lines if _words(line) <= _words(subtitles)]
    return [
        Score(
            "editor",
            "duration_error",
            abs(seconds - target_s) / target_s,
            f"{seconds:.2f} s delivered for {target_s:g} s",
        ),
        Score(
            "editor",
            "loudness_error_lu",
            abs(loudness - TARGET_LUFS),
            f"{loudness:.2f} LUFS integrated (target {TARGET_LUFS:g})",
        ),
        Score(
            "editor",
            "subtitle_coverage",
            len(shown) / len(lines) if lines else None,
            f"{len(shown)} of {len(lines)} lines" if lines else "no dialogue",
        ),
    ]


def _episode_audio(mp4: Path) -> np.ndarray:
    """The delivered episode's sound: stereo float frames at AUDIO_RATE."""
    command = [get_ffmpeg_exe(), "-v", "error", "-i", str(mp4), "-vn", "-ac", "2"]
    command += ["-ar", str(AUDIO_RATE), "-f", "f32le", "-"]
    raw = subprocess.run(command, check=True, capture_output=True).stdout
    stereo = np.frombuffer(raw, dtype="<f4").reshape(-1, 2)
    return np.asarray(stereo, dtype=np.float64)


def _subtitle_text(path: Path) -> str:
    if not path.is_file():
        return ""
    return " ".join(s.content for s in srt.parse(path.read_text(encoding="utf-8-sig")))


def _words(text: str) -> set[str]:
    """Words (or, for Han/kana text, characters) of `text`, for a line-in-subtitles test."""
    return set(re.findall(r"[\w']+", text.lower())) | set(
        re.findall(r"[\u3040-\u30ff\u4e00-\u9fff]", text)
    )


def _line(run: dict[str, Any], manifest: dict[str, Any], wall_s: float) -> list[Score]:
    calls = run.get("calls", [])
    retried = [c for c in calls if c.get("attempt", 1) > 1]
    faults = run.get("faults_survived") or {}
    flagged = manifest.get("summary", {}).get("continuity", {}).get("flagged", [])
    return [
        Score("line", "wall_s", wall_s),
        Score("line", "cost_usd", float(run.get("spent_usd") or 0.0)),
        Score("line", "calls", float(len(calls))),
        Score("line", "retries", float(len(retried))),
        Score("line", "faults_survived", float(sum(faults.values()))),
        Score("line", "human_flagged", float(len(flagged)), ", ".join(map(str, flagged))),
    ]


# ----------------------------------------------------------------------------- rows


def agent_costs(run: dict[str, Any]) -> dict[str, float]:
    """Spend per agent in an episode's run.json."""
    costs: dict[str, float] = {}
    for row in run.get("cost_table", []):
        costs[row["agent"]] = costs.get(row["agent"], 0.0) + float(row.get("usd") or 0.0)
    return costs


def agent_seconds(finished_at: dict[str, float]) -> dict[str, float]:
    """Wall time per agent: the time between consecutive node completions, given to the
    node that completed (nodes that ran together share it in completion order)."""
    seconds: dict[str, float] = {}
    last = 0.0
    for node, at in sorted(finished_at.items(), key=lambda kv: kv[1]):
        agent = NODE_AGENT.get(node, "line")
        seconds[agent] = seconds.get(agent, 0.0) + max(0.0, at - last)
        last = at
    return seconds


def rows(
    scores: Iterable[Score],
    *,
    run: str,
    item: str,
    config: str,
    costs: dict[str, float],
    seconds: dict[str, float],
) -> list[dict[str, Any]]:
    """The results.jsonl rows for a cell's scores."""
    out = []
    for s in scores:
        value = None if s.score is None or not np.isfinite(s.score) else round(float(s.score), 6)
        out.append(
            {
                "run": run,
                "item": item,
                "config": config,
                "agent": s.agent,
                "metric": s.metric,
                "score": value,
                "comment": s.comment,
                "cost_usd": round(costs.get(s.agent, 0.0), 6),
                "seconds": round(seconds.get(s.agent, 0.0), 3),
            }
        )
    return out
