"""Regenerate the generated parts of the docs: the README's failure table from pipeline/core/failures.py, the
data dictionary from the schema, the vocabulary with its tag counts on the bundled sample and its figures on the
labelled projects (tools.evaluate), the implied-theme rules, the drawing of the package's imports, and the
layout parameters with their reasons from pipeline/core/layout.py.

    python -m tools.docs [--repo DIR]        (make docs)

Each generated part sits between `<!-- name:start -->` and `<!-- name:end -->` in a Markdown file of the
repository (tools.repo); a test fails when one is out of date.
"""

from __future__ import annotations

import ast
import sys
import tempfile
from pathlib import Path

import pandas as pd

from pipeline.core import layout
from pipeline.core.failures import failures_markdown
from pipeline.core.fingerprint import PACKAGE_DIR, imported_modules, module_name
from pipeline.core.reference import read_rows, review_reasons
from pipeline.core.schema import dictionary_markdown
from pipeline.tagging.vocabulary import IMPLIED_THEMES_COLUMNS, IMPLIED_THEMES_PATH, load_vocabulary
from tools.evaluate import SetResult, evaluate, figure
from tools.repo import repository

# The layout parameters are read from the source of the module the pipeline uses.
LAYOUT_SOURCE = Path(layout.__file__)
# The bundled sample, read for the vocabulary's tag counts.
SAMPLE_RAW = Path("raw")
LEVELS = ("plan", "pillar", "project")


def vocabulary_markdown(tags: pd.DataFrame, results: dict[str, SetResult]) -> str:
    """One row per vocabulary code: what it means, its first terms, how many rows of each level carry it on the
    sample, and how well it is given on each set of labelled projects (fresh beside development once it is there)."""
    counts = tags.groupby(["code", "level"]).size().unstack(fill_value=0).reindex(columns=list(LEVELS), fill_value=0)
    header = ["code", "kind", "ラベル", "label", "terms (first five)", "plans", "pillars", "projects"]
    header += [f"{name} {measure}" for name in results for measure in ("precision", "recall", "F1", "support")]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in load_vocabulary().itertuples():
        n = counts.loc[row.code] if row.code in counts.index else {level: 0 for level in LEVELS}
        cells = [f"`{row.code}`", row.kind, row.label_ja, row.label_en, "、".join(row.terms[:5])]
        cells += [str(int(n[level])) for level in LEVELS]
        for result in results.values():
            score = result.scores[row.code]
            cells += [figure(score.precision), figure(score.recall), figure(score.f1), str(score.support)]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def definitions_markdown() -> str:
    """One row per vocabulary code: what it covers and what only looks like it, as the labelled projects were
    labelled by."""
    out = ["| code | ラベル | covers | does not cover |", "|---|---|---|---|"]
    out += [
        f"| `{row.code}` | {row.label_ja} | {row.covers} | {row.excludes} |" for row in load_vocabulary().itertuples()
    ]
    return "\n".join(out) + "\n"


def scores_markdown(results: dict[str, SetResult]) -> str:
    """The macro figures of each set of labelled projects, on one line for the README (the figures per code are
    in the data dictionary)."""
    return (
        "; ".join(
            f"{name}: {r.examples} projects, macro precision {figure(r.macro_precision)}, macro recall"
            f" {figure(r.macro_recall)}, macro F1 {figure(r.macro_f1)}, {len(r.disagreements)} tagged otherwise"
            " than labelled"
            if r.examples
            else f"{name}: no labelled projects yet"
            for name, r in results.items()
        )
        + ".\n"
    )


def implied_markdown() -> str:
    """One row per implied-theme rule, with its reason: what a tag's `implied by …` evidence stands for."""
    out = ["| if | then | why |", "|---|---|---|"]
    for _, row in read_rows(IMPLIED_THEMES_PATH, IMPLIED_THEMES_COLUMNS):
        out.append(f"| {row['if_kind']} `{row['if_code_or_term']}` | `{row['then_theme']}` | {row['reason']} |")
    return "\n".join(out) + "\n"


def review_markdown() -> str:
    """One row per review reason (plans.review_reasons): what it means and what a reviewer checks."""
    out = ["| code | 確認理由 | reason | what it means | what to check |", "|---|---|---|---|---|"]
    for code, row in review_reasons().items():
        out.append(f"| `{code}` | {row['label_ja']} | {row['label_en']} | {row['meaning']} | {row['what_to_check']} |")
    return "\n".join(out) + "\n"


def layout_markdown(source: str) -> str:
    """One row per layout parameter, or per group of parameters that share the comment above them, which gives
    the reason for their values."""
    lines = source.splitlines()
    rows: list[tuple[list[str], list[str], str]] = []  # names, values, reason
    for node in ast.parse(source).body:
        if not isinstance(node, ast.Assign):
            continue
        comment = []
        k = node.lineno - 2
        while k >= 0 and lines[k].startswith("#"):
            comment.insert(0, lines[k].lstrip("# ").strip())
            k -= 1
        if not comment and rows:
            group = rows[-1]
        else:
            group = ([], [], " ".join(comment))
            rows.append(group)
        group[0].extend(f"`{ast.unparse(t)}`" for t in node.targets)
        group[1].append(f"`{ast.unparse(node.value)}`")
    out = ["| parameter | value | why |", "|---|---|---|"]
    out += [f"| {', '.join(names)} | {', '.join(values)} | {reason} |" for names, values, reason in rows]
    return "\n".join(out) + "\n"


def replace_between(text: str, name: str, body: str) -> str:
    """Text with the part between `<!-- name:start -->` and `<!-- name:end -->` replaced by `body`."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}{end}{tail}"


def imports_markdown() -> str:
    """The package's parts (a folder, or a module at the top) and which others each imports, anywhere in its code,
    as the fingerprint reads imports: a Mermaid drawing, the parts that import nothing of the others at the bottom."""
    uses: dict[str, set[str]] = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        module = module_name(path)
        if module.count(".") == 0 or module.endswith("__main__"):
            continue
        part = module.split(".")[1]
        uses.setdefault(part, set()).update(
            other.split(".")[1] for other in imported_modules(path) if other.count(".") and other.split(".")[1] != part
        )
    lines = ["```mermaid", "flowchart TD"]
    lines += [f"    {part} --> {other}" for part in sorted(uses) for other in sorted(uses[part])]
    return "\n".join([*lines, "```"]) + "\n"


def generated_parts(repo: Path, tags: pd.DataFrame) -> dict[Path, dict[str, str]]:
    """File of the repository → generated part name → its body."""
    results = evaluate(repo)
    return {
        repo / "README.md": {"tag-scores": scores_markdown(results), "failures": failures_markdown()},
        repo / "docs" / "data-dictionary.md": {
            "dictionary": dictionary_markdown(),
            "definitions": definitions_markdown(),
            "vocabulary": vocabulary_markdown(tags, results),
            "implied": implied_markdown(),
            "review-reasons": review_markdown(),
        },
        repo / "docs" / "maintaining.md": {
            "imports": imports_markdown(),
            "layout": layout_markdown(LAYOUT_SOURCE.read_text(encoding="utf-8")),
        },
    }


def render(path: Path, parts: dict[str, str]) -> str:
    """A doc's text with each of its generated parts brought up to date."""
    text = path.read_text(encoding="utf-8")
    for name, body in parts.items():
        text = replace_between(text, name, body)
    return text


def sample_tags(repo: Path) -> pd.DataFrame:
    """The tags of the repository's bundled sample, read by the pipeline into a folder of its own."""
    from pipeline.cli import main

    with tempfile.TemporaryDirectory() as out:
        if main(["all", "--raw", str(repo / SAMPLE_RAW), "--out", out, "-q"]) != 0:
            raise SystemExit("the sample did not read cleanly: fix that first")
        return pd.read_parquet(Path(out) / "tags.parquet")


def main(argv: list[str] | None = None) -> int:
    repo = repository(
        "python -m tools.docs",
        "Regenerate the generated parts of the repository's README.md and docs/*.md.",
        argv,
        needs=(str(SAMPLE_RAW),),
    )
    for path, parts in generated_parts(repo, sample_tags(repo)).items():
        path.write_text(render(path, parts), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
