import json
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


def pytest_addoption(parser):
    parser.addoption("--regen-golden", action="store_true", help="rewrite tests/golden/*.json from current output")


@pytest.fixture(scope="session")
def regen_golden(request) -> bool:
    return request.config.getoption("--regen-golden")


def table_records(tables: dict[str, pd.DataFrame]) -> dict[str, list[dict]]:
    """Tables as plain JSON-able records (no hash: fixture bytes may differ across reportlab releases)."""
    out = {}
    for name, df in tables.items():
        df = df.drop(columns=["source_sha256"], errors="ignore").astype(object)
        out[name] = [
            {k: (list(v) if hasattr(v, "__len__") and not isinstance(v, str) else None if pd.isna(v) else v)
             for k, v in row.items()}
            for row in df.to_dict(orient="records")
        ]
    return out


def check_golden(name: str, tables: dict[str, pd.DataFrame], regen: bool) -> None:
    """Compare tables with tests/golden/<name>.json, or rewrite that file when --regen-golden is given."""
    path = ROOT / "tests" / "golden" / f"{name}.json"
    records = json.loads(json.dumps(table_records(tables), ensure_ascii=False, default=int))
    if regen:
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run pytest --regen-golden once and review the diff"
    assert records == json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def sample_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample_out")
    assert run_pipeline(SAMPLE_RAW, out) == 0
    return out


@pytest.fixture(scope="session")
def sample(sample_out) -> dict[str, pd.DataFrame]:
    return read_tables(sample_out)
