"""The normalize stage pays for new files only: each file's rows and tags are cached under OUT/interim/normalize, keyed
by its segment record and the normalize code, and whatever needs every file (which plans were read before, plan ids,
the documents rows, the order) is done whole each time. A run that adds files writes exactly the bytes of a fresh
run, but for what changed since the previous run (the changes table and what shows it); a damaged or stale entry is
made again; pandas, pyarrow and SudachiPy are loaded only when used."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from pipeline.normalize import decode_index, read_rows_record
from pipeline.run.cache import INDEX, interim_path, read_index
from tests.conftest import run_pipeline
from tests.fixtures.render import render
from tests.fixtures.variants import VARIANTS

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "raw" / "r2-approval-summary.pdf"
HEAVY = ("pandas", "pyarrow", "sudachipy")
# `python -m pipeline all ARGS`, then which of the heavy libraries the process loaded.
PROBE = f"""
import json, sys
from pipeline.cli import main
status = main(sys.argv[1:])
print(json.dumps({{"status": status, "loaded": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""
# The same, counting the taggers made and the Sudachi dictionaries loaded.
COUNTING_PROBE = """
import json, sys
import sudachipy
import pipeline.tagging.tagger
from pipeline.cli import main
made = {"taggers": 0, "dictionaries": 0}
real_dictionary = sudachipy.Dictionary
def dictionary(*args, **kwargs):
    made["dictionaries"] += 1
    return real_dictionary(*args, **kwargs)
sudachipy.Dictionary = dictionary
class Tagger(pipeline.tagging.tagger.Tagger):
    def __init__(self, *args, **kwargs):
        made["taggers"] += 1
        super().__init__(*args, **kwargs)
pipeline.tagging.tagger.Tagger = Tagger
status = main(sys.argv[1:])
print(json.dumps({"status": status, **made}))
"""
# The same, with the fork server loading tests/forkserver_counts.py first, which counts what it and its workers do.
FORKSERVER_PROBE = COUNTING_PROBE.replace(
    "from pipeline.cli import main",
    "from pipeline.cli import main\n"
    "import pipeline.run.workers as workers\n"
    "workers.PRELOAD = ('tests.forkserver_counts', *workers.PRELOAD)",
)

# The same, listing the files of rows the run opened (under OUT/interim: a rows record or the index cache), in
# the order first opened.
OPENS_PROBE = """
import json, sys
opened = []
def hook(event, args):
    if event == "open" and isinstance(args[0], str) and "/interim/normalize" in args[0]:
        name = args[0].split("/interim/")[1]
        if name not in opened:
            opened.append(name)
sys.addaudithook(hook)
from pipeline.cli import main
status = main(sys.argv[1:])
print(json.dumps({"status": status, "opened": opened}))
"""

# Each test runs the pipeline (most in a subprocess): make test runs them, make test-fast does not.
pytestmark = pytest.mark.slow


def probe(raw: Path, out: Path, code: str = PROBE, env: dict | None = None) -> dict:
    cmd = [sys.executable, "-c", code, "all", "--raw", str(raw), "--out", str(out), "-q", "--timeout", "600", "-j", "2"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def identity(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


def entries(out: Path) -> dict[str, tuple[int, int]]:
    return {p.name: identity(p) for p in (out / "interim" / "normalize").iterdir()}


def outputs(out: Path) -> dict[str, bytes]:
    """Every file a run writes in OUT but its log (run.json: when, how long, what was read)."""
    return {
        p.name: p.read_bytes()
        for p in sorted(out.iterdir())
        if p.is_file() and not p.name.startswith(".") and p.name != "run.json"
    }


# What tells a run that adds files from a fresh run: the changes table (what the run changed in the previous run's
# tables, where a fresh run adds every plan), the views that show it, and the manifest naming their sha256.
SHOWING_CHANGES = ("changes.parquet", "changes.csv", "report.html", "tables.xlsx")


def tables_written(out: Path) -> dict[str, bytes]:
    """Every file a run writes in OUT but its log and what shows the changes since the previous run, the manifest
    without the sha256 of these and the changes' number of rows."""
    written = {name: data for name, data in outputs(out).items() if name not in SHOWING_CHANGES}
    manifest = json.loads(written.pop("manifest.json"))
    manifest["outputs"] = {name: digest for name, digest in manifest["outputs"].items() if name not in SHOWING_CHANGES}
    del manifest["rows"]["changes"]
    return {**written, "manifest.json": manifest}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """RAW read once, read again after two files were added (one of them before the others by name, taking over
    their plans and a plan id), and read afresh into an empty OUT. Returns raw, the OUT read twice, the fresh OUT
    and the normalize entries after the first run."""
    base = tmp_path_factory.mktemp("incremental")
    raw, out, fresh = base / "raw", base / "out", base / "fresh"
    raw.mkdir()
    doc, layout = VARIANTS["same_municipality_and_year"]  # 台東区's two plans of 2020 (the second gets -2), 北区's
    shutil.copy(SAMPLE, raw / "b.pdf")
    render(doc, layout, raw / "d.pdf")
    assert run_pipeline(raw, out) == 0
    first = entries(out)
    (raw / "a.pdf").write_bytes(SAMPLE.read_bytes() + b"\n% another copy\n")  # b.pdf's plans, read first now
    render(replace(doc, plans=[doc.plans[1]]), layout, raw / "c.pdf")  # d.pdf's second 台東区 plan, read first now
    assert run_pipeline(raw, out) == 0
    assert run_pipeline(raw, fresh) == 0
    return raw, out, fresh, first


def test_a_run_adding_files_writes_the_bytes_of_a_fresh_run(runs):
    """The same bytes but for the changes: a.pdf holds b.pdf's plans (read from another file, the same plans) and c.pdf
    d.pdf's second 台東区 plan, which, read first now, takes the id 131067-2020 from the first."""
    _, out, fresh, _ = runs
    written = outputs(fresh)
    assert {"plans.parquet", "tags.csv", "datapackage.json", "report.html", "tables.xlsx", "manifest.json"} <= (
        written.keys()
    )
    assert outputs(out).keys() == written.keys()
    assert tables_written(out) == tables_written(fresh)
    changes = pd.read_parquet(out / "changes.parquet")
    assert set(changes["plan_id"]) == {"131067-2020", "131067-2020-2"}
    titles = changes.loc[changes["field"].eq("plan_title"), ["plan_id", "before", "after"]].values.tolist()
    assert titles == [
        ["131067-2020", "台東区ものづくりのまちネットワーク推進計画", "台東区観光まちづくり推進計画"],
        ["131067-2020-2", "台東区観光まちづくり推進計画", "台東区ものづくりのまちネットワーク推進計画"],
    ]
    assert len(pd.read_parquet(fresh / "changes.parquet")) == 9  # every plan added: no previous tables


def test_a_run_adding_files_makes_the_rows_of_those_files_only(runs):
    raw, out, _, first = runs
    now = entries(out)
    assert {name: now[name] for name in first} == first  # b.pdf's and d.pdf's rows read back, not made again
    assert sorted(now.keys() - first.keys()) == sorted(f"{sha256(raw / name)}.jsonl" for name in ("a.pdf", "c.pdf"))


def test_the_steps_across_files_see_the_files_added(runs):
    _, out, _, _ = runs
    plans = pd.read_parquet(out / "plans.parquet").set_index("plan_id")
    assert set(plans.loc[["131091-2020", "132152-2020"], "source_file"]) == {"a.pdf"}
    assert plans.loc["131067-2020", ["plan_title", "source_file"]].tolist() == ["台東区観光まちづくり推進計画", "c.pdf"]
    assert plans.loc["131067-2020-2", "source_file"] == "d.pdf"
    assert "131067-2020-3" not in plans.index
    tags = pd.read_parquet(out / "tags.parquet")
    assert set(tags["plan_id"]) <= set(plans.index) and "131067-2020-2" in set(tags["plan_id"])
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["adds_nothing"] == {"b.pdf": "all 6 plans already read from a.pdf"}


def test_the_manifest_records_the_warnings_as_data_and_a_later_report_lists_the_same_pairs(runs, tmp_path):
    """a.pdf holds b.pdf's six plans, c.pdf one of d.pdf's: two pairs, recorded in the manifest, from which
    `python -m pipeline.outputs.report OUT` writes the very report of the run."""
    _, out, _, _ = runs
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["read_twice"] == [
        {
            "first_file": "a.pdf",
            "later_file": "b.pdf",
            "plan_ids": ["131091-2020", "131148-2020", "131237-2020", "132012-2020", "132047-2020", "132152-2020"],
        },
        {"first_file": "c.pdf", "later_file": "d.pdf", "plan_ids": ["131067-2020"]},
    ]
    assert manifest["notices"] == [
        {
            "code": "same_start_year",
            "source_file": "d.pdf",
            "plan_ids": ["131067-2020-2", "131067-2020"],
            "message": "131067-2020-2: 「台東区ものづくりのまちネットワーク推進計画」, "
            "another plan of 台東区 starting the same year as 131067-2020",
        }
    ]
    later = tmp_path / "out"
    shutil.copytree(out, later, ignore=shutil.ignore_patterns("interim", "report.html"))
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.outputs.report", str(later)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (later / "report.html").read_bytes() == (out / "report.html").read_bytes()


def header(data: bytes) -> tuple[dict, bytes]:
    head, body = data.split(b"\n", 1)
    return json.loads(head), body


def with_header(data: bytes, **fields) -> bytes:
    head, body = header(data)
    return json.dumps({**head, **fields}).encode() + b"\n" + body


# What damages any cache file of two lines (a header, then the data), whichever it is.
FILE_DAMAGES = {
    "garbage": lambda data: b"\x00\xffnot json",
    "empty": lambda data: b"",
    "truncated": lambda data: data[: len(data) // 2],
    "a header that is no object": lambda data: b"[]\n" + header(data)[1],
    "made by other code": lambda data: with_header(data, fingerprint="0" * 64),
}

DAMAGES = {
    **FILE_DAMAGES,
    "made from another segment record": lambda data: with_header(data, segment_sha256="0" * 64),
    "rows altered": lambda data: data.replace("品川区地域産業活性化計画".encode(), "品川区偽計画".encode()),
    "rows of another shape": lambda data: with_header(
        b"{}\n{}",
        **{k: v for k, v in header(data)[0].items() if k != "rows_sha256"},
        rows_sha256=hashlib.sha256(b"{}").hexdigest(),
    ),
}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_or_stale_entry_is_made_again(runs, tmp_path, damage):
    raw, _, fresh, _ = runs
    out = tmp_path / "out"
    shutil.copytree(fresh, out)
    sha = sha256(raw / "a.pdf")
    entry = interim_path(out, "normalize", sha)
    entry.write_bytes(damage(entry.read_bytes()))
    segment_sha = sha256(interim_path(out, "segment", sha))
    assert read_rows_record(entry.read_bytes(), segment_sha) is None
    (out / "manifest.json").unlink()  # so that the run builds the tables again
    assert run_pipeline(raw, out) == 0
    assert read_rows_record(entry.read_bytes(), segment_sha) is not None
    assert outputs(out) == outputs(fresh)


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_entry_is_made_again_without_its_index(runs, tmp_path, damage):
    """Without the index cache, the file's index comes from its own record, which is made again first."""
    raw, _, fresh, _ = runs
    out = tmp_path / "out"
    shutil.copytree(fresh, out)
    entry = interim_path(out, "normalize", sha256(raw / "a.pdf"))
    entry.write_bytes(damage(entry.read_bytes()))
    (out / "interim" / INDEX).unlink()
    (out / "manifest.json").unlink()
    assert run_pipeline(raw, out) == 0
    assert read_rows_record(entry.read_bytes(), sha256(interim_path(out, "segment", sha256(raw / "a.pdf")))) is not None
    assert indexed_files(out) == sorted(sha256(raw / name) for name in ("a.pdf", "b.pdf", "c.pdf", "d.pdf"))
    assert tables_written(out) == tables_written(fresh)


def indexed_files(out: Path) -> list[str]:
    """The files the index cache holds a standing index of, by sha256; [] when none stands."""
    segment_records = {p.stem: sha256(p) for p in (out / "interim" / "segment").iterdir()}
    held = read_index(out, segment_records)[0]
    return sorted(sha for sha, index in held.items() if decodes(index))


def decodes(index: dict) -> bool:
    try:
        decode_index(index)
    except (KeyError, ValueError, TypeError, AttributeError):
        return False
    return True


def with_index_body(data: bytes, edit) -> bytes:
    """The index cache with its second line edited, and the first line's sha256 of it made to match, so that
    only the check of each file against its segment record can tell."""
    head, body = header(data)
    body = json.dumps(edit(json.loads(body))).encode()
    return json.dumps({**head, "files_sha256": hashlib.sha256(body).hexdigest()}).encode() + b"\n" + body


def first_file_from(files: dict, segment: str) -> dict:
    """The index's files with the first one's entry ([segment record sha256, index]) naming another segment record."""
    first = next(iter(files))
    return {**files, first: [segment, files[first][1]]}


INDEX_DAMAGES = {
    **FILE_DAMAGES,
    "a file made from another segment record": lambda data: with_index_body(
        data, lambda files: first_file_from(files, "0" * 64)
    ),
    "an index altered": lambda data: data.replace("品川区地域産業活性化計画".encode(), "品川区偽計画".encode()),
    "an index of another shape": lambda data: with_index_body(
        data, lambda files: {sha: [segment, {}] for sha, (segment, _) in files.items()}
    ),
}


@pytest.mark.parametrize("damage", INDEX_DAMAGES.values(), ids=INDEX_DAMAGES.keys())
def test_a_damaged_or_stale_index_cache_is_not_trusted_and_written_again(runs, tmp_path, damage):
    """What of the index cache does not stand is read from each file's own record instead: the tables are those
    of a fresh run, and the index cache is written again whole."""
    _, _, fresh, _ = runs
    raw, out = runs[0], tmp_path / "out"
    shutil.copytree(fresh, out)
    whole = indexed_files(out)
    assert len(whole) == 4
    index = out / "interim" / INDEX
    index.write_bytes(damage(index.read_bytes()))
    assert indexed_files(out) != whole
    (out / "manifest.json").unlink()
    assert run_pipeline(raw, out) == 0
    assert indexed_files(out) == whole
    assert outputs(out) == outputs(fresh)


def test_a_run_adding_one_file_reads_the_rows_only_of_the_files_whose_plans_it_keeps(runs, tmp_path):
    """Every file's index comes from the index cache, read in one pass, and the added file's from its own record;
    the rows are then read of the files whose plans the tables keep: b.pdf's plans were all read from a.pdf, which
    comes first by name, so b.pdf's record is never opened. The index cache is written again, with the file added."""
    raw, _, fresh, _ = runs
    src, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(raw, src)
    shutil.copytree(fresh, out)
    added = sha256(src / "a.pdf")
    (src / "a.pdf").unlink()
    assert run_pipeline(src, out) == 0
    before = identity(out / "interim" / INDEX)
    assert indexed_files(out) == sorted(sha256(src / name) for name in ("b.pdf", "c.pdf", "d.pdf"))
    shutil.copy(raw / "a.pdf", src / "a.pdf")
    assert probe(src, out, OPENS_PROBE)["opened"] == [
        INDEX,
        f"normalize/{added}.jsonl",
        f"normalize/{sha256(src / 'c.pdf')}.jsonl",
        f"normalize/{sha256(src / 'd.pdf')}.jsonl",
    ]
    assert identity(out / "interim" / INDEX) != before
    assert indexed_files(out) == sorted(sha256(raw / name) for name in ("a.pdf", "b.pdf", "c.pdf", "d.pdf"))
    assert tables_written(out) == tables_written(fresh)


def test_a_run_with_nothing_new_loads_neither_pandas_pyarrow_nor_sudachipy(runs, tmp_path):
    raw, _, fresh, _ = runs
    out = tmp_path / "out"
    shutil.copytree(fresh, out)
    assert probe(raw, out) == {"status": 0, "loaded": []}
    assert outputs(out) == outputs(fresh)


def test_a_run_whose_files_are_all_cached_does_not_load_sudachipy(runs, tmp_path):
    raw, _, fresh, _ = runs
    src, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(raw, src)
    shutil.copytree(fresh, out)
    (src / "c.pdf").unlink()  # the tables change, every remaining file's rows are cached
    before = entries(out)
    assert probe(src, out) == {"status": 0, "loaded": ["pandas", "pyarrow"]}
    assert "c.pdf" not in set(pd.read_parquet(out / "documents.parquet")["source_file"])
    assert entries(out) == {name: before[name] for name in entries(out)}
    assert len(entries(out)) == len(before) - 1  # c.pdf's rows pruned with it


def test_the_sudachi_dictionary_is_loaded_once_for_a_run_tagging_many_files(runs, tmp_path):
    raw, _, fresh, _ = runs
    out = tmp_path / "out"
    shutil.copytree(fresh, out)
    shutil.rmtree(out / "interim" / "normalize")
    (out / "interim" / INDEX).unlink()
    (out / "manifest.json").unlink()
    assert probe(raw, out, COUNTING_PROBE) == {"status": 0, "taggers": 1, "dictionaries": 1}
    assert len(entries(out)) == 4
    assert outputs(out) == outputs(fresh)


def test_a_cold_run_tags_in_its_workers_from_one_dictionary_and_the_run_s_fingerprints(runs, tmp_path):
    """Each file is segmented, made into rows and tagged in the worker that read it: the run itself builds no
    tagger, the fork server loads the dictionary once for every worker, and no worker fingerprints the code (the
    run hands its fingerprints down)."""
    raw, _, fresh, _ = runs
    out, counts = tmp_path / "out", tmp_path / "counts"
    env = {**os.environ, "PIPELINE_COUNTS": str(counts)}
    assert probe(raw, out, FORKSERVER_PROBE, env) == {"status": 0, "taggers": 0, "dictionaries": 0}
    assert counts.read_text(encoding="utf-8") == "dictionary in the fork server\n"
    assert len(entries(out)) == 4
    assert outputs(out) == outputs(fresh)
