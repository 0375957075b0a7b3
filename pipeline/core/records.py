"""Typed interim records and their JSON form: what extract hands to segment, segment to normalize, and normalize
caches per file; and the warnings normalize gives across files, which the manifest keeps for the views.

Each stage writes its records under OUT/interim and the next reads them back, so a record is a dataclass
with a lossless JSON form: `to_dict` writes every field in declaration order, `from_dict` refuses a missing
or unknown key, so a misspelt field fails where it is made, not as a silently empty column downstream.
Fields declared with init=False are derived from the others and not stored.
`Source` (one input file) and `Limits` (what a file is read under, kept in its extract header) are what
the run hands the extract stage for each file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

from pipeline.core.layout import SCAN_COVER_SHARE
from pipeline.core.text import normalize_text

T = TypeVar("T")


@dataclass
class Box:
    """A rectangle in pdfplumber's page coordinates (points, origin top left)."""

    x0: float
    top: float
    x1: float
    bottom: float


@dataclass(frozen=True)
class Source:
    """One input file: its name relative to RAW, its path and the sha256 of its bytes."""

    name: str
    path: Path
    sha256: str


@dataclass(frozen=True)
class Limits:
    """Per-file limits of the extract worker."""

    seconds: float = 60.0
    memory_mb: int = 1024
    ocr: bool = True  # whether a scan without text is read by OCR (--no-ocr turns it off)

    def allow_more_than(self, other: dict) -> bool:
        return self.seconds > other["seconds"] or self.memory_mb > other["memory_mb"]


# Seconds a page read by OCR adds to its file's time limit (Limits.seconds, for its text layer): a page of the
# image-only fixtures takes 2.3-2.9 s of CPU (rendered at 300 dpi, rules wiped, read by Tesseract), 9-12 s of wall
# time on a machine whose two cores ran ten busy processes; 15 s covers that. A 20-page scan gets 60 + 300 s.
OCR_SECONDS_PER_PAGE = 15.0


@dataclass
class Line:
    """A run of text on one page row (or one column of a vertical page), as printed, with where it stands."""

    page: int
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float
    fontname: str
    norm: str = field(init=False, repr=False, compare=False)  # canonical text, which structure is matched on

    def __post_init__(self) -> None:
        self.norm = normalize_text(self.text)


@dataclass
class Page:
    """One page as extract read it: its lines in reading order, its photos (image boxes, and vector frames drawn
    empty in a photo's size and shape) and flags on its text."""

    page: int
    width: float
    height: float
    chars: int
    unmapped_chars: int
    readable_share: float  # of the characters kept: low when a font has no usable Unicode map
    text_source: str
    is_vertical: bool
    images: list[Box]
    lines: list[Line]
    frames: list[Box] = field(default_factory=list)  # empty vector frames of photo size: photos drawn as shapes
    subpages: list[Box] = field(default_factory=list)  # the frames of the pages a sheet holds (a handout), in order
    regions: list[Box] = field(default_factory=list)  # picture regions found in a scanned page's pixels
    ocr_confidence: float | None = None  # the mean confidence of its lines (0-100), on a page read by OCR


OCR_SOURCE = "ocr"  # the text_source of a page read by OCR (reading.ocr)


def is_scan_image(box: Box, page: Page) -> bool:
    """Whether an image lies under (nearly) the whole page, as a scan's does (SCAN_COVER_SHARE of its area)."""
    return (box.x1 - box.x0) * (box.bottom - box.top) >= SCAN_COVER_SHARE * page.width * page.height


@dataclass
class Notice:
    """Something read that looked wrong, for a maintainer: a machine-readable code and the readable text."""

    code: str
    message: str
    page: int | None = None


# The page readers (`--reader`): pypdfium2 (`reading.pdfium_page`), the default, several times faster; and
# pdfplumber, the reference it is tested against (`tests/test_readers.py`) and its fallback on the pages pdfium
# reads worse (`extract.extract_pdfium`).
READERS = ("pdfium", "pdfplumber")
DEFAULT_READER = "pdfium"


@dataclass
class ExtractHeader:
    """First record of a file's extract record: how reading it went, by which code, under which limits."""

    pipeline_version: str
    fingerprint: str  # of the extract stage's code: a record made by other code is read again
    source_sha256: str
    status: str
    error: str | None
    pages: int | None
    limits: dict[str, float]
    reader_warnings: list[Notice]
    traceback: str | None  # where our own code failed (status internal_error), shown with -v
    peak_rss_mb: float | None = None  # the reader's largest resident memory; None when it died without a record
    reader: str = DEFAULT_READER  # the page reader that made it: a record of the other reader is read again


@dataclass
class Region:
    """Where a plan, pillar or project stands on one page: the box around its lines (and a plan's photos), in
    pdfplumber's page coordinates, so that anyone can crop the source (SegmentRecord.page_sizes gives the page)."""

    page: int
    x0: float
    top: float
    x1: float
    bottom: float


@dataclass
class Project:
    project_name: str
    project_detail: str | None
    page: int
    regions: list[Region]  # one per page its text stands on, in page order


@dataclass
class Pillar:
    pillar_no: int
    pillar_title: str
    page: int
    has_more_projects: bool
    projects: list[Project]
    regions: list[Region]  # its heading and its projects' lines, one per page


@dataclass
class Plan:
    plan_title: str
    municipality: str
    period_text: str | None
    summary: str | None
    photo_captions: list[str]
    page_start: int
    page_end: int
    regions: list[Region]  # its header, text, photos and captions, one per page
    pillars: list[Pillar]
    doubts: list[Notice]  # what in its reading calls for a person's check (pipeline.review), with a review code each


@dataclass
class Segmentation:
    """What segment makes of one document's pages: the plans kept, the plans rejected and why, warnings; and, for
    `explain` and lines_by_default, the role given to each line, keyed by (page, index in Page.lines), and the
    lines kept by default (before the first plan header, or continuing a block across a break), sorted."""

    plans: list[Plan]
    rejected: list[Notice]
    warnings: list[Notice]
    roles: dict[tuple[int, int], str] = field(default_factory=dict)
    by_default: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class SegmentRecord:
    """A file's segment record: its status after reading and segmenting, its plans, the plans it rejected and
    why, and warnings."""

    pipeline_version: str
    fingerprint: str  # of the segment stage's code
    source_sha256: str | None  # None for an entry of RAW that was never read (a folder, a FIFO)
    status: str
    error: str | None
    pages: int | None
    plans: list[Plan]
    rejected: list[Notice]
    warnings: list[Notice]
    vertical_pages: list[str]
    pages_with_unmapped_glyphs: list[str]
    traceback: str | None  # where our own code failed (status internal_error), shown with -v
    lines_by_default: int = 0  # lines no rule claimed (Segmentation.by_default); 0 for a file not segmented
    title: str | None = None  # the summary's own title (structure.furniture.document_title), where its round is named
    page_sizes: list[tuple[float, float]] = field(default_factory=list)  # (width, height) of each page, in points
    text_source: str | None = None  # pdf, ocr or mixed (text_source_of); None for a file without pages
    ocr_pages: list[str] = field(default_factory=list)  # the pages read by OCR
    ocr_confidence: float | None = None  # the mean confidence of their lines, weighted by characters


@dataclass
class PlanRows:
    """One plan as its file alone tells it (FileRows.plans): what assemble needs to keep it once and name it."""

    key: tuple[str, int | None, str]  # municipality code (or name), start year, title: the same plan in two files
    base_id: str  # its id before any -2 suffix (pipeline.normalize.plan_id)
    warnings: list[Notice]  # what its own reading tells: no municipality code, period not read
    row: dict[str, Any]  # its plans row without plan_id, round and provenance
    tags: list[list[Any]]  # its own and its children's matches as [kind, code, label_ja, terms] (tagger.tag_list)


@dataclass
class ChildRows:
    """A pillar or a project of a file (FileRows.pillars, FileRows.projects), tied to its plan by place, since
    the plan's id is decided across files."""

    plan: int  # the plan's place in FileRows.plans
    row: dict[str, Any]  # its row without plan_id and provenance
    tags: list[list[Any]]  # as PlanRows.tags


@dataclass
class FileRows:
    """What one file adds to the tables, made from its segment record alone, tagged, and cached per file under
    OUT/interim/normalize (pipeline.normalize.file_rows). What other files decide is left out: its name (identical
    bytes may come under two names), its plans' ids, which of its plans were read before, its plans_found.

    document: its documents row without source_file and plans_found; warnings its own.
    plans: in page order. pillars, projects: in the order they were printed.
    """

    document: dict[str, Any]
    plans: list[PlanRows]
    pillars: list[ChildRows]
    projects: list[ChildRows]


@dataclass
class PlanKey:
    """What assemble decides a plan's fate by (PlanRows without its rows): whether it was read before, its id."""

    key: tuple[str, int | None, str]  # as PlanRows.key
    base_id: str
    warnings: list[Notice]
    municipality: str  # as printed, for the warning of a suffixed id
    plan_title: str


@dataclass
class FileIndex:
    """What assemble needs of a file before its rows (pipeline.normalize.index_of): its documents row and its
    plans' keys. Kept for every file in one cache (pipeline.run.cache.write_index), so that a run adding one file to
    thousands reads the rows only of the files whose plans the tables keep."""

    document: dict[str, Any]  # as FileRows.document
    plans: list[PlanKey]  # in page order, as FileRows.plans


@dataclass(frozen=True)
class ReadTwice:
    """Plans of `later_file` kept from `first_file`, which holds the same plans (municipality, start year, title)
    and comes first by name: a pair of files, as the report lists it. The same file twice when it prints a plan
    twice. Kept as data, not only as the words of documents.warnings, so that no view has to parse them back."""

    first_file: str
    later_file: str
    plan_ids: list[str]  # the ids the plans were kept under, from first_file

    def warnings(self) -> list[tuple[str, str]]:
        """(file, words) of each documents warning the pair gives: the later file is told where its plans were
        read, the first file where else they are."""
        ids = self.plan_ids
        told = [(self.later_file, f"{len(ids)} plan(s) already read from {self.first_file}: {', '.join(ids)}")]
        if self.first_file != self.later_file:
            told.append((self.first_file, f"{len(ids)} plan(s) also in {self.later_file}"))
        return told


@dataclass(frozen=True)
class FileNotice:
    """Any other warning assemble gives a file (its documents row): a code to select on, the plans it concerns,
    and the words people read. No view interprets the words."""

    code: str
    source_file: str
    message: str
    plan_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Correction:
    """One row of RAW/corrections.csv, its cells checked (pipeline.acquire.corrections): a maintainer's fix of a
    misread, for the plan `plan_id` read from the file of bytes `source_sha256`. pillar_no and project_no number
    the pillars and projects as read; empty cells are None."""

    line: int
    source_sha256: str
    plan_id: str
    field: str  # one of pipeline.acquire.corrections.CORRECTION_FIELDS
    pillar_no: int | None
    project_no: int | None
    as_read: str | None
    corrected: str | None
    reason: str


@dataclass(frozen=True)
class CorrectionOutcome:
    """What became of a correction (normalize.assemble): applied to `source_file`, or refused and why. Kept as data,
    in OUT/manifest.json, so that a report made later lists every correction the run applied or refused."""

    correction: Correction
    source_file: str | None  # the file it concerns; None when no file has its bytes
    refused: str | None = None  # why it was not applied; None when it was


def to_dict(record) -> dict[str, Any]:
    """A record as JSON-ready values, nested records included; derived fields left out."""
    return {f.name: _encode(getattr(record, f.name)) for f in dataclasses.fields(record) if f.init}


def _encode(value):
    if dataclasses.is_dataclass(value):
        return to_dict(value)
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """A record from its JSON form; a missing or unknown key raises ValueError."""
    stored = _stored_fields(cls)
    if data.keys() != stored.keys():
        missing, unknown = sorted(stored.keys() - data.keys()), sorted(data.keys() - stored.keys())
        raise ValueError(f"{cls.__name__}: missing {missing}, unknown {unknown}")
    return cls(**{name: _decode(kind, data[name]) for name, kind in stored.items()})


@cache
def _stored_fields(cls: type) -> dict[str, Any]:
    hints = get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def _decode(kind, value):
    if dataclasses.is_dataclass(kind):
        return from_dict(kind, value)
    if get_origin(kind) is list and value is not None:
        (item,) = get_args(kind)
        return [_decode(item, v) for v in value]
    if get_origin(kind) is tuple and value is not None:  # JSON has no tuple: a list read back as one
        items = get_args(kind)
        if len(items) == 2 and items[1] is Ellipsis:
            return tuple(_decode(items[0], v) for v in value)
        if len(items) != len(value):
            raise ValueError(f"{kind}: {len(value)} item(s)")
        return tuple(_decode(item, v) for item, v in zip(items, value, strict=True))
    return value
