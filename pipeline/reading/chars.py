"""Characters to rows and lines: which characters read well, rows and the fragments columns cut them into, a
fragment's text and box, and fake-bold doubles dropped."""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from functools import lru_cache
from itertools import pairwise
from operator import itemgetter

from pipeline.core.layout import COLUMN_GAP_EM, DEDUPE_TOLERANCE_PT, ROW_LOOKBACK, SIZE_STEP, WORD_GAP_EM
from pipeline.core.records import Line
from pipeline.core.text import is_cjk, is_unmapped


def readable_share(chars: list[dict]) -> float:
    """Share of characters that are printable ASCII or Japanese script: low for (cid:N) runs and for the
    Latin-1 gibberish a reader makes of a font without a Unicode map."""
    if not chars:
        return 0.0
    return sum(1 for c in chars if is_readable(c["text"])) / len(chars)


@lru_cache(maxsize=8192)
def is_readable(text: str) -> bool:
    """Whether a character's text is printable ASCII or Japanese script, not an unmapped glyph; remembered, as a
    page repeats its characters and readable_share is asked of every page."""
    return not is_unmapped(text) and all(" " <= ch <= "~" or is_cjk(ch) for ch in text)


def group_rows(chars: list[dict]) -> list[list[dict]]:
    """Cluster characters into rows: a character joins a recent row its vertical middle falls in."""
    rows: list[list[dict]] = []
    bounds: list[tuple[float, float]] = []  # top, bottom of each row's first character
    for c in sorted(chars, key=itemgetter("top", "x0")):
        mid = (c["top"] + c["bottom"]) / 2
        for k in range(len(rows) - 1, max(len(rows) - 1 - ROW_LOOKBACK, -1), -1):
            top, bottom = bounds[k]
            if top <= mid <= bottom:
                rows[k].append(c)
                break
        else:
            rows.append([c])
            bounds.append((c["top"], c["bottom"]))
    return rows


def split_row(row: list[dict]) -> list[list[dict]]:
    """Split one row into fragments at column gaps, so side-by-side columns stay apart, and where text of another
    size follows a space (a caption set level with a line of the text beside it is not one line with it)."""
    row = sorted(row, key=itemgetter("x0"))
    fragments = [[row[0]]]
    for prev, c in pairwise(row):
        gap = c["x0"] - prev["x1"]
        if wider(gap, COLUMN_GAP_EM, prev["size"], c["size"]) or another_size_apart(prev, c, gap):
            fragments.append([c])
        else:
            fragments[-1].append(c)
    return fragments


def another_size_apart(prev: dict, c: dict, gap: float) -> bool:
    """Whether two neighbours on a row are of sizes more than SIZE_STEP apart, with at least a word space
    (WORD_GAP_EM of the smaller size) between them; spaces count for neither side."""
    small, large = sorted((prev["size"], c["size"]))
    return (
        large > small * (1 + SIZE_STEP)
        and gap > WORD_GAP_EM * small
        and prev["text"].strip() != ""
        and c["text"].strip() != ""
    )


def wider(gap: float, em: float, *sizes: float) -> bool:
    """Whether a gap between neighbours is wider than `em` times the larger of their sizes, a size under 1 pt counting
    as 1 pt: a gap of `em` points or less never is, which answers for nearly every pair without the max."""
    return gap > em and gap > em * max(*sizes, 1.0)


def join_chars(chars: list[dict]) -> str:
    """Text of a fragment: Japanese joined without spaces, a space only between spaced Latin words."""
    out: list[str] = []
    prev = None
    for c in chars:
        text = c["text"]
        if prev is not None and out and not out[-1].endswith(" ") and text != " ":
            wide = wider(c["x0"] - prev["x1"], WORD_GAP_EM, c["size"])
            if wide and not (is_cjk(prev["text"][-1]) or is_cjk(text[0])):
                out.append(" ")
        out.append(text)
        prev = c
    text = "".join(out)
    return (re.sub(r" {2,}", " ", text) if "  " in text else text).strip()


def make_line(chars: list[dict], page_no: int, text: str | None = None) -> Line:
    """A positioned line from its characters (their text joined as a horizontal line unless given)."""
    sizes = [round(c["size"], 1) for c in chars if c["text"].strip()] or [round(chars[0]["size"], 1)]
    fonts = Counter(c.get("fontname", "") for c in chars)
    return Line(
        page=page_no,
        text=join_chars(chars) if text is None else text,
        x0=round(min(c["x0"] for c in chars), 2),
        top=round(min(c["top"] for c in chars), 2),
        x1=round(max(c["x1"] for c in chars), 2),
        bottom=round(max(c["bottom"] for c in chars), 2),
        size=statistics.median(sizes),
        fontname=fonts.most_common(1)[0][0],
    )


def dedupe_chars(chars: list[dict], tolerance: float = DEDUPE_TOLERANCE_PT) -> list[dict]:
    """Drop fake-bold doubles: pdfplumber's `dedupe_chars` (same text, font and size, chained within
    `tolerance` vertically then horizontally, first by position survives, original order), without its
    final sort by `list.index`, quadratic in the characters of a page."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, c in enumerate(chars):
        groups[(c["upright"], c["text"], c["fontname"], c["size"])].append(i)
    keep = []
    tops, lefts = [c["top"] for c in chars], [c["x0"] for c in chars]
    for members in groups.values():
        if len(members) == 1:  # most characters of a page: nothing to chain
            keep.append(members[0])
            continue
        for row in chain_clusters(members, tops.__getitem__, tolerance):
            if len(row) == 1:  # a character that recurs on other rows only
                keep.append(row[0])
                continue
            for cluster in chain_clusters(row, lefts.__getitem__, tolerance):
                keep.append(min(cluster, key=lambda i: (tops[i], lefts[i], i)))
    if len(keep) == len(chars):
        return chars
    return [chars[i] for i in sorted(keep)]


def chain_clusters(items: list[int], value, tolerance: float) -> list[list[int]]:
    """Items sorted by `value`, cut wherever two neighbours are more than `tolerance` apart."""
    ordered = sorted(items, key=value)
    clusters = [ordered[:1]]
    for prev, item in pairwise(ordered):
        if value(item) - value(prev) <= tolerance:
            clusters[-1].append(item)
        else:
            clusters.append([item])
    return clusters
