"""Japanese eras and approval rounds: 令和6年度後期 read from a summary's title or its press release's.

The programme approves plans in rounds named by fiscal year, some years in two (前期, 後期) or numbered
(第2回). A round is written canonically (Arabic digits, 元 for the first year, no spaces) so that the same
round printed two ways is one value, and carries its fiscal year for sorting.
"""

from __future__ import annotations

import re

from pipeline.core.text import normalize_text

# Gregorian year before an era's first: 令和1 is 2019.
ERA_BASE = {"令和": 2018, "平成": 1988, "昭和": 1925}
_ROUND = r"(?P<era>令和|平成)\s*(?P<year>元|\d{1,2})\s*年度\s*(?P<term>前期|後期|第\s*\d{1,2}\s*回)?"
# A round in brackets, as a summary's title ends (（令和6年度後期）) and press releases name theirs.
_BRACKETED_RE = re.compile(rf"[(（【〔\[]\s*{_ROUND}\s*[)）】〕\]]")
# Unbracketed, a year that starts or ends a period (令和2年度～令和4年度) is no round.
_BARE_RE = re.compile(rf"(?<![～~\-])(?<![～~\-] ){_ROUND}(?!\s*(?:[～~\-]|から))")


def era_year(era: str, year: str) -> int:
    """Gregorian year of an era year (元 or a number, which may run past the era's end: 平成32年 is 2020)."""
    return ERA_BASE[era] + (1 if year == "元" else int(year))


def parse_round(text: str | None, bracketed_only: bool = False) -> str | None:
    """The approval round a title names, canonical (令和6年度後期), or None. A bracketed round wins over one in
    the running text; `bracketed_only` is for a summary's own title, whose running text may name other years."""
    if not text:
        return None
    text = normalize_text(text)
    m = _BRACKETED_RE.search(text) or (None if bracketed_only else _BARE_RE.search(text))
    if m is None:
        return None
    term = re.sub(r"\s+", "", m["term"] or "")
    return f"{m['era']}{m['year']}年度{term}"


def round_fy(round_name: str | None) -> int | None:
    """Fiscal year of a canonical round (2024 for 令和6年度後期), or None."""
    m = _BARE_RE.match(round_name or "")
    return era_year(m["era"], m["year"]) if m else None
