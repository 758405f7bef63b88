"""Image-level continuity checks: the set, the figures, their identity and palette, from pixels.

    findings = check_image(bundle)                # every shot with a keyframe
    findings = check_image(bundle, ["s02-003"])   # only the shots being repaired
    scores = shot_scores(bundle, "s02-003")        # before/after numbers for the repair loop
    results = check_shots(bundle, ids, on_shot=f)  # findings and numbers of many, with progress

The storyboard's layout only says *where to look*; every finding comes from keyframe pixels.

The background first
    The keyframe is compared with the same shot's set rendered without characters (same camera,
    same light; `inkreel.measure.figures`, which the consistency evaluation shares; for this
    renderer it is exact).
    The *set mismatch* is the share of pixels outside the figure boxes (and outside their mirror
    images) that differ by more than `diff_threshold`. Above `set_match` the frame is also
    compared with what a whole-frame mistake would give: the set mirrored (`mirrored_frame`,
    a flipped keyframe: line_flip), the shot's set at each other time of day (`wrong_light`:
    day_night) and the shot's camera in each other location of the storyboard (`wrong_set`:
    wrong_location; in a storyboard of more than nine sets, the eight used nearest the shot's
    scene). A set that is its own mirror image cannot tell a flipped frame, so then the
    figures do: ink where the layout's mirror image puts them and none where the layout does is a
    flipped frame too. An alternative that at least halves the mismatch names the cause, and the
    figure checks then run against it (the frame un-mirrored; the other set and its light), so one
    mistake is reported once and not again as a dozen palette and count findings. A frame that
    no candidate reproduces on more than half its background was not drawn by this renderer (a
    storyboard made elsewhere): the pixel-difference checks (count, set, whole frame) are skipped
    for it, figure pixels come from the background-palette heuristic (`inkreel.measure.figures`),
    and a note in `bundle.notes` says so.

Figures
    Figure pixels are those differing from the matched set inside the layout's body boxes.
    * `figure_missing`: a layout figure that should be visible (`count_min_visible`) whose body box
      (the part no other figure's box covers) holds almost no figure pixels: it was not drawn,
      or painted out.
    * `figure_extra`: a connected blob of changed pixels outside every figure box, tall and large
      enough to be a person at the shot's scale, that no displaced set element explains.
    * `hair_colour`, `skin_colour`, `outfit_colour`: in the layout's hair, face and outfit boxes,
      the figure pixels are divided by the shot's character light (`character_light`)
      and compared with the design colour in CIEDE2000. Shading, line art, eyes and trim share the
      boxes, so the part's colour distance is the `palette_quantile` quantile of the per-pixel
      distances: the part matches when that share of its pixels is close to the design colour
      (half of them for a colour as dark as the line art, which would otherwise match alone).
    * `outfit_swap`: two figures of a shot whose outfits are each off their own design and each
      on the other's.
    * `identity`: the identity descriptor of `inkreel.measure.identity` (colour histogram + HOG
      of the upper body, light undone) of each figure crop against every character's turnaround
      views: flagged when the best own similarity is below `identity_min`, or another
      character's references are closer by more than `identity_margin`; a figure with a palette
      finding is only reported again when it looks like someone else, and never when an outfit
      swap explains it. When the turnaround itself is off its design, or the designs are too
      alike for the descriptor to tell apart, the finding goes to the character designer instead
      of the director.

The set
    For each set element whose box (outside the figures) changed, the element's own pixels (what
    the set render loses when the element is taken out of the set) are searched for around its
    place (`inkreel.measure.matching`'s masked normalised cross-correlation, on lightly blurred
    grey, figures and nearer elements masked out). Three stories are then compared on the pixels
    around it, each rendered by the renderer: the element in place, moved by the offset found
    (what it now uncovers and what now hides it come out right) and gone. A move that explains
    at least half of what the in-place set does not is `set_element_moved`, with the offset; a
    frame the set without the element explains is `set_element_missing`; an element that changed
    otherwise with no figure in front of it, `set_element_changed` (a big element moved behind
    nearer ones is not always found again). Next to a changed element, a changed shape only
    counts as an extra figure if it stands on the floor like the characters do.

The package: `background` (the set and whole-frame mistakes), `figures` (count and extra
figures), `set_elements`, `palette` and `identity` are the check families, each adding to an
`inspection.Inspection` of one shot; `run` runs them over shots; `thresholds` holds DETECTS and
the thresholds; `renders`, `references` and `shared` what the checks compare with.

`shot_scores` gives the same measurements as numbers for the repair loop's before/after; its
"score" is 1.0 when every check passes and lower the further the worst check is past its
threshold. Results are cached per shot (keyed by the keyframe's bytes and everything the checks
read), as are the set renders, so re-checking an unchanged shot costs nothing.
"""

from inkreel.checks.image.renders import set_render
from inkreel.checks.image.run import ShotCheck, check_image, check_shots, shot_scores
from inkreel.checks.image.thresholds import DETECTS, ImageThresholds

__all__ = [
    "DETECTS",
    "ImageThresholds",
    "ShotCheck",
    "check_image",
    "check_shots",
    "set_render",
    "shot_scores",
]
