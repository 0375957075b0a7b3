"""CJK Radicals Supplement code points folded to the unified ideographs they stand for.

When a font draws a radical and an ideograph with one glyph, Word and PowerPoint may write the radical's code
point in the PDF's ToUnicode map (⻘ for 青). Unicode's Equivalent_Unified_Ideograph property, read from the
bundled UCD file, names the ideograph; OVERRIDES holds the few where Japanese fonts show another one. The
Kangxi Radicals block is left out: NFKC folds it to the same ideographs.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

UNICODE_FILE = "data/EquivalentUnifiedIdeograph-14.0.0.txt"
SUPPLEMENT = range(0x2E80, 0x2F00)

# Radicals that Japanese fonts draw with the glyph of another ideograph than Unicode's equivalent: Adobe-Japan1
# and JIS X 0213 give the radical and that ideograph one glyph, so a printed ideograph comes out as the radical,
# and Unicode's equivalent would be a character the reader never saw.
OVERRIDES = {
    "\u2e97": "\u38fa",  # ⺗ HEART TWO is the 㣺 glyph (したごころ); Unicode's 心 looks different
    "\u2eab": "\u7f52",  # ⺫ EYE is the 罒 glyph, shared with ⺲ NET TWO; Unicode's 目 looks different
    "\u2eb3": "\U0002626a",  # ⺳ NET THREE is the 𦉪 glyph; Unicode's 㓁 has a glyph of its own
    "\u2ecf": "\u961d",  # ⻏ CITY is the 阝 glyph, shared with ⻖ MOUND TWO; Unicode's 邑 looks different
}


def read_equivalents() -> dict[str, str]:
    """Supplement radical → ideograph as the Unicode file maps them, ranges expanded."""
    text = resources.files("pipeline").joinpath(UNICODE_FILE).read_text(encoding="utf-8")
    equivalents = {}
    for line in text.splitlines():
        fields = line.partition("#")[0].split(";")
        if len(fields) != 2:
            continue
        first, _, last = fields[0].strip().partition("..")
        for code in range(int(first, 16), int(last or first, 16) + 1):
            if code in SUPPLEMENT:
                equivalents[chr(code)] = chr(int(fields[1], 16))
    return equivalents


@lru_cache(maxsize=1)
def radical_supplement() -> dict[str, str]:
    """Supplement radical → the ideograph a reader saw: Unicode's equivalents, then OVERRIDES; read once, when text
    is first folded, not when the module is imported."""
    return read_equivalents() | OVERRIDES
