"""Image-level continuity checks on a tiny hand-built episode rendered directly (no pipeline).

Each check gets a clean case and a defective one, drawn by the renderer with the mistake in it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from inkreel.art.camera import screen_x
from inkreel.art.character.sheet import render_reference_sheet
from inkreel.art.shot.frame import render_keyframe
from inkreel.checks import Bundle, image
from inkreel.checks.image import (
    DETECTS,
    check_image,
    references,
    renders,
    set_render,
    shared,
    shot_scores,
)
from inkreel.measure.figures import differing, load_rgb, solid_regions
from inkreel.schemas import (
    Angle,
    Blocking,
    Camera,
    Character,
    CharacterDesign,
    Finding,
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

VOICE = Voice(variant="m3", pitch=50, speed=170)
AVA = CharacterDesign(
    name="Ava",
    build="slim",
    hair_style=HairStyle.long,
    hair_colour="#c03a2b",
    outfit="dress",
    outfit_colour="#2e6fb0",
    accent_colour="#f0c040",
    voice=VOICE,
)
BO = CharacterDesign(
    name="Bo",
    build="broad",
    skin="#c08a62",
    hair_style=HairStyle.short,
    hair_colour="#e8c84a",
    outfit="jacket",
    outfit_colour="#4a7a3a",
    accent_colour="#e8e8e0",
    accessories=["glasses"],
    voice=VOICE,
)
CAST = {"Ava": AVA, "Bo": BO}
LIGHT = {
    "day": Lighting(ambient="#fff6e8", sky="#9cc8ee", practicals_on=False, brightness=1.0),
    "night": Lighting(ambient="#8090c0", sky="#1b2340", practicals_on=True, brightness=0.55),
}
TEA = LocationDesign(
    name="Tea Room",
    width=13.5,
    elements=[
        SetElement(kind="column", x=0.8, width=0.6, height=3.0),
        SetElement(kind="window", x=2.6, y=1.0, width=1.4, height=1.3, colour="#7a5a3a"),
        SetElement(kind="bench", x=4.4, width=1.8, height=0.5, layer=Layer.midground),
        SetElement(kind="shelf", x=9.0, width=1.6, height=2.0, colour="#6a4a2a"),
        SetElement(kind="painting", x=11.2, y=1.3, width=1.0, height=0.8),
        SetElement(kind="door", x=12.9, width=1.1, height=2.2, colour="#5a3a2a"),
    ],
    lighting=LIGHT,
)
HARBOUR = LocationDesign(
    name="Harbour",
    interior=False,
    width=14.0,
    wall_colour="#9ab0c0",
    floor_colour="#6a6a60",
    elements=[
        SetElement(kind="building", x=2.5, width=3.0, height=4.5, colour="#a05a4a"),
        SetElement(kind="streetlamp", x=5.2, width=0.3, height=3.2),
        SetElement(kind="fence", x=10.5, width=3.0, height=1.0, layer=Layer.midground),
        SetElement(kind="tree", x=12.6, width=1.8, height=3.6, colour="#4a7a3a"),
    ],
    lighting=LIGHT,
)
WIDE = Camera(x=6.75, y=1.72, view_width=9.0)
MEDIUM = Camera(x=7.07, y=1.13, view_width=2.6)


def _shot(sid: str, cam: Camera, loc: str, tod: str, who: list[tuple[str, float, str]]) -> Shot:
    return Shot(
        id=sid,
        scene=int(sid[1:3]),
        beat=0,
        location=loc,
        time_of_day=tod,
        framing=Framing.wide if cam is WIDE else Framing.medium,
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
    _shot("s01-001", WIDE, "Tea Room", "day", TWO),
    _shot("s01-002", MEDIUM, "Tea Room", "day", TWO),
    _shot("s02-001", WIDE, "Harbour", "night", TWO),
]
SETS = {"Tea Room": TEA, "Harbour": HARBOUR}


def build_episode(root: Path) -> StoryboardFile:
    """Render the turnarounds and keyframes under `root`; return the storyboard."""
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
    keyframes = {}
    for shot in SHOTS:
        img, figures, elements = render_keyframe(shot, SETS[shot.location], CAST)
        rel = f"assets/keyframes/{shot.id}.png"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        img.save(root / rel)
        keyframes[shot.id] = Keyframe(shot_id=shot.id, path=rel, figures=figures, elements=elements)
    return StoryboardFile(
        shots=SHOTS,
        keyframes=keyframes,
        cast=cast,
        locations={n: Location(id=f"loc-{i}", design=d) for i, (n, d) in enumerate(SETS.items())},
    )


@pytest.fixture(scope="module")
def episode(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    root = tmp_path_factory.mktemp("checks_image")
    return Bundle(build_episode(root), root=root)


def redraw(
    bundle: Bundle,
    shot_id: str,
    frame: np.ndarray | Image.Image,
) -> Bundle:
    """A copy of the bundle whose keyframe for `shot_id` is `frame` (the layout unchanged)."""
    rel = f"defects/{shot_id}-{len(list((bundle.root / 'defects').glob('*')))}.png"
    (bundle.root / rel).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(frame)).save(bundle.root / rel)
    board = bundle.board.model_copy(deep=True)
    board.keyframes[shot_id].path = rel
    return dataclasses.replace(bundle, board=board, notes=[])


def render(
    shot: Shot,
    location: LocationDesign | None = None,
    cast: dict[str, CharacterDesign] | None = None,
) -> Image.Image:
    img, _, _ = render_keyframe(
        shot, location or SETS[shot.location], CAST if cast is None else cast
    )
    return img


def shot(shot_id: str) -> Shot:
    return next(s for s in SHOTS if s.id == shot_id)


def only(findings: list[Finding], shot_id: str) -> set[str]:
    """The checks that fired, asserting they all point at `shot_id`."""
    assert findings, "no finding"
    assert {f.shot_id for f in findings} == {shot_id}, findings
    return {f.check for f in findings}


def test_clean_episode_has_no_findings(episode: Bundle) -> None:
    assert check_image(episode) == []
    assert not episode.notes
    for s in SHOTS:
        scores = shot_scores(episode, s.id)
        assert scores["score"] == 1.0
        assert scores["set_mismatch"] < 0.001
        assert scores["identity_similarity"] > 0.85


def test_every_check_maps_to_known_defect_types() -> None:
    from inkreel.checks import DEFECT_TYPES

    assert all(v <= set(DEFECT_TYPES) for v in DETECTS.values())


def test_hair_colour(episode: Bundle) -> None:
    wrong = dict(CAST) | {"Ava": AVA.model_copy(update={"hair_colour": "#2a5cd0"})}
    bad = redraw(episode, "s01-002", render(shot("s01-002"), cast=wrong))
    findings = check_image(bad)
    assert only(findings, "s01-002") == {"hair_colour"}
    (f,) = findings
    assert f.evidence["character"] == "Ava" and float(f.evidence["delta_e00"]) > 20
    assert f.agent == "director" and "#c03a2b" in f.fix_instruction
    assert shot_scores(bad, "s01-002")["score"] < 0.7
    assert check_image(bad, ["s01-001"]) == []


def test_outfit_swap(episode: Bundle) -> None:
    wrong = {
        "Ava": AVA.model_copy(update={"outfit_colour": BO.outfit_colour}),
        "Bo": BO.model_copy(update={"outfit_colour": AVA.outfit_colour}),
    }
    bad = redraw(episode, "s01-001", render(shot("s01-001"), cast=wrong))
    findings = check_image(bad)
    assert "outfit_swap" in only(findings, "s01-001")
    assert all("outfit_swap" in DETECTS[f.check] for f in findings)


def test_missing_character(episode: Bundle) -> None:
    s = shot("s01-001")
    without_bo = s.model_copy(update={"blocking": [b for b in s.blocking if b.character != "Bo"]})
    bad = redraw(episode, s.id, render(without_bo))
    findings = check_image(bad)
    assert only(findings, s.id) == {"figure_missing"}
    assert findings[0].evidence["character"] == "Bo"
    assert shot_scores(bad, s.id)["count_missing"] == 1


def test_extra_character(episode: Bundle) -> None:
    s = shot("s02-001")
    extra = Blocking(character="Ava", world_x=10.0, screen_x=screen_x(WIDE, 10.0), facing="front")
    crowded = s.model_copy(update={"blocking": [*s.blocking, extra]})
    bad = redraw(episode, s.id, render(crowded))
    findings = check_image(bad)
    assert only(findings, s.id) == {"figure_extra"}
    x = float(findings[0].evidence["x0"]) + float(findings[0].evidence["x1"])
    assert abs(x / 2 / 1280 - screen_x(WIDE, 10.0)) < 0.05


def test_set_element_moved(episode: Bundle) -> None:
    s = shot("s01-001")
    moved = list(TEA.elements)
    moved[3] = moved[3].model_copy(update={"x": moved[3].x + 0.4})  # the shelf, 40 cm right
    bad = redraw(episode, s.id, render(s, TEA.model_copy(update={"elements": moved})))
    findings = check_image(bad)
    assert only(findings, s.id) == {"set_element_moved"}
    (f,) = findings
    assert f.evidence["element"] == "3"
    expected_px = 0.4 * 1280 / WIDE.view_width * 0.8  # background layer
    assert float(f.evidence["dx_px"]) == pytest.approx(expected_px, abs=2)


def test_set_element_missing(episode: Bundle) -> None:
    s = shot("s01-001")
    gone = list(TEA.elements)
    gone[4] = gone[4].model_copy(update={"x": -50.0})  # the painting, taken off the wall
    bad = redraw(episode, s.id, render(s, TEA.model_copy(update={"elements": gone})))
    findings = check_image(bad)
    assert only(findings, s.id) == {"set_element_missing"}
    assert findings[0].evidence["element"] == "4"


def test_mirrored_keyframe_is_a_line_flip_not_a_pile_of_figure_findings(episode: Bundle) -> None:
    frame = load_rgb(episode.root / episode.board.keyframes["s01-001"].path)[:, ::-1]
    findings = check_image(redraw(episode, "s01-001", frame))
    assert only(findings, "s01-001") == {"mirrored_frame"}


def test_mirrored_frame_in_a_symmetric_set_is_told_by_the_figures(
    episode: Bundle, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A plain set looks the same mirrored; then only the figures show the frame was flipped.
    s = shot("s01-002")
    frame = load_rgb(episode.root / episode.board.keyframes[s.id].path)
    figure = np.abs(frame.astype(int) - set_render(s, TEA, (1280, 720))).max(axis=2) > 10
    plain = np.full_like(frame, 150)
    drawn = plain.copy()
    drawn[figure] = frame[figure]
    monkeypatch.setattr(renders, "set_render", lambda *args: plain)
    assert check_image(redraw(episode, s.id, drawn)) == []
    findings = check_image(redraw(episode, s.id, drawn[:, ::-1]))
    assert only(findings, s.id) == {"mirrored_frame"}


def test_night_render_of_a_day_shot_is_day_night(episode: Bundle) -> None:
    s = shot("s01-002")
    bad = redraw(episode, s.id, render(s.model_copy(update={"time_of_day": "night"})))
    findings = check_image(bad)
    assert only(findings, s.id) == {"wrong_light"}
    assert findings[0].evidence["rendered_time"] == "night"


def test_shot_drawn_in_another_set_is_wrong_location(episode: Bundle) -> None:
    s = shot("s01-001")
    bad = redraw(episode, s.id, render(s.model_copy(update={"location": "Harbour"}), HARBOUR))
    findings = check_image(bad)
    assert only(findings, s.id) == {"wrong_set"}
    assert findings[0].evidence["rendered_location"] == "Harbour"


def test_identity_catches_a_character_drawn_as_someone_else(episode: Bundle) -> None:
    s = shot("s01-002")
    bad = redraw(episode, s.id, render(s, cast={"Ava": AVA, "Bo": AVA.model_copy()}))
    findings = check_image(bad)
    ident = [f for f in findings if f.check == "identity"]
    assert ident and ident[0].evidence["character"] == "Bo"
    assert ident[0].evidence["closest_other"] == "Ava"
    assert shot_scores(bad, s.id)["identity_margin"] < 0


def test_off_model_reference_sheet_is_sent_to_the_character_designer(episode: Bundle) -> None:
    # Bo's sheet drawn with the wrong hair: shots drawn to the design no longer match it.
    turnaround, _, _ = render_reference_sheet(
        BO.model_copy(update={"hair_colour": "#7a3cc0", "outfit_colour": "#c0302a"})
    )
    board = episode.board.model_copy(deep=True)
    for view, img in turnaround.items():
        rel = f"defects/bo-sheet-{view}.png"
        (episode.root / rel).parent.mkdir(parents=True, exist_ok=True)
        img.save(episode.root / rel)
        board.cast["Bo"].turnaround[view] = rel
    findings = check_image(Bundle(board, root=episode.root))
    ident = [f for f in findings if f.check == "identity"]
    assert ident and all(f.agent == "character_designer" for f in ident)
    assert all(f.evidence["character"] == "Bo" for f in ident)


def test_keyframe_from_elsewhere_skips_pixel_difference_checks(episode: Bundle) -> None:
    # Figures on a painted backdrop the renderer cannot reproduce: count, set and whole-frame
    # checks are skipped with a note; the palette still works from the layout boxes.
    s = shot("s01-002")
    frame = load_rgb(episode.root / episode.board.keyframes[s.id].path)
    empty = set_render(s, TEA, (1280, 720))
    figure = np.abs(frame.astype(int) - empty).max(axis=2) > 10
    painted = np.zeros_like(frame)
    painted[...] = np.linspace(40, 220, frame.shape[1]).astype(np.uint8)[None, :, None]
    painted[figure] = frame[figure]
    external = redraw(episode, s.id, painted)
    assert check_image(external) == []
    assert any(s.id in n and "skipped" in n for n in external.notes)

    wrong = dict(CAST) | {"Ava": AVA.model_copy(update={"hair_colour": "#2a5cd0"})}
    recoloured = np.asarray(render(s, cast=wrong).convert("RGB"))
    painted[figure] = recoloured[figure]
    findings = check_image(redraw(episode, s.id, painted))
    assert {f.check for f in findings} == {"hair_colour"}


def test_a_repaired_keyframe_is_checked_again(episode: Bundle) -> None:
    # Results are cached per shot; rewriting the keyframe file in place must not reuse them.
    s = shot("s01-002")
    wrong = dict(CAST) | {"Bo": BO.model_copy(update={"hair_colour": "#2a5cd0"})}
    bad = redraw(episode, s.id, render(s, cast=wrong))
    before = shot_scores(bad, s.id)["score"]
    assert check_image(bad, [s.id]) and before < 1.0
    render(s).save(bad.root / bad.board.keyframes[s.id].path)
    assert check_image(bad, [s.id]) == []
    assert shot_scores(bad, s.id)["score"] == 1.0


def copies(bundle: Bundle, times: int) -> Bundle:
    """The bundle with each shot repeated `times` times under new ids (same keyframes)."""
    board = bundle.board.model_copy(deep=True)
    shots, keyframes = [], {}
    for k in range(times):
        for s in SHOTS:
            sid = f"{s.id}-{k}"
            shots.append(s.model_copy(update={"id": sid}))
            keyframes[sid] = board.keyframes[s.id].model_copy(update={"shot_id": sid})
    board.shots, board.keyframes = shots, keyframes
    return dataclasses.replace(bundle, board=board, notes=[])


def test_check_shots_reads_the_references_once_and_reports_every_shot(
    episode: Bundle, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded: list[str] = []
    real = references.character_refs

    def counting(root: Path, name: str, board: StoryboardFile) -> object:
        loaded.append(name)
        return real(root, name, board)

    monkeypatch.setattr(references, "character_refs", counting)
    bundle = copies(episode, 3)
    done: list[str] = []
    results = image.check_shots(bundle, on_shot=done.append)
    ids = [s.id for s in bundle.board.shots]
    assert list(results) == done == ids  # storyboard order, one progress call per shot
    assert all(r.findings == [] and r.scores["score"] == 1.0 for r in results.values())
    # Nine shots, two characters: each character's references are read once, not per shot.
    assert sorted(loaded) == ["Ava", "Bo"]
    assert image.check_shots(bundle, ids[:2], workers=1).keys() == {ids[0], ids[1]}


def test_a_long_storyboard_tries_only_the_sets_near_the_shot(
    episode: Bundle, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Eleven more sets, one a scene after the harbour: a keyframe drawn in the wrong set is
    # compared with the sets of the scenes around it, not with every set of the episode.
    rooms = {
        f"Room {k}": TEA.model_copy(
            update={"name": f"Room {k}", "wall_colour": f"#{k * 20:02x}7060"}
        )
        for k in range(1, 12)
    }
    board = episode.board.model_copy(deep=True)
    board.locations |= {n: Location(id=f"loc-{n}", design=d) for n, d in rooms.items()}
    board.shots += [_shot(f"s{k + 2:02d}-001", WIDE, n, "day", TWO) for k, n in enumerate(rooms, 1)]
    s = shot("s01-001")
    wrong = render(s.model_copy(update={"location": "Harbour"}), HARBOUR)
    bad = redraw(Bundle(board, root=episode.root), s.id, wrong)
    drawn: list[str] = []
    real = renders.set_render

    def counting(shot: Shot, location: LocationDesign, size: tuple[int, int]) -> np.ndarray:
        drawn.append(location.name)
        return real(shot, location, size)

    monkeypatch.setattr(renders, "set_render", counting)
    findings = check_image(bad, [s.id])
    assert only(findings, s.id) == {"wrong_set"}
    assert findings[0].evidence["rendered_location"] == "Harbour"
    # Its own set (day, and at night), then the harbour and the rooms of scenes 3-9.
    others = [n for n in drawn if n != "Tea Room"]
    assert others == ["Harbour", *(f"Room {k}" for k in range(1, 8))]
    assert len(drawn) == 2 + shared.MAX_OTHER_SETS


def test_figure_measurements_match_their_reference_definitions() -> None:
    # `differing` and `solid_regions` are written for speed; they must answer exactly as the
    # plain definitions do (the int16 difference's channel maximum; scipy's opening by a 3x3
    # square), on masks of every density and at the image's edges.
    rng = np.random.default_rng(7)
    a = rng.integers(0, 256, (61, 83, 3), dtype=np.uint8)
    b = a.copy()
    changed = rng.random(a.shape[:2]) < 0.4
    b[changed] = rng.integers(0, 256, (int(changed.sum()), 3), dtype=np.uint8)
    for threshold in (0, 1, 24, 200, 255):
        plain = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2) > threshold
        assert np.array_equal(differing(a, b, threshold), plain), threshold
    square = np.ones((3, 3), bool)
    for density in (0.0, 0.05, 0.5, 0.8, 0.97, 1.0):
        mask = rng.random((47, 59)) < density
        mask[5:20, 0:9] = True  # a block on the left edge
        mask[-4:, -6:] = True  # and one in the corner
        expected = ndimage.binary_opening(mask, structure=square)
        assert np.array_equal(solid_regions(mask), expected), density
    for tiny in ((2, 9), (9, 2), (3, 3)):
        full = np.ones(tiny, bool)
        assert np.array_equal(solid_regions(full), ndimage.binary_opening(full, square)), tiny
