"""Write docs/storyboard-schema.json: the JSON Schema of storyboard.json (`inkreel check` input).

Usage: python docs/make_schema.py   (tests/test_checks_cli.py fails if the file is stale)
"""

from __future__ import annotations

import json
from pathlib import Path

from inkreel.schemas import StoryboardFile

SCHEMA = Path(__file__).with_name("storyboard-schema.json")


def schema_text() -> str:
    schema = StoryboardFile.model_json_schema()
    schema["$id"] = "https://inkreel.invalid/storyboard-schema.json"
    schema["title"] = "inkreel storyboard.json"
    return json.dumps(schema, indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    SCHEMA.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA}")
