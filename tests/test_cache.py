"""The tables are what the current code makes of the current bytes: a changed stage redoes its work and the
stages after it, --force redoes everything, and a file that changes while it is read is never cached."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.core.fingerprint import STAGES, module_closure
from tests import badfiles
from tests.conftest import frozen

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "raw" / "r2-approval-summary.pdf"
# A time limit no file here comes near, however loaded the machine: no test depends on its speed.
WIDE_TIME = ("--timeout", "600")


def run_in(src: Path, raw: Path, out: Path, *args: str) -> int:
    """`python -m pipeline all` run from `src`, so that the pipeline package found there is the one that runs."""
    cmd = [sys.executable, "-m", "pipeline", "all", "--raw", str(raw), "--out", str(out), "-q", *WIDE_TIME, *args]
    return subprocess.run(cmd, cwd=src, capture_output=True, text=True).returncode


def run_log(out: Path) -> dict:
    return json.loads((out / "run.json").read_text(encoding="utf-8"))


def identity(path: Path) -> tuple[int, int]:
    """Which file a path names, and when it was last written: a rewrite renames a new file into place, with a new
    inode however coarse the clock of the file system (the old one still existed when the new one was made)."""
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} not once in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture(scope="session")
def primed_copy(tmp_path_factory):
    """A copy of the pipeline package beside a RAW holding the sample, read once by it: made once per session and
    copied by each test that edits it (fingerprints hash each module's path within the package, not where the
    package stands, so the copy's cache holds for a copy of the copy)."""
    base = tmp_path_factory.mktemp("primed_copy")
    src = base / "src"
    shutil.copytree(ROOT / "pipeline", src / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    raw, out = base / "raw", base / "out"
    raw.mkdir()
    shutil.copy(SAMPLE, raw / "a.pdf")
    assert run_in(src, raw, out) == 0
    with frozen(src / "pipeline", raw, out):
        yield src, raw, out


@pytest.fixture
def copy(primed_copy, tmp_path):
    """A private copy of primed_copy: the pipeline package (without its bytecode, so that an edit is compiled
    afresh), RAW, and OUT as the package's one run left it."""
    copies = tmp_path / "src", tmp_path / "raw", tmp_path / "out"
    for shared, private in zip(primed_copy, copies, strict=True):
        shutil.copytree(shared, private, ignore=shutil.ignore_patterns("__pycache__"))
    return copies


@pytest.mark.slow
def test_a_segment_rule_edit_resegments_without_reading_the_pdf_again(copy):
    src, raw, out = copy
    assert pd.read_parquet(out / "pillars.parquet")["has_more_projects"].sum() == 4
    # The rule for a closing 等, edited so that no list ends in 等 any more.
    edit(src / "pipeline" / "structure" / "projects.py", 'items[-1].endswith("等")', 'items[-1].endswith("〓")')
    assert run_in(src, raw, out) == 0
    assert run_log(out)["read"] == []
    assert pd.read_parquet(out / "pillars.parquet")["has_more_projects"].sum() == 0


@pytest.mark.slow
def test_an_extract_edit_reads_every_pdf_again(copy):
    src, raw, out = copy
    edit(src / "pipeline" / "core" / "layout.py", "WORD_GAP_EM = 0.2", "WORD_GAP_EM = 0.25")
    assert run_in(src, raw, out) == 0
    assert run_log(out)["read"] == ["a.pdf"]


def interim_records(out: Path, stage: str) -> dict[Path, tuple[int, int]]:
    return {p: identity(p) for p in (out / "interim" / stage).iterdir()}


@pytest.mark.slow
def test_an_edit_of_the_extract_record_builder_reads_the_pdf_again(copy):
    src, raw, out = copy
    edit(src / "pipeline" / "extract.py", 'text_source = "pypdfium2"', 'text_source = "pypdfium2 (edited)"')
    assert run_in(src, raw, out) == 0
    assert run_log(out)["read"] == ["a.pdf"]
    (record,) = (out / "interim" / "extract").iterdir()
    pages = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()[1:]]
    assert [page["text_source"] for page in pages] == ["pypdfium2 (edited)"] * 6


@pytest.mark.slow
def test_an_edit_of_the_segment_record_builder_segments_again_without_reading_the_pdf(copy):
    """The edit that the run's cache once missed: the code that sets a segment record's title."""
    src, raw, out = copy
    extracted = interim_records(out, "extract")
    edit(src / "pipeline" / "segment.py", "record.title = document_title(pages)", 'record.title = "表題を編集"')
    assert run_in(src, raw, out) == 0
    assert run_log(out)["read"] == []
    assert interim_records(out, "extract") == extracted
    assert pd.read_parquet(out / "documents.parquet")["title"].tolist() == ["表題を編集"]


@pytest.mark.slow
def test_an_edit_of_the_normalize_record_builder_makes_the_rows_again_without_segmenting(copy):
    src, raw, out = copy
    segmented = interim_records(out, "segment")
    edit(src / "pipeline" / "normalize.py", '"plans_rejected": len(seg.rejected)', '"plans_rejected": 7')
    assert run_in(src, raw, out) == 0
    assert run_log(out)["read"] == []
    assert interim_records(out, "segment") == segmented
    assert pd.read_parquet(out / "documents.parquet")["plans_rejected"].tolist() == [7]


@pytest.mark.slow
def test_a_vocabulary_edit_retags_without_segmenting_again(copy):
    src, raw, out = copy
    segment_records = {p: identity(p) for p in (out / "interim" / "segment").iterdir()}
    tags = pd.read_parquet(out / "tags.parquet")
    assert set(tags.loc[tags["code"] == "retail", "label_ja"]) == {"商店街・小売"}
    # A label edit: every rule file names every code, so a code cannot simply be taken out.
    vocabulary = src / "pipeline" / "data" / "vocabulary.csv"
    text = vocabulary.read_text(encoding="utf-8")
    vocabulary.write_text(text.replace("retail,theme,商店街・小売,", "retail,theme,商店街と小売,"), encoding="utf-8")
    assert run_in(src, raw, out) == 0
    assert run_log(out)["read"] == []
    assert {p: identity(p) for p in (out / "interim" / "segment").iterdir()} == segment_records
    tags = pd.read_parquet(out / "tags.parquet")
    assert set(tags.loc[tags["code"] == "retail", "label_ja"]) == {"商店街と小売"}


@pytest.mark.slow
def test_force_reads_every_file_again_and_rewrites_the_outputs(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    shutil.copy(SAMPLE, raw / "a.pdf")
    (raw / "b.pdf").write_bytes(badfiles.text_pdf())
    assert main(["all", "--raw", str(raw), "--out", str(out), "-q", *WIDE_TIME]) == 2
    written = identity(out / "plans.parquet")
    assert main(["all", "--raw", str(raw), "--out", str(out), "-q", *WIDE_TIME]) == 2
    assert run_log(out)["read"] == []
    assert main(["all", "--raw", str(raw), "--out", str(out), "-q", *WIDE_TIME, "--force"]) == 2
    assert run_log(out)["read"] == ["a.pdf", "b.pdf"]
    assert identity(out / "plans.parquet")[0] != written[0]  # a new file, even within one tick of the clock


@pytest.mark.slow
def test_a_file_changed_while_the_run_reads_it_is_not_cached(tmp_path, monkeypatch):
    """The file is truncated after RAW was listed and hashed, before its worker reads it, then put back: the run
    reports it, and the next run reads the restored file as if nothing had happened."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    original = SAMPLE.read_bytes()
    (raw / "a.pdf").write_bytes(original)
    import pipeline.run.runner

    real = pipeline.run.runner.read_in_workers

    def truncate_then_read(todo, *args, **kwargs):
        (raw / "a.pdf").write_bytes(original[: len(original) // 2])
        real(todo, *args, **kwargs)
        (raw / "a.pdf").write_bytes(original)

    monkeypatch.setattr(pipeline.run.runner, "read_in_workers", truncate_then_read)
    assert main(["all", "--raw", str(raw), "--out", str(out), "-q", *WIDE_TIME]) == 2
    row = pd.read_parquet(out / "documents.parquet").iloc[0]
    assert row.status == "changed_during_run"
    assert row.error.startswith("the file changed while the run read it (listed as 359ecd7b1031…, read as ")
    assert row.error.endswith("…); nothing to do: the next run reads it again")
    monkeypatch.setattr(pipeline.run.runner, "read_in_workers", real)
    assert main(["all", "--raw", str(raw), "--out", str(out), "-q", *WIDE_TIME]) == 0
    assert run_log(out)["read"] == ["a.pdf"]
    assert pd.read_parquet(out / "documents.parquet")[["status", "plans_found"]].values.tolist() == [["ok", 6]]


@pytest.mark.slow
def test_memory_exhausted_anywhere_is_too_large_and_read_again_with_more_memory(tmp_path):
    """Two million unrestored graphics-state saves need about 800 MB of pdfminer's memory: at 512 MiB the
    pdfplumber reader fails, whether in the parser or while reporting it, and a run allowing more reads the file
    again. Only memory can stop it: the time limit (600 s) is far beyond the seconds it takes, however loaded the
    machine. (pdfium reads the same file in a few MiB: the next test.)"""
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    (raw / "saves.pdf").write_bytes(badfiles.nested_saves(2_000_000))
    extract = ["extract", "--raw", str(raw), "--out", str(out), "-q", "--reader", "pdfplumber"]
    assert main([*extract, "--memory-mb", "512", "--timeout", "600"]) == 2
    assert run_log(out)["failed"] == {"saves.pdf": "too_large"}
    assert main([*extract, "--memory-mb", "512", "--timeout", "600"]) == 2
    assert run_log(out)["read"] == []
    # Read again under the wider cap; a short timeout ends it early, which is enough to see it read (how it ends,
    # timed out or read whole, depends on the machine's speed and is not asserted).
    main([*extract, "--memory-mb", "4096", "--timeout", "1"])
    assert run_log(out)["read"] == ["saves.pdf"]


@pytest.mark.slow
def test_pdfium_reads_two_million_saves_under_the_cap_pdfminer_exceeds(tmp_path):
    """The file of the test before, read by the default reader under the same 512 MiB: pdfium's copy of a saved
    state shares what did not change, so the file is read whole (in about 300 MiB), and has no text."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    (raw / "saves.pdf").write_bytes(badfiles.nested_saves(2_000_000))
    assert main(["extract", "--raw", str(raw), "--out", str(out), "-q", "--memory-mb", "512", "--timeout", "600"]) == 2
    assert run_log(out)["failed"] == {"saves.pdf": "no_text"}


def test_each_stage_fingerprints_its_face_its_rooms_and_what_they_import():
    def closure(stage):
        return [str(p.relative_to(ROOT / "pipeline")) for p in module_closure(STAGES[stage][0])]

    # the fingerprint itself keeps what it read of the sources with core.io's atomic writes
    core = ["core/__init__.py", "core/failures.py", "core/fingerprint.py", "core/io.py"]
    assert closure("segment") == [
        "__init__.py",
        *core,
        "core/layout.py",
        "core/radicals.py",
        "core/records.py",
        "core/text.py",
        "segment.py",
        "structure/__init__.py",
        "structure/body.py",
        "structure/captions.py",
        "structure/doubts.py",
        "structure/enumerators.py",
        "structure/furniture.py",
        "structure/headings.py",
        "structure/plans.py",
        "structure/projects.py",
        "structure/provenance.py",
        "structure/rejection.py",
        "structure/roles.py",
    ]
    assert closure("extract") == [
        "__init__.py",
        *core,
        "core/layout.py",
        "core/radicals.py",
        "core/records.py",
        "core/text.py",
        "extract.py",
        "reading/__init__.py",
        "reading/cells.py",
        "reading/chars.py",
        "reading/errors.py",
        "reading/objects.py",
        "reading/ocr.py",
        "reading/ocr_text.py",
        "reading/order.py",
        "reading/pdfium.py",
        "reading/pdfium_page.py",
        "reading/regions.py",
        "reading/subpages.py",
        "reading/vertical.py",
    ]


@pytest.mark.slow
def test_workers_stamp_their_records_with_the_fingerprints_the_run_hands_them(tmp_path, monkeypatch):
    """A worker makes no fingerprint of its own (parsing the stages' modules again for each file): it takes the
    run's. Made-up ones handed down are those its records carry, the rows record included, which the worker made
    too."""
    from pipeline.core.fingerprint import FINGERPRINTS
    from pipeline.core.records import Limits
    from pipeline.run.cache import interim_path
    from pipeline.run.inputs import find_sources
    from pipeline.run.workers import read_in_workers

    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    shutil.copy(SAMPLE, raw / "a.pdf")
    made_up = {"extract": "e" * 64, "segment": "5" * 64, "normalize": "a" * 64}
    for stage, value in made_up.items():
        monkeypatch.setitem(FINGERPRINTS, stage, value)
    (source,), _ = find_sources(raw)
    read_in_workers([source], out, 1, Limits(seconds=600), last="all")
    stamped = {}
    for stage in made_up:
        with interim_path(out, stage, source.sha256).open(encoding="utf-8") as f:
            stamped[stage] = json.loads(f.readline())["fingerprint"]
    assert stamped == made_up


def test_fingerprints_made_from_the_facts_a_run_kept_parse_nothing_and_are_the_same(tmp_path, monkeypatch):
    """A run keeps what the fingerprints took from each source text (OUT/interim/fingerprint-facts.json, by the
    text's sha256): the next run's are made from it without parsing a module, and are the same."""
    from pipeline.core import fingerprint as fp

    def clear() -> None:
        for cached in (fp.source_facts, fp.imported_modules, fp.named_files):
            cached.cache_clear()

    monkeypatch.setattr(fp, "FACTS", {})
    monkeypatch.setattr(fp, "USED", set())
    clear()
    parsed = {stage: fp.make_fingerprint(stage) for stage in fp.STAGES}
    kept = tmp_path / "facts.json"
    fp.keep_facts(kept)
    text = (ROOT / "pipeline" / "core" / "fingerprint.py").read_bytes()
    imports, strings = json.loads(kept.read_bytes())[hashlib.sha256(text).hexdigest()]
    assert ["pipeline.core.io", ["write_atomic"]] in imports and "README.md" in strings

    monkeypatch.setattr(fp, "FACTS", {})
    clear()
    fp.load_facts(kept)

    def no_parse(*args, **kwargs):
        raise AssertionError("a module was parsed")

    monkeypatch.setattr(fp.ast, "parse", no_parse)
    assert {stage: fp.make_fingerprint(stage) for stage in fp.STAGES} == parsed
    clear()


@pytest.mark.parametrize("kept", [b"{]", b'{"a": 1}', b"[]", b'{"a": [[["m", 1]], []]}'])
def test_facts_that_are_not_a_runs_are_left_unread(tmp_path, monkeypatch, kept):
    from pipeline.core import fingerprint as fp

    monkeypatch.setattr(fp, "FACTS", {})
    (tmp_path / "facts.json").write_bytes(kept)
    fp.load_facts(tmp_path / "facts.json")
    fp.load_facts(tmp_path / "missing.json")
    assert fp.FACTS == {}
