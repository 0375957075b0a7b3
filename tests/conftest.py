import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_RAW = ROOT / "raw"
GOLDEN = ROOT / "tests" / "golden"
# The key of each tagged table and its tag columns: the tag goldens hold those columns by key.
TAGGED_KEYS = {"plans": ["plan_id"], "pillars": ["plan_id", "pillar_no"],
               "projects": ["plan_id", "pillar_no", "project_no"]}
TAG_COLUMNS = ["themes", "instruments"]


def run_pipeline(raw: Path, out: Path, *args: str) -> int:
    """Run the CLI in-process, as `python -m pipeline all` would, with a time limit no file here comes near
    however loaded the machine (600 s, not the default 60): no test depends on the machine's speed."""
    return main(["all", "--raw", str(raw), "--out", str(out), "-q", "--timeout", "600", *args])


def read_tables(out: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(out / f"{name}.parquet") for name in
            ("documents", "plans", "pillars", "projects", "tags")}


def pytest_addoption(parser):
    parser.addoption("--regen-golden", action="store_true",
                     help="rewrite tests/golden/{structure,tags}/*.json from current output")


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


def golden_parts(tables: dict[str, pd.DataFrame]) -> dict[str, dict[str, list[dict]]]:
    """The tables in two parts, so that a vocabulary edit changes only the second: "structure" (every table but
    tags, without the tag columns) and "tags" (the tags table, and each plan's, pillar's and project's tag
    columns by its key)."""
    records = json.loads(json.dumps(table_records(tables), ensure_ascii=False, default=int))
    structure = {name: [{k: v for k, v in row.items() if k not in TAG_COLUMNS} for row in rows]
                 for name, rows in records.items() if name != "tags"}
    tags = {name: [{k: row[k] for k in key + TAG_COLUMNS} for row in records[name]]
            for name, key in TAGGED_KEYS.items()}
    return {"structure": structure, "tags": {"tags": records["tags"], **tags}}


def check_golden(name: str, tables: dict[str, pd.DataFrame], regen: bool) -> None:
    """Compare tables with tests/golden/structure/<name>.json and tests/golden/tags/<name>.json, or rewrite those
    files when --regen-golden is given."""
    for part, records in golden_parts(tables).items():
        path = GOLDEN / part / f"{name}.json"
        if regen:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        assert path.exists(), f"no golden file {part}/{path.name}: run pytest --regen-golden once and review the diff"
        assert records == json.loads(path.read_text(encoding="utf-8")), f"{part}/{path.name} differs"


def plans_as_read(tables: dict[str, pd.DataFrame]) -> list[dict]:
    """Each plan with its pillars and their projects nested, in the shape of tests/fixtures/r2-expected.json."""
    pillars, projects = tables["pillars"], tables["projects"]
    plans = [
        {"municipality": plan.municipality, "title": plan.plan_title, "period_text": plan.period_text,
         "summary": plan.summary, "captions": list(plan.photo_captions),
         "pillars": [
             {"number": int(pillar.pillar_no), "title": pillar.pillar_title, "has_more": bool(pillar.has_more_projects),
              "projects": [{"name": p.project_name, "detail": None if pd.isna(p.project_detail) else p.project_detail}
                           for p in projects[(projects.plan_id == plan.plan_id)
                                             & (projects.pillar_no == pillar.pillar_no)].itertuples()]}
             for pillar in pillars[pillars.plan_id == plan.plan_id].itertuples()]}
        for plan in tables["plans"].itertuples()
    ]
    placed = sum(len(pillar["projects"]) for plan in plans for pillar in plan["pillars"])
    assert placed == len(projects), "a project row without its pillar"
    return plans


@pytest.fixture(scope="session")
def sample_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample_out")
    assert run_pipeline(SAMPLE_RAW, out) == 0
    return out


@pytest.fixture(scope="session")
def sample(sample_out) -> dict[str, pd.DataFrame]:
    return read_tables(sample_out)
