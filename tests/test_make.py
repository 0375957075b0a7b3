"""The Makefile is the engineers' interface: folders with spaces and Japanese names, and a help target."""

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-s", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_make_all_takes_folders_with_spaces_and_japanese_names(tmp_path):
    raw, out = tmp_path / "入力 データ", tmp_path / "出力 先"
    raw.mkdir()
    shutil.copy(ROOT / "raw" / "r2-approval-summary.pdf", raw / "承認 概要.pdf")
    result = make("all", f"RAW={raw}", f"OUT={out}")
    assert result.returncode == 0, result.stderr
    documents = pd.read_parquet(out / "documents.parquet")
    assert documents[["source_file", "status", "plans_found"]].values.tolist() == [["承認 概要.pdf", "ok", 6]]


def test_make_help_lists_every_target():
    listed = {line.split()[1] for line in make("help").stdout.splitlines() if line.startswith("  make ")}
    assert listed == {
        "help",
        "all",
        "extract",
        "explain",
        "fetch",
        "test",
        "test-fast",
        "lint",
        "format",
        "bench",
        "check",
        "sample",
        "docs",
        "eval-tags",
        "eval-review",
        "fixtures",
        "clean",
    }
