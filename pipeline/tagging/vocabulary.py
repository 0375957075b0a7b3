"""The maintainers' tagging files under pipeline/data, read and checked: the vocabulary (codes and their terms),
spelling variants Sudachi does not unify, the themes a code or term implies, the longer words in which a
term means something else, and the patterns in which a code's terms mean another code or none. An edit that would
silently mis-tag fails here, naming its file and line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from pipeline.core.reference import DATA_DIR, VOCABULARY_COLUMNS, VOCABULARY_PATH, read_rows

if TYPE_CHECKING:
    import pandas as pd

    # The vocabulary as columns: a DataFrame (load_vocabulary, for tables) or a dict of lists (read_vocabulary, for
    # the tagger, which thereby needs no pandas: the fork server builds it for the workers, and pandas is a third of
    # a second to load).
    Columns = pd.DataFrame | dict[str, list]


# Spelling pairs Sudachi does not unify, rewritten before tokenizing.
SPELLING_VARIANTS_PATH = DATA_DIR / "spelling_variants.csv"
# Rules "a code or a vocabulary term implies a theme", applied after matching.
IMPLIED_THEMES_PATH = DATA_DIR / "implied_themes.csv"
IMPLIED_THEMES_COLUMNS = ("if_kind", "if_code_or_term", "then_theme", "reason")
TRIGGER_KINDS = ("code", "term")
# Longer words or phrases in which a code's term means something else (派遣 in 人材派遣), read when matching.
EXCLUSIONS_PATH = DATA_DIR / "exclusions.csv"
EXCLUSIONS_COLUMNS = ("code", "term", "unless_in", "reason")
# Patterns in which a code's terms do not mean it (創業 in 創業100年: the founding of an old firm).
FALSE_FRIENDS_PATH = DATA_DIR / "false_friends.csv"
FALSE_FRIENDS_COLUMNS = ("code", "pattern", "example", "reason")
# Patterns in which a code's terms mean another code, by what they are about (マッチング of successors).
CONTEXT_RULES_PATH = DATA_DIR / "context_rules.csv"
CONTEXT_RULES_COLUMNS = ("code", "pattern", "means", "example", "reason")
KINDS = ("theme", "instrument")


def load_vocabulary(path: str | Path | None = None) -> pd.DataFrame:
    """The maintainers' vocabulary as a table (read_vocabulary)."""
    import pandas as pd

    return pd.DataFrame(read_vocabulary(path), columns=list(VOCABULARY_COLUMNS))


def read_vocabulary(path: str | Path | None = None) -> dict[str, list]:
    """Read the maintainers' vocabulary CSV into its columns, with `terms` split into a list; an edit that would
    mis-tag fails."""
    path = Path(path or VOCABULARY_PATH)
    rows = read_rows(path, VOCABULARY_COLUMNS)
    code_lines: dict[str, int] = {}
    term_codes: dict[tuple[str, str], tuple[str, int]] = {}  # (kind, term) -> (code, line)
    for line, row in rows:
        code, kind = row["code"], row["kind"]
        where = f"{path.name} line {line} (code {code!r})"
        if kind not in KINDS:
            raise ValueError(f"{where}: unknown kind {kind!r}, expected one of {', '.join(KINDS)}")
        if code in code_lines:
            raise ValueError(f"{where}: duplicate code, first on line {code_lines[code]}")
        code_lines[code] = line
        terms = row["terms"] = [term.strip() for term in row["terms"].split("|")]
        if "" in terms:
            raise ValueError(f"{where}: empty term in terms (a stray |?)")
        twice = sorted({term for term in terms if terms.count(term) > 1})
        if twice:
            raise ValueError(f"{where}: term(s) listed twice: {', '.join(twice)}")
        for term in terms:
            # A term shared by two codes of one kind would always tag both: a copy-paste slip, not a choice.
            other, other_line = term_codes.setdefault((kind, term), (code, line))
            if other != code:
                raise ValueError(f"{where}: term {term!r} already belongs to {kind} {other!r} (line {other_line})")
    return {column: [row[column] for _, row in rows] for column in VOCABULARY_COLUMNS}


def load_spelling_variants(path: str | Path | None = None) -> dict[str, str]:
    """Read the maintainers' variant -> canonical spellings, refusing pairs whose rewriting would not settle."""
    path = Path(path or SPELLING_VARIANTS_PATH)
    variants: dict[str, str] = {}
    lines: dict[str, int] = {}
    for line, row in read_rows(path, ("variant", "canonical", "reason")):
        variant, canonical = row["variant"], row["canonical"]
        where = f"{path.name} line {line} (variant {variant!r})"
        if variant in variants:
            raise ValueError(f"{where}: duplicate variant, first on line {lines[variant]}")
        if variant == canonical:
            raise ValueError(f"{where}: variant equals its canonical")
        variants[variant], lines[variant] = canonical, line
    for variant, canonical in variants.items():
        for other in variants:
            if other in canonical:
                raise ValueError(
                    f"{path.name} line {lines[variant]} (variant {variant!r}): canonical {canonical!r} contains"
                    f" variant {other!r} (line {lines[other]}), so rewrites would chain"
                )
    return variants


class Implication(NamedTuple):
    """A rule of data/implied_themes.csv: where `trigger` (a code, or a vocabulary term when `is_term`) is
    found, theme `then` is too."""

    trigger: str
    is_term: bool
    then: tuple[str, str]

    @property
    def evidence(self) -> str:
        return f"implied by {self.trigger}"

    def fires(self, found: dict[tuple[str, str], set[str]]) -> bool:
        """Whether the codes and terms found so far hold the trigger."""
        if self.is_term:
            return any(self.trigger in terms for terms in found.values())
        return any(code == self.trigger for _, code in found)


def load_implied_themes(vocabulary: Columns, path: str | Path | None = None) -> list[Implication]:
    """Read the maintainers' rules "a code or a term implies a theme", refusing a rule that could never fire,
    that repeats another, or that is a vocabulary term in disguise (a term that only means the theme belongs in
    its terms)."""
    path = Path(path or IMPLIED_THEMES_PATH)
    kinds = dict(zip(vocabulary["code"], vocabulary["kind"], strict=True))
    owners: dict[str, list[str]] = {}  # term -> the codes whose terms list it
    for code, terms in zip(vocabulary["code"], vocabulary["terms"], strict=True):
        for term in terms:
            owners.setdefault(term, []).append(code)
    rules: list[Implication] = []
    lines: dict[tuple[str, str, str], int] = {}
    for line, row in read_rows(path, IMPLIED_THEMES_COLUMNS):
        if_kind, trigger, then = row["if_kind"], row["if_code_or_term"], row["then_theme"]
        where = f"{path.name} line {line} ({if_kind} {trigger!r} implies {then!r})"
        if if_kind not in TRIGGER_KINDS:
            raise ValueError(f"{where}: unknown if_kind {if_kind!r}, expected one of {', '.join(TRIGGER_KINDS)}")
        if kinds.get(then) != "theme":
            raise ValueError(f"{where}: {then!r} is not a theme of the vocabulary")
        if if_kind == "code" and trigger not in kinds:
            raise ValueError(f"{where}: {trigger!r} is not a code of the vocabulary")
        if if_kind == "term" and trigger not in owners:
            raise ValueError(
                f"{where}: {trigger!r} is in no code's terms; if it only means {then!r}, add it to"
                " that theme's terms instead"
            )
        if then in ([trigger] if if_kind == "code" else owners[trigger]):
            raise ValueError(f"{where}: implies its own trigger ({trigger!r} tags {then!r} already)")
        if (if_kind, trigger, then) in lines:
            raise ValueError(f"{where}: duplicate rule, first on line {lines[if_kind, trigger, then]}")
        lines[if_kind, trigger, then] = line
        rules.append(Implication(trigger, if_kind == "term", ("theme", then)))
    return rules


class Exclusion(NamedTuple):
    """A rule of data/exclusions.csv: `term` does not tag `key` (kind, code) where it lies inside `phrase`."""

    key: tuple[str, str]
    term: str
    phrase: str


def load_exclusions(vocabulary: Columns, path: str | Path | None = None) -> list[Exclusion]:
    """Read the maintainers' rules "a term does not count inside this longer word", refusing a rule that could
    never apply: an unknown code, a term not among the code's terms, a phrase without the term, a repeat."""
    path = Path(path or EXCLUSIONS_PATH)
    keys = {code: (kind, code) for kind, code in zip(vocabulary["kind"], vocabulary["code"], strict=True)}
    terms = dict(zip(vocabulary["code"], vocabulary["terms"], strict=True))
    rules: list[Exclusion] = []
    lines: dict[Exclusion, int] = {}
    for line, row in read_rows(path, EXCLUSIONS_COLUMNS):
        code, term, phrase = row["code"], row["term"], row["unless_in"]
        where = f"{path.name} line {line} ({code} {term!r} unless in {phrase!r})"
        if code not in keys:
            raise ValueError(f"{where}: {code!r} is not a code of the vocabulary")
        if term not in terms[code]:
            raise ValueError(f"{where}: {term!r} is not one of {code!r}'s terms")
        if term not in phrase or term == phrase:
            raise ValueError(f"{where}: unless_in must be a longer word or phrase containing {term!r}")
        rule = Exclusion(keys[code], term, phrase)
        if rule in lines:
            raise ValueError(f"{where}: duplicate rule, first on line {lines[rule]}")
        lines[rule] = line
        rules.append(rule)
    return rules


class Reading(NamedTuple):
    """A rule of data/false_friends.csv or data/context_rules.csv: a term of `key` (kind, code) found inside a
    match of `pattern` does not tag `key` there but `means` (a (kind, code), or None: no code at all)."""

    key: tuple[str, str]
    pattern: re.Pattern
    means: tuple[str, str] | None


def load_false_friends(vocabulary: Columns, path: str | Path | None = None) -> list[Reading]:
    """Read the maintainers' rules "inside this pattern, the code's terms mean nothing of it" (load_readings)."""
    return load_readings(vocabulary, Path(path or FALSE_FRIENDS_PATH), FALSE_FRIENDS_COLUMNS)


def load_context_rules(vocabulary: Columns, path: str | Path | None = None) -> list[Reading]:
    """Read the maintainers' rules "inside this pattern, the code's terms mean that code" (load_readings)."""
    return load_readings(vocabulary, Path(path or CONTEXT_RULES_PATH), CONTEXT_RULES_COLUMNS)


def load_readings(vocabulary: Columns, path: Path, columns: tuple[str, ...]) -> list[Reading]:
    """Read rules of a pattern in which a code's terms mean another code (column `means`) or none, refusing one
    that could never apply or would not say why: an unknown code, a pattern that does not compile or misses its
    own `example` (the text it was written for, which shows what it reads), a code meaning itself, a repeat."""
    keys = {code: (kind, code) for kind, code in zip(vocabulary["kind"], vocabulary["code"], strict=True)}
    rules: list[Reading] = []
    lines: dict[tuple[str, str, str], int] = {}
    for line, row in read_rows(path, columns):
        code, means = row["code"], row.get("means", "")
        where = f"{path.name} line {line} ({code} in {row['pattern']!r})"
        for name in (code, means) if means else (code,):
            if name not in keys:
                raise ValueError(f"{where}: {name!r} is not a code of the vocabulary")
        if means == code:
            raise ValueError(f"{where}: means its own code")
        try:
            pattern = re.compile(row["pattern"])
        except re.error as error:
            raise ValueError(f"{where}: the pattern does not compile: {error}") from None
        if not pattern.search(row["example"]):
            raise ValueError(f"{where}: the pattern does not match its example {row['example']!r}")
        if (code, row["pattern"], means) in lines:
            raise ValueError(f"{where}: duplicate rule, first on line {lines[code, row['pattern'], means]}")
        lines[code, row["pattern"], means] = line
        rules.append(Reading(keys[code], pattern, keys[means] if means else None))
    return rules
