"""Consistency evaluation of a produced episode, computed from the rendered pixels.

The package: `loading` (keyframes and their figure pixels), `identity`, `counts` and
`stability` (the three families below, scored from `inkreel.measure`), `evaluate` (the entry
point and the targets), `report` (the report's schema, written and read) and `summary` (the
terminal text).

Three families of metrics, read from `DIR/episodes/NAME/storyboard.json` and the PNGs it names.
The storyboard's layouts are used only to know *where to crop*; every score comes from pixels.

Identity (ViStoryBench-style CIDS with a weight-free descriptor)
    Crops are placed relative to the head box (union of the layout's `face` and `hair` boxes,
    height h): by default the upper body, x = head centre +/- 0.85 h, y = crown - 0.1 h ..
    crown + 2.73 h (hair, face, accessories, outfit and trim), resampled to a 48 x 80 grid. The
    same region is cut from every turnaround view of every character; its face/hair boxes come
    from re-running the renderer's figure *geometry* for that view, accepted only if the re-render
    reproduces the stored reference PNG (otherwise a proportional head box from the alpha).
    Figure pixels in a keyframe are found by comparing it with the same shot's set rendered
    *without* characters (same camera, same light); this is exact for this renderer and is checked
    per shot (if the re-render does not reproduce the keyframe outside the figures, a
    background-palette heuristic is used and the report says so).
    The keyframe crop is divided by the shot's character light (`art.lighting.character_light`):
    the known illuminant is undone the way the known camera is undone for the set.
    Descriptor = two blocks, each L2-normalised:
      * colour: joint CIE Lab histogram (L 5 x a 9 x b 9 bins, lightly smoothed) of the figure
        pixels, square-rooted (Hellinger map) so the cosine of two colour blocks is their
        Bhattacharyya coefficient;
      * shape: HOG (9 orientations, 8 px cells, 2x2 blocks, L2-Hys) of the grid's lightness with
        the background replaced by neutral grey.
    Similarity = cosine of the concatenated unit blocks / 2 (= mean of the two block cosines),
    computed only on grid cells both crops show (a close-up cuts the torso; the reference is cut
    the same way), taking the better of direct and mirrored (a character facing left is a
    mirrored turnaround view).
    cross-CIDS = mean over a character's crops of the best similarity to its turnaround views;
    self-CIDS = mean similarity over pairs of its crops from different shots seen from the same
    side (back views, with no face box, are only compared with back views). The negative control
    computes the same two numbers against every *other* character; margin = same - most similar
    other. `cross_margin_ceiling` is the margin a pixel-perfect copy of the matched reference view
    would get: how far apart the designs are under this descriptor, whatever the renderer does.

On-screen count (OCCM)
    OCCM = 100 * exp(-|D - E| / (eps + E)) per shot, E = blocked characters whose screen_x is
    inside the frame, D = figure layouts with visible_fraction above a small threshold whose body
    box actually contains figure pixels (pixels that differ from the set without characters).
    The renderer's visible_fraction is the share of the body *box* inside the frame; it does not
    see a figure covered by the set or painted over, which the figure-pixel check does.

Set stability
    For every set element of a location, the shot where it is fully in frame and least occluded
    (the widest such shot first) is its anchor: its appearance there, at its predicted box
    (`camera.project` and `pixels_per_metre`), is the template. In every other shot showing at
    least half of it (in frame and not covered), the shot is resampled around the predicted
    position to the anchor's pixels-per-metre (mirrored if the camera is reversed) and the
    template is matched there by masked normalised cross-correlation of gradient magnitude
    (robust to the time-of-day tint), with characters and nearer set elements masked out,
    searching 0.35 m around the prediction. The offset of the best match (sub-pixel)
    is the displacement after undoing the camera, reported in pixels of a 1280-wide frame shot
    with the location's reference camera (its widest shot).
"""

from __future__ import annotations

from inkreel.evals.consistency.evaluate import evaluate_episode
from inkreel.evals.consistency.report import ConsistencyReport, Params, load_report, write_report
from inkreel.evals.consistency.summary import format_report

__all__ = [
    "ConsistencyReport",
    "Params",
    "evaluate_episode",
    "format_report",
    "load_report",
    "write_report",
]
