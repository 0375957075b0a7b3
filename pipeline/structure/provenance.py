"""Where a plan, a pillar or a project stands: one region per page, the box around what was read of it there."""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.core.records import Box, Line, Region

Spot = tuple[int, Box | Line]  # a page and a box on it (a line is one)


def spots_of(lines: Iterable[Line]) -> list[Spot]:
    """Each line as a spot on its page."""
    return [(line.page, line) for line in lines]


def regions_of(spots: Iterable[Spot]) -> list[Region]:
    """One region per page, around every box of `spots` on it, in page order; coordinates to a hundredth of a point,
    as a page record keeps them."""
    boxes: dict[int, list[float]] = {}
    for page, box in spots:
        held = boxes.setdefault(page, [box.x0, box.top, box.x1, box.bottom])
        held[:] = min(held[0], box.x0), min(held[1], box.top), max(held[2], box.x1), max(held[3], box.bottom)
    return [Region(page, *(round(v, 2) for v in box)) for page, box in sorted(boxes.items())]
