"""The changes table: what this run's plans, pillars and projects add to, take from and change in the previous run's.

The previous run's tables are those it left in OUT, read only when its manifest vouches for them (read_previous):
a set a killed run left half-replaced is no previous run. The comparison itself (diff_tables) is a pure function of
two sets of tables. A plan added or removed is one row; within a plan both runs hold, each pillar and project added
or removed is a row, and so is each field that changed, with its value before and after as text. Only the columns
both runs' tables hold are compared (a column added or dropped since is no change), the provenance columns aside.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.io import sha256_file
from pipeline.core.schema import ARROW_TYPES, BOOL, FIELDS, STRINGS, TABLES
from pipeline.outputs.tables import column_values, frame, list_cell

if TYPE_CHECKING:
    import pandas as pd

# The tables compared, each with the level its rows are in the changes table, from the top down: a row's key is
# its plan's key and more.
LEVELS = {"plans": "plan", "pillars": "pillar", "projects": "project"}
# Columns never compared, and why: where a row was read from, not what it says. The same plan read from another
# file or another page (a later summary reprinting it) is the same plan.
IGNORED = {
    "source_file": "provenance: the file the row was read from",
    "source_sha256": "provenance: the bytes of that file",
    "page": "provenance: where in the file",
    "page_start": "provenance: where in the file",
    "page_end": "provenance: where in the file",
    **{
        name: "provenance: where on the page"
        for name in ("box_x0", "box_top", "box_x1", "box_bottom", "page_width", "page_height", "boxes")
    },
    # A change of reasons (review_reasons, needs_review) is news: a plan now flagged, or no longer; its notes say
    # where on the page, and change with every line read a point lower.
    "review_notes": "where on the page each reason was found",
}
UNKNOWN_ROUND_JA, UNKNOWN_ROUND_EN = "承認回不明", "unknown round"
# Plan ids a summary sentence names at most; the table lists them all.
NAMED_PLANS = 5


def read_previous(out: Path) -> dict[str, pd.DataFrame] | None:
    """The plans, pillars and projects the previous run wrote in OUT, when OUT/manifest.json names each file with
    the sha256 it has (a complete set) and each holds its key (and plans their round); else None: no previous run,
    one killed while it replaced them, or tables too old to compare."""
    import pandas as pd

    try:
        listed = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["outputs"]
        paths = {table: out / f"{table}.parquet" for table in LEVELS}
        if all(listed.get(path.name) == sha256_file(path) for path in paths.values()):
            previous = {table: pd.read_parquet(path) for table, path in paths.items()}
            keyed = all(set(TABLES[table][1]) <= set(df) for table, df in previous.items())
            return previous if keyed and "round" in previous["plans"] else None
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def diff_tables(previous: dict[str, pd.DataFrame] | None, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The changes table of `tables` against `previous` (None: no previous tables, every plan added)."""
    new_plans = rows_by_key(tables["plans"], "plans", ["round"])
    old_plans = rows_by_key(previous["plans"], "plans", ["round"]) if previous is not None else {}
    rows = [change_row("added", "plans", key, row["round"]) for key, row in new_plans.items() if key not in old_plans]
    rows += [
        change_row("removed", "plans", key, row["round"]) for key, row in old_plans.items() if key not in new_plans
    ]
    if previous is None:
        return frame(rows, "changes")
    kept = {key[0]: row["round"] for key, row in new_plans.items() if key in old_plans}  # plan id -> its round
    for table in LEVELS:
        old, new = previous[table], tables[table]
        compared = [c for c in new.columns if c in old.columns and c not in IGNORED and c not in TABLES[table][1]]
        before = {k: row for k, row in rows_by_key(old, table, compared).items() if k[0] in kept}
        after = {k: row for k, row in rows_by_key(new, table, compared).items() if k[0] in kept}
        if table != "plans":
            rows += [change_row("added", table, k, kept[k[0]]) for k in after if k not in before]
            rows += [change_row("removed", table, k, kept[k[0]]) for k in before if k not in after]
        rows += [
            {**change_row("changed", table, k, kept[k[0]]), "field": name, "before": row[name], "after": after[k][name]}
            for k, row in before.items()
            if k in after
            for name in compared
            if row[name] != after[k][name]
        ]
    return frame(rows, "changes")


def rows_by_key(df: pd.DataFrame, table: str, columns: list[str]) -> dict[tuple, dict[str, str | None]]:
    """Each row of a table by its key, with its `columns` as text (cell_text)."""
    key = TABLES[table][1]
    texts = [[cell_text(v, name) for v in column_values(df[name], ARROW_TYPES[FIELDS[name][0]])] for name in columns]
    keys = zip(*(column_values(df[name], ARROW_TYPES[FIELDS[name][0]]) for name in key), strict=True)
    return {k: dict(zip(columns, row, strict=True)) for k, *row in zip(keys, *texts, strict=True)}


def cell_text(value, name: str) -> str | None:
    """A plain value (tables.column_values) as the changes table shows it: a list as its CSV cell (list_cell), a
    boolean as the CSV writes it; the same value read back from Parquet or made by this run gives the same text."""
    if value is None:
        return None
    kind = FIELDS[name][0]
    if kind == STRINGS:
        return list_cell([str(item) for item in value])
    return str(bool(value)) if kind == BOOL else str(value)


def change_row(change: str, table: str, key: tuple, plan_round: str | None) -> dict:
    """A row of the changes table for the row of `table` with `key`, in a plan of `plan_round`, no field named."""
    ids = dict(zip(("plan_id", "pillar_no", "project_no"), key, strict=False))
    return {
        "change": change,
        "level": LEVELS[table],
        "plan_id": ids["plan_id"],
        "pillar_no": ids.get("pillar_no"),
        "project_no": ids.get("project_no"),
        "field": None,
        "before": None,
        "after": None,
        "round": plan_round,
    }


def summarize(changes: pd.DataFrame, plans: int) -> tuple[str, str]:
    """One sentence on the changes, in Japanese and in English: the plans added and removed by round, then the plans
    changed (a field, a pillar or a project). Every one of the `plans` of this run added, and nothing else, means no
    previous plans: a first run, or one after a run that left no complete set (read_previous), said so."""
    if changes.empty:
        return "前回の実行から変更はありません。", "Nothing changed since the previous run."
    whole = changes[changes["level"].eq("plan") & changes["change"].isin(["added", "removed"])]
    ja, en = [], []
    for change, verb_ja, verb_en in (("added", "追加", "added"), ("removed", "削除", "removed")):
        rounds = Counter(r if isinstance(r, str) else None for r in whole.loc[whole["change"].eq(change), "round"])
        for plan_round, n in sorted(rounds.items(), key=lambda item: (item[0] is None, item[0] or "")):
            ja.append(f"{plan_round or UNKNOWN_ROUND_JA}の計画を{n}件{verb_ja}")
            en.append(f"{verb_en} {n} plan{'s' * (n != 1)} of {plan_round or UNKNOWN_ROUND_EN}")
    changed = sorted(set(changes["plan_id"]) - set(whole["plan_id"]))
    if changed:
        named = ", ".join(changed[:NAMED_PLANS]) + (", …" if len(changed) > NAMED_PLANS else "")
        ja.append(f"{len(changed)}件の計画が変更: {named}")
        en.append(f"{len(changed)} plan{'s' * (len(changed) != 1)} changed: {named}")
    if len(whole) == len(changes) == plans:
        return (
            f"前回の計画がありません（初回の実行、または前回の表が不完全）。この実行で{'、'.join(ja)}。",
            f"No previous plans (a first run, or the previous tables were incomplete). This run: {'; '.join(en)}.",
        )
    return f"この実行で{'、'.join(ja)}。", f"This run: {'; '.join(en)}."
