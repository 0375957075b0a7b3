"""Maintainer re-runs: every bad input reported while nothing else is lost; incremental, deterministic, atomic."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline import PIPELINE_VERSION
from pipeline.cli import main
from pipeline.core import io as io_module
from pipeline.core.failures import MACHINE_ERRNOS
from pipeline.core.faults import RUN_POINTS, SIGNAL_VARIABLE, VARIABLE
from pipeline.core.records import Limits
from pipeline.outputs import tables as ptables
from pipeline.outputs.views import VIEWS
from pipeline.run.cache import is_reusable, load_extract, read_cached
from pipeline.run.inputs import find_sources
from pipeline.run.outdir import link_names, start_generation, switch_to
from pipeline.run.workers import EXIT_MACHINE, finish_worker
from tests import badfiles
from tests.conftest import frozen
from tests.rows import document_row

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "raw" / "r2-approval-summary.pdf"
REALWORLD = Path(__file__).resolve().parents[2] / "shared" / "realworld"
ROW_TABLES = ("plans", "pillars", "projects", "tags")  # the tables of what was read, empty when nothing was
TABLES = ("documents", *ROW_TABLES, "changes", "vocabulary", "municipalities")
CODES = ["131091", "131148", "131237", "132012", "132047", "132152"]

REDOWNLOAD = "download it again or ask the publisher for a new copy"
NO_PLANS = (
    "no plan header 「…」（…）【計画期間:…】 was found{}; check it is an approval summary; if it is, please "
    "report the layout"
)
ENCRYPTED = "the PDF is encrypted (password-protected, no password is tried); ask the publisher for an open copy"
# No test depends on how fast or how loaded the machine is. A run is given a time limit no file here comes near
# (a few seconds at most, against 600), unless it tests the time limit; then its memory cap is one no file here
# comes near. Each limit is tested alone, with the other one set wide.
WIDE_TIME = ("--timeout", "600")
MEMORY_LIMITED = (*WIDE_TIME, "--memory-mb", "512")  # only memory can stop a file
TIME_LIMITED = ("--timeout", "2", "--memory-mb", "4096")  # only time can: the endless page grows <1 MiB a s
TIMED = ("timeout",)  # the kinds read under TIME_LIMITED; every other kind is read under MEMORY_LIMITED
TIMED_OUT = (
    "reading took longer than {} s; a decompression bomb or a very heavy page? raise --timeout if the file is genuine"
)
# kind: (file name, bytes, reason)
BAD_FILES = {
    "not_pdf": (
        "error-page.pdf",
        badfiles.html_error_page,
        "not a PDF: an HTML page (a web error page saved under a .pdf name?); download the file again",
    ),
    "empty": ("empty.pdf", badfiles.empty, "the file is empty (0 bytes); download the file again"),
    "encrypted": ("encrypted.pdf", badfiles.encrypted, ENCRYPTED),
    "corrupt": (
        "truncated.pdf",
        lambda: badfiles.truncated(SAMPLE.read_bytes()),
        f"unreadable PDF (PDFium: data format error); {REDOWNLOAD}",
    ),
    "timeout": ("endless.pdf", badfiles.endless_page, TIMED_OUT.format(2)),
    "too_large": (
        "bomb-1gb.pdf",
        lambda: badfiles.flate_bomb(1024),
        "memory cap of 512 MiB reached while reading; a decompression bomb or a huge page? raise "
        "--memory-mb if the file is genuine",
    ),
    "no_text": (
        "scan.pdf",
        badfiles.image_only,
        "no text layer: an image-only scan; run OCR on it (e.g. ocrmypdf) and put the result in RAW",
    ),
    "no_plans": ("report.pdf", badfiles.text_pdf, NO_PLANS.format("")),
}


def run_cli(raw: Path, out: Path, *args: str) -> int:
    """The CLI in-process, quiet: fast enough to run many times. Under WIDE_TIME unless `args` set --timeout."""
    return main(["all", "--raw", str(raw), "--out", str(out), "-q", *WIDE_TIME, *args])


def run_subprocess(
    raw: Path, out: Path, *args: str, stop_at: str | None = None, stop_signal: str = "KILL"
) -> subprocess.Popen:
    """`python -m pipeline all` as a maintainer starts it, in its own process, under WIDE_TIME unless `args` set
    --timeout; with `stop_at`, stopped at that fault point by `stop_signal` (pipeline.core.faults)."""
    env = {k: v for k, v in os.environ.items() if k not in (VARIABLE, SIGNAL_VARIABLE)}
    env |= {VARIABLE: stop_at, SIGNAL_VARIABLE: stop_signal} if stop_at else {}
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "all", "--raw", str(raw), "--out", str(out), "-q", *WIDE_TIME, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def documents(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "documents.parquet").set_index("source_file")


def run_log(out: Path) -> dict:
    return json.loads((out / "run.json").read_text(encoding="utf-8"))


def output_bytes(out: Path) -> dict[str, bytes]:
    """Every data file and the manifest, the files that must not depend on when or where the run happened."""
    return {
        p.name: p.read_bytes()
        for p in sorted(out.iterdir())
        if p.suffix in (".parquet", ".csv", ".json", ".html", ".xlsx") and p.name != "run.json"
    }


def copy_of_sample(tag: bytes) -> bytes:
    """The sample with a comment after %%EOF: other bytes, the same plans."""
    return SAMPLE.read_bytes() + b"\n% " + tag + b"\n"


# --------------------------------------------------------------------------- one row per bad file


@pytest.fixture(scope="session")
def bad_run(tmp_path_factory) -> Iterator[dict[tuple[str, ...], tuple[int, str, Path]]]:
    """Two runs of `python -m pipeline`, side by side, each with one limit tight: a good file among one file per
    failure kind but TIMED, under MEMORY_LIMITED; the TIMED kinds' files under TIME_LIMITED. Each run's limits
    → (exit status, stderr, OUT)."""
    procs = {}
    for limits in (MEMORY_LIMITED, TIME_LIMITED):
        raw, out = tmp_path_factory.mktemp("bad_raw"), tmp_path_factory.mktemp("bad_out")
        if limits == MEMORY_LIMITED:
            shutil.copy(SAMPLE, raw / "good.pdf")
        for kind, (name, make, _) in BAD_FILES.items():
            if (kind in TIMED) == (limits == TIME_LIMITED):
                (raw / name).write_bytes(make())
        procs[limits] = run_subprocess(raw, out, *limits, "-j", "2"), out
    stderrs = {limits: proc.communicate()[1] for limits, (proc, _) in procs.items()}
    with frozen(*(out for _, out in procs.values())):
        yield {limits: (proc.returncode, stderrs[limits], out) for limits, (proc, out) in procs.items()}


def limits_of(kind: str) -> tuple[str, ...]:
    return TIME_LIMITED if kind in TIMED else MEMORY_LIMITED


@pytest.mark.slow
@pytest.mark.parametrize("kind", BAD_FILES)
def test_each_bad_file_gets_its_status_and_reason(bad_run, kind):
    _, _, out = bad_run[limits_of(kind)]
    name, _, reason = BAD_FILES[kind]
    row = documents(out).loc[name]
    assert (row.status, row.error, row.plans_found) == (kind, reason, 0)


@pytest.mark.slow
def test_good_file_plans_come_out_beside_bad_ones(bad_run):
    _, _, out = bad_run[MEMORY_LIMITED]
    plans = pd.read_parquet(out / "plans.parquet")
    assert plans["plan_id"].tolist() == [f"{c}-2020" for c in CODES]
    assert set(plans["source_file"]) == {"good.pdf"}
    docs = documents(out)
    assert docs.index.tolist() == sorted(
        ["good.pdf"] + [name for kind, (name, _, _) in BAD_FILES.items() if kind not in TIMED]
    )
    assert (docs.loc["good.pdf", "status"], docs.loc["good.pdf", "plans_found"]) == ("ok", 6)
    assert pd.isna(docs.loc["good.pdf", "error"])


@pytest.mark.slow
@pytest.mark.parametrize("limits", [MEMORY_LIMITED, TIME_LIMITED], ids=["memory_limited", "time_limited"])
def test_exit_status_2_and_one_stderr_line_per_failed_file(bad_run, limits):
    returncode, stderr, _ = bad_run[limits]
    assert returncode == 2
    expected = sorted(
        f"{name}: {kind}: {reason}" for kind, (name, _, reason) in BAD_FILES.items() if limits_of(kind) == limits
    )
    assert stderr.splitlines() == expected


@pytest.mark.slow
def test_a_bomb_pdfium_dies_of_is_read_again_by_pdfplumber(bad_run):
    """pdfium aborts where an allocation fails under the memory cap; pdfminer raises MemoryError, which the worker
    reports as too_large, the bomb's status whichever reader reads first."""
    _, _, out = bad_run[MEMORY_LIMITED]
    assert list(documents(out).loc["bomb-1gb.pdf", "warnings"]) == [
        "pdfium died of SIGABRT reading the file; read again with pdfplumber"
    ]


def test_extract_stage_alone_reports_what_it_can_tell(tmp_path, capsys):
    (tmp_path / "empty.pdf").write_bytes(b"")
    (tmp_path / "report.pdf").write_bytes(badfiles.text_pdf())
    assert main(["extract", "--raw", str(tmp_path), "--out", str(tmp_path / "out"), "-q"]) == 2
    assert capsys.readouterr().err == "empty.pdf: empty: the file is empty (0 bytes); download the file again\n"


@pytest.mark.slow
def test_pages_are_counted_where_the_file_opened(bad_run):
    _, _, out = bad_run[MEMORY_LIMITED]
    pages = documents(out)["pages"]
    assert {name: pages[name] for name in ("good.pdf", "scan.pdf", "report.pdf")} == {
        "good.pdf": 6,
        "scan.pdf": 1,
        "report.pdf": 1,
    }
    assert pages[["empty.pdf", "error-page.pdf", "encrypted.pdf", "truncated.pdf"]].isna().all()


# --------------------------------------------------------------------------- broken fonts: unreadable text

# Text no readable text layer holds: pdfminer's unmapped glyphs, U+FFFD, control characters, Latin-1 letters.
GIBBERISH_RE = re.compile(r"\(cid:\d+\)|[\ufffd\x00-\x1f\x7f-\x9f\xaa\xb5\xba\xc0-\xd6\xd8-\xf6\xf8-\xff]")
OCR_HINT = "get a better copy, or an image-only one, which is read by OCR (a text layer is never read over)"
MUTANTS = 40


@pytest.mark.slow
def test_a_flipped_byte_in_a_fonts_unicode_map_gives_no_plan_rows(tmp_path, capsys):
    """Issue 11: one byte of the sample's second font's ToUnicode map changed used to give six plans of gibberish
    (municipalities µ¶子·, }～川区, 67区) and exit status 0."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    (raw / "x.pdf").write_bytes(badfiles.with_byte(SAMPLE.read_bytes(), 65608, 0xDC))
    reason = f"6 plan(s) rejected: unreadable text on pages 1, 2, 3, 4, 5, 6; {OCR_HINT}"
    assert run_cli(raw, out) == 2
    assert capsys.readouterr().err == f"x.pdf: unreadable_text: {reason}\n"
    row = documents(out).loc["x.pdf"]
    assert (row.status, row.error, row.plans_found, row.plans_rejected) == ("unreadable_text", reason, 0, 6)
    assert list(row.warnings) == [
        "pdfminer.pdftypes: Data-loss while decompressing corrupted data",
        "plan on page 1 not kept: unreadable character U+0001 in a project of pillar 2",
        "plan on page 2 not kept: unreadable character U+0018 in its summary",
        "plan on page 3 not kept: page 3 reads badly (82% of its characters readable, under 90%)",
        "plan on page 4 not kept: page 4 reads badly (76% of its characters readable, under 90%)",
        "plan on page 5 not kept: page 5 reads badly (80% of its characters readable, under 90%)",
        "plan on page 6 not kept: page 6 reads badly (86% of its characters readable, under 90%)",
    ]
    assert [len(pd.read_parquet(out / f"{t}.parquet")) for t in ROW_TABLES] == [0, 0, 0, 0]


@pytest.fixture(scope="session")
def mutants_run(tmp_path_factory):
    """The sample 40 times, each with one byte of one font's Unicode map flipped (seeds 0-39), read by one run."""
    raw, out = tmp_path_factory.mktemp("mutants_raw"), tmp_path_factory.mktemp("mutants_out")
    sample = SAMPLE.read_bytes()
    for seed in range(MUTANTS):
        (raw / f"mutant-{seed:02d}.pdf").write_bytes(badfiles.broken_unicode_map(sample, seed))
    stderr = io.StringIO()
    with redirect_stderr(stderr):
        returncode = run_cli(raw, out, "-j", "2")
    with frozen(raw, out):
        yield returncode, stderr.getvalue().splitlines(), out


def gibberish(value) -> list[str]:
    """The unreadable pieces of a cell, a cell's list, or a record and everything nested in it."""
    if isinstance(value, str):
        return GIBBERISH_RE.findall(value)
    if isinstance(value, dict):
        value = list(value.values())
    if hasattr(value, "__len__"):  # a list, or the array a list column reads back as
        return [found for v in value for found in gibberish(v)]
    return []


@pytest.mark.slow
def test_no_unreadable_text_reaches_the_tables_from_broken_fonts(mutants_run):
    _, _, out = mutants_run
    for table in ("plans", "pillars", "projects"):
        df = pd.read_parquet(out / f"{table}.parquet")
        assert [(row["plan_id"], found) for row in df.to_dict("records") for found in gibberish(row)] == [], table
    # nor from the plans not kept as already read from another mutant
    for path in (out / "interim" / "segment").iterdir():
        record = json.loads(path.read_text(encoding="utf-8").splitlines()[1])  # after the head read_cached reads
        assert gibberish(record["plans"]) == [], path.name


@pytest.mark.slow
def test_broken_fonts_are_reported_file_by_file(mutants_run):
    returncode, stderr, out = mutants_run
    docs = documents(out)
    assert returncode == 2
    assert Counter(docs["status"]) == {"ok": 15, "no_plans": 14, "unreadable_text": 11}
    assert (docs["plans_found"].sum(), docs["plans_rejected"].sum()) == (7, 91)
    rejected_but_ok = docs.index[(docs["status"] == "ok") & (docs["plans_rejected"] > 0)]
    assert len(stderr) == 14 + 11 + len(rejected_but_ok) == 37
    assert f"mutant-08.pdf: ok: 2 plan(s) rejected: unreadable text on pages 5, 6; {OCR_HINT}" in stderr
    assert list(docs.loc["mutant-08.pdf", "warnings"]) == [
        "plan on page 5 not kept: unreadable character (cid:1) in a project of pillar 2",
        "plan on page 6 not kept: unreadable character U+000B in its summary",
        "4 plan(s) already read from mutant-02.pdf: 131091-2020, 131148-2020, 131237-2020, 132012-2020",
    ]


# --------------------------------------------------------------------------- real-world PDFs

REALWORLD_OUTCOMES = {
    # file: (status, vertical pages, reader warnings)
    "simple3.pdf": (
        "no_plans",
        [],
        ["pdfminer.pdffont: Could not get FontBBox from font descriptor because None cannot be parsed as 4 floats"],
    ),
    "jo.pdf": ("no_plans", ["1"], []),
    "issue-449-vertical.pdf": ("no_plans", ["1"], []),
    "zen_of_python_corrupted.pdf": (
        "no_plans",
        [],
        ["pdfminer.pdftypes: Data-loss while decompressing corrupted data"],
    ),
    # pdfium, the default reader, draws the self-drawing forms to a depth of its own, silently; pdfminer refuses
    # the circular reference and warns of it (test_pdfminer_warns_of_a_circular_form); neither finds a plan
    "issue-1113-evil-xobjects.pdf": ("no_plans", [], []),
    "aes-256.pdf": ("encrypted", [], []),
}


@pytest.fixture(scope="session")
def realworld_out(tmp_path_factory):
    if not REALWORLD.is_dir():
        pytest.skip(f"real-world PDFs not found at {REALWORLD} (CI provides ../shared/realworld)")
    out = tmp_path_factory.mktemp("realworld_out")
    assert run_cli(REALWORLD, out) == 2
    with frozen(out):
        yield out


@pytest.mark.slow
@pytest.mark.parametrize("name", REALWORLD_OUTCOMES)
def test_realworld_pdf_gets_its_documented_outcome(realworld_out, name):
    status, vertical, warnings = REALWORLD_OUTCOMES[name]
    row = documents(realworld_out).loc[name]
    assert (row.status, list(row.vertical_pages), list(row.warnings)) == (status, vertical, warnings)
    tategaki = " (page(s) 1 are vertical writing, tategaki)" if vertical else ""
    assert row.error == {"no_plans": NO_PLANS.format(tategaki), "encrypted": ENCRYPTED}[status]


@pytest.mark.slow
def test_pdfminer_warns_of_a_circular_form(tmp_path):
    if not REALWORLD.is_dir():
        pytest.skip(f"real-world PDFs not found at {REALWORLD} (CI provides ../shared/realworld)")
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(REALWORLD / "issue-1113-evil-xobjects.pdf", raw)
    assert run_cli(raw, tmp_path / "out", "--reader", "pdfplumber") == 2
    assert list(documents(tmp_path / "out").loc["issue-1113-evil-xobjects.pdf", "warnings"]) == [
        "pdfminer.pdfinterp: Refusing to execute circular reference to content stream 6"
    ]


@pytest.mark.slow
def test_realworld_kana_are_extracted(realworld_out):
    sha = documents(realworld_out).loc["simple3.pdf", "source_sha256"]
    _, pages = load_extract(realworld_out, sha)
    text = "".join(line.text for line in pages[0].lines)
    assert all(kana in text for kana in "あいうえお")


@pytest.mark.slow
def test_realworld_readme_is_reported_not_pdf(realworld_out):
    row = documents(realworld_out).loc["README.md"]
    assert (row.status, row.error) == ("not_pdf", "not a PDF: starts with '# Real-world PDF'; download the file again")


# --------------------------------------------------------------------------- incremental re-runs


@pytest.fixture(scope="session")
def primed(tmp_path_factory):
    """RAW with the sample and a plan-less PDF, and OUT after one complete run: copied by each test."""
    raw = tmp_path_factory.mktemp("primed_raw")
    shutil.copy(SAMPLE, raw / "a.pdf")
    (raw / "report.pdf").write_bytes(badfiles.text_pdf())
    out = tmp_path_factory.mktemp("primed_out")
    assert run_cli(raw, out) == 2
    with frozen(raw, out):
        yield raw, out


@pytest.fixture
def rerun(primed, tmp_path):
    """A private copy of the primed RAW and OUT."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(primed[0], raw)
    shutil.copytree(primed[1], out)
    return raw, out


def identity(path: Path) -> tuple[int, int]:
    """Which file a path names, and when it was last written: a rewrite renames a new file into place, with a new
    inode however coarse the clock of the file system (the old one still existed when the new one was made)."""
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


def interim_files(out: Path) -> dict[str, tuple[int, int]]:
    return {p.name: identity(p) for p in sorted((out / "interim").rglob("*"))}


@pytest.mark.slow
def test_rerun_with_nothing_new_opens_no_pdf(rerun):
    raw, out = rerun
    before_outputs, before_interim = output_bytes(out), interim_files(out)
    written = {p.name: identity(p) for p in out.glob("*.parquet")}
    assert run_cli(raw, out) == 2
    assert run_log(out)["read"] == []
    assert interim_files(out) == before_interim
    assert output_bytes(out) == before_outputs
    assert {p.name: identity(p) for p in out.glob("*.parquet")} == written  # nothing rewritten


@pytest.mark.slow
def test_new_file_costs_only_itself(rerun):
    raw, out = rerun
    (raw / "b.pdf").write_bytes(badfiles.text_pdf("Another report"))
    assert run_cli(raw, out) == 2
    assert run_log(out)["read"] == ["b.pdf"]
    assert documents(out).index.tolist() == ["a.pdf", "b.pdf", "report.pdf"]


@pytest.mark.slow
def test_removed_file_loses_its_rows_and_cache(rerun):
    raw, out = rerun
    sha = documents(out).loc["a.pdf", "source_sha256"]
    (raw / "a.pdf").unlink()
    assert run_cli(raw, out) == 2
    assert documents(out).index.tolist() == ["report.pdf"]
    assert [len(pd.read_parquet(out / f"{t}.parquet")) for t in ROW_TABLES] == [0, 0, 0, 0]
    assert not any(sha in p.name for p in (out / "interim").rglob("*"))


@pytest.mark.slow
def test_identical_bytes_under_two_names_are_read_once(rerun):
    raw, out = rerun
    shutil.copy(SAMPLE, raw / "z-copy.pdf")
    assert run_cli(raw, out) == 2
    assert run_log(out)["read"] == []
    docs = documents(out)
    assert docs.loc["z-copy.pdf", "source_sha256"] == docs.loc["a.pdf", "source_sha256"]
    assert (docs.loc["z-copy.pdf", "status"], docs.loc["z-copy.pdf", "plans_found"]) == ("ok", 0)
    assert list(docs.loc["z-copy.pdf", "warnings"]) == [
        "6 plan(s) already read from a.pdf: "
        "131091-2020, 131148-2020, 131237-2020, 132012-2020, 132047-2020, 132152-2020"
    ]
    assert list(docs.loc["a.pdf", "warnings"]) == ["6 plan(s) also in z-copy.pdf"]
    assert len(pd.read_parquet(out / "plans.parquet")) == 6


@pytest.mark.slow
def test_same_plan_in_two_files_gives_one_row_and_warnings(rerun):
    raw, out = rerun
    (raw / "b.pdf").write_bytes(copy_of_sample(b"second copy"))
    assert run_cli(raw, out) == 2
    assert run_log(out)["read"] == ["b.pdf"]
    plans = pd.read_parquet(out / "plans.parquet")
    assert plans["plan_id"].tolist() == [f"{c}-2020" for c in CODES]
    assert set(plans["source_file"]) == {"a.pdf"}
    docs = documents(out)
    assert list(docs.loc["a.pdf", "warnings"]) == ["6 plan(s) also in b.pdf"]
    assert list(docs.loc["b.pdf", "warnings"]) == [
        "6 plan(s) already read from a.pdf: "
        "131091-2020, 131148-2020, 131237-2020, 132012-2020, 132047-2020, 132152-2020"
    ]
    assert docs.loc[["a.pdf", "b.pdf"], "plans_found"].tolist() == [6, 0]


@pytest.mark.slow
def test_limit_failure_is_read_again_under_wider_limits(rerun):
    """A page no reader gets through times out under any limit, however fast the machine: the reason says which
    limit the record was made under."""
    raw, out = rerun
    (raw / "b.pdf").write_bytes(badfiles.endless_page())
    assert run_cli(raw, out, "--timeout", "1") == 2
    assert documents(out).loc["b.pdf", ["status", "error"]].tolist() == ["timeout", TIMED_OUT.format(1)]
    assert run_cli(raw, out, "--timeout", "1") == 2
    assert run_log(out)["read"] == []
    assert run_cli(raw, out, "--timeout", "2") == 2
    assert run_log(out)["read"] == ["b.pdf"]
    assert documents(out).loc["b.pdf", ["status", "error"]].tolist() == ["timeout", TIMED_OUT.format(2)]


@pytest.mark.slow
def test_stale_temporary_files_are_removed(rerun):
    raw, out = rerun
    stale = [out / ".plans.parquet.k1f3.tmp", out / "interim" / "extract" / ".0a1b.jsonl.x9y.tmp"]
    for path in stale:
        path.write_bytes(b"half")
    assert run_cli(raw, out) == 2
    assert [p.exists() for p in stale] == [False, False]


@pytest.mark.slow
def test_outputs_are_readable_by_other_users(rerun):
    raw, out = rerun
    umask = os.umask(0o022)
    try:
        (raw / "b.pdf").write_bytes(badfiles.text_pdf("Shared report"))
        assert run_cli(raw, out) == 2
    finally:
        os.umask(umask)
    assert {oct((out / f"{t}.parquet").stat().st_mode & 0o777) for t in TABLES} == {"0o644"}


# --------------------------------------------------------------------------- deterministic


@pytest.mark.slow
def test_two_runs_into_different_folders_give_identical_bytes(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(SAMPLE, raw / "a.pdf")
    for name, make in (
        ("empty.pdf", badfiles.empty),
        ("scan.pdf", badfiles.image_only),
        ("b.pdf", lambda: copy_of_sample(b"b")),
    ):
        (raw / name).write_bytes(make())
    assert run_cli(raw, tmp_path / "one", "-j", "1") == 2
    assert run_cli(raw, tmp_path / "two", "-j", "2") == 2
    one, two = output_bytes(tmp_path / "one"), output_bytes(tmp_path / "two")
    assert sorted(one) == sorted(
        ["manifest.json", "datapackage.json", *VIEWS] + [f"{t}.{s}" for t in TABLES for s in ("parquet", "csv")]
    )
    assert one == two
    manifest = json.loads(one["manifest.json"])
    assert manifest["outputs"] == {name: hashlib.sha256(one[name]).hexdigest() for name in manifest["outputs"]}
    assert "started" not in manifest and run_log(tmp_path / "one")["started"]


# --------------------------------------------------------------------------- atomic


@pytest.fixture(scope="session")
def completed(tmp_path_factory):
    """RAW with the sample, and OUT after one complete run: copied by each test that kills a run."""
    raw, out = tmp_path_factory.mktemp("completed_raw"), tmp_path_factory.mktemp("completed_out")
    shutil.copy(SAMPLE, raw / "a.pdf")
    assert run_cli(raw, out) == 0
    with frozen(raw, out):
        yield raw, out


@pytest.fixture(scope="session")
def completed_next(completed, tmp_path_factory):
    """The next run after `completed`, not killed: `completed`'s RAW with a second copy of the sample added, and OUT
    after a run over it into a copy of `completed`'s OUT; what each test's killed run was writing."""
    base = tmp_path_factory.mktemp("completed_next")
    raw, reference = base / "raw", base / "reference"
    shutil.copytree(completed[0], raw)
    shutil.copytree(completed[1], reference)
    (raw / "b.pdf").write_bytes(copy_of_sample(b"b"))
    assert run_cli(raw, reference) == 0  # the same run, not killed: what the killed run was writing
    with frozen(raw, reference):
        yield raw, reference


ALL_BUT_MANIFEST = frozenset(["datapackage.json", *VIEWS] + [f"{t}.{s}" for t in TABLES for s in ("parquet", "csv")])
# fault point → whether OUT holds the new set once a run is stopped there: the outputs are written into a generation
# folder of their own, and OUT switches to it in one rename (pipeline.run.outdir), so OUT holds the old set, whole,
# until that rename, and the new one, whole, after it.
STOPPED = {"after_extract": False, "mid_table_write": False, "before_manifest": False, "after_switch": True}
INTERRUPTED_BEFORE = "interrupted: the previous outputs in {} are unchanged; run again to finish\n"
INTERRUPTED_AFTER = "interrupted: {} holds this run's outputs, complete\n"


def test_every_fault_point_is_tested():
    assert list(STOPPED) == list(RUN_POINTS)


def unvouched(out: Path) -> set[str]:
    """The outputs whose bytes differ from the sha256 manifest.json lists for them, and the crops it lists that are
    missing."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return {
        name
        for name, digest in manifest["outputs"].items()
        if hashlib.sha256((out / name).read_bytes()).hexdigest() != digest
    } | {name for name in manifest["crops"] if not (out / name).is_file()}


def stop_at_each_point(completed, completed_next, tmp_path, point, stop_signal):
    """A copy of `completed`'s OUT, a run over `completed_next`'s RAW into it stopped at `point` by `stop_signal`
    (pipeline.core.faults); returns RAW, OUT, the stopped run's exit status and stderr, and the outputs expected in
    OUT (the previous run's, or the new ones when it stopped after the switch)."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(completed_next[0], raw)
    shutil.copytree(completed[1], out, symlinks=True)
    before = output_bytes(out)
    assert set(before) == ALL_BUT_MANIFEST | {"manifest.json"}
    expected = output_bytes(completed_next[1]) if STOPPED[point] else before
    proc = run_subprocess(raw, out, stop_at=point, stop_signal=stop_signal)
    _, stderr = proc.communicate()
    assert output_bytes(out) == expected
    assert unvouched(out) == set()
    assert list(out.rglob(".*.tmp")) == []
    for table in TABLES:
        pq.read_table(out / f"{table}.parquet")
    return raw, out, proc.returncode, stderr, expected


def check_next_run_repairs(raw: Path, out: Path, after: dict[str, bytes], capsys) -> None:
    """The next run finishes the stopped one's work without reading a PDF again, and leaves one set of outputs."""
    assert run_cli(raw, out) == 0
    assert capsys.readouterr().err == ""
    assert run_log(out)["read"] == []  # b.pdf's extract record, written before the kill, is kept
    assert output_bytes(out) == after
    assert unvouched(out) == set()
    assert list(out.rglob(".*.tmp")) == []
    assert [Path("generations", p.name) for p in (out / "generations").iterdir()] == [
        Path(os.readlink(out / "current"))
    ]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(f"crops/{p.name}" for p in (out / "crops").iterdir()) == sorted(manifest["crops"])


@pytest.mark.slow
@pytest.mark.parametrize("point", RUN_POINTS)
def test_run_killed_at_a_fault_point_leaves_a_whole_set_and_the_next_run_repairs_it(
    completed, completed_next, tmp_path, capsys, point
):
    """A run killed with SIGKILL at each fault point (pipeline.core.faults) leaves OUT with a whole set of outputs,
    every file as manifest.json lists it: the previous set before the switch, the new one after, never a mix, never a
    temporary. The next run finishes the work."""
    raw, out, returncode, _, _ = stop_at_each_point(completed, completed_next, tmp_path, point, "KILL")
    assert returncode == -signal.SIGKILL
    check_next_run_repairs(raw, out, output_bytes(completed_next[1]), capsys)


@pytest.mark.slow
@pytest.mark.parametrize(("stop_signal", "status"), [("INT", 130), ("TERM", 143)], ids=["ctrl-c", "sigterm"])
@pytest.mark.parametrize("point", RUN_POINTS)
def test_ctrl_c_at_a_fault_point_says_what_out_holds(
    completed, completed_next, tmp_path, capsys, point, stop_signal, status
):
    """Issue 25: Ctrl-C at the table-writing point said "the previous outputs are unchanged" while documents.parquet
    was new and documents.csv old. Now OUT holds one whole set, and the line says which; SIGTERM (kill, a service
    manager, a CI timeout), which ended the run without a word, says the same, with 143 as a shell reports it."""
    raw, out, returncode, stderr, _ = stop_at_each_point(completed, completed_next, tmp_path, point, stop_signal)
    assert returncode == status
    assert stderr == (INTERRUPTED_AFTER if STOPPED[point] else INTERRUPTED_BEFORE).format(out)
    check_next_run_repairs(raw, out, output_bytes(completed_next[1]), capsys)


def test_outputs_an_older_run_wrote_in_out_itself_are_adopted_before_the_switch(tmp_path):
    """OUT written before generations (each output a file in OUT), or copied with its links followed (OUT/current a
    folder): each name becomes a link reading the same bytes, never a mix, and the next set replaces them whole."""
    out = tmp_path / "out"
    (out / "current").mkdir(parents=True)
    (out / "current" / "a.csv").write_bytes(b"copied")
    (out / "a.csv").write_bytes(b"old a")
    (out / "b.csv").write_bytes(b"old b")
    link_names(out, ["a.csv", "b.csv", "c.csv"])
    assert [(out / name).is_symlink() for name in ("a.csv", "b.csv", "c.csv")] == [True, True, True]
    assert [(out / "a.csv").read_bytes(), (out / "b.csv").read_bytes(), (out / "c.csv").exists()] == [
        b"old a",
        b"old b",
        False,
    ]
    generation = start_generation(out)
    for name in ("a.csv", "b.csv"):
        (generation / name).write_bytes(b"new " + name.encode())
    switch_to(out, generation, ["a.csv", "b.csv"])
    assert [(out / "a.csv").read_bytes(), (out / "b.csv").read_bytes()] == [b"new a.csv", b"new b.csv"]


# --------------------------------------------------------------------------- safe defaults


@pytest.mark.slow
def test_workers_fork_from_a_parent_without_pandas():
    """Workers fork from a small parent with no threads (pyarrow starts some): cheap forks, no inherited locks."""
    code = "import sys, pipeline.cli; print(sorted({'pandas', 'pyarrow'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True).stdout == "[]\n"


def test_out_must_not_be_raw(tmp_path, capsys):
    assert run_cli(tmp_path, tmp_path) == 1
    assert capsys.readouterr().err == f"error: --out must not be the raw folder: {tmp_path}\n"


def test_second_run_into_the_same_out_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        assert run_cli(tmp_path, out) == 1
    assert capsys.readouterr().err == f"error: another run is writing {out}; wait for it to finish\n"


def test_csv_cells_cannot_run_as_formulas():
    docs = pd.DataFrame(
        [
            document_row(
                source_file='=HYPERLINK("http://x")',
                title="-承認した計画の概要",
                pages=None,
                status="corrupt",
                error="+1",
                plans_found=0,
                warnings=["@SUM(A1)", "ok"],
                vertical_pages=["-2"],
            )
        ]
    )
    text = ptables.csv_bytes(docs, "documents").decode("utf-8-sig")
    assert (
        text.splitlines()[1]
        == '"\'=HYPERLINK(""http://x"")",0000000000000000000000000000000000000000000000000000000000000000,\'-承認した計画の概要,,,,,,corrupt,\'+1,0,0,0,0,\'@SUM(A1)|ok,\'-2,,pdf,,'
    )


@pytest.mark.slow
def test_nothing_is_written_outside_raw_and_out(tmp_path):
    """A run in a fresh process with an empty HOME leaves HOME empty."""
    raw, out, home = tmp_path / "raw", tmp_path / "out", tmp_path / "home"
    raw.mkdir()
    home.mkdir()
    shutil.copy(SAMPLE, raw / "a.pdf")
    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")}
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "all", "--raw", str(raw), "--out", str(out), "-q", *WIDE_TIME],
        cwd=ROOT,
        env={**env, "HOME": str(home)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert list(home.rglob("*")) == []


@pytest.mark.slow
def test_a_layout_that_breaks_segmenting_costs_only_its_file(rerun, monkeypatch):
    raw, out = rerun
    (raw / "b.pdf").write_bytes(copy_of_sample(b"odd"))
    # Read first, so that the run segments it itself, where the patch below holds (its worker would do it else).
    assert main(["extract", "--raw", str(raw), "--out", str(out), "-q", *WIDE_TIME]) == 0
    real = __import__("pipeline.segment", fromlist=["segment_document"]).segment_document

    def fragile(pages):
        if len(pages) == 6 and fragile.calls:
            raise IndexError("list index out of range")
        fragile.calls += 1
        return real(pages)

    fragile.calls = 0
    monkeypatch.setattr("pipeline.segment.segment_document", fragile)
    for sha_file in (out / "interim" / "segment").iterdir():
        sha_file.unlink()
    assert run_cli(raw, out) == 2
    docs = documents(out)
    assert docs.loc["a.pdf", "status"] == "ok"
    assert (docs.loc["b.pdf", "status"], docs.loc["b.pdf", "error"]) == (
        "internal_error",
        f"segmenting failed: IndexError: list index out of range (pipeline {PIPELINE_VERSION}); "
        "please report the file with the error",
    )


# --------------------------------------------------------------------------- the machine's failures


def no_space_writing(name: str):
    """core.io.atomic_file that fails as a full disk does (ENOSPC, naming no file) while writing the file `name`."""
    real = io_module.atomic_file

    @contextmanager
    def atomic_file(path: Path):
        with real(path) as f:
            if path.name == name:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            yield f

    return atomic_file


@pytest.mark.slow
def test_a_full_disk_while_writing_the_tables_leaves_the_old_set_and_says_where(
    completed, completed_next, tmp_path, monkeypatch, capsys
):
    """Issue 25: a full disk while writing the tables exited 1 (a wrong argument) with `[Errno 28]` and no path,
    and left 10 new tables beside the old datapackage, report, workbook and manifest. Now: exit 3, the path named,
    OUT the previous set, whole; once space is freed, the next run writes the new one."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(completed_next[0], raw)
    shutil.copytree(completed[1], out, symlinks=True)
    before = output_bytes(out)
    with monkeypatch.context() as patch:
        patch.setattr(io_module, "atomic_file", no_space_writing("plans.csv"))
        assert run_cli(raw, out) == 3
    assert re.fullmatch(
        f"error: No space left on device writing {re.escape(str(out))}/generations/[0-9a-f]{{16}}/plans.csv; "
        "free some space \\(or mend the disk\\) and run again\n",
        capsys.readouterr().err,
    )
    assert output_bytes(out) == before
    assert unvouched(out) == set()
    check_next_run_repairs(raw, out, output_bytes(completed_next[1]), capsys)


@pytest.mark.parametrize("code", MACHINE_ERRNOS)
def test_a_worker_stopped_by_the_machine_is_recorded_as_such_and_read_again(tmp_path, code):
    """Issue 25: a worker that found the disk full was recorded as internal_error ("please report the file"), never
    read again: after space was freed a run still kept 14 of 20 plans, until --force."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    (raw / "a.pdf").write_bytes(SAMPLE.read_bytes())
    (source,), _ = find_sources(raw)

    class Exited:
        """A worker process that has exited with the status its error of the machine gives."""

        exitcode = EXIT_MACHINE + MACHINE_ERRNOS.index(code)

        def join(self) -> None:
            pass

    assert finish_worker(Exited(), source, out, Limits(), timed_out=False) is None
    head = read_cached(out, "extract", source.sha256)
    assert (head["status"], head["error"]) == (
        "write_failed",
        f"{os.strerror(code)} writing {out / 'interim'}; free some space (or mend the disk) and run again",
    )
    assert not is_reusable(head, Limits())


# Writes half a file through atomic_file, says so on stdout, then waits for stdin: killed there, as a view's process
# is when its run dies.
HALF_WRITTEN = """
import sys
from pathlib import Path
from pipeline.core.io import atomic_file
with atomic_file(Path(sys.argv[1])) as f:
    f.write(b"half")
    f.flush()
    print("written", flush=True)
    sys.stdin.readline()
"""


def test_a_process_killed_while_writing_a_file_leaves_the_previous_file_and_nothing_else(tmp_path):
    target = tmp_path / "tables.xlsx"
    target.write_bytes(b"previous")
    child = subprocess.Popen(
        [sys.executable, "-c", HALF_WRITTEN, str(target)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline() == "written\n"
    child.kill()
    child.wait()
    assert [path.name for path in tmp_path.iterdir()] == ["tables.xlsx"]
    assert target.read_bytes() == b"previous"
