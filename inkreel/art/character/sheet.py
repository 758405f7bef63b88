"""A character's reference sheet: turnaround views, expression heads, one model sheet."""

from __future__ import annotations

from PIL import Image, ImageDraw

from inkreel.art.character.anatomy import Facing, View
from inkreel.art.character.figure import render_face_region, render_figure
from inkreel.art.fonts import find_font
from inkreel.art.geometry import BoxT
from inkreel.art.palette import INK, mix, parse_rgb
from inkreel.schemas.design import (
    CharacterDesign,
)
from inkreel.schemas.script import Emotion

_SHEET_EXPRESSIONS = [
    Emotion.neutral,
    Emotion.happy,
    Emotion.sad,
    Emotion.angry,
    Emotion.surprised,
    Emotion.afraid,
]


_VIEWS: list[tuple[str, View, Facing]] = [
    ("front", "front", "front"),
    ("three_quarter", "three_quarter", "right"),
    ("side", "side", "right"),
    ("back", "back", "front"),
]


def render_reference_sheet(
    design: CharacterDesign,
) -> tuple[dict[str, Image.Image], dict[str, Image.Image], Image.Image]:
    """Render turnaround views, expression heads and one composed model sheet (1600x900)."""
    fig_h = 640
    turnaround = {
        key: render_figure(design, height_px=fig_h, view=v, facing=fc).image
        for key, v, fc in _VIEWS
    }
    expressions = {emo.value: _expression_head(design, emo) for emo in _SHEET_EXPRESSIONS}
    sheet = Image.new("RGB", (1600, 900), (246, 241, 232))
    dr = ImageDraw.Draw(sheet)
    _title(dr, design)
    _turnaround_row(sheet, dr, turnaround)
    _expression_grid(sheet, dr, expressions)
    _palette(dr, design)
    return turnaround, expressions, sheet


def _expression_head(design: CharacterDesign, emo: Emotion) -> Image.Image:
    # Pillow's crop leaves what lies past the sprite's edge transparent.
    return render_face_region(design, height_px=1300, expression=emo, region=_head_crop)


def _head_crop(face: BoxT) -> BoxT:
    """A square-ish head crop around the face box, a little above its centre."""
    x0, y0, x1, y1 = face
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 - (y1 - y0) * 0.25
    half = (x1 - x0) * 1.05
    return (round(cx - half), round(cy - half), round(cx + half), round(cy + half * 1.1))


def _title(dr: ImageDraw.ImageDraw, design: CharacterDesign) -> None:
    accent = parse_rgb(design.accent_colour)
    dr.rectangle((0, 0, 1600, 84), fill=mix(accent, (250, 246, 238), 0.82))
    dr.line((0, 84, 1600, 84), fill=INK, width=3)
    dr.text((32, 16), design.name, fill=INK, font=find_font(design.name, 40, bold=True))
    sub = "  ·  ".join(s for s in (design.role, design.outfit) if s)
    dr.text((36, 62), sub[:120], fill=(80, 70, 80), font=find_font(sub[:120], 15))
    dr.text(
        (1568, 30),
        "MODEL SHEET",
        fill=(80, 70, 80),
        font=find_font("MODEL SHEET", 22, bold=True),
        anchor="ra",
    )


def _turnaround_row(
    sheet: Image.Image, dr: ImageDraw.ImageDraw, turnaround: dict[str, Image.Image]
) -> None:
    """Draw the turnaround views on a common ground line."""
    ground = 850
    slot = 238
    for i, (key, _, _) in enumerate(_VIEWS):
        img = turnaround[key]
        cx = 40 + slot // 2 + i * slot
        scale = min(1.0, (slot - 14) / img.width, (ground - 120) / img.height)
        im = (
            img
            if scale >= 1.0
            else img.resize(
                (max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                Image.Resampling.LANCZOS,
            )
        )
        sheet.paste(im, (round(cx - im.width / 2), ground - im.height), im)
        dr.text(
            (cx, ground + 14),
            key.replace("_", " "),
            fill=INK,
            font=find_font(key.replace("_", " "), 18),
            anchor="ma",
        )
    dr.line((40, ground, 40 + 4 * slot, ground), fill=(150, 140, 140), width=2)
    dr.line((1010, 104, 1010, 880), fill=(200, 190, 180), width=2)


def _expression_grid(
    sheet: Image.Image, dr: ImageDraw.ImageDraw, expressions: dict[str, Image.Image]
) -> None:
    cell = 180
    for i, emo in enumerate(_SHEET_EXPRESSIONS):
        col, row = i % 3, i // 3
        x, y = 1034 + col * (cell + 12), 110 + row * (cell + 44)
        dr.rectangle((x, y, x + cell, y + cell), fill=(255, 252, 247), outline=INK, width=2)
        head = expressions[emo.value]
        s = (cell - 8) / max(head.width, head.height)
        hi = head.resize((round(head.width * s), round(head.height * s)), Image.Resampling.LANCZOS)
        sheet.paste(hi, (x + (cell - hi.width) // 2, y + (cell - hi.height) // 2), hi)
        dr.text(
            (x + cell // 2, y + cell + 8),
            emo.value,
            fill=INK,
            font=find_font(emo.value, 18),
            anchor="ma",
        )


def _palette(dr: ImageDraw.ImageDraw, design: CharacterDesign) -> None:
    """Draw the design's colour swatches and its facts."""
    sw = [
        ("skin", design.skin),
        ("hair", design.hair_colour),
        ("eyes", design.eye_colour),
        ("outfit", design.outfit_colour),
        ("accent", design.accent_colour),
    ]
    y = 580
    dr.text((1034, y), "palette", fill=INK, font=find_font("palette", 18, bold=True))
    for i, (label, colour) in enumerate(sw):
        x = 1034 + i * 110
        dr.rectangle((x, y + 30, x + 90, y + 90), fill=parse_rgb(colour), outline=INK, width=2)
        dr.text((x + 45, y + 96), label, fill=INK, font=find_font(label, 15), anchor="ma")
        dr.text(
            (x + 45, y + 116), colour, fill=(90, 80, 90), font=find_font(colour, 13), anchor="ma"
        )
    facts = [
        f"build: {design.build}",
        f"height: {design.height:.2f}",
        f"hair: {design.hair_style.value}",
        "accessories: " + (", ".join(design.accessories) or "none"),
    ]
    for i, t in enumerate(facts):
        dr.text((1034, 760 + i * 24), t, fill=(60, 50, 60), font=find_font(t, 16))
