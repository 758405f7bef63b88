"""One typed settings object: flags > environment (INKREEL_*) > inkreel.toml > defaults."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

LANGUAGES = ("en", "zh", "ja")
Fallback = Literal["on-error", "always", "never"]
_WHERE = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


class SettingsFileError(ValueError):
    """An inkreel.toml that cannot be read; the message is one line naming file, line, column."""


def read_toml(path: Path) -> dict[str, Any]:
    """Return the tables of a TOML file, or raise SettingsFileError saying where it breaks."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SettingsFileError(
            f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8."
        ) from None
    except OSError as exc:
        raise SettingsFileError(f"cannot read {path}: {exc.strerror}.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, column, reason = _position(str(exc), text)
        raise SettingsFileError(f"{path}:{line}:{column}: not valid TOML: {reason}.") from None


def _position(message: str, text: str) -> tuple[int, int, str]:
    """Line, column and reason of a TOMLDecodeError's message (3.11 has no lineno/colno)."""
    found = _WHERE.search(message)
    reason = _WHERE.sub("", message)
    if found and found[1]:
        return int(found[1]), int(found[2]), reason
    lines = text.split("\n")  # at the end of the document: just past its last character
    return len(lines), len(lines[-1]) + 1, reason


class _TomlFile(TomlConfigSettingsSource):
    """pydantic-settings' TOML source, reading through `read_toml` (errors in one line)."""

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        return read_toml(Path(file_path))


class Settings(BaseSettings):
    """Resolved once per run and passed to nodes through the graph's context."""

    model_config = SettingsConfigDict(env_prefix="INKREEL_", extra="ignore")

    text_model: str = Field(
        default="offline",
        description="Roster id for every text task, or 'offline'; --model TASK=ID is finer.",
    )
    image_model: str = Field(
        default="offline", description="Roster id that draws keyframes, or 'auto' (router)."
    )
    speech_model: str = Field(
        default="offline", description="Roster id that voices lines, or 'auto' (router)."
    )
    video_model: str = Field(
        default="offline",
        description="Roster id that animates keyframes ('offline': the procedural motion), "
        "or 'auto' (router).",
    )
    judge_model: str | None = Field(
        default=None,
        description="A hosted model that reads images and judges every keyframe besides the "
        "pixel checks: a roster id serving 'judge', 'auto' (router), or None (no judge).",
    )
    continuity_max_attempts: int = Field(
        default=3, ge=1, le=10, description="Renders per shot before it is flagged for a human."
    )
    fps: int = 24
    width: int = 1280
    height: int = 720
    music: bool = True
    title_card: bool = Field(default=False, description="Open the episode with a title card.")
    policy: Literal["draft", "balanced", "best"] = Field(
        default="balanced", description="How the router trades price against quality."
    )
    # Not "models": inkreel.toml's [[models]] array extends the roster (see providers/roster.py).
    pins: dict[str, str] = Field(
        default_factory=dict, description="Per-task roster ids, e.g. {'write': 'deepseek-chat'}."
    )
    fallback: Fallback = Field(
        default="on-error",
        description="When a call goes to the next candidate model: 'on-error' when a model's "
        "answers are unusable or it keeps failing, but a model set up wrongly (a rejected key, "
        "an endpoint that refuses connections) stops the run; 'always' also then, with one "
        "warning per model; 'never' only the first candidate is asked.",
    )
    budget_usd: float | None = Field(
        default=None, ge=0, description="Hard cap on one episode's model spend, in USD."
    )
    fault_rate: float = Field(
        default=0.0, ge=0, le=1, description="Fault drill: share of model calls that fail."
    )
    fault_seed: int = Field(default=0, description="Fault drill: which calls fail.")
    retry_base_delay_s: float = Field(
        default=1.0, ge=0, description="First backoff before retrying a transient failure."
    )
    drift_rate: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Drift drill: share of script drafts, reference sheets and keyframe takes "
        "made with a continuity defect.",
    )
    drift_seed: int = Field(default=0, description="Drift drill: which takes drift, and how.")
    batch: str | None = Field(default=None, description="Batch this episode's spend counts in.")
    batch_budget_usd: float | None = Field(
        default=None, ge=0, description="Hard cap on the whole batch's model spend, in USD."
    )
    latency_scale: float = Field(
        default=0.0,
        ge=0,
        description="Benchmarks: every call waits as long as a hosted one would, times this.",
    )
    video_poll_s: float = Field(
        default=5.0, gt=0, description="Seconds between status polls of a video task."
    )
    prompts_dir: str | None = Field(
        default=None,
        description="A folder of prompt files that override the packaged ones file by file "
        "(e.g. screenwriter.md); to compare prompt variants. Relative to the project.",
    )
    concurrency: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="Graph tasks in flight; default: one per core when every model runs "
        "locally, 16 when some are hosted (their calls wait on the network, not the CPU).",
    )

    def task_models(self) -> dict[str, str]:
        """Per-task overrides: pins first, then the per-capability model settings.

        text_model applies to every text task it does not name ('offline' leaves text to the
        router, which prefers a usable hosted model). Images, voices and video cost money per
        asset, so they stay offline unless asked for: 'auto' hands them to the router, any
        other value pins that roster id. The judge is its own setting: it needs a model that
        reads images, which a text model may not.
        """
        chosen = dict(self.pins)
        if self.text_model not in ("offline", "auto"):
            for task in ("write", "design", "storyboard"):
                chosen.setdefault(task, self.text_model)
        if self.judge_model not in (None, "auto"):
            chosen.setdefault("judge", self.judge_model)
        for task, name, offline in (
            ("keyframe", self.image_model, "offline-image"),
            ("voice", self.speech_model, "offline-speech"),
            ("animate", self.video_model, "offline-video"),
        ):
            if name != "auto":
                chosen.setdefault(task, offline if name == "offline" else name)
        return chosen

    @classmethod
    def load(cls, project_root: Path | None = None, **flags: Any) -> Settings:
        """Resolve settings for a project; flags that are None are treated as not given."""
        given = {k: v for k, v in flags.items() if v is not None}
        toml = project_root / "inkreel.toml" if project_root else None

        class _WithFile(cls):  # type: ignore[valid-type, misc]
            @classmethod
            def settings_customise_sources(
                cls,
                settings_cls: type[BaseSettings],
                init_settings: PydanticBaseSettingsSource,
                env_settings: PydanticBaseSettingsSource,
                dotenv_settings: PydanticBaseSettingsSource,
                file_secret_settings: PydanticBaseSettingsSource,
            ) -> tuple[PydanticBaseSettingsSource, ...]:
                sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
                if toml is not None and toml.is_file():
                    sources.append(_TomlFile(settings_cls, toml_file=toml))
                return tuple(sources)

        return cls.model_validate(_WithFile(**given).model_dump())
