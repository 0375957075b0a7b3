"""The maintainers' tools (tools/, never installed): each finds the repository explicitly, refuses a folder that is
no checkout in one line, and the pipeline package never imports them."""

import ast
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from pipeline.tagging.vocabulary import load_vocabulary
from tools import docs, evaluate
from tools.evaluate import Score, SetResult
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
    assert out.startswith("== development: ") and "macro precision" in out and "== fresh: " in out


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


def test_the_docs_show_the_fresh_figures_beside_developments():
    codes = load_vocabulary()["code"]
    development = SetResult(
        2, {code: Score() for code in codes} | {"succession": Score(tp=1, fp=1), "startup": Score(fn=1)}, []
    )
    fresh = SetResult(1, {code: Score() for code in codes} | {"succession": Score(tp=1)}, [])
    tags = pd.DataFrame({"code": ["succession"], "level": ["plan"]})
    table = docs.vocabulary_markdown(tags, {"development": development, "fresh": fresh}).splitlines()
    assert table[0].endswith(
        "| development precision | development recall | development F1 | development support"
        " | fresh precision | fresh recall | fresh F1 | fresh support |"
    )
    assert table[2].startswith("| `succession` |") and table[2].endswith(
        "| 1 | 0 | 0 | 0.50 | 1.00 | 0.67 | 1 | 1.00 | 1.00 | 1.00 | 1 |"
    )
    assert table[3].startswith("| `startup` |") and table[3].endswith(
        "| 0 | 0 | 0 | – | 0.00 | 0.00 | 1 | – | – | – | 0 |"
    )
    assert docs.scores_markdown({"development": development, "fresh": fresh}) == (
        "development: 2 projects, macro precision 0.50, macro recall 0.50, macro F1 0.33, 0 tagged otherwise than"
        " labelled; fresh: 1 projects, macro precision 1.00, macro recall 1.00, macro F1 1.00, 0 tagged otherwise"
        " than labelled.\n"
    )
