"""Fail when a function of the package runs over 80 lines or a module over 800, unless its
docstring gives the reason on a line starting `Length:`.

Usage: python .ci/code_shape.py [PACKAGE_DIR]   (default: inkreel)

ruff's complexity rules (C901, PLR0912, PLR0915 in pyproject.toml) bound branching and
statements; this bounds what a reader has to scroll through.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 800
REASON = "Length:"


def _has_reason(node: ast.Module | ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    doc = ast.get_docstring(node) or ""
    return any(line.strip().startswith(REASON) for line in doc.splitlines())


def findings(path: Path) -> list[str]:
    text = path.read_text("utf-8")
    tree = ast.parse(text, str(path))
    found = []
    lines = len(text.splitlines())
    if lines > MAX_MODULE_LINES and not _has_reason(tree):
        found.append(f"{path}: module of {lines} lines (over {MAX_MODULE_LINES})")
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = (node.end_lineno or node.lineno) - start + 1
            if length > MAX_FUNCTION_LINES and not _has_reason(node):
                found.append(
                    f"{path}:{node.lineno}: {node.name} is {length} lines "
                    f"(over {MAX_FUNCTION_LINES})"
                )
    return found


def main() -> int:
    package = Path(sys.argv[1] if len(sys.argv) > 1 else "inkreel")
    found = [f for path in sorted(package.rglob("*.py")) for f in findings(path)]
    for line in found:
        print(line)
    if found:
        print(
            f"{len(found)} over the limits: split them, or say why in the docstring on a line "
            f"starting {REASON!r}."
        )
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
