"""OUT/report.html: one page on what was read, in Japanese with English subtitles, and OUT/crops beside it.

Sections, listed at the top: what changed since the previous run (the changes table, opened by one sentence), the
plans that need a person's check (each beside the crop of its page: pipeline.outputs.crops), the documents and their
status, plans per round and municipality (a bar per municipality, coloured by the plan's first fiscal year), a
heatmap of themes by municipality, instruments by plan, the plans, pillars and projects per theme and instrument,
the projects without a tag, each plan's pillars and projects (collapsed, with its crop), the corrections of
RAW/corrections.csv applied and refused, the plans read from two files (one line per pair of files), the other
warnings. Nothing needs JavaScript. The charts are HTML tables with shaded cells and CSS bars, drawn by the browser:
no plotting library to import, no font to embed, and every text stays text, escaped by the template engine (Jinja2,
autoescaping), so no name or title can become markup. The only files the page loads are its crops. The same tables
give the same bytes.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from pipeline import PIPELINE_VERSION
from pipeline.core.io import sha256_file
from pipeline.core.records import CorrectionOutcome, ReadTwice, from_dict
from pipeline.core.schema import FIELDS, STRINGS, TABLES
from pipeline.outputs.changes import summarize
from pipeline.outputs.crops import Crop, crops_of
from pipeline.outputs.page import render_page, write_page

REPORT_NAME = "report.html"

CHART_IDS = {
    "rounds": "chart-plans-by-municipality-and-round",
    "themes": "chart-themes-by-municipality",
    "instruments": "chart-instruments-by-plan",
}
HEATMAP_ID = CHART_IDS["themes"]
# The page's sections in order: the anchor of each one's heading, its Japanese and English titles. The table of
# contents and the headings are both drawn from this, so that every link finds its section.
SECTIONS = {
    "changes": ("前回からの変更", "What changed since the previous run"),
    "review": ("確認が必要な計画", "Plans that need a person's check, beside the page they were read from"),
    "documents": ("読み込んだ文書と処理結果", "Documents read and their status"),
    "rounds": ("承認回・区市町村別の計画", "Plans per approval round and municipality"),
    "history": ("区市町村ごとの計画の推移", "Each municipality's plans across rounds: themes gained and dropped"),
    "themes": ("区市町村別の政策テーマ", "Policy themes by municipality (heatmap)"),
    "instruments": ("計画別の支援手法", "Policy instruments by plan"),
    "tag-totals": ("政策テーマ・支援手法ごとの件数", "Plans, pillars and projects per theme and instrument"),
    "untagged": ("タグのない事業", "Projects with no theme and no instrument"),
    "plan-details": ("計画ごとの柱と事業", "Each plan's pillars and projects"),
    "corrections": ("訂正", "Corrections"),
    "read-twice": ("重複して読んだ計画", "Plans read twice"),
    "warnings": ("警告とエラー", "Warnings and errors"),
}
LEVELS = ("plan", "pillar", "project")
# Rows of the changes table the page lists at most: a run that adds a round adds a few dozen plans, one that reads
# everything anew (a new vocabulary) may change thousands of fields, which the table holds and the page counts.
CHANGES_SHOWN = 200
# Colours of the rounds' bar segments, told apart by lightness too (a grey print or a colour-blind reader).
ROUND_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
# A heatmap cell's lightness runs from this (no count) down to that (the largest count); under the middle its
# number is written in white to stay legible.
HEAT_LIGHTEST, HEAT_DARKEST, HEAT_WHITE_TEXT = 97, 32, 60


def _items(value) -> list[str]:
    """A list cell as a Python list, whether it came from the pipeline (list) or from Parquet (ndarray)."""
    if value is None or isinstance(value, str):
        return [] if value is None else [value]
    try:
        return [str(v) for v in value]
    except TypeError:  # NaN and other scalars: no items
        return []


def _vocabulary() -> tuple[dict[str, list[str]], dict[str, str]]:
    """Codes per kind in vocabulary order, and each code's Japanese label."""
    from pipeline.tagging.vocabulary import load_vocabulary

    vocabulary = load_vocabulary()
    codes = {kind: vocabulary.loc[vocabulary["kind"] == kind, "code"].tolist() for kind in ("theme", "instrument")}
    return codes, dict(zip(vocabulary["code"], vocabulary["label_ja"], strict=True))


def _municipality_order(plans: pd.DataFrame) -> list[str]:
    """Municipalities in code order (Tokyo's own order), those without a code last by name."""
    first = plans.groupby("municipality", sort=False)["municipality_code"].first()
    return sorted(first.index, key=lambda m: (pd.isna(first[m]), first[m] if not pd.isna(first[m]) else "", m))


def _add_other_codes(codes: list[str], found) -> list[str]:
    """The vocabulary's codes, then those found that it does not hold (tables of an older vocabulary) by name:
    a count is never dropped for want of a column."""
    return codes + sorted(set(found) - set(codes))


def _themes_matrix(plans: pd.DataFrame, codes: list[str], labels: dict[str, str]) -> pd.DataFrame:
    order = _municipality_order(plans)
    columns = _add_other_codes(codes, (t for v in plans["themes"] for t in _items(v)))
    counts = Counter(
        (muni, t) for muni, themes in zip(plans["municipality"], plans["themes"], strict=True) for t in _items(themes)
    )
    matrix = _count_matrix(counts, order, columns)
    matrix.columns = [f"{labels.get(c, c)} ({c})" for c in columns]
    return matrix


def _count_matrix(counts: Counter, rows: list, columns: list[str]) -> pd.DataFrame:
    """A rows × columns frame of counts, built whole (filling a frame cell by cell costs a lookup per count)."""
    return pd.DataFrame([[counts[row, column] for column in columns] for row in rows], index=rows, columns=columns)


def _plan_label(row) -> str:
    fy = "" if pd.isna(row.period_start_fy) else f" {int(row.period_start_fy)}"
    return f"{row.municipality}{fy}"


def _instruments_matrix(plans: pd.DataFrame, projects: pd.DataFrame, codes: list[str], labels: dict[str, str]):
    """Projects per plan and instrument; a ○ where only the plan's own text names the instrument."""
    columns = _add_other_codes(codes, (t for v in plans["instruments"] for t in _items(v)))
    counts = Counter(
        (pid, t)
        for pid, instruments in zip(projects["plan_id"], projects["instruments"], strict=True)
        for t in _items(instruments)
    )
    matrix = _count_matrix(counts, plans["plan_id"].tolist(), columns)
    marks = [["○" if c in set(_items(v)) else "" for c in columns] for v in plans["instruments"]]
    matrix.index = [_plan_label(row) for row in plans.itertuples()]
    matrix.columns = [f"{labels.get(c, c)} ({c})" for c in columns]
    return matrix, marks


def _frame(tables: dict[str, pd.DataFrame], name: str) -> pd.DataFrame:
    df = tables.get(name)
    return df.reset_index(drop=True) if df is not None else pd.DataFrame(columns=TABLES[name][0])


def _value(v):
    """A cell as a plain Python value: pandas' missing markers as None, whole numbers as int."""
    if v is None or (not isinstance(v, (list, tuple, str)) and pd.isna(v)):
        return None
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _list_rows(df: pd.DataFrame, names: tuple[str, ...]) -> list[dict]:
    """Rows as dicts of plain values, list columns as lists: what the template loops over."""

    def plain(name, v):
        return _items(v) if FIELDS[name][0] == STRINGS else _value(v)

    columns = [[plain(name, v) for v in df[name].tolist()] for name in names]  # by column: no row objects
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _documents(documents: pd.DataFrame, other_warnings: dict[str, list[str]], read_twice: list[dict]) -> list[dict]:
    """The documents' rows; their warnings but those of plans read twice, which get a link to their list."""
    in_pairs = {name for pair in read_twice for name in (pair["first"], pair["later"])}
    return [
        {
            "source_file": row.source_file,
            "status": row.status,
            "pages": _value(row.pages),
            "plans_found": _value(row.plans_found),
            "plans_needing_review": _value(row.plans_needing_review),
            "plans_rejected": _value(row.plans_rejected),
            "lines_by_default": _value(row.lines_by_default),
            "error": _value(row.error),
            "warnings": other_warnings[row.source_file],
            "read_twice": row.source_file in in_pairs,
            "vertical_pages": ", ".join(_items(row.vertical_pages)),
            "unmapped_pages": ", ".join(_items(row.pages_with_unmapped_glyphs)),
            "sha256": _value(row.source_sha256) or "",
        }
        for row in documents.itertuples()
    ]


UNKNOWN_ROUND = "不明 / unknown"


def _by_round(plans: pd.DataFrame) -> pd.DataFrame:
    """The plans with a `round_label`, in round order: by the round's fiscal year, then its name (前期 before 後期),
    plans of no known round last."""
    plans = plans.assign(round_label=plans["round"].fillna(UNKNOWN_ROUND))
    return plans.sort_values(["round_fy", "round", "plan_id"], na_position="last", kind="stable")


def _rounds(plans: pd.DataFrame) -> dict:
    """Plans per approval round, and one bar per municipality made of a segment per round."""
    plans = _by_round(plans)
    per_round = plans.groupby("round_label", sort=False).agg(
        plans=("plan_id", "size"), municipalities=("municipality", "nunique")
    )
    counts = plans.groupby(["municipality", "round_label"], sort=False).size().unstack(fill_value=0)
    counts = counts.reindex(_municipality_order(plans)).fillna(0)
    widest = max(int(counts.sum(axis=1).max()), 1) if len(counts) else 1
    colours = {fy: ROUND_COLOURS[i % len(ROUND_COLOURS)] for i, fy in enumerate(counts.columns)}
    bars = [
        {
            "municipality": municipality,
            "total": int(row.sum()),
            "segments": [
                {"round": label, "count": int(n), "width": round(100 * n / widest, 2), "colour": colours[label]}
                for label, n in row.items()
                if n
            ],
        }
        for municipality, row in counts.iterrows()
    ]
    return {
        "table": [
            {"round": label, "plans": int(r.plans), "municipalities": int(r.municipalities)}
            for label, r in zip(per_round.index, per_round.itertuples(), strict=True)
        ],
        "bars": bars,
        "legend": [{"round": label, "colour": colour} for label, colour in colours.items()],
    }


def _histories(plans: pd.DataFrame) -> list[dict]:
    """Per municipality, its plans in order of their first year, each with the themes it gained and dropped
    against its previous plan (plans.previous_plan_id)."""
    themes = dict(zip(plans["plan_id"], (set(_items(t)) for t in plans["themes"]), strict=True))
    groups: dict[str, list] = {}  # municipality -> its plans; one pass, where a groupby sorted each group apart
    for plan in plans.itertuples():
        if not pd.isna(plan.municipality):
            groups.setdefault(plan.municipality, []).append(plan)
    histories = []
    for municipality, group in groups.items():
        rows = []
        group.sort(key=_first_year_order)
        for plan in group:
            previous = None if pd.isna(plan.previous_plan_id) else plan.previous_plan_id
            now, before = themes[plan.plan_id], themes.get(previous, set())
            rows.append(
                {
                    "plan_id": plan.plan_id,
                    "round": _value(plan.round) or UNKNOWN_ROUND,
                    "period": _value(plan.period_text),
                    "previous": previous,
                    "gained": sorted(now - before) if previous else [],
                    "dropped": sorted(before - now) if previous else [],
                }
            )
        histories.append({"municipality": municipality, "plans": rows})
    order = {name: i for i, name in enumerate(_municipality_order(plans))}
    return sorted(histories, key=lambda h: order[h["municipality"]])


def _first_year_order(plan) -> tuple:
    """A plan's place among its municipality's: by first year, unknown years last, then by id."""
    unknown = pd.isna(plan.period_start_fy)
    return unknown, 0 if unknown else plan.period_start_fy, plan.plan_id


def _heatmap(matrix: pd.DataFrame, marks=None) -> dict:
    """A count matrix as table rows of shaded cells; a cell without count may show a mark instead."""
    top = max(int(matrix.to_numpy().max()), 1) if matrix.size else 1
    rows = []
    for r, (label, values) in enumerate(matrix.iterrows()):
        cells = []
        for c, v in enumerate(values.tolist()):
            lightness = round(HEAT_LIGHTEST - (HEAT_LIGHTEST - HEAT_DARKEST) * v / top)
            cells.append(
                {
                    "text": str(int(v)) if v else (marks[r][c] if marks else ""),
                    "lightness": lightness,
                    "white": lightness < HEAT_WHITE_TEXT,
                }
            )
        rows.append({"label": label, "cells": cells})
    return {"columns": list(matrix.columns), "rows": rows}


def _nest_plans(
    plans: pd.DataFrame, pillars: pd.DataFrame, projects: pd.DataFrame, crops: dict[str, list[str]]
) -> list[dict]:
    """Each plan with its pillars, each pillar with its projects, its review reasons (code, labels, what it means
    and what to check) and its crops' paths under OUT (`crops`, by plan id): the plans' sections and the review."""
    from pipeline.core.reference import review_reasons

    reasons = review_reasons()
    projects_of = defaultdict(list)
    for project in _list_rows(
        projects, ("plan_id", "pillar_no", "project_no", "project_name", "project_detail", "themes", "instruments")
    ):
        projects_of[project["plan_id"], project["pillar_no"]].append(project)
    pillars_of = defaultdict(list)
    for pillar in _list_rows(pillars, ("plan_id", "pillar_no", "pillar_title", "has_more_projects")):
        key = pillar["plan_id"], pillar["pillar_no"]
        pillars_of[key[0]].append({**pillar, "projects": projects_of[key]})
    return [
        {
            **plan,
            "pillars": pillars_of[plan["plan_id"]],
            "reasons": [reasons.get(code, {"code": code}) for code in plan["review_reasons"]],
            "crops": crops.get(plan["plan_id"], []),
        }
        for plan in _list_rows(
            plans,
            (
                "plan_id",
                "municipality",
                "municipality_code",
                "plan_title",
                "period_text",
                "round",
                "summary",
                "photo_captions",
                "needs_review",
                "review_reasons",
                "review_notes",
                "source_file",
                "page_start",
                "boxes",
            ),
        )
    ]


def plan_crops(plans: pd.DataFrame, paths: dict[str, Path]) -> dict[str, list[Crop]]:
    """Each plan's crops (one per page it stands on), by plan id, its source's path taken from `paths` (source_file
    → path: a name shown with escapes is no path)."""
    if not len(plans):
        return {}
    return {
        plan_id: crops_of(paths.get(source_file, Path(source_file)), sha256, _items(boxes))
        for plan_id, source_file, sha256, boxes in zip(
            plans["plan_id"], plans["source_file"], plans["source_sha256"], plans["boxes"], strict=True
        )
    }


def _count_tags(tags: pd.DataFrame, codes: dict[str, list[str]], labels: dict[str, str]) -> dict[str, list[dict]]:
    """Per kind, each code with the number of plans, pillars and projects carrying it, zeros included: a code
    no text matched is news too. A tags row is one code on one plan, pillar or project (the table's key)."""
    counts = Counter(zip(tags["kind"].tolist(), tags["code"].tolist(), tags["level"].tolist(), strict=True))
    return {
        kind: [
            {"code": code, "label": labels.get(code, code), "counts": [counts[kind, code, lv] for lv in LEVELS]}
            for code in _add_other_codes(codes[kind], tags.loc[tags["kind"] == kind, "code"])
        ]
        for kind in codes
    }


def _find_untagged(projects: pd.DataFrame) -> list[dict]:
    """Projects no vocabulary term matched: where the vocabulary lacks a word, or a name was misread."""
    empty = [not _items(t) and not _items(i) for t, i in zip(projects["themes"], projects["instruments"], strict=True)]
    return _list_rows(projects.loc[empty], ("plan_id", "pillar_no", "project_no", "project_name", "project_detail"))


def _split_warnings(documents: pd.DataFrame, read_twice: list[ReadTwice]) -> tuple[list[dict], dict[str, list[str]]]:
    """The plans read twice, one line per pair of files, from the records (same bytes under two names are said
    so), and every other warning by file: the pairs' own warnings (ReadTwice.warnings, which normalize gives both
    files of a pair) are left out, the pair being listed once. Told apart by the words the record gives, never by
    reading the words back."""
    sha = dict(zip(documents["source_file"], documents["source_sha256"].map(_value), strict=True))
    told = Counter(told for pair in read_twice for told in pair.warnings())  # (file, words) -> times given
    others = {}
    for name, warnings in zip(documents["source_file"], documents["warnings"], strict=True):
        others[name] = []
        for warning in _items(warnings):
            if told[name, warning]:
                told[name, warning] -= 1
            else:
                others[name].append(warning)
    pairs = [
        {
            "first": pair.first_file,
            "later": pair.later_file,
            "plans": len(pair.plan_ids),
            "ids": ", ".join(pair.plan_ids),
            "same_bytes": sha[pair.later_file] is not None and sha[pair.first_file] == sha[pair.later_file],
        }
        for pair in read_twice
    ]
    return sorted(pairs, key=lambda pair: (pair["first"], pair["later"])), others


def _warnings(documents: pd.DataFrame, other_warnings: dict[str, list[str]]) -> list[dict]:
    """The warnings section: each file's warnings but its plans read twice (listed apart), then the failures."""
    rows = [{"source_file": name, "status": None, "text": w} for name, ws in other_warnings.items() for w in ws]
    return rows + [
        {"source_file": row.source_file, "status": row.status, "text": _value(row.error)}
        for row in documents.itertuples()
        if row.status != "ok"
    ]


def _changes(tables: dict[str, pd.DataFrame]) -> dict | None:
    """The changes section: its sentence in Japanese and English, the first CHANGES_SHOWN rows and how many more;
    None for tables without a changes table (made by hand)."""
    if "changes" not in tables:
        return None
    changes = _frame(tables, "changes")
    ja, en = summarize(changes, len(_frame(tables, "plans")))
    return {
        "ja": ja,
        "en": en,
        "rows": _list_rows(changes.head(CHANGES_SHOWN), tuple(TABLES["changes"][0])),
        "hidden": max(len(changes) - CHANGES_SHOWN, 0),
    }


def crop_names(plans: pd.DataFrame) -> list[str]:
    """The paths under OUT of every crop the report of these plans shows, sorted: the manifest keeps them, so that a
    run finds a crop removed by hand and makes it again."""
    return sorted(crop.name for crops in plan_crops(plans, {}).values() for crop in crops)


def _corrections(outcomes: list[CorrectionOutcome]) -> list[dict]:
    """Each correction with what became of it, in line order: the corrections section."""
    return [
        {
            "line": c.line,
            "sha256": c.source_sha256,
            "source_file": outcome.source_file,
            "plan_id": c.plan_id,
            "field": c.field,
            "pillar_no": c.pillar_no,
            "project_no": c.project_no,
            "as_read": c.as_read,
            "corrected": c.corrected,
            "reason": c.reason,
            "refused": outcome.refused,
        }
        for outcome in outcomes
        for c in [outcome.correction]
    ]


def report_context(
    tables: dict[str, pd.DataFrame],
    read_twice: list[ReadTwice],
    corrections: list[CorrectionOutcome] = (),
    crops: dict[str, list[Crop]] | None = None,
) -> dict:
    """What the report page shows, as plain values (what needs pandas is done here, so that the page can be
    rendered in a process without it: start_report), of the tables, the plans normalize found read twice in
    them (normalize.Assembled.read_twice, or recorded_read_twice of the folder they were written to), the
    corrections it applied or refused (Assembled.corrections, or recorded_corrections) and each plan's crops
    (plan_crops; without them, the crops a run made under OUT for the plans of these tables)."""
    documents, plans, pillars, projects, tags = (
        _frame(tables, n) for n in ("documents", "plans", "pillars", "projects", "tags")
    )
    crops = plan_crops(plans, {}) if crops is None else crops
    nested = _nest_plans(plans, pillars, projects, {pid: [c.name for c in made] for pid, made in crops.items()})
    codes, labels = _vocabulary()
    read_twice, other_warnings = _split_warnings(documents, read_twice)
    context = {
        "version": PIPELINE_VERSION,
        "sections": SECTIONS,
        "counts": {name: len(_frame(tables, name)) for name in TABLES},
        "titles": {name: spec[1] for name, spec in FIELDS.items()},
        "chart_ids": CHART_IDS,
        "changes": _changes(tables),
        "documents": _documents(documents, other_warnings, read_twice),
        "ok": int((documents["status"] == "ok").sum()) if len(documents) else 0,
        "plans": nested,
        "review": [plan for plan in nested if plan["needs_review"]],
        "rounds": _rounds(plans) if len(plans) else None,
        "histories": _histories(plans),
        "themes": _heatmap(_themes_matrix(plans, codes["theme"], labels)) if len(plans) else None,
        "instruments": _heatmap(*_instruments_matrix(plans, projects, codes["instrument"], labels))
        if len(plans)
        else None,
        "tag_totals": _count_tags(tags, codes, labels),
        "untagged": _find_untagged(projects),
        "corrections": _corrections(corrections),
        "read_twice": read_twice,
        "warnings": _warnings(documents, other_warnings),
    }
    return context


def render_report(
    tables: dict[str, pd.DataFrame], read_twice: list[ReadTwice], corrections: list[CorrectionOutcome] = ()
) -> str:
    """The report page as HTML text (report_context)."""
    return render_page(report_context(tables, read_twice, corrections))


def write_report(
    tables: dict[str, pd.DataFrame],
    out: Path,
    read_twice: list[ReadTwice],
    corrections: list[CorrectionOutcome] = (),
) -> Path:
    """Write OUT/report.html, showing the crops its run made; returns its path."""
    return write_page(report_context(tables, read_twice, corrections), Path(out) / REPORT_NAME)


def start_report(
    tables: dict[str, pd.DataFrame],
    out: Path,
    read_twice: list[ReadTwice],
    corrections: list[CorrectionOutcome],
    beside,
    paths: dict[str, Path],
) -> Callable[[], Path]:
    """Start writing OUT/report.html and its crops (`paths`: each source file's path) with `beside(function,
    *args)`, which runs it in a process of its own (the run's `run.workers.beside`, whose processes need no pandas:
    the page's values are made here), so that the run writes the rest meanwhile; what it returns gives the path, or
    raises what writing it raised."""
    crops = plan_crops(_frame(tables, "plans"), paths)
    context = report_context(tables, read_twice, corrections, crops)
    return beside(write_page, context, Path(out) / REPORT_NAME, crops)


def recorded(out: Path, key: str, what: str) -> list:
    """The records (`what` they are) the run that wrote the tables of OUT kept under `key` in OUT/manifest.json
    (pipeline.run.manifest.notices_record), as JSON, so that a report made later lists what the run's did. Refused
    when the manifest records none (an older run) or names other tables than OUT's documents: not a silently empty
    list."""
    path = Path(out) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if key not in manifest:
        raise ValueError(f"{path} records no {what} (an older run's): run the pipeline again")
    if manifest["outputs"].get("documents.parquet") != sha256_file(Path(out) / "documents.parquet"):
        raise ValueError(f"{path} is not the manifest of the documents.parquet beside it")
    return manifest[key]


def recorded_read_twice(out: Path) -> list[ReadTwice]:
    """The plans read twice in the tables of OUT, as the run that wrote them recorded them (recorded)."""
    return [from_dict(ReadTwice, pair) for pair in recorded(out, "read_twice", "plans read twice")]


def recorded_corrections(out: Path) -> list[CorrectionOutcome]:
    """The corrections applied or refused in the tables of OUT, as the run that wrote them recorded them (recorded)."""
    return [from_dict(CorrectionOutcome, outcome) for outcome in recorded(out, "corrections", "corrections")]


if __name__ == "__main__":  # python -m pipeline.outputs.report OUT: the report of the tables already in OUT
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "out")
    started = time.monotonic()
    written = write_report(
        {name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES},
        folder,
        recorded_read_twice(folder),
        recorded_corrections(folder),
    )
    print(f"{written} ({written.stat().st_size} bytes, {time.monotonic() - started:.2f} s)")
