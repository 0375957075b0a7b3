"""Whole rows of the output tables, for tests that build small tables by hand (pipeline.outputs.tables.frame):
each helper gives every column of its table a plausible value, and `values` replace them."""

# Where a row stands: a box on page 1 of an A4 page.
BOX = {
    "box_x0": 56.69,
    "box_top": 88.33,
    "box_x1": 538.52,
    "box_bottom": 516.5,
    "page_width": 595.28,
    "page_height": 841.89,
    "boxes": ["1:56.69,88.33,538.52,516.5"],
}


def document_row(**values) -> dict:
    """A documents row; `values` replace the defaults."""
    return {
        "source_file": "a.pdf",
        "source_sha256": "0" * 64,
        "title": None,
        "round": None,
        "round_fy": None,
        "published": None,
        "url": None,
        "pages": 3,
        "status": "ok",
        "error": None,
        "plans_found": 1,
        "plans_needing_review": 0,
        "plans_rejected": 0,
        "lines_by_default": 0,
        "warnings": [],
        "vertical_pages": [],
        "pages_with_unmapped_glyphs": [],
        "text_source": "pdf",
        "ocr_pages": [],
        "ocr_confidence": None,
        **values,
    }


def plan_row(**values) -> dict:
    """A plans row: 品川区's plan of 令和2年度 to 令和4年度; `values` replace the defaults."""
    return {
        "plan_id": "131091-2020",
        "municipality": "品川区",
        "municipality_code": "131091",
        "plan_title": "計画",
        "period_text": "令和2年度～令和4年度",
        "period_start_fy": 2020,
        "period_end_fy": 2022,
        "round": "令和2年度",
        "round_fy": 2020,
        "previous_plan_id": None,
        "summary": "概要",
        "photo_captions": [],
        "needs_review": False,
        "review_reasons": [],
        "review_notes": [],
        "is_corrected": False,
        "source_file": "a.pdf",
        "source_sha256": "0" * 64,
        "page_start": 1,
        "page_end": 2,
        **BOX,
        **values,
    }


def pillar_row(**values) -> dict:
    """A pillars row: the first of plan_row's plan; `values` replace the defaults."""
    return {
        "plan_id": "131091-2020",
        "pillar_no": 1,
        "pillar_title": "柱",
        "has_more_projects": False,
        "is_corrected": False,
        "source_file": "a.pdf",
        "source_sha256": "0" * 64,
        "page": 1,
        **BOX,
        **values,
    }


def project_row(**values) -> dict:
    """A projects row: the first of pillar_row's pillar; `values` replace the defaults."""
    return {
        "plan_id": "131091-2020",
        "pillar_no": 1,
        "project_no": 1,
        "project_name": "事業",
        "project_detail": None,
        "is_corrected": False,
        "source_file": "a.pdf",
        "source_sha256": "0" * 64,
        "page": 1,
        **BOX,
        **values,
    }
