"""The repository a tool works on: `--repo DIR`, or else the folder holding pyproject.toml found from the
current directory upwards, or else the checkout the tools live in. A folder that lacks the repository's files
is refused in one line on stderr, with exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pipeline

# The checkout these tools live in: the last resort, when the current directory is in no project.
CHECKOUT = Path(__file__).resolve().parents[1]
# What tells the repository from any other folder: what every tool reads of it.
MARKERS = ("README.md", "docs", "tests/data/labelled")
EXIT_USAGE = 1


def default_repo(start: Path | None = None) -> Path:
    """The nearest folder from `start` (the current directory) upwards that holds a pyproject.toml, or else the
    checkout the tools live in."""
    start = (Path.cwd() if start is None else start).resolve()
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    return CHECKOUT


def missing(repo: Path, needs: tuple[str, ...] = MARKERS) -> list[str]:
    """The files and folders of `needs` that `repo` lacks."""
    return [name for name in needs if not (repo / name).exists()]


def repository(prog: str, description: str, argv: list[str] | None = None, needs: tuple[str, ...] = ()) -> Path:
    """Parse a tool's command line (`--repo DIR`) and return the repository it names, resolved; exit with status 1
    and one line on stderr when that folder lacks the repository's markers or `needs`."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument(
        "--repo",
        type=Path,
        metavar="DIR",
        help="the repository's checkout (default: the folder holding pyproject.toml from the current "
        "directory upwards, or else the checkout these tools live in)",
    )
    args = parser.parse_args(argv)
    repo = (args.repo or default_repo()).resolve()
    lacking = missing(repo, MARKERS + tuple(needs))
    if lacking:
        print(
            f"error: {repo} is not a checkout of the repository: it lacks {', '.join(lacking)} (run from the "
            f"checkout, or give --repo DIR)",
            file=sys.stderr,
        )
        raise SystemExit(EXIT_USAGE)
    package = Path(pipeline.__file__).resolve().parent
    if package != repo / "pipeline":
        print(
            f"warning: the pipeline package imported is {package}, not {repo / 'pipeline'}: the figures are that "
            f"code's",
            file=sys.stderr,
        )
    return repo
