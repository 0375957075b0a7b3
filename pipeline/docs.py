"""Regenerate the README's generated parts: the data dictionary from the schema, and the vocabulary with
its tag counts on the sample.

    python -m pipeline.docs README.md out/tags.parquet
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from pipeline.schema import dictionary_markdown
from pipeline.tag import load_vocabulary

LEVELS = ("plan", "pillar", "project")


def vocabulary_markdown(tags: pd.DataFrame) -> str:
    """One row per vocabulary code: what it means, its first terms, and how many rows of each level carry it."""
    counts = tags.groupby(["code", "level"]).size().unstack(fill_value=0).reindex(columns=list(LEVELS), fill_value=0)
    out = ["| code | kind | ラベル | label | terms (first five) | plans | pillars | projects |", "|---|---|---|---|---|---|---|---|"]
    for row in load_vocabulary().itertuples():
        n = counts.loc[row.code] if row.code in counts.index else {level: 0 for level in LEVELS}
        terms = "、".join(row.terms[:5])
        out.append(f"| `{row.code}` | {row.kind} | {row.label_ja} | {row.label_en} | {terms} | "
                   + " | ".join(str(int(n[level])) for level in LEVELS) + " |")
    return "\n".join(out) + "\n"


def replace_between(text: str, name: str, body: str) -> str:
    """Text with the part between `<!-- name:start -->` and `<!-- name:end -->` replaced by `body`."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}{end}{tail}"


def render_readme(text: str, tags: pd.DataFrame) -> str:
    """README text with every generated part brought up to date."""
    text = replace_between(text, "dictionary", dictionary_markdown())
    return replace_between(text, "vocabulary", vocabulary_markdown(tags))


if __name__ == "__main__":
    readme = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    tags = pd.read_parquet(sys.argv[2] if len(sys.argv) > 2 else "out/tags.parquet")
    readme.write_text(render_readme(readme.read_text(encoding="utf-8"), tags), encoding="utf-8")
