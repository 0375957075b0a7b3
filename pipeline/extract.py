"""Extract stage: one pass over each page's characters, grouped into positioned text lines.

Structure is read later from geometry, so every line keeps its page, bounding box, font size and
font name, and every page keeps its photos (raster images, and empty vector frames) and flags on the quality of
its text.

This face reads a PDF page by page (`extract_pdf`, `read_page`) and makes a file's extract record
(`extract_record`, `header`, `write_extract`). Its rooms are the modules of `pipeline.reading`: `chars`
(characters to rows and lines), `vertical` (vertical writing), `order` (reading order and columns), `cells`
(ruled cells), `objects` (what pdfminer's layout gives, photo frames among it), `pdfium` (the pypdfium2
fallback) and `errors` (the failure kinds of a file that could not be read); `pipeline.run.workers` runs this face in a
capped process per file.
Imports go one way: `pipeline.run.workers` imports this face (inside its functions, so that the run loads
the reader only to write the record of a worker that died), and this face imports the other reading modules
but never the worker; `Source` and `Limits`, which both need, live in `pipeline.core.records`.
Besides pdfplumber/pdfminer and pypdfium2, only the standard library and the pipeline's own light modules
(core, reading) are imported here: workers stay small, with no pandas or pyarrow.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import resource
import traceback
from dataclasses import asdict
from pathlib import Path

import pdfplumber
import pypdfium2.raw as pdfium_c

from pipeline import PIPELINE_VERSION
from pipeline.core.failures import Failure, one_line, reason
from pipeline.core.fingerprint import fingerprint
from pipeline.core.io import open_regular, write_atomic
from pipeline.core.layout import MIN_READABLE_SHARE
from pipeline.core.records import DEFAULT_READER, Box, ExtractHeader, Limits, Notice, Page, Source, to_dict
from pipeline.core.text import is_unmapped, unreadable_character
from pipeline.reading.chars import dedupe_chars, readable_share
from pipeline.reading.errors import (
    EncryptedPdf,
    UnreadablePdf,
    classify_error,
    exception_chain,
    sniff,
    too_large_reason,
)
from pipeline.reading.objects import layout_objects, photo_frames
from pipeline.reading.ocr import read_by_ocr
from pipeline.reading.order import build_lines
from pipeline.reading.pdfium import PdfiumFallback, open_pdfium
from pipeline.reading.pdfium_page import pdfium_objects
from pipeline.reading.regions import find_regions
from pipeline.reading.subpages import find_subpages
from pipeline.reading.vertical import is_vertical

# Reader warnings kept per file (a corrupted stream can log the same one per glyph).
MAX_READER_WARNINGS = 10


def read_page(page, fallback: PdfiumFallback) -> Page:
    """One page read with pdfplumber: lines, image boxes, photo frames, size and text-quality flags."""
    page_no = page.page_number
    chars, boxes, shapes, rulings = layout_objects(page)
    chars = dedupe_chars(chars)
    unmapped = sum(1 for c in chars if is_unmapped(c["text"]))
    text_source = "pdfplumber"
    if unmapped:
        alt = fallback.chars(page_no - 1, float(page.height))
        if reference(chars, alt) is alt:
            chars, text_source = alt, "pypdfium2"
    return make_page(
        page_no, float(page.width), float(page.height), chars, unmapped, text_source, boxes, shapes, rulings
    )


def make_page(
    page_no: int, width: float, height: float, chars, unmapped: int, text_source: str, boxes, shapes, rulings
) -> Page:
    """A page from what either reader found on it; the closed `shapes` give its photo frames (empty, of a photo's
    size) and the frames of the pages it holds, if it is a sheet of pages (find_subpages)."""
    vertical = is_vertical(chars)
    frames = photo_frames(shapes, chars, boxes, width, height)
    subpages = [] if vertical else find_subpages(shapes, chars, width, height)
    return Page(
        page=page_no,
        width=round(width, 2),
        height=round(height, 2),
        chars=len(chars),
        unmapped_chars=unmapped,
        readable_share=round(readable_share(chars), 3),
        text_source=text_source,
        is_vertical=vertical,
        images=rounded(boxes),
        lines=build_lines(chars, page_no, vertical, rulings, boxes, subpages),
        frames=rounded(frames),
        subpages=rounded(subpages),
    )


def rounded(boxes: list[dict]) -> list[Box]:
    """Boxes as a page record keeps them, to a hundredth of a point."""
    return [Box(**{k: round(v, 2) for k, v in box.items()}) for box in boxes]


def extract_pdf(
    pdf: Path | bytes, reader: str = DEFAULT_READER, fallback: bool = True, ocr: bool = True, allow=None
) -> list[Page]:
    """All pages of one PDF, given by its path or its bytes, read by `reader` (one of `records.READERS`); with
    pdfium, the pages it is known to read worse are read again with pdfplumber unless `fallback` is off (as the
    differential test turns it, to see pdfium's own reading). Unless `ocr` is off, a scan without text is read by OCR
    (reading.ocr; `allow(n)` hears how many pages first). A scanned page gets the picture regions of its pixels
    (reading.regions)."""
    pages = extract_pdfium(pdf, fallback) if reader == "pdfium" else extract_pdfplumber(pdf)
    if ocr:
        read_by_ocr(pdf, pages, allow)
    find_regions(pdf, pages)
    return pages


def open_plumber(pdf: Path | bytes):
    """A pdfplumber document of a PDF given by its path or its bytes."""
    return pdfplumber.open(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf)


def extract_pdfplumber(pdf: Path | bytes) -> list[Page]:
    """All pages read with pdfplumber (read_page)."""
    pages = []
    fallback_reader = PdfiumFallback(pdf)
    try:
        with open_plumber(pdf) as document:
            for page in document.pages:
                try:
                    pages.append(read_page(page, fallback_reader))
                finally:
                    page.close()  # pdfplumber keeps every page otherwise
    finally:
        fallback_reader.close()
    return pages


def extract_pdfium(pdf: Path | bytes, fallback: bool = True) -> list[Page]:
    """All pages read with pypdfium2, but for the pages pdfium is known to read worse than pdfminer, read again with
    pdfplumber (unless `fallback` is off) and given the reading the pdfplumber reader would give them (`reference`):
    - a page it reads under MIN_READABLE_SHARE or with an unreadable character (a control character, a Latin-1
      letter summaries do not print: `core.text.unreadable_character`): where a font's Unicode map is missing or
      damaged, pdfminer marks the glyphs it cannot map as (cid:N), which reasons name, and reads a damaged map more
      leniently, where pdfium makes control characters and Latin-1 of the glyph codes;
    - a page with CJK characters in a font that is not embedded: pdfium maps them through its own CJK tables,
      pdfminer through the font's character collection, and they differ (〜 U+301C reads ～ U+FF5E);
    - a page with glyphs pdfium could not place (a font it cannot load gives them no width: it leaves them out),
      and a page turned by /Rotate (`pdfium_page`);
    - a page pdfium cannot load.
    A page pdfplumber cannot read keeps pdfium's reading, with a reader warning."""
    import pypdfium2 as pdfium

    try:
        document = open_pdfium(pdf)
    except pdfium.PdfiumError as exc:
        if exc.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise EncryptedPdf(str(exc)) from exc
        raise UnreadablePdf(f"PDFium: {PDFIUM_LOAD_ERRORS.get(exc.err_code, 'unknown error')}") from exc
    pages = []
    plumber = None
    try:
        for index in range(len(document)):
            try:
                *objects, doubts, width, height = pdfium_page(document, index)
            except pdfium.PdfiumError as exc:
                plumber = plumber or open_plumber(pdf)
                alt = plumber_page(plumber, index) if fallback else None
                if alt is None:
                    raise UnreadablePdf(f"PDFium: page {index + 1} could not be loaded") from exc
                page = plumber.pages[index]
                pages.append(page_of(index, float(page.width), float(page.height), alt, "pdfplumber"))
                continue
            text_source = "pypdfium2"
            chars = objects[0]
            suspect = (
                doubts
                or (chars and readable_share(chars) < MIN_READABLE_SHARE)  # a page without text has none to mend
                or unreadable_character("".join(c["text"] for c in chars))
            )
            if fallback and suspect:
                plumber = plumber or open_plumber(pdf)
                alt = plumber_page(plumber, index)
                if alt is not None and reference(alt[0], chars) is alt[0]:
                    objects, text_source = alt, "pdfplumber"
            pages.append(page_of(index, width, height, objects, text_source))
    finally:
        if plumber is not None:
            plumber.close()
        document.close()
    return pages


def reference(plumber_chars: list[dict], pdfium_chars: list[dict]) -> list[dict]:
    """The characters the pdfplumber reader keeps for a page (`read_page`): pdfminer's, unless some of its glyphs
    have no Unicode map and pypdfium2 reads the page better, and at least MIN_READABLE_SHARE."""
    if not any(is_unmapped(c["text"]) for c in plumber_chars):
        return plumber_chars
    pdfium_share = readable_share(pdfium_chars)
    return pdfium_chars if pdfium_share > max(readable_share(plumber_chars), MIN_READABLE_SHARE) else plumber_chars


# pdfium's reasons for not opening a document (FPDF_GetLastError), in its own words, for the file's reason.
PDFIUM_LOAD_ERRORS = {
    pdfium_c.FPDF_ERR_UNKNOWN: "unknown error",
    pdfium_c.FPDF_ERR_FILE: "file access error",
    pdfium_c.FPDF_ERR_FORMAT: "data format error",
    pdfium_c.FPDF_ERR_PAGE: "page not found or content error",
}


def pdfium_page(document, index: int) -> tuple:
    """pdfium's reading of one page (`pdfium_page.pdfium_objects`, characters deduplicated), the doubts about it,
    and its size. A page turned by /Rotate is one more doubt: pdfium gives its glyphs unturned, where pdfminer
    turns the page as it is shown, and `pdfium_objects` does not turn them yet."""
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            box = page.get_mediabox()
            chars, boxes, shapes, rulings, doubts = pdfium_objects(page.raw, textpage.raw, (box[0], box[1]))
            doubts += page.get_rotation() != 0
        finally:
            textpage.close()
        width, height = page.get_width(), page.get_height()
    finally:
        page.close()
    return dedupe_chars(chars), boxes, shapes, rulings, doubts, width, height


def page_of(index: int, width: float, height: float, objects: tuple, text_source: str) -> Page:
    chars, boxes, shapes, rulings = objects
    unmapped = sum(1 for c in chars if is_unmapped(c["text"]))
    return make_page(index + 1, width, height, chars, unmapped, text_source, boxes, shapes, rulings)


def plumber_page(plumber, index: int) -> tuple | None:
    """pdfplumber's reading of one page (characters deduplicated, image boxes, closed shapes, rulings), or None, with a
    reader warning, when pdfminer fails on a page pdfium read: the page is not lost to the second reader."""
    try:
        page = plumber.pages[index]
        try:
            chars, boxes, shapes, rulings = layout_objects(page)
        finally:
            page.close()
    except Exception as exc:  # noqa: BLE001 - whatever pdfminer raised, pdfium's reading of the page stands
        if any(isinstance(e, MemoryError) for e in exception_chain(exc)):  # but memory: too_large, the file's
            raise
        logging.getLogger("pdfplumber").warning("page %d not read again: %s", index + 1, one_line(repr(exc)))
        return None
    return dedupe_chars(chars), boxes, shapes, rulings


def collect_reader_warnings() -> list[str]:
    """Route every warning logged in this worker (pdfminer's data loss in a corrupted stream, a missing font
    box) into a list for the file's documents row, instead of onto the maintainer's terminal."""
    messages: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: messages.append(one_line(f"{record.name}: {record.getMessage()}"))
    logging.captureWarnings(True)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    return messages


def extract_record(
    source: Source, limits: Limits, reader: str = DEFAULT_READER, after_crash: str | None = None, allow=None
) -> tuple[ExtractHeader, list[Page]]:
    """Header and pages of one file read by `reader`, or by pdfplumber after pdfium crashed on it (`after_crash`
    says how, for a warning; the header keeps `reader`, the run's choice, that decides when the record stands);
    failures become the header's status and error. Scans without text are read by OCR unless `limits.ocr` is off;
    `allow(n)` hears how many pages first (extract_pdf).

    The bytes are read once and hashed: what is parsed is exactly what the header's sha256 names, and a file
    that changed since RAW was listed is reported, never cached under the hash of other bytes."""
    reader_warnings = collect_reader_warnings()
    with open_regular(source.path) as f:
        data = f.read()
    pages: list[Page] | None = None
    trace = None
    read_sha256 = hashlib.sha256(data).hexdigest()
    if read_sha256 != source.sha256:
        failure = (
            Failure.changed_during_run,
            reason(
                Failure.changed_during_run,
                (
                    f"the file changed while the run read it (listed as {source.sha256[:12]}…, "
                    f"read as {read_sha256[:12]}…)"
                ),
            ),
        )
    else:
        failure = sniff(data)
    if failure is None:
        try:
            pages = extract_pdf(data, "pdfplumber" if after_crash else reader, ocr=limits.ocr, allow=allow)
        except MemoryError:
            failure = (Failure.too_large, too_large_reason(limits))
        except BaseException as exc:  # noqa: BLE001 - any parser failure is this file's status, never the run's
            failure = classify_error(exc, limits)
            if failure[0] is Failure.internal_error:
                trace = "".join(traceback.format_exception(exc))
        else:
            if not pages:
                failure = (Failure.no_text, reason(Failure.no_text, "the PDF has no pages"))
            elif not any(p.lines for p in pages):
                failure = (
                    Failure.no_text,
                    reason(Failure.no_text)
                    if any(p.images for p in pages)
                    else reason(Failure.no_text, "no text on any page"),
                )
    head = header(source, limits, failure, pages=None if pages is None else len(pages), reader=reader)
    head.traceback = trace
    head.peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux
    if after_crash:
        reader_warnings.insert(0, f"{after_crash} reading the file; read again with pdfplumber")
    head.reader_warnings = [
        Notice("reader", message) for message in list(dict.fromkeys(reader_warnings))[:MAX_READER_WARNINGS]
    ]
    return head, pages or []


def header(
    source: Source,
    limits: Limits,
    failure: tuple[Failure, str] | None,
    pages: int | None = None,
    reader: str = DEFAULT_READER,
) -> ExtractHeader:
    """The header of an extract record; the limits it was read under decide when a limit failure is retried, and
    a record made by the other reader is read again."""
    status, error = (failure[0].status, failure[1]) if failure else ("ok", None)
    return ExtractHeader(
        pipeline_version=PIPELINE_VERSION,
        fingerprint=fingerprint("extract"),
        source_sha256=source.sha256,
        status=status,
        error=error,
        pages=pages,
        limits=asdict(limits),
        reader_warnings=[],
        traceback=None,
        reader=reader,
    )


def write_extract(target: Path, head: ExtractHeader, pages: list[Page] = ()) -> None:
    """An extract record as JSON Lines: the header first, so that a cache check reads one line only."""
    records = [to_dict(head)] + [to_dict(p) for p in pages]
    write_atomic(target, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8"))
