"""Shot plans and revisions: framings, moves and effects for a scene's beats."""

from __future__ import annotations

import re
from typing import Any

from inkreel.providers.offline.script import TIME_WORDS, draft_number
from inkreel.providers.prompt_io import read_json_tag, read_tag
from inkreel.schemas.script import prop_key

EFFECT_WORDS = {
    "speed_lines": (
        "run",
        "runs",
        "chase",
        "chases",
        "rush",
        "rushes",
        "race",
        "races",
        "speed",
        "flies",
        "fly",
        "dash",
        "dashes",
        "flee",
        "escape",
        "跑",
        "追",
        "冲",
        "逃",
        "走る",
        "逃げ",
        "追",
    ),
    "sparkle": (
        "beautiful",
        "shine",
        "shining",
        "sparkle",
        "gift",
        "treasure",
        "love",
        "宝",
        "美",
        "光",
        "きれい",
        "宝",
    ),
}
EMOTION_EFFECTS = {
    "surprised": "emphasis_burst",
    "afraid": "sweat_drop",
    "angry": "anger_mark",
    "happy": "sparkle",
}


def beat_effects(beat: dict[str, Any]) -> list[str]:
    """Return the manga effects a beat calls for: by its words, then by how it is played."""
    text = str(beat.get("text", "")).lower()
    words = set(re.findall(r"\w+", text))
    found = [
        effect
        for effect, keys in EFFECT_WORDS.items()
        if any(k in words or (not k.isascii() and k in text) for k in keys)
    ]
    if text.rstrip().endswith("!") and beat.get("kind") == "dialogue":
        found.append("emphasis_burst")
    emotional = EMOTION_EFFECTS.get(str(beat.get("emotion", "neutral")))
    if emotional and beat.get("kind") == "dialogue":
        found.append(emotional)
    return list(dict.fromkeys(found))


def _shot_for_beat(
    beat: dict[str, Any],
    index: int,
    scene: dict[str, Any],
    prev: dict[str, Any] | None,
    turn: int = 0,
) -> dict[str, Any]:
    cast = scene.get("characters") or []
    if beat["kind"] == "action":
        first = index == 0
        return {
            "beat": index,
            "framing": "extreme_wide" if first else "wide",
            "angle": "high" if first and scene.get("act") == "turn" else "eye_level",
            "move": "pan" if first else "static",
            "subjects": list(cast),
            "effects": beat_effects(beat),
            "note": "establish the set" if first else "show the action",
        }
    speaker = beat.get("character") or (cast[0] if cast else "")
    others = [c for c in cast if c != speaker]
    emotion = beat.get("emotion", "neutral")
    if emotion in ("angry", "afraid", "surprised"):
        framing, move = "close_up", "push_in"
    elif beat.get("dual"):
        framing, move = "two_shot", "static"
    elif prev is not None and prev.get("framing") == "over_the_shoulder":
        framing, move = "medium", "static"
    elif others and (index + turn) % 3 == 1:
        framing, move = "over_the_shoulder", "static"
    elif others and (index + turn) % 3 == 2:
        framing, move = "two_shot", "static"
    else:
        framing, move = "medium", "static"
    angle = "low" if emotion == "angry" else "high" if emotion == "afraid" else "eye_level"
    subjects = [speaker] + (others[:1] if framing in ("over_the_shoulder", "two_shot") else [])
    return {
        "beat": index,
        "framing": framing,
        "angle": angle,
        "move": move,
        "subjects": subjects,
        "effects": beat_effects(beat),
        "note": f"{speaker} speaks ({emotion})",
    }


WIDE_FRAMINGS = ("extreme_wide", "wide")


def _as_directed(shot: dict[str, Any], beat: dict[str, Any]) -> dict[str, Any]:
    """The shot as the story directed its beat (`shot`): its framing, angle and who is seen,
    the speaker first."""
    direction = beat.get("shot") or {}
    if not direction:
        return shot
    on_screen = list(direction.get("on_screen") or [])
    speaker = beat.get("character") if beat.get("kind") == "dialogue" else None
    first = [speaker] if speaker in on_screen else []
    framing = direction.get("framing") or shot["framing"]
    # An establishing pan is for a view of the set, not for a closer shot the story asked for.
    move = "static" if shot["move"] == "pan" and framing not in WIDE_FRAMINGS else shot["move"]
    return shot | {
        "framing": framing,
        "angle": direction.get("angle") or shot["angle"],
        "move": move,
        "subjects": list(dict.fromkeys([*first, *on_screen])),
    }


def plan_shots(prompt: str, seed: int) -> dict[str, Any]:
    scene = read_json_tag(prompt, "scene") or {}
    # A person rejected the earlier plans: the engine cannot read their notes, so each new
    # plan turns the dialogue coverage (single, over-the-shoulder, two-shot) one step on.
    turn = draft_number(prompt) - 1
    shots: list[dict[str, Any]] = []
    for i, beat in enumerate(scene.get("beats", [])):
        shot = _shot_for_beat(beat, i, scene, shots[-1] if shots else None, turn)
        shots.append(_as_directed(shot, beat))
    return {"shots": shots}


JUMP_CUT_AWAY = {
    "extreme_wide": "wide",
    "wide": "medium",
    "medium": "close_up",
    "close_up": "medium",
    "extreme_close_up": "close_up",
    "over_the_shoulder": "close_up",
    "two_shot": "medium",
}


def revise_shot(prompt: str, seed: int) -> dict[str, Any]:
    """Apply a continuity fix instruction to one shot spec."""
    spec = dict(read_json_tag(prompt, "shot") or {})
    fix = (read_tag(prompt, "fix") or "").lower()
    must_show = read_json_tag(prompt, "must_show") or []
    # Only a camera that jumped the line goes back to the previous side: a flipped drawing
    # ("keep the screen sides") or an eyeline is fixed without moving a deliberate crossing.
    if "side of the line" in fix:
        spec["reverse"] = bool(read_json_tag(prompt, "previous_reverse") or False)
        spec["crosses_line"] = False
    for name in must_show:
        if name not in spec.get("subjects", []):
            spec["subjects"] = [name, *spec.get("subjects", [])]
    if must_show and spec.get("framing") in ("extreme_close_up", "close_up"):
        spec["framing"] = "medium" if len(spec["subjects"]) == 1 else "two_shot"
    if re.search(r"\bframe\b", fix) and spec.get("framing") == "over_the_shoulder":
        spec["framing"] = "two_shot"
    if "jump" in fix:
        # A jump cut: the same set-up again. Change the shot size, not just nudge the camera.
        spec["framing"] = JUMP_CUT_AWAY.get(spec.get("framing", ""), "medium")
    spec["note"] = (spec.get("note", "") + " (revised: continuity)").strip()
    return spec


def revise_scene(prompt: str, seed: int) -> dict[str, Any]:
    """Apply script-level continuity fixes to one scene, from the findings' evidence.

    The smallest change per finding: a line spoken by someone who is not there goes to
    someone who is; a character the scene shows is added to its cast; a character back after
    an exit re-enters; a prop used before it exists or after it is gone is dropped from the
    beat; a continuous scene takes its run's time of day and wardrobe.
    """
    scene = dict(read_json_tag(prompt, "scene") or {})
    findings = read_json_tag(prompt, "findings") or []
    beats: list[dict[str, Any]] = [dict(b) for b in scene.get("beats", [])]
    scene["beats"] = beats
    cast: list[str] = list(scene.get("characters", []))
    scene["characters"] = cast
    changes: list[str] = []
    for finding in findings:
        check = finding.get("check", "")
        evidence = finding.get("evidence") or {}
        name = str(evidence.get("character", ""))
        index = finding.get("beat")
        beat = beats[index] if isinstance(index, int) and 0 <= index < len(beats) else None
        if check == "absent_character" and beat is not None and name:
            changes.append(_stand_in(beat, name, cast, beats))
        elif check == "uncast_character" and name and name not in cast:
            cast.append(name)
            changes.append(f"Added {name} to the scene's characters.")
        elif check == "gone_character" and beat is not None and name:
            if "exit_beat" in evidence:
                beat["enters"] = [*beat.get("enters", []), name]
                changes.append(f"{name} comes back in at beat {index}.")
            else:  # they left the story: take them out of this scene
                for other in beats:
                    if other.get("character") == name and other.get("kind") == "dialogue":
                        _stand_in(other, name, [c for c in cast if c != name], beats)
                    for key in ("enters", "exits", "moves", "dies"):
                        other[key] = [n for n in other.get(key, []) if n != name]
                if name in cast:
                    cast.remove(name)
                changes.append(f"Removed {name}, who has left the story, from the scene.")
        elif check in ("prop_not_introduced", "prop_destroyed") and beat is not None:
            prop = prop_key(str(evidence.get("prop", "")))
            for key in ("props", "destroys"):
                beat[key] = [p for p in beat.get(key, []) if prop_key(p) != prop]
            changes.append(f"Beat {index} no longer uses the {evidence.get('prop')}.")
        elif check == "continuous_time" and evidence.get("expected"):
            when = str(evidence["expected"])
            scene["time_of_day"] = when
            heading = str(scene.get("heading", ""))
            scene["heading"] = re.sub(
                r"\b(DAY|DUSK|NIGHT)\s*$", TIME_WORDS.get(when, when.upper()), heading
            )
            changes.append(f"Set the time of day to {when}, as in the scenes it carries on from.")
        elif check == "continuous_wardrobe" and name and evidence.get("expected"):
            scene["wardrobe"] = {**scene.get("wardrobe", {}), name: str(evidence["expected"])}
            changes.append(f"Dressed {name} in '{evidence['expected']}' again.")
    return {"scene": scene, "changes": changes}


def _stand_in(
    beat: dict[str, Any], name: str, present: list[str], beats: list[dict[str, Any]]
) -> str:
    """Give `name`'s line to someone present (who spoke most in the scene, not the one spoken
    to), or take `name` out of the beat's movements."""
    if beat.get("kind") != "dialogue" or beat.get("character") != name:
        for key in ("enters", "exits", "moves"):
            beat[key] = [n for n in beat.get(key, []) if n != name]
        return f"Took {name} out of a beat in a scene they are not in."
    spoke = [b.get("character") for b in beats if b.get("kind") == "dialogue"]
    options = [c for c in present if c != name and c != beat.get("addressee")]
    options = options or [c for c in present if c != name]
    if not options:
        present.append(name)
        return f"Brought {name} into the scene for their line."
    taker = max(options, key=lambda c: (spoke.count(c), -options.index(c)))
    beat["character"] = taker
    return f"Gave {name}'s line to {taker}, who is in the scene."
