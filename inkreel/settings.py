"""One typed settings object: flags > environment (INKREEL_*) > inkreel.toml > defaults."""

from __future__ import annotations

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


class Settings(BaseSettings):
    """Resolved once per run and passed to nodes through the graph's context."""

    model_config = SettingsConfigDict(env_prefix="INKREEL_", extra="ignore")

    text_model: str = Field(
        default="offline",
        description="Roster id for every text task, or 'offline'; --model TASK=ID is finer.",
    )
    image_model: str = Field(default="offline", description="Model that draws keyframes.")
    speech_model: str = Field(default="offline", description="Voice engine.")
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

    def task_models(self) -> dict[str, str]:
        """Per-task overrides, with text_model applied to every text task it does not name."""
        chosen = dict(self.pins)
        if self.text_model != "offline":
            for task in ("write", "design", "storyboard", "judge"):
                chosen.setdefault(task, self.text_model)
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
                    sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
                return tuple(sources)

        return cls.model_validate(_WithFile(**given).model_dump())
