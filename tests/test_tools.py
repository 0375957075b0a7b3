"""The maintainers' tools (tools/, never installed): each finds the repository explicitly, refuses a folder that is
no checkout in one line, and the pipeline package never imports them."""

import ast
import tomllib
from pathlib import Path

import pytest

from tools import docs, evaluate
from tools.repo import CHECKOUT, default_repo

ROOT = Path(__file__).resolve().parents[1]


def test_the_repository_is_the_nearest_folder_with_a_pyproject_from_the_current_directory(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[project]\n", encoding="utf-8")
    (tmp_path / "a" / "b").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "a" / "b")
    assert default_repo() == tmp_path.resolve()
    assert default_repo(ROOT / "tests" / "data") == ROOT


def test_outside_any_project_the_repository_is_the_tools_own_checkout(tmp_path):
    assert CHECKOUT == ROOT
    if not any((folder / "pyproject.toml").is_file() for folder in (tmp_path, *tmp_path.parents)):
        assert default_repo(tmp_path) == ROOT


@pytest.mark.parametrize("tool", [docs, evaluate])
@pytest.mark.parametrize("given", [True, False], ids=["--repo", "from the current directory"])
def test_a_folder_that_is_no_checkout_is_refused_in_one_line(tool, given, tmp_path, monkeypatch, capsys):
    (tmp_path / "pyproject.toml").write_text("[project]\n", encoding="utf-8")
    (tmp_path / "docs").mkdir()
    monkeypatch.chdir(ROOT if given else tmp_path / "docs")
    with pytest.raises(SystemExit) as stop:
        tool.main(["--repo", str(tmp_path)] if given else [])
    assert stop.value.code == 1
    lacking = "README.md, tests/data/labelled" + (", raw" if tool is docs else "")
    assert capsys.readouterr().err == (
        f"error: {tmp_path.resolve()} is not a checkout of the repository: it lacks "
        f"{lacking} (run from the checkout, or give --repo DIR)\n"
    )


def test_evaluate_prints_the_figures_of_the_repository_given(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert evaluate.main(["--repo", str(ROOT)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("== development: ") and "\n== holdout: " in out and "macro precision" in out


def test_the_pipeline_never_imports_the_tools():
    for path in sorted((ROOT / "pipeline").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not [n for n in names if n == "tools" or n.startswith("tools.")], path


def test_the_installed_package_leaves_the_tools_out():
    from setuptools import find_packages

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = find_packages(str(ROOT), **config["tool"]["setuptools"]["packages"]["find"])
    assert "pipeline" in packages and not [p for p in packages if not p.startswith("pipeline")]
