"""Ruled cells: the straight lines drawn on a page (cell borders, the sides of a box), joined into the sides of
closed cells, and the closed cell a point lies in."""

from __future__ import annotations

import bisect
import statistics
from itertools import pairwise

from pdfminer.layout import LTCurve, LTRect

from pipeline.core.layout import BOX_SLACK_PT
from pipeline.reading.chars import chain_clusters

# A ruling: a straight line drawn on the page (a cell border, a side of a box), as (x0, top, x1, bottom) in page
# coordinates; a vertical ruling has x0 == x1, a horizontal one top == bottom.
Ruling = tuple[float, float, float, float]


def cell_borders(rulings: list[Ruling], shortest: float) -> tuple[list[tuple], list[tuple]]:
    """Horizontal rulings as (y, x0, x1) and vertical ones as (x, top, bottom), sorted by position: collinear
    pieces joined (a grid drawn cell by cell), then only those at least `shortest` long whose both ends meet a
    ruling across them, as the sides of a cell do (an underline or a stroke on its own borders nothing)."""
    horizontal = join_collinear([(top, x0, x1) for x0, top, x1, bottom in rulings if top == bottom], shortest)
    vertical = join_collinear(
        [(x0, top, bottom) for x0, top, x1, bottom in rulings if x0 == x1 and top != bottom], shortest
    )

    def meets(point: tuple[float, float], across: list[tuple]) -> bool:
        along, at = point
        k = bisect.bisect_left(across, (along - BOX_SLACK_PT,))
        while k < len(across) and across[k][0] <= along + BOX_SLACK_PT:
            if across[k][1] - BOX_SLACK_PT <= at <= across[k][2] + BOX_SLACK_PT:
                return True
            k += 1
        return False

    return (
        [h for h in horizontal if meets((h[1], h[0]), vertical) and meets((h[2], h[0]), vertical)],
        [v for v in vertical if meets((v[1], v[0]), horizontal) and meets((v[2], v[0]), horizontal)],
    )


def join_collinear(segments: list[tuple[float, float, float]], shortest: float) -> list[tuple[float, float, float]]:
    """(position, start, end) segments joined where they lie on one line (positions chained within BOX_SLACK_PT)
    and touch or overlap; those shorter than `shortest` dropped."""
    joined: list[tuple[float, float, float]] = []
    if not segments:
        return joined
    for line in chain_clusters(list(range(len(segments))), lambda i: segments[i][0], BOX_SLACK_PT):
        pos = statistics.fmean(segments[i][0] for i in line)
        pieces: list[list[float]] = []
        for start, end in sorted(segments[i][1:] for i in line):
            if pieces and start <= pieces[-1][1] + BOX_SLACK_PT:
                pieces[-1][1] = max(pieces[-1][1], end)
            else:
                pieces.append([start, end])
        joined += [(pos, start, end) for start, end in pieces if end - start >= shortest]
    return sorted(joined)


class CellFinder:
    """The closed cell a point lies in: the rectangle of the nearest rulings left, right, above and below it,
    when each of the four runs the whole length of its side (as in a grid or a drawn box); None elsewhere.
    Characters come cell by cell, so the last cell found is tried first when no ruling runs inside it."""

    def __init__(self, horizontal: list[tuple], vertical: list[tuple]) -> None:
        self.horizontal, self.vertical = horizontal, vertical
        self.ys = [h[0] for h in horizontal]
        self.xs = [v[0] for v in vertical]
        self.last: tuple | None = None

    def __call__(self, x: float, y: float) -> tuple | None:
        last = self.last
        if last and last[0] < x < last[2] and last[1] < y < last[3]:
            return last
        if not self.horizontal or not self.vertical:
            return None
        vertical, horizontal = self.vertical, self.horizontal
        k = bisect.bisect_left(self.xs, x)
        left = next((vertical[i] for i in range(k - 1, -1, -1) if vertical[i][1] <= y <= vertical[i][2]), None)
        right = next((vertical[i] for i in range(k, len(vertical)) if vertical[i][1] <= y <= vertical[i][2]), None)
        k = bisect.bisect_left(self.ys, y)
        above = next((horizontal[i] for i in range(k - 1, -1, -1) if horizontal[i][1] <= x <= horizontal[i][2]), None)
        below = next(
            (horizontal[i] for i in range(k, len(horizontal)) if horizontal[i][1] <= x <= horizontal[i][2]), None
        )
        if None in (left, right, above, below):
            return None
        x0, x1, top, bottom = left[0], right[0], above[0], below[0]
        slack = BOX_SLACK_PT
        closed = all(v[1] <= top + slack and v[2] >= bottom - slack for v in (left, right)) and all(
            h[1] <= x0 + slack and h[2] >= x1 - slack for h in (above, below)
        )
        if not closed:
            return None
        cell = (x0, top, x1, bottom)
        if self.empty(cell):
            self.last = cell
        return cell

    def empty(self, cell: tuple) -> bool:
        """Whether no ruling runs inside a cell, so that every point inside it lies in it."""
        x0, top, x1, bottom = cell
        slack = BOX_SLACK_PT
        inside_x = range(bisect.bisect_right(self.xs, x0 + slack), bisect.bisect_left(self.xs, x1 - slack))
        inside_y = range(bisect.bisect_right(self.ys, top + slack), bisect.bisect_left(self.ys, bottom - slack))
        return not (
            any(self.vertical[i][1] < bottom - slack and self.vertical[i][2] > top + slack for i in inside_x)
            or any(self.horizontal[i][1] < x1 - slack and self.horizontal[i][2] > x0 + slack for i in inside_y)
        )


def path_rulings(path: LTCurve, to_page) -> list[Ruling]:
    """The horizontal and vertical straight pieces of a drawn path (cell borders, the sides of a box), in page
    coordinates (`to_page` maps a PDF point); none from a path that shows nothing (neither stroked nor filled
    with a colour other than white) or that bends (a letter or a logo drawn as a path)."""
    if not path.stroke and (not path.fill or is_white(path.non_stroking_color)):
        return []
    if any(segment[0] in "cvy" for segment in path.original_path or ()):
        return []
    points = [to_page(x, y) for x, y in path.pts]
    if isinstance(path, LTRect):
        points.append(points[0])
    return straight_pieces(points)


def straight_pieces(points: list[tuple[float, float]]) -> list[Ruling]:
    """The horizontal and vertical pieces of a line through `points` (page coordinates), each as a ruling (both
    readers: pdfplumber's paths here, pdfium's in reading.pdfium_page)."""
    out = []
    for (xa, ya), (xb, yb) in pairwise(points):
        if abs(ya - yb) <= BOX_SLACK_PT:
            y = (ya + yb) / 2
            out.append((min(xa, xb), y, max(xa, xb), y))
        elif abs(xa - xb) <= BOX_SLACK_PT:
            x = (xa + xb) / 2
            out.append((x, min(ya, yb), x, max(ya, yb)))
    return out


def is_white(colour) -> bool:
    """Whether a fill colour is white (gray 1, RGB 1 1 1, CMYK 0 0 0 0): a white shape on a white page shows no
    border."""
    if isinstance(colour, (int, float)):
        return colour >= 1
    if isinstance(colour, (tuple, list)) and colour and all(isinstance(v, (int, float)) for v in colour):
        return all(v == 0 for v in colour) if len(colour) == 4 else all(v >= 1 for v in colour)
    return False
