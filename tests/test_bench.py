"""`make bench` runs end to end: its main on a tiny corpus (two small PDFs, add-one at 3 files, no long documents,
no test suite) exits 0 and its report holds every figure's line. Only the presence and form of the figures are
checked, never their values: nothing here depends on the machine's speed."""

import json
import re
import shutil

import pytest

from bench import bench
from tests.conftest import ROOT, SAMPLE_RAW

NUMBER = r"[0-9]+(?:\.[0-9]+)?"

# Each figure's line of the report: its exact label, then the form of its value.
FIGURES = {
    "pipeline cold run (all stages)": rf"{NUMBER} s, {NUMBER} pages/s",
    "bare pdfplumber extract_text, 1 process": rf"{NUMBER} s, {NUMBER} pages/s",
    "cold ratio: pipeline / bare pdfplumber": NUMBER,
    "ms a page, pdfplumber: pipeline extract_pdf": rf"{NUMBER} ms",
    "ms a page, pdfium: bare pypdfium2 text": rf"{NUMBER} ms",
    "ms a page, pdfplumber: bare extract_text": rf"{NUMBER} ms",
    "no-op re-run (incl. start-up)": rf"{NUMBER} s",
    "report.html of the corpus": rf"{NUMBER} s",
    "workbook: workbook_bytes of the corpus tables": rf"{NUMBER} s",
    "add one at 3 files: cold run / no-op": rf"{NUMBER} s / {NUMBER} s",
    "add one at 3 files: time": rf"{NUMBER} s",
    "add one at 3 files: peak RSS": rf"{NUMBER} MB",
    "floor estimate": rf"{NUMBER} s, {NUMBER} x bare pdfplumber",
}


def figure(report: str, label: str) -> str:
    """The value cell of the report's row `label` (a Markdown table row: | label | value | note | mark |)."""
    rows = [line for line in report.splitlines() if re.match(rf"\| {re.escape(label)}(?:, --reader \w+)? +\|", line)]
    assert rows, f"no line for {label!r} in:\n{report}"
    return rows[0].split("|")[2].strip()


@pytest.mark.slow
def test_distinct_copy_reads_the_same(tmp_path):
    from pipeline.extract import extract_pdf

    source = (SAMPLE_RAW / "r2-approval-summary.pdf").read_bytes()
    copies = bench.make_copies([SAMPLE_RAW / "r2-approval-summary.pdf"], 2, tmp_path / "copies")
    first, second = (p.read_bytes() for p in copies)
    assert len({source, first, second}) == 3
    assert extract_pdf(first) == extract_pdf(source)


@pytest.mark.slow
def test_bench_runs_on_a_tiny_corpus(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy2(SAMPLE_RAW / "r2-approval-summary.pdf", corpus)
    shutil.copy2(ROOT / "tests" / "fixtures" / "writer_paragraphs.pdf", corpus)
    root = tmp_path / "root"
    argv = ["--corpus", str(corpus), "--root", str(root), "--sizes", "3", "--no-tests", "--megabytes", "0", "-j", "2"]

    assert bench.main(argv) == 0

    report = capsys.readouterr().out.split("\nmake bench: ", 1)[1]
    assert "PROBLEM" not in report, report
    for label, form in FIGURES.items():
        assert re.fullmatch(form, figure(report, label)), (label, figure(report, label))
    assert re.search(r"^floor = pages x .+ / workers \+ the serial rest", report, re.M), report
    assert re.search(r"^documents status: corpus ok 2; 3 files \+ 1 ok 4$", report, re.M), report
    saved = json.loads((root / "last-run.json").read_text(encoding="utf-8"))
    assert saved["files"] == 2 and saved["sizes"] == [3]
    assert not list(root.glob("run-*")), "the scratch folder is removed"
