"""Sudachi normalized forms of text and of vocabulary terms, and where runs of them occur: what the tagger
matches on. SudachiPy and its dictionary are loaded when some text is first tokenized, once per process."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from pipeline.tagging.vocabulary import load_spelling_variants

if TYPE_CHECKING:
    from sudachipy import Dictionary, Tokenizer


# Split modes by name: SplitMode objects are not hashable.
MODES = ("C", "A")
# Sudachi refuses longer inputs; 4 bytes is the widest UTF-8 character.
MAX_INPUT_BYTES = 49_149
MAX_CHUNK_CHARS = MAX_INPUT_BYTES // 4
SENTENCE_BREAK = re.compile(r"[\n。]")

_dictionary: Dictionary | None = None
_dictionary_lock = threading.Lock()
_local = threading.local()


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


def split_for_sudachi(text: str) -> list[tuple[int, str]]:
    """Cut text into sentences short enough for Sudachi's input limit, each with where it starts in `text`."""
    pieces = []
    start = 0
    for end in [m.start() for m in SENTENCE_BREAK.finditer(text)] + [len(text)]:
        sentence, at, start = text[start:end], start, end + 1
        if not sentence.strip():
            continue
        if len(sentence.encode("utf-8")) <= MAX_INPUT_BYTES:
            pieces.append((at, sentence))
        else:
            pieces.extend((at + i, sentence[i : i + MAX_CHUNK_CHARS]) for i in range(0, len(sentence), MAX_CHUNK_CHARS))
    return pieces


def read_form(morpheme) -> str:
    """Return the normalized form, but keep lowercase English words (Sudachi maps "it" to "IT")."""
    form = morpheme.normalized_form()
    if form.isascii() and form.isupper():
        surface = morpheme.surface()
        if surface.isascii() and surface.islower():
            return surface
    return form


def tokenize_spans(text: str, mode: str) -> list[tuple[tuple[str, ...], tuple[tuple[int, int], ...]]]:
    """Tokenize text whose spelling variants are rewritten already into, per sentence, its normalized forms and
    where each lies in `text` (start, end), whitespace dropped: the tagger reads a pattern's match by its place."""
    tokenizer = get_tokenizer(mode)
    sentences = []
    for at, piece in split_for_sudachi(text):
        kept = [(read_form(m), (at + m.begin(), at + m.end())) for m in tokenizer.tokenize(piece)]
        kept = [(form, span) for form, span in kept if not form.isspace()]
        sentences.append((tuple(form for form, _ in kept), tuple(span for _, span in kept)))
    return sentences


def tokenize_forms(text: str, mode: str) -> list[tuple[str, ...]]:
    """Tokenize text into one tuple of normalized forms per sentence, spelling variants rewritten."""
    return [forms for forms, _ in tokenize_spans(rewrite_variants(text), mode)]


@lru_cache(maxsize=4096)
def tokenize_term(term: str, mode: str) -> tuple[str, ...]:
    """Tokenize a vocabulary term the same way as text, cached since terms repeat."""
    return tuple(form for sentence in tokenize_forms(term, mode) for form in sentence)
