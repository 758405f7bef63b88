"""The offline story engine: procedural, deterministic answers for the project's schemas.

It reads the same tagged prompt a hosted model would read and returns arguments for the
requested schema. It is not a language model: it finds names, nouns and places in the idea
with simple lexical rules (`idea`), and writes a four-act story from phrase templates in the
target language (`script`), designs (`design`), shots (`shots`) and lines (`lines`).
Same prompt and seed, same answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from inkreel.providers.offline.design import design_character, design_location
from inkreel.providers.offline.lines import write_shot_lines
from inkreel.providers.offline.script import outline, pitch, write_script
from inkreel.providers.offline.shots import plan_shots, revise_scene, revise_shot

# The agents ask for drafts (what a model decides); the full types are answered the same way.
GENERATORS: dict[str, Callable[[str, int], dict[str, Any]]] = {
    "ScriptDraft": write_script,
    "Script": write_script,
    "CharacterDraft": design_character,
    "CharacterDesign": design_character,
    "LocationDraft": design_location,
    "LocationDesign": design_location,
    "ShotPlan": plan_shots,
    "ShotSpec": revise_shot,
    "ShotLines": write_shot_lines,
    "SceneRevision": revise_scene,
    "Pitch": pitch,
    "Outline": outline,
}


def answer(schema_name: str, prompt: str, seed: int) -> dict[str, Any]:
    """Return arguments for `schema_name` computed from the prompt, or raise KeyError."""
    try:
        generator = GENERATORS[schema_name]
    except KeyError:
        raise KeyError(
            f"the offline story engine cannot produce {schema_name!r}; "
            f"it knows {sorted(GENERATORS)}"
        ) from None
    return generator(prompt, seed)
