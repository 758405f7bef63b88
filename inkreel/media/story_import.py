"""A story (ViStoryBench's `story.json`, read by `media.story_json`) as the episode's script.

The story's characters and shots are kept; the rest of the line fills in dialogue, voices and
the cut:

- **Scenes** are runs of consecutive shots in the same setting: the same place at the same
  time of day, as read from the setting's words (`media.story_words.read_setting`; the same
  text always reads the same, and "Night, room nine, the desk" and "Night, room nine of the
  hotel" are both room nine at night). A setting that names no time, or says nothing of
  inside or out, keeps the scene before's (the first scene's: day, inside). A place met again
  later in the story keeps the name it was first given, so its set is reused. A scene's act
  follows where it starts in the story (first quarter setup, then development, turn,
  resolution).
- **Shots.** Every story shot becomes one action beat of its scene, in order, whose text is
  the shot's plot and static description, and whose `ShotDirection` carries the shot's
  number, exactly who is on screen, and the framing and angle read from its perspective
  text (`read_perspective`). The director shoots each beat as that one shot. A perspective
  that names no shot size we read is recorded in `Script.skipped` (kind "perspective"):
  the director chooses the framing of that shot.
- **Characters**: every story character is in the cast, in the story's order, whether or
  not a shot shows them; their appearance text (`prompt`) goes to `Script.appearance`, which
  their design follows.

The screenwriter later writes lines for some shots (`agents.screenwriter`): a line turns its
shot's beat into dialogue and the shot's picture stays in its direction.
"""

from __future__ import annotations

from dataclasses import replace

from inkreel.media.story_json import Story, StoryShot
from inkreel.media.story_words import Setting, read_perspective, read_setting
from inkreel.schemas import (
    Act,
    Beat,
    Scene,
    Script,
    ShotDirection,
    SkippedElement,
    TimeOfDay,
)

# How a heading says inside or out and the time of day, per language (the Fountain reader's
# own words, so an exported script reads back).
_SIDES = {"en": ("INT.", "EXT."), "zh": ("内景", "外景"), "ja": ("室内", "屋外")}
_TIMES = {
    "en": {"day": "DAY", "dusk": "DUSK", "night": "NIGHT"},
    "zh": {"day": "日", "dusk": "黄昏", "night": "夜"},
    "ja": {"day": "昼", "dusk": "夕方", "night": "夜"},
}
_ACTS = (Act.setup, Act.development, Act.turn, Act.resolution)


def script_from_story(story: Story) -> Script:
    """The story as a script: one scene per run of shots in one setting, one beat per shot,
    each directed as the story's shot; the story's characters as the cast."""
    language = story.language
    cast = [" ".join(c.name.split()) for c in story.characters]
    # Consecutive shots in one place at one time are a scene; a setting that names no time
    # (or says nothing of inside or out) keeps the scene before's, the first's is day inside.
    runs: list[tuple[Setting, list[StoryShot]]] = []
    time, interior = TimeOfDay.day, True
    for shot in story.shots:
        read = read_setting(shot.setting, language)
        time = read.time_of_day or time
        interior = interior if read.interior is None else read.interior
        if runs and (runs[-1][0].place, runs[-1][0].time_of_day) == (read.place, time):
            runs[-1][1].append(shot)
        else:
            runs.append((replace(read, time_of_day=time, interior=interior), [shot]))
    scenes: list[Scene] = []
    skipped: list[SkippedElement] = []
    # A place met again is the same set: its first name, inside or out as it was first.
    sets: dict[str, tuple[str, bool]] = {}
    for number, (setting, run) in enumerate(runs, 1):
        first = (setting.location or f"Set {number}", bool(setting.interior))
        location, inside = sets.setdefault(setting.place, first)
        time = setting.time_of_day or TimeOfDay.day
        beats = []
        for shot in run:
            direction = _direction(shot, language)
            if direction.framing is None and shot.perspective.strip():
                skipped.append(
                    SkippedElement(
                        line=shot.index,
                        kind="perspective",
                        text=f"shot {shot.index}: {shot.perspective} (the director chose "
                        "the framing)",
                    )
                )
            beats.append(Beat(kind="action", text=direction.picture, shot=direction))
        on_screen = [" ".join(n.split()) for shot in run for n in shot.characters]
        side = _SIDES.get(language, _SIDES["en"])[0 if inside else 1]
        when = _TIMES.get(language, _TIMES["en"])[time.value]
        place = location.upper() if language == "en" else location
        scenes.append(
            Scene(
                number=number,
                heading=f"{side} {place} - {when}",
                location=location,
                interior=inside,
                time_of_day=time,
                act=_ACTS[min(3, 4 * (run[0].index - 1) // len(story.shots))],
                characters=list(dict.fromkeys(on_screen)),
                beats=beats,
            )
        )
    return Script(
        title=story.title,
        characters=cast,
        scenes=scenes,
        language=language,
        source="story",
        skipped=skipped,
        appearance={
            name: c.prompt for name, c in zip(cast, story.characters, strict=True) if c.prompt
        },
    )


def _same_place(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _direction(shot: StoryShot, language: str) -> ShotDirection:
    perspective = read_perspective(shot.perspective)
    return ShotDirection(
        number=shot.index,
        framing=perspective.framing,
        angle=perspective.angle,
        on_screen=list(dict.fromkeys(" ".join(n.split()) for n in shot.characters)),
        perspective=" ".join(shot.perspective.split()),
        picture=_picture(shot, language),
    )


def _picture(shot: StoryShot, language: str) -> str:
    """What the shot shows: its plot, then its static description (each once)."""
    parts = list(dict.fromkeys(" ".join(p.split()) for p in (shot.plot, shot.description)))
    parts = [p for p in parts if p]
    if language in ("zh", "ja"):
        return "".join(p if p[-1] in "。！？!?." else p + "。" for p in parts)
    return " ".join(p if p[-1] in ".!?\"'" else p + "." for p in parts)
