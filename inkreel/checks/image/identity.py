"""Identity: each figure against every character's turnaround views (`identity`)."""

from __future__ import annotations

import threading

import numpy as np

from inkreel.checks.image.inspection import Frame, Inspection
from inkreel.checks.image.references import CharacterRefs
from inkreel.measure.figures import ShotPixels
from inkreel.measure.identity import Canon, DescCache, Descriptor, Ref, collect_identity

# The storyboard's reference descriptors are shared by threads checking shots side by side.
_SHARED_DESCRIPTORS = threading.Lock()


def check_identity(insp: Inspection, fr: Frame, refs: dict[str, CharacterRefs]) -> None:
    """Compare each figure with every character's references; report one that does not look
    like its own, or looks like someone else."""
    p = insp.p
    all_refs = [r for cr in refs.values() for r in cr.refs]
    if not all_refs:
        return
    sd = ShotPixels(fr.lit_as, fr.kf.figures, fr.rgb, fr.ink, "set_difference", fr.location)
    board = insp.board.model_copy(update={"cast": {}})
    inp = collect_identity(insp.bundle.root, board, [sd], p, [])
    cache = _ShotDescriptors(insp.shared.descriptors, all_refs)
    worst_sim, worst_margin = 1.0, 1.0
    for crop in inp.crops:
        own = [r for r in all_refs if r.character == crop.character]
        if not own or crop.character in insp.absent:
            continue
        best_own = max(((cache.sim(crop.canon, r.canon), r) for r in own), key=lambda t: t[0].sim)
        d = cache.get(crop.canon, crop.canon.valid)
        if d is None or d.coverage < p.min_coverage_ratio * best_own[0].coverage:
            continue  # occluded
        others: dict[str, float] = {}
        for r in all_refs:
            if r.character != crop.character:
                s = cache.sim(crop.canon, r.canon).sim
                others[r.character] = max(others.get(r.character, -1.0), s)
        sim = best_own[0].sim
        rival, rival_sim = max(others.items(), key=lambda t: t[1]) if others else ("", -1.0)
        margin = sim - rival_sim if others else 1.0
        worst_sim, worst_margin = min(worst_sim, sim), min(worst_margin, margin)
        floor = p.identity_min if fr.background is not None else p.identity_min_estimated
        if sim >= floor and margin >= -p.identity_margin:
            continue
        if crop.character in insp.swapped or (
            crop.character in insp.off_model and margin >= -p.identity_margin
        ):
            continue  # a palette finding already says what is off
        # Is it the designs (too alike) or the reference sheet that is at fault?
        ceiling = 1.0
        if rival:
            ceiling = 1.0 - max(
                cache.sim(best_own[1].canon, r.canon).sim for r in all_refs if r.character == rival
            )
        too_alike = bool(rival) and ceiling < p.distinct_margin
        own_sheet = refs.get(crop.character)
        off = [k for k, v in (own_sheet.off_design if own_sheet else {}).items() if v < 0.005]
        ev: dict[str, float | str] = {
            "character": crop.character,
            "similarity": sim,
            "min": floor,
            "best_view": best_own[1].view,
        }
        if rival:
            ev |= {"closest_other": rival, "other_similarity": rival_sim, "margin": margin}
        closer = f"; {rival}'s references match better ({rival_sim:.2f})" if margin < 0 else ""
        if off:
            ev["sheet_off_design"] = ",".join(off)
        fix = _identity_fix(crop.character, fr.shot.id, off, rival if too_alike else "")
        designer = bool(off) or too_alike
        insp.finding(
            "identity",
            f"{crop.character} in {fr.shot.id} does not look like their reference sheet "
            f"(similarity {sim:.2f}, floor {floor:g}){closer}.",
            fix,
            ev,
            agent="character_designer" if designer else "director",
            ratio=min(sim / floor, 1.0 + min(0.0, margin)),
        )
    insp.score("identity_similarity", worst_sim)
    insp.score("identity_margin", worst_margin)


def _identity_fix(name: str, shot_id: str, off: list[str], alike: str) -> str:
    """Who should fix it how: the sheet when it is off its design (`off`: its parts), the
    designs when they are too alike (`alike`: the other character), else the keyframe."""
    if off:
        return (
            f"Redraw {name}'s reference sheet from the design: its "
            f"{' and '.join(off)} colour is not the design's."
        )
    if alike:
        return (
            f"Make {name} and {alike} easier to tell apart: change hair, "
            "outfit or build so their reference sheets differ."
        )
    return (
        f"Re-render {name} in {shot_id} from the reference sheet "
        "(hair, face, outfit and accessories as designed)."
    )


class _ShotDescriptors(DescCache):
    """One shot's descriptor cache: its crops' own, the references' from the storyboard's
    (describing the references again for every shot was most of the identity check's time)."""

    def __init__(self, shared: DescCache, refs: list[Ref]) -> None:
        super().__init__()
        self.shared = shared
        self.refs = {id(c) for r in refs for c in (r.canon, r.canon.flipped())}

    def get(self, c: Canon, valid: np.ndarray) -> Descriptor | None:
        if id(c) in self.refs:
            with _SHARED_DESCRIPTORS:
                return self.shared.get(c, valid)
        return super().get(c, valid)
