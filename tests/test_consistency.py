"""The consistency evaluation on a tiny hand-built episode (rendered directly, no pipeline)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inkreel.art.camera import pixels_per_metre, screen_x
from inkreel.art.character.sheet import render_reference_sheet
from inkreel.art.shot.frame import render_keyframe
from inkreel.evals.consistency import (
    ConsistencyReport,
    Params,
    evaluate_episode,
    format_report,
    write_report,
)
from inkreel.schemas import (
    Angle,
    Blocking,
    Camera,
    Character,
    CharacterDesign,
    Framing,
    HairStyle,
    Keyframe,
    Layer,
    Lighting,
    Location,
    LocationDesign,
    Move,
    SetElement,
    Shot,
    StoryboardFile,
    Voice,
)

EPISODE = "ep01"
VOICE = Voice(variant="m3", pitch=50, speed=170)

CAST = {
    "Ava": CharacterDesign(
        name="Ava",
        build="slim",
        skin="#f2d3b3",
        hair_style=HairStyle.long,
        hair_colour="#c03a2b",
        outfit="dress",
        outfit_colour="#2e6fb0",
        accent_colour="#f0c040",
        voice=VOICE,
    ),
    "Bo": CharacterDesign(
        name="Bo",
        build="broad",
        skin="#c08a62",
        hair_style=HairStyle.short,
        hair_colour="#1e1e22",
        outfit="jacket",
        outfit_colour="#4a7a3a",
        accent_colour="#e8e8e0",
        accessories=["glasses"],
        voice=VOICE,
    ),
}

SET = LocationDesign(
    name="Tea Room",
    interior=True,
    width=13.5,
    elements=[
        SetElement(kind="column", x=0.8, width=0.6, height=3.0),
        SetElement(kind="window", x=2.6, y=1.0, width=1.4, height=1.3, colour="#7a5a3a"),
        SetElement(kind="bench", x=4.4, width=1.8, height=0.5, layer=Layer.midground),
        SetElement(kind="shelf", x=9.0, width=1.6, height=2.0, colour="#6a4a2a"),
        SetElement(kind="painting", x=11.2, y=1.3, width=1.0, height=0.8),
        SetElement(kind="door", x=12.9, width=1.1, height=2.2, colour="#5a3a2a"),
    ],
    lighting={
        "day": Lighting(ambient="#fff6e8", sky="#9cc8ee", practicals_on=False, brightness=1.0),
        "night": Lighting(ambient="#8090c0", sky="#1b2340", practicals_on=True, brightness=0.55),
    },
)

WIDE = Camera(x=6.75, y=1.72, view_width=9.0)
WIDE_NIGHT = Camera(x=6.75, y=2.33, view_width=9.0, tilt=0.5)
MEDIUM = Camera(x=7.07, y=1.13, view_width=2.6)
OTS = Camera(x=6.68, y=1.20, view_width=2.8)


def _shot(
    sid: str, cam: Camera, framing: Framing, tod: str, who: list[tuple[str, float, str]]
) -> Shot:
    return Shot(
        id=sid,
        scene=1,
        beat=0,
        location=SET.name,
        time_of_day=tod,
        framing=framing,
        angle=Angle.eye_level,
        move=Move.static,
        camera=cam,
        blocking=[
            Blocking(character=c, world_x=x, screen_x=screen_x(cam, x), facing=f)  # type: ignore[arg-type]
            for c, x, f in who
        ],
        duration_s=2.0,
    )


TWO = [("Ava", 6.05, "right"), ("Bo", 7.45, "left")]
SHOTS = [
    _shot("s01-001", WIDE, Framing.extreme_wide, "day", TWO),
    _shot("s01-002", MEDIUM, Framing.medium, "day", TWO),
    _shot("s01-003", OTS, Framing.medium, "night", TWO),
    _shot("s01-004", WIDE_NIGHT, Framing.extreme_wide, "night", TWO),
    _shot("s01-005", MEDIUM, Framing.medium, "night", TWO),
]


def _render_shot(root: Path, shot: Shot, location: LocationDesign = SET) -> Keyframe:
    img, figures, elements = render_keyframe(shot, location, CAST)
    rel = f"assets/keyframes/{shot.id}.png"
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    img.save(root / rel)
    return Keyframe(shot_id=shot.id, path=rel, figures=figures, elements=elements)


def _write_storyboard(root: Path, sb: StoryboardFile) -> None:
    path = root / "episodes" / EPISODE / "storyboard.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sb.model_dump_json(indent=1), encoding="utf-8")


def _read_storyboard(root: Path) -> StoryboardFile:
    path = root / "episodes" / EPISODE / "storyboard.json"
    return StoryboardFile.model_validate_json(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("consistency") / "project"
    cast: dict[str, Character] = {}
    for name, design in CAST.items():
        turnaround, _, _ = render_reference_sheet(design)
        paths = {}
        for view, img in turnaround.items():
            rel = f"assets/characters/{name.lower()}/turnaround-{view}.png"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            img.save(root / rel)
            paths[view] = rel
        cast[name] = Character(id=f"chr-{name.lower()}", design=design, turnaround=paths)
    keyframes = {s.id: _render_shot(root, s) for s in SHOTS}
    sb = StoryboardFile(
        shots=SHOTS,
        keyframes=keyframes,
        cast=cast,
        locations={SET.name: Location(id="loc-tea", design=SET)},
    )
    _write_storyboard(root, sb)
    return root


@pytest.fixture(scope="module")
def clean(episode: Path) -> ConsistencyReport:
    return evaluate_episode(episode, EPISODE)


@pytest.fixture
def copy(episode: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "project"
    shutil.copytree(episode, dst)
    return dst


def test_same_character_scores_higher_than_different(clean: ConsistencyReport) -> None:
    idn = clean.identity
    assert {c.character for c in idn.characters} == {"Ava", "Bo"}
    for c in idn.characters:
        assert c.crops >= 2, c
        assert c.cross_cids is not None and c.self_cids is not None
        other = next(iter(c.cross_vs))
        assert c.cross_cids > c.cross_vs[other]
        assert c.self_cids > c.self_vs[other]
        # the time-of-day tint is undone: night crops still match the unlit references
        assert c.cross_cids > 0.85
    assert idn.cross_margin_mean is not None and idn.cross_margin_mean > 0.1
    assert idn.self_margin_mean is not None and idn.self_margin_mean > 0.1
    assert idn.cross_margin_worst is not None and idn.cross_margin_worst > 0
    assert idn.self_margin_worst is not None and idn.self_margin_worst > 0
    assert all(v == "rerender" for v in idn.reference_geometry.values())
    night = [s for s in idn.crops if s.shot_id == "s01-005"]
    assert night and all(s.cross > 0.85 for s in night)


def test_swapped_identity_is_caught(copy: Path, clean: ConsistencyReport) -> None:
    # Draw Bo with Ava's design in one shot: his crop there must stop matching him.
    sb = _read_storyboard(copy)
    shot = sb.shots[1]
    cast = {"Ava": CAST["Ava"], "Bo": CAST["Ava"].model_copy(update={"name": "Bo"})}
    img, _, _ = render_keyframe(shot, SET, cast)
    img.save(copy / sb.keyframes[shot.id].path)
    rep = evaluate_episode(copy, EPISODE)
    bo = next(s for s in rep.identity.crops if s.character == "Bo" and s.shot_id == shot.id)
    assert bo.cross_margin is not None and bo.cross_margin < 0
    before = next(c for c in clean.identity.characters if c.character == "Bo")
    after = next(c for c in rep.identity.characters if c.character == "Bo")
    assert after.cross_cids is not None and before.cross_cids is not None
    assert after.cross_cids < before.cross_cids - 0.03


def test_occm_is_100_when_counts_match(clean: ConsistencyReport) -> None:
    assert clean.counts.mean_occm == 100.0
    assert all(s.expected == s.detected == ["Ava", "Bo"] for s in clean.counts.shots)
    assert all(m == "set_difference" for m in clean.mask_method.values())


def test_occm_drops_when_a_figure_is_missing_from_the_layout(copy: Path) -> None:
    sb = _read_storyboard(copy)
    kf = sb.keyframes["s01-002"]
    kf.figures = [f for f in kf.figures if f.character != "Bo"]
    _write_storyboard(copy, sb)
    rep = evaluate_episode(copy, EPISODE)
    shot = next(s for s in rep.counts.shots if s.shot_id == "s01-002")
    assert shot.detected == ["Ava"]
    assert shot.occm == pytest.approx(100 * math.exp(-1 / 2), abs=1e-3)
    assert rep.counts.mean_occm is not None and rep.counts.mean_occm < 100
    assert next(t for t in rep.targets if t.name == "occm_min").met is False


def test_occm_drops_when_a_figure_is_painted_over(copy: Path) -> None:
    sb = _read_storyboard(copy)
    shot = next(s for s in sb.shots if s.id == "s01-001")
    kf = sb.keyframes[shot.id]
    empty, _, _ = render_keyframe(shot.model_copy(update={"blocking": []}), SET, {})
    frame = np.asarray(Image.open(copy / kf.path).convert("RGB")).copy()
    b = next(f for f in kf.figures if f.character == "Ava").body
    frame[b.y0 : b.y1, b.x0 : b.x1] = np.asarray(empty)[b.y0 : b.y1, b.x0 : b.x1]
    Image.fromarray(frame).save(copy / kf.path)
    rep = evaluate_episode(copy, EPISODE)
    counts = next(s for s in rep.counts.shots if s.shot_id == shot.id)
    assert counts.detected == ["Bo"]
    assert counts.ink["Ava"] < 0.01
    assert counts.occm < 100


def test_set_is_stable_on_clean_shots(clean: ConsistencyReport) -> None:
    st = clean.set_stability
    assert st.measured >= 4
    assert st.max_px is not None and st.max_px < 0.5
    assert st.unmatched == 0
    (loc,) = st.locations
    assert loc.reference_shot == "s01-001"
    assert loc.reference_ppm == pytest.approx(1280 / 9.0, rel=1e-3)
    assert next(t for t in clean.targets if t.name == "set_stability_max_px").met is True


def test_set_stability_finds_a_moved_element(copy: Path) -> None:
    sb = _read_storyboard(copy)
    shot = next(s for s in sb.shots if s.id == "s01-004")
    idx, dx = 3, 0.2  # the shelf, 20 cm to the right in one shot only
    moved = list(SET.elements)
    moved[idx] = moved[idx].model_copy(update={"x": moved[idx].x + dx})
    _render_shot(copy, shot, SET.model_copy(update={"elements": moved}))
    rep = evaluate_episode(copy, EPISODE)
    (loc,) = rep.set_stability.locations
    worst = max(loc.elements, key=lambda e: e.displacement_px)
    expected = dx * pixels_per_metre(WIDE, 1280, SET.elements[idx].layer)
    assert (worst.shot_id, worst.element) == (shot.id, str(idx))
    assert worst.displacement_px == pytest.approx(expected, rel=0.1)
    assert worst.dx_px == pytest.approx(expected, rel=0.1)
    assert abs(worst.dy_px) < 1.0
    others = [e for e in loc.elements if e is not worst]
    assert others and max(e.displacement_px for e in others) < 0.5
    assert next(t for t in rep.targets if t.name == "set_stability_max_px").met is False


def test_report_round_trips_through_json(clean: ConsistencyReport, tmp_path: Path) -> None:
    path = write_report(clean, tmp_path / "reports" / "consistency.json")
    assert path.exists()
    data = json.loads(path.read_text(encoding="utf-8"))
    assert {t["name"] for t in data["targets"]} >= {"cross_cids", "self_cids", "occm_min"}
    again = ConsistencyReport.model_validate_json(path.read_text(encoding="utf-8"))
    assert again == clean
    text = format_report(clean)
    assert "OCCM" in text and "Tea Room" in text and "cross_cids" in text


def test_missing_episode_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"storyboard\.json"):
        evaluate_episode(tmp_path, "nope")


def test_falls_back_to_a_palette_mask_when_the_set_cannot_be_reproduced(episode: Path) -> None:
    rep = evaluate_episode(episode, EPISODE, params=Params(max_set_mismatch=-1.0))
    assert set(rep.mask_method.values()) == {"palette_heuristic"}
    assert any("palette heuristic" in n for n in rep.notes)
    assert rep.params.max_set_mismatch == -1.0
    assert rep.counts.shots and rep.identity.characters
