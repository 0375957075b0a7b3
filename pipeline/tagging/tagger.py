"""Tag plans, pillars and projects with policy themes and instruments.

Terms from ``data/vocabulary.csv`` are matched on Sudachi normalized forms, as
contiguous runs of whole morphemes, in both split modes C and A: spelling
variants (ｽﾀｰﾄｱｯﾌﾟ, ＩｏＴ, もの作り) then match, compounds and their parts
both match, and a term never matches inside an unrelated word. Spelling pairs Sudachi does
not unify (事業継承 for 事業承継) are rewritten first, from ``data/spelling_variants.csv``. Then the rules of
``data/implied_themes.csv`` add the themes a matched code or term implies (a stand at a trade fair, 出展, is about
sales), with ``implied by …`` as their evidence. A term found inside a longer word or phrase listed for it in
``data/exclusions.csv`` (派遣 in 人材派遣) does not count. A code's term found inside a match of a pattern of
``data/false_friends.csv`` does not tag that code (創業 in 創業100年), and inside one of ``data/context_rules.csv``
tags the code the rule names instead (マッチング of successors is succession), its evidence ``term in match``.

A plan's tags are its own text's and its pillars', a pillar's its own and its projects': all within one file, so
a file's tags can be made from its segment record alone and cached (pipeline.normalize.file_rows). SudachiPy and
its dictionary are loaded only when some text is tagged, pandas only where a table is built. The files are read
and checked in pipeline.tagging.vocabulary, text made into Sudachi forms in pipeline.tagging.tokens.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pipeline.tagging.tokens import MODES, find_runs, index_runs, rewrite_variants, tokenize_spans
from pipeline.tagging.vocabulary import (
    Exclusion,
    Implication,
    Reading,
    load_context_rules,
    load_exclusions,
    load_false_friends,
    load_implied_themes,
    read_vocabulary,
)

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.tagging.vocabulary import Columns

CODE_COLUMNS = {"theme": "themes", "instrument": "instruments"}
# What a text matched: (kind, code) -> the vocabulary terms found, sorted.
Match = dict[tuple[str, str], list[str]]


class Tagger:
    """Match vocabulary terms in text and add the themes they imply; build once and reuse."""

    def __init__(
        self,
        vocabulary: Columns | None = None,
        implications: list[Implication] | None = None,
        exclusions: list[Exclusion] | None = None,
        readings: list[Reading] | None = None,
    ) -> None:
        self.vocabulary = read_vocabulary() if vocabulary is None else vocabulary
        self.implications = load_implied_themes(self.vocabulary) if implications is None else implications
        self.exclusions = load_exclusions(self.vocabulary) if exclusions is None else exclusions
        if readings is None:
            readings = load_false_friends(self.vocabulary) + load_context_rules(self.vocabulary)
        # A code's rules, matched against a text only once one of the code's terms is found in it: most texts touch
        # few codes, and the rules' patterns are half the time of tagging when all are run on every text.
        self.readings_by_key: dict[tuple[str, str], list[Reading]] = {}
        for rule in readings:
            self.readings_by_key.setdefault(rule.key, []).append(rule)
        self.labels = dict(
            zip(
                zip(self.vocabulary["kind"], self.vocabulary["code"], strict=True),
                self.vocabulary["label_ja"],
                strict=True,
            )
        )
        # Both indexes give ((kind, code), term): the term a run is, or the term an exclusion phrase masks.
        self.index = index_runs(
            (term, ((kind, code), term))
            for kind, code, terms in zip(
                self.vocabulary["kind"], self.vocabulary["code"], self.vocabulary["terms"], strict=True
            )
            for term in terms
        )
        self.exclusion_index = index_runs((rule.phrase, (rule.key, rule.term)) for rule in self.exclusions)

    def match(self, text: str | None) -> Match:
        """Return (kind, code) -> sorted unique vocabulary terms found in `text`; a term inside an exclusion
        phrase listed for it does not count there, though it still counts elsewhere in the text, and a term inside
        a reading's match counts as the reading says (read)."""
        found: dict[tuple[str, str], set[str]] = {}
        if not text:
            return {}
        text = rewrite_variants(text)
        matches: dict[tuple[str, str], list[tuple[int, int, str, Reading]]] = {}  # by code, found on its first term
        for mode in MODES:
            for forms, spans in tokenize_spans(text, mode):
                masks = find_runs(forms, self.exclusion_index[mode])
                for start, end, (key, term) in find_runs(forms, self.index[mode]):
                    if not any(s <= start and end <= e and masked == (key, term) for s, e, masked in masks):
                        if key not in matches:
                            matches[key] = self.find_readings(key, text)
                        for at, evidence in read(key, term, (spans[start][0], spans[end - 1][1]), matches[key]):
                            found.setdefault(at, set()).add(evidence)
        return {key: sorted(terms) for key, terms in sorted(found.items())}

    def find_readings(self, key: tuple[str, str], text: str) -> list[tuple[int, int, str, Reading]]:
        """Where the rules for the code `key` match `text`, as (start, end, the match's text, rule); a match's text
        is evidence, so across lines (a project's name and detail) it reads "name / detail"."""
        return [
            (m.start(), m.end(), m.group().replace("\n", " / "), rule)
            for rule in self.readings_by_key.get(key, ())
            for m in rule.pattern.finditer(text)
        ]

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


def read(
    key: tuple[str, str], term: str, span: tuple[int, int], matches: list[tuple[int, int, str, Reading]]
) -> list[tuple[tuple[str, str], str]]:
    """What a term of `key` found at `span` of the text tags, as (kind, code) and evidence: `key` and the term
    itself, unless it lies inside a match (start, end, text, rule) of the rules for `key` (`matches`,
    Tagger.find_readings); then each such rule's `means` with evidence `term in match`, or nothing where the rules
    are false friends."""
    inside = [(found, rule) for start, end, found, rule in matches if start <= span[0] and span[1] <= end]
    if not inside:
        return [(key, term)]
    return [(rule.means, f"{term} in {found}") for found, rule in inside if rule.means]


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
    for (plan, pillar_no, _), match in zip(projects, project_matches, strict=True):
        by_pillar.setdefault((plan, pillar_no), []).append(match)
    pillar_matches = [
        merge_matches(tagger.tag(text), *by_pillar.get((plan, pillar_no), [])) for plan, pillar_no, text in pillars
    ]
    by_plan: dict[object, list[Match]] = {}
    for (plan, _, _), match in zip(pillars, pillar_matches, strict=True):
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
    return list(zip(*(table[name].tolist() for name in key), strict=True))


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
        [
            (row.plan_id, row.pillar_no, join_text(row.project_name, row.project_detail))
            for row in projects.itertuples(index=False)
        ],
    )
    plan_tags, pillar_tags, project_tags = ([tag_list(m, tagger.labels) for m in level] for level in matches)
    rows = []
    for row, tags in zip(plans.itertuples(index=False), plan_tags, strict=True):
        rows += tag_rows("plan", row.plan_id, None, None, tags)
    for row, tags in zip(pillars.itertuples(index=False), pillar_tags, strict=True):
        rows += tag_rows("pillar", row.plan_id, row.pillar_no, None, tags)
    for row, tags in zip(projects.itertuples(index=False), project_tags, strict=True):
        rows += tag_rows("project", row.plan_id, row.pillar_no, row.project_no, tags)
    keys = (["plan_id"], ["plan_id", "pillar_no"], ["plan_id", "pillar_no", "project_no"])  # of each level's table
    tagged = [
        set_code_columns(table, key, dict(zip(key_values(table, key), level_tags, strict=True)))
        for table, key, level_tags in zip(
            (plans, pillars, projects), keys, (plan_tags, pillar_tags, project_tags), strict=True
        )
    ]
    return (*tagged, tags_frame(rows))
