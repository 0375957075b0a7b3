"""Enumerators other than numbers: the markers a plan may number its pillars with instead of 1, (1), ①, read as the
kinds of series they may belong to, each with the item's ordinal in it (read_marker).

Japanese administrative writing numbers lists with 第1, katakana in 五十音 order (ア イ ウ) or in いろは order
(イ ロ ハ), kanji numerals (一、二、), Roman numerals (Ⅰ, II.) and Latin letters (A., (a)), bare or in brackets.
Any other character of a numbered series that Unicode encodes as one character (⑴, ㋐, ❶, ㈠, ⒜…) is read too,
its ordinal its code point: such series run in code point order, so the next item is the next code point, and a
kind no list here names is still found. Which kind a plan uses, and whether a marker heads a pillar at all, is
decided from the plan itself (headings.find_headings): the series must run in order through the plan.

Arabic numbers are not read here: headings.read_pillar_heading reads them, with the rules that tell a pillar
number from a date or a quantity in running text.
"""

from __future__ import annotations

import re
import string
import unicodedata
from typing import NamedTuple

# The orders of the kinds that are not numbers, in their own alphabet; an item's ordinal is its place, from 1.
KANJI_NUMERALS = tuple("一二三四五六七八九十") + tuple(f"十{d}" for d in "一二三四五六七八九") + ("二十",)
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
ORDERS: dict[str, tuple[str, ...]] = {
    "katakana": tuple("アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン"),
    "iroha": tuple("イロハニホヘトチリヌルヲワカヨタレソツネナラムウヰノオクヤマケフコエテアサキユメミシヱヒモセス"),
    "kanji": KANJI_NUMERALS,
    "roman": ROMAN,
    "roman_lower": tuple(r.lower() for r in ROMAN),
    "latin": tuple(string.ascii_uppercase),
    "latin_lower": tuple(string.ascii_lowercase),
}
# Roman numerals encoded as one character (Ⅰ, ⅱ), which the canonical text keeps as printed.
ROMAN_CHARACTERS = {chr(0x2160 + i): r for i, r in enumerate(ROMAN)} | {
    chr(0x2170 + i): r.lower() for i, r in enumerate(ROMAN)
}
CODE_POINT = "code point"  # the kind of a series read by code point (serial_character)

_OPEN, _CLOSE = "(（", ")）"
_SEPARATORS = ".．、:："
_TOKEN = r"[^\s()（）.．、:：]{1,4}"
# A marker and the title after it: 第 and a number; a token in brackets; a token and a separator; a token and a
# space. A token glued to its title is no marker (ア販路… is a word), but for a character of a numbered series.
MARKER_RE = re.compile(
    rf"^(?:第\s*(?P<dai>\d{{1,2}}|[一二三四五六七八九十]{{1,3}})(?:\s*[{_SEPARATORS}]|\s|$)"
    rf"|[{_OPEN}]\s*(?P<inner>{_TOKEN})\s*[{_CLOSE}]"
    rf"|(?P<bare>{_TOKEN}?)(?:\s*(?P<sep>[{_SEPARATORS}{_CLOSE}])|\s|$)"
    r"|.)"
    r"\s*(?P<title>.*)$"
)


class Marker(NamedTuple):
    """A line's leading marker read every way it can be: (kind, ordinal) pairs, the kind naming the series and the
    way it is printed (its shape: in brackets, with a separator, or before a space), so that one series is one
    style; and the title after it."""

    readings: tuple[tuple[str, int], ...]
    title: str


def read_marker(text: str) -> Marker | None:
    """The marker a line starts with and the title after it, or None when it starts with none (see MARKER_RE)."""
    m = MARKER_RE.match(text)
    if not m:
        return None
    title = m["title"].strip()
    if m["dai"] is not None:
        number = int(m["dai"]) if m["dai"].isdigit() else ordinal_in("kanji", m["dai"])
        return Marker((("第", number),), title) if number else None
    if m["inner"] is not None:
        return marked(m["inner"], "()", title)
    if m["bare"] and (marker := marked(m["bare"], m["sep"] or "space", title)):
        return marker
    if serial_character(text[0]):  # glued to its title (⑴販路…), or what looked like a bare token was one
        return Marker(((CODE_POINT, ord(text[0])),), text[1:].strip())
    return None


def marked(token: str, shape: str, title: str) -> Marker | None:
    """A token's readings in every series it may belong to, printed in `shape`."""
    token = ROMAN_CHARACTERS.get(token, token)
    readings = [(f"{kind} {shape}", n) for kind in ORDERS if (n := ordinal_in(kind, token))]
    if not readings and len(token) == 1 and serial_character(token):
        readings = [(f"{CODE_POINT} {shape}", ord(token))]
    return Marker(tuple(readings), title) if readings else None


def ordinal_in(kind: str, token: str) -> int | None:
    """A token's place in the order of `kind`, from 1; None when it is not in it."""
    order = ORDERS[kind]
    return order.index(token) + 1 if token in order else None


def serial_character(character: str) -> bool:
    """Whether a character is an item of a numbered series encoded as one character: a number that is no digit
    (⑴, ❶, ㈠, Ⅰ) or a symbol that stands for a letter or a number (㋐, ⒜), as its compatibility form tells. A
    bullet (■, ●, ・) is neither."""
    category = unicodedata.category(character)
    if category in ("No", "Nl"):
        return True
    return category == "So" and unicodedata.normalize("NFKC", character) != character


def first_ordinal(kind: str, ordinal: int) -> bool:
    """Whether an item of `kind` numbered `ordinal` may begin a series: the first of its order, or any character
    of a series read by code point, whose first item is not known."""
    return kind.startswith(CODE_POINT) or ordinal == 1
