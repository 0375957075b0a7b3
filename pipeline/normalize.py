"""Normalize stage: segment records to table rows, with fiscal years, municipality codes and plan ids.

In two steps: `file_rows` makes what one file adds (its rows and tags, before any other file is looked at),
which pipeline.run.runner caches per file; `assemble` decides what needs every file (which plans were read before,
plan ids and their -2 suffixes, the documents rows, the order), and gives the warnings it adds as records too
(Assembled), so that no view has to read their words back. The rows go to pipeline.outputs.tables, which checks
them against the schema; the text itself was made canonical (pipeline.core.text) when it was read.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from pipeline import PIPELINE_VERSION
from pipeline.acquire.rounds import era_year, parse_round, round_fy
from pipeline.acquire.sources import SOURCES_NAME, Sources
from pipeline.core.fingerprint import fingerprint
from pipeline.core.records import (
    ChildRows,
    Correction,
    CorrectionOutcome,
    FileIndex,
    FileNotice,
    FileRows,
    Notice,
    PlanKey,
    PlanRows,
    ReadTwice,
    Region,
    SegmentRecord,
    from_dict,
    to_dict,
)
from pipeline.core.reference import municipality_rows
from pipeline.core.text import normalize_text, split_name_detail
from pipeline.review import add_review_reason, review_columns, review_plan
from pipeline.tagging.tagger import Tagger, join_text, roll_up, tag_list

if TYPE_CHECKING:
    import pandas as pd


# One end of a period: an era year (令和2年度, 元年, 令和2年4月, 令和2年4月1日) or a Gregorian one (2020年度,
# 2020年4月). A day may follow the month; the month alone decides the fiscal year. The era may be left out of the
# end, which then shares the start's (平成26~28年度). Heisei years go on past 31 (平成32年 is 2020, as documents
# printed before the era changed wrote it): an era year is its base plus the number, whatever the number.
_END = (
    r"(?:(?P<g{n}>(?:19|20)\d{{2}})|(?P<era{n}>令和|平成|昭和){optional}\s*(?P<y{n}>\d{{1,2}}|元))"  # the year
    r"\s*(?:年度?)?"
    r"(?:\s*(?P<m{n}>\d{{1,2}})\s*月(?:\s*\d{{1,2}}\s*日)?)?"  # the month, and maybe the day
)
_PERIOD_RE = re.compile(
    _END.format(n=1, optional="") + r"(?:\s*(?:～|-|から)\s*" + _END.format(n=2, optional="?") + ")?"
)


def parse_period(period_text: str | None) -> tuple[int | None, int | None]:
    """Fiscal years (start, end) of a printed period: 令和2年度～令和4年度, 平成26~28年度, 令和元年度～令和3年度,
    令和2年4月～令和5年3月, 平成29年4月1日～平成32年3月31日, 2020年4月～2023年3月, 2020年度～2022年度; a single
    year is both ends. A month from January to March belongs to the fiscal year before."""
    if not period_text:
        return None, None
    m = _PERIOD_RE.search(normalize_text(period_text))
    if not m:
        return None, None

    def fiscal_year(n: int, era: str | None) -> int | None:
        if m[f"g{n}"]:
            year = int(m[f"g{n}"])
        elif m[f"y{n}"] and era:
            year = era_year(era, m[f"y{n}"])
        else:
            return None
        return year - 1 if m[f"m{n}"] and int(m[f"m{n}"]) <= 3 else year

    start = fiscal_year(1, m["era1"])
    end = fiscal_year(2, m["era2"] or m["era1"])
    return start, start if end is None else end


def check_digit(code5: str) -> int:
    """Check digit of a 全国地方公共団体コード (JIS X 0402 weights 6,5,4,3,2, modulus 11)."""
    total = sum(int(d) * w for d, w in zip(code5, (6, 5, 4, 3, 2), strict=True))
    return (11 - total % 11) % 10


@lru_cache(maxsize=1)
def municipalities() -> dict[str, str]:
    """Municipality name → 6-digit code, from the bundled table of Tokyo's 62 municipalities."""
    return {row["name_ja"]: row["municipality_code"] for row in municipality_rows()}


def municipality_code(name: str | None) -> str | None:
    """Code of a municipality name as printed (ヶ/ケ/が spellings folded), or None when unknown."""
    if not name:
        return None
    table = municipalities()
    name = normalize_text(name).removeprefix("東京都")
    for variant in (name, name.replace("ケ", "ヶ"), name.replace("が", "ヶ"), name.replace("ヵ", "ヶ")):
        if variant in table:
            return table[variant]
    return None


def plan_id(code: str | None, municipality: str, start_fy: int | None, sha256: str, page: int) -> str:
    """`<municipality_code>-<period_start_fy>`. The name stands in for an unknown code; an unread year gives
    `-unknown-<file>-p<page>`, so that two such plans never pass for one."""
    year = start_fy if start_fy is not None else f"unknown-{sha256[:8]}-p{page}"
    return f"{code or municipality}-{year}"


def file_rows(seg: SegmentRecord, tagger: Tagger | None = None) -> FileRows:
    """What one file adds to the tables (records.FileRows), from its segment record alone, so that it can be cached
    per file: its documents row, its plans in page order each under its key (municipality code or name, start
    year and title: what makes two plans read from two files the same plan) and its id before any suffix, with
    the rows of their pillars and projects, tagged when a tagger is given (without, every tag list is empty).
    Which plans are kept and their ids are decided across files (assemble)."""
    plans: list[PlanRows] = []
    pillars: list[ChildRows] = []
    projects: list[ChildRows] = []
    for place, plan in enumerate(seg.plans):  # in page order
        code = municipality_code(plan.municipality)
        start_fy, end_fy = parse_period(plan.period_text)
        warnings = []
        if code is None:
            warnings.append(
                Notice(
                    "no_municipality_code",
                    f"{plan.municipality}: not one of Tokyo's municipalities, no code",
                    plan.page_start,
                )
            )
        if start_fy is None:
            warnings.append(
                Notice(
                    "period_not_read", f"{plan.municipality}: period not read: {plan.period_text!r}", plan.page_start
                )
            )
        plans.append(
            PlanRows(
                key=(code or plan.municipality, start_fy, plan.plan_title),
                base_id=plan_id(code, plan.municipality, start_fy, seg.source_sha256, plan.page_start),
                warnings=warnings,
                row={
                    "municipality": plan.municipality,
                    "municipality_code": code,
                    "plan_title": plan.plan_title,
                    "period_text": plan.period_text,
                    "period_start_fy": start_fy,
                    "period_end_fy": end_fy,
                    "summary": plan.summary,
                    "photo_captions": plan.photo_captions,
                    "page_start": plan.page_start,
                    "page_end": plan.page_end,
                    **review_columns(review_plan(plan, code, start_fy)),
                    **box_columns(plan.regions, seg.page_sizes),
                },
                tags=[],
            )
        )
        for pillar in plan.pillars:
            pillars.append(
                ChildRows(
                    plan=place,
                    row={
                        "pillar_no": pillar.pillar_no,
                        "pillar_title": pillar.pillar_title,
                        "has_more_projects": pillar.has_more_projects,
                        "page": pillar.page,
                        **box_columns(pillar.regions, seg.page_sizes),
                    },
                    tags=[],
                )
            )
            for no, project in enumerate(pillar.projects, start=1):
                projects.append(
                    ChildRows(
                        plan=place,
                        row={
                            "pillar_no": pillar.pillar_no,
                            "project_no": no,
                            "project_name": project.project_name,
                            "project_detail": project.project_detail,
                            "page": project.page,
                            **box_columns(project.regions, seg.page_sizes),
                        },
                        tags=[],
                    )
                )
    if tagger is not None and plans:
        set_tags(tagger, list(enumerate(plans)), pillars, projects)
    document = {
        "source_sha256": seg.source_sha256,
        "title": seg.title,
        "pages": seg.pages,
        "status": seg.status,
        "error": seg.error,
        "plans_rejected": len(seg.rejected),
        "lines_by_default": seg.lines_by_default,
        "warnings": [w.message for w in seg.warnings + seg.rejected],
        "vertical_pages": seg.vertical_pages,
        "pages_with_unmapped_glyphs": seg.pages_with_unmapped_glyphs,
        "text_source": seg.text_source,
        "ocr_pages": seg.ocr_pages,
        "ocr_confidence": seg.ocr_confidence,
    }
    return FileRows(document=document, plans=plans, pillars=pillars, projects=projects)


# Where a row stands (box_columns), which a project added by a correction takes from its pillar.
BOX_COLUMNS = ("box_x0", "box_top", "box_x1", "box_bottom", "page_width", "page_height", "boxes")


def box_columns(regions: list[Region], page_sizes: list[tuple[float, float]]) -> dict:
    """Where a row stands: the box of its first region (on its first page) and that page's size, and every
    page's box as `page:x0,top,x1,bottom`, so that anyone can crop the source."""
    first = regions[0] if regions else None
    box = (first.x0, first.top, first.x1, first.bottom) if first else (None,) * 4
    size = page_sizes[first.page - 1] if first and first.page <= len(page_sizes) else (None, None)
    boxes = [f"{r.page}:{r.x0:g},{r.top:g},{r.x1:g},{r.bottom:g}" for r in regions]
    return dict(zip(BOX_COLUMNS, (*box, *size, boxes), strict=True))


def set_tags(tagger: Tagger, plans: list[tuple[int, PlanRows]], pillars: list[ChildRows], projects: list[ChildRows]):
    """Tag plans (each with its place in its file), their pillars and their projects, each level's tags rolled up
    (tagger.roll_up): of a file's rows when they are made, and again of a plan a correction changed."""
    matches = roll_up(
        tagger,
        [(place, join_text(plan.row["plan_title"], plan.row["summary"])) for place, plan in plans],
        [(e.plan, e.row["pillar_no"], join_text(e.row["pillar_title"])) for e in pillars],
        [(e.plan, e.row["pillar_no"], join_text(e.row["project_name"], e.row["project_detail"])) for e in projects],
    )
    for entries, level in zip(([plan for _, plan in plans], pillars, projects), matches, strict=True):
        for entry, match in zip(entries, level, strict=True):
            entry.tags = tag_list(match, tagger.labels)


def rows_record(sha256: str, segment_sha256: str, rows: FileRows) -> bytes:
    """A file's rows as cached under OUT/interim/normalize: a header line naming the code and the segment record
    they were made from and the sha256 of the rows, then the rows, one line of JSON."""
    body = json.dumps(to_dict(rows), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    head = {
        "pipeline_version": PIPELINE_VERSION,
        "fingerprint": fingerprint("normalize"),
        "source_sha256": sha256,
        "segment_sha256": segment_sha256,
        "rows_sha256": hashlib.sha256(body).hexdigest(),
    }
    return json.dumps(head).encode("utf-8") + b"\n" + body


def read_rows_record(data: bytes, segment_sha256: str) -> FileRows | None:
    """Cached rows (rows_record) when the current normalize code made them from this very segment record and they
    are whole; else None, whatever is wrong (made by other code or from another record, unparsable, altered), and
    they are made again: never trusted."""
    try:
        head, _, body = data.partition(b"\n")
        head = json.loads(head)
        if (head["fingerprint"], head["segment_sha256"], head["rows_sha256"]) != (
            fingerprint("normalize"),
            segment_sha256,
            hashlib.sha256(body).hexdigest(),
        ):
            return None
        return decode_rows(body)
    except (ValueError, TypeError, KeyError):
        return None


def decode_rows(body: bytes) -> FileRows:
    """A file's rows from their JSON form (the second line of rows_record), refusing a missing or unknown key as
    from_dict does, without from_dict's walk over the type of every value and tag: that walk cost most of a run
    that adds one file to thousands."""
    data = json.loads(body)
    check_keys(data, FileRows)
    plans = [PlanRows(*key_of(plan, PlanRows), plan["row"], plan["tags"]) for plan in data["plans"]]
    children = {}
    for level in ("pillars", "projects"):
        for child in data[level]:
            check_keys(child, ChildRows)
        children[level] = [ChildRows(child["plan"], child["row"], child["tags"]) for child in data[level]]
    return FileRows(data["document"], plans, children["pillars"], children["projects"])


def index_of(rows: FileRows) -> FileIndex:
    """What assemble decides by, of a file's rows (records.FileIndex)."""
    return FileIndex(
        rows.document,
        [PlanKey(p.key, p.base_id, p.warnings, p.row["municipality"], p.row["plan_title"]) for p in rows.plans],
    )


def decode_index(data: dict) -> FileIndex:
    """A file's index from its JSON form (to_dict), checked as decode_rows checks rows, and as fast: a run adding one
    file to thousands decodes every file's index."""
    check_keys(data, FileIndex)
    plans = [PlanKey(*key_of(plan, PlanKey), plan["municipality"], plan["plan_title"]) for plan in data["plans"]]
    return FileIndex(data["document"], plans)


def key_of(plan: dict, record: type) -> tuple[tuple, str, list[Notice]]:
    """The key, base id and warnings of a plan's JSON form (PlanRows or PlanKey), its keys checked."""
    check_keys(plan, record)
    key = tuple(plan["key"])
    if len(key) != 3:
        raise ValueError(f"a plan key of {len(key)} item(s)")
    return key, plan["base_id"], [from_dict(Notice, w) for w in plan["warnings"]]


def check_keys(data: dict, record: type) -> None:
    """Refuse the JSON form of a record whose keys are not the record's fields."""
    if data.keys() != field_names(record):
        raise ValueError(f"{record.__name__}: keys {sorted(data)}")


@cache
def field_names(record: type) -> frozenset[str]:
    """A record's field names, taken once: a run adding one file to thousands checks a hundred thousand records."""
    return frozenset(f.name for f in fields(record))


def describe_source(source_file: str, document: dict, sources: Sources) -> tuple[dict, list[FileNotice]]:
    """A documents row's round, round_fy, published and url, and the warnings they raise: the round from the
    file's row of sources.csv, else from its title. A row recorded for other bytes is not used: the address and
    round it gives are not those of this file."""
    info = sources.rows.get(source_file)
    notices = [
        FileNotice("sources_csv_row", source_file, problem) for problem in sources.file_problems.get(source_file, [])
    ]
    if info is not None and info.sha256 and info.sha256 != document["source_sha256"]:
        notices.append(
            FileNotice(
                "sources_csv_other_bytes",
                source_file,
                f"{SOURCES_NAME} line {info.line} records other bytes for this file (sha256 "
                f"{info.sha256[:12]}…), so its url, date and round are not used",
            )
        )
        info = None
    title_round = parse_round(document["title"], bracketed_only=True)
    round_name = info.round if info is not None and info.round else title_round
    if title_round and round_name != title_round:
        notices.append(
            FileNotice(
                "round_differs_from_title",
                source_file,
                f"round {round_name} from {SOURCES_NAME} line {info.line}; the title says {title_round}",
            )
        )
    return {
        "round": round_name,
        "round_fy": round_fy(round_name),
        "published": info.published if info is not None else None,
        "url": info.url if info is not None else None,
    }, notices


def link_previous_plans(plans: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Set each plan's previous_plan_id: the same municipality's plan (by code, or by name when it has none) that
    started last before it. Where several plans started that year, the one of the same title is taken; without
    one, none is: returns, per plan left without one for that reason, the warning that names them."""
    import pandas as pd

    places = plans["municipality_code"].fillna(plans["municipality"])
    starts = [None if pd.isna(start) else int(start) for start in plans["period_start_fy"]]
    rows = list(zip(plans["plan_id"], places, starts, plans["plan_title"], strict=True))
    dated: dict[str, list[tuple]] = defaultdict(list)  # place -> its plans with a start year, in table order
    for row in rows:
        if row[2] is not None:
            dated[row[1]].append(row)
    previous: list[str | None] = []
    warnings = {}
    for plan_id, place, start, title in rows:
        earlier = [row for row in dated[place] if start is not None and row[2] < start]
        newest = max((row[2] for row in earlier), default=None)
        latest = [row for row in earlier if row[2] == newest]
        if len(latest) > 1 and sum(row[3] == title for row in latest) == 1:
            latest = [row for row in latest if row[3] == title]
        previous.append(latest[0][0] if len(latest) == 1 else None)
        if len(latest) > 1:
            warnings[plan_id] = (
                f"{plan_id}: no previous plan set, {len(latest)} plans started in {latest[0][2]}: "
                f"{', '.join(row[0] for row in latest)}"
            )
    plans = plans.copy()
    plans["previous_plan_id"] = pd.Series(previous, index=plans.index, dtype=object)
    return plans, warnings


@dataclass
class Assembled:
    """What assemble makes: the tables, and the warnings it gave files as records. A documents row holds only
    their words; a view that needs what they say (the report's plans read twice) takes the records, and the run
    keeps them in OUT/manifest.json for a view made later."""

    tables: dict[str, pd.DataFrame]
    read_twice: list[ReadTwice]  # in the order their warnings were given
    notices: list[FileNotice]  # every other warning assemble gave a file, in the order given
    corrections: list[CorrectionOutcome]  # each row of corrections.csv applied or refused, in line order
    adds_nothing: dict[str, str]  # file -> where its plans were all read before it, for the terminal


# A file's rows, or its index and how to read its rows (only when the tables keep some plan of it): a run adding one
# file to thousands would otherwise decode every file's rows, and hold them all at once.
Rows = FileRows | tuple[FileIndex, Callable[[], FileRows]]


def indexed(rows: Rows) -> tuple[FileIndex, Callable[[], FileRows]]:
    """A file's index and how to read its rows, from either form of Rows."""
    if isinstance(rows, FileRows):
        return index_of(rows), lambda: rows
    return rows


def same_start_year(source_file: str, pid: str, base: str, plan: PlanKey) -> FileNotice:
    """The warning of a plan whose id got a suffix: another plan of its municipality starts the same year."""
    return FileNotice(
        "same_start_year",
        source_file,
        f"{pid}: 「{plan.plan_title}」, another plan of {plan.municipality} starting the same year as {base}",
        [pid, base],
    )


def correct_file(
    source_file: str,
    rows: FileRows,
    ids: dict[int, str],
    corrections: list[Correction],
    tagger: Callable[[], Tagger],
) -> tuple[FileRows, list[CorrectionOutcome]]:
    """A file's rows with the corrections of its bytes applied (RAW/corrections.csv), each plan they change tagged
    again, and what became of each. A correction applies only to what the file reads now: it is refused when its
    plan is none of the file's kept plans, when its pillar, project or caption is not read, when the value it says
    was read is not what is read (the reading changed), or when an earlier line corrects the same thing. Pillars and
    projects are named by their numbers as read; projects are numbered again after one is added or removed.
    The rows given are not changed: they may be the cache's."""
    edits = Edits(copy.deepcopy(rows))
    place_of = {pid: place for place, pid in ids.items()}
    taken: dict[tuple, int] = {}  # (plan's place, what a correction applied to) -> its line
    outcomes = []
    for c in corrections:
        place = place_of.get(c.plan_id)
        if place is None:
            outcomes.append(not_kept(c, source_file))
            continue
        refused, targets, at = find_target(c, rows, place)
        twice = [taken[place, *target] for target in targets if (place, *target) in taken]
        if refused is None and twice:
            refused = f"line {twice[0]} corrects the same already"
        if refused is None:
            edits.apply(c, place, at)
            taken.update({(place, *target): c.line for target in targets})
        outcomes.append(CorrectionOutcome(c, source_file, refused))
        if refused is None:
            add_review_reason(edits.new.plans[place].row, "corrected", f"corrections.csv line {c.line}: {c.field}")
    corrected = edits.rows()
    for place in sorted(edits.changed):
        set_tags(
            tagger(),
            [(place, corrected.plans[place])],
            [e for e in corrected.pillars if e.plan == place],
            [e for e in corrected.projects if e.plan == place],
        )
    return corrected, outcomes


def not_kept(c: Correction, source_file: str) -> CorrectionOutcome:
    """A correction refused because its plan is none of those the tables keep from the file of its bytes."""
    return CorrectionOutcome(c, source_file, f"{c.plan_id} is no plan kept from {source_file}")


def find_target(c: Correction, rows: FileRows, place: int) -> tuple[str | None, list[tuple], int | None]:
    """What a correction of the plan at `place` applies to in the rows as read: why it cannot apply (None when it
    can), what it changes (two corrections changing one thing cannot both apply), and the place of its caption in
    the plan's, of its pillar in rows.pillars or of its project in rows.projects (the one an added project goes
    before)."""
    plan = rows.plans[place].row
    pillars = {e.row["pillar_no"]: i for i, e in enumerate(rows.pillars) if e.plan == place}
    projects = {(e.row["pillar_no"], e.row["project_no"]): i for i, e in enumerate(rows.projects) if e.plan == place}
    if c.pillar_no is not None and c.pillar_no not in pillars:
        return f"{c.plan_id} has no pillar {c.pillar_no}", [], None
    if c.project_no is not None and (c.pillar_no, c.project_no) not in projects:
        return f"pillar {c.pillar_no} of {c.plan_id} has no project {c.project_no}", [], None
    if c.field in ("plan_title", "summary"):
        return differs(plan[c.field], c.as_read), [(c.field,)], None
    if c.field in ("photo_caption", "remove_photo_caption"):
        if c.as_read not in plan["photo_captions"]:
            return f"{c.plan_id} has no caption 「{c.as_read}」", [], None
        return None, [("photo_caption", c.as_read)], plan["photo_captions"].index(c.as_read)
    if c.field == "add_photo_caption":
        return None, [(c.field, c.corrected)], None
    if c.field == "pillar_title":
        at = pillars[c.pillar_no]
        return differs(rows.pillars[at].row["pillar_title"], c.as_read), [(c.field, c.pillar_no)], at
    if c.field == "add_project":
        return None, [(c.field, c.pillar_no, c.corrected)], projects.get((c.pillar_no, c.project_no))
    at = projects[c.pillar_no, c.project_no]
    read = rows.projects[at].row["project_detail" if c.field == "project_detail" else "project_name"]  # a removal
    kinds = ("project_name", "project_detail") if c.field == "remove_project" else (c.field,)  # names its project
    return differs(read, c.as_read), [(kind, c.pillar_no, c.project_no) for kind in kinds], at


@dataclass
class Edits:
    """Corrections applied to a copy of a file's rows (correct_file): the changes of value made in place, the
    captions and projects removed or added kept apart until rows() puts them in, so that every correction is found
    in the rows as read."""

    new: FileRows
    changed: set[int] = field(default_factory=set)  # places of the plans changed, to tag again
    removed_captions: set[tuple[int, int]] = field(default_factory=set)  # (plan's place, caption's place)
    added_captions: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    removed_projects: set[int] = field(default_factory=set)  # places in rows.projects
    added_projects: list[tuple[int | None, ChildRows]] = field(default_factory=list)  # (place it goes before, row)

    def apply(self, c: Correction, place: int, at: int | None) -> None:
        """Apply a correction found applicable (find_target) to the plan at `place`; `at` as find_target gives it."""
        self.changed.add(place)
        plan = self.new.plans[place].row
        if c.field in ("plan_title", "summary", "photo_caption", "remove_photo_caption", "add_photo_caption"):
            plan["is_corrected"] = True
        if c.field in ("plan_title", "summary"):
            plan[c.field] = c.corrected
        elif c.field == "photo_caption":
            plan["photo_captions"][at] = c.corrected
        elif c.field == "remove_photo_caption":
            self.removed_captions.add((place, at))
        elif c.field == "add_photo_caption":
            self.added_captions[place].append(c.corrected)
        elif c.field == "pillar_title":
            self.new.pillars[at].row.update(pillar_title=c.corrected, is_corrected=True)
        elif c.field in ("project_name", "project_detail"):
            self.new.projects[at].row.update({c.field: c.corrected, "is_corrected": True})
        else:  # a project added or removed: its pillar is corrected
            pillar = next(e for e in self.new.pillars if e.plan == place and e.row["pillar_no"] == c.pillar_no)
            pillar.row["is_corrected"] = True
            if c.field == "remove_project":
                self.removed_projects.add(at)
            else:
                name, detail = split_name_detail(c.corrected)
                row = {"pillar_no": c.pillar_no, "project_no": 0, "project_name": name, "project_detail": detail}
                where = {name: pillar.row[name] for name in ("page", *BOX_COLUMNS)}  # it stands in its pillar
                added = ChildRows(place, {**row, **where, "is_corrected": True}, [])
                self.added_projects.append((at, added))

    def rows(self) -> FileRows:
        """The corrected rows: captions removed and added, projects removed and added, numbered again."""
        for place in self.changed:
            plan = self.new.plans[place].row
            kept = [text for i, text in enumerate(plan["photo_captions"]) if (place, i) not in self.removed_captions]
            plan["photo_captions"] = kept + self.added_captions[place]
        self.new.projects = numbered(self.new.projects, self.removed_projects, self.added_projects)
        return self.new


def differs(current: str | None, as_read: str | None) -> str | None:
    """Why a correction is refused when the value it says was read is not the value read now; None when it is."""
    if current == as_read:
        return None
    shown = "nothing" if current is None else f"「{current}」"
    return f"reads {shown} now, not 「{as_read or ''}」: the file or its reading changed"


def numbered(
    projects: list[ChildRows], removed: set[int], added: list[tuple[int | None, ChildRows]]
) -> list[ChildRows]:
    """A file's projects without those removed (by place), with those added before a project (by place) or after
    their pillar's last, each pillar's numbered again from 1."""
    last = {(e.plan, e.row["pillar_no"]): i for i, e in enumerate(projects)}
    out = []
    for i, e in enumerate(projects):
        out += [a for before, a in added if before == i]
        out += [e] if i not in removed else []
        key = (e.plan, e.row["pillar_no"])
        if last[key] == i:
            out += [a for before, a in added if before is None and (a.plan, a.row["pillar_no"]) == key]
    out += [a for before, a in added if before is None and (a.plan, a.row["pillar_no"]) not in last]
    counts: dict[tuple, int] = defaultdict(int)
    for e in out:
        counts[e.plan, e.row["pillar_no"]] += 1
        e.row["project_no"] = counts[e.plan, e.row["pillar_no"]]
    return out


def assemble(
    files: list[tuple[str, Rows]],
    sources: Sources | None = None,
    corrections: list[Correction] = (),
    tagger: Callable[[], Tagger] = Tagger,
) -> Assembled:
    """documents, plans, pillars, projects and tags from (source_file, rows) pairs, with what `sources` (RAW's
    sources.csv) says of each file and the `corrections` (RAW's corrections.csv) applied to the plans kept
    (correct_file), those a correction changes tagged again by `tagger()`, called only then (the tagger is costly
    to load): the steps that need every file. The vocabulary and municipalities tables come along, so that every
    code in the others can be looked up.

    Plans are read in (file name, page) order, so that ids do not depend on the order files come in. The same
    plan (municipality, start year and title) read twice is kept once, from the first file, and each pair of
    files is told so (a ReadTwice); a file all of whose plans were read before adds nothing. Two plans of one
    municipality and start year with different titles are both kept: the first gets the plain id, the others
    `-2`, `-3`… Rows given as an index are read, after every file's index, only for a file some of whose plans are
    kept, and let go after it.
    """
    from pipeline.core.schema import TABLES
    from pipeline.outputs.tables import frame
    from pipeline.tagging.tagger import set_code_columns, tag_rows, tags_frame

    sources = sources or Sources({}, {}, [])
    docs: dict[str, dict] = {}
    warnings_of: dict[str, list[str]] = {}  # file -> the words of its documents warnings, in the order given
    notices: list[FileNotice] = []
    rows_of: dict[str, list[tuple[dict, list]]] = {"plans": [], "pillars": [], "projects": []}  # (row, tags)
    read: dict[tuple, tuple[str, str]] = {}  # (code or name, start year, title) -> (plan id, file)
    ids_taken: dict[str, int] = {}  # plain id -> plans given it or a suffix of it
    repeats: dict[tuple[str, str], list[str]] = defaultdict(list)  # (first file, later file) -> plan ids
    adds_nothing: dict[str, str] = {}

    def tell(notice: FileNotice) -> None:
        notices.append(notice)
        warnings_of[notice.source_file].append(notice.message)

    kept: list[tuple[str, FileIndex, Callable[[], FileRows], dict, dict[int, str]]] = []  # files with plans kept
    for source_file, rows in sorted(files, key=lambda pair: pair[0]):
        index, load = indexed(rows)
        keys = [plan.key for plan in index.plans]
        if keys and not index.document["plans_rejected"] and all(key in read for key in keys):
            origins = sorted({read[key][1] for key in keys})
            adds_nothing[source_file] = f"all {len(keys)} plans already read from {', '.join(origins)}"
        described, told = describe_source(source_file, index.document, sources)
        warnings_of[source_file] = list(index.document["warnings"])
        for notice in told:
            tell(notice)
        ids: dict[int, str] = {}  # place in index.plans of each plan kept -> its id
        for place, plan in enumerate(index.plans):
            warnings_of[source_file] += [notice.message for notice in plan.warnings]
            if plan.key in read:
                first_id, first_file = read[plan.key]
                repeats[(first_file, source_file)].append(first_id)
                continue
            base = plan.base_id
            ids_taken[base] = ids_taken.get(base, 0) + 1
            pid = base if ids_taken[base] == 1 else f"{base}-{ids_taken[base]}"
            if pid != base:
                tell(same_start_year(source_file, pid, base, plan))
            read[plan.key] = (pid, source_file)
            ids[place] = pid
        if ids:
            kept.append((source_file, index, load, described, ids))
        docs[source_file] = {**index.document, **described, "source_file": source_file, "plans_found": len(ids)}
    tagger = cache(tagger)  # one tagger for every plan corrected
    to_correct: dict[str, list[Correction]] = defaultdict(list)  # sha256 -> its corrections, in line order
    for correction in sorted(corrections, key=lambda c: c.line):
        to_correct[correction.source_sha256].append(correction)
    outcomes: list[CorrectionOutcome] = []
    for source_file, index, load, described, ids in kept:
        rows = load()
        if [plan.key for plan in rows.plans] != [plan.key for plan in index.plans]:
            raise ValueError(f"{source_file}: its rows are not those its index was made from")
        if fixes := to_correct.pop(rows.document["source_sha256"], []):
            rows, done = correct_file(source_file, rows, ids, fixes, tagger)
            outcomes += done
        provenance = {"source_file": source_file, "source_sha256": rows.document["source_sha256"]}
        read_in = {"round": described["round"], "round_fy": described["round_fy"], "previous_plan_id": None}
        rows_of["plans"] += [
            ({"plan_id": ids[place], "is_corrected": False, **plan.row, **read_in, **provenance}, plan.tags)
            for place, plan in enumerate(rows.plans)
            if place in ids
        ]
        for table, entries in (("pillars", rows.pillars), ("projects", rows.projects)):
            rows_of[table] += [
                ({"plan_id": ids[e.plan], "is_corrected": False, **e.row, **provenance}, e.tags)
                for e in entries
                if e.plan in ids
            ]
    outcomes += unapplied(to_correct, docs)
    read_twice = [ReadTwice(first, later, ids) for (first, later), ids in repeats.items()]
    for pair in read_twice:
        for source_file, words in pair.warnings():
            warnings_of[source_file].append(words)
    tables = {}
    tags = []
    for table, level in (("plans", "plan"), ("pillars", "pillar"), ("projects", "project")):
        key = TABLES[table][1]
        framed = frame([row for row, _ in rows_of[table]], table)
        tags_of = {tuple(row[name] for name in key): row_tags for row, row_tags in rows_of[table]}
        tables[table] = set_code_columns(framed, key, tags_of)  # by key: frame sorted the rows
        for row, row_tags in rows_of[table]:
            tags += tag_rows(level, row["plan_id"], row.get("pillar_no"), row.get("project_no"), row_tags)
    tables["tags"] = tags_frame(tags)
    tables["plans"], unlinked = link_previous_plans(tables["plans"])
    for plan_id, source_file in zip(tables["plans"]["plan_id"], tables["plans"]["source_file"], strict=True):
        if plan_id in unlinked:
            tell(FileNotice("no_previous_plan", source_file, unlinked[plan_id], [plan_id]))
    needing = Counter(row["source_file"] for row, _ in rows_of["plans"] if row["needs_review"])
    documents = frame(
        [{**doc, "warnings": warnings_of[name], "plans_needing_review": needing[name]} for name, doc in docs.items()],
        "documents",
    )
    return Assembled(
        {"documents": documents, **tables, **reference_tables()},
        read_twice,
        notices,
        sorted(outcomes, key=lambda outcome: outcome.correction.line),
        adds_nothing,
    )


def unapplied(to_correct: dict[str, list[Correction]], docs: dict[str, dict]) -> list[CorrectionOutcome]:
    """The corrections left when every kept file had its own, refused: for bytes no file has (the file changed or
    is gone), or for a file none of whose plans is kept (all read from another file first)."""
    file_of = {}  # sha256 -> the first file of those bytes by name
    for name, doc in sorted(docs.items(), reverse=True):
        file_of[doc["source_sha256"]] = name
    return [
        not_kept(c, file_of[sha])
        if sha in file_of
        else CorrectionOutcome(c, None, "no file in the raw folder has these bytes: the file changed or is gone")
        for sha, fixes in to_correct.items()
        for c in fixes
    ]


def reference_tables() -> dict[str, pd.DataFrame]:
    """The vocabulary and municipalities tables, checked against the schema like every other table."""
    from pipeline.outputs.tables import frame
    from pipeline.tagging.vocabulary import load_vocabulary

    return {
        "vocabulary": frame(load_vocabulary().to_dict("records"), "vocabulary"),
        "municipalities": frame(list(municipality_rows()), "municipalities"),
    }


def build_tables(segments: list[tuple[str, SegmentRecord]]) -> dict[str, pd.DataFrame]:
    """documents, plans, pillars and projects, untagged, from (source_file, segment record) pairs (assemble)."""
    tables = assemble([(source_file, file_rows(seg)) for source_file, seg in segments]).tables
    del tables["tags"]
    return tables
