"""The consistency report as a short text for the terminal."""

from __future__ import annotations

from inkreel.evals.consistency.report import ConsistencyReport


def _f(x: float | None, nd: int = 3) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


def format_report(report: ConsistencyReport) -> str:
    """A short human-readable summary for the terminal."""
    idn = report.identity
    lines = [f"consistency  {report.project}  episode {report.episode}  ({report.shots} shots)"]
    lines.append("")
    lines.append(
        f"{'character':<16}{'crops':>6}{'cross':>8}{'self':>8}{'x-other':>9}"
        f"{'s-other':>9}{'x-margin':>10}{'s-margin':>10}"
    )
    for c in idn.characters:
        xo = max(c.cross_vs.values()) if c.cross_vs else None
        so = max(c.self_vs.values()) if c.self_vs else None
        lines.append(
            f"{c.character[:15]:<16}{c.crops:>6}{_f(c.cross_cids):>8}{_f(c.self_cids):>8}"
            f"{_f(xo):>9}{_f(so):>9}{_f(c.cross_margin):>10}{_f(c.self_margin):>10}"
        )
    lines.append(
        f"{'episode':<16}{len(idn.crops):>6}{_f(idn.cross_cids):>8}{_f(idn.self_cids):>8}"
        f"{_f(idn.cross_other):>9}{_f(idn.self_other):>9}{_f(idn.cross_margin_mean):>10}"
        f"{_f(idn.self_margin_mean):>10}"
    )
    lines.append(
        f"  worst single crop: cross margin {_f(idn.cross_margin_worst)}, self margin "
        f"{_f(idn.self_margin_worst)};  cross margin of pixel-perfect reference copies "
        f"{_f(idn.cross_margin_ceiling)}"
    )
    lines.append("")
    bad = [s for s in report.counts.shots if s.occm < 100 - 1e-6]
    lines.append(
        f"OCCM mean {_f(report.counts.mean_occm, 1)}  min {_f(report.counts.min_occm, 1)}"
        + (
            "  off: " + ", ".join(f"{s.shot_id} ({len(s.detected)}/{len(s.expected)})" for s in bad)
            if bad
            else ""
        )
    )
    lines.append("")
    lines.append(
        f"{'location':<22}{'ref shot':>10}{'meas':>6}{'skip':>6}{'unm':>5}"
        f"{'max px':>9}{'mean px':>9}"
    )
    for loc in report.set_stability.locations:
        skip = loc.skipped_partly_out_of_frame + loc.skipped_occluded + loc.skipped_no_anchor
        lines.append(
            f"{loc.location[:21]:<22}{loc.reference_shot:>10}{loc.measured:>6}{skip:>6}"
            f"{loc.unmatched:>5}{_f(loc.max_px, 2):>9}{_f(loc.mean_px, 2):>9}"
        )
    lines.append("")
    for t in report.targets:
        mark = "n/a" if t.met is None else ("met" if t.met else "NOT MET")
        lines.append(
            f"  [{mark:>7}] {t.name:<22} {_f(t.value)} {t.comparison} {t.threshold:g}"
            + (f"  ({t.note})" if t.note else "")
        )
    lines.append(f"time {report.timings_s.get('total', 0.0):.1f} s")
    return "\n".join(lines)
