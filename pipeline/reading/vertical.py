"""Vertical writing: whether a page is written top to bottom, and its lines, column by column."""

from __future__ import annotations

import re
from itertools import pairwise

from pipeline.core.layout import (
    BOX_SLACK_PT,
    HORIZONTAL_STEP_RIGHT_EM,
    MIN_VERTICAL_STEPS,
    VERTICAL_STEP_ACROSS_EM,
    VERTICAL_STEP_DOWN_EM,
)
from pipeline.core.records import Line
from pipeline.reading.chars import make_line


def is_rotated(c: dict) -> bool:
    """Whether a glyph is turned by more than 45 degrees (its text matrix leans more up than across)."""
    a, b = c["matrix"][0], c["matrix"][1]
    return abs(b) > abs(a)


def is_vertical(chars: list[dict]) -> bool:
    """Whether the page is written top to bottom: rotated glyphs, or upright glyphs that advance downwards."""
    if not chars:
        return False
    if sum(map(is_rotated, chars)) > len(chars) / 2:
        return True
    down = right = 0
    low, high = VERTICAL_STEP_DOWN_EM
    for a, b in pairwise(chars):
        size = a["size"]
        if size < 1.0:  # max(size, 1.0), without the call: this loop visits every glyph of every page
            size = 1.0
        dx, dy = b["x0"] - a["x0"], b["top"] - a["top"]
        if abs(dx) < VERTICAL_STEP_ACROSS_EM * size and low * size < dy < high * size:
            down += 1
        elif abs(dy) < VERTICAL_STEP_ACROSS_EM * size and 0 < dx < HORIZONTAL_STEP_RIGHT_EM * size:
            right += 1
    return down >= MIN_VERTICAL_STEPS and down > right


def vertical_lines(chars: list[dict], page_no: int) -> list[Line]:
    """Lines of a vertical page: columns read right to left, each top to bottom; for glyphs turned
    counter-clockwise (rotated Latin text), left to right, each bottom to top."""
    cols: list[list[dict]] = []
    for c in sorted(chars, key=lambda c: -c["x1"]):
        mid = (c["x0"] + c["x1"]) / 2
        for col in cols:
            if col[0]["x0"] - BOX_SLACK_PT <= mid <= col[0]["x1"] + BOX_SLACK_PT:
                col.append(c)
                break
        else:
            cols.append([c])
    upwards = sum(1 for c in chars if c["matrix"][1] > 0 and is_rotated(c)) > len(chars) / 2
    if upwards:
        cols.reverse()  # turned counter-clockwise, the next line lies to the right
    lines = []
    for col in cols:
        col.sort(key=lambda c: -c["bottom"] if upwards else c["top"])
        lines.append(make_line(col, page_no, re.sub(r" {2,}", " ", "".join(c["text"] for c in col)).strip()))
    return [line for line in lines if line.text]
