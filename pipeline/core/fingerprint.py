"""Fingerprints of the code and data each stage depends on, so that a cached record is used only by the code
that would make it again.

A stage's fingerprint hashes the source of every pipeline module its entry modules import, directly or not
(imports inside functions included), the bundled data files it reads, and the versions of the libraries
that decide what it reads. A changed extractor then re-reads every PDF, a changed segmenter re-segments from
the cached extract records, and a changed normalizer or vocabulary rebuilds the tables: no version string
to remember to bump.
"""

from __future__ import annotations

import ast
import hashlib
from functools import lru_cache
from importlib import metadata
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
STAGES = {
    # stage: (entry modules, files of the package it reads, libraries whose version changes the stage's output)
    "extract": (("pipeline.reading.worker", "pipeline.extract"), (), ("pdfplumber", "pdfminer.six", "pypdfium2")),
    "segment": (("pipeline.segment",), ("data/EquivalentUnifiedIdeograph-14.0.0.txt",), ()),
    "normalize": (
        ("pipeline.normalize", "pipeline.tagging.tagger", "pipeline.core.io", "pipeline.outputs.datapackage", "pipeline.outputs.report",
         "pipeline.outputs.workbook"),
        ("data/municipalities.csv", "data/vocabulary.csv", "data/spelling_variants.csv", "data/implied_themes.csv",
         "data/exclusions.csv", "outputs/templates/report.html"),
        ("sudachipy", "sudachidict-core", "pandas", "pyarrow", "jinja2", "openpyxl"),
    ),
}


def module_path(name: str) -> Path:
    """Source file of a pipeline module, e.g. pipeline.segment → pipeline/segment.py."""
    parts = name.split(".")[1:]
    package = PACKAGE_DIR.joinpath(*parts)
    return package / "__init__.py" if package.is_dir() else package.with_suffix(".py")


@lru_cache(maxsize=None)
def imported_modules(path: Path) -> frozenset[str]:
    """The pipeline modules a source file imports anywhere in it; each file is parsed once, as each fingerprint
    is made once per process."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("pipeline."))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "pipeline":
                found.update(f"pipeline.{a.name}" for a in node.names if module_path(f"pipeline.{a.name}").exists())
            elif node.module.startswith("pipeline."):
                found.add(node.module)
    return frozenset(found)


def module_closure(entries: tuple[str, ...]) -> list[Path]:
    """Source files of the entry modules and of every pipeline module they import, transitively, sorted."""
    seen: set[str] = {"pipeline"}
    todo = list(entries)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(imported_modules(module_path(name)))
    return sorted(module_path(name) for name in seen)


@lru_cache(maxsize=None)
def fingerprint(stage: str) -> str:
    """sha256 of what a stage's output depends on: its code, its data files and its libraries' versions."""
    entries, data, packages = STAGES[stage]
    digest = hashlib.sha256()
    for path in module_closure(entries):
        digest.update(f"{path.relative_to(PACKAGE_DIR)}\0".encode() + path.read_bytes() + b"\0")
    for name in data:
        digest.update(f"{name}\0".encode() + (PACKAGE_DIR / name).read_bytes() + b"\0")
    for package in packages:
        digest.update(f"{package}=={metadata.version(package)}\0".encode())
    return digest.hexdigest()
