"""Measure the pipeline against bare pdfplumber and pypdfium2 on a generated corpus (`make bench`).

    .venv/bin/python -m bench.bench [--jobs N] [--root build/bench] [--megabytes 1]

Everything below is measured in one run, each step in its own fresh interpreter (wall times include
interpreter start-up; peak RSS is the largest of that process and its children, read with os.wait4, and of its
PDF readers, which run in a fork server's processes and report their own peak in OUT/run.json; CPU time is the
run's own and its children's, without the readers'):

* pipeline cold run: `python -m pipeline all --raw CORPUS --out TMP -q -j N` on an empty OUT;
* bare pdfplumber: one process opening each PDF and calling page.extract_text() on every page;
* pypdfium2: one process reading every page's text layer (the physical floor);
* the ratio pipeline / bare pdfplumber (target <= 0.6);
* a no-op re-run of the same command (target <= 0.5 s) and the same run after adding one PDF (target:
  no-op + 3 x that file's own extraction + 1 s);
* report.html of the corpus tables on its own, `python -m pipeline.outputs.report OUT` (target <= 0.2 s);
* the pipeline on the 500-page document alone (peak RSS target <= 400 MB), and on a 3,000-page document in
  one run, tables and report included (peak RSS target <= 500 MB);
* SudachiPy tagging throughput on 1 MB of text (bench/bench_tag.py);
* the test suite as `make test` runs it (pytest; target <= 80 s on 2 cores; --no-tests leaves it out).

The corpus (bench/corpus.py) is generated once and cached by a content hash; its generation is
never timed. Targets are reported, never asserted: the exit status is 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench import corpus as corpus_mod

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

BARE_PDFPLUMBER = r"""
import sys, pdfplumber
for path in sys.argv[1:]:
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            page.extract_text()
            page.close()
"""

PYPDFIUM2_TEXT = r"""
import sys, pypdfium2 as pdfium
for path in sys.argv[1:]:
    doc = pdfium.PdfDocument(path)
    for i in range(len(doc)):
        page = doc[i]
        textpage = page.get_textpage()
        textpage.get_text_range()
        textpage.close()
        page.close()
    doc.close()
"""

# In-process time of one file's extraction (no interpreter start-up): bare extract_text, then ours.
OWN_EXTRACTION = r"""
import json, sys, time
from pathlib import Path
import pdfplumber
from pipeline.extract import extract_pdf
path = sys.argv[1]
start = time.perf_counter()
with pdfplumber.open(path) as pdf:
    for page in pdf.pages:
        page.extract_text()
        page.close()
bare = time.perf_counter() - start
start = time.perf_counter()
extract_pdf(Path(path))
ours = time.perf_counter() - start
print(json.dumps({"bare": bare, "ours": ours}))
"""


def timed(cmd: list[str], cwd: Path = ROOT) -> dict:
    """Run `cmd`; wall seconds, CPU seconds and peak RSS (MiB) of it and all the children it waited for."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err)
        # wait4 instead of proc.wait: it returns this child's rusage, which includes the children it reaped
        # (the pipeline's workers): CPU times summed, ru_maxrss the largest single process.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {
            "wall": wall,
            "cpu": usage.ru_utime + usage.ru_stime,
            "rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
            "rc": proc.returncode,
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace"),
        }


def with_readers(r: dict, out: Path) -> dict:
    """A pipeline run's figures with its readers' memory: they run in processes of a fork server, which the run's
    rusage does not count; each reports its own peak, and run.json keeps the largest."""
    try:
        peak = json.loads((out / "run.json").read_text(encoding="utf-8")).get("reader_peak_rss_mb", 0)
    except (OSError, ValueError):
        peak = 0
    return {**r, "rss_mb": max(r["rss_mb"], peak)}


def pipeline_cmd(raw: Path, out: Path, jobs: int, *extra: str, stage: str = "all") -> list[str]:
    return [PY, "-m", "pipeline", stage, "--raw", str(raw), "--out", str(out), "-q", "-j", str(jobs), *extra]


def status_counts(out: Path) -> Counter:
    """documents.status counts of a pipeline output (read from the CSV: no pandas here)."""
    path = out / "documents.csv"
    if not path.exists():
        return Counter({"(no documents table)": 1})
    with path.open(encoding="utf-8-sig", newline="") as f:
        return Counter(row["status"] for row in csv.DictReader(f))


def failed_files(out: Path) -> list[str]:
    path = out / "documents.csv"
    if not path.exists():
        return []
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [f"{r['source_file']}: {r['status']}: {r['error']}" for r in csv.DictReader(f) if r["status"] != "ok"]


def check_run(name: str, r: dict, problems: list[str]) -> None:
    # 0 = every file ok, 2 = some file failed (reported with the status counts): both are measurable
    if r["rc"] not in (0, 2):
        problems.append(f"{name}: exit code {r['rc']}: {r['stderr'].strip()[-500:]}")


def fmt_counts(c: Counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(c.items()))


def report_seconds(r: dict, problems: list[str]) -> float:
    """The report's own time, as `python -m pipeline.outputs.report` prints it: `OUT/report.html (N bytes, S s)`."""
    check_run("report", r, problems)
    found = re.search(r"([0-9.]+) s\)\s*$", r["stdout"])
    return float(found.group(1)) if found else float("nan")


def run(jobs: int, root: Path, megabytes: float, keep: bool, src: Path = ROOT, tests: bool = True) -> dict:
    folder, manifest = corpus_mod.ensure(root, log=lambda m: print(m, flush=True))
    corpus_files = manifest["corpus"]
    pages = sum(f["pages"] for f in corpus_files)
    extra = manifest["extra"][0]
    long_doc = manifest["long"][0]

    work = Path(tempfile.mkdtemp(prefix="run-", dir=root))
    problems: list[str] = []
    try:
        raw = work / "raw"
        shutil.copytree(folder / "corpus", raw)
        pdfs = [str(raw / f["name"]) for f in corpus_files]
        out = work / "out"
        res: dict = {
            "jobs": jobs,
            "files": len(corpus_files),
            "pages": pages,
            "corpus": str(folder),
            "src": "" if src == ROOT else str(src),
        }

        shown = folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder
        print(
            f"corpus: {len(corpus_files)} PDFs, {pages} pages ({shown}); -j {jobs} on {os.cpu_count()} cores",
            flush=True,
        )

        print("pypdfium2 ...", flush=True)
        res["pdfium"] = timed([PY, "-c", PYPDFIUM2_TEXT, *pdfs])
        check_run("pypdfium2", res["pdfium"], problems)
        print("bare pdfplumber ...", flush=True)
        res["bare"] = timed([PY, "-c", BARE_PDFPLUMBER, *pdfs])
        check_run("bare pdfplumber", res["bare"], problems)

        print("pipeline cold run ...", flush=True)
        res["cold"] = with_readers(timed(pipeline_cmd(raw, out, jobs), cwd=src), out)
        check_run("pipeline cold", res["cold"], problems)
        res["cold_status"] = status_counts(out)
        res["cold_failed"] = failed_files(out)

        print("no-op re-run ...", flush=True)
        res["noop"] = timed(pipeline_cmd(raw, out, jobs), cwd=src)
        check_run("no-op re-run", res["noop"], problems)

        print("adding one file ...", flush=True)
        own = timed([PY, "-c", OWN_EXTRACTION, str(folder / "extra" / extra["name"])], cwd=src)
        check_run("own extraction", own, problems)
        res["own"] = json.loads(own["stdout"]) if own["rc"] == 0 else {"bare": float("nan"), "ours": float("nan")}
        shutil.copy2(folder / "extra" / extra["name"], raw / extra["name"])
        res["add"] = timed(pipeline_cmd(raw, out, jobs), cwd=src)
        check_run("add one file", res["add"], problems)
        res["add_status"] = status_counts(out)

        print(f"{long_doc['pages']}-page document ...", flush=True)
        long_raw, long_out = work / "long-raw", work / "long-out"
        long_raw.mkdir()
        shutil.copy2(folder / "long" / long_doc["name"], long_raw / long_doc["name"])
        # A generous --timeout: the point is the time and memory it takes, not the default limit.
        # Two invocations, so the reader's memory (extract: the parent and its worker) shows apart from the
        # tables' (segment + normalize: pandas, SudachiPy); the wall time is their sum.
        extract = with_readers(
            timed(pipeline_cmd(long_raw, long_out, jobs, "--timeout", "600", stage="extract"), cwd=src), long_out
        )
        check_run("500-page document, extract", extract, problems)
        tables = timed(pipeline_cmd(long_raw, long_out, jobs, "--timeout", "600"), cwd=src)
        check_run("500-page document, segment + normalize", tables, problems)
        res["long_extract"], res["long_tables"] = extract, tables
        res["long"] = {
            "wall": extract["wall"] + tables["wall"],
            "cpu": extract["cpu"] + tables["cpu"],
            "rss_mb": max(extract["rss_mb"], tables["rss_mb"]),
            "rc": tables["rc"],
        }
        res["long_status"] = status_counts(long_out)
        res["long_failed"] = failed_files(long_out)
        res["long_pages"] = long_doc["pages"]
        res["long_bare"] = timed([PY, "-c", BARE_PDFPLUMBER, str(long_raw / long_doc["name"])])

        print("report.html of the corpus ...", flush=True)
        res["report"] = report_seconds(timed([PY, "-m", "pipeline.outputs.report", str(out)], cwd=src), problems)

        huge_doc = manifest["huge"][0]
        print(f"{huge_doc['pages']}-page document, one run ...", flush=True)
        huge_raw, huge_out = work / "huge-raw", work / "huge-out"
        huge_raw.mkdir()
        shutil.copy2(folder / "huge" / huge_doc["name"], huge_raw / huge_doc["name"])
        res["huge"] = with_readers(
            timed(pipeline_cmd(huge_raw, huge_out, jobs, "--timeout", "1800"), cwd=src), huge_out
        )
        check_run(f"{huge_doc['pages']}-page document", res["huge"], problems)
        res["huge_pages"] = huge_doc["pages"]
        res["huge_status"] = status_counts(huge_out)
    finally:
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print("tagging ...", flush=True)
    from bench.bench_tag import measure_tagging

    res["tag"] = measure_tagging(megabytes)
    if tests:
        print("the test suite (pytest, as make test runs it) ...", flush=True)
        res["tests"] = timed([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=src)
        check_run("test suite", res["tests"], problems)
    res["problems"] = problems
    return res


def report(r: dict) -> str:
    pages, jobs = r["pages"], r["jobs"]
    cold, bare, pdfium, noop, add, own, long = (r[k] for k in ("cold", "bare", "pdfium", "noop", "add", "own", "long"))
    ratio = cold["wall"] / bare["wall"]
    add_budget = noop["wall"] + 3 * own["ours"] + 1.0
    tag = r["tag"]

    def ok(good: bool) -> str:
        return "ok" if good else "MISSED"

    rows = [
        (
            "pipeline cold run (all stages)",
            f"{cold['wall']:.2f} s, {pages / cold['wall']:.1f} pages/s",
            f"CPU {cold['cpu']:.1f} s",
            "",
        ),
        (
            "bare pdfplumber extract_text, 1 process",
            f"{bare['wall']:.2f} s, {pages / bare['wall']:.1f} pages/s",
            f"CPU {bare['cpu']:.1f} s",
            "",
        ),
        (
            "pypdfium2 text, 1 process (floor)",
            f"{pdfium['wall']:.2f} s, {pages / pdfium['wall']:.0f} pages/s",
            f"CPU {pdfium['cpu']:.1f} s",
            "",
        ),
        ("ratio pipeline / bare pdfplumber", f"{ratio:.2f}", "<= 0.6", ok(ratio <= 0.6)),
        ("no-op re-run (incl. start-up)", f"{noop['wall']:.2f} s", "<= 0.5 s", ok(noop["wall"] <= 0.5)),
        (
            "add one file: re-run",
            f"{add['wall']:.2f} s",
            f"<= no-op + 3 x own + 1 s = {add_budget:.2f} s",
            ok(add["wall"] <= add_budget),
        ),
        ("  that file's own extraction", f"bare {own['bare']:.2f} s, ours {own['ours']:.2f} s", "", ""),
        ("report.html of the corpus", f"{r['report']:.2f} s", "<= 0.2 s", ok(r["report"] <= 0.2)),
        ("peak RSS, corpus run (largest process)", f"{cold['rss_mb']:.0f} MB", "", ""),
        (
            f"{r['long_pages']}-page document: pipeline",
            f"{long['wall']:.2f} s, {r['long_pages'] / long['wall']:.1f} pages/s",
            f"bare pdfplumber {r['long_bare']['wall']:.2f} s",
            "",
        ),
        (
            f"{r['long_pages']}-page document: peak RSS",
            f"{long['rss_mb']:.0f} MB",
            "<= 400 MB",
            ok(long["rss_mb"] <= 400),
        ),
        (
            "  extract stage (reader) / tables",
            f"{r['long_extract']['wall']:.2f} s, {r['long_extract']['rss_mb']:.0f} MB"
            f" / {r['long_tables']['wall']:.2f} s, {r['long_tables']['rss_mb']:.0f} MB",
            "",
            "",
        ),
        (
            f"{r['huge_pages']}-page document: one run, peak RSS",
            f"{r['huge']['rss_mb']:.0f} MB",
            f"<= 500 MB ({r['huge']['wall']:.1f} s)",
            ok(r["huge"]["rss_mb"] <= 500),
        ),
        (
            "SudachiPy tagging, 1 process",
            f"{tag['mb_per_s']:.2f} MB/s ({tag['bytes'] / 1e6:.1f} MB in {tag['seconds']:.2f} s)",
            f"dict load {tag['load_seconds']:.2f} s",
            "",
        ),
    ]
    if "tests" in r:
        rows.append(
            ("make test (pytest), this machine", f"{r['tests']['wall']:.1f} s", "<= 80 s", ok(r["tests"]["wall"] <= 80))
        )
    w = [max(len(row[i]) for row in rows) for i in range(4)]
    head = ("measurement", "value", "note / target", "")
    w = [max(w[i], len(head[i])) for i in range(4)]
    lines = [
        f"make bench: {r['files']} PDFs / {r['pages']} pages, -j {jobs}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.machine()}"
        + (f"; pipeline from {r['src']}" if r["src"] else ""),
        "| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(head)) + " |",
        "|" + "|".join("-" * (x + 2) for x in w) + "|",
    ]
    lines += ["| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(row)) + " |" for row in rows]
    lines.append(
        f"documents status: corpus {fmt_counts(r['cold_status'])} (exit {cold['rc']}); after adding one "
        f"{fmt_counts(r['add_status'])}; {r['long_pages']}-page {fmt_counts(r['long_status'])} "
        f"(exit {long['rc']}); {r['huge_pages']}-page {fmt_counts(r['huge_status'])}"
    )
    for f in r["cold_failed"] + r["long_failed"]:
        lines.append(f"  not ok: {f}")
    for p in r["problems"]:
        lines.append(f"  PROBLEM: {p}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="pipeline workers (default: cores)")
    ap.add_argument("--root", type=Path, default=corpus_mod.DEFAULT_ROOT, help="corpus cache and scratch folder")
    ap.add_argument("--megabytes", type=float, default=1.0, help="text for the tagging measurement")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder (raw copies, outputs)")
    ap.add_argument("--no-tests", action="store_true", help="leave out the timing of the test suite")
    ap.add_argument(
        "--src",
        type=Path,
        default=ROOT,
        help="run `python -m pipeline` from this source tree (A/B a change in a scratch copy)",
    )
    args = ap.parse_args(argv)
    result = run(args.jobs, args.root, args.megabytes, args.keep, args.src.resolve(), tests=not args.no_tests)
    text = report(result)
    print()
    print(text)
    saved = {k: v for k, v in result.items()}
    for k in ("cold", "bare", "pdfium", "noop", "add", "long_extract", "long_tables", "long_bare", "huge", "tests"):
        if k in result:
            saved[k] = {x: y for x, y in result[k].items() if x not in ("stdout", "stderr")}
    (args.root / "last-run.json").write_text(
        json.dumps(saved, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
