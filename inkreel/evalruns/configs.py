"""The configurations an evaluation run compares: `NAME=FILE.toml`, each the settings file the
line already reads (models per task, policy, attempts, judge, drills, `[[models]]`), whose
`prompts_dir` (relative to the file) overrides the packaged prompts file by file."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from inkreel.prompts import prompt_names
from inkreel.providers.roster import Roster, RosterError
from inkreel.settings import Settings, SettingsFileError, read_toml

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


class ConfigError(ValueError):
    """A configuration that cannot be used: one line naming it and what is wrong."""


@dataclass(frozen=True)
class EvalConfig:
    name: str
    file: Path | None  # None: the defaults (the offline engine)
    text: str  # the TOML as given, copied into every cell's project
    prompts_dir: Path | None  # absolute

    @property
    def digest(self) -> str:
        """What the configuration is: its TOML and its prompt files' contents."""
        h = hashlib.sha256(self.text.encode())
        if self.prompts_dir is not None:
            for path in sorted(self.prompts_dir.glob("*.md")):
                h.update(path.name.encode() + b"\0" + path.read_bytes())
        return h.hexdigest()[:16]

    def install(self, root: Path) -> Settings:
        """Write the configuration into the project at `root`; its settings, checked."""
        root.mkdir(parents=True, exist_ok=True)
        toml = root / "inkreel.toml"
        if not toml.is_file() or toml.read_text(encoding="utf-8") != self.text:
            tmp = toml.with_suffix(".toml.part")
            tmp.write_text(self.text, encoding="utf-8")
            tmp.replace(toml)
        where = f"configuration {self.name} ({self.file or 'defaults'})"
        try:
            Roster.load(root)
            prompts = str(self.prompts_dir) if self.prompts_dir else None
            return Settings.load(root, prompts_dir=prompts)
        except (SettingsFileError, RosterError) as exc:
            raise ConfigError(f"{where}: {exc}") from None
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"{where}: invalid settings: {problems}") from None


def parse_config(spec: str) -> EvalConfig:
    """`NAME=FILE.toml`, or `NAME=` for the defaults."""
    name, sep, file = spec.partition("=")
    name = name.strip()
    if not sep or not NAME.match(name):
        raise ConfigError(
            f"--config {spec!r}: write NAME=FILE.toml (NAME: letters, digits, '-', '_', '.')."
        )
    if not file.strip():
        return EvalConfig(name, None, "", None)
    path = Path(file.strip()).expanduser()
    if not path.is_file():
        raise ConfigError(f"configuration {name}: {path} is not a file.")
    try:
        data = read_toml(path)
    except SettingsFileError as exc:
        raise ConfigError(f"configuration {name}: {exc}") from None
    text = path.read_text(encoding="utf-8-sig")
    prompts = data.get("prompts_dir")
    folder: Path | None = None
    if prompts is not None:
        if not isinstance(prompts, str):
            raise ConfigError(f"configuration {name}: prompts_dir is a folder path.")
        folder = (path.parent / prompts).resolve()
        if not folder.is_dir():
            raise ConfigError(f"configuration {name}: prompts_dir {folder} is not a folder.")
        given = sorted(p.stem for p in folder.glob("*.md"))
        unknown = sorted(set(given) - set(prompt_names()))
        if not given or unknown:
            raise ConfigError(
                f"configuration {name}: prompts_dir {folder} "
                + (f"has unknown prompts {', '.join(unknown)}" if unknown else "holds no .md")
                + f"; the prompts are {', '.join(prompt_names())} (.md)."
            )
    return EvalConfig(name, path.resolve(), text, folder)


def parse_configs(specs: list[str]) -> list[EvalConfig]:
    """The run's configurations (at least one: the defaults, named "default")."""
    configs = [parse_config(s) for s in specs] or [EvalConfig("default", None, "", None)]
    names = [c.name for c in configs]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"configuration name {name!r} is given twice.")
    return configs
