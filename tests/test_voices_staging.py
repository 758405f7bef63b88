"""Who is on screen: voices from off screen, voice-only speakers and lines said in chorus."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np
import pytest

from inkreel.agents.director import line_tasks, make_shot, stage_positions
from inkreel.checks.answers import default_shot, validate_script
from inkreel.media import audio
from inkreel.project import Project
from inkreel.run import run_episode
from inkreel.schemas import Beat, LocationDesign, Scene, Script
from inkreel.schemas.design import Lighting
from inkreel.schemas.episode import EpisodeRequest, EpisodeState
from inkreel.settings import Settings

LIGHT = {"day": Lighting(ambient="#ffffff", sky="#99ccee", practicals_on=False, brightness=1.0)}


def _script() -> Script:
    """A narrator only heard, a friend heard from the hall, then two friends saying one line."""
    beats = [
        Beat(kind="action", text="MEI sits alone at the kitchen table."),
        Beat(
            kind="dialogue", character="NARRATOR", text="Mei never liked Mondays.", off_screen=True
        ),
        Beat(kind="dialogue", character="AIKO", text="Are you coming?", off_screen=True),
        Beat(kind="action", text="AIKO and JUN come in."),
        Beat(kind="dialogue", character="AIKO", chorus=["JUN"], text="Happy birthday!"),
        Beat(kind="dialogue", character="MEI", text="You remembered."),
    ]
    scene = Scene(
        number=1,
        heading="INT. KITCHEN - DAY",
        location="Kitchen",
        characters=["MEI", "AIKO", "JUN"],
        beats=beats,
    )
    return Script(title="Mondays", scenes=[scene], source="fountain", language="en")


def test_a_speaker_never_seen_is_a_voice_not_a_character() -> None:
    checked = validate_script(_script())
    assert checked.ok, checked.errors
    script = checked.value
    assert script.voices == ["NARRATOR"]
    assert "NARRATOR" not in script.characters
    assert script.drawn() == ["MEI", "AIKO", "JUN"]


def test_a_voice_the_writer_lists_stays_a_voice_even_if_named() -> None:
    script = _script().model_copy(update={"voices": ["AIKO"]})
    assert validate_script(script).value.voices == ["AIKO", "NARRATOR"]


def test_an_imported_long_speech_is_never_cut() -> None:
    speech = " ".join(["word"] * 400)
    scene = Scene(
        number=1,
        heading="INT. HALL - DAY",
        location="Hall",
        characters=["MEI"],
        beats=[Beat(kind="dialogue", character="MEI", text=speech)],
    )
    imported = Script(title="Speech", scenes=[scene], source="fountain")
    assert validate_script(imported).value.scenes[0].beats[0].text == speech
    drafted = imported.model_copy(update={"source": "idea"})
    assert len(validate_script(drafted).value.scenes[0].beats[0].text) <= 400


def test_off_screen_speakers_are_not_staged_and_move_no_lips() -> None:
    script = validate_script(_script()).value
    scene = script.scenes[0]
    location = LocationDesign(name="Kitchen", width=10.0, lighting=LIGHT)
    positions = stage_positions(scene, location)
    assert list(positions) == ["MEI", "AIKO", "JUN"]
    heights = dict.fromkeys(positions, 1.0)

    def shot(beat: int):
        return make_shot(scene, beat, default_shot(scene, beat), location, positions, heights, 2)

    assert not any(b.speaking for b in shot(1).blocking)  # the narrator
    aiko_off = shot(2)
    assert aiko_off.speaker == "AIKO" and not any(b.speaking for b in aiko_off.blocking)
    chorus = {b.character for b in shot(4).blocking if b.speaking}
    assert chorus == {"AIKO", "JUN"} & {b.character for b in shot(4).blocking}
    assert {b.character for b in shot(5).blocking if b.speaking} == {"MEI"}


def test_a_scene_of_only_a_voice_stages_nobody() -> None:
    scene = Scene(
        number=1,
        heading="EXT. FIELD - NIGHT",
        location="Field",
        beats=[Beat(kind="dialogue", character="RADIO", text="Storm warning.", off_screen=True)],
    )
    assert stage_positions(scene, LocationDesign(name="Field", width=20.0, lighting=LIGHT)) == {}


def test_chorus_takes_layer_into_one_take_at_one_voice_loudness() -> None:
    rate = 16000
    t = np.arange(rate) / rate
    a = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    b = (0.5 * np.sin(2 * np.pi * 330 * t[: rate // 2])).astype(np.float32)
    layered, out_rate = audio.layer([(a, rate), (b, rate * 2)])
    assert out_rate == rate
    assert layered.size == rate  # the longer take; the other resampled to the first's rate
    assert float(np.max(np.abs(layered))) <= 0.98
    # Two uncorrelated voices at 1/sqrt(2) each sum to about one voice's power.
    power = float(np.mean(layered[: rate // 4] ** 2))
    assert power == pytest.approx(float(np.mean(a[: rate // 4] ** 2)), rel=0.25)


def test_an_episode_voices_the_narrator_and_the_chorus(tmp_path: Path) -> None:
    project = Project.open(tmp_path / "p")
    settings = Settings.load(project.root)
    script = _script()
    request = EpisodeRequest(
        episode="ep01",
        script_file="mondays.fountain",
        language="en",
        settings=settings.model_dump(),
    )
    values = run_episode(project, request, {"request": request, "script": script})
    assert set(values["cast"]) == {"MEI", "AIKO", "JUN"}  # the narrator is not designed
    takes = values["takes"]
    tasks = {t.line_id: t for t in line_tasks(cast(EpisodeState, values))}
    assert set(takes) == set(tasks) == {"01-001", "01-002", "01-004", "01-005"}
    narrator = tasks["01-001"]
    assert narrator.voice == audio.voice_for("NARRATOR", "en")
    assert len(tasks["01-004"].chorus) == 1
    # Five takes in single voices (the chorus line once per voice) and the layered one.
    files = {p.name: audio.read_wav(p)[0].size for p in project.assets("takes").glob("*.wav")}
    assert len(files) == 6
    layered = files.pop(Path(takes["01-004"].path).name)
    assert layered in files.values()  # as long as the longer voice, which is one of the takes
    shots = values["shots"]
    speaking = {s.line_id: {b.character for b in s.blocking if b.speaking} for s in shots.values()}
    assert speaking["01-001"] == set() and speaking["01-002"] == set()
    assert speaking["01-005"] == {"MEI"}
    assert (project.root / "episodes" / "ep01" / "episode.mp4").exists()
