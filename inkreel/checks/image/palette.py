"""Palette: hair, skin and outfit against the design colours (`hair_colour`, `skin_colour`,
`outfit_colour`), and two figures wearing each other's outfits (`outfit_swap`)."""

from __future__ import annotations

import numpy as np

from inkreel.checks.image.inspection import Frame, Inspection
from inkreel.checks.image.references import CharacterRefs, reference_parts
from inkreel.measure.colour import INK_HEX, delta_e00, part_delta_e
from inkreel.measure.figures import box_slices
from inkreel.schemas import Box, FigureLayout


def check_palette(insp: Inspection, fr: Frame, refs: dict[str, CharacterRefs]) -> None:
    p = insp.p
    worst = 0.0
    outfits: dict[str, tuple[np.ndarray, float]] = {}
    for f in fr.kf.figures:
        design = insp.design(f.character)
        if design is None or f.visible_fraction < p.count_min_visible or f.character in insp.absent:
            continue
        parts: list[tuple[str, Box | None, str, float]] = [
            ("skin", f.face, design.skin, p.skin_delta_e),
            ("outfit", f.outfit, design.outfit_colour, p.outfit_delta_e),
        ]
        if "hair" in reference_parts(design):
            parts.insert(0, ("hair", f.hair, design.hair_colour, p.hair_delta_e))
        for part, box, colour, limit in parts:
            px = _part_pixels(insp, fr, f, box)
            if px is None:
                continue
            d = part_delta_e(px, fr.lights, colour, _quantile(insp, fr, colour))
            worst = max(worst, d)
            if part == "outfit":
                outfits[f.character] = (px, d)
                continue
            if d > limit:
                _colour_finding(insp, fr, f.character, part, colour, d, limit, refs)
    # Outfits: a pair each wearing the other's colour is a swap, anything else drift.
    swapped: set[str] = set()
    names = list(outfits)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if a in swapped or b in swapped:
                continue
            da, db = outfits[a][1], outfits[b][1]
            if da <= p.outfit_delta_e or db <= p.outfit_delta_e:
                continue
            ca, cb = insp.design(a), insp.design(b)
            assert ca is not None and cb is not None
            ab = part_delta_e(
                outfits[a][0], fr.lights, cb.outfit_colour, _quantile(insp, fr, cb.outfit_colour)
            )
            ba = part_delta_e(
                outfits[b][0], fr.lights, ca.outfit_colour, _quantile(insp, fr, ca.outfit_colour)
            )
            if ab <= p.outfit_delta_e and ba <= p.outfit_delta_e:
                swapped |= {a, b}
                insp.swapped |= {a, b}
                insp.finding(
                    "outfit_swap",
                    f"{a} and {b} wear each other's outfits in {fr.shot.id}: {a}'s is "
                    f"ΔE00 {ab:.1f} from {b}'s {cb.outfit_colour} (own {da:.1f}), {b}'s is "
                    f"ΔE00 {ba:.1f} from {a}'s {ca.outfit_colour} (own {db:.1f}).",
                    f"Re-render {fr.shot.id} with each character's own outfit: {a} in "
                    f"{ca.outfit_colour}, {b} in {cb.outfit_colour}.",
                    {
                        "characters": f"{a},{b}",
                        f"delta_e_{a}_own": da,
                        f"delta_e_{a}_as_{b}": ab,
                        f"delta_e_{b}_own": db,
                        f"delta_e_{b}_as_{a}": ba,
                    },
                    ratio=p.outfit_delta_e / max(da, db),
                )
    for name, (_, d) in outfits.items():
        if name not in swapped and d > p.outfit_delta_e:
            design = insp.design(name)
            assert design is not None
            _colour_finding(
                insp, fr, name, "outfit", design.outfit_colour, d, p.outfit_delta_e, refs
            )
    insp.score("palette_delta_e", worst)


def _quantile(insp: Inspection, fr: Frame, colour: str) -> float:
    """The share of a part that must match: more when line art has the part's colour.

    Without a reliable figure mask (a keyframe the set render does not reproduce) the box
    holds background too, so only the base share is asked for.
    """
    if fr.background is not None and delta_e00(colour, INK_HEX) < insp.p.ink_like_delta_e:
        return insp.p.ink_like_quantile
    return insp.p.palette_quantile


def _part_pixels(
    insp: Inspection, fr: Frame, f: FigureLayout, box: Box | None
) -> np.ndarray | None:
    if box is None or box.area == 0:
        return None
    sl = box_slices(box, fr.size)
    # Without the set to tell figure from background, the closest pixels of the whole box
    # are the part's: the background can only hide a drift there, not invent one.
    m = fr.ink[sl].copy() if fr.background is not None else np.ones(fr.ink[sl].shape, bool)
    for g in fr.kf.figures:
        if g is f:
            continue
        gs = box_slices(g.body, fr.size)
        m[
            max(0, gs[0].start - sl[0].start) : max(0, gs[0].stop - sl[0].start),
            max(0, gs[1].start - sl[1].start) : max(0, gs[1].stop - sl[1].start),
        ] = False
    if m.sum() < insp.p.min_part_px:
        return None
    px = fr.rgb[sl][m]
    if len(px) > 6000:
        px = px[:: len(px) // 6000]
    return px


def _colour_finding(
    insp: Inspection,
    fr: Frame,
    name: str,
    part: str,
    colour: str,
    d: float,
    limit: float,
    refs: dict[str, CharacterRefs],
) -> None:
    insp.off_model.add(name)
    label = {"hair": "hair", "skin": "skin", "outfit": "outfit"}[part]
    ref = refs.get(name)
    sheet_off = ref is not None and ref.off_design.get(part, 1.0) < 0.005
    if sheet_off:
        fix = (
            f"Redraw {name}'s reference sheet: its {label} is not the design's {colour}, "
            "so shots drawn from it drift."
        )
    else:
        fix = f"Re-render {name} in {fr.shot.id} from the reference sheet: {label} colour {colour}."
    evidence: dict[str, float | str] = {
        "character": name,
        "part": part,
        "delta_e00": d,
        "limit": limit,
        "expected": colour,
    }
    if sheet_off:
        evidence["sheet_off_design"] = part
    insp.finding(
        f"{part}_colour",
        f"{name}'s {label} in {fr.shot.id} is off-model: ΔE00 {d:.1f} from the design's "
        f"{colour} (limit {limit:g}).",
        fix,
        evidence,
        agent="character_designer" if sheet_off else "director",
        ratio=limit / d,
    )
