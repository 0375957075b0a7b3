"""Fingerprints of the code and data each stage depends on, so that a cached record is used only by the code
that would make it again.

A stage is its face (pipeline/extract.py, segment.py, normalize.py) and its rooms (the sub-packages named in
STAGES, every module of them), and its fingerprint hashes the source of all of these and of every pipeline module
they import, directly or not (imports inside functions included), the bundled files any of those modules names,
and the versions of the libraries that decide what it reads. Nothing is listed by hand but the rooms: a module
added to a stage's package, or imported by one, is in its fingerprint, and so is a data file a module of it
names. A changed extractor then re-reads every PDF, a changed segmenter re-segments from the cached extract
records, and a changed normalizer or vocabulary rebuilds the tables: no version string to remember to bump.
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from importlib import metadata
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
# Folders of the package whose files are data read at run time, not code.
DATA_FOLDERS = ("data", "outputs/templates")
STAGES = {
    # stage: (its face and its rooms, libraries whose version changes the stage's output)
    "extract": (("pipeline.extract", "pipeline.reading"), ("pdfplumber", "pdfminer.six", "pypdfium2")),
    "segment": (("pipeline.segment", "pipeline.structure"), ()),
    # The tables and their views are the normalize stage's output too: the manifest names its fingerprint.
    "normalize": (
        ("pipeline.normalize", "pipeline.tagging", "pipeline.outputs"),
        ("sudachipy", "sudachidict-core", "pandas", "pyarrow", "jinja2", "xlsxwriter"),
    ),
}


def module_path(name: str) -> Path:
    """Source file of a pipeline module, e.g. pipeline.segment → pipeline/segment.py, pipeline.core →
    pipeline/core/__init__.py."""
    package = PACKAGE_DIR.joinpath(*name.split(".")[1:])
    return package / "__init__.py" if package.is_dir() else package.with_suffix(".py")


def module_name(path: Path) -> str:
    """The dotted name of a source file of the package: the inverse of module_path."""
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules(name: str) -> list[str]:
    """A module, or a package and every module below it."""
    path = module_path(name)
    if path.name != "__init__.py":
        return [name]
    return sorted(module_name(p) for p in path.parent.rglob("*.py"))


@cache
def syntax(path: Path) -> tuple[ast.AST, ...]:
    """Every node of a source file, parsed once per process for both its imports and its strings."""
    return tuple(ast.walk(ast.parse(path.read_text(encoding="utf-8"))))


@cache
def imported_modules(path: Path) -> frozenset[str]:
    """The pipeline modules a source file imports anywhere in it (inside functions too), with the packages they
    stand in, whose __init__ runs first."""
    found = set()
    for node in syntax(path):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "pipeline")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != "pipeline":
                continue
            found.add(node.module)
            found.update(
                f"{node.module}.{a.name}" for a in node.names if module_path(f"{node.module}.{a.name}").exists()
            )
    return frozenset(parent for name in found for parent in parents(name))


def parents(name: str) -> list[str]:
    """A dotted module name and the packages above it: pipeline.core.text → pipeline, pipeline.core, itself."""
    parts = name.split(".")
    return [".".join(parts[: k + 1]) for k in range(len(parts))]


def module_closure(entries: tuple[str, ...]) -> list[Path]:
    """Source files of the entry modules (every module of an entry package) and of every pipeline module they
    import, transitively, sorted."""
    seen: set[str] = set()
    todo = [name for entry in entries for name in package_modules(entry)]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(imported_modules(module_path(name)))
    return sorted(module_path(name) for name in seen)


@cache
def bundled_files() -> tuple[str, ...]:
    """The data files of the package, as paths relative to it (data/vocabulary.csv), listed once per process."""
    return tuple(
        sorted(
            str(p.relative_to(PACKAGE_DIR))
            for folder in DATA_FOLDERS
            for p in (PACKAGE_DIR / folder).iterdir()
            if p.is_file() and p.name != "README.md"
        )
    )


@cache
def named_files(path: Path) -> frozenset[str]:
    """The bundled files a source file names in a string constant, by their path in the package
    (data/EquivalentUnifiedIdeograph-14.0.0.txt) or by their name in their folder (DATA_DIR / "vocabulary.csv",
    get_template("report.html")): the data the module reads."""
    strings = {node.value for node in syntax(path) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    return frozenset(name for name in bundled_files() if name in strings or Path(name).name in strings)


def stage_files(stage: str) -> tuple[list[Path], list[str]]:
    """The source files of a stage's code and the bundled files they name."""
    modules = module_closure(STAGES[stage][0])
    return modules, sorted({name for path in modules for name in named_files(path)})


# stage -> its fingerprint: made once per process, or handed down by the run to its workers (adopt).
FINGERPRINTS: dict[str, str] = {}


def fingerprint(stage: str) -> str:
    """sha256 of what a stage's output depends on: its code, its data files and its libraries' versions."""
    if stage not in FINGERPRINTS:
        FINGERPRINTS[stage] = make_fingerprint(stage)
    return FINGERPRINTS[stage]


def adopt(fingerprints: dict[str, str]) -> None:
    """Take the run's fingerprints as this process's own: a worker forked per file would otherwise parse the
    stage's modules again for each file, and the records it writes are then stamped with the very fingerprints
    the run checks them against."""
    FINGERPRINTS.update(fingerprints)


def make_fingerprint(stage: str) -> str:
    """The fingerprint of a stage, computed from the files (fingerprint keeps it)."""
    modules, data = stage_files(stage)
    digest = hashlib.sha256()
    for path in modules:
        digest.update(f"{path.relative_to(PACKAGE_DIR)}\0".encode() + path.read_bytes() + b"\0")
    for name in data:
        digest.update(f"{name}\0".encode() + (PACKAGE_DIR / name).read_bytes() + b"\0")
    for package in STAGES[stage][1]:
        digest.update(f"{package}=={metadata.version(package)}\0".encode())
    return digest.hexdigest()
