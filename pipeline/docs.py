"""Regenerate the README's data dictionary from the schema: `python -m pipeline.docs [README.md]`."""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.schema import dictionary_markdown

START, END = "<!-- dictionary:start -->", "<!-- dictionary:end -->"


def render_readme(text: str) -> str:
    """README text with the part between the dictionary markers replaced by the generated tables."""
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{dictionary_markdown()}{END}{tail}"


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    path.write_text(render_readme(path.read_text(encoding="utf-8")), encoding="utf-8")
