"""A page read with pypdfium2's raw API into the shapes `objects.layout_objects` gives (characters, image boxes,
photo frames, rulings, in pdfplumber's coordinates), at a fraction of pdfminer's cost, so that everything
downstream is the same whichever reader read the page.

How it differs from pdfplumber, and why (`tests/test_readers.py` holds both readers to it on every fixture):
- **Boxes**: left and right edges are the glyph's origin and advance (pdfium's loose box), as pdfminer's. The
  vertical extent follows pdfminer's rule, one font size high from the baseline plus the font's descent, but
  takes the descent from the font's own metrics (`FPDFFont_GetDescent`), which pdfium reads from the font file
  where the descriptor declares `Descent 0` (LibreOffice does): there the box sits lower than pdfplumber's by
  that descent, at most 0.12 em in CJK fonts; elsewhere the two agree to rounding.
- **Spaces**: pdfium inserts spaces of its own where it sees a gap (`FPDFText_IsGenerated`); they are dropped,
  since pdfminer reads only the glyphs drawn. A text object that draws only a space is left out of pdfium's
  text page; it is restored as one character at the object's origin, reaching to the next glyph on its
  baseline: an ideographic space when that is at least `IDEOGRAPHIC_SPACE_EM` wide, else a space.
- **Font names** are the base font's, without the subset tag (`BAAAAA+`).
- **Non-embedded CJK fonts**: pdfium maps some glyphs through its own CJK tables (〜 U+301C reads ～ U+FF5E,
  ˜ U+02DC reads ~); the characters agree once folded (`tests/test_readers.py: FOLDS`).
- Glyphs of vertical fonts (Identity-V) keep pdfium's loose box: pdfminer's displacement rules are not copied.
"""

from __future__ import annotations

import ctypes
from itertools import pairwise

import pypdfium2.raw as pdfium_c

from pipeline.core.layout import BOX_SLACK_PT
from pipeline.reading.cells import Ruling
from pipeline.reading.objects import photo_frames

# A restored space at least this wide (in its font's size) was an ideographic space: a space glyph is a quarter to a
# third of an em wide, an ideographic one a whole em, and letter spacing rarely adds half an em.
IDEOGRAPHIC_SPACE_EM = 0.75

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def times(m: Matrix, n: Matrix) -> Matrix:
    """The matrix of `m` then `n`, as PDF composes them (a point times m times n)."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s, e * p + f * r + t, e * q + f * s + u)


def apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def object_matrix(obj) -> Matrix:
    m = pdfium_c.FS_MATRIX()
    pdfium_c.FPDFPageObj_GetMatrix(obj, m)
    return (m.a, m.b, m.c, m.d, m.e, m.f)


def pdfium_objects(page, textpage, mediabox: tuple[float, float]) -> tuple[list[dict], list[dict], list[dict], list]:
    """Characters, image boxes, photo frames and rulings of a pypdfium2 page (`page`, `textpage` raw handles),
    as `layout_objects` gives them for the same page."""
    width, height = pdfium_c.FPDF_GetPageWidthF(page), pdfium_c.FPDF_GetPageHeightF(page)
    mb_x0, mb_y0 = mediabox

    def to_page(x: float, y: float) -> tuple[float, float]:
        return x, height - (y - mb_y0) + mb_y0

    images, shapes, rulings, text_objects = [], [], [], []
    walk_objects(page, images, shapes, rulings, text_objects, to_page)
    chars = text_chars(textpage, text_objects, to_page)
    return chars, images, photo_frames(shapes, chars, images, width, height), rulings


def walk_objects(page, images, shapes, rulings, text_objects, to_page) -> None:
    """Image boxes, frame candidates, rulings and text objects of a page, inside form XObjects too."""

    def walk(count, get, outer: Matrix) -> None:
        for k in range(count):
            obj = get(k)
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind == pdfium_c.FPDF_PAGEOBJ_FORM:
                inner = times(object_matrix(obj), outer)
                walk(
                    pdfium_c.FPDFFormObj_CountObjects(obj), lambda i, o=obj: pdfium_c.FPDFFormObj_GetObject(o, i), inner
                )
            elif kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                m = times(object_matrix(obj), outer)
                images.append(bounding(to_page(*apply(m, x, y)) for x, y in ((0, 0), (1, 0), (0, 1), (1, 1))))
            elif kind == pdfium_c.FPDF_PAGEOBJ_PATH:
                path_objects(obj, times(object_matrix(obj), outer), shapes, rulings, to_page)
            elif kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
                text_objects.append((obj, outer))

    walk(pdfium_c.FPDFPage_CountObjects(page), lambda i: pdfium_c.FPDFPage_GetObject(page, i), IDENTITY)


def bounding(points) -> dict:
    xs, ys = zip(*points, strict=True)
    return {"x0": min(xs), "top": min(ys), "x1": max(xs), "bottom": max(ys)}


def path_objects(obj, m: Matrix, shapes: list[dict], rulings: list[Ruling], to_page) -> None:
    """A drawn path's subpaths as pdfminer makes them (one curve each): straight pieces as rulings when the
    path shows (stroked, or filled with a colour other than white) and the subpath does not bend; closed
    subpaths that show as photo frame candidates (`objects.is_frame_shape`)."""
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDFPath_GetDrawMode(obj, fill, stroke)
    shows = bool(stroke.value)
    if not shows and fill.value:
        r, g, b, a = (ctypes.c_uint() for _ in range(4))
        pdfium_c.FPDFPageObj_GetFillColor(obj, r, g, b, a)
        shows = (r.value, g.value, b.value) != (255, 255, 255)
    if not shows:
        return
    subpaths: list[tuple[list, bool, bool]] = []  # points, bends, closed
    x, y = ctypes.c_float(), ctypes.c_float()
    for k in range(pdfium_c.FPDFPath_CountSegments(obj)):
        segment = pdfium_c.FPDFPath_GetPathSegment(obj, k)
        pdfium_c.FPDFPathSegment_GetPoint(segment, x, y)
        point = to_page(*apply(m, x.value, y.value))
        kind = pdfium_c.FPDFPathSegment_GetType(segment)
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO or not subpaths:
            subpaths.append(([point], False, False))
            continue
        points, bends, closed = subpaths[-1]
        points.append(point)
        bends = bends or kind == pdfium_c.FPDF_SEGMENT_BEZIERTO
        if pdfium_c.FPDFPathSegment_GetClose(segment):
            closed = True
            if points[-1] != points[0]:
                points.append(points[0])
        subpaths[-1] = (points, bends, closed)
    for points, bends, closed in subpaths:
        if closed or (len(points) > 2 and points[0] == points[-1]):
            shapes.append(bounding(points))
        if bends:
            continue
        for (xa, ya), (xb, yb) in pairwise(points):
            if abs(ya - yb) <= BOX_SLACK_PT:
                mid = (ya + yb) / 2
                rulings.append((min(xa, xb), mid, max(xa, xb), mid))
            elif abs(xa - xb) <= BOX_SLACK_PT:
                mid = (xa + xb) / 2
                rulings.append((mid, min(ya, yb), mid, max(ya, yb)))


class FontFacts:
    """Per text object: its font's name, size and descent, looked up once."""

    def __init__(self) -> None:
        self.known: dict[int, tuple[str, float, float]] = {}

    def __call__(self, obj) -> tuple[str, float, float]:
        key = ctypes.cast(obj, ctypes.c_void_p).value
        if key not in self.known:
            font = pdfium_c.FPDFTextObj_GetFont(obj)
            size, descent = ctypes.c_float(), ctypes.c_float()
            pdfium_c.FPDFTextObj_GetFontSize(obj, size)
            pdfium_c.FPDFFont_GetDescent(font, size.value, descent)
            n = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
            name = ctypes.create_string_buffer(n)
            pdfium_c.FPDFFont_GetBaseFontName(font, name, n)
            self.known[key] = (name.value.decode("utf-8", "replace"), size.value, descent.value)
        return self.known[key]


def text_chars(textpage, text_objects: list, to_page) -> list[dict]:
    """The glyphs pdfium's text page holds, generated spaces left out, and the spaces it left out put back."""
    facts = FontFacts()
    chars: list[dict] = []
    seen: set[int] = set()
    origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
    loose, m = pdfium_c.FS_RECTF(), pdfium_c.FS_MATRIX()
    n = pdfium_c.FPDFText_CountChars(textpage)
    i = 0
    while i < n:
        k, code = i, pdfium_c.FPDFText_GetUnicode(textpage, i)
        i += 1
        if pdfium_c.FPDFText_IsGenerated(textpage, k) or code in (0x0D, 0x0A):
            continue
        text = chr(code)
        if 0xD800 <= code < 0xDC00 and i < n:  # a surrogate pair: one character beyond the BMP
            text = chr(0x10000 + ((code - 0xD800) << 10) + (pdfium_c.FPDFText_GetUnicode(textpage, i) - 0xDC00))
            i += 1
        obj = pdfium_c.FPDFText_GetTextObject(textpage, k)
        seen.add(ctypes.cast(obj, ctypes.c_void_p).value)
        fontname, size, descent = facts(obj)
        pdfium_c.FPDFText_GetCharOrigin(textpage, k, origin_x, origin_y)
        pdfium_c.FPDFText_GetLooseCharBox(textpage, k, loose)
        pdfium_c.FPDFText_GetMatrix(textpage, k, m)
        chars.append(
            glyph(text, fontname, size, descent, (m.a, m.b, m.c, m.d), origin_x.value, origin_y.value, loose, to_page)
        )
    return restore_spaces(chars, text_objects, seen, facts, to_page)


def glyph(text, fontname, size, descent, abcd, ox, oy, loose, to_page) -> dict:
    """One character as pdfminer boxes it: from the origin, one advance across and the font size up from the
    descent, through the glyph's matrix; a glyph turned by its matrix keeps pdfium's loose box."""
    a, b, c, d = abcd
    matrix = (a, b, c, d, ox, oy)
    if b == 0 and c == 0 and a > 0:
        advance = (loose.right - loose.left) / a
        lower, upper = descent, descent + size
        x0, x1 = ox, ox + a * advance
        y0, y1 = sorted((oy + d * lower, oy + d * upper))
    else:
        x0, x1, y0, y1 = loose.left, loose.right, loose.bottom, loose.top
    (left, bottom), (right, top) = to_page(x0, y0), to_page(x1, y1)
    return {
        "text": text,
        "fontname": fontname,
        "size": bottom - top,
        "upright": a * d > 0 and b * c <= 0,
        "matrix": matrix,
        "x0": left,
        "top": top,
        "x1": right,
        "bottom": bottom,
    }


def inked(obj) -> bool:
    """Whether a text object draws anything: one that draws only spaces has no extent (pdfium also leaves out of its
    text page an object that repeats the one before it, as fake bold does; that one has the extent of its glyphs)."""
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    pdfium_c.FPDFPageObj_GetBounds(obj, left, bottom, right, top)
    return right.value > left.value or top.value > bottom.value


def restore_spaces(chars: list[dict], text_objects: list, seen: set[int], facts: FontFacts, to_page) -> list[dict]:
    """The text objects pdfium's text page left out that draw only spaces, each put back as one space at
    its origin, reaching to the next glyph on its baseline within an em (else a quarter em wide, a space's width).
    They go before the glyph they precede, or last, so the characters stay in drawing order."""
    restored = list(chars)
    for obj, outer in text_objects:
        if ctypes.cast(obj, ctypes.c_void_p).value in seen or inked(obj):
            continue
        fontname, size, descent = facts(obj)
        a, b, c, d, e, f = times(object_matrix(obj), outer)
        if not (b == 0 and c == 0 and a > 0) or size <= 0:
            continue
        em = size * a
        x, baseline = to_page(e, f)
        following = [ch for ch in chars if abs(ch["matrix"][5] - f) <= BOX_SLACK_PT and 0 <= ch["x0"] - x <= em]
        right = min((ch["x0"] for ch in following), default=x + em / 4)
        space = {
            "text": "\u3000" if right - x >= IDEOGRAPHIC_SPACE_EM * em else " ",
            "fontname": fontname,
            "size": size * d,
            "upright": True,
            "matrix": (a, b, c, d, e, f),
            "x0": x,
            "top": baseline - descent * d - size * d,
            "x1": right,
            "bottom": baseline - descent * d,
        }
        place = next((k for k, ch in enumerate(restored) if ch in following and ch["x0"] == right), len(restored))
        restored.insert(place, space)
    return restored
