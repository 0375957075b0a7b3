"""Measure OCR on the image-only fixtures (python -m bench.bench_ocr): seconds a page (wall and CPU), Tesseract's
confidence, peak memory, and how close the plans read come to their truth (difflib ratio, as tests/test_ocr.py
compares them). The seconds set records.OCR_SECONDS_PER_PAGE; the ratios, test_ocr's SIMILAR."""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from pipeline.extract import extract_pdf
from tests.conftest import read_tables, read_variant
from tests.fixtures.make_calc_grid import DOCUMENT as GRID_DOCUMENT
from tests.fixtures.make_image_only import GRID, PHOTOS
from tests.fixtures.make_scanned import DOCUMENT as PHOTOS_DOCUMENT
from tests.test_ocr import project_text, similarity
from tests.test_variants import actual, expected


def measure_pages(pdf: Path) -> str:
    """One fixture read by extract alone: seconds a page, wall and CPU, and each page's mean confidence."""
    wall, cpu = time.perf_counter(), time.process_time()
    pages = extract_pdf(pdf)
    wall, cpu = (time.perf_counter() - wall) / len(pages), (time.process_time() - cpu) / len(pages)
    confidences = ", ".join(f"{p.ocr_confidence:g}" for p in pages)
    return f"{pdf.name}: {len(pages)} pages, {wall:.1f} s a page (wall), {cpu:.1f} s (CPU), confidence {confidences}"


def measure_texts() -> list[str]:
    """The fixtures read end to end: each kind of text's ratio to its truth, least and mean, and how many exact."""
    kinds: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for pdf, document in ((PHOTOS, PHOTOS_DOCUMENT), (GRID, GRID_DOCUMENT)):
            out = Path(scratch) / pdf.stem
            read_variant(pdf, out)
            got = actual(read_tables(out))
            for title, plan in expected(document).items():
                read = got[title]
                kinds.setdefault("summaries", []).append(similarity(read["summary"], plan["summary"]))
                captions = zip(read["captions"], plan["captions"], strict=True)
                kinds.setdefault("captions", []).extend(similarity(a, b) for a, b in captions)
                for x, y in zip(read["pillars"], plan["pillars"], strict=True):
                    kinds.setdefault("pillar titles", []).append(similarity(x["title"], y["title"]))
                    projects = zip(map(project_text, x["projects"]), map(project_text, y["projects"]), strict=True)
                    kinds.setdefault("projects", []).extend(similarity(a, b) for a, b in projects)
    return [
        f"{kind}: {len(r)}, least {min(r):.3f}, mean {sum(r) / len(r):.3f}, exact {sum(v == 1 for v in r)}"
        for kind, r in kinds.items()
    ]


def main() -> int:
    for line in [measure_pages(GRID), measure_pages(PHOTOS), *measure_texts()]:
        print(line)
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
