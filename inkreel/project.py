"""A project is one series on disk: asset memory, checkpoints, assets and episodes."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock

from inkreel import PROJECT_FORMAT, __version__
from inkreel.liveness import alive_here, owner_token
from inkreel.pg import advisory_lock
from inkreel.storage import Storage, StorageError

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


# A temporary file is named .STEM.OWNER.RANDOM.partSUFFIX: OWNER is the writing process's
# token, so a sweep removes only the leftovers of processes that are gone.
PARTIAL_GLOB = ".*.part*"
# A leftover of a process on another host (whose liveness this host cannot see) is swept
# only when it is this old: no write takes that long.
FOREIGN_PARTIAL_AGE_S = 12 * 3600


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary sibling path; rename it onto target only if the block succeeds.

    Safe when two processes (two machines on a shared filesystem) write the same
    content-addressed file: each writes its own temporary file and the rename is atomic.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.stem}.{owner_token()}.", suffix=f".part{target.suffix}", dir=target.parent
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


def _project_id(marker: Path, meta: dict[str, Any]) -> str:
    """The project's id, given to a project made before ids existed on first open."""
    found = meta.get("project_id")
    if isinstance(found, str) and found:
        return found
    meta = {**meta, "project_id": uuid.uuid4().hex[:16]}
    with contextlib.suppress(OSError):
        write_text_atomic(marker, json.dumps(meta, indent=2))
    return str(meta["project_id"])


def read_json_object(path: Path) -> dict[str, Any] | None:
    """The JSON object in a file, or None if it is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_bytes_atomic(target: Path, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target


def write_text_atomic(target: Path, text: str) -> Path:
    return write_bytes_atomic(target, text.encode("utf-8"))


def _partial_owner(path: Path) -> str | None:
    """The owner token in a temporary file's name (None for an older, unnamed one)."""
    parts = path.name.split(".")
    return parts[2] if len(parts) >= 5 and parts[2].count("-") == 2 else None


def partial_is_orphan(path: Path, now: float | None = None) -> bool:
    """Whether a temporary file was left by a process that is gone."""
    owner = _partial_owner(path)
    alive = alive_here(owner) if owner is not None else None
    if alive is not None:
        return not alive
    try:
        age = (now or time.time()) - path.stat().st_mtime
    except OSError:
        return False
    return age > FOREIGN_PARTIAL_AGE_S


class Project:
    """Paths inside a project directory, created on first use and version-checked."""

    def __init__(self, root: Path, project_id: str = "", storage: Storage | None = None) -> None:
        self.root = root
        self.id = project_id
        self.storage = storage if storage is not None else Storage()

    @classmethod
    def open(cls, root: Path, create: bool = True) -> Project:
        root = Path(root).expanduser()
        if root.exists() and not root.is_dir():
            raise ProjectError(f"{root} exists and is not a directory; choose another -o path.")
        marker = root / MARKER
        meta: dict[str, Any] = {}
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
                meta = {
                    "project_format": PROJECT_FORMAT,
                    "inkreel_version": __version__,
                    "project_id": uuid.uuid4().hex[:16],
                }
                write_text_atomic(marker, json.dumps(meta, indent=2))
            except OSError as exc:
                raise ProjectError(
                    f"cannot create project directory {root}: {exc.strerror}."
                ) from None
        if not os.access(root, os.W_OK):
            raise ProjectError(f"{root} is not writable.")
        try:
            storage = Storage.load(root)
        except StorageError as exc:
            raise ProjectError(str(exc)) from None
        return cls(root, _project_id(marker, meta), storage)

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
        """Delete temporary files that dead runs left behind; return how many.

        Files of live runs (other episodes being made now, on this or another machine) stay.
        """
        swept = 0
        now = time.time()
        for folder in (self.root / "assets", self.root / "episodes"):
            for leftover in folder.glob(f"**/{PARTIAL_GLOB}"):
                if partial_is_orphan(leftover, now):
                    leftover.unlink(missing_ok=True)
                    swept += 1
        return swept

    def write_failure_log(self, episode: str, text: str) -> Path:
        """Keep a failed run's traceback where `inkreel report` finds it (logs/NAME.log)."""
        return write_text_atomic(self.failure_log(episode), text)

    def failure_log(self, episode: str) -> Path:
        return self.root / "logs" / f"{episode}.log"

    def claim_episode_name(self, name: str) -> bool:
        """Create the episode's folder if nobody has: True if this call created it."""
        folder = self.root / "episodes" / name
        try:
            folder.mkdir(parents=True)
        except FileExistsError:
            return False
        return True

    @contextlib.contextmanager
    def unclaimed_if_unused(self, name: str) -> Iterator[None]:
        """Give a claimed name back (remove its folder while still empty) if the block fails
        before anything of the episode is written: a run refused at its start (a missing key,
        an unreachable database) leaves nothing behind."""
        try:
            yield
        except BaseException:
            with contextlib.suppress(OSError):
                (self.root / "episodes" / name).rmdir()  # only an empty folder goes
                (self.root / "episodes").rmdir()
            raise

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """Hold the project-wide lock `name` (one holder at a time, across processes).

        A lock file in the project; with a shared database the database's advisory lock
        instead (`pg.advisory_lock`), which every machine sees.
        """
        if self.storage.database is not None:
            with advisory_lock(self.storage.database, "inkreel", self.id, name):
                yield
            return
        path = self.root / "locks" / f"{name}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(path):
            yield

    def rel(self, path: Path | str) -> str:
        return str(Path(path).resolve().relative_to(self.root.resolve()))
