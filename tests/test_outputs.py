"""The files around the tables: datapackage.json (validated by frictionless), report.html, the CSV layout, and
the README's "Loading the data" examples, all on the bundled sample."""

import hashlib
import html
import json
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.core.records import ReadTwice
from pipeline.core.schema import FIELDS, STRINGS, TABLES
from pipeline.outputs.datapackage import datapackage, write_datapackage
from pipeline.outputs.report import CHART_IDS, HEATMAP_ID, recorded_read_twice, render_report, write_report
from pipeline.outputs.tables import csv_bytes
from pipeline.outputs.views import VIEWS
from tests.conftest import ROOT, SAMPLE_RAW
from tests.rows import document_row

BOM = b"\xef\xbb\xbf"
PANDAS_DTYPES = {"string": str, "integer": "Int64", "number": "Float64", "boolean": "boolean"}


@pytest.fixture(scope="module")
def outputs(sample_out, tmp_path_factory) -> Path:
    """A copy of the sample output with datapackage.json and report.html written into it."""
    out = tmp_path_factory.mktemp("outputs") / "out"
    shutil.copytree(sample_out, out, ignore=shutil.ignore_patterns("interim"))
    write_datapackage(out)
    write_report({name: pd.read_parquet(out / f"{name}.parquet") for name in TABLES}, out, recorded_read_twice(out))
    return out


def validate(path: Path):
    import frictionless

    report = frictionless.validate(str(path))
    errors = [
        (task.name, getattr(e, "row_number", None), getattr(e, "field_name", None), e.type, e.note)
        for task in report.tasks
        for e in task.errors
    ] + [(None, None, None, e.type, e.note) for e in report.errors]
    return report.valid, errors


# --- datapackage.json --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_datapackage_validates_with_frictionless(outputs):
    valid, errors = validate(outputs / "datapackage.json")
    for error in errors:
        print(error)
    assert valid, errors


@pytest.mark.slow
def test_datapackage_catches_rows_that_break_the_schema(outputs, tmp_path):
    bad = tmp_path / "out"
    shutil.copytree(outputs, bad)
    plans = (bad / "plans.csv").read_bytes().replace(b",131091,", b",13109X,", 1)
    (bad / "plans.csv").write_bytes(plans)
    projects = (bad / "projects.csv").read_bytes().replace(b"\r\n131091-2020,1,1,", b"\r\n131091-2099,1,1,", 1)
    (bad / "projects.csv").write_bytes(projects)
    valid, errors = validate(bad / "datapackage.json")
    assert not valid
    kinds = {(e[0], e[3]) for e in errors}
    assert ("plans", "constraint-error") in kinds
    assert ("projects", "foreign-key") in kinds


@pytest.mark.slow
def test_check_refuses_a_code_missing_from_the_vocabulary(outputs, tmp_path):
    """tags.code must be a vocabulary code: by its constraint, and by its foreign key once the vocabulary lost it."""
    bad = tmp_path / "out"
    shutil.copytree(outputs, bad)
    tags = (bad / "tags.csv").read_bytes()
    (bad / "tags.csv").write_bytes(tags.replace(b",theme,sales,", b",theme,nosuchcode,", 1))
    vocabulary = (bad / "vocabulary.csv").read_bytes()
    (bad / "vocabulary.csv").write_bytes(
        b"\r\n".join(row for row in vocabulary.split(b"\r\n") if not row.startswith(b"talent,"))
    )
    valid, errors = validate(bad / "datapackage.json")
    assert not valid
    assert {(e[0], e[3]) for e in errors} >= {("tags", "constraint-error"), ("tags", "foreign-key")}


# The primary and foreign keys of each CSV resource: a row of plans is one plan_id, a pillar one (plan_id, pillar_no)…
KEYS = {
    "documents": (["source_file"], []),
    "plans": (
        ["plan_id"],
        [
            {"fields": ["source_file"], "reference": {"resource": "documents", "fields": ["source_file"]}},
            {
                "fields": ["municipality_code"],
                "reference": {"resource": "municipalities", "fields": ["municipality_code"]},
            },
            {"fields": ["previous_plan_id"], "reference": {"resource": "", "fields": ["plan_id"]}},
        ],
    ),
    "pillars": (
        ["plan_id", "pillar_no"],
        [{"fields": ["plan_id"], "reference": {"resource": "plans", "fields": ["plan_id"]}}],
    ),
    "projects": (
        ["plan_id", "pillar_no", "project_no"],
        [
            {
                "fields": ["plan_id", "pillar_no"],
                "reference": {"resource": "pillars", "fields": ["plan_id", "pillar_no"]},
            }
        ],
    ),
    "tags": (
        ["level", "plan_id", "pillar_no", "project_no", "kind", "code"],
        [
            {"fields": ["plan_id"], "reference": {"resource": "plans", "fields": ["plan_id"]}},
            {"fields": ["code"], "reference": {"resource": "vocabulary", "fields": ["code"]}},
        ],
    ),
    "changes": (["change", "level", "plan_id", "pillar_no", "project_no", "field"], []),
    "vocabulary": (["code"], []),
    "municipalities": (["municipality_code"], []),
}


def descriptor_fields(descriptor: dict, table: str) -> dict[str, dict]:
    resource = next(r for r in descriptor["resources"] if r["name"] == table)
    return {f["name"]: f for f in resource["schema"]["fields"]}


def test_datapackage_resources_and_keys(outputs):
    """A CSV and a Parquet resource per table, each CSV with its primary and foreign keys."""
    descriptor = json.loads((outputs / "datapackage.json").read_text(encoding="utf-8"))
    assert [(r["name"], r["path"], r["format"]) for r in descriptor["resources"]] == [
        ("documents", "documents.csv", "csv"),
        ("plans", "plans.csv", "csv"),
        ("pillars", "pillars.csv", "csv"),
        ("projects", "projects.csv", "csv"),
        ("tags", "tags.csv", "csv"),
        ("changes", "changes.csv", "csv"),
        ("vocabulary", "vocabulary.csv", "csv"),
        ("municipalities", "municipalities.csv", "csv"),
        ("documents-parquet", "documents.parquet", "parquet"),
        ("plans-parquet", "plans.parquet", "parquet"),
        ("pillars-parquet", "pillars.parquet", "parquet"),
        ("projects-parquet", "projects.parquet", "parquet"),
        ("tags-parquet", "tags.parquet", "parquet"),
        ("changes-parquet", "changes.parquet", "parquet"),
        ("vocabulary-parquet", "vocabulary.parquet", "parquet"),
        ("municipalities-parquet", "municipalities.parquet", "parquet"),
    ]
    for resource in descriptor["resources"][:7]:
        schema = resource["schema"]
        assert (schema["primaryKey"], schema.get("foreignKeys", [])) == KEYS[resource["name"]], resource["name"]


def test_datapackage_field_descriptors(outputs):
    """A code stays text of six digits, a year an integer in range, a list a joined string, a flag a boolean."""
    descriptor = json.loads((outputs / "datapackage.json").read_text(encoding="utf-8"))
    plans, pillars = descriptor_fields(descriptor, "plans"), descriptor_fields(descriptor, "pillars")
    code = dict(plans["municipality_code"])
    enum = code.pop("constraints")["enum"]
    assert code == {
        "name": "municipality_code",
        "title": "全国地方公共団体コード",
        "type": "string",
        "description": "6-digit local government code with check digit (municipalities.municipality_code); in plans "
        "null when the name is not one of Tokyo's 62 municipalities.",
    }
    assert (len(enum), enum[0], enum[22], enum[23], enum[-1]) == (62, "131016", "131237", "132012", "134210")
    assert descriptor_fields(descriptor, "tags")["code"]["constraints"]["enum"][:3] == [
        "succession",
        "startup",
        "talent",
    ]
    assert plans["period_start_fy"]["type"] == "integer"
    assert plans["period_start_fy"]["constraints"] == {"minimum": 1989, "maximum": 2100}
    assert (plans["photo_captions"]["type"], plans["photo_captions"]["title"]) == ("string", "写真キャプション")
    assert "joined with '|'" in plans["photo_captions"]["description"]
    assert {k: pillars["has_more_projects"][k] for k in ("type", "trueValues", "falseValues", "constraints")} == {
        "type": "boolean",
        "trueValues": ["True"],
        "falseValues": ["False"],
        "constraints": {"required": True},
    }


def test_datapackage_bytes_do_not_depend_on_the_rows_or_the_clock(outputs, tmp_path):
    """Written into an empty folder it is byte for byte the one written beside the sample's tables; no date in it,
    keys sorted."""
    text = (outputs / "datapackage.json").read_text(encoding="utf-8")
    assert write_datapackage(tmp_path).read_text(encoding="utf-8") == text
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)
    assert text.startswith('{\n  "description": ') and text.endswith("\n}\n")


# --- CSV files ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", list(TABLES))
def test_every_csv_starts_with_the_utf8_bom(outputs, table):
    assert (outputs / f"{table}.csv").read_bytes().startswith(BOM)


def csv_dtypes(table: str) -> dict:
    """pandas dtypes for a CSV, read off the datapackage descriptor."""
    resource = next(r for r in datapackage()["resources"] if r["name"] == table)
    return {f["name"]: PANDAS_DTYPES[f["type"]] for f in resource["schema"]["fields"]}


def test_plans_csv_round_trip_keeps_codes_as_text(outputs):
    csv = pd.read_csv(
        outputs / "plans.csv", encoding="utf-8-sig", dtype=csv_dtypes("plans"), keep_default_na=False, na_values=[""]
    )
    parquet = pd.read_parquet(outputs / "plans.parquet")
    assert list(csv.columns) == TABLES["plans"][0]
    assert csv.loc[0, "municipality_code"] == "131091" and isinstance(csv.loc[0, "municipality_code"], str)
    assert csv.loc[0, "plan_id"] == "131091-2020"
    split_list = readme_split_list()
    for name in TABLES["plans"][0]:
        kind = FIELDS[name][0]
        if kind == STRINGS:
            got = [[] if pd.isna(v) else split_list(re.sub(r"^'(?='*[=+\-@])", "", v)) for v in csv[name]]
            assert got == [list(v) for v in parquet[name]], name
        elif kind == "integer":
            assert csv[name].tolist() == parquet[name].astype("Int64").tolist(), name
        elif kind == "number":
            assert csv[name].tolist() == parquet[name].tolist(), name
        elif kind == "boolean":
            assert csv[name].tolist() == parquet[name].tolist() == [False] * len(csv), name
        else:
            unquoted = csv[name].str.replace(r"^'(?='*[=+\-@])", "", regex=True)
            assert unquoted.tolist() == parquet[name].tolist(), name


def read_documents_csv(data: bytes) -> pd.DataFrame:
    """A documents CSV read with pandas as the README reads plans.csv: the apostrophe guard taken off, the list cells
    split by the README's splitter."""
    import io

    csv = pd.read_csv(
        io.BytesIO(data), encoding="utf-8-sig", keep_default_na=False, na_values=[""], dtype=csv_dtypes("documents")
    )
    lists = [name for name in TABLES["documents"][0] if FIELDS[name][0] == STRINGS]
    csv[lists] = csv[lists].replace(r"^'(?='*[=+\-@])", "", regex=True).fillna("").map(readme_split_list())
    return csv


# A | inside an item, a comma, quotes, backslashes (one closing an item, one before a |) and a line break.
TRICKY_ITEMS = ["a|b", "c,d", 'say "hi"', r"C:\dir\file.pdf", "two\nlines", "ends with \\", r"\|"]


def test_csv_list_cells_read_back_item_for_item():
    data = csv_bytes(
        pd.DataFrame([document_row(source_file="x|y.pdf", warnings=TRICKY_ITEMS, vertical_pages=["2", "3"])]),
        "documents",
    )
    csv = read_documents_csv(data)
    assert csv.loc[0, "warnings"] == ["a|b", "c,d", 'say "hi"', r"C:\dir\file.pdf", "two\nlines", "ends with \\", r"\|"]
    assert (csv.loc[0, "vertical_pages"], csv.loc[0, "pages_with_unmapped_glyphs"]) == (["2", "3"], [])
    assert csv.loc[0, "source_file"] == "x|y.pdf"  # a text cell is never split


def test_csv_list_cell_bytes():
    r"""Items joined with |, a | in an item written \|, a backslash \\; CSV quoting around it all."""
    data = csv_bytes(pd.DataFrame([document_row(warnings=TRICKY_ITEMS, vertical_pages=["2", "3"])]), "documents")
    assert data.split(b"\r\n", 1)[1] == (
        b"a.pdf,"
        + b"0" * 64
        + rb',,,,,,3,ok,,1,0,0,0,"a\|b|c,d|say ""hi""|C:\\dir\\file.pdf|two'
        + b"\n"
        + rb'lines|ends with \\|\\\|",2|3,,pdf,,'  # then text_source, ocr_pages (none), ocr_confidence (null)
        + b"\r\n"
    )


def test_csv_list_cells_keep_the_formula_guard():
    """A list cell whose first item starts with = + - @ gets the apostrophe; a first item starting with an
    apostrophe is escaped, so that taking the guard off never takes its apostrophe."""
    rows = [
        document_row(
            source_file="a.pdf",
            warnings=["=SUM(A1)", "x|y"],
            vertical_pages=["-1"],
            pages_with_unmapped_glyphs=["'=quoted", "+2"],
        ),
        document_row(source_file="b.pdf", warnings=["@me"], vertical_pages=["'plain"]),
    ]
    data = csv_bytes(pd.DataFrame(rows), "documents")
    lines = data.decode("utf-8-sig").split("\r\n")
    assert lines[1].endswith(r",1,0,0,0,'=SUM(A1)|x\|y,'-1,\'=quoted|+2,pdf,,")
    assert lines[2].endswith(r",1,0,0,0,'@me,\'plain,,pdf,,")
    csv = read_documents_csv(data)
    assert csv["warnings"].tolist() == [["=SUM(A1)", "x|y"], ["@me"]]
    assert csv["vertical_pages"].tolist() == [["-1"], ["'plain"]]
    assert csv["pages_with_unmapped_glyphs"].tolist() == [["'=quoted", "+2"], []]


def test_datapackage_says_how_to_split_a_list_cell():
    resource = next(r for r in datapackage()["resources"] if r["name"] == "documents")
    assert (
        r"inside an item a backslash is written \\ and a | \|, and an apostrophe that starts the cell \'. "
        "To read a list cell: take off the apostrophe guard, take the items as the matches of the regular "
        r"expression (?:\\.|[^|\\])+ (that is, split at each | no backslash escapes)"
    ) in resource["description"]
    assert (
        "a '|' or a backslash inside an item escaped with a backslash"
        in descriptor_fields(datapackage(), "documents")["warnings"]["description"]
    )


def test_pillars_csv_booleans_read_back(outputs):
    csv = pd.read_csv(outputs / "pillars.csv", encoding="utf-8-sig", dtype=csv_dtypes("pillars"))
    parquet = pd.read_parquet(outputs / "pillars.parquet")
    assert csv["has_more_projects"].tolist() == parquet["has_more_projects"].tolist()
    assert csv["has_more_projects"].any() and not csv["has_more_projects"].all()


# --- report.html -------------------------------------------------------------------------------------------


def test_report_lists_every_document_and_embeds_the_charts(outputs, sample):
    page = (outputs / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="ja">' in page
    for name in sample["documents"]["source_file"]:
        assert f"<code>{html.escape(name)}</code>" in page
    assert f'<table class="heat" id="{HEATMAP_ID}">' in page
    for chart_id in CHART_IDS.values():
        assert page.count(f'id="{chart_id}"') == 1
    # Nothing fetched from elsewhere: no stylesheet, script or font; the only images are the plans' crops, beside
    # the page under OUT/crops.
    assert not re.search(r"<(link|script|iframe)\b", page)
    crops = re.findall(r'<img src="(crops/[0-9a-f]{12}-p[0-9]+-[0-9a-f]{12}\.png)"', page)
    assert len(crops) == len(re.findall(r"<img\b", page)) == 6 and all((outputs / crop).is_file() for crop in crops)
    assert not re.search(r"""(src|href)=["'](?!#|crops/)""", page)  # only in-page references and the crops
    assert "url(http" not in page and "@import" not in page


def test_report_charts_are_html_the_browser_draws(outputs):
    """The heatmap of themes: one row per municipality in code order, one shaded cell per theme, the count in it."""
    page = (outputs / "report.html").read_text(encoding="utf-8")
    heat = re.search(rf'<table class="heat" id="{HEATMAP_ID}">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    rows = re.findall(r"<tr><th>(.*?)</th>(.*?)</tr>", heat)
    assert [name for name, _ in rows] == ["品川区", "中野区", "江戸川区", "八王子市", "三鷹市", "国立市"]
    assert all(len(re.findall(r"<td", cells)) == 15 for _, cells in rows)  # the 15 themes of the vocabulary
    assert '<th class="col">事業承継 (succession)</th>' in page
    assert "<svg" not in page


def test_report_is_deterministic(sample):
    """Same tables, same bytes (its speed is measured by make bench, never asserted here)."""
    assert render_report(sample, []) == render_report(sample, [])


def test_report_escapes_text_and_shows_failures(sample, tmp_path):
    documents = pd.concat(
        [
            sample["documents"],
            pd.DataFrame(
                [
                    document_row(
                        source_file="<b>R&D</b>.pdf",
                        pages=None,
                        status="corrupt",
                        error="<script>alert(1)</script>",
                        plans_found=0,
                        warnings=["a < b & c"],
                    )
                ]
            ),
        ],
        ignore_index=True,
    )
    page = write_report({**sample, "documents": documents}, tmp_path, []).read_text(encoding="utf-8")
    assert "<script>" not in page and "<b>R&D" not in page
    assert "&lt;b&gt;R&amp;D&lt;/b&gt;.pdf" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "a &lt; b &amp; c" in page
    assert '<span class="bad">corrupt</span>' in page


def test_report_shows_any_text_as_text(sample, tmp_path):
    """A municipality printed $$区 (mathtext to matplotlib), markup, template braces and control characters: the
    page and its charts show them as text, and every chart stays well-formed XML."""
    plans, projects, documents = (sample[n].copy() for n in ("plans", "projects", "documents"))
    first = plans.loc[0, "plan_id"]
    plans.loc[0, "municipality"] = "$$区"
    plans.loc[0, "plan_title"] = '{{ title }} <script>alert("x")</script>'
    plans.at[0, "instruments"] = [*plans.loc[0, "instruments"], "<script>\x07"]
    mine = projects.index[projects["plan_id"] == first][0]
    projects.loc[mine, "project_name"] = "<script>alert(1)</script>"
    projects.at[mine, "instruments"] = [*projects.loc[mine, "instruments"], "<script>\x07"]
    documents.at[0, "warnings"] = [*documents.loc[0, "warnings"], "bell\x07 $x$"]
    tables = {**sample, "plans": plans, "projects": projects, "documents": documents}
    page = write_report(tables, tmp_path, []).read_text(encoding="utf-8")
    assert "<td>$$区</td>" in page  # the plans table
    assert "<tr><th>$$区</th>" in page and "<tr><th>$$区 2020</th>" in page  # the rows of both heatmaps
    assert "<td>{{ title }} &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</td>" in page
    assert '<th class="col">&lt;script&gt;\ufffd (&lt;script&gt;\ufffd)</th>' in page  # an instrument's column
    assert "<td><code>r2-approval-summary.pdf</code></td><td>bell\ufffd $x$</td>" in page
    assert "<script" not in page and "\x07" not in page


# The function of the run's process that makes what each view of the tables shows (a process of its own writes the
# file from it).
VIEW_WRITERS = {
    "report.html": "pipeline.outputs.report.report_context",
    "tables.xlsx": "pipeline.outputs.workbook.workbook_sheets",
}


@pytest.fixture(params=VIEWS)
def out_with_a_failing_view(request, sample_out, tmp_path, monkeypatch) -> tuple[Path, str]:
    """A copy of the sample's output folder with its cache and the last run's view (report.html or tables.xlsx)
    but no table, no datapackage and no manifest, so that the next run writes them; and a writer of that view
    that raises. Returns the folder and the view's name."""
    view = request.param
    out = tmp_path / "out"
    shutil.copytree(sample_out, out)
    for path in out.glob("*.*"):
        if path.name != view:
            path.unlink()
    assert (out / "interim").is_dir() and (out / view).exists()

    def fail(*args):
        raise RuntimeError("boom\non two lines")

    monkeypatch.setattr(VIEW_WRITERS[view], fail)
    return out, view


def test_a_failing_view_costs_only_itself(out_with_a_failing_view, caplog):
    out, view = out_with_a_failing_view
    with caplog.at_level(logging.INFO, logger="pipeline"):
        main(["all", "--raw", str(SAMPLE_RAW), "--out", str(out), "-q"])
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [f"{view} not written: RuntimeError: boom on two lines"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest["outputs"]) == sorted(
        ["datapackage.json", *(v for v in VIEWS if v != view)]
        + [f"{t}.{s}" for t in TABLES for s in ("csv", "parquet")]
    )
    # Every output the manifest names is there with its sha256, and the reason is kept; the last run's view is
    # gone, since it would show other tables than these.
    assert {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in manifest["outputs"]} == (
        manifest["outputs"]
    )
    assert manifest["view_errors"] == {view: "RuntimeError: boom on two lines"}
    assert not (out / view).exists()


def test_a_workbook_that_fails_in_its_own_process_costs_only_itself(sample_out, tmp_path, monkeypatch, caplog):
    """Cells of no type the workbook writes (a complex number) reach the process that writes the file, which fails
    there: its error is the view's, word for word, as if it had failed in the run."""
    out = tmp_path / "out"
    shutil.copytree(sample_out, out)
    (out / "manifest.json").unlink()
    cells = [("documents", [["status"], ["状態"]], [[1 + 2j]])]  # a sheet: its name, its header rows, its rows
    monkeypatch.setattr("pipeline.outputs.workbook.workbook_sheets", lambda tables: cells)
    with caplog.at_level(logging.INFO, logger="pipeline"):
        assert main(["all", "--raw", str(SAMPLE_RAW), "--out", str(out), "-q"]) == 2
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
        "tables.xlsx not written: KeyError: <class 'complex'>"
    ]
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["view_errors"] == {
        "tables.xlsx": "KeyError: <class 'complex'>"
    }
    assert not (out / "tables.xlsx").exists() and (out / "report.html").exists()


@pytest.mark.slow
def test_a_failing_view_exits_2_and_is_tried_again(out_with_a_failing_view, monkeypatch):
    out, view = out_with_a_failing_view
    assert main(["all", "--raw", str(SAMPLE_RAW), "--out", str(out), "-q"]) == 2
    monkeypatch.undo()
    assert main(["all", "--raw", str(SAMPLE_RAW), "--out", str(out), "-q"]) == 0
    assert (out / view).exists()


def test_report_without_plans(sample, tmp_path):
    tables = {name: df.iloc[0:0] for name, df in sample.items()}
    tables["documents"] = sample["documents"].assign(status="no_plans", error="no plan header found", plans_found=0)
    page = write_report(tables, tmp_path, []).read_text(encoding="utf-8")
    assert 'class="heat"' not in page and "No plans." in page and "no plan header found" in page


def test_a_report_made_later_takes_the_plans_read_twice_from_the_manifest_of_its_tables(outputs, tmp_path):
    """The sample reads no plan twice, which its manifest records; a manifest that records nothing of it (an older
    run's) or belongs to other tables is refused, rather than taken for "no plan read twice"."""
    out = tmp_path / "out"
    shutil.copytree(outputs, out)
    assert recorded_read_twice(out) == []
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    (out / "manifest.json").write_text(
        json.dumps(
            {**manifest, "read_twice": [{"first_file": "a.pdf", "later_file": "b.pdf", "plan_ids": ["131091-2020"]}]}
        ),
        encoding="utf-8",
    )
    assert recorded_read_twice(out) == [ReadTwice("a.pdf", "b.pdf", ["131091-2020"])]
    (out / "manifest.json").write_text(
        json.dumps({k: v for k, v in manifest.items() if k != "read_twice"}), encoding="utf-8"
    )
    with pytest.raises(ValueError, match="records no plans read twice"):
        recorded_read_twice(out)
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (out / "documents.parquet").write_bytes((out / "documents.parquet").read_bytes() + b"\n")
    with pytest.raises(ValueError, match="not the manifest of the documents.parquet beside it"):
        recorded_read_twice(out)


@pytest.mark.slow
def test_no_plotting_library_is_loaded_to_write_the_report(sample_out, tmp_path):
    code = (
        "import sys, pandas as pd; from pipeline.outputs.report import write_report, recorded_read_twice; "
        "from pipeline.core.schema import TABLES; "
        f"write_report({{n: pd.read_parquet(r'{sample_out}/' + n + '.parquet') for n in TABLES}}, r'{tmp_path}', "
        f"recorded_read_twice(r'{sample_out}')); "
        "sys.exit('matplotlib' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
    assert (tmp_path / "report.html").exists()


# --- README ------------------------------------------------------------------------------------------------


def readme_examples() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Loading the data\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def readme_split_list():
    """The README's split_list, the function it reads a CSV list cell with."""
    block = next(b for b in readme_examples() if "def split_list(" in b)
    namespace = {"re": re}
    exec(re.search(r"^def split_list\(cell\):.*\n(?:    .*\n)+", block, re.M).group(0), namespace)
    return namespace["split_list"]


def test_readme_has_pandas_and_duckdb_examples():
    blocks = readme_examples()
    assert any("read_parquet(" in b and "pd." in b for b in blocks)
    assert any("duckdb" in b and "JOIN read_parquet('out/tags.parquet')" in b for b in blocks)


@pytest.mark.parametrize("index", range(len(readme_examples())))
def test_readme_loading_examples_run(outputs, tmp_path, monkeypatch, index):
    (tmp_path / "out").symlink_to(outputs, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    exec(compile(readme_examples()[index], f"README.md example {index + 1}", "exec"), {"__name__": "readme"})


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("'=SUM(A1)", "''=SUM(A1)"),
        ("''-1", "'''-1"),
        ("'quoted", "'quoted"),
        ("plain", "plain"),
    ],
)
def test_removing_one_guard_apostrophe_gives_any_text_back(text, cell):
    from pipeline.outputs.tables import csv_cell

    assert csv_cell(text) == cell
    assert re.sub(r"^'(?='*[=+\-@])", "", cell) == text


def test_a_record_by_key_puts_each_key_on_a_line_of_its_own_and_keeps_the_text_as_it_is():
    from pipeline.core.io import json_by_key

    written = json_by_key({"rows": {"plans": 6}, "adds_nothing": {}, "名": ["区", None]})
    assert written == '{\n"rows": {"plans": 6},\n"adds_nothing": {},\n"名": ["区", null]\n}\n'.encode()
    assert json.loads(written) == {"rows": {"plans": 6}, "adds_nothing": {}, "名": ["区", None]}


def test_the_views_processes_write_without_pandas_or_pyarrow():
    """The report's page and the workbook's file are written by processes of the fork server, which has not loaded
    pandas or pyarrow (half a second of imports): what they run imports neither."""
    code = (
        "import sys, pipeline.outputs.page, pipeline.outputs.xlsx; "
        "print(sorted(m for m in ('pandas', 'pyarrow') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"
