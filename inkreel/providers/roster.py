"""The models a project may call, what they cost, and whether this machine can use them.

A roster is the built-in list (`default_roster.toml`, packaged beside this module, in the
same format) merged with the `[[models]]` tables of a project's `inkreel.toml`. An entry
there with the id of a built-in entry changes only the fields it names (for example its
price or `rpm`); an entry with a new id adds a model and must give at least `id`,
`capability`, `provider`, `model` and `tasks`.

    [[models]]
    id = "deepseek-chat"
    price = { usd_per_1k_input_tokens = 0.00056, usd_per_1k_output_tokens = 0.00168 }
    rpm = 60

    [[models]]
    id = "my-qwen-max"
    capability = "text"
    provider = "dashscope"
    model = "qwen-max"
    base_url = "https://dashscope.aliyuncs.com/compatible-mode/v1"
    api_key_env = "DASHSCOPE_API_KEY"
    tier = 3
    tasks = ["write", "storyboard"]

List "judge" in `tasks` only for a model that reads images: the continuity judge
(`inkreel.agents.judge`) sends it keyframes and reference sheets.

Keys never appear here: `api_key_env` is the NAME of the environment variable that holds one.
Hosted prices are public list prices at the time of writing or, where marked in `price_note`,
examples; check them against your own contract and override them in `inkreel.toml`.
"""

from __future__ import annotations

import copy
import functools
import math
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from inkreel.settings import SettingsFileError, read_toml

Capability = Literal["text", "image", "video", "speech", "embedding"]
Task = Literal["write", "design", "storyboard", "keyframe", "animate", "voice", "judge", "embed"]

CAPABILITIES: tuple[Capability, ...] = get_args(Capability)
TASKS: tuple[Task, ...] = get_args(Task)

# Tasks whose prompts carry images (the judge looks at keyframes): served only by entries that
# list them, which must be models that read images; never by the offline story engine.
IMAGE_INPUT_TASKS: frozenset[Task] = frozenset({"judge"})

# What kind of model each task needs.
TASK_CAPABILITY: dict[Task, Capability] = {
    "write": "text",
    "design": "text",
    "storyboard": "text",
    "judge": "text",
    "keyframe": "image",
    "animate": "video",
    "voice": "speech",
    "embed": "embedding",
}

OFFLINE = "offline"

# Units a call can be measured in (PlannedCall.units, Price.cost).
UNIT_KEYS = ("input_tokens", "output_tokens", "images", "video_seconds", "speech_chars")

# A typical call per capability, used to rank models of one capability by price.
REFERENCE_UNITS: dict[Capability, dict[str, float]] = {
    "text": {"input_tokens": 3000, "output_tokens": 1500},
    "image": {"images": 1},
    "video": {"video_seconds": 5},
    "speech": {"speech_chars": 300},
    "embedding": {"input_tokens": 500},
}

LOCAL_TIMEOUT_S = 600.0
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class RosterError(Exception):
    """A roster that cannot be built; the message names the file, the entry and the fix."""


class Price(BaseModel):
    """List price of one model; every field is USD and defaults to 0 (free)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    usd_per_1k_input_tokens: float = Field(default=0.0, ge=0)
    usd_per_1k_output_tokens: float = Field(default=0.0, ge=0)
    usd_per_image: float = Field(default=0.0, ge=0)
    usd_per_video_second: float = Field(default=0.0, ge=0)
    usd_per_1k_speech_chars: float = Field(default=0.0, ge=0)

    def cost(self, units: Mapping[str, float]) -> float:
        """USD for a call measured in `units` (keys from UNIT_KEYS; unknown keys are an error)."""
        unknown = set(units) - set(UNIT_KEYS)
        if unknown:
            raise ValueError(f"unknown cost unit(s) {sorted(unknown)}; use {', '.join(UNIT_KEYS)}")
        for key, value in units.items():
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"cost unit {key} must be a finite number >= 0, not {value}")
        return (
            units.get("input_tokens", 0) / 1000 * self.usd_per_1k_input_tokens
            + units.get("output_tokens", 0) / 1000 * self.usd_per_1k_output_tokens
            + units.get("images", 0) * self.usd_per_image
            + units.get("video_seconds", 0) * self.usd_per_video_second
            + units.get("speech_chars", 0) / 1000 * self.usd_per_1k_speech_chars
        )

    @property
    def free(self) -> bool:
        return not any(self.model_dump().values())

    def summary(self) -> str:
        """A short human price, e.g. '$0.40/$1.60 per 1M tok in/out' or 'free'."""
        parts = []
        if self.usd_per_1k_input_tokens and not self.usd_per_1k_output_tokens:
            parts.append(f"${self.usd_per_1k_input_tokens * 1000:.2f} per 1M tok")
        elif self.usd_per_1k_input_tokens or self.usd_per_1k_output_tokens:
            parts.append(
                f"${self.usd_per_1k_input_tokens * 1000:.2f}/"
                f"${self.usd_per_1k_output_tokens * 1000:.2f} per 1M tok in/out"
            )
        if self.usd_per_image:
            parts.append(f"${self.usd_per_image:.3f}/image")
        if self.usd_per_video_second:
            parts.append(f"${self.usd_per_video_second:.3f}/video s")
        if self.usd_per_1k_speech_chars:
            parts.append(f"${self.usd_per_1k_speech_chars * 1000:.2f} per 1M chars")
        return "; ".join(parts) or "free"


class ModelEntry(BaseModel):
    """One callable model: who serves it, where, what it costs and what it is used for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, description="Unique name in the roster, e.g. deepseek-chat.")
    capability: Capability
    provider: str = Field(min_length=1, description="offline, openai, deepseek, ark, vidu...")
    model: str = Field(min_length=1, description="The provider's own model name.")
    base_url: str | None = None
    api_key_env: str | None = Field(
        default=None, description="NAME of the environment variable holding the key."
    )
    price: Price = Field(default_factory=Price)
    price_note: str = Field(default="", description="Where the price comes from.")
    tier: int = Field(default=2, ge=1, le=3, description="1 draft, 2 balanced, 3 best.")
    tasks: list[Task] = Field(default_factory=list)
    rpm: int | None = Field(default=None, ge=1)
    max_in_flight: int | None = Field(default=None, ge=1)
    timeout_s: float = Field(default=120.0, gt=0, description="Seconds one request may take.")
    max_tokens: int | None = Field(
        default=None, ge=1, description="Text: cap on the tokens of one answer."
    )
    temperature: float | None = Field(default=None, ge=0, le=2, description="Text: sampling.")
    structured_output: Literal["tool", "json_schema", "json_object"] = Field(
        default="tool",
        description="Text: how structure is asked for: a forced tool call, a JSON schema "
        "response format, or JSON mode with the schema in the prompt.",
    )
    send_seed: bool = Field(default=True, description="Send the run's --seed with each call.")

    @model_validator(mode="before")
    @classmethod
    def _local_defaults(cls, data: Any) -> Any:
        """A server on this machine answers one request at a time, slowly: unless the entry
        says otherwise, one call in flight and ten minutes per request."""
        if isinstance(data, dict) and _loopback(data.get("base_url")):
            data = {"max_in_flight": 1, "timeout_s": LOCAL_TIMEOUT_S, **data}
            if data["max_in_flight"] is None:
                data["max_in_flight"] = 1
        return data

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError(
                "api_key_env must be the NAME of an environment variable (like "
                "OPENAI_API_KEY), never the key itself"
            )
        return value

    @model_validator(mode="after")
    def _offline_reads_no_images(self) -> ModelEntry:
        if self.offline and IMAGE_INPUT_TASKS & set(self.tasks):
            raise ValueError(
                f"{self.id}: an offline model cannot see images, so it cannot serve "
                f"{', '.join(sorted(IMAGE_INPUT_TASKS & set(self.tasks)))}"
            )
        return self

    @property
    def offline(self) -> bool:
        return self.provider == OFFLINE

    def serves(self, task: Task) -> bool:
        return task in self.tasks

    def reference_cost(self) -> float:
        """USD for a typical call of this capability (used to rank models by price)."""
        return self.price.cost(REFERENCE_UNITS[self.capability])


def _loopback(url: object) -> bool:
    if not isinstance(url, str):
        return False
    host = urlsplit(url).hostname or ""
    return host == "localhost" or host == "::1" or host.startswith("127.")


def usable(entry: ModelEntry, environ: Mapping[str, str]) -> tuple[bool, str]:
    """Whether this machine can call `entry`, and why not (or how) in a few words."""
    if entry.offline:
        return True, "offline, always available"
    if not entry.base_url:
        return False, f"no base_url; set base_url for {entry.id!r} in inkreel.toml [[models]]"
    if not entry.api_key_env:
        return False, (
            f"no api_key_env; name the environment variable holding the key for {entry.id!r}"
        )
    value = environ.get(entry.api_key_env)
    if value is None:
        return False, f"{entry.api_key_env} is not set"
    if not value.strip():
        return False, f"{entry.api_key_env} is empty"
    return True, f"key in {entry.api_key_env}"


DEFAULT_ROSTER = "default_roster.toml"  # package data beside this module


@functools.cache
def _default_tables() -> tuple[dict[str, Any], ...]:
    """The `[[models]]` tables of the built-in roster (read once; validated by `Roster`)."""
    text = resources.files("inkreel.providers").joinpath(DEFAULT_ROSTER).read_text(encoding="utf-8")
    models = tomllib.loads(text).get("models", [])
    return tuple(models)


def _deep_merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


class Roster:
    """An ordered, id-keyed set of model entries."""

    def __init__(self, entries: Iterable[ModelEntry]) -> None:
        self._entries: dict[str, ModelEntry] = {}
        for entry in entries:
            if entry.id in self._entries:
                raise RosterError(f"two roster entries share the id {entry.id!r}")
            self._entries[entry.id] = entry

    @classmethod
    def default(cls) -> Roster:
        """The built-in roster: offline models for every capability plus hosted examples."""
        return cls([]).merged(_default_tables(), source=f"the built-in roster ({DEFAULT_ROSTER})")

    @classmethod
    def load(cls, project_root: Path | None = None) -> Roster:
        """The default roster merged with `[[models]]` from `<project_root>/inkreel.toml`."""
        roster = cls.default()
        if project_root is not None:
            toml = Path(project_root) / "inkreel.toml"
            if toml.is_file():
                roster = roster.merged_with_toml(toml)
        return roster

    def merged_with_toml(self, path: Path) -> Roster:
        try:
            data = read_toml(path)
        except SettingsFileError as exc:
            raise RosterError(str(exc)) from None
        models = data.get("models", [])
        if not isinstance(models, list) or not all(isinstance(m, dict) for m in models):
            raise RosterError(f"{path}: 'models' must be an array of tables ([[models]])")
        return self.merged(models, source=str(path))

    def merged(self, tables: Iterable[Mapping[str, Any]], source: str = "roster") -> Roster:
        """A new roster with `tables` applied: same id updates fields, a new id adds a model."""
        entries = dict(self._entries)
        for index, table in enumerate(tables, start=1):
            model_id = table.get("id")
            if not isinstance(model_id, str) or not model_id:
                raise RosterError(f"{source}: [[models]] entry {index} has no 'id'")
            base = entries[model_id].model_dump() if model_id in entries else {}
            try:
                entries[model_id] = ModelEntry.model_validate(_deep_merge(base, table))
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in err['loc']) or 'entry'}: {err['msg']}"
                    for err in exc.errors()
                )
                raise RosterError(
                    f"{source}: [[models]] entry {index} ({model_id!r}) is invalid: {problems}"
                ) from None
        return Roster(entries.values())

    def __iter__(self) -> Iterator[ModelEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._entries

    def get(self, model_id: str) -> ModelEntry:
        try:
            return self._entries[model_id]
        except KeyError:
            raise RosterError(
                f"unknown model {model_id!r}; known: {', '.join(self.ids())}"
            ) from None

    def ids(self) -> list[str]:
        return list(self._entries)

    def for_task(self, task: Task) -> list[ModelEntry]:
        return [e for e in self._entries.values() if e.serves(task)]

    def for_capability(self, capability: Capability) -> list[ModelEntry]:
        return [e for e in self._entries.values() if e.capability == capability]

    def offline_for(self, capability: Capability) -> ModelEntry | None:
        return next((e for e in self.for_capability(capability) if e.offline), None)


def format_roster(roster: Roster, environ: Mapping[str, str]) -> list[dict[str, str]]:
    """Rows for an `inkreel models` table, grouped by capability, cheapest tier first."""
    rows = []
    order = {c: i for i, c in enumerate(CAPABILITIES)}
    for entry in sorted(roster, key=lambda e: (order[e.capability], e.tier, e.id)):
        ok, reason = usable(entry, environ)
        rows.append(
            {
                "capability": entry.capability,
                "id": entry.id,
                "provider": entry.provider,
                "model": entry.model,
                "price": entry.price.summary(),
                "tier": str(entry.tier),
                "tasks": ", ".join(entry.tasks),
                "usable": "yes" if ok else "no",
                "reason": reason,
                "price_note": entry.price_note,
            }
        )
    return rows
