"""The shape of the package: no import loops, layers that only point down, no data read at import time, and every
record built inside the code its stage's fingerprint covers (so that a cached record cannot outlive its code)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import typing
from dataclasses import is_dataclass
from pathlib import Path

from pipeline.core import records
from pipeline.core.fingerprint import (
    PACKAGE_DIR,
    STAGES,
    bundled_files,
    imported_modules,
    module_closure,
    module_name,
    module_path,
    stage_files,
)

MODULES = sorted(module_name(p) for p in PACKAGE_DIR.rglob("*.py"))
# What each part of the package may import besides itself and the package's root (PIPELINE_VERSION): the core
# nothing above it, each stage's rooms the core alone, each face its own rooms, the run the stages, the commands
# everything. Written by hand: it is the architecture, not a reading of the code.
MAY_IMPORT = {
    "core": set(),
    "reading": {"core"},
    "structure": {"core"},
    "tagging": {"core"},
    "acquire": {"core"},
    "review": {"core"},
    "outputs": {"core", "tagging"},
    "extract": {"core", "reading"},
    "segment": {"core", "structure"},
    "normalize": {"core", "tagging", "acquire", "outputs", "review"},
    "run": {"core", "reading", "extract", "segment", "normalize", "tagging", "acquire", "outputs"},
    "explain": {"core", "reading", "structure", "extract", "segment"},
    "cli": {"core", "reading", "acquire", "run", "explain"},
    "__main__": {"cli"},
}
# The record a stage writes per file, whose every nested record type is that stage's to build.
STAGE_RECORDS = {
    "extract": (records.ExtractHeader, records.Page),
    "segment": (records.SegmentRecord,),
    "normalize": (records.FileRows,),
}


def part(module: str) -> str:
    """The part of the package a module belongs to: pipeline.core.text → core, pipeline.segment → segment."""
    return module.split(".")[1] if "." in module else ""


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import loop of the graph, as the modules along it, or None."""
    state: dict[str, str] = {}  # module -> "open" while its imports are walked, "done" after

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = "open"
        for other in sorted(graph.get(module, ())):
            if state.get(other) == "open":
                return path[path.index(other) :] + [module, other] if other in path else [module, other]
            if other not in state:
                loop = visit(other, path + [module])
                if loop:
                    return loop
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state:
            loop = visit(module, [])
            if loop:
                return loop
    return None


def imports_of(module: str) -> set[str]:
    """The pipeline modules (and their packages) a module imports anywhere, as the fingerprint reads them."""
    return set(imported_modules(module_path(module))) - {module}


def test_no_module_imports_itself_through_others_not_even_inside_a_function():
    graph = {module: imports_of(module) for module in MODULES}
    assert find_cycle(graph) is None


def test_the_loop_finder_finds_a_loop():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_every_part_imports_only_what_lies_below_it():
    wrong = sorted(
        (module, other)
        for module in MODULES
        for other in imports_of(module)
        if part(other) and part(other) != part(module) and part(other) not in MAY_IMPORT[part(module)]
    )
    assert wrong == []
    assert set(MAY_IMPORT) == {part(module) for module in MODULES if part(module)}


def test_importing_any_module_reads_no_data_file():
    """Every module imported in a fresh interpreter, each file opened recorded by an audit hook: none is a bundled
    data file (they are read when first needed, so a broken one costs the run that needs it, not every import)."""
    script = """
import importlib, json, sys
opened = []
sys.addaudithook(lambda event, args: opened.append(args[0]) if event == "open" and isinstance(args[0], str) else None)
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
print(json.dumps(opened))
"""
    # The fork server imports run.tagger_preload to build the tagger, vocabulary read, before it forks workers.
    modules = [m for m in MODULES if not m.endswith("__main__") and m != "pipeline.run.tagger_preload"]
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(modules)],
        capture_output=True,
        text=True,
        cwd=PACKAGE_DIR.parent,
        check=True,
    )
    data = {str(PACKAGE_DIR / name) for name in bundled_files()}
    assert sorted({str(Path(p).resolve()) for p in json.loads(done.stdout)} & data) == []


def nested_records(kind: type) -> set[type]:
    """A record type and every record type its fields hold, in lists or optional."""
    found = {kind}
    for hint in typing.get_type_hints(kind).values():
        for inner in [hint, *typing.get_args(hint), *(a for h in typing.get_args(hint) for a in typing.get_args(h))]:
            if is_dataclass(inner) and inner not in found:
                found |= nested_records(inner)
    return found


def constructed(module: str) -> set[str]:
    """Names of the classes a module calls by name (Plan(...), records.Plan(...))."""
    tree = ast.parse(module_path(module).read_text(encoding="utf-8"))
    calls = (node.func for node in ast.walk(tree) if isinstance(node, ast.Call))
    return {f.id if isinstance(f, ast.Name) else f.attr for f in calls if isinstance(f, (ast.Name, ast.Attribute))}


def test_every_record_is_built_by_code_its_stage_fingerprints():
    """A module that builds a record a stage caches is in that stage's fingerprint: otherwise an edit to it would
    leave the cached records of the old code standing."""
    covered = {stage: {module_name(p) for p in module_closure(STAGES[stage][0])} for stage in STAGES}
    builders = {
        kind.__name__: {
            stage for stage, tops in STAGE_RECORDS.items() if any(kind in nested_records(top) for top in tops)
        }
        for tops in STAGE_RECORDS.values()
        for top in tops
        for kind in nested_records(top)
    }
    outside = sorted(
        (module, name)
        for module in MODULES
        for name in constructed(module) & builders.keys()
        if not any(module in covered[stage] for stage in builders[name])
    )
    assert outside == []
    assert {
        "ExtractHeader",
        "Page",
        "Line",
        "Box",
        "Notice",
        "SegmentRecord",
        "Plan",
        "Pillar",
        "Project",
        "FileRows",
    } <= builders.keys()


def test_the_record_check_sees_a_builder_outside_its_stage():
    assert "SegmentRecord" in constructed("pipeline.segment")
    assert {"Plan", "Pillar", "Notice"} <= constructed("pipeline.structure.body")
    assert "pipeline.run.runner" not in {module_name(p) for p in module_closure(STAGES["segment"][0])}


def test_every_bundled_data_file_is_read_by_some_stage():
    claimed = {name for stage in STAGES for name in stage_files(stage)[1]}
    assert claimed == set(bundled_files())
    assert "data/vocabulary.csv" in bundled_files() and "outputs/templates/report.html" in bundled_files()
