"""Canonical text and character classes: the one place every stage reads text rules from.

Extract decides where a space goes between two characters, segment matches structure on canonical
text, normalize writes it to the tables: all three must agree on what Japanese script is and on how
printed variants fold, so the rules live here and nowhere else.
"""

from __future__ import annotations

import re
import unicodedata

from pipeline.radicals import RADICAL_SUPPLEMENT

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

_FOLD = str.maketrans(
    {**RADICAL_SUPPLEMENT, **{t: CANONICAL_TILDE for t in TILDES}, **{d: CANONICAL_DASH for d in DASHES}}
)
# Full-width ASCII letters and digits, half-width katakana and Kangxi radicals: NFKC is right for these,
# but not for the full-width brackets and punctuation the documents print, which stay as printed.
_NFKC_RE = re.compile(r"[０-９Ａ-Ｚａ-ｚ\uff61-\uff9f\u2f00-\u2fd5]+")
_RADICALS = str.maketrans(RADICAL_SUPPLEMENT)
_KANGXI_RE = re.compile(r"[\u2f00-\u2fd5]+")
# Three or more single Japanese characters separated by spaces: a letter-spaced heading (事 業 承 継).
_LETTER_SPACED_RE = re.compile(rf"(?<!\S){CJK_CLASS}(?: {CJK_CLASS}){{2,}}(?!\S)")
_UNMAPPED_RE = re.compile(r"\(cid:\d+\)|\ufffd")


def is_cjk(ch: str) -> bool:
    """Whether a character belongs to Japanese script, where words are not separated by spaces."""
    o = ord(ch)
    return any(a <= o <= b for a, b in CJK_RANGES)


def is_unmapped(text: str) -> bool:
    """Whether text holds a glyph the PDF gave no Unicode for: pdfminer's (cid:N) or U+FFFD."""
    return bool(_UNMAPPED_RE.search(text))


def normalize_text(text: str | None) -> str | None:
    """Canonical form of printed text: unified ideographs, half-width letters and digits, one tilde, one dash,
    letter-spaced Japanese closed up, other runs of spaces as one space."""
    if text is None:
        return None
    text = text.translate(_FOLD)
    text = _NFKC_RE.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    text = re.sub(r"[ \u3000\t]+", " ", text).strip()
    return _LETTER_SPACED_RE.sub(lambda m: m.group().replace(" ", ""), text)


def fold_radicals(text: str | None) -> str | None:
    """Only radicals to ideographs, for text kept as printed (period_text): they are encoding artefacts."""
    if text is None:
        return None
    text = text.translate(_RADICALS)
    return _KANGXI_RE.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text).strip()
