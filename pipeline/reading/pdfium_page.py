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
  ˜ U+02DC reads ~); the characters agree once folded (`tests/test_readers.py: FOLDS`). Such characters are
  counted as doubts, as are text objects pdfium left out for want of glyph widths (`extent`): `extract` has
  pdfplumber read such a page again.
- Glyphs of vertical fonts (Identity-V) keep pdfium's loose box: pdfminer's displacement rules are not copied.
- Pages turned by /Rotate are not turned here (pdfminer turns them): `extract` counts them as doubts too.

Speed: four calls into pdfium a glyph (character, text object, origin, loose box; whether it was generated only
for a space), the rest once per text object (`Facts`), and left-out spaces placed with one sort (`restore_spaces`).
"""

from __future__ import annotations

import ctypes
from bisect import bisect_left, bisect_right

import pypdfium2.raw as pdfium_c

from pipeline.core.layout import BOX_SLACK_PT
from pipeline.reading.cells import Ruling, straight_pieces

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


def page_coordinates(height: float, mb_y0: float):
    """The point of a page in pdfplumber's coordinates (y down from the top) of a point in PDF's (y up from the
    media box's foot)."""

    def to_page(x: float, y: float) -> tuple[float, float]:
        return x, height - (y - mb_y0) + mb_y0

    return to_page


def pdfium_objects(
    page, textpage, mediabox: tuple[float, float]
) -> tuple[list[dict], list[dict], list[dict], list, int]:
    """Characters, image boxes, closed shapes and rulings of a pypdfium2 page (`page`, `textpage` raw handles),
    as `layout_objects` gives them for the same page; and how many doubts there are about pdfium's reading of the
    page, where pdfminer reads better: CJK characters in a font that is not embedded, glyphs pdfium could not place
    (the module docstring)."""
    height = pdfium_c.FPDF_GetPageHeightF(page)
    mb_y0 = mediabox[1]
    to_page = page_coordinates(height, mb_y0)
    images, shapes, rulings, text_objects = [], [], [], []
    walk_objects(page, images, shapes, rulings, text_objects, to_page)
    chars, doubts = text_chars(textpage, text_objects, height, mb_y0)
    return chars, images, shapes, rulings, doubts


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
        if not bends:
            rulings += straight_pieces(points)


# Characters from U+2E80 on are CJK (radicals, CJK punctuation such as 〜, kana, ideographs, full-width forms); a
# font that draws one of them without being embedded is a CJK font pdfium substitutes, mapping its glyphs through
# its own CJK tables (the module docstring).
CJK_FIRST = 0x2E80


def function(prototype, restype, *argtypes):
    """A second ctypes prototype of a pdfium function, one that takes and returns pointers as plain ints: a text
    object's address then keys a dict directly, where casting each pointer costs as much as the call."""
    return ctypes.CFUNCTYPE(restype, *argtypes)(ctypes.cast(prototype, ctypes.c_void_p).value)


VOID, FLOAT = ctypes.c_void_p, ctypes.POINTER(ctypes.c_float)
get_text_object = function(pdfium_c.FPDFText_GetTextObject, VOID, VOID, ctypes.c_int)
get_font = function(pdfium_c.FPDFTextObj_GetFont, VOID, VOID)
get_font_size = function(pdfium_c.FPDFTextObj_GetFontSize, ctypes.c_int, VOID, FLOAT)
get_descent = function(pdfium_c.FPDFFont_GetDescent, ctypes.c_int, VOID, ctypes.c_float, FLOAT)
get_font_name = function(pdfium_c.FPDFFont_GetBaseFontName, ctypes.c_size_t, VOID, ctypes.c_char_p, ctypes.c_size_t)
is_embedded = function(pdfium_c.FPDFFont_GetIsEmbedded, ctypes.c_int, VOID)
MATRIX = ctypes.POINTER(pdfium_c.FS_MATRIX)
get_char_matrix = function(pdfium_c.FPDFText_GetMatrix, ctypes.c_int, VOID, ctypes.c_int, MATRIX)


def address(pointer) -> int:
    return ctypes.cast(pointer, ctypes.c_void_p).value


class Facts:
    """Per text object, looked up once: its font's name, size and descent, whether the font is embedded, and the
    object's matrix (the same for each of its glyphs: pdfium gives every glyph its object's text matrix). A
    font's name and whether it is embedded are looked up once a font, its descent once a font and size: pages
    of short text objects (a word or a glyph each) share a few fonts."""

    def __init__(self) -> None:
        self.known: dict[int, tuple[str, float, float, bool, Matrix | None]] = {}
        self.fonts: dict[int, tuple[str, bool]] = {}
        self.descents: dict[tuple[int, float], float] = {}
        self.number = ctypes.c_float()
        self.m = pdfium_c.FS_MATRIX()

    def __call__(self, key: int) -> tuple[str, float, float, bool, Matrix | None]:
        if key in self.known:
            return self.known[key]
        font = get_font(key)
        get_font_size(key, self.number)
        size = self.number.value
        if font not in self.fonts:
            n = get_font_name(font, None, 0)
            name = ctypes.create_string_buffer(n)
            get_font_name(font, name, n)
            self.fonts[font] = (name.value.decode("utf-8", "replace"), bool(is_embedded(font)))
        if (font, size) not in self.descents:
            get_descent(font, size, self.number)
            self.descents[font, size] = self.number.value
        name, embedded = self.fonts[font]
        facts = (name, size, self.descents[font, size], embedded, None)
        self.known[key] = facts
        return facts

    def matrix(self, key: int, textpage: int, index: int) -> Matrix:
        """The object's matrix, read from its first glyph `index` on the text page."""
        name, size, descent, embedded, matrix = self.known[key]
        if matrix is None:
            m = self.m
            get_char_matrix(textpage, index, m)
            matrix = (m.a, m.b, m.c, m.d, m.e, m.f)
            self.known[key] = (name, size, descent, embedded, matrix)
        return matrix


def text_chars(textpage, text_objects: list, height: float, mb_y0: float) -> tuple[list[dict], int]:
    """The glyphs pdfium's text page holds, generated spaces left out, and the spaces it left out put back; and
    how many doubts there are about its reading: CJK characters in a font that is not embedded, and text objects
    it could not place (`extent`). `height` and `mb_y0` turn PDF's upward y into pdfplumber's downward one.

    The page's text is read in one call, then three calls into pdfium a glyph (its text object, origin and loose
    box; whether it was generated only for a space, the one character pdfium generates besides line breaks); the
    rest once per text object, and once per run of glyphs of one object."""
    facts = Facts()
    chars: list[dict] = []
    append = chars.append
    seen: set[int] = set()
    unembedded = 0
    origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
    loose = pdfium_c.FS_RECTF()
    is_generated = pdfium_c.FPDFText_IsGenerated
    get_origin, get_loose = pdfium_c.FPDFText_GetCharOrigin, pdfium_c.FPDFText_GetLooseCharBox
    page = address(textpage)
    codes = page_codes(textpage)
    n = len(codes)
    last = None
    i = 0
    while i < n:
        k, code = i, codes[i]
        i += 1
        if code in (0x0D, 0x0A) or (code == 0x20 and is_generated(textpage, k)):
            continue
        text = chr(code)
        if 0xD800 <= code < 0xDC00 and i < n:  # a surrogate pair: one character beyond the BMP
            text = chr(0x10000 + ((code - 0xD800) << 10) + (codes[i] - 0xDC00))
            i += 1
        key = get_text_object(page, k)
        if key != last:  # an object's glyphs come together: its facts are taken once a run of them
            last = key
            seen.add(key)
            fontname, size, descent, embedded, matrix = facts(key)
            if matrix is None:
                matrix = facts.matrix(key, page, k)
            a, b, c, d = matrix[:4]
            straight, upright = b == 0 and c == 0 and a > 0, a * d > 0 and b * c <= 0
            low, high = d * descent, d * (descent + size)
        if code >= CJK_FIRST and not embedded:
            unembedded += 1
        get_origin(textpage, k, origin_x, origin_y)
        get_loose(textpage, k, loose)
        ox, oy = origin_x.value, origin_y.value
        if straight:  # as pdfminer boxes it: from the origin, one advance across and the font size up from the descent
            x0, x1 = ox, ox + (loose.right - loose.left)
            y0, y1 = oy + low, oy + high
            if y1 < y0:
                y0, y1 = y1, y0
        else:  # a glyph turned by its matrix keeps pdfium's loose box
            x0, x1, y0, y1 = loose.left, loose.right, loose.bottom, loose.top
        top, bottom = height - (y1 - mb_y0) + mb_y0, height - (y0 - mb_y0) + mb_y0  # page_coordinates, inline
        append(
            {
                "text": text,
                "fontname": fontname,
                "size": bottom - top,
                "upright": upright,
                "matrix": (a, b, c, d, ox, oy),
                "x0": x0,
                "top": top,
                "x1": x1,
                "bottom": bottom,
            }
        )
    chars, dropped = restore_spaces(chars, text_objects, seen, facts, page_coordinates(height, mb_y0))
    return chars, unembedded + dropped


def page_codes(textpage) -> memoryview:
    """The UTF-16 code units of a text page, one per character index, read in one call."""
    n = pdfium_c.FPDFText_CountChars(textpage)
    buffer = (ctypes.c_ushort * (n + 1))()
    pdfium_c.FPDFText_GetText(textpage, 0, n, buffer)
    return memoryview(buffer).cast("B").cast("H")[:n]


# pdfium's text page leaves out a text object narrower than this (CPDF_TextPage's kSizeEpsilon, in points).
PDFIUM_MIN_WIDTH = 0.01


def extent(obj) -> tuple[float, float]:
    """A text object's width and height. One that draws only spaces has none; pdfium leaves it out of its text
    page, as it leaves out an object that repeats the one before it (fake bold: the extent of its glyphs), and
    one narrower than PDFIUM_MIN_WIDTH that has a height: glyphs without widths, as a font pdfium cannot load
    gives them."""
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    pdfium_c.FPDFPageObj_GetBounds(obj, left, bottom, right, top)
    return right.value - left.value, top.value - bottom.value


def restore_spaces(
    chars: list[dict], text_objects: list, seen: set[int], facts: Facts, to_page
) -> tuple[list[dict], int]:
    """The text objects pdfium's text page left out that draw only spaces, each put back as one space at
    its origin, reaching to the next glyph on its baseline within an em (else a quarter em wide, a space's width).
    They go before the glyph they precede, or last, so the characters stay in drawing order. And how many of the
    objects it left out drew glyphs it could not place (`extent`), which pdfminer reads.

    The glyphs are sorted by baseline once, so each space looks only at the glyphs on its own baseline."""
    by_baseline = sorted(range(len(chars)), key=lambda k: chars[k]["matrix"][5])
    baselines = [chars[k]["matrix"][5] for k in by_baseline]
    before: dict[int, list[dict]] = {}  # glyph index → the spaces that go just before it, in drawing order
    last: list[dict] = []
    dropped = 0
    for obj, outer in text_objects:
        key = address(obj)
        if key in seen:
            continue
        width, height = extent(obj)
        if width < PDFIUM_MIN_WIDTH and height > PDFIUM_MIN_WIDTH:
            dropped += 1
        if width > 0 or height > 0:
            continue
        fontname, size, descent, _, _ = facts(key)
        a, b, c, d, e, f = times(object_matrix(obj), outer)
        if not (b == 0 and c == 0 and a > 0) or size <= 0:
            continue
        em = size * a
        x, baseline = to_page(e, f)
        on_line = by_baseline[bisect_left(baselines, f - BOX_SLACK_PT) : bisect_right(baselines, f + BOX_SLACK_PT)]
        following = [k for k in on_line if 0 <= chars[k]["x0"] - x <= em]
        right = min((chars[k]["x0"] for k in following), default=x + em / 4)
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
        place = min((k for k in following if chars[k]["x0"] == right), default=None)
        (last if place is None else before.setdefault(place, [])).append(space)
    if not before and not last:
        return chars, dropped
    restored = []
    for k, ch in enumerate(chars):
        restored += before.get(k, ())
        restored.append(ch)
    return restored + last, dropped
