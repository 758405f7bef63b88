"""Tagged sections in prompts: how agents hand inputs to any model, hosted or offline.

Agents wrap each input in `<name>...</name>`; hosted models read these tags well, and the
offline engine reads the same tags back, so both see exactly the same prompt.
"""

from __future__ import annotations

import json
import re
from typing import Any


def tag(name: str, value: Any) -> str:
    body = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=1)
    return f"<{name}>\n{body}\n</{name}>"


def read_tag(text: str, name: str) -> str | None:
    match = re.search(rf"<{name}>\n?(.*?)\n?</{name}>", text, flags=re.S)
    return match.group(1) if match else None


def read_json_tag(text: str, name: str) -> Any:
    raw = read_tag(text, name)
    return None if raw is None else json.loads(raw)
