"""Fault injection, for tests and maintainers: kill a run at a named point, as `kill -9` would.

Set the environment variable PIPELINE_STOP_AT to the name of one point and the run's (or fetch's) main process kills
itself with SIGKILL when it gets there: no cleanup, no `finally`, no flush, exactly what a power cut of
the process or the OOM killer leaves behind. Unset (or set to anything else), nothing happens. The points:

- `after_extract`: every file's extract record is written, nothing is segmented yet (pipeline/run/runner.py, `run`);
- `mid_table_write`: the first table file (documents.parquet) is written in the new generation folder, the others
  not yet (pipeline/outputs/tables.py, `write_tables`);
- `before_manifest`: every table, datapackage.json and the views (report.html, tables.xlsx) are written in the new
  generation folder, manifest.json is not yet (pipeline/run/runner.py, `normalize_and_write`);
- `after_switch`: OUT/current names the new generation, the old one and the crops it alone showed are not yet
  removed (pipeline/run/runner.py, `normalize_and_write`);
- `fetch_after_pdf`: fetch has written a PDF into RAW, not yet its row of sources.csv (pipeline/acquire/fetch.py,
  `save`): the next fetch of it adds the row.

    PIPELINE_STOP_AT=mid_table_write python -m pipeline all   # dies of SIGKILL (exit status 137 in a shell)

With PIPELINE_STOP_SIGNAL=INT the process sends itself SIGINT instead, as Ctrl-C would: the run stops with its
KeyboardInterrupt, and says what OUT holds; with PIPELINE_STOP_SIGNAL=TERM, SIGTERM, as `kill` would: the same line
(cli.terminate_as_interrupt), exit status 143. tests/test_robustness.py stops a run at each point both ways and checks
what OUT holds, what the run said, and what the next run finds.
"""

from __future__ import annotations

import os
import signal

VARIABLE = "PIPELINE_STOP_AT"
SIGNAL_VARIABLE = "PIPELINE_STOP_SIGNAL"
RUN_POINTS = ("after_extract", "mid_table_write", "before_manifest", "after_switch")
FETCH_POINTS = ("fetch_after_pdf",)
POINTS = RUN_POINTS + FETCH_POINTS


def stop_here(point: str) -> None:
    """Kill this process at once with SIGKILL (or the signal PIPELINE_STOP_SIGNAL names) when PIPELINE_STOP_AT names
    `point`."""
    if point not in POINTS:
        raise ValueError(f"unknown fault point {point!r}; the points are {', '.join(POINTS)}")
    if os.environ.get(VARIABLE) == point:
        signal.raise_signal(signal.Signals["SIG" + os.environ.get(SIGNAL_VARIABLE, "KILL")])
