"""The one source of truth for the output tables: fields, types, titles, descriptions, keys.

The Arrow schemas, the CSV layout, the datapackage and the README's data dictionary are all
generated from FIELDS and TABLES below; nothing else names a column's type.
"""

from __future__ import annotations

import pyarrow as pa

from pipeline.core.failures import STATUSES
from pipeline.core.reference import municipality_codes, vocabulary_codes

STRING, INT, NUMBER, BOOL, STRINGS = "string", "integer", "number", "boolean", "list"
MUNICIPALITY_KINDS = {"特別区": "special ward", "市": "city", "町": "town", "村": "village"}
ROUND_PATTERN = "^(令和|平成)(元|[0-9]{1,2})年度(前期|後期|第[0-9]{1,2}回)?$"
ARROW_TYPES = {
    STRING: pa.string(),
    INT: pa.int32(),
    NUMBER: pa.float64(),
    BOOL: pa.bool_(),
    STRINGS: pa.list_(pa.string()),
}

# name: (type, Japanese title, English description, constraints). An enum drawn from a bundled data file is given
# as the function that reads it, so that importing the schema reads no file (constraints() calls it).
FIELDS: dict[str, tuple[str, str, str, dict]] = {
    "source_file": (
        STRING,
        "ファイル名",
        "File name of the source PDF, relative to the raw folder; bytes of a name that "
        "are not UTF-8 are shown as \\xNN escapes.",
        {"required": True},
    ),
    "source_sha256": (
        STRING,
        "SHA-256",
        "SHA-256 of the source PDF's bytes: identifies the input whatever its name. "
        "Null only in documents, for an entry of the raw folder that is not a readable file.",
        {"pattern": "^[0-9a-f]{64}$"},
    ),
    "title": (
        STRING,
        "表題",
        "The summary's own title as printed on its first page (承認した…計画の概要, with a round "
        "such as （令和6年度後期） when it carries one); null when no such line was found.",
        {},
    ),
    "round": (
        STRING,
        "承認回",
        "Approval round, e.g. 令和6年度後期 or 令和2年度: from the file's row of the raw folder's "
        "sources.csv, else from the round in brackets at the end of the summary's title, else null. In plans, "
        "the round of the file the plan was read from; in changes, that of the plan the row is about (as the "
        "previous run read it, for a plan removed).",
        {"pattern": ROUND_PATTERN},
    ),
    "round_fy": (
        INT,
        "承認年度",
        "Fiscal year of the round (2024 for 令和6年度後期), to sort rounds by.",
        {"minimum": 1989, "maximum": 2100},
    ),
    "published": (
        STRING,
        "公表日",
        "Date the summary was published, YYYY-MM-DD, from sources.csv (the press release "
        "page, when `fetch` found a date on it); null when unknown.",
        {"pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    ),
    "url": (STRING, "URL", "Address the PDF was downloaded from, from sources.csv; null when unknown.", {}),
    "pages": (INT, "ページ数", "Number of pages in the PDF (null when it could not be opened).", {"minimum": 0}),
    "status": (
        STRING,
        "処理結果",
        f"`{STATUSES[0]}`, or the kind of failure: {', '.join(STATUSES[1:])}.",
        {"required": True, "enum": STATUSES},
    ),
    "error": (STRING, "エラー", "One-line reason the file failed; null when status is ok.", {}),
    "plans_found": (
        INT,
        "計画数",
        "Number of plans read from the file and kept (not already read from another file).",
        {"minimum": 0},
    ),
    "plans_needing_review": (
        INT,
        "要確認計画数",
        "Number of the plans kept from the file that need a person's check (plans.needs_review).",
        {"minimum": 0},
    ),
    "plans_rejected": (
        INT,
        "除外計画数",
        "Number of plans read but not kept because their text is unreadable (a "
        "broken font) or their header names no place; why is in warnings.",
        {"minimum": 0},
    ),
    "lines_by_default": (
        INT,
        "既定割当行数",
        "Number of text lines no rule claimed: lines before the first plan "
        "header (in no plan), and summary or project lines kept in the block before them across a "
        "page break or a gap wider than the paragraph gap, with no heading between. 0 when every "
        "line was read by a rule; `make explain FILE=…` lists them.",
        {"minimum": 0},
    ),
    "warnings": (
        STRINGS,
        "警告",
        "What was read but looked wrong (a pillar without projects, an unknown municipality).",
        {},
    ),
    "vertical_pages": (
        STRINGS,
        "縦書きページ",
        "Pages detected as vertical writing (tategaki), read right to left.",
        {},
    ),
    "pages_with_unmapped_glyphs": (
        STRINGS,
        "文字化けページ",
        "Pages with glyphs lacking a Unicode mapping ((cid:N) or U+FFFD); re-read with pypdfium2.",
        {},
    ),
    "text_source": (
        STRING,
        "テキストの読み取り方法",
        "How the file's text was read: pdf (its text layer), ocr (every page with text read by OCR from the page "
        "image: an image-only scan) or mixed (some pages by OCR, listed in ocr_pages); null when no page was read.",
        {"enum": ["pdf", "ocr", "mixed"]},
    ),
    "ocr_pages": (STRINGS, "OCRページ", "Pages read by OCR (Tesseract, jpn) from the page image.", {}),
    "ocr_confidence": (
        NUMBER,
        "OCR信頼度",
        "Mean confidence (0-100) Tesseract gave the lines of the pages read by OCR, weighted by their characters; "
        "null when no page was read by OCR.",
        {"minimum": 0, "maximum": 100},
    ),
    "plan_id": (
        STRING,
        "計画ID",
        "`<municipality_code>-<period_start_fy>`, e.g. 131091-2020, for the first plan of a "
        "municipality and year in (source_file, page_start) order; its other plans that year (other titles) "
        "get `-2`, `-3`… after it. The municipality name stands in for an unknown code, and "
        "`unknown-<first 8 of source_sha256>-p<page_start>` for an unread year.",
        {"required": True},
    ),
    "municipality": (
        STRING,
        "区市町村",
        "Municipality as printed in the plan header (normalized).",
        {"required": True},
    ),
    "municipality_code": (
        STRING,
        "全国地方公共団体コード",
        "6-digit local government code with check digit "
        "(municipalities.municipality_code); in plans null when the name is not one of Tokyo's 62 "
        "municipalities.",
        {"enum": municipality_codes},
    ),
    "name_ja": (STRING, "名称", "Name of the municipality in Japanese, e.g. 品川区.", {"required": True}),
    "name_en": (
        STRING,
        "英語名称",
        "Name of the municipality in English, as it names itself: the special wards call "
        "themselves cities (Shinagawa City).",
        {"required": True},
    ),
    "municipality_kind": (
        STRING,
        "区分",
        "特別区 (special ward), 市, 町 or 村.",
        {"required": True, "enum": list(MUNICIPALITY_KINDS)},
    ),
    "municipality_kind_en": (
        STRING,
        "区分（英語）",
        "The kind in English: special ward, city, town or village.",
        {"required": True, "enum": list(MUNICIPALITY_KINDS.values())},
    ),
    "plan_title": (STRING, "計画名", "Plan title inside 「」.", {"required": True}),
    "period_text": (STRING, "計画期間（表記）", "Plan period exactly as printed, e.g. 令和2年度～令和4年度.", {}),
    "period_start_fy": (
        INT,
        "開始年度",
        "First fiscal year of the plan (Gregorian year in which the FY starts).",
        {"minimum": 1989, "maximum": 2100},
    ),
    "period_end_fy": (INT, "終了年度", "Last fiscal year of the plan.", {"minimum": 1989, "maximum": 2100}),
    "previous_plan_id": (
        STRING,
        "前計画ID",
        "The same municipality's plan in these tables that started last before "
        "this one (plans.plan_id); null when there is none, when this plan's start year was not read, "
        "or when two plans started that year (a warning names them).",
        {},
    ),
    "summary": (STRING, "概要", "The plan's overview paragraph, lines joined without spaces.", {}),
    "photo_captions": (STRINGS, "写真キャプション", "Captions of the plan's photos, in page order.", {}),
    "themes": (STRINGS, "政策テーマ", "Policy theme codes (see the vocabulary).", {}),
    "instruments": (STRINGS, "支援手法", "Policy instrument codes (see the vocabulary).", {}),
    "page_start": (INT, "開始ページ", "Page of the plan's header line (1-based).", {"minimum": 1}),
    "page_end": (INT, "終了ページ", "Last page holding text of the plan.", {"minimum": 1}),
    "page": (INT, "ページ", "Page on which the row's text starts (1-based).", {"minimum": 1}),
    "box_x0": (
        NUMBER,
        "左端",
        "Left edge of the box around the row's text on its first page (page or page_start; plans include their "
        "photos and captions), in PDF points from the page's left edge. With box_top, box_x1 and box_bottom: "
        "crop the page there to see what the row was read from. On a sheet of several pages (a handout), the "
        "sheet's coordinates. Text set partly off the page gives a box beyond its edges (below 0, or past its "
        "width or height).",
        {},
    ),
    "box_top": (NUMBER, "上端", "Top edge of that box, in points from the page's top edge.", {}),
    "box_x1": (NUMBER, "右端", "Right edge of that box, in points from the page's left edge.", {}),
    "box_bottom": (NUMBER, "下端", "Bottom edge of that box, in points from the page's top edge.", {}),
    "page_width": (NUMBER, "ページ幅", "Width of the box's page, in points (1/72 inch).", {"minimum": 0}),
    "page_height": (NUMBER, "ページ高さ", "Height of the box's page, in points.", {"minimum": 0}),
    "boxes": (
        STRINGS,
        "全ページの位置",
        "The row's box on every page it stands on, in page order, each as `page:x0,top,x1,bottom` in points "
        "(a row over a page break has two); the first is the box_ columns'.",
        {},
    ),
    "needs_review": (
        BOOL,
        "要確認",
        "True when something in the plan's reading calls for a person's check against the page: see "
        "review_reasons. A plan not flagged was read by rules that raised no doubt.",
        {"required": True},
    ),
    "review_reasons": (
        STRINGS,
        "確認理由",
        "Why the plan needs review: codes of pipeline/data/review_reasons.csv (the data dictionary lists each with "
        "what it means and what to check), each once, in that file's order.",
        {},
    ),
    "review_notes": (
        STRINGS,
        "確認箇所",
        "What was found for each reason, with its page (p2: a photo at (300, 120) has no caption).",
        {},
    ),
    "pillar_no": (INT, "柱番号", "Number of the pillar within its plan, 1-based, as printed.", {"minimum": 1}),
    "pillar_title": (STRING, "柱", "Title of the pillar, without its number.", {"required": True}),
    "has_more_projects": (
        BOOL,
        "等あり",
        "True when the pillar's project list ends in 等 (more projects than listed).",
        {"required": True},
    ),
    "project_no": (INT, "事業番号", "Position of the project within its pillar, 1-based.", {"minimum": 1}),
    "project_name": (
        STRING,
        "事業名",
        "Project name: the item before its final parenthesised group.",
        {"required": True},
    ),
    "project_detail": (
        STRING,
        "事業内容",
        "Inside of the item's final parenthesised group; null when there is none.",
        {},
    ),
    "is_corrected": (
        BOOL,
        "訂正あり",
        "True when a row of the raw folder's corrections.csv changed this row: in plans its title, overview or "
        "captions; in pillars its title, or a project added or removed; in projects its name or detail. The "
        "report lists every correction, applied or refused, with its reason.",
        {"required": True},
    ),
    "level": (
        STRING,
        "階層",
        "Level the row applies to: plan, pillar or project (in tags, that of the row tagged; in changes, that of "
        "the row added, removed or changed).",
        {"required": True, "enum": ["plan", "pillar", "project"]},
    ),
    "change": (
        STRING,
        "変更",
        "added (a plan, pillar or project in this run's tables, not in the previous run's), removed (the other "
        "way round) or changed (a field of a row in both). The previous run's tables are those it left in the "
        "output folder, vouched for by its manifest; without them (a first run, or a set a killed run left mixed) "
        "every plan is added. A plan added or removed is one row, its pillars and projects not listed. A run "
        "writing the same tables again (--force) gives no row; a run with nothing new writes nothing, this table "
        "included.",
        {"required": True, "enum": ["added", "removed", "changed"]},
    ),
    "field": (
        STRING,
        "項目名",
        "The column that changed (plans.plan_title, projects.project_detail…); null for a row added or removed.",
        {},
    ),
    "before": (
        STRING,
        "変更前",
        "The field's value in the previous run's table, as text (a list as in the CSV: items joined with |, "
        "escaped); null when it was null, and for a row added or removed.",
        {},
    ),
    "after": (STRING, "変更後", "The field's value in this run's table, as `before` gives it.", {}),
    "kind": (STRING, "種別", "theme or instrument.", {"required": True, "enum": ["theme", "instrument"]}),
    "code": (STRING, "コード", "Tag code (vocabulary.code).", {"required": True, "enum": vocabulary_codes}),
    "label_ja": (STRING, "ラベル", "Japanese label of the code.", {"required": True}),
    "label_en": (STRING, "英語ラベル", "English label of the code.", {"required": True}),
    "covers": (
        STRING,
        "定義",
        "What the code means, in English: what a text must be about (a theme) or use (an instrument) to carry it. "
        "The labelled projects that measure the tagger were labelled from these definitions alone.",
        {"required": True},
    ),
    "excludes": (
        STRING,
        "対象外",
        "What looks like the code but does not carry it, in English, with the code it belongs to where there is one.",
        {"required": True},
    ),
    "terms": (
        STRINGS,
        "根拠語",
        "In tags, the vocabulary terms matched in the text, as evidence, and 'implied by X' for "
        "a theme that the code or term X implies (pipeline/data/implied_themes.csv); in vocabulary, every term "
        "that tags the code.",
        {},
    ),
}

# name: (fields in order, primary key, foreign keys as (fields, table) or, where the names differ,
# (fields, table, fields of that table))
TABLES: dict[str, tuple[list[str], list[str], list[tuple]]] = {
    "documents": (
        [
            "source_file",
            "source_sha256",
            "title",
            "round",
            "round_fy",
            "published",
            "url",
            "pages",
            "status",
            "error",
            "plans_found",
            "plans_needing_review",
            "plans_rejected",
            "lines_by_default",
            "warnings",
            "vertical_pages",
            "pages_with_unmapped_glyphs",
            "text_source",
            "ocr_pages",
            "ocr_confidence",
        ],
        ["source_file"],
        [],
    ),
    "plans": (
        [
            "plan_id",
            "municipality",
            "municipality_code",
            "plan_title",
            "period_text",
            "period_start_fy",
            "period_end_fy",
            "round",
            "round_fy",
            "previous_plan_id",
            "summary",
            "photo_captions",
            "themes",
            "instruments",
            "needs_review",
            "review_reasons",
            "review_notes",
            "is_corrected",
            "source_file",
            "source_sha256",
            "page_start",
            "page_end",
            "box_x0",
            "box_top",
            "box_x1",
            "box_bottom",
            "page_width",
            "page_height",
            "boxes",
        ],
        ["plan_id"],
        [
            (["source_file"], "documents"),
            (["municipality_code"], "municipalities"),
            (["previous_plan_id"], "plans", ["plan_id"]),
        ],
    ),
    "pillars": (
        [
            "plan_id",
            "pillar_no",
            "pillar_title",
            "has_more_projects",
            "themes",
            "instruments",
            "is_corrected",
            "source_file",
            "source_sha256",
            "page",
            "box_x0",
            "box_top",
            "box_x1",
            "box_bottom",
            "page_width",
            "page_height",
            "boxes",
        ],
        ["plan_id", "pillar_no"],
        [(["plan_id"], "plans")],
    ),
    "projects": (
        [
            "plan_id",
            "pillar_no",
            "project_no",
            "project_name",
            "project_detail",
            "themes",
            "instruments",
            "is_corrected",
            "source_file",
            "source_sha256",
            "page",
            "box_x0",
            "box_top",
            "box_x1",
            "box_bottom",
            "page_width",
            "page_height",
            "boxes",
        ],
        ["plan_id", "pillar_no", "project_no"],
        [(["plan_id", "pillar_no"], "pillars")],
    ),
    "tags": (
        ["level", "plan_id", "pillar_no", "project_no", "kind", "code", "label_ja", "terms"],
        ["level", "plan_id", "pillar_no", "project_no", "kind", "code"],
        [(["plan_id"], "plans"), (["code"], "vocabulary")],
    ),
    "changes": (
        ["change", "level", "plan_id", "pillar_no", "project_no", "field", "before", "after", "round"],
        ["change", "level", "plan_id", "pillar_no", "project_no", "field"],
        [],
    ),
    "vocabulary": (["code", "kind", "label_ja", "label_en", "covers", "excludes", "terms"], ["code"], []),
    "municipalities": (
        ["municipality_code", "name_ja", "name_en", "municipality_kind", "municipality_kind_en"],
        ["municipality_code"],
        [],
    ),
}


def constraints(name: str) -> dict:
    """A field's constraints, with an enum read from its data file where it is given as a function."""
    return {k: list(v() if callable(v) else v) if k == "enum" else v for k, v in FIELDS[name][3].items()}


def arrow_schema(table: str) -> pa.Schema:
    """Arrow schema of a table, each field carrying its title and description as metadata."""
    fields = []
    for name in TABLES[table][0]:
        kind, title, description, constraints = FIELDS[name]
        fields.append(
            pa.field(
                name,
                ARROW_TYPES[kind],
                nullable=not constraints.get("required", False),
                metadata={"title": title, "description": description},
            )
        )
    return pa.schema(fields)


def dictionary_markdown() -> str:
    """The README's data dictionary: one Markdown table per output table."""
    out = []
    for table, (names, key, _) in TABLES.items():
        out.append(f"### `{table}` (key: {', '.join(key)})\n")
        out.append("| column | type | 項目 | description |\n|---|---|---|---|")
        for name in names:
            kind, title, description, _ = FIELDS[name]
            shown = "list of strings" if kind == STRINGS else kind
            out.append(f"| `{name}` | {shown} | {title} | {description} |")
        out.append("")
    return "\n".join(out)
