"""Measure the tagger against labelled projects: per code precision, recall, support and F1, and every
disagreement, for the development set (every tests/data/labelled/*.csv) and, when its folder is there, the fresh
set (tests/data/labelled_fresh/*.csv).

    python -m tools.evaluate [--repo DIR]        (make eval-tags)

A labelled file has the columns project_name, project_detail, themes, instruments and note, codes joined with
`|`, empty for none; a new file counts as soon as it is in the folder. Each row is tagged as the pipeline tags a
project (its name and detail, implied themes included), so the figures are the pipeline's own. It prints and
exits 0: tests/test_tag_eval.py holds the floors the figures must reach, and `make docs` shows them beside each
code in docs/data-dictionary.md. The labelled files are the repository's (tools.repo): run it from the checkout.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from statistics import mean

from pipeline.core.reference import read_rows
from pipeline.tagging.tagger import CODE_COLUMNS, Tagger, join_text
from pipeline.tagging.vocabulary import load_vocabulary
from tools.repo import repository

# The labelled files, in the repository: development rows may be read when choosing terms and rules.
LABELLED = Path("tests", "data", "labelled")
# Rows written blind from the code definitions alone and kept out of all tuning, to tell whether the development
# figures carry over to wording no one tuned on; added by hand, and skipped while the folder is absent.
FRESH = Path("tests", "data", "labelled_fresh")
SETS = {"development": LABELLED, "fresh": FRESH}
LABELLED_COLUMNS = ("project_name", "project_detail", "themes", "instruments", "note")


@dataclass(frozen=True)
class Example:
    """One labelled project: where it was read, its name and detail, the codes a reader gave it, their note."""

    where: str
    name: str
    detail: str | None
    expected: frozenset[str]
    note: str

    @property
    def text(self) -> str:
        """The text the pipeline tags a project by (pipeline.tagging.tagger.tag_tables)."""
        return join_text(self.name, self.detail)


@dataclass
class Score:
    """One code over a set of examples: true positives, false positives, false negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def support(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / self.support if self.support else None

    @property
    def f1(self) -> float | None:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp + self.fp + self.fn else None


@dataclass
class SetResult:
    """A file set's figures: examples, a Score per vocabulary code, and each example tagged otherwise."""

    examples: int
    scores: dict[str, Score]
    disagreements: list[tuple[Example, frozenset[str]]]

    @property
    def macro_precision(self) -> float | None:
        """Mean precision over the codes the tagger gave at least once."""
        return mean_or_none(s.precision for s in self.scores.values())

    @property
    def macro_recall(self) -> float | None:
        """Mean recall over the codes the set has at least one example of."""
        return mean_or_none(s.recall for s in self.scores.values())

    @property
    def macro_f1(self) -> float | None:
        """Mean F1 over the codes given or labelled at least once."""
        return mean_or_none(s.f1 for s in self.scores.values())


def mean_or_none(values) -> float | None:
    """The mean of the defined values: a code with nothing to measure neither helps nor hurts."""
    values = [v for v in values if v is not None]
    return mean(values) if values else None


def read_labelled(path: Path, kinds: dict[str, str]) -> list[Example]:
    """Read one labelled file, refusing a code the vocabulary lacks or gives the other kind (`kinds`: code ->
    kind), so that a typo never counts as a miss."""
    examples = []
    for line, row in read_rows(path, ("project_name",), LABELLED_COLUMNS[1:]):
        expected = set()
        for kind, column in CODE_COLUMNS.items():
            for code in filter(None, (c.strip() for c in row[column].split("|"))):
                if kinds.get(code) != kind:
                    raise ValueError(f"{path.name} line {line}: {code!r} in {column} is no {kind} of the vocabulary")
                expected.add(code)
        examples.append(
            Example(
                f"{path.name}:{line}",
                row["project_name"],
                row["project_detail"] or None,
                frozenset(expected),
                row["note"],
            )
        )
    return examples


def read_labelled_sets(repo: Path) -> dict[str, list[Example]]:
    """Every labelled file of the repository `repo`, by set (SETS); a set whose folder is absent is left out. A
    project labelled twice (in one file or two) is refused, since it would count twice or leak the fresh set into
    development."""
    vocabulary = load_vocabulary()
    kinds = dict(zip(vocabulary["code"], vocabulary["kind"], strict=True))
    sets: dict[str, list[Example]] = {}
    seen: dict[tuple[str, str | None], str] = {}
    for name, folder in SETS.items():
        if not (repo / folder).is_dir():
            continue
        sets[name] = []
        for path in sorted((repo / folder).glob("*.csv")):
            for example in read_labelled(path, kinds):
                first = seen.setdefault((example.name, example.detail), example.where)
                if first != example.where:
                    raise ValueError(f"{example.where}: the same project as {first}")
                sets[name].append(example)
    return sets


def score(examples: list[Example], tagger: Tagger) -> SetResult:
    """Tag each example as a project and count, per vocabulary code, what the tagger got right and wrong."""
    scores = {code: Score() for code in tagger.vocabulary["code"]}
    disagreements = []
    for example in examples:
        got = frozenset(code for _, code in tagger.tag(example.text))
        for code in example.expected & got:
            scores[code].tp += 1
        for code in got - example.expected:
            scores[code].fp += 1
        for code in example.expected - got:
            scores[code].fn += 1
        if got != example.expected:
            disagreements.append((example, got))
    return SetResult(len(examples), scores, disagreements)


@lru_cache(maxsize=1)
def evaluate(repo: Path) -> dict[str, SetResult]:
    """Each set's figures on the labelled files of the repository `repo`, made once per process (the docs and the
    tests share them)."""
    tagger = Tagger()
    return {name: score(examples, tagger) for name, examples in read_labelled_sets(repo).items()}


def figure(value: float | None) -> str:
    """A share to two decimals, or – when there is nothing to measure."""
    return "–" if value is None else f"{value:.2f}"


def codes_text(codes) -> str:
    """Codes for a reader: sorted, or none."""
    return ", ".join(sorted(codes)) or "none"


def report(results: dict[str, SetResult]) -> str:
    """The figures of each set as text: a table of codes, the macro averages, the disagreements."""
    out = []
    for name, result in results.items():
        out.append(f"== {name}: {result.examples} examples")
        if not result.examples:
            out.append(f"nothing to measure: no labelled rows in {SETS[name]}\n")
            continue
        out.append(f"{'code':<15}{'precision':>10}{'recall':>8}{'support':>9}{'F1':>6}")
        for code, s in result.scores.items():
            out.append(f"{code:<15}{figure(s.precision):>10}{figure(s.recall):>8}{s.support:>9}{figure(s.f1):>6}")
        out.append(
            f"macro precision {figure(result.macro_precision)}, macro recall {figure(result.macro_recall)}, macro F1"
            f" {figure(result.macro_f1)}"
        )
        out.append(f"-- {len(result.disagreements)} disagreement(s)")
        for example, got in result.disagreements:
            text = example.text.replace("\n", " / ")  # name / detail
            out.append(f"{example.where}  {text}")
            out.append(
                f"    expected {codes_text(example.expected)}; got {codes_text(got)}; missing "
                f"{codes_text(example.expected - got)}; extra {codes_text(got - example.expected)}"
            )
            if example.note:
                out.append(f"    note: {example.note}")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    repo = repository(
        "python -m tools.evaluate",
        "Score the tagger on the labelled projects of the repository's "
        f"{LABELLED} (and {FRESH} when there): precision, recall, support and F1 per code, and every disagreement.",
        argv,
    )
    print(report(evaluate(repo)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
