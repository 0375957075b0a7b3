"""The views of the tables for people, written after them: report.html and tables.xlsx. A view that fails costs
only itself, never the tables."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.failures import one_line
from pipeline.core.io import sha256_file

if TYPE_CHECKING:
    from pipeline.core.records import ReadTwice

log = logging.getLogger("pipeline")


# The files made from the tables for people to look at, written after them: one that fails costs only itself
# (normalize_and_write), and the next run tries it again.
VIEWS = ("report.html", "tables.xlsx")


def write_views(tables: dict, read_twice: list[ReadTwice], out: Path, outputs: dict[str, str]) -> dict[str, str]:
    """Write each of the VIEWS of the tables, adding its sha256 to `outputs`; returns view → why it failed. The
    report also takes the plans normalize found read twice (records, not the words of the documents' warnings).
    A view that fails costs only itself, never the tables: it is logged in one line, a stale file of its name is
    removed (it would show other tables), and the manifest leaves it out and keeps the reason, so that the run
    exits 2 and the next run tries it again."""
    from pipeline.outputs.report import write_report
    from pipeline.outputs.workbook import write_workbook

    writers = (lambda: write_report(tables, out, read_twice), lambda: write_workbook(tables, out))
    errors = {}
    for name, write in zip(VIEWS, writers, strict=True):
        try:
            path = write()
        except Exception as exc:  # noqa: BLE001 - a view of the tables is never a reason to lose them
            errors[name] = one_line(f"{type(exc).__name__}: {exc}")
            log.error("%s not written: %s", name, errors[name])
            log.debug("%s failed", name, exc_info=True)
            (out / name).unlink(missing_ok=True)
        else:
            outputs[path.name] = sha256_file(path)
    return errors
