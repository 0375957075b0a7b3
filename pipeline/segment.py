"""Segment stage: positioned lines to plans, with their summary, photo captions, pillars and projects.

Structure comes from the page: captions are the short runs of lines set near a photo, page furniture
sits in the page margins, a pillar heading starts a line where the text before it has ended, and a
footnote is the parenthesised paragraph after the last plan. Patterns only name what a line says.
A plan read off a broken font (a badly read page, an unreadable character, a header naming no place) is
rejected with its reason, never handed on: gibberish in the tables would pass for data.

This module is the stage's face: it reads a document through the rules (segment_document) and makes the stage's
records. The rules live in its rooms, the modules of pipeline/structure/: furniture, captions, headings,
projects, plans (headers, the plans being read, the footnote), body (a plan's summary, pillars and projects),
roles and rejection.
"""

from __future__ import annotations

import itertools
import logging
import traceback

from pipeline import PIPELINE_VERSION
from pipeline.core.failures import OK, Failure, internal_reason, reason
from pipeline.core.fingerprint import fingerprint
from pipeline.core.layout import SAME_SIZE_PT
from pipeline.core.records import OCR_SOURCE, Box, ExtractHeader, Line, Notice, Page, Segmentation, SegmentRecord
from pipeline.core.text import normalize_text
from pipeline.structure.body import build_plan
from pipeline.structure.captions import (
    Caption,
    assign_captions,
    find_captions,
    lift,
    measure,
    photos_at_foot,
    photos_of,
)
from pipeline.structure.doubts import find_doubts, photos_within, scanned_pages
from pipeline.structure.furniture import (
    beyond_furniture,
    document_title,
    is_furniture,
    repeated_furniture,
    stray_tokens,
)
from pipeline.structure.headings import join_number_labels
from pipeline.structure.plans import drop_footnote, paragraph_gap, split_plans
from pipeline.structure.provenance import spots_of
from pipeline.structure.rejection import reject, summarize_rejections
from pipeline.structure.roles import CAPTION, FOOTNOTE, FURNITURE, HEADER, UNASSIGNED

log = logging.getLogger("pipeline")


def segment_document(pages: list[Page]) -> Segmentation:
    """Plans of one extracted document, the plans rejected as unreadable, and warnings about what could not be
    read as expected; besides, the role each line was given and the lines kept by default (Segmentation)."""
    lines: list[Line] = []
    captions: list[Caption] = []
    roles: dict[tuple[int, int], str] = {}  # (page, index in page.lines) -> role
    origin: dict[int, tuple[int, int]] = {}  # id of a line read on -> its (page, index)
    running = repeated_furniture(pages)
    running |= beyond_furniture(pages, running)
    kept_by_page = []  # per page, the (page, index) of the lines that are no furniture
    for page in pages:
        kept = []
        for i, line in enumerate(page.lines):
            furniture = (page.page, i) in running or is_furniture(line, page)
            roles[page.page, i] = FURNITURE if furniture else UNASSIGNED
            if not furniture:
                kept.append((page.page, i))
        kept_by_page.append(kept)
    measures = measure([page.lines[i] for page, kept in zip(pages, kept_by_page, strict=True) for _, i in kept])
    carried: list[Box] = []  # the photos at the foot of the page before (carried_from), without a caption
    uncaptioned: list[tuple[int, Box]] = []  # (page, photo) of every photo no caption was read for
    carried_from = 0
    for page, kept in zip(pages, kept_by_page, strict=True):
        page_lines = [page.lines[i] for _, i in kept]
        photos = photos_of(page)
        by_photo = find_captions(page_lines, photos + lift(carried, page_lines, measures), measures)
        # a caption carried over a page break is set smaller than the body, as nothing else tells it from text
        by_photo = {
            k: run
            for k, run in by_photo.items()
            if k < len(photos) or all(page_lines[i].size < measures.size - SAME_SIZE_PT for i in run)
        }
        caption_idx = {i for run in by_photo.values() for i in run}
        given = {id(photo) for k, photo in enumerate(photos + carried) if k in by_photo}
        uncaptioned = [(at, photo) for at, photo in uncaptioned if id(photo) not in given]
        uncaptioned += [(page.page, photo) for photo in photos if id(photo) not in given]
        # body lines read before each line of the page: where a caption stands in reading order
        before = list(itertools.accumulate((i not in caption_idx for i in range(len(page_lines))), initial=0))
        for k, run in by_photo.items():
            text = normalize_text("".join(page_lines[i].text for i in run))
            spots = spots_of(page_lines[i] for i in run)
            if k < len(photos):
                captions.append(
                    Caption(page.page, photos[k], len(lines) + before[run[0]], text, [(page.page, photos[k]), *spots])
                )
            else:  # under its photo, at the end of the page before
                photo = carried[k - len(photos)]
                captions.append(Caption(carried_from, photo, len(lines), text, [(carried_from, photo), *spots]))
        carried, carried_from = (
            photos_at_foot([line for i, line in enumerate(page_lines) if i not in caption_idx], photos, set(by_photo)),
            page.page,
        )
        roles.update((kept[i], CAPTION) for i in caption_idx)
        origin.update((id(line), kept[i]) for i, line in enumerate(page_lines) if i not in caption_idx)
        lines.extend(line for i, line in enumerate(page_lines) if i not in caption_idx)
    place = {id(line): n for n, line in enumerate(lines)}
    gap = paragraph_gap(lines)
    sources = line_sources(lines, join_number_labels(lines, gap), origin)
    strays = stray_tokens([line for line, _ in sources])
    for k in strays:
        roles.update((key, FURNITURE) for key in sources[k][1])
    sources = [source for k, source in enumerate(sources) if k not in strays]
    lines = [line for line, _ in sources]
    plans = split_plans(lines)
    assign_captions(plans, captions, place)
    placed = {id(line) for draft in plans for line in draft.header_lines + draft.lines}
    footnote = {id(line) for line in plans[-1].lines} if plans else set()
    if plans:
        drop_footnote(plans[-1], gap)
        footnote -= {id(line) for line in plans[-1].lines}
    shares = {page.page: page.readable_share for page in pages}
    scans = scanned_pages(pages)
    found = Segmentation(plans=[], rejected=[], warnings=[])
    read: dict[int, tuple[str, bool]] = {}  # id of a line -> its role, and whether it was kept by default
    read.update((line_id, (FOOTNOTE, False)) for line_id in footnote)
    read.update((line_id, (UNASSIGNED, True)) for line_id in map(id, lines) if line_id not in placed)
    for draft in plans:
        plan_warnings: list[Notice] = []
        read.update((id(line), (HEADER, False)) for line in draft.header_lines)
        alone = photos_within(draft, uncaptioned)
        draft.photo_spots += alone
        plan = build_plan(draft, gap, plan_warnings, read)
        plan.doubts = find_doubts(draft, read, alone, measures.size, scans)
        rejection = reject(draft, plan, shares)
        if rejection:
            found.rejected.append(rejection)
        else:
            found.plans.append(plan)
            found.warnings += plan_warnings
    for line, keys in sources:
        role, by_default = read[id(line)]
        for key in keys:
            roles[key] = role
            if by_default:
                found.by_default.append(key)
    found.roles = roles
    found.by_default.sort()
    return found


def line_sources(
    lines: list[Line], joined: list[Line], origin: dict[int, tuple[int, int]]
) -> list[tuple[Line, list[tuple[int, int]]]]:
    """Each line of `joined` (the body after join_number_labels) with the (page, index) of the printed lines it
    was made of, in order: a line taken over is itself, a line made by joining a number to its title takes the
    lines that went into it, each of them the made line nearest to it on its page (it holds their boxes).
    Lines are told apart by identity, never by equality: two lines printed alike compare equal."""
    made = [line for line in joined if id(line) not in origin]
    sources: dict[int, list[tuple[int, int]]] = {
        id(line): [origin[id(line)]] if id(line) in origin else [] for line in joined
    }
    taken_over = {id(line) for line in joined}
    for line in lines:
        if id(line) in taken_over:
            continue
        near = [other for other in made if other.page == line.page]
        if near:
            into = min(
                near,
                key=lambda other: (
                    max(other.x0 - line.x1, line.x0 - other.x1, 0) ** 2
                    + max(other.top - line.bottom, line.top - other.bottom, 0) ** 2
                ),
            )
            sources[id(into)].append(origin[id(line)])
    return [(line, sorted(sources[id(line)])) for line in joined]


def segment_record(head: ExtractHeader, pages: list[Page]) -> SegmentRecord:
    """The segment record of one extracted file: its plans and the plans it rejected, or why none were kept."""
    record = SegmentRecord(
        pipeline_version=PIPELINE_VERSION,
        fingerprint=fingerprint("segment"),
        source_sha256=head.source_sha256,
        status=head.status,
        error=head.error,
        pages=head.pages,
        plans=[],
        rejected=[],
        warnings=[],
        vertical_pages=[str(p.page) for p in pages if p.is_vertical],
        pages_with_unmapped_glyphs=[str(p.page) for p in pages if p.unmapped_chars],
        traceback=head.traceback,
    )
    record.text_source, record.ocr_pages, record.ocr_confidence = text_source_of(pages)
    if head.status == OK:
        try:
            found = segment_document(pages)
        except Exception as exc:  # noqa: BLE001 - one layout nobody foresaw costs its file, never the run
            log.debug("segmenting %s failed", head.source_sha256, exc_info=True)
            record.status = Failure.internal_error.status
            record.error = internal_reason(f"segmenting failed: {type(exc).__name__}: {exc}")
            record.traceback = "".join(traceback.format_exception(exc))
        else:
            record.plans, record.rejected, record.warnings = found.plans, found.rejected, found.warnings
            record.lines_by_default = len(found.by_default)
            record.title = document_title(pages)
            record.page_sizes = [(page.width, page.height) for page in pages]
            if record.rejected and not record.plans:
                record.status, record.error = Failure.unreadable_text.status, summarize_rejections(record.rejected)
            elif not record.plans:
                record.status, record.error = Failure.no_plans.status, no_plans_reason(record)
    record.warnings = head.reader_warnings + record.warnings
    return record


def text_source_of(pages: list[Page]) -> tuple[str | None, list[str], float | None]:
    """How a file's text was read: pdf, ocr (all its pages with text read by OCR) or mixed; the pages read by OCR;
    and the mean confidence of their lines, each page weighted by its characters (Page.ocr_confidence)."""
    ocr = [p for p in pages if p.text_source == OCR_SOURCE]
    read = [p for p in pages if p.lines]
    if not pages:
        return None, [], None
    source = "pdf" if not ocr else "ocr" if len(ocr) == len(read) else "mixed"
    weighed = [(p.chars, p.ocr_confidence) for p in ocr if p.chars and p.ocr_confidence is not None]
    chars = sum(n for n, _ in weighed)
    confidence = round(sum(n * c for n, c in weighed) / chars, 1) if chars else None
    return source, [str(p.page) for p in ocr], confidence


def no_plans_reason(record: SegmentRecord) -> str:
    """Why no plan was found, with what the pages themselves suggest."""
    detail = "no plan header 「…」（…）【計画期間:…】 was found"
    if record.pages_with_unmapped_glyphs:
        detail += (
            f" (page(s) {', '.join(record.pages_with_unmapped_glyphs)} draw glyphs without a Unicode map,"
            " so their text is unreadable: get a better copy or OCR)"
        )
    elif record.vertical_pages:
        detail += f" (page(s) {', '.join(record.vertical_pages)} are vertical writing, tategaki)"
    return reason(Failure.no_plans, detail)


def refused_record(failure: Failure, why: str) -> SegmentRecord:
    """The segment record of an entry of RAW that was never read: its status and reason, nothing else."""
    return SegmentRecord(
        pipeline_version=PIPELINE_VERSION,
        fingerprint=fingerprint("segment"),
        source_sha256=None,
        status=failure.status,
        error=why,
        pages=None,
        plans=[],
        rejected=[],
        warnings=[],
        vertical_pages=[],
        pages_with_unmapped_glyphs=[],
        traceback=None,
    )
