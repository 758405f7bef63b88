"""Identity scores (CIDS): each character's crops against its references and against others."""

from __future__ import annotations

import math

import numpy as np

from inkreel.evals.consistency.report import CharacterIdentity, CropScore, IdentityReport, Params
from inkreel.evals.consistency.scoring import mean, rounded
from inkreel.measure.identity import REGIONS, Canon, Crop, DescCache, IdentityInputs, Match, Ref


class _Similarities:
    """The descriptor similarities one evaluation needs, each computed once."""

    def __init__(self, inp: IdentityInputs) -> None:
        self.inp = inp
        self.cache = DescCache()
        self.crops: list[Crop] = []  # the crops kept (not occluded)
        self._pairs: dict[tuple[int, int], Match] = {}
        self._ceiling: dict[tuple[str, str], float] = {}

    def best_ref(self, canon: Canon, name: str) -> tuple[Match, Ref] | None:
        """The reference view of `name` most similar to `canon`, with the match."""
        best: tuple[Match, Ref] | None = None
        for r in self.inp.refs:
            if r.character == name:
                m = self.cache.sim(canon, r.canon)
                if best is None or m.sim > best[0].sim:
                    best = (m, r)
        return best

    @staticmethod
    def comparable(a: Crop, b: Crop) -> bool:
        """Crops of different shots seen from the same side."""
        return a is not b and a.shot_id != b.shot_id and a.face == b.face

    def pair(self, a: Crop, b: Crop) -> Match:
        key = (id(a), id(b)) if id(a) < id(b) else (id(b), id(a))
        if key not in self._pairs:
            self._pairs[key] = self.cache.sim(a.canon, b.canon)
        return self._pairs[key]

    def self_mean(self, c: Crop, name: str) -> float | None:
        """Mean similarity of `c` to the comparable kept crops of `name`."""
        return mean(
            [
                self.pair(c, o).sim
                for o in self.crops
                if o.character == name and self.comparable(c, o)
            ]
        )

    def ref_ceiling(self, ref: Ref) -> float | None:
        """What a pixel-perfect copy of the reference view would score against the others."""
        key = (ref.character, ref.view)
        if key not in self._ceiling:
            others = [
                self.cache.sim(ref.canon, r.canon).sim
                for r in self.inp.refs
                if r.character != ref.character
            ]
            self._ceiling[key] = 1.0 - max(others) if others else float("nan")
        v = self._ceiling[key]
        return None if math.isnan(v) else v


_Blocks = dict[str, list[tuple[float, float, float, float]]]


def score_identity(inp: IdentityInputs, params: Params) -> IdentityReport:
    """Score every kept crop and every character (cross- and self-CIDS, margins, ceilings)."""
    names = sorted({r.character for r in inp.refs} | {c.character for c in inp.crops})
    sims = _Similarities(inp)
    kept = _unoccluded(sims, params)
    sims.crops = [c for c, _, _ in kept]
    blocks: _Blocks = {}
    ceilings: dict[str, list[float]] = {}
    scores = [
        _crop_score(sims, names, crop, own, own_ref, blocks, ceilings)
        for crop, own, own_ref in kept
    ]
    chars = [_character(sims, n, names, scores, blocks, ceilings) for n in names]
    return _report(inp, params, chars, scores)


def _unoccluded(sims: _Similarities, params: Params) -> list[tuple[Crop, Match, Ref]]:
    """Crops showing a fair share of the figure their best own view shows, with that match."""
    kept: list[tuple[Crop, Match, Ref]] = []
    for c in sims.inp.crops:
        found = sims.best_ref(c.canon, c.character)
        if found is None:
            continue
        d = sims.cache.get(c.canon, c.canon.valid)
        if d is None or d.coverage < params.min_coverage_ratio * found[0].coverage:
            sk = sims.inp.skipped.setdefault(c.character, {})
            sk["occluded"] = sk.get("occluded", 0) + 1
            continue
        kept.append((c, found[0], found[1]))
    return kept


def _crop_score(
    sims: _Similarities,
    names: list[str],
    c: Crop,
    own: Match,
    own_ref: Ref,
    blocks: _Blocks,
    ceilings: dict[str, list[float]],
) -> CropScore:
    """One crop against its own references and crops and everyone else's; adds its block
    cosines and ceiling to `blocks` and `ceilings`."""
    other_best = {n: b for n in names if n != c.character and (b := sims.best_ref(c.canon, n))}
    others = {n: b[0].sim for n, b in other_best.items()}
    sm = sims.self_mean(c, c.character)
    so = {n: v for n in names if n != c.character and (v := sims.self_mean(c, n)) is not None}
    if other_best:
        near = max(other_best.values(), key=lambda b: b[0].sim)[0]
        blocks.setdefault(c.character, []).append((own.colour, own.shape, near.colour, near.shape))
    ceil = sims.ref_ceiling(own_ref)
    if ceil is not None:
        ceilings.setdefault(c.character, []).append(ceil)
    return CropScore(
        shot_id=c.shot_id,
        character=c.character,
        side="face" if c.face else "back",
        head_px=c.head_px,
        best_view=own_ref.view + ("~" if own.mirrored else ""),
        cross=round(own.sim, 4),
        cross_others={k: round(v, 4) for k, v in others.items()},
        cross_margin=rounded(own.sim - max(others.values())) if others else None,
        cross_margin_ceiling=rounded(ceil),
        self_mean=rounded(sm),
        self_others={k: round(v, 4) for k, v in so.items()},
        self_margin=rounded(sm - max(so.values())) if sm is not None and so else None,
    )


def _character(
    sims: _Similarities,
    n: str,
    names: list[str],
    scores: list[CropScore],
    blocks: _Blocks,
    ceilings: dict[str, list[float]],
) -> CharacterIdentity:
    """One character's scores: its crops against its references, each other and the others."""
    crops = sims.crops
    comparable, psim = sims.comparable, sims.pair
    mine = [s for s in scores if s.character == n]
    own_crops = [c for c in crops if c.character == n]
    pairs = [
        psim(a, b).sim
        for i, a in enumerate(own_crops)
        for b in own_crops[i + 1 :]
        if comparable(a, b)
    ]
    cross_vs = {
        o: round(float(np.mean([s.cross_others[o] for s in mine])), 4)
        for o in names
        if o != n and mine and all(o in s.cross_others for s in mine)
    }
    self_vs: dict[str, float] = {}
    for o in names:
        if o == n:
            continue
        sims_o = [
            psim(a, b).sim
            for a in own_crops
            for b in crops
            if b.character == o and comparable(a, b)
        ]
        if sims_o:
            self_vs[o] = round(float(np.mean(sims_o)), 4)
    cross = mean([s.cross for s in mine])
    selfc = mean(pairs)
    bl = np.mean(blocks[n], axis=0) if blocks.get(n) else None
    return CharacterIdentity(
        character=n,
        crops=len(mine),
        skipped=dict(sorted(sims.inp.skipped.get(n, {}).items())),
        cross_cids=rounded(cross),
        self_cids=rounded(selfc),
        self_pairs=len(pairs),
        cross_vs=cross_vs,
        self_vs=self_vs,
        cross_margin=(
            rounded(cross - max(cross_vs.values())) if cross is not None and cross_vs else None
        ),
        self_margin=(
            rounded(selfc - max(self_vs.values())) if selfc is not None and self_vs else None
        ),
        cross_margin_ceiling=rounded(mean(ceilings.get(n, []))),
        blocks=(
            {
                "own_colour": round(float(bl[0]), 4),
                "own_shape": round(float(bl[1]), 4),
                "other_colour": round(float(bl[2]), 4),
                "other_shape": round(float(bl[3]), 4),
            }
            if bl is not None
            else {}
        ),
    )


def _report(
    inp: IdentityInputs, params: Params, chars: list[CharacterIdentity], scores: list[CropScore]
) -> IdentityReport:
    """The episode's identity report: the characters' and crops' scores and their means."""

    def agg(vals: list[float | None], fn: str = "mean") -> float | None:
        xs = [v for v in vals if v is not None]
        if not xs:
            return None
        return rounded(float(np.mean(xs)) if fn == "mean" else float(np.min(xs)))

    half, top, bottom, (gw, gh) = REGIONS[params.identity_region]
    return IdentityReport(
        region=params.identity_region,
        descriptor=(
            f"{params.identity_region} crop (head box = layout face+hair; x +/-{half}h, "
            f"y {top}h..{bottom}h) resampled to {gw}x{gh}; figure pixels = differ from the "
            "empty set; character light undone; [sqrt Lab histogram 5x9x9 | HOG 9 orient. "
            "8px cells of lightness on grey], each block L2-normalised; similarity = mean of "
            "block cosines on the cells both crops show, best of direct/mirrored"
        ),
        reference_geometry=inp.geometry,
        characters=chars,
        crops=scores,
        cross_cids=agg([c.cross_cids for c in chars]),
        self_cids=agg([c.self_cids for c in chars]),
        cross_other=agg([v for c in chars for v in c.cross_vs.values()]),
        self_other=agg([v for c in chars for v in c.self_vs.values()]),
        cross_margin_mean=agg([c.cross_margin for c in chars]),
        cross_margin_worst=agg([s.cross_margin for s in scores], "min"),
        self_margin_mean=agg([c.self_margin for c in chars]),
        self_margin_worst=agg([s.self_margin for s in scores], "min"),
        cross_margin_ceiling=agg([c.cross_margin_ceiling for c in chars]),
    )
