import re
import unicodedata
from importlib import resources

import pytest

from pipeline.core.radicals import OVERRIDES, radical_supplement

LINE = re.compile(r"^([0-9A-F]{4,6})(?:\.\.([0-9A-F]{4,6}))?\s*;\s*([0-9A-F]{4,6})\s*(?:#|$)")
# Written by hand: the departures from Unicode that pipeline.core.radicals is meant to make.
EXPECTED_OVERRIDES = {"⺗": "㣺", "⺫": "罒", "⺳": "𦉪", "⻏": "阝"}


def unicode_file_mappings() -> dict[int, int]:
    """Every code point the bundled Unicode file maps, parsed here apart from pipeline.core.radicals."""
    text = (resources.files("pipeline") / "data" / "EquivalentUnifiedIdeograph-14.0.0.txt").read_text("utf-8")
    mappings = {}
    for line in text.splitlines():
        if m := LINE.match(line):
            first, last, target = m.groups()
            mappings |= {code: int(target, 16) for code in range(int(first, 16), int(last or first, 16) + 1)}
    return mappings


FILE = unicode_file_mappings()
SUPPLEMENT_MAPPED = sorted(code for code in FILE if 0x2E80 <= code <= 0x2EFF)
KANGXI_MAPPED = sorted(code for code in FILE if 0x2F00 <= code <= 0x2FD5)


@pytest.mark.parametrize("code", SUPPLEMENT_MAPPED, ids=lambda c: f"U+{c:04X}")
def test_every_supplement_radical_maps_as_the_unicode_file_or_an_override_says(code):
    radical = chr(code)
    assert radical_supplement()[radical] == EXPECTED_OVERRIDES.get(radical, chr(FILE[code]))


def test_table_holds_exactly_the_file_supplement_radicals():
    assert len(radical_supplement()) == 114
    assert sorted(map(ord, radical_supplement())) == SUPPLEMENT_MAPPED


def test_overrides_are_the_expected_ones_and_each_departs_from_unicode():
    assert OVERRIDES == EXPECTED_OVERRIDES
    assert all(chr(FILE[ord(radical)]) != ideograph for radical, ideograph in OVERRIDES.items())


@pytest.mark.parametrize(("radical", "ideograph"), [("⻘", "青"), ("⻑", "長"), ("⻄", "西"), ("⻤", "鬼")])
def test_radicals_common_in_word_pdfs(radical, ideograph):
    assert radical_supplement()[radical] == ideograph


def test_every_value_is_one_ideograph_outside_the_radical_blocks():
    for ideograph in radical_supplement().values():
        assert len(ideograph) == 1
        assert not 0x2E80 <= ord(ideograph) <= 0x2FDF
        assert unicodedata.name(ideograph).startswith("CJK UNIFIED IDEOGRAPH-")


def test_nfkc_folds_every_kangxi_radical_as_the_unicode_file_says():
    assert len(KANGXI_MAPPED) == 214
    assert all(unicodedata.normalize("NFKC", chr(code)) == chr(FILE[code]) for code in KANGXI_MAPPED)
