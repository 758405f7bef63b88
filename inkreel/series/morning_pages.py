"""The morning report on paper: a self-contained HTML page and a markdown summary.

The page has no URL in it: styles are inline and each flagged shot's keyframe is a small JPEG
data URI, so it can be mailed or opened anywhere. The markdown links the keyframes by path.
"""

from __future__ import annotations

import base64
import io
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from PIL import Image, UnidentifiedImageError

from inkreel.project import write_text_atomic
from inkreel.series.morning import STATUS_LABEL, FlaggedShot, MorningReport

THUMB_WIDTH = 320
MAX_THUMBS = 60  # the page stays a couple of megabytes however much was flagged


def write_morning_report(report: MorningReport, folder: Path | None = None) -> tuple[Path, Path]:
    """Write morning-YYYYMMDD-HHMM.html and .md into `folder` (default: the project's
    reports/ folder) and return their paths."""
    folder = folder if folder is not None else report.project / "reports"
    stem = f"morning-{datetime.fromtimestamp(report.made_at):%Y%m%d-%H%M}"
    html_path, md_path = folder / f"{stem}.html", folder / f"{stem}.md"
    write_text_atomic(html_path, morning_html(report))
    write_text_atomic(md_path, morning_markdown(report, md_path.parent))
    return html_path, md_path


def morning_html(report: MorningReport) -> str:
    """The report as one HTML page with everything inlined."""
    thumbs: dict[tuple[str, str], str | None] = {}
    for shot in report.flagged_shots[:MAX_THUMBS]:
        thumbs[(shot.episode, shot.shot_id)] = thumbnail(shot.keyframe)
    return (
        _environment(html=True)
        .get_template("morning.html.j2")
        .render(r=report, thumbs=thumbs, max_thumbs=MAX_THUMBS, **_shared(report))
    )


def morning_markdown(report: MorningReport, folder: Path | None = None) -> str:
    """The report as markdown; keyframes are linked relative to `folder` (where it is saved)."""

    def link(shot: FlaggedShot) -> str | None:
        if shot.keyframe is None:
            return None
        return Path(os.path.relpath(shot.keyframe, folder or report.project)).as_posix()

    return (
        _environment(html=False)
        .get_template("morning.md.j2")
        .render(r=report, link=link, **_shared(report))
    )


def thumbnail(path: Path | None, width: int = THUMB_WIDTH) -> str | None:
    """A small JPEG of an image as a data URI (None when it cannot be read)."""
    if path is None:
        return None
    try:
        with Image.open(path) as image:
            small = image.convert("RGB")
            small.thumbnail((width, width * 4))
    except (OSError, UnidentifiedImageError):
        return None
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=82, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


# -- formatting ------------------------------------------------------------------------------


def _shared(report: MorningReport) -> dict[str, Any]:
    stopped = [
        f"{report.count(s)} {STATUS_LABEL[s]}"
        for s in ("waiting", "over_budget", "interrupted")
        if report.count(s)
    ]
    return {
        "series": report.project.resolve().name,
        "stopped_kinds": ", ".join(stopped),
        "needs_human": [e for e in report.episodes if e.needs_human],
    }


def usd(value: float | None) -> str:
    if value is None:
        return "no cap"
    return f"${value:,.2f}" if abs(value) >= 100 else f"${value:.4f}"


def wall(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def moment(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    return f"{datetime.fromtimestamp(timestamp):%Y-%m-%d %H:%M}"


def percent(share: float | None) -> str:
    return "" if share is None else f"{share:.0%}"


def md_cell(value: object) -> str:
    """Text safe in one markdown table cell."""
    return " ".join(str(value).split()).replace("|", "\\|")


def _environment(html: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("inkreel.series", "templates"),
        autoescape=html,  # titles, ideas and error messages are untrusted text
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(usd=usd, wall=wall, moment=moment, percent=percent, cell=md_cell)
    return env
