"""Tag plans, pillars and projects with policy themes and instruments.

Terms from ``data/vocabulary.csv`` are matched on Sudachi normalized forms, as
contiguous runs of whole morphemes, in both split modes C and A: spelling
variants (ｽﾀｰﾄｱｯﾌﾟ, ＩｏＴ, もの作り) then match, compounds and their parts
both match, and a term never matches inside an unrelated word.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from pathlib import Path

import pandas as pd
from sudachipy import Dictionary, Tokenizer

from pipeline.schema import TABLES

VOCABULARY_PATH = Path(__file__).parent / "data" / "vocabulary.csv"
KINDS = ("theme", "instrument")
# Split modes by name: SplitMode objects are not hashable.
MODES = ("C", "A")
# Sudachi refuses longer inputs; 4 bytes is the widest UTF-8 character.
MAX_INPUT_BYTES = 49_149
MAX_CHUNK_CHARS = MAX_INPUT_BYTES // 4
# Spelling pairs Sudachi does not unify: rewritten before tokenizing.
VARIANTS = {"事業継承": "事業承継", "空店舗": "空き店舗"}
VARIANT_PATTERN = re.compile("|".join(map(re.escape, VARIANTS)))
SENTENCE_BREAK = re.compile(r"[\n。]")
CODE_COLUMNS = {"theme": "themes", "instrument": "instruments"}

_dictionary: Dictionary | None = None
_dictionary_lock = threading.Lock()
_local = threading.local()


def load_vocabulary(path: str | Path | None = None) -> pd.DataFrame:
    """Read the maintainers' vocabulary CSV, with `terms` split into a list."""
    vocabulary = pd.read_csv(path or VOCABULARY_PATH, dtype=str, keep_default_na=False)
    vocabulary["terms"] = [[t.strip() for t in s.split("|") if t.strip()] for s in vocabulary["terms"]]
    unknown = set(vocabulary["kind"]) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown vocabulary kind(s): {sorted(unknown)}")
    if vocabulary["code"].duplicated().any():
        raise ValueError("vocabulary codes must be unique")
    return vocabulary[["code", "kind", "label_ja", "label_en", "terms"]]


def get_dictionary() -> Dictionary:
    """Load the Sudachi dictionary once per process: it is large and thread-safe."""
    global _dictionary
    with _dictionary_lock:
        if _dictionary is None:
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
    for sentence in SENTENCE_BREAK.split(VARIANT_PATTERN.sub(lambda m: VARIANTS[m.group()], text)):
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
    """Match vocabulary terms in text; build once and reuse."""

    def __init__(self, vocabulary: pd.DataFrame | None = None) -> None:
        self.vocabulary = load_vocabulary() if vocabulary is None else vocabulary
        # Per mode: first normalized form -> [(forms, (kind, code), term)], to scan text once.
        self.index: dict[str, dict[str, list]] = {mode: {} for mode in MODES}
        for row in self.vocabulary.itertuples(index=False):
            for term in row.terms:
                for mode in MODES:
                    forms = tokenize_term(term, mode)
                    if forms:
                        self.index[mode].setdefault(forms[0], []).append((forms, (row.kind, row.code), term))

    def match(self, text: str | None) -> dict[tuple[str, str], list[str]]:
        """Return (kind, code) -> sorted unique vocabulary terms found in `text`."""
        found: dict[tuple[str, str], set[str]] = {}
        if not text:
            return {}
        for mode in MODES:
            index = self.index[mode]
            for forms in tokenize_forms(text, mode):
                for i, form in enumerate(forms):
                    for term_forms, key, term in index.get(form, ()):
                        if forms[i : i + len(term_forms)] == term_forms:
                            found.setdefault(key, set()).add(term)
        return {key: sorted(terms) for key, terms in sorted(found.items())}


def merge_matches(*matches: dict[tuple[str, str], list[str]]) -> dict[tuple[str, str], list[str]]:
    """Union matches so a parent carries its own and its children's evidence."""
    merged: dict[tuple[str, str], set[str]] = {}
    for match in matches:
        for key, terms in match.items():
            merged.setdefault(key, set()).update(terms)
    return {key: sorted(terms) for key, terms in sorted(merged.items())}


def join_text(*parts) -> str:
    """Join the non-missing text fields of a row, one per line."""
    return "\n".join(str(p) for p in parts if p is not None and not pd.isna(p))


def set_code_columns(table: pd.DataFrame, matches: list[dict]) -> pd.DataFrame:
    """Return a copy of `table` with sorted `themes` and `instruments` code lists."""
    table = table.copy()
    for kind, column in CODE_COLUMNS.items():
        table[column] = [sorted(code for k, code in match if k == kind) for match in matches]
    return table


def tag_tables(
    plans: pd.DataFrame, pillars: pd.DataFrame, projects: pd.DataFrame, tagger: Tagger
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Tag each level and roll children's tags up to pillars and plans; inputs are not modified."""
    project_matches = [
        tagger.match(join_text(row.project_name, row.project_detail)) for row in projects.itertuples(index=False)
    ]
    by_pillar: dict[tuple, list[dict]] = {}
    for row, match in zip(projects.itertuples(index=False), project_matches):
        by_pillar.setdefault((row.plan_id, row.pillar_no), []).append(match)

    pillar_matches = [
        merge_matches(tagger.match(join_text(row.pillar_title)), *by_pillar.get((row.plan_id, row.pillar_no), []))
        for row in pillars.itertuples(index=False)
    ]
    by_plan: dict[object, list[dict]] = {}
    for row, match in zip(pillars.itertuples(index=False), pillar_matches):
        by_plan.setdefault(row.plan_id, []).append(match)

    plan_matches = [
        merge_matches(tagger.match(join_text(row.plan_title, row.summary)), *by_plan.get(row.plan_id, []))
        for row in plans.itertuples(index=False)
    ]

    labels = dict(zip(zip(tagger.vocabulary["kind"], tagger.vocabulary["code"]), tagger.vocabulary["label_ja"]))
    rows = []
    levels = [
        ("plan", plans, plan_matches, lambda r: (None, None)),
        ("pillar", pillars, pillar_matches, lambda r: (r.pillar_no, None)),
        ("project", projects, project_matches, lambda r: (r.pillar_no, r.project_no)),
    ]
    for level, table, matches, numbers in levels:
        for row, match in zip(table.itertuples(index=False), matches):
            pillar_no, project_no = numbers(row)
            for (kind, code), terms in match.items():
                rows.append((level, row.plan_id, pillar_no, project_no, kind, code, labels[(kind, code)], terms))
    tags = pd.DataFrame(rows, columns=TABLES["tags"][0])
    tags["pillar_no"] = tags["pillar_no"].astype("Int64")
    tags["project_no"] = tags["project_no"].astype("Int64")
    tags = tags.sort_values(
        ["plan_id", "pillar_no", "project_no", "kind", "code"], na_position="first", kind="stable"
    ).reset_index(drop=True)

    return (
        set_code_columns(plans, plan_matches),
        set_code_columns(pillars, pillar_matches),
        set_code_columns(projects, project_matches),
        tags,
    )
