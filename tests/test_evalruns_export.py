"""Keyframes out in ViStoryBench's generated-output layout: paths, order, reruns, errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from inkreel.evalruns.export import ExportError, export_vistorybench

TS = "20250314_092653"


def _keyframes(folder: Path, story: str, count: int, shade: int = 0) -> list[Path]:
    """`count` PNGs that tell apart their story, their shot and the take (`shade`)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(1, count + 1):
        path = folder / f"{story}-frame{number}.png"
        Image.new("RGB", (4, 4), (int(story) * 10, number * 20, shade)).save(path)
        paths.append(path)
    return paths


def _pixel(path: Path) -> tuple[int, ...]:
    with Image.open(path) as image:
        return tuple(image.convert("RGB").getpixel((0, 0)))


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_layout_and_naming(tmp_path: Path) -> None:
    stories = {
        "01": _keyframes(tmp_path / "frames", "01", 3),
        "12": _keyframes(tmp_path / "frames", "12", 2),
    }
    out = tmp_path / "outputs"
    written = export_vistorybench(stories, out, "inkreel", "inkreel-12", TS)
    base = f"inkreel/inkreel-12/en/{TS}"
    assert _files(out) == [
        f"{base}/01/shots/shot_01.png",
        f"{base}/01/shots/shot_02.png",
        f"{base}/01/shots/shot_03.png",
        f"{base}/12/shots/shot_01.png",
        f"{base}/12/shots/shot_02.png",
    ]
    assert [p.relative_to(out).as_posix() for p in written] == _files(out)
    # nothing else beside the run: no staging folder left behind
    assert sorted(p.name for p in (out / "inkreel/inkreel-12/en").iterdir()) == [TS]


def test_shot_k_is_the_kth_keyframe(tmp_path: Path) -> None:
    frames = _keyframes(tmp_path / "frames", "03", 11)
    written = export_vistorybench({"03": list(reversed(frames))}, tmp_path / "out", "m", "d", TS)
    # the number after the last "_" is the shot index, as their reader parses it
    for path in written:
        index = int(path.name.split("_")[-1].split(".")[0])
        assert _pixel(path) == _pixel(frames[len(frames) - index])
    assert written[-1].name == "shot_11.png"


def test_chinese_is_written_as_ch(tmp_path: Path) -> None:
    out = tmp_path / "out"
    written = export_vistorybench(
        {"05": _keyframes(tmp_path / "f", "05", 1)}, out, "inkreel", "base", TS, language="zh"
    )
    assert written == [out / "inkreel" / "base" / "ch" / TS / "05" / "shots" / "shot_01.png"]


def test_rerun_replaces_a_story_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_vistorybench(
        {
            "01": _keyframes(tmp_path / "a", "01", 4),
            "02": _keyframes(tmp_path / "a", "02", 2),
        },
        out,
        "m",
        "d",
        TS,
    )
    shorter = _keyframes(tmp_path / "b", "01", 2, shade=99)
    export_vistorybench({"01": shorter}, out, "m", "d", TS)
    story = out / "m" / "d" / "en" / TS / "01" / "shots"
    assert sorted(p.name for p in story.iterdir()) == ["shot_01.png", "shot_02.png"]
    assert _pixel(story / "shot_02.png") == _pixel(shorter[1])
    # a story not in the rerun is left as it was
    assert (out / "m" / "d" / "en" / TS / "02" / "shots" / "shot_02.png").is_file()
    assert sorted(p.name for p in (out / "m" / "d" / "en").iterdir()) == [TS]


def test_another_timestamp_is_another_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    frames = _keyframes(tmp_path / "f", "01", 1)
    export_vistorybench({"01": frames}, out, "m", "d", TS)
    export_vistorybench({"01": frames}, out, "m", "d", "20250315-101500")
    assert sorted(p.name for p in (out / "m" / "d" / "en").iterdir()) == [
        TS,
        "20250315-101500",
    ]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"timestamp": "2025-03-14"}, "timestamp '2025-03-14' is not a date and time"),
        ({"timestamp": "20251399_250000"}, "is not a date and time"),
        ({"method": "a/b"}, "method 'a/b' must be one folder name"),
        ({"method": ".hidden"}, "must be one folder name"),
        ({"dataset": ""}, "dataset '' must be one folder name"),
        ({"dataset": "en"}, "reads as a language"),
        ({"language": "ja"}, "language 'ja' cannot be scored by ViStoryBench"),
        ({"stories": {}}, "no story to export"),
        ({"stories": {"lamp": []}}, "story id 'lamp' is not a number"),
        ({"stories": {"01": []}}, "story 01 has no keyframe"),
    ],
)
def test_bad_arguments_write_nothing(tmp_path: Path, kwargs: dict, expected: str) -> None:
    args: dict = {
        "stories": {"01": _keyframes(tmp_path / "f", "01", 1)},
        "out": tmp_path / "out",
        "method": "m",
        "dataset": "d",
        "timestamp": TS,
    }
    args.update(kwargs)
    with pytest.raises(ExportError, match=expected):
        export_vistorybench(**args)
    assert not (tmp_path / "out").exists()


def test_missing_or_non_png_keyframe(tmp_path: Path) -> None:
    good = _keyframes(tmp_path / "f", "01", 1)[0]
    jpeg = tmp_path / "f" / "shot.jpg"
    Image.new("RGB", (4, 4)).save(jpeg, "JPEG")
    out = tmp_path / "out"
    with pytest.raises(ExportError, match=r"story 01, shot 2: cannot read keyframe .*gone\.png"):
        export_vistorybench({"01": [good, tmp_path / "gone.png"]}, out, "m", "d", TS)
    with pytest.raises(ExportError, match=r"story 01, shot 2: .*shot\.jpg is not a PNG image"):
        export_vistorybench({"01": [good, jpeg]}, out, "m", "d", TS)
    assert not out.exists()


def test_out_under_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    frames = {"01": _keyframes(tmp_path / "f", "01", 1)}
    with pytest.raises(ExportError, match="is a file"):
        export_vistorybench(frames, blocker, "m", "d", TS)
    with pytest.raises(ExportError, match=r"cannot write to .*file/out"):
        export_vistorybench(frames, blocker / "out", "m", "d", TS)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_out(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o500)
    try:
        with pytest.raises(ExportError, match="cannot write to"):
            export_vistorybench({"01": _keyframes(tmp_path / "f", "01", 1)}, out, "m", "d", TS)
    finally:
        out.chmod(0o700)
