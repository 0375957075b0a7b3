"""The views of the tables for people, written beside them: report.html and tables.xlsx. A view that fails costs
only itself, never the tables."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.failures import one_line
from pipeline.core.io import sha256_file

if TYPE_CHECKING:
    from pipeline.core.records import CorrectionOutcome, ReadTwice

log = logging.getLogger("pipeline")


# The files made from the tables for people to look at, written while the tables are: one that fails costs only itself
# (normalize_and_write), and the next run tries it again.
VIEWS = ("report.html", "tables.xlsx")


def start_views(
    tables: dict,
    read_twice: list[ReadTwice],
    corrections: list[CorrectionOutcome],
    out: Path,
    beside,
    paths: dict[str, Path],
) -> dict:
    """Start each of the VIEWS in a process of its own (with `beside`, the run's means of running a function in a
    process of its own: start_report, start_workbook) as soon as the tables are made, so that they are written while
    the run writes the tables. The report also takes the plans normalize found read twice (records, not the words
    of the documents' warnings) and the corrections it applied or refused, and makes the crops of the plans'
    sources (`paths`: source_file → path). What write_views takes: view → what gives its result, or the exception
    that starting it raised."""
    from pipeline.outputs.report import start_report
    from pipeline.outputs.workbook import start_workbook

    return {
        "report.html": attempt(lambda: start_report(tables, out, read_twice, corrections, beside, paths)),
        "tables.xlsx": attempt(lambda: start_workbook(tables, out, beside)),
    }


def write_views(out: Path, outputs: dict[str, str], started: dict) -> dict[str, str]:
    """Wait for each of the VIEWS `started` (start_views), adding its sha256 to `outputs`; returns view → why it
    failed. A view that fails costs only itself, never the tables: it is logged in one line, a stale file of its
    name is removed (it would show other tables), and the manifest leaves it out and keeps the reason, so that the
    run exits 2 and the next run tries it again."""
    errors = {}
    for name in VIEWS:
        got = started[name] if isinstance(started[name], Exception) else attempt(started[name])
        if isinstance(got, Exception):
            errors[name] = one_line(f"{type(got).__name__}: {got}")
            log.error("%s not written: %s", name, errors[name])
            log.debug("%s failed", name, exc_info=got)
            (out / name).unlink(missing_ok=True)
        else:
            outputs[got.name] = sha256_file(got)
    return errors


def attempt(write):
    """What `write()` returns, or the exception it raised: a view of the tables is never a reason to lose them."""
    try:
        return write()
    except Exception as exc:  # noqa: BLE001 - the view's failure, reported by write_views
        return exc
