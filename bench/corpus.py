"""Build the benchmark corpus from the test fixture generator, cached by a content hash.

    .venv/bin/python -m bench.corpus [--root build/bench] [--force]

The corpus (under ``ROOT/corpus-<hash>/``):

* ``corpus/``: every variant of ``tests/fixtures/variants.py`` (23 small PDFs of 1-3 pages), the
  FY2020 sample drawn from the reference text, and ``DENSE_DOCS`` dense documents: the sample's six
  plans, each overview lengthened with another plan's overview, given other Tokyo municipalities
  and other fiscal years (so every file's bytes and plan ids differ) and drawn with the fixture
  layouts in turn (flowing plans, CID font, photos beside the overview or after the pillars,
  boxes, fake bold, radicals, bullets);
* ``extra/added.pdf``: one more distinct dense document, the file "added" to the corpus;
* ``long/long-500.pdf``: ``LONG_PAGES`` plans, one per page (a 500-page document);
* ``huge/huge-3000.pdf``: ``HUGE_PAGES`` plans, one per page (the whole run's memory on a 3,000-page document).

Everything is deterministic (the renderer is), so the folder name is a hash of the generator's
sources, the reference text and the parameters below: ``make bench`` regenerates only when one of
them changes, and generation is never part of a measurement.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = ROOT / "build" / "bench"
DENSE_DOCS = 20
LONG_PAGES = 500
HUGE_PAGES = 3000
CORPUS_VERSION = "1"

_SOURCES = [
    Path(__file__),
    ROOT / "tests" / "fixtures" / "render.py",
    ROOT / "tests" / "fixtures" / "variants.py",
    ROOT / "tests" / "fixtures" / "make_sample.py",
    ROOT / "pipeline" / "data" / "municipalities.csv",
]


def fiscal_year_text(fy: int) -> str:
    """令和/平成 year of a fiscal year as printed: 2019 -> 令和元年度, 2015 -> 平成27年度."""
    if fy >= 2019:
        n = fy - 2018
        return f"令和{'元' if n == 1 else n}年度"
    return f"平成{fy - 1988}年度"


def period(start_fy: int) -> str:
    return f"{fiscal_year_text(start_fy)}～{fiscal_year_text(start_fy + 2)}"


# start years of three-year plans; the Heisei-Reiwa switch (2019) only ever starts a period
START_YEARS = [2009, 2010, 2011, 2012, 2013, 2014, 2015, 2016, 2019, 2020, 2021, 2022, 2023, 2024]


def municipalities() -> list[str]:
    with (ROOT / "pipeline" / "data" / "municipalities.csv").open(encoding="utf-8") as f:
        return [row["name_ja"] for row in csv.DictReader(f)]


def plan_slots(years=START_YEARS):
    """Distinct (municipality, start year) pairs, municipalities first, so neighbours differ."""
    munis = municipalities()
    for fy in years:
        for m in munis:
            yield m, fy


def _reference():
    from tests.fixtures.make_sample import load_reference

    return load_reference()


def _dense_plans(ref, slots, k: int):
    """The reference plans renamed to the next slots, each overview lengthened (dense pages)."""
    plans = []
    n = len(ref.plans)
    for i, plan in enumerate(ref.plans):
        muni, fy = next(slots)
        title = plan.title.replace(plan.municipality, muni)
        if title == plan.title:
            title = f"{muni}{plan.title}"
        other = ref.plans[(i + 1 + k) % n]
        summary = plan.summary + other.summary.replace(other.municipality, muni)
        plans.append(replace(plan, municipality=muni, title=title, period_text=period(fy), summary=summary))
    return plans


def _dense_layouts():
    from tests.fixtures.render import Layout

    base = Layout(plans_per_page=None)
    return [
        base,
        replace(base, font="cid"),
        replace(base, photos="beside_summary"),
        replace(base, photos="row_after_pillars", pillar_gap="　"),
        replace(base, boxed=True, plans_per_page=2),
        replace(base, fake_bold=True),
        replace(base, radicals=True),
        replace(base, projects="bullets_・"),
        replace(base, plans_per_page=1),
        replace(base, projects="bullets_○", pillar_gap="　"),
    ]


def content_key() -> str:
    """Hash of everything the corpus is made from: generator sources, reference text, parameters."""
    from tests.fixtures.make_sample import find_reference

    h = hashlib.sha256()
    h.update(f"{CORPUS_VERSION}|{DENSE_DOCS}|{LONG_PAGES}|{HUGE_PAGES}|{START_YEARS}".encode())
    for path in _SOURCES + [find_reference()]:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    try:
        import reportlab

        h.update(reportlab.Version.encode())
    except ImportError:  # pragma: no cover
        pass
    return h.hexdigest()[:16]


def pdf_pages(path: Path) -> int:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    try:
        return len(doc)
    finally:
        doc.close()


def generate(folder: Path) -> dict:
    """Render the corpus into `folder` (which must not exist yet); returns its manifest."""
    from tests.fixtures.make_sample import SAMPLE_LAYOUT
    from tests.fixtures.render import Document, render
    from tests.fixtures.variants import VARIANTS

    started = time.perf_counter()
    corpus, extra, long_dir, huge_dir = folder / "corpus", folder / "extra", folder / "long", folder / "huge"
    for d in (corpus, extra, long_dir, huge_dir):
        d.mkdir(parents=True)
    ref = _reference()
    slots = plan_slots()

    for name, (doc, layout) in VARIANTS.items():
        render(doc, layout, corpus / f"variant-{name}.pdf")
    render(ref, SAMPLE_LAYOUT, corpus / "sample-r2.pdf")
    layouts = _dense_layouts()
    for k in range(DENSE_DOCS):
        doc = Document(
            title=ref.title,
            plans=_dense_plans(ref, slots, k),
            footnote=ref.footnote,
            header="別紙" if k % 3 == 0 else None,
            page_numbers="－ {n} －" if k % 2 == 0 else None,
        )
        render(doc, layouts[k % len(layouts)], corpus / f"dense-{k + 1:02d}.pdf")
    doc = Document(title=ref.title, plans=_dense_plans(ref, slots, DENSE_DOCS), footnote=ref.footnote)
    render(doc, layouts[0], extra / "added.pdf")

    # the long documents: one plan per page, every plan a distinct municipality and year
    # (the 3,000-page one alone takes its slots from every fiscal year of Heisei and Reiwa up to 2045: 3,534)
    for pages, target, doc_slots in (
        (LONG_PAGES, long_dir / f"long-{LONG_PAGES}.pdf", slots),
        (HUGE_PAGES, huge_dir / f"huge-{HUGE_PAGES}.pdf", plan_slots(range(1989, 2046))),
    ):
        plans = []
        while len(plans) < pages:
            plans += _dense_plans(ref, doc_slots, len(plans))
        render(Document(title=ref.title, plans=plans[:pages], footnote=None), SAMPLE_LAYOUT, target)

    def describe(d: Path) -> list[dict]:
        return [
            {
                "name": p.name,
                "bytes": p.stat().st_size,
                "pages": pdf_pages(p),
                "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
            }
            for p in sorted(d.glob("*.pdf"))
        ]

    manifest = {
        "key": folder.name,
        "corpus": describe(corpus),
        "extra": describe(extra),
        "long": describe(long_dir),
        "huge": describe(huge_dir),
        "seconds": round(time.perf_counter() - started, 2),
    }
    shas = [f["sha256"] for f in manifest["corpus"] + manifest["extra"]]
    if len(set(shas)) != len(shas):
        raise RuntimeError("corpus files are not distinct")
    return manifest


def ensure(root: Path = DEFAULT_ROOT, force: bool = False, log=print) -> tuple[Path, dict]:
    """The corpus folder for the current content key, generated only when missing or forced."""
    folder = root / f"corpus-{content_key()}"
    marker = folder / "manifest.json"
    if marker.exists() and not force:
        return folder, json.loads(marker.read_text(encoding="utf-8"))
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob("corpus-*"):  # stale corpora (another key, or an interrupted build)
        shutil.rmtree(old, ignore_errors=True)
    tmp = root / f".{folder.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    log(f"generating the benchmark corpus into {folder} ...")
    manifest = generate(tmp)
    manifest["key"] = folder.name
    (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.rename(folder)
    log(f"generated in {manifest['seconds']:.1f} s")
    return folder, manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    ap.add_argument("--force", action="store_true", help="regenerate even when cached")
    args = ap.parse_args(argv)
    folder, m = ensure(args.root, args.force)
    pages = sum(f["pages"] for f in m["corpus"])
    print(
        f"{folder}: {len(m['corpus'])} PDFs, {pages} pages; extra {m['extra'][0]['name']} "
        f"({m['extra'][0]['pages']} pages); long {m['long'][0]['name']} ({m['long'][0]['pages']} pages)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
