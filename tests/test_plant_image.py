"""Planting image defects: one shot changes, the originals stay, and the checks find it."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import numpy as np
import pytest

from inkreel.checks import DEFECT_TYPES, Bundle
from inkreel.checks.image import DETECTS, check_image
from inkreel.drills.image_defects import IMAGE_TYPES, PlantedDefect, plant_image
from inkreel.measure.figures import load_rgb

from .test_checks_image import build_episode


@pytest.fixture(scope="module")
def episode(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    root = tmp_path_factory.mktemp("plant_image")
    return Bundle(build_episode(root), root=root)


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.png"))
    }


def test_image_types_are_defect_types() -> None:
    assert set(IMAGE_TYPES) <= set(DEFECT_TYPES)


@pytest.mark.parametrize("defect", IMAGE_TYPES)
def test_planted_defect_changes_one_shot_and_is_found(episode: Bundle, defect: str) -> None:
    before = _digests(episode.root)
    out_dir = episode.root / "planted" / defect
    made = plant_image(episode.board, episode.root, out_dir, defect, random.Random(7))
    assert made is not None
    board, planted = made
    assert isinstance(planted, PlantedDefect)
    (shot_id,) = planted.shots
    assert planted.defect == defect and planted.level == "image" and planted.description
    assert planted.scene == next(s.scene for s in board.shots if s.id == shot_id)

    # The original files are untouched; only the planted shot's keyframe path changed, to a
    # new file under out_dir.
    after = _digests(episode.root)
    assert {k: v for k, v in after.items() if k in before} == before
    for sid, kf in board.keyframes.items():
        original = episode.board.keyframes[sid]
        if sid == shot_id:
            assert kf.path != original.path
            assert (episode.root / kf.path).resolve().is_relative_to(out_dir.resolve())
            assert kf.figures == original.figures  # the layout still says what was wanted
            new, old = load_rgb(episode.root / kf.path), load_rgb(episode.root / original.path)
            assert new.shape == old.shape and (new != old).any()
        else:
            assert kf == original
    assert board.model_dump(exclude={"keyframes"}) == episode.board.model_dump(
        exclude={"keyframes"}
    )

    findings = check_image(Bundle(board, root=episode.root))
    assert findings, planted.description
    assert {f.shot_id for f in findings} == {shot_id}
    assert all(defect in DETECTS[f.check] for f in findings), [f.check for f in findings]


def test_planting_is_reproducible(episode: Bundle, tmp_path: Path) -> None:
    a = plant_image(episode.board, episode.root, tmp_path / "a", "hair_colour", random.Random(3))
    b = plant_image(episode.board, episode.root, tmp_path / "b", "hair_colour", random.Random(3))
    assert a is not None and b is not None
    assert a[1] == b[1]
    (sid,) = a[1].shots
    pa, pb = (Path(episode.root / x[0].keyframes[sid].path) for x in (a, b))
    assert np.array_equal(load_rgb(pa), load_rgb(pb))


def test_no_qualifying_shot_gives_none(episode: Bundle, tmp_path: Path) -> None:
    one_set = episode.board.model_copy(
        update={"locations": {"Tea Room": episode.board.locations["Tea Room"]}}
    )
    one_set.shots = [s for s in one_set.shots if s.location == "Tea Room"]
    assert plant_image(one_set, episode.root, tmp_path, "wrong_location", random.Random(0)) is None
    nobody = one_set.model_copy(deep=True)
    for s in nobody.shots:
        s.blocking = []
    for kf in nobody.keyframes.values():
        kf.figures = []
    assert (
        plant_image(nobody, episode.root, tmp_path, "missing_character", random.Random(0)) is None
    )
    assert not list(tmp_path.iterdir())


def test_unknown_defect_is_a_clear_error(episode: Bundle, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="hair_colour"):
        plant_image(episode.board, episode.root, tmp_path, "eyeline_mismatch", random.Random(0))
