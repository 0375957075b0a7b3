"""Generators of broken and hostile inputs, one per failure kind, built in memory in well under a second.

Each returns the bytes of a file a maintainer could find in a download folder: an empty file, an
HTML error page saved as .pdf, a truncated PDF, an encrypted one, an image-only scan, a
decompression bomb, a page no reader gets through, a valid PDF that is not an approval summary, a PDF
with one byte of a font's Unicode map flipped.
"""

from __future__ import annotations

import io
import random
import re
import zlib

from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

ZIP_CHUNK = 1 << 20


def empty() -> bytes:
    return b""


def html_error_page() -> bytes:
    """What a web server sends instead of the PDF when the link has moved."""
    return (
        b'<!DOCTYPE html>\n<html lang="ja"><head><title>404 Not Found</title></head>\n'
        b"<body><h1>\xe3\x83\x9a\xe3\x83\xbc\xe3\x82\xb8\xe3\x81\x8c\xe8\xa6\x8b\xe3\x81\xa4\xe3\x81\x8b"
        b"\xe3\x82\x8a\xe3\x81\xbe\xe3\x81\x9b\xe3\x82\x93</h1></body></html>\n"
    )


def render(draw, **options) -> bytes:
    """A one-page PDF drawn by `draw(canvas)`, with reportlab's reproducible output."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1, **options)
    draw(c)
    c.showPage()
    c.save()
    return buf.getvalue()


def text_pdf(text: str = "Quarterly report, nothing to see here.", **options) -> bytes:
    """A valid PDF with a line of Latin text and no plan header."""
    return render(lambda c: c.drawString(72, 720, text), **options)


def encrypted() -> bytes:
    """Encrypted with a user password: nothing is readable without it."""
    return text_pdf(encrypt="s3cret")


def image_only() -> bytes:
    """A scan: one picture per page and no text layer."""
    picture = Image.new("RGB", (64, 64), (200, 180, 160))
    return render(lambda c: c.drawImage(ImageReader(picture), 72, 500, 256, 256))


def truncated(pdf: bytes) -> bytes:
    """The first few hundred bytes of a PDF, as left by an interrupted download: no xref, no trailer, no pages."""
    return pdf[:400]


def zeros_deflated(size_mb: int) -> bytes:
    """`size_mb` MiB of zero bytes as one zlib stream, built from a repeated full-flush block instead of
    compressing every byte (a GiB takes milliseconds)."""
    comp = zlib.compressobj(9)
    chunk = bytes(ZIP_CHUNK)
    first = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    end = comp.flush()[:-4]  # the final empty block, without the checksum of two chunks
    checksum = 1
    for _ in range(size_mb):
        checksum = zlib.adler32(chunk, checksum)
    return first + block * (size_mb - 1) + end + checksum.to_bytes(4, "big")


def flate_bomb(size_mb: int) -> bytes:
    """A few KB of PDF whose page content, deflated twice, inflates to `size_mb` MiB of zeros."""
    return one_page_pdf(zlib.compress(zeros_deflated(size_mb), 9), b"/Filter [/FlateDecode /FlateDecode]")


def nested_saves(count: int) -> bytes:
    """A page whose content saves the graphics state `count` times without restoring it: each `q` makes the
    reader keep one more copy of the state, so memory grows with the count while the file stays small."""
    return one_page_pdf(zlib.compress(b"q " * count, 9), b"/Filter /FlateDecode")


def endless_page(depth: int = 8, fan_out: int = 100, leaf_pairs: int = 10_000) -> bytes:
    """A page no reader gets through, in about constant memory: its content draws form 1 `fan_out` times, form k
    draws form k+1 `fan_out` times, `depth` forms deep, and the last form saves and restores the graphics state
    `leaf_pairs` times (`q Q`, which leaves nothing behind). That is fan_out ** depth × leaf_pairs operators
    (10**20 by default: thousands of years at a billion a second) from a file of 2 KB; the reader keeps one
    small figure per form drawn, one per `leaf_pairs` operators, so its memory grows by well under a MiB a
    second (pdfminer: about 8 forms and 10 KiB a second here). No form draws itself: no reader refuses it as
    a cycle."""

    def stream(content: bytes, head: bytes = b"") -> bytes:
        data = zlib.compress(content, 9)
        return b"<< %s/Length %d /Filter /FlateDecode >>\nstream\n" % (head, len(data)) + data + b"\nendstream"

    def form(number: int, content: bytes) -> bytes:  # number: its object number
        return stream(
            content,
            b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /XObject << "
            b"/F %d 0 R >> >> " % (number + 1),
        )

    call = b"/F Do " * fan_out
    return assemble_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /XObject << /F 5 0 R >> >> >>",
            stream(call),
            *(form(5 + level, call) for level in range(depth - 1)),
            stream(b"q Q " * leaf_pairs, b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << >> "),
        ]
    )


def one_page_pdf(stream: bytes, filters: bytes) -> bytes:
    """A one-page PDF whose page content is `stream`, encoded with `filters`."""
    return assemble_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
            b"<< /Length %d %s >>\nstream\n" % (len(stream), filters) + stream + b"\nendstream",
        ]
    )


def assemble_pdf(objects: list[bytes]) -> bytes:
    """A PDF of these objects, numbered from 1 (the first is the catalog), with its cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def with_byte(pdf: bytes, offset: int, value: int) -> bytes:
    """A PDF with one byte replaced, as a failing disk or a broken transfer leaves it."""
    out = bytearray(pdf)
    out[offset] = value
    return bytes(out)


def unicode_map_streams(pdf: bytes) -> list[tuple[int, int]]:
    """Byte ranges of the streams of the fonts' ToUnicode maps, in the order the fonts name them: a byte changed
    there leaves the pages drawn as before and their text layer broken."""
    spans = []
    for number in re.findall(rb"/ToUnicode (\d+) 0 R", pdf):
        start = re.search(rb"\n" + number + rb" 0 obj\b.*?stream\r?\n", pdf, re.S).end()
        spans.append((start, pdf.index(b"endstream", start)))
    return spans


def broken_unicode_map(pdf: bytes, seed: int) -> bytes:
    """Mutant number `seed`: one byte of one font's Unicode map (the fonts in turn) XORed with a non-zero mask,
    its offset and mask drawn from random.Random(seed)."""
    spans = unicode_map_streams(pdf)
    start, end = spans[seed % len(spans)]
    rng = random.Random(seed)
    offset = rng.randrange(start, end)
    return with_byte(pdf, offset, pdf[offset] ^ rng.randrange(1, 256))
