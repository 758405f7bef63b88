"""Keyframes out in ViStoryBench's generated-output layout, for their scorer to read unchanged.

    <out>/<method>/<dataset>/<language>/<timestamp>/<story_id>/shots/shot_01.png, shot_02.png, ...

matched to the current ViStoryBench (github.com/ViStoryBench/vistorybench):

* `vistorybench/dataset_loader/read_outputs.py` (`load_outputs`, what `bench_run.py` calls)
  walks `{method}/{mode}/{language}/{timestamp}/{story_id}/`, takes images from a `shots`
  subfolder when there is one, and keys each image by the number after the last `_` of its
  name (`int(f.split('_')[-1].split('.')[0])`). It calls `int()` on every folder name at the
  story level, so story ids are digits only.
* The evaluators look a shot's image up by that story's `int(shot["index"])`
  (`bench/content/cids_evaluator.py`, `bench/prompt_align/prompt_align_evaluator.py`,
  `bench/style/csd_evaluator.py`), and shot indexes in story.json start at 1; their
  `utils/normalize_shot_filenames.py` renumbers `shot_00` onwards to start at `shot_01`, and
  `utils/ensure_shots_subdir.py` calls `{story_id}/shots/shot_XX.png` the canonical form.
  Keyframe k (1-based, in story order) is therefore `shot_{k:02d}.png`.
* Timestamps are `YYYYMMDD_HHMMSS` (or with `-`): `TIMESTAMP_PATTERN` in `read_outputs.py`,
  parsed with `strptime("%Y%m%d-%H%M%S")` to pick the latest run.
* Languages are `en` or `ch` (`bench_run.py --language`, `discover_languages`); our `zh` is
  written as `ch`. Japanese is not scored by ViStoryBench: export a Japanese story under `en`,
  where their scorer reads its `_en` texts.

Their scorer has no dataset level in the output tree (it always reads the dataset from
`<dataset_path>/ViStory/`), so `dataset` fills their `mode` level ("the mode of a method"),
which keeps runs over different datasets apart: score one with
`python bench_run.py --method <method> --mode <dataset> --language en`.

Each story folder is built in a staging folder beside the timestamp folders (a dot-folder,
which their discovery skips) and renamed into place, so a rerun with the same timestamp
replaces a story's shots whole, with no shot left over from a longer earlier take.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

__all__ = ["ExportError", "export_run", "export_vistorybench", "shot_name"]

SHOTS_FOLDER = "shots"
TIMESTAMP = re.compile(r"^\d{8}[_-]\d{6}$")
STORY_ID = re.compile(r"^\d{1,6}$")
# Our language code -> ViStoryBench's output folder; they score only these two.
OUTPUT_LANGUAGE = {"en": "en", "zh": "ch"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class ExportError(ValueError):
    """An export that cannot be written: one line saying what is wrong and what to do."""


def shot_name(index: int) -> str:
    """The file name of the keyframe of shot `index` (1-based), as ViStoryBench reads it."""
    return f"shot_{index:02d}.png"


def export_vistorybench(
    stories: Mapping[str, Sequence[Path]],
    out: Path,
    method: str,
    dataset: str,
    timestamp: str,
    *,
    language: str = "en",
) -> list[Path]:
    """Copy each story's keyframes (one per shot, in order) into ViStoryBench's layout.

    Returns the written files, story by story in the order given, shots in order. Everything
    is checked before anything is written.
    """
    out = Path(out)
    _check_segment(method, "method")
    _check_segment(dataset, "dataset")
    if dataset in OUTPUT_LANGUAGE.values():
        # Their reader would take `<method>/en` for a language folder (language-first layout).
        raise ExportError(f"dataset {dataset!r} reads as a language to ViStoryBench; rename it.")
    _check_timestamp(timestamp)
    if language not in OUTPUT_LANGUAGE:
        raise ExportError(
            f"language {language!r} cannot be scored by ViStoryBench (en or ch only); "
            "export Japanese stories as 'en', which reads their _en texts."
        )
    if not stories:
        raise ExportError("no story to export.")
    for story_id, keyframes in stories.items():
        _check_story(story_id, keyframes)

    language_dir = out / method / dataset / OUTPUT_LANGUAGE[language]
    run_dir = language_dir / timestamp
    _make_writable(out, run_dir)
    written: list[Path] = []
    staging = Path(tempfile.mkdtemp(prefix=".inkreel-export-", dir=language_dir))
    try:
        for story_id, keyframes in stories.items():
            written.extend(_write_story(story_id, keyframes, run_dir, staging))
    except OSError as exc:
        where = exc.filename or run_dir
        raise ExportError(f"cannot write {where}: {exc.strerror}.") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


def _write_story(
    story_id: str, keyframes: Sequence[Path], run_dir: Path, staging: Path
) -> list[Path]:
    """Build the story's folder in `staging`, then swap it in for any earlier one."""
    built = staging / story_id
    shots = built / SHOTS_FOLDER
    shots.mkdir(parents=True)
    for index, keyframe in enumerate(keyframes, start=1):
        shutil.copyfile(keyframe, shots / shot_name(index))
    target = run_dir / story_id
    if target.exists():
        old = staging / f"{story_id}.old"
        target.rename(old)
        built.rename(target)
        shutil.rmtree(old)
    else:
        built.rename(target)
    return [target / SHOTS_FOLDER / shot_name(i) for i in range(1, len(keyframes) + 1)]


def _check_segment(value: str, what: str) -> None:
    if (
        not value
        or value != value.strip()
        or value.startswith(".")
        or any(c in value for c in "/\\:")
    ):
        raise ExportError(
            f"{what} {value!r} must be one folder name (no slash, not starting with a dot)."
        )


def _check_timestamp(timestamp: str) -> None:
    valid = bool(TIMESTAMP.match(timestamp))
    if valid:
        try:
            datetime.strptime(timestamp.replace("_", "-"), "%Y%m%d-%H%M%S")
        except ValueError:
            valid = False
    if not valid:
        raise ExportError(
            f"timestamp {timestamp!r} is not a date and time as YYYYMMDD_HHMMSS "
            "(ViStoryBench parses it to find the latest run)."
        )


def _check_story(story_id: str, keyframes: Sequence[Path]) -> None:
    if not STORY_ID.match(story_id):
        raise ExportError(
            f"story id {story_id!r} is not a number; ViStoryBench reads only numbered story "
            "folders (01, 02, ...), named as in the dataset."
        )
    if not keyframes:
        raise ExportError(f"story {story_id} has no keyframe; give one per shot.")
    for number, keyframe in enumerate(keyframes, start=1):
        path = Path(keyframe)
        try:
            with path.open("rb") as file:
                head = file.read(len(PNG_SIGNATURE))
        except OSError as exc:
            raise ExportError(
                f"story {story_id}, shot {number}: cannot read keyframe {path} ({exc.strerror})."
            ) from None
        if head != PNG_SIGNATURE:
            raise ExportError(f"story {story_id}, shot {number}: {path} is not a PNG image.")


def _make_writable(out: Path, run_dir: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file; give a folder to export into.")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(
            f"cannot write to {out}: {exc.strerror}; give a folder you can write to."
        ) from None
    if not os.access(run_dir, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write to {run_dir}; give a folder you can write to.")


def export_run(rundir: Path, out: Path, config: str, method: str | None = None) -> list[Path]:
    """A run's keyframes for `config`, story items only, in ViStoryBench's layout: method
    `inkreel-CONFIG` (or `method`), their mode = the dataset's folder name, the run's start as
    the timestamp, Japanese stories under `en`."""
    rundir = Path(rundir)
    try:
        run = json.loads((rundir / "run.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ExportError(f"{rundir} is not an evaluation run ({exc}).") from None
    if config not in run.get("configs", {}):
        known = ", ".join(run.get("configs", {})) or "none"
        raise ExportError(f"{rundir} has no configuration {config!r} (it has {known}).")
    languages = _story_languages(rundir, config)
    if not languages:
        raise ExportError(
            f"{rundir} has no finished story.json item under {config}; ViStoryBench scores "
            "stories of its own layout only."
        )
    created = datetime.fromisoformat(run["created"]).strftime("%Y%m%d_%H%M%S")
    dataset = Path(run["dataset"]).name
    written: list[Path] = []
    for language in sorted(set(languages.values())):
        stories = {
            item: _cell_keyframes(rundir / "cells" / config / item)
            for item, lang in languages.items()
            if lang == language
        }
        target = "en" if language == "ja" else language
        written += export_vistorybench(
            stories, out, method or f"inkreel-{config}", dataset, created, language=target
        )
    return written


def _story_languages(rundir: Path, config: str) -> dict[str, str]:
    """Finished cells of story items (ViStoryBench's numeric ids) and their language."""
    found: dict[str, str] = {}
    for cell in sorted((rundir / "cells" / config).glob("*/cell.json")):
        data = json.loads(cell.read_text(encoding="utf-8"))
        if data.get("status") != "done" or not STORY_ID.match(data["item"]):
            continue
        manifest = cell.parent / "episodes" / "ep01" / "manifest.json"
        found[data["item"]] = json.loads(manifest.read_text(encoding="utf-8")).get("language", "en")
    return found


def _cell_keyframes(folder: Path) -> list[Path]:
    data = json.loads((folder / "cell.json").read_text(encoding="utf-8"))
    return [folder / path for path in data["keyframes"]]
