"""Every entry of RAW gets a row, whatever its name or kind; the terminal is told the truth, one escaped line
per file; OUT and its lock cannot be turned against the run."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "raw" / "r2-approval-summary.pdf"
PUT_IT_IN_RAW = "; put the PDF itself in RAW"


def documents(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "documents.parquet").set_index("source_file")


def run_as_a_user(raw: Path, out: Path) -> subprocess.CompletedProcess:
    """`python -m pipeline all` without root's power to read any file, so that a file's permissions count."""
    cmd = [sys.executable, "-m", "pipeline", "all", "--raw", str(raw), "--out", str(out), "-q"]
    if os.geteuid() == 0:
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *cmd]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_every_entry_of_raw_gets_a_row_and_no_entry_can_stall_the_run(tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    shutil.copy(SAMPLE, raw / "good.pdf")
    (raw / os.fsdecode(b"caf\xe9.pdf")).write_bytes(SAMPLE.read_bytes() + b"\n% latin-1 name\n")
    os.mkfifo(raw / "pipe.pdf")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(raw / "socket.pdf"))
    (raw / "loop.pdf").symlink_to(raw / "loop.pdf")
    (raw / "gone.pdf").symlink_to(tmp_path / "missing.pdf")
    (raw / "zero.pdf").symlink_to("/dev/zero")
    (raw / "locked.pdf").write_bytes(b"%PDF-1.4 locked")
    (raw / "locked.pdf").chmod(0)
    (raw / "x.pdf").mkdir()
    (raw / ".hidden.pdf").write_bytes(b"not listed")
    try:
        done = run_as_a_user(raw, out)
    finally:
        listener.close()
    assert done.returncode == 2
    docs = documents(out)
    assert docs[["status", "error"]].astype(object).where(docs[["status", "error"]].notna(), None).to_dict("index") == {
        "caf\\xe9.pdf": {"status": "ok", "error": None},
        "gone.pdf": {"status": "not_a_file", "error": "a symbolic link to nothing" + PUT_IT_IN_RAW},
        "good.pdf": {"status": "ok", "error": None},
        "locked.pdf": {
            "status": "unreadable",
            "error": "cannot be read (Permission denied); check its permissions, or copy it again",
        },
        "loop.pdf": {"status": "not_a_file", "error": "a symbolic link that loops" + PUT_IT_IN_RAW},
        "pipe.pdf": {"status": "not_a_file", "error": "a named pipe (FIFO)" + PUT_IT_IN_RAW},
        "socket.pdf": {"status": "not_a_file", "error": "a socket" + PUT_IT_IN_RAW},
        "x.pdf": {"status": "not_a_file", "error": "a folder" + PUT_IT_IN_RAW},
        "zero.pdf": {
            "status": "not_a_file",
            "error": "a link to a file outside RAW, which is never read" + PUT_IT_IN_RAW,
        },
    }
    assert pd.isna(docs.loc["gone.pdf", "source_sha256"]) and docs["pages"].isna().sum() == 7
    plans = pd.read_parquet(out / "plans.parquet")
    assert (len(plans), set(plans["source_file"])) == (6, {"caf\\xe9.pdf"})  # the first by name keeps them
    assert done.stderr.splitlines() == [
        "gone.pdf: not_a_file: a symbolic link to nothing" + PUT_IT_IN_RAW,
        "locked.pdf: unreadable: cannot be read (Permission denied); check its permissions, or copy it again",
        "loop.pdf: not_a_file: a symbolic link that loops" + PUT_IT_IN_RAW,
        "pipe.pdf: not_a_file: a named pipe (FIFO)" + PUT_IT_IN_RAW,
        "socket.pdf: not_a_file: a socket" + PUT_IT_IN_RAW,
        "x.pdf: not_a_file: a folder" + PUT_IT_IN_RAW,
        "zero.pdf: not_a_file: a link to a file outside RAW, which is never read" + PUT_IT_IN_RAW,
    ]


def test_a_name_with_a_newline_or_an_escape_prints_one_escaped_line(tmp_path, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "fake.pdf: ok: fine\n\x1b[31mred.pdf").write_bytes(b"")
    assert main(["all", "--raw", str(raw), "--out", str(tmp_path / "out"), "-q"]) == 2
    assert capsys.readouterr().err == (
        "fake.pdf: ok: fine\\n\\x1b[31mred.pdf: empty: the file is empty (0 bytes); download the file again\n"
    )
    assert documents(tmp_path / "out").index.tolist() == ["fake.pdf: ok: fine\n\x1b[31mred.pdf"]


@pytest.mark.slow
def test_files_that_add_nothing_are_named_on_the_terminal(tmp_path, caplog):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(SAMPLE, raw / "a.pdf")
    shutil.copy(SAMPLE, raw / "b.pdf")
    (raw / "c.pdf").write_bytes(SAMPLE.read_bytes() + b"\n% other bytes, same plans\n")
    for _ in range(2):  # the second run writes nothing, and says the same
        caplog.clear()
        assert main(["all", "--raw", str(raw), "--out", str(tmp_path / "out")]) == 0
        assert [line for line in caplog.messages if "adds nothing" in line] == [
            "b.pdf: adds nothing: same bytes as a.pdf",
            "c.pdf: adds nothing: all 6 plans already read from a.pdf",
        ]


@pytest.mark.slow
def test_quiet_prints_errors_only(tmp_path):
    """Warnings, a library's included, stay off a quiet terminal."""
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(SAMPLE, raw / "a.pdf")
    shutil.copy(SAMPLE, raw / "b.pdf")
    cmd = [sys.executable, "-m", "pipeline", "all", "--raw", str(raw), "--out", str(tmp_path / "out"), "-q"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_an_empty_raw_is_a_warning_and_exit_1(tmp_path, capsys):
    (tmp_path / "raw").mkdir()
    assert main(["all", "--raw", str(tmp_path / "raw"), "--out", str(tmp_path / "out"), "-q"]) == 1
    assert capsys.readouterr().err == f"warning: {tmp_path / 'raw'} holds no file: nothing to read\n"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda t: (t / "raw.pdf", t / "out"),
            "error: --raw must be a folder of PDFs, not a file: {raw} (put it in a folder)",
        ),
        (lambda t: (t / "raw", t / "out.txt"), "error: --out must be a folder, but {out} is a file"),
        (lambda t: (t / "raw", t / "raw"), "error: --out must not be the raw folder: {out}"),
        (lambda t: (t / "missing", t / "out"), "error: raw folder not found: {raw}"),
    ],
)
def test_folders_the_run_cannot_use_are_one_plain_line(tmp_path, capsys, make, message):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw.pdf").write_bytes(SAMPLE.read_bytes())
    (tmp_path / "out.txt").write_text("notes")
    raw, out = make(tmp_path)
    assert main(["all", "--raw", str(raw), "--out", str(out), "-q"]) == 1
    assert capsys.readouterr().err == message.format(raw=raw, out=out) + "\n"


def test_a_symlinked_lock_is_refused_and_its_target_untouched(tmp_path, capsys):
    raw, out, target = tmp_path / "raw", tmp_path / "out", tmp_path / "precious.txt"
    raw.mkdir()
    out.mkdir()
    shutil.copy(SAMPLE, raw / "a.pdf")
    target.write_text("keep me")
    (out / ".lock").symlink_to(target)
    assert main(["all", "--raw", str(raw), "--out", str(out), "-q"]) == 1
    assert (
        capsys.readouterr().err == f"error: {out / '.lock'} is a symbolic link: remove it (a lock is never followed)\n"
    )
    assert target.read_text() == "keep me"


def test_help_lists_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "exit status:\n  0    every file came out ok\n  1    a wrong argument" in capsys.readouterr().out


def watch_then_block(run: int) -> None:
    """A worker's start: watch the run, then wait for ever (as a reader stuck on an endless page would)."""
    import threading

    from pipeline.run.workers import die_with_run

    die_with_run(run)
    threading.Event().wait()


@pytest.mark.slow
def test_a_worker_ends_when_its_run_is_killed():
    """A run killed with SIGKILL cannot stop its workers; each worker watches the run and ends with it."""
    import multiprocessing

    run = subprocess.Popen(["sleep", "600"])
    worker = multiprocessing.get_context("forkserver").Process(target=watch_then_block, args=(run.pid,))
    worker.start()
    run.kill()
    run.wait()
    worker.join(timeout=120)  # bounded: the worker ends at once when the run is gone
    assert worker.exitcode == 1
