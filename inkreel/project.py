"""A project is one series on disk: asset memory, checkpoints, assets and episodes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from inkreel import PROJECT_FORMAT, __version__

MARKER = "inkreel-project.json"


class ProjectError(Exception):
    """A project directory that cannot be used; the message says why and what to do."""


def digest(*parts: Any) -> str:
    """Return a short, stable hash of JSON-serialisable inputs (content addressing)."""
    blob = json.dumps(parts, sort_keys=True, default=_jsonable, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot hash {type(value).__name__}")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_umask() -> int:
    """Return the process's umask, without changing it where the system can tell."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    # Elsewhere it can only be read by setting it: once, at import, before any thread runs.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once: setting the process-wide umask during a run races with the graph's threads and
# the encoders they start (a file created meanwhile would get mode 0666).
UMASK = _read_umask()


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary sibling path; rename it onto target only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=f".part{target.suffix}", dir=target.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600; a delivered file gets the usual permissions for the umask.
        tmp_path.chmod(0o666 & ~UMASK)
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_bytes_atomic(target: Path, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target


def write_text_atomic(target: Path, text: str) -> Path:
    return write_bytes_atomic(target, text.encode("utf-8"))


class Project:
    """Paths inside a project directory, created on first use and version-checked."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def open(cls, root: Path, create: bool = True) -> Project:
        root = Path(root).expanduser()
        if root.exists() and not root.is_dir():
            raise ProjectError(f"{root} exists and is not a directory; choose another -o path.")
        marker = root / MARKER
        if marker.exists():
            try:
                meta = json.loads(marker.read_text(encoding="utf-8"))
                fmt = int(meta["project_format"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ProjectError(
                    f"{marker} is damaged ({exc}); it is not an inkreel project."
                ) from None
            if fmt != PROJECT_FORMAT:
                raise ProjectError(
                    f"{root} was made by inkreel {meta.get('inkreel_version', '?')} "
                    f"(project format {fmt}); this inkreel {__version__} reads format "
                    f"{PROJECT_FORMAT}. Use a new -o directory or the matching inkreel version."
                )
        elif not create:
            raise ProjectError(f"{root} is not an inkreel project (no {MARKER}).")
        else:
            # A folder holding only the project's settings file is a project being set up.
            if root.exists() and any(p.name != "inkreel.toml" for p in root.iterdir()):
                raise ProjectError(
                    f"{root} is not empty and not an inkreel project; choose an empty or new "
                    "directory for -o."
                )
            try:
                root.mkdir(parents=True, exist_ok=True)
                write_text_atomic(
                    marker,
                    json.dumps(
                        {"project_format": PROJECT_FORMAT, "inkreel_version": __version__},
                        indent=2,
                    ),
                )
            except OSError as exc:
                raise ProjectError(
                    f"cannot create project directory {root}: {exc.strerror}."
                ) from None
        if not os.access(root, os.W_OK):
            raise ProjectError(f"{root} is not writable.")
        return cls(root)

    @classmethod
    def settings_root(cls, root: Path) -> Path:
        """Return the folder whose inkreel.toml a command reads, creating nothing in it.

        A project, or a folder being set up (it holds an inkreel.toml and no project yet), so
        a hosted setup can be priced and listed before its first run.
        """
        root = Path(root).expanduser()
        if (root / "inkreel.toml").is_file() and not (root / MARKER).exists():
            return root
        return cls.open(root, create=False).root

    @property
    def memory_dir(self) -> Path:
        return self.root / "memory"

    @property
    def ledger(self) -> Path:
        return self.root / "ledger.sqlite"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints.sqlite"

    def assets(self, kind: str) -> Path:
        path = self.root / "assets" / kind
        path.mkdir(parents=True, exist_ok=True)
        return path

    def episode_dir(self, name: str) -> Path:
        path = self.root / "episodes" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def sweep_partials(self) -> int:
        """Delete temporary files a killed run left behind; return how many.

        Only safe while no other run writes into this project (one run per project today).
        """
        swept = 0
        for folder in (self.root / "assets", self.root / "episodes"):
            for leftover in folder.glob("**/.*.part*"):
                leftover.unlink(missing_ok=True)
                swept += 1
        return swept

    def rel(self, path: Path | str) -> str:
        return str(Path(path).resolve().relative_to(self.root.resolve()))
