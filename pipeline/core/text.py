"""Canonical text and character classes: the one place every stage reads text rules from.

Extract decides where a space goes between two characters, segment matches structure on canonical
text, normalize writes it to the tables: all three must agree on what Japanese script is and on how
printed variants fold, so the rules live here and nowhere else.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pipeline.core.radicals import radical_supplement

# Japanese script, where words are not separated by spaces: punctuation and kana, CJK radicals, ideographs
# (with the compatibility block and the supplementary planes), full-width and half-width forms.
CJK_RANGES = (
    (0x2E80, 0x2FDF),
    (0x3000, 0x30FF),
    (0x3400, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFF00, 0xFFEF),
    (0x20000, 0x3FFFF),
)
CJK_CLASS = "[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in CJK_RANGES) + "]"

TILDES = "～〜~˜∼⁓"
CANONICAL_TILDE = "～"
DASHES = "－−‐‑‒–—―﹣"
CANONICAL_DASH = "-"
OPEN_PARENS, CLOSE_PARENS = "（(", "）)"

# Full-width ASCII letters and digits, half-width katakana and Kangxi radicals: NFKC is right for these,
# but not for the full-width brackets and punctuation the documents print, which stay as printed.
_NFKC_RE = re.compile(r"[０-９Ａ-Ｚａ-ｚ\uff61-\uff9f\u2f00-\u2fd5]+")
_KANGXI_RE = re.compile(r"[\u2f00-\u2fd5]+")
# Three or more single Japanese characters separated by spaces: a letter-spaced heading (事 業 承 継).
_LETTER_SPACED_RE = re.compile(rf"(?<!\S){CJK_CLASS}(?: {CJK_CLASS}){{2,}}(?!\S)")
_UNMAPPED_RE = re.compile(r"\(cid:\d+\)|\ufffd")
# Latin-1 Supplement characters real summaries print: × and ÷ in names (Tech×Future), ° and ± in figures,
# the middle dot and the yen sign of a Western font, a word processor's no-break space. Every other character
# of the block (µ¶¸É…) is what a reader makes of a font without a Unicode map, its codes taken as Latin-1.
PRINTED_LATIN1 = "×÷°±·¥\u00a0"
_UNPRINTED_LATIN1 = "".join(chr(c) for c in range(0xA0, 0x100) if chr(c) not in PRINTED_LATIN1)
# Unmapped glyphs, C0 and C1 control characters (and DEL), and the Latin-1 Supplement but what summaries print.
_UNREADABLE_RE = re.compile(rf"{_UNMAPPED_RE.pattern}|[\x00-\x1f\x7f-\x9f{_UNPRINTED_LATIN1}]")
# Kanji and kana, the script of Japanese place names: ideographs with 々, hiragana, katakana with ー and ヶ.
KANJI_KANA_CLASS = (
    "[\u3005\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30fe\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]"
)


@lru_cache(maxsize=1)
def fold_table() -> dict[int, str]:
    """What normalize_text folds character by character: radicals to ideographs, every tilde and dash to one."""
    return str.maketrans(
        {**radical_supplement(), **{t: CANONICAL_TILDE for t in TILDES}, **{d: CANONICAL_DASH for d in DASHES}}
    )


@lru_cache(maxsize=1)
def radicals_table() -> dict[int, str]:
    """Radicals to ideographs alone (fold_radicals)."""
    return str.maketrans(radical_supplement())


def is_cjk(ch: str) -> bool:
    """Whether a character belongs to Japanese script, where words are not separated by spaces."""
    o = ord(ch)
    return any(a <= o <= b for a, b in CJK_RANGES)


def is_unmapped(text: str) -> bool:
    """Whether text holds a glyph the PDF gave no Unicode for: pdfminer's (cid:N) or U+FFFD."""
    return bool(_UNMAPPED_RE.search(text))


def unreadable_character(text: str) -> str | None:
    """The first piece of text no font with a Unicode map prints: a (cid:N), U+FFFD, a control character or a
    Latin-1 letter or symbol summaries do not print; None when all of it reads."""
    m = _UNREADABLE_RE.search(text)
    return m.group() if m else None


def normalize_text(text: str | None) -> str | None:
    """Canonical form of printed text: unified ideographs, half-width letters and digits, one tilde, one dash,
    letter-spaced Japanese closed up, other runs of spaces as one space."""
    if text is None:
        return None
    text = text.translate(fold_table())
    text = _NFKC_RE.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    text = re.sub(r"[ \u3000\t]+", " ", text).strip()
    return _LETTER_SPACED_RE.sub(lambda m: m.group().replace(" ", ""), text)


def fold_radicals(text: str | None) -> str | None:
    """Only radicals to ideographs, for text kept as printed (period_text): they are encoding artefacts."""
    if text is None:
        return None
    text = text.translate(radicals_table())
    return _KANGXI_RE.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text).strip()


def split_name_detail(item: str) -> tuple[str, str | None]:
    """Name before the item's final parenthesised group, and that group's content (None without one).
    A leading group such as (仮称) stays in the name."""
    if not item or item[-1] not in CLOSE_PARENS:
        return item, None
    depth = 0
    for i in range(len(item) - 1, -1, -1):
        ch = item[i]
        if ch in CLOSE_PARENS:
            depth += 1
        elif ch in OPEN_PARENS:
            depth -= 1
            if depth == 0:
                name = item[:i].strip()
                return (name, item[i + 1 : -1].strip()) if name else (item, None)
    return item, None


# A cell starting with one of these runs as a formula when a spreadsheet opens the CSV.
FORMULA_PREFIXES = ("=", "+", "-", "@")


def csv_cell(value: str) -> str:
    """Quote a leading formula character with an apostrophe, as spreadsheets expect for literal text. Text that
    already starts with apostrophes before such a character gets one more, so that removing one apostrophe
    before a formula character always gives the text back (csv_text)."""
    return "'" + value if value.lstrip("'").startswith(FORMULA_PREFIXES) else value


def csv_text(cell: str) -> str:
    """The text of a cell csv_cell wrote: one apostrophe before a formula character taken off."""
    return cell[1:] if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_PREFIXES) else cell
