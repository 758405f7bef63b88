"""Agents' answers, checked before anything downstream uses them.

A model's answer that fits its JSON schema can still be unusable: a scene character who is
not in the cast, a shot for a beat the scene does not have, a line with nobody to say it, a
set with no night light. Each agent's output type has a `validate_*` step here that returns
the usable value and every issue found with its place in the answer. What can be repaired by
rule is repaired and said (`Issue.repair`); what cannot is an error (`Checked.errors`), which
goes back to the same model once with these exact findings, then down the router's fallback
chain (see `providers.dispatch`). The checks are pure and deterministic: the same answer
always gives the same value and issues, so a replay from the ledger needs no model.
"""

from __future__ import annotations

import colorsys
import copy
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from inkreel.schemas import (
    Beat,
    CharacterDesign,
    CharacterDraft,
    Framing,
    Lighting,
    LocationDesign,
    LocationDraft,
    Scene,
    Script,
    ScriptDraft,
    SetElement,
    ShotLines,
    ShotPlan,
    ShotSpec,
)
from inkreel.schemas.design import ELEMENT_SIZE, STANDARD_LIGHTING, parse_colour
from inkreel.schemas.script import name_key

T = TypeVar("T")

MAX_TITLE_CHARS = 60  # what fits a title card and the summary's header
MAX_LINE_CHARS = 400  # a longer "line" is a paragraph no voice should read as one take
SIZE_RANGE = (0.25, 3.0)  # a set element's size, as a share of its kind's usual size
MAX_LIFT_M = 2.0  # how far above its usual base an element may hang
TOO_ALIKE = 60.0  # RGB distance under which two characters' colours read as the same
TIMES = tuple(STANDARD_LIGHTING)
NAME_PUNCTUATION = " ,.;:!?\"'()[]{}<>*_-、。，：；！？「」"
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
HEADING_TIME = re.compile(r"\s*[-–—]\s*[^-–—]*$")
HEADING_PLACE = re.compile(r"^\s*(?:INT\.?/EXT\.?|EXT\.?/INT\.?|INT\.?|EXT\.?|I/E\.?)\s+", re.I)


@dataclass(frozen=True)
class Issue:
    """One thing wrong with an answer: where, what, and what was done about it."""

    where: str  # a path in the answer, e.g. "scenes[1].beats[3].character"
    problem: str
    repair: str = ""  # empty: not repairable by rule; the model must fix it

    def __str__(self) -> str:
        done = f" (repaired: {self.repair})" if self.repair else ""
        where = f"{self.where}: " if self.where else ""
        return f"{where}{self.problem}{done}"


@dataclass
class Checked(Generic[T]):
    """A checked answer: the value to use, unless some issue is an error."""

    value: T
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if not i.repair]

    @property
    def repairs(self) -> list[Issue]:
        return [i for i in self.issues if i.repair]

    @property
    def ok(self) -> bool:
        return not self.errors


class Cast:
    """The script's names in order, each under the spelling it was first given."""

    def __init__(self) -> None:
        self._by_key: dict[str, str] = {}

    @property
    def names(self) -> list[str]:
        return list(self._by_key.values())

    def known(self, name: str | None) -> str | None:
        """The canonical spelling of `name` if it is in the cast."""
        clean = _clean_name(name)
        return self._by_key.get(name_key(clean)) if clean else None

    def add(self, name: str | None) -> str | None:
        """Put `name` in the cast (if it is a name at all); return its canonical spelling:
        the first given, without stray punctuation ("mei," is Mei's)."""
        clean = _clean_name(name)
        return self._by_key.setdefault(name_key(clean), clean) if clean else None


def _clean_name(name: str | None) -> str:
    clean = " ".join((name or "").split()).strip(NAME_PUNCTUATION)
    return clean.title() if clean.islower() else clean  # a small model's "mei" is Mei


# --------------------------------------------------------------------------- scripts


def validate_script_draft(draft: ScriptDraft, language: str) -> Checked[Script]:
    """Check a screenwriter's draft as the episode's script in `language`."""
    script = Script(**{**dict(draft), "language": language, "source": "idea"})
    return validate_script(script)


def validate_script(script: Script) -> Checked[Script]:
    """Check that every name resolves, every line can be said and every scene can be shot.

    Everyone a scene, beat or wardrobe names is in the cast (added if missing, so they are
    designed); names keep one spelling; empty beats are dropped; a line nobody says goes to
    the scene's only character or becomes action. A drafted scene with no beat is dropped (an
    imported one is kept: the importer reported it); a script left with no beat is an error.
    """
    issues: list[Issue] = []
    cast = Cast()
    for i, name in enumerate(script.characters):
        if cast.add(name) is None:
            issues.append(Issue(f"characters[{i}]", "an empty name", "dropped"))
    scenes: list[Scene] = []
    for i, scene in enumerate(script.scenes):
        imported = script.source == "fountain"
        checked = _scene(scene, cast, f"scenes[{i}]", script.language, issues, imported)
        if checked.beats or script.source == "fountain":
            scenes.append(checked)
        else:
            issues.append(Issue(f"scenes[{i}]", "the scene has no beat", "dropped"))
    if [s.number for s in scenes] != list(range(1, len(scenes) + 1)):
        scenes = [s.model_copy(update={"number": n}) for n, s in enumerate(scenes, 1)]
        issues.append(Issue("scenes", "scene numbers out of order", "numbered from 1"))
    if not any(s.beats for s in scenes):
        issues.append(Issue("scenes", "no scene has a beat: there is nothing to shoot"))
    voices = _heard_only(scenes, [cast.known(n) or n for n in script.voices])
    added = [n for n in cast.names if n not in script.characters and n not in voices]
    if added:
        issues.append(
            Issue("characters", f"{', '.join(added)} appear in scenes", "added to the cast")
        )
    title = " ".join(script.title.split())
    if not title:
        title = scenes[0].location if scenes else "Untitled"
        issues.append(Issue("title", "the title is empty", f"titled {title!r}"))
    elif len(title) > MAX_TITLE_CHARS:
        title = title[:MAX_TITLE_CHARS].rsplit(" ", 1)[0].rstrip(" ,.;:-")
        issues.append(Issue("title", "a title longer than a title card", f"cut to {title!r}"))
    drawn = [n for n in cast.names if n not in voices]
    # A description is kept under the name's one spelling; it never brings anyone in.
    appearance = {
        known: " ".join(text.split())
        for name, text in script.appearance.items()
        if (known := cast.known(name)) and text.strip()
    }
    value = script.model_copy(
        update={
            "title": title,
            "characters": drawn,
            "scenes": scenes,
            "voices": voices,
            "appearance": appearance,
        }
    )
    return Checked(value, issues)


def _heard_only(scenes: list[Scene], listed: list[str]) -> list[str]:
    """The voices: those listed, and speakers never seen (every line of theirs comes from off
    screen, and no scene has them present, entering or leaving)."""
    seen = {n for s in scenes for n in s.characters}
    heard: dict[str, None] = dict.fromkeys(listed)
    for beat in (b for s in scenes for b in s.beats):
        seen.update(*(beat.enters, beat.exits, beat.moves, beat.dies))
        if beat.unseen():
            heard.update(dict.fromkeys(beat.voices()))
        else:
            seen.update(beat.voices())
    return [n for n in heard if n in listed or n not in seen]


def _scene(
    scene: Scene,
    cast: Cast,
    where: str,
    language: str,
    issues: list[Issue],
    imported: bool = False,
) -> Scene:
    """The scene with its names resolved into `cast` and its beats made usable (an imported
    screenplay's lines are never cut: every word a writer wrote is said)."""
    present = [n for n in (cast.add(c) for c in scene.characters) if n]
    beats = []
    for i, beat in enumerate(scene.beats):
        fixed = _beat(beat, cast, present, f"{where}.beats[{i}]", language, issues, imported)
        if fixed is not None:
            beats.append(fixed)
    for name in [n for b in beats for n in b.enters]:
        if name not in present:
            present.append(name)
            issues.append(Issue(f"{where}.characters", f"{name} enters", "added to the scene"))
    wardrobe = {}
    for name, outfit in scene.wardrobe.items():
        known = cast.add(name)
        if known and outfit.strip():
            wardrobe[known] = " ".join(outfit.split())
    location = " ".join(scene.location.split()) or _place_of(scene.heading)
    if not location:
        location = f"Set {scene.number}"
    if location != scene.location:
        issues.append(Issue(f"{where}.location", "no location name", f"named {location!r}"))
    heading = " ".join(scene.heading.split())
    if not heading:
        inside = "INT." if scene.interior else "EXT."
        heading = f"{inside} {location.upper()} - {scene.time_of_day.value.upper()}"
    return scene.model_copy(
        update={
            "characters": list(dict.fromkeys(present)),
            "beats": beats,
            "wardrobe": wardrobe,
            "location": location,
            "heading": heading,
        }
    )


def _place_of(heading: str) -> str:
    """The place in a scene heading: 'INT. TEA HOUSE - NIGHT' -> 'TEA HOUSE'."""
    return " ".join(HEADING_TIME.sub("", HEADING_PLACE.sub("", heading)).split())


def _beat(
    beat: Beat,
    cast: Cast,
    present: list[str],
    where: str,
    language: str,
    issues: list[Issue],
    imported: bool,
) -> Beat | None:
    """The beat with its names in the cast and its line sayable, or None to drop it."""
    text = " ".join(beat.text.split())
    if not text:
        issues.append(Issue(f"{where}.text", "an empty beat", "dropped"))
        return None
    update: dict[str, object] = {}
    for key in ("enters", "exits", "moves", "dies"):
        update[key] = _names(getattr(beat, key), cast)
    for key in ("props", "introduces", "destroys"):
        update[key] = list(
            dict.fromkeys(p for p in (" ".join(x.split()) for x in getattr(beat, key)) if p)
        )
    update["addressee"] = cast.add(beat.addressee)
    if beat.shot is not None:
        update["shot"] = beat.shot.model_copy(
            update={"on_screen": _names(beat.shot.on_screen, cast)}
        )
    if beat.kind == "dialogue":
        speaker = cast.add(beat.character)
        update["chorus"] = [n for n in _names(beat.chorus, cast) if n != speaker]
        if speaker is None and len(present) == 1:
            speaker = present[0]
            issues.append(Issue(f"{where}.character", "a line with no speaker", f"{speaker}'s"))
        elif speaker is None:
            issues.append(Issue(f"{where}.character", "a line with no speaker", "made action"))
            update |= {"kind": "action", "addressee": None, "parenthetical": None}
        update["character"] = speaker
        if speaker is not None:
            text = _line(text, f"{where}.text", language, issues, imported)
    else:
        update |= {"character": None, "addressee": None, "chorus": [], "off_screen": False}
    return beat.model_copy(update={"text": text, **update})


def _names(names: Iterable[str], cast: Cast) -> list[str]:
    return list(dict.fromkeys(n for n in (cast.add(x) for x in names) if n))


def _line(text: str, where: str, language: str, issues: list[Issue], imported: bool) -> str:
    """A spoken line as it can be voiced: a model's in the script's language and not a whole
    page; a writer's exactly as written (a line in another language is theirs to choose)."""
    if imported:
        return text
    letters = [c for c in text if c.isalpha()]
    cjk = sum(1 for c in letters if CJK.match(c))
    if language in ("zh", "ja") and letters and not cjk:
        issues.append(Issue(where, f"the line is not in {language}: {text[:60]!r}"))
    elif language == "en" and letters and cjk > len(letters) / 2:
        issues.append(Issue(where, f"the line is not in English: {text[:60]!r}"))
    if len(text) > MAX_LINE_CHARS:
        short = text[:MAX_LINE_CHARS].rsplit(" ", 1)[0] if " " in text else text[:MAX_LINE_CHARS]
        issues.append(Issue(where, f"a {len(text)}-character line", "cut to one take"))
        return short
    return text


def validate_scene_revision(scene: Scene, script: Script) -> Checked[Scene]:
    """Check a rewritten scene of `script`: it keeps its number and has beats to shoot."""
    issues: list[Issue] = []
    cast = Cast()
    for name in script.characters:
        cast.add(name)
    fixed = _scene(scene, cast, "scene", script.language, issues)
    if not fixed.beats:
        issues.append(Issue("scene.beats", "the rewritten scene has no beat"))
    return Checked(fixed, issues)


def validate_shot_lines(answer: ShotLines, script: Script) -> Checked[Script]:
    """Write a story's lines into its script without changing a shot or the cast.

    A line turns its shot's beat into dialogue (the shot's picture stays in its direction).
    Lines for shots the story does not have or that already have a line, lines by someone
    not on screen in their shot and empty lines are dropped; an addressee outside the scene
    is left out; a line not in the script's language goes back to the model.
    """
    issues: list[Issue] = []
    cast = Cast()
    for name in script.characters:
        cast.add(name)
    open_shots = {
        b.shot.number: (s, k)
        for s, scene in enumerate(script.scenes)
        for k, b in enumerate(scene.beats)
        if b.shot is not None and b.kind == "action"
    }
    beats = [list(scene.beats) for scene in script.scenes]
    said: set[int] = set()
    for i, line in enumerate(answer.lines):
        where = f"lines[{i}]"
        if line.shot not in open_shots or line.shot in said:
            why = "a second line for" if line.shot in said else "no shot without a line is"
            issues.append(Issue(f"{where}.shot", f"{why} shot {line.shot}", "dropped"))
            continue
        s, k = open_shots[line.shot]
        scene, direction = script.scenes[s], beats[s][k].shot
        assert direction is not None
        speaker = cast.known(line.character)
        text = " ".join(line.text.split())
        if speaker is None or speaker not in direction.on_screen:
            on_screen = ", ".join(direction.on_screen) or "nobody"
            problem = f"{line.character!r} is not on screen in shot {line.shot} ({on_screen})"
            issues.append(Issue(f"{where}.character", problem, "dropped"))
            continue
        if not text:
            issues.append(Issue(f"{where}.text", "an empty line", "dropped"))
            continue
        addressee = cast.known(line.addressee)
        if addressee == speaker or addressee not in scene.characters:
            addressee = None
        said.add(line.shot)
        beats[s][k] = beats[s][k].model_copy(
            update={
                "kind": "dialogue",
                "text": _line(text, f"{where}.text", script.language, issues, False),
                "character": speaker,
                "addressee": addressee,
                "emotion": line.emotion,
            }
        )
    scenes = [
        scene.model_copy(update={"beats": b}) for scene, b in zip(script.scenes, beats, strict=True)
    ]
    return Checked(script.model_copy(update={"scenes": scenes}), issues)


# --------------------------------------------------------------------------- designs


def validate_character(
    draft: CharacterDraft, name: str, cast: Sequence[CharacterDesign] = ()
) -> Checked[CharacterDesign]:
    """Check a character design against the cast so far; its colours and voice are checked
    by their types. A design that would look like someone else's (same hair style, hair and
    outfit colours) gets its outfit and accent colours turned a third of the way round the
    colour wheel, so the two can be told apart on screen and by the identity checks."""
    issues: list[Issue] = []
    accessories = list(dict.fromkeys(draft.accessories))
    if accessories != draft.accessories:
        issues.append(Issue("accessories", "an accessory listed twice", "listed once"))
    design = CharacterDesign(**{**dict(draft), "name": name, "accessories": accessories})
    for turn in (1 / 3, 2 / 3):
        twin = next((c for c in cast if _alike(design, c)), None)
        if twin is None:
            break
        design = design.model_copy(
            update={
                "outfit_colour": _turned(draft.outfit_colour, turn),
                "accent_colour": _turned(draft.accent_colour, turn),
            }
        )
        issues.append(
            Issue("outfit_colour", f"looks like {twin.name}", f"outfit {design.outfit_colour}")
        )
    return Checked(design, issues)


def _alike(a: CharacterDesign, b: CharacterDesign) -> bool:
    return a.hair_style == b.hair_style and all(
        _distance(getattr(a, part), getattr(b, part)) < TOO_ALIKE
        for part in ("hair_colour", "outfit_colour")
    )


def _rgb(colour: str) -> tuple[int, ...]:
    return tuple(int(parse_colour(colour)[i : i + 2], 16) for i in (1, 3, 5))


def _distance(a: str, b: str) -> float:
    return sum((x - y) ** 2 for x, y in zip(_rgb(a), _rgb(b), strict=True)) ** 0.5


def _turned(colour: str, turn: float) -> str:
    """The colour with its hue turned, made vivid enough to see the difference."""
    r, g, b = (v / 255 for v in _rgb(colour))
    hue, light, sat = colorsys.rgb_to_hls(r, g, b)
    r, g, b = colorsys.hls_to_rgb((hue + turn) % 1.0, min(max(light, 0.3), 0.6), max(sat, 0.5))
    return "#{:02x}{:02x}{:02x}".format(*(round(v * 255) for v in (r, g, b)))


def validate_location(draft: LocationDraft, name: str, interior: bool) -> Checked[LocationDesign]:
    """Check a set: lit for every time of day, its elements inside it, inside or out as
    the script's heading says."""
    issues: list[Issue] = []
    lighting: dict[str, Lighting] = {}
    for key, light in draft.lighting.items():
        time = key.strip().lower()
        if time in TIMES:
            lighting.setdefault(time, light)
        else:
            issues.append(Issue(f"lighting.{key}", "not a time of day", "dropped"))
    missing = [t for t in TIMES if t not in lighting]
    if missing:
        for time in missing:
            lighting[time] = STANDARD_LIGHTING[time]
        issues.append(
            Issue("lighting", f"no light for {', '.join(missing)}", "standard light for it")
        )
    elements = [
        _element(e, draft.width, f"elements[{i}]", issues) for i, e in enumerate(draft.elements)
    ]
    if draft.interior != interior:
        where = "interior" if interior else "exterior"
        issues.append(Issue("interior", f"the script's heading says {where}", f"made {where}"))
    fixed = {"lighting": lighting, "elements": elements, "interior": interior, "name": name}
    design = LocationDesign(**{**dict(draft), **fixed})
    return Checked(design, issues)


def _element(element: SetElement, width: float, where: str, issues: list[Issue]) -> SetElement:
    """The element at a plausible size for its kind, inside the set."""
    usual_w, usual_h, usual_y, _ = ELEMENT_SIZE[element.kind]
    size = {"width": element.width, "height": element.height, "y": element.y}
    odd = not (
        usual_w * SIZE_RANGE[0] <= element.width <= usual_w * SIZE_RANGE[1]
        and usual_h * SIZE_RANGE[0] <= element.height <= usual_h * SIZE_RANGE[1]
        and 0 <= element.y <= usual_y + MAX_LIFT_M
    )
    if odd:  # a 128 m bench fills the frame whatever the camera does
        size = {"width": usual_w, "height": usual_h, "y": usual_y}
        shown = f"{element.width:g} x {element.height:g} m at {element.y:g} m"
        issues.append(Issue(where, f"a {element.kind} {shown}", f"a {element.kind}'s usual size"))
    size["width"] = min(size["width"], width)
    x = element.x
    if not 0 <= x <= width:  # its centre off the set (an edge past the wall is fine)
        x = min(max(x, size["width"] / 2), width - size["width"] / 2)
        issues.append(Issue(f"{where}.x", f"outside the {width:g} m set", "moved inside"))
    fixed = {**size, "x": x}
    unchanged = all(getattr(element, k) == v for k, v in fixed.items())
    return element if unchanged else element.model_copy(update=fixed)


# --------------------------------------------------------------------------- shots


def validate_shot_plan(plan: ShotPlan, scene: Scene) -> Checked[ShotPlan]:
    """Check a scene's shot list: one shot per beat of the scene, on people who are there.

    Shots for beats the scene does not have, or for a beat already covered, are dropped;
    subjects not in the scene are dropped; a beat no shot covers gets a medium shot on its
    speaker (or a wide one for action), so every line is heard and every action seen. A beat
    the story directed (`Beat.shot`) gets the framing, angle and people its direction names.
    """
    issues: list[Issue] = []
    names = _scene_names(scene)
    shots: dict[int, ShotSpec] = {}
    for i, spec in enumerate(plan.shots):
        where = f"shots[{i}]"
        if not 0 <= spec.beat < len(scene.beats):
            last = len(scene.beats) - 1
            issues.append(Issue(f"{where}.beat", f"no beat {spec.beat} (0-{last})", "dropped"))
        elif spec.beat in shots:
            issues.append(Issue(f"{where}.beat", f"beat {spec.beat} is shot twice", "dropped"))
        else:
            spec = _subjects(spec, names, where, issues)
            shots[spec.beat] = _as_directed(spec, scene, where, issues)
    missing = [i for i in range(len(scene.beats)) if i not in shots]
    for i in missing:
        shots[i] = default_shot(scene, i)
    if missing:
        issues.append(Issue("shots", f"no shot for beats {missing}", "a default shot each"))
    return Checked(ShotPlan(shots=[shots[i] for i in sorted(shots)]), issues)


def default_shot(scene: Scene, beat: int) -> ShotSpec:
    """Plain coverage of a beat: its speaker in a medium shot, or the scene wide; as the
    story directed it, when it did."""
    line = scene.beats[beat]
    if line.kind == "dialogue" and line.character:
        spec = ShotSpec(beat=beat, framing=Framing.medium, subjects=[line.character])
    else:
        spec = ShotSpec(beat=beat, framing=Framing.wide, subjects=list(scene.characters))
    return _as_directed(spec, scene, "", [])


def _as_directed(spec: ShotSpec, scene: Scene, where: str, issues: list[Issue]) -> ShotSpec:
    """The shot with what its beat's direction decided (framing, angle, who is on screen,
    the speaker first); the rest (move, side of the line, effects) stays the director's."""
    beat = scene.beats[spec.beat]
    direction = beat.shot
    if direction is None:
        return spec
    at = f"{where}." if where else ""
    number = f"the story's shot {direction.number}"
    update: dict[str, Any] = {}
    if direction.framing is not None and spec.framing != direction.framing:
        update["framing"] = direction.framing
        issues.append(Issue(f"{at}framing", f"{number} is {direction.framing.value}", "framed so"))
    if direction.angle is not None and spec.angle != direction.angle:
        update["angle"] = direction.angle
        issues.append(Issue(f"{at}angle", f"{number} is {direction.angle.value}", "angled so"))
    speaker = beat.character if beat.kind == "dialogue" else None
    first = [speaker] if speaker in direction.on_screen else []
    kept = [s for s in spec.subjects if s in direction.on_screen]
    subjects = list(dict.fromkeys([*first, *kept, *direction.on_screen]))
    if set(subjects) != set(spec.subjects):
        shown = ", ".join(direction.on_screen) or "nobody"
        issues.append(Issue(f"{at}subjects", f"{number} shows {shown}", "those on screen"))
    if subjects != spec.subjects:
        update["subjects"] = subjects
    return spec.model_copy(update=update) if update else spec


def validate_shot_spec(spec: ShotSpec, beat: int, scene: Scene | None) -> Checked[ShotSpec]:
    """Check a revised shot: it stays on its beat, on people who are in its scene."""
    issues: list[Issue] = []
    if spec.beat != beat:
        issues.append(Issue("beat", f"moved to beat {spec.beat}", f"kept on beat {beat}"))
        spec = spec.model_copy(update={"beat": beat})
    if scene is not None:
        spec = _subjects(spec, _scene_names(scene), "", issues)
        if 0 <= beat < len(scene.beats):
            spec = _as_directed(spec, scene, "", issues)
    return Checked(spec, issues)


def _scene_names(scene: Scene) -> Cast:
    names = Cast()
    for name in [*scene.characters, *(b.character for b in scene.beats if b.character)]:
        names.add(name)
    return names


def _subjects(spec: ShotSpec, names: Cast, where: str, issues: list[Issue]) -> ShotSpec:
    subjects = [names.known(s) for s in spec.subjects]
    kept = list(dict.fromkeys(s for s in subjects if s))
    if len(kept) != len(spec.subjects):
        gone = [s for s, k in zip(spec.subjects, subjects, strict=True) if not k]
        path = f"{where}.subjects" if where else "subjects"
        if gone:
            issues.append(Issue(path, f"{', '.join(map(repr, gone))} not in the scene", "dropped"))
    return spec.model_copy(update={"subjects": kept}) if kept != spec.subjects else spec


# --------------------------------------------------------------------------- stored assets

M = TypeVar("M", bound=BaseModel)


def repair_record(model: type[M], data: dict[str, Any], template: M) -> Checked[M]:
    """A stored record checked by today's types: each invalid value is replaced by the
    template's at the same place (so a stored design keeps its look and gets, say, a voice
    the speech engine has); an error if a value has no counterpart in the template."""
    issues: list[Issue] = []
    data = copy.deepcopy(data)
    fallback = template.model_dump(mode="json")
    for _ in range(MAX_RECORD_REPAIRS):
        try:
            return Checked(model.model_validate(data), issues)
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
        loc = [str(p) for p in error["loc"]]
        where = ".".join(loc)
        problem = f"{error['msg']} ({error.get('input')!r})"
        try:
            value = _at(fallback, loc)
        except (KeyError, IndexError, TypeError):
            if not _drop_item(data, loc):  # nothing to take it from, nothing to drop
                issues.append(Issue(where, problem))
                return Checked(template, issues)
            issues.append(Issue(where, problem, "dropped"))
            continue
        _put(data, loc, value)
        issues.append(Issue(where, problem, f"set to {value!r}"))
    issues.append(Issue("", "too many invalid values"))
    return Checked(template, issues)


MAX_RECORD_REPAIRS = 20


def _at(tree: Any, loc: list[str]) -> Any:
    return copy.deepcopy(_at_ref(tree, loc))


def _drop_item(tree: Any, loc: list[str]) -> bool:
    """Remove the innermost list item on the path `loc`; False if the path has none."""
    for cut in range(len(loc) - 1, -1, -1):
        try:
            parent = _at_ref(tree, loc[:cut])
        except (KeyError, IndexError, TypeError):
            continue
        if isinstance(parent, list) and loc[cut].isdigit() and int(loc[cut]) < len(parent):
            del parent[int(loc[cut])]
            return True
    return False


def _at_ref(tree: Any, loc: list[str]) -> Any:
    for part in loc:
        tree = tree[int(part)] if isinstance(tree, list) else tree[part]
    return tree


def _put(tree: Any, loc: list[str], value: Any) -> None:
    for part in loc[:-1]:
        tree = tree[int(part)] if isinstance(tree, list) else tree.setdefault(part, {})
    last = loc[-1]
    if isinstance(tree, list):
        tree[int(last)] = value
    else:
        tree[last] = value
