"""Fault injection, for tests and maintainers: kill a run at a named point, as `kill -9` would.

Set the environment variable PIPELINE_STOP_AT to the name of one point and the run's main process kills
itself with SIGKILL when it gets there: no cleanup, no `finally`, no flush, exactly what a power cut of
the process or the OOM killer leaves behind. Unset (or set to anything else), nothing happens. The points:

- `after_extract`: every file's extract record is written, nothing is segmented yet (pipeline/run.py, `run`);
- `mid_table_write`: the first table file (documents.parquet) has been renamed into place, the others not
  yet (pipeline/tables.py, `write_tables`);
- `before_manifest`: every table, datapackage.json and the views (report.html, tables.xlsx) are in place,
  manifest.json is not yet written (pipeline/run.py, `normalize_and_write`).

    PIPELINE_STOP_AT=mid_table_write python -m pipeline all   # dies of SIGKILL (exit status 137 in a shell)

tests/test_robustness.py kills a run at each point and checks what the next reader and the next run find.
"""

from __future__ import annotations

import os
import signal

VARIABLE = "PIPELINE_STOP_AT"
POINTS = ("after_extract", "mid_table_write", "before_manifest")


def stop_here(point: str) -> None:
    """Kill this process at once with SIGKILL when PIPELINE_STOP_AT names `point`."""
    if point not in POINTS:
        raise ValueError(f"unknown fault point {point!r}; the points are {', '.join(POINTS)}")
    if os.environ.get(VARIABLE) == point:
        os.kill(os.getpid(), signal.SIGKILL)
