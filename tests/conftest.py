"""Shared helpers and fixtures.

Expensive inputs and runs are built once per session and shared read-only: the sample's run (`sample_out`),
the layout variants' PDFs (`variant_pdfs`) and each PDF's run read alone (`read_alone`). A test that changes
files copies a shared folder first; `frozen` makes a shared folder's fixture fail at the end of the session if a
test wrote into it anyway.
"""

import hashlib
import json
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_RAW = ROOT / "raw"
GOLDEN = ROOT / "tests" / "golden"
# The key of each tagged table and its tag columns: the tag goldens hold those columns by key.
TAGGED_KEYS = {
    "plans": ["plan_id"],
    "pillars": ["plan_id", "pillar_no"],
    "projects": ["plan_id", "pillar_no", "project_no"],
}
TAG_COLUMNS = ["themes", "instruments"]


def run_pipeline(raw: Path, out: Path, *args: str) -> int:
    """Run the CLI in-process, as `python -m pipeline all` would, with a time limit no file here comes near
    however loaded the machine (600 s, not the default 60): no test depends on the machine's speed."""
    return main(["all", "--raw", str(raw), "--out", str(out), "-q", "--timeout", "600", *args])


def read_tables(out: Path) -> dict[str, pd.DataFrame]:
    return {
        name: pd.read_parquet(out / f"{name}.parquet") for name in ("documents", "plans", "pillars", "projects", "tags")
    }


def pytest_addoption(parser):
    parser.addoption(
        "--regen-golden", action="store_true", help="rewrite tests/golden/{structure,tags}/*.json from current output"
    )


@pytest.fixture(scope="session")
def regen_golden(request) -> bool:
    return request.config.getoption("--regen-golden")


def table_records(tables: dict[str, pd.DataFrame]) -> dict[str, list[dict]]:
    """Tables as plain JSON-able records (no hash: fixture bytes may differ across reportlab releases)."""
    out = {}
    for name, df in tables.items():
        df = df.drop(columns=["source_sha256"], errors="ignore").astype(object)
        out[name] = [
            {
                k: (list(v) if hasattr(v, "__len__") and not isinstance(v, str) else None if pd.isna(v) else v)
                for k, v in row.items()
            }
            for row in df.to_dict(orient="records")
        ]
    return out


def golden_parts(tables: dict[str, pd.DataFrame]) -> dict[str, dict[str, list[dict]]]:
    """The tables in two parts, so that a vocabulary edit changes only the second: "structure" (every table but
    tags, without the tag columns) and "tags" (the tags table, and each plan's, pillar's and project's tag
    columns by its key)."""
    records = json.loads(json.dumps(table_records(tables), ensure_ascii=False, default=int))
    structure = {
        name: [{k: v for k, v in row.items() if k not in TAG_COLUMNS} for row in rows]
        for name, rows in records.items()
        if name != "tags"
    }
    tags = {
        name: [{k: row[k] for k in key + TAG_COLUMNS} for row in records[name]] for name, key in TAGGED_KEYS.items()
    }
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
        {
            "municipality": plan.municipality,
            "title": plan.plan_title,
            "period_text": plan.period_text,
            "summary": plan.summary,
            "captions": list(plan.photo_captions),
            "pillars": [
                {
                    "number": int(pillar.pillar_no),
                    "title": pillar.pillar_title,
                    "has_more": bool(pillar.has_more_projects),
                    "projects": [
                        {"name": p.project_name, "detail": None if pd.isna(p.project_detail) else p.project_detail}
                        for p in projects[
                            (projects.plan_id == plan.plan_id) & (projects.pillar_no == pillar.pillar_no)
                        ].itertuples()
                    ],
                }
                for pillar in pillars[pillars.plan_id == plan.plan_id].itertuples()
            ],
        }
        for plan in tables["plans"].itertuples()
    ]
    placed = sum(len(pillar["projects"]) for plan in plans for pillar in plan["pillars"])
    assert placed == len(projects), "a project row without its pillar"
    return plans


def snapshot(*folders: Path) -> dict[str, str]:
    """Every file under `folders`, by path, with the sha256 of its bytes."""
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in folders
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@contextmanager
def frozen(*folders: Path) -> Iterator[None]:
    """Shared, read-only folders: fail at the fixture's teardown if any test added, changed or removed a file in
    them (such a test must copy the folder first, as shutil.copytree does)."""
    before = snapshot(*folders)
    yield
    assert snapshot(*folders) == before, (
        f"a test wrote into the shared folder(s) {[str(f) for f in folders]}; copy the folder before changing it"
    )


@pytest.fixture(scope="session")
def sample_out(tmp_path_factory) -> Iterator[Path]:
    """The bundled sample read by one run, shared read-only by every test that reads its outputs."""
    out = tmp_path_factory.mktemp("sample_out")
    assert run_pipeline(SAMPLE_RAW, out) == 0
    with frozen(out):
        yield out


@pytest.fixture(scope="session")
def sample(sample_out) -> dict[str, pd.DataFrame]:
    return read_tables(sample_out)


class VariantPDFs(Mapping):
    """The layout variants' PDFs (tests/fixtures/variants.py), each drawn the first time a test asks for it."""

    def __init__(self, folder: Path):
        self.folder, self.paths, self.drawn = folder, {}, {}

    def __getitem__(self, name: str) -> Path:
        from tests.fixtures.variants import build

        if name not in self.paths:
            path = self.paths[name] = build(self.folder, [name])[name]
            self.drawn[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
        return self.paths[name]

    def __iter__(self):
        from tests.fixtures.variants import VARIANTS

        return iter(VARIANTS)

    def __len__(self) -> int:
        from tests.fixtures.variants import VARIANTS

        return len(VARIANTS)


@pytest.fixture(scope="session")
def variant_pdfs(tmp_path_factory) -> Iterator[VariantPDFs]:
    """Name → the variant's PDF, drawn once per session (read only: copy one before changing it)."""
    pdfs = VariantPDFs(tmp_path_factory.mktemp("variants"))
    yield pdfs
    assert snapshot(pdfs.folder) == pdfs.drawn, (
        f"a test wrote into the shared folder {pdfs.folder}; copy the PDF before changing it"
    )


def read_variant(pdf: Path, out: Path) -> dict[str, pd.DataFrame]:
    """Tables of one PDF read alone (variants share plans, which a shared run would deduplicate)."""
    raw = out / "raw"
    raw.mkdir(parents=True)
    shutil.copy(pdf, raw / pdf.name)
    run_pipeline(raw, out)
    return read_tables(out)


@pytest.fixture(scope="session")
def read_alone(tmp_path_factory):
    """`read_alone(pdf)`: the tables of `pdf` read alone, as read_variant gives them. Each PDF is run once per
    session, when a test first asks for it; every call reads the tables afresh from that run's Parquet files, so no
    test sees another's changes to a DataFrame. The runs' folders are shared read-only, checked as `frozen` does."""
    outs: dict[Path, tuple[Path, dict[str, str]]] = {}

    def tables(pdf: Path) -> dict[str, pd.DataFrame]:
        if pdf not in outs:
            out = tmp_path_factory.mktemp(pdf.stem)
            read_variant(pdf, out)
            outs[pdf] = out, snapshot(out)
        return read_tables(outs[pdf][0])

    yield tables
    changed = [str(out) for out, before in outs.values() if snapshot(out) != before]
    assert changed == [], f"a test wrote into the shared folder(s) {changed}; copy the folder before changing it"
