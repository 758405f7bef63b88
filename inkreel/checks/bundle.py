"""What the checks read: a storyboard file, its script, and where its asset paths resolve."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from inkreel.schemas import Script, StoryboardFile


@dataclass
class Bundle:
    """What the checks read: the storyboard file, its script if any, and where paths resolve.

    `root` is the directory the storyboard's relative asset paths (keyframes, turnarounds,
    plates) are relative to: the project directory for our own episodes.
    """

    board: StoryboardFile
    root: Path
    source: Path | None = None
    notes: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path, root: Path | None = None) -> Bundle:
        """Read a storyboard JSON file; asset paths resolve against `root`, by default the
        project directory when the file is in DIR/episodes/NAME/, else the file's folder."""
        board = StoryboardFile.model_validate_json(path.read_text(encoding="utf-8"))
        if root is None:
            here = path.resolve().parent
            root = here.parent.parent if here.parent.name == "episodes" else here
        return cls(board, root, path)

    @property
    def script(self) -> Script | None:
        return self.board.script

    @property
    def has_images(self) -> bool:
        return bool(self.board.keyframes) and all(
            (self.root / k.path).is_file() for k in self.board.keyframes.values()
        )
