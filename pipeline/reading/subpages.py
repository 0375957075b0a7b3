"""Pages within a page: a sheet that holds several pages scaled down, each in a frame of its own (a handout, a
print of several pages per sheet), found by the frames (find_subpages) and read one page after the other."""

from __future__ import annotations

from pipeline.core.layout import BOX_SLACK_PT, SUBPAGE_MIN_SIDE_SHARE, SUBPAGE_OUTSIDE_SHARE, SUBPAGE_SIZE_TOLERANCE
from pipeline.reading.objects import overlaps


def find_subpages(shapes: list[dict], chars: list[dict], width: float, height: float) -> list[dict]:
    """The frames of the pages a sheet holds, rows top to bottom and left to right in each; [] for a page of its own.

    Closed frames (`shapes`) large enough to hold a page (SUBPAGE_MIN_SIDE_SHARE), of one size (within
    SUBPAGE_SIZE_TOLERANCE), at least two, none overlapping another, each holding text, and holding all but
    SUBPAGE_OUTSIDE_SHARE of the sheet's characters between them."""
    least = SUBPAGE_MIN_SIDE_SHARE * min(width, height)
    middles = [((c["x0"] + c["x1"]) / 2, (c["top"] + c["bottom"]) / 2) for c in chars if c["text"].strip()]
    large = [
        box
        for box in shapes
        if min(box["x1"] - box["x0"], box["bottom"] - box["top"]) >= least and any(holds(box, x, y) for x, y in middles)
    ]
    for first in large:
        alike = [box for box in large if same_size(box, first)]
        frames = [box for k, box in enumerate(alike) if not any(overlaps(box, other) for other in alike[:k])]
        if len(frames) < 2:
            continue
        inside = sum(any(holds(box, x, y) for box in frames) for x, y in middles)
        if inside >= (1 - SUBPAGE_OUTSIDE_SHARE) * len(middles):
            return sorted(frames, key=lambda box: (round(box["top"]), box["x0"]))
    return []


def holds(box: dict, x: float, y: float) -> bool:
    return box["x0"] <= x <= box["x1"] and box["top"] <= y <= box["bottom"]


def same_size(a: dict, b: dict) -> bool:
    """Whether two boxes are one size, each side within SUBPAGE_SIZE_TOLERANCE of the other's."""
    return all(
        abs((a[hi] - a[lo]) - (b[hi] - b[lo])) <= SUBPAGE_SIZE_TOLERANCE * (b[hi] - b[lo])
        for lo, hi in (("x0", "x1"), ("top", "bottom"))
    )


def within(box: dict, x0: float, top: float, x1: float, bottom: float) -> bool:
    """Whether a box (x0, top, x1, bottom) lies inside a frame, not on its border (within BOX_SLACK_PT)."""
    return (
        x0 > box["x0"] + BOX_SLACK_PT
        and x1 < box["x1"] - BOX_SLACK_PT
        and top > box["top"] + BOX_SLACK_PT
        and bottom < box["bottom"] - BOX_SLACK_PT
    )
