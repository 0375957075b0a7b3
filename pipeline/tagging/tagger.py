"""Tag plans, pillars and projects with policy themes and instruments.

Terms from ``data/vocabulary.csv`` are matched on Sudachi normalized forms, as
contiguous runs of whole morphemes, in both split modes C and A: spelling
variants (ｽﾀｰﾄｱｯﾌﾟ, ＩｏＴ, もの作り) then match, compounds and their parts
both match, and a term never matches inside an unrelated word. Spelling pairs Sudachi does
not unify (事業継承 for 事業承継) are rewritten first, from ``data/spelling_variants.csv``. Then the rules of
``data/implied_themes.csv`` add the themes a matched code or term implies (an exhibition is about sales), with
``implied by …`` as their evidence. A term found inside a longer word or phrase listed for it in
``data/exclusions.csv`` (派遣 in 人材派遣) does not count.

A plan's tags are its own text's and its pillars', a pillar's its own and its projects': all within one file, so
a file's tags can be made from its segment record alone and cached (pipeline.normalize.file_rows). SudachiPy and
its dictionary are loaded only when some text is tagged, pandas only where a table is built.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, NamedTuple

from pipeline.core.reference import (
    DATA_DIR,
    VOCABULARY_COLUMNS,
    VOCABULARY_PATH,
    read_rows,
)

if TYPE_CHECKING:
    import pandas as pd
    from sudachipy import Dictionary, Tokenizer

# Spelling pairs Sudachi does not unify, rewritten before tokenizing.
SPELLING_VARIANTS_PATH = DATA_DIR / "spelling_variants.csv"
# Rules "a code or a vocabulary term implies a theme", applied after matching.
IMPLIED_THEMES_PATH = DATA_DIR / "implied_themes.csv"
IMPLIED_THEMES_COLUMNS = ("if_kind", "if_code_or_term", "then_theme", "reason")
TRIGGER_KINDS = ("code", "term")
# Longer words or phrases in which a code's term means something else (派遣 in 人材派遣), read when matching.
EXCLUSIONS_PATH = DATA_DIR / "exclusions.csv"
EXCLUSIONS_COLUMNS = ("code", "term", "unless_in", "reason")
KINDS = ("theme", "instrument")
# Split modes by name: SplitMode objects are not hashable.
MODES = ("C", "A")
# Sudachi refuses longer inputs; 4 bytes is the widest UTF-8 character.
MAX_INPUT_BYTES = 49_149
MAX_CHUNK_CHARS = MAX_INPUT_BYTES // 4
SENTENCE_BREAK = re.compile(r"[\n。]")
CODE_COLUMNS = {"theme": "themes", "instrument": "instruments"}
# What a text matched: (kind, code) -> the vocabulary terms found, sorted.
Match = dict[tuple[str, str], list[str]]

_dictionary: Dictionary | None = None
_dictionary_lock = threading.Lock()
_local = threading.local()




def load_vocabulary(path: str | Path | None = None) -> pd.DataFrame:
    """Read the maintainers' vocabulary CSV, with `terms` split into a list; an edit that would mis-tag fails."""
    import pandas as pd

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
    return pd.DataFrame([row for _, row in rows], columns=list(VOCABULARY_COLUMNS))


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


def load_implied_themes(vocabulary: pd.DataFrame, path: str | Path | None = None) -> list[Implication]:
    """Read the maintainers' rules "a code or a term implies a theme", refusing a rule that could never fire,
    that repeats another, or that is a vocabulary term in disguise (a term that only means the theme belongs in
    its terms)."""
    path = Path(path or IMPLIED_THEMES_PATH)
    kinds = dict(zip(vocabulary["code"], vocabulary["kind"]))
    owners: dict[str, list[str]] = {}  # term -> the codes whose terms list it
    for code, terms in zip(vocabulary["code"], vocabulary["terms"]):
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
            raise ValueError(f"{where}: {trigger!r} is in no code's terms; if it only means {then!r}, add it to"
                             " that theme's terms instead")
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


def load_exclusions(vocabulary: pd.DataFrame, path: str | Path | None = None) -> list[Exclusion]:
    """Read the maintainers' rules "a term does not count inside this longer word", refusing a rule that could
    never apply: an unknown code, a term not among the code's terms, a phrase without the term, a repeat."""
    path = Path(path or EXCLUSIONS_PATH)
    keys = {code: (kind, code) for kind, code in zip(vocabulary["kind"], vocabulary["code"])}
    terms = dict(zip(vocabulary["code"], vocabulary["terms"]))
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


def find_runs(forms: tuple[str, ...], index: dict[str, list]) -> list[tuple[int, int, object]]:
    """Where the indexed form runs occur in `forms`: (start, end, what the index gives for the run)."""
    runs = []
    for i, form in enumerate(forms):
        for run, value in index.get(form, ()):
            if forms[i : i + len(run)] == run:
                runs.append((i, i + len(run), value))
    return runs


def index_runs(items: Iterable[tuple[str, object]]) -> dict[str, dict[str, list]]:
    """Per mode, first normalized form -> [(forms, value)] for each (text, value), so text is scanned once."""
    index: dict[str, dict[str, list]] = {mode: {} for mode in MODES}
    for text, value in items:
        for mode in MODES:
            forms = tokenize_term(text, mode)
            if forms:
                index[mode].setdefault(forms[0], []).append((forms, value))
    return index


@lru_cache(maxsize=1)
def get_variant_pattern() -> tuple[re.Pattern, dict[str, str]]:
    """Load the spelling variants once; longest first, so a variant inside a longer one never cuts it."""
    variants = load_spelling_variants()
    # "(?!)" never matches: with no variants listed, text is left as it is.
    return re.compile("|".join(map(re.escape, sorted(variants, key=len, reverse=True))) or "(?!)"), variants


def rewrite_variants(text: str) -> str:
    """Rewrite the spelling variants Sudachi does not unify into their canonical spelling."""
    pattern, variants = get_variant_pattern()
    return pattern.sub(lambda m: variants[m.group()], text)


def get_dictionary() -> Dictionary:
    """Load the Sudachi dictionary once per process, when some text is first tagged: it is large and
    thread-safe."""
    global _dictionary
    with _dictionary_lock:
        if _dictionary is None:
            from sudachipy import Dictionary

            _dictionary = Dictionary(dict="core")
    return _dictionary


def get_tokenizer(mode: str) -> Tokenizer:
    """Return this thread's tokenizer for `mode`: tokenizers must not be shared across threads."""
    tokenizers = getattr(_local, "tokenizers", None)
    if tokenizers is None:
        tokenizers = _local.tokenizers = {m: get_dictionary().tokenizer(m) for m in MODES}
    return tokenizers[mode]


def split_for_sudachi(text: str) -> list[str]:
    """Cut text into sentences short enough for Sudachi's input limit."""
    pieces = []
    for sentence in SENTENCE_BREAK.split(rewrite_variants(text)):
        if not sentence.strip():
            continue
        if len(sentence.encode("utf-8")) <= MAX_INPUT_BYTES:
            pieces.append(sentence)
        else:
            pieces.extend(sentence[i : i + MAX_CHUNK_CHARS] for i in range(0, len(sentence), MAX_CHUNK_CHARS))
    return pieces


def read_form(morpheme) -> str:
    """Return the normalized form, but keep lowercase English words (Sudachi maps "it" to "IT")."""
    form = morpheme.normalized_form()
    if form.isascii() and form.isupper():
        surface = morpheme.surface()
        if surface.isascii() and surface.islower():
            return surface
    return form


def tokenize_forms(text: str, mode: str) -> list[tuple[str, ...]]:
    """Tokenize text into one tuple of normalized forms per sentence, whitespace dropped."""
    tokenizer = get_tokenizer(mode)
    return [
        tuple(form for form in map(read_form, tokenizer.tokenize(piece)) if not form.isspace())
        for piece in split_for_sudachi(text)
    ]


@lru_cache(maxsize=4096)
def tokenize_term(term: str, mode: str) -> tuple[str, ...]:
    """Tokenize a vocabulary term the same way as text, cached since terms repeat."""
    return tuple(form for sentence in tokenize_forms(term, mode) for form in sentence)


class Tagger:
    """Match vocabulary terms in text and add the themes they imply; build once and reuse."""

    def __init__(
        self,
        vocabulary: pd.DataFrame | None = None,
        implications: list[Implication] | None = None,
        exclusions: list[Exclusion] | None = None,
    ) -> None:
        self.vocabulary = load_vocabulary() if vocabulary is None else vocabulary
        self.implications = load_implied_themes(self.vocabulary) if implications is None else implications
        self.exclusions = load_exclusions(self.vocabulary) if exclusions is None else exclusions
        self.labels = dict(zip(zip(self.vocabulary["kind"], self.vocabulary["code"]), self.vocabulary["label_ja"]))
        # Both indexes give ((kind, code), term): the term a run is, or the term an exclusion phrase masks.
        self.index = index_runs(
            (term, ((row.kind, row.code), term)) for row in self.vocabulary.itertuples(index=False) for term in row.terms
        )
        self.exclusion_index = index_runs((rule.phrase, (rule.key, rule.term)) for rule in self.exclusions)

    def match(self, text: str | None) -> Match:
        """Return (kind, code) -> sorted unique vocabulary terms found in `text`; a term inside an exclusion
        phrase listed for it does not count there, though it still counts elsewhere in the text."""
        found: dict[tuple[str, str], set[str]] = {}
        if not text:
            return {}
        for mode in MODES:
            for forms in tokenize_forms(text, mode):
                masks = find_runs(forms, self.exclusion_index[mode])
                for start, end, (key, term) in find_runs(forms, self.index[mode]):
                    if not any(s <= start and end <= e and masked == (key, term) for s, e, masked in masks):
                        found.setdefault(key, set()).add(term)
        return {key: sorted(terms) for key, terms in sorted(found.items())}

    def imply(self, match: Match) -> Match:
        """Add the themes the rules draw from `match`, each with its `implied by …` evidence; rules apply until
        none adds anything, so an implied theme may trigger another rule."""
        found = {key: set(terms) for key, terms in match.items()}
        added = True
        while added:
            added = False
            for rule in self.implications:
                if rule.fires(found) and rule.evidence not in found.get(rule.then, ()):
                    found.setdefault(rule.then, set()).add(rule.evidence)
                    added = True
        return {key: sorted(terms) for key, terms in sorted(found.items())}

    def tag(self, text: str | None) -> Match:
        """The tags of `text` alone: its matches and the themes they imply."""
        return self.imply(self.match(text))


def merge_matches(*matches: Match) -> Match:
    """Union matches so a parent carries its own and its children's evidence."""
    merged: dict[tuple[str, str], set[str]] = {}
    for match in matches:
        for key, terms in match.items():
            merged.setdefault(key, set()).update(terms)
    return {key: sorted(terms) for key, terms in sorted(merged.items())}


def join_text(*parts) -> str:
    """Join the non-missing text fields of a row, one per line."""
    return "\n".join(str(p) for p in parts if not is_missing(p))


def is_missing(value) -> bool:
    """None, or a table's missing marker (NaN, pd.NA); text is never missing, so a row read from a segment record
    is tagged without pandas."""
    if value is None:
        return True
    if isinstance(value, str):
        return False
    import pandas as pd

    return pd.isna(value)


def roll_up(
    tagger: Tagger,
    plans: Iterable[tuple[object, str]],
    pillars: Iterable[tuple[object, int, str]],
    projects: Iterable[tuple[object, int, str]],
) -> tuple[list[Match], list[Match], list[Match]]:
    """Tag each level and roll children's tags up: a pillar carries its projects' tags, a plan its pillars'.
    Each level's own tags include the themes its text implies, so implied tags roll up like matched ones (a rule
    has one trigger, so implying again after the merge would add nothing). Rows are (plan, text), (plan,
    pillar_no, text) and (plan, pillar_no, text), where `plan` tells the plans apart (a plan id, a plan's place
    in its file); returns the tags of the plans, pillars and projects, in order."""
    plans, pillars, projects = list(plans), list(pillars), list(projects)
    project_matches = [tagger.tag(text) for _, _, text in projects]
    by_pillar: dict[tuple, list[Match]] = {}
    for (plan, pillar_no, _), match in zip(projects, project_matches):
        by_pillar.setdefault((plan, pillar_no), []).append(match)
    pillar_matches = [merge_matches(tagger.tag(text), *by_pillar.get((plan, pillar_no), []))
                      for plan, pillar_no, text in pillars]
    by_plan: dict[object, list[Match]] = {}
    for (plan, _, _), match in zip(pillars, pillar_matches):
        by_plan.setdefault(plan, []).append(match)
    plan_matches = [merge_matches(tagger.tag(text), *by_plan.get(plan, [])) for plan, text in plans]
    return plan_matches, pillar_matches, project_matches


def tag_list(match: Match, labels: dict[tuple[str, str], str]) -> list[list]:
    """A row's matches as [kind, code, label_ja, terms] items sorted by kind and code: what a row's tags rows
    hold, and the form a file's rows are cached in."""
    return [[kind, code, labels[(kind, code)], terms] for (kind, code), terms in sorted(match.items())]


def codes(tags: list[list], kind: str) -> list[str]:
    """The sorted codes of one kind in a row's tag list: its `themes` or `instruments`."""
    return sorted(code for k, code, *_ in tags if k == kind)


def key_values(table: pd.DataFrame, key: list[str]) -> list[tuple]:
    """Each row's values of the `key` columns, in table order."""
    return list(zip(*(table[name].tolist() for name in key)))


def set_code_columns(table: pd.DataFrame, key: list[str], tags_of: dict[tuple, list[list]]) -> pd.DataFrame:
    """Return a copy of `table` with sorted `themes` and `instruments` code lists, each row's from the tag list
    `tags_of` holds under the row's key (its values of the `key` columns): joined by key, not by place, so that
    no sort of the rows can give a row another's tags. A row without a tag list, or a tag list without its row,
    raises."""
    table = table.copy()
    keys = key_values(table, key)
    if len(set(keys)) != len(keys) or set(keys) != tags_of.keys():
        raise ValueError(f"the rows' keys ({', '.join(key)}) are not those of the tag lists, one each")
    for kind, column in CODE_COLUMNS.items():
        table[column] = [codes(tags_of[at], kind) for at in keys]
    return table


def tags_frame(rows: list[tuple]) -> pd.DataFrame:
    """The tags table from (level, plan_id, pillar_no, project_no, kind, code, label_ja, terms) rows, sorted by
    plan, pillar, project, kind and code: a plan's own tags first, each pillar's before its projects'."""
    import pandas as pd

    from pipeline.core.schema import TABLES

    tags = pd.DataFrame(rows, columns=TABLES["tags"][0])
    tags["pillar_no"] = tags["pillar_no"].astype("Int64")
    tags["project_no"] = tags["project_no"].astype("Int64")
    return tags.sort_values(
        ["plan_id", "pillar_no", "project_no", "kind", "code"], na_position="first", kind="stable"
    ).reset_index(drop=True)


def tag_rows(level: str, plan_id: str, pillar_no: int | None, project_no: int | None, tags: list[list]) -> list[tuple]:
    """The tags rows of one plan, pillar or project, from its tag list."""
    return [(level, plan_id, pillar_no, project_no, kind, code, label, terms) for kind, code, label, terms in tags]


def tag_tables(
    plans: pd.DataFrame, pillars: pd.DataFrame, projects: pd.DataFrame, tagger: Tagger
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Tag each level and roll children's tags up to pillars and plans; inputs are not modified."""
    matches = roll_up(
        tagger,
        [(row.plan_id, join_text(row.plan_title, row.summary)) for row in plans.itertuples(index=False)],
        [(row.plan_id, row.pillar_no, join_text(row.pillar_title)) for row in pillars.itertuples(index=False)],
        [(row.plan_id, row.pillar_no, join_text(row.project_name, row.project_detail))
         for row in projects.itertuples(index=False)],
    )
    plan_tags, pillar_tags, project_tags = ([tag_list(m, tagger.labels) for m in level] for level in matches)
    rows = []
    for row, tags in zip(plans.itertuples(index=False), plan_tags):
        rows += tag_rows("plan", row.plan_id, None, None, tags)
    for row, tags in zip(pillars.itertuples(index=False), pillar_tags):
        rows += tag_rows("pillar", row.plan_id, row.pillar_no, None, tags)
    for row, tags in zip(projects.itertuples(index=False), project_tags):
        rows += tag_rows("project", row.plan_id, row.pillar_no, row.project_no, tags)
    keys = (["plan_id"], ["plan_id", "pillar_no"], ["plan_id", "pillar_no", "project_no"])  # of each level's table
    tagged = [set_code_columns(table, key, dict(zip(key_values(table, key), level_tags)))
              for table, key, level_tags in zip((plans, pillars, projects), keys, (plan_tags, pillar_tags, project_tags))]
    return (*tagged, tags_frame(rows))
