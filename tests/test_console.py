"""The console command `tokyo-plans` ([project.scripts]): the same command line as `python -m pipeline`, named
as it was invoked."""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from pipeline import PIPELINE_VERSION
from pipeline.cli import console

ROOT = Path(__file__).resolve().parents[1]
# Where pip puts a console script: beside the environment's interpreter.
SCRIPT = Path(sys.executable).parent / "tokyo-plans"


def test_pyproject_declares_the_console_command():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts == {"tokyo-plans": "pipeline.cli:console"}


@pytest.mark.parametrize(
    "argv, status, stdout, stderr",
    [
        (["--version"], 0, f"tokyo-plans {PIPELINE_VERSION}\n", ""),
        (["fetch"], 1, "", "error: the following arguments are required: URL (see tokyo-plans fetch --help)\n"),
    ],
)
def test_the_console_command_names_itself_as_invoked(monkeypatch, capsys, argv, status, stdout, stderr):
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), *argv])  # as the script pip writes calls it
    with pytest.raises(SystemExit) as stop:
        sys.exit(console())
    assert stop.value.code == status
    assert capsys.readouterr() == (stdout, stderr)


@pytest.mark.slow
def test_the_installed_console_command_reads_the_sample(tmp_path):
    if not SCRIPT.is_file():
        pytest.skip(f"{SCRIPT} is not installed: pip install -e . (make test does) puts it there")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    version = subprocess.run([str(SCRIPT), "--version"], capture_output=True, text=True, env=env, timeout=120)
    assert (version.returncode, version.stdout) == (0, f"tokyo-plans {PIPELINE_VERSION}\n"), version.stderr
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    shutil.copy(ROOT / "raw" / "r2-approval-summary.pdf", raw)
    done = subprocess.run(
        [str(SCRIPT), "all", "--raw", str(raw), "--out", str(out), "-q", "--timeout", "600"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    documents = pd.read_parquet(out / "documents.parquet")
    assert documents[["source_file", "status", "plans_found"]].values.tolist() == [["r2-approval-summary.pdf", "ok", 6]]
    assert len(pd.read_parquet(out / "plans.parquet")) == 6
