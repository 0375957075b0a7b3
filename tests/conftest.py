from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_RAW = ROOT / "raw"


def run_pipeline(raw: Path, out: Path, *args: str) -> int:
    """Run the CLI in-process, as `python -m pipeline all` would."""
    return main(["all", "--raw", str(raw), "--out", str(out), "-q", *args])


def read_tables(out: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(out / f"{name}.parquet") for name in
            ("documents", "plans", "pillars", "projects", "tags")}


@pytest.fixture(scope="session")
def sample_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample_out")
    assert run_pipeline(SAMPLE_RAW, out) == 0
    return out


@pytest.fixture(scope="session")
def sample(sample_out) -> dict[str, pd.DataFrame]:
    return read_tables(sample_out)
