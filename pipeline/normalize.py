"""Normalize stage: canonical text, fiscal years, municipality codes, and the output tables.

Text rules are pure functions used by segment too, so that structure is matched on the same
canonical text the tables hold.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where tables are built: segment uses the text rules without it
    import pandas as pd

# CJK Radicals Supplement code points that Word-made PDFs carry for ordinary ideographs.
# NFKC maps the Kangxi Radicals block (U+2F00–U+2FD5) but leaves these alone.
RADICAL_SUPPLEMENT = {
    "\u2e81": "厂", "\u2e84": "乙", "\u2e85": "亻", "\u2e86": "冂", "\u2e87": "几", "\u2e88": "刀",
    "\u2e89": "刂", "\u2e8a": "卜", "\u2e8b": "卩", "\u2e8c": "小", "\u2e8d": "小", "\u2e8e": "兀",
    "\u2e8f": "尣", "\u2e90": "尢", "\u2e92": "巳", "\u2e93": "幺", "\u2e94": "彑", "\u2e95": "彐",
    "\u2e96": "忄", "\u2e97": "心", "\u2e98": "扌", "\u2e99": "攵", "\u2e9b": "旡", "\u2e9c": "日",
    "\u2e9d": "月", "\u2e9e": "歹", "\u2e9f": "母", "\u2ea0": "民", "\u2ea1": "氵", "\u2ea2": "氺",
    "\u2ea3": "灬", "\u2ea4": "爫", "\u2ea5": "爫", "\u2ea6": "丬", "\u2ea7": "牛", "\u2ea8": "犭",
    "\u2ea9": "王", "\u2eaa": "疋", "\u2eab": "罒", "\u2eac": "示", "\u2ead": "礻", "\u2eae": "竹",
    "\u2eaf": "糹", "\u2eb0": "纟", "\u2eb1": "罓", "\u2eb2": "罒", "\u2eb3": "罓", "\u2eb4": "罒",
    "\u2eb5": "罓", "\u2eb6": "羊", "\u2eb7": "羊", "\u2eb8": "羊", "\u2eb9": "耂", "\u2eba": "聿",
    "\u2ebb": "聿", "\u2ebc": "月", "\u2ebd": "臼", "\u2ebe": "艹", "\u2ebf": "艹", "\u2ec0": "艹",
    "\u2ec1": "虎", "\u2ec2": "衤", "\u2ec3": "覀", "\u2ec4": "西", "\u2ec5": "见", "\u2ec6": "角",
    "\u2ec7": "角", "\u2ec8": "讠", "\u2ec9": "贝", "\u2eca": "足", "\u2ecb": "车", "\u2ecc": "辶",
    "\u2ecd": "辶", "\u2ece": "辶", "\u2ecf": "阝", "\u2ed0": "钅", "\u2ed1": "長", "\u2ed2": "镸",
    "\u2ed3": "长", "\u2ed4": "门", "\u2ed5": "阝", "\u2ed6": "阝", "\u2ed7": "雨", "\u2ed8": "青",
    "\u2ed9": "韦", "\u2eda": "页", "\u2edb": "风", "\u2edc": "飞", "\u2edd": "食", "\u2ede": "食",
    "\u2edf": "食", "\u2ee0": "饣", "\u2ee1": "首", "\u2ee2": "马", "\u2ee3": "骨", "\u2ee4": "鬼",
    "\u2ee5": "鱼", "\u2ee6": "鸟", "\u2ee7": "卤", "\u2ee8": "麦", "\u2ee9": "黄", "\u2eea": "黾",
    "\u2eeb": "斉", "\u2eec": "齐", "\u2eed": "歯", "\u2eee": "齿", "\u2eef": "竜", "\u2ef0": "龙",
    "\u2ef1": "龜", "\u2ef2": "亀", "\u2ef3": "龟",
}
TILDES = "～〜~˜∼⁓"
CANONICAL_TILDE = "～"
DASHES = "－−‐‑‒–—―﹣"
CANONICAL_DASH = "-"
ERA_BASE = {"令和": 2018, "平成": 1988, "昭和": 1925}

_FOLD = str.maketrans(
    {**RADICAL_SUPPLEMENT, **{t: CANONICAL_TILDE for t in TILDES}, **{d: CANONICAL_DASH for d in DASHES}}
)
# Full-width ASCII letters and digits, half-width katakana and Kangxi radicals: NFKC is right for these,
# but not for the full-width brackets and punctuation the documents print, which stay as printed.
_NFKC_RE = re.compile(r"[０-９Ａ-Ｚａ-ｚ\uff61-\uff9f\u2f00-\u2fd5]+")
_RADICALS = str.maketrans(RADICAL_SUPPLEMENT)
_KANGXI_RE = re.compile(r"[\u2f00-\u2fd5]+")
# Three or more single Japanese characters separated by spaces: a letter-spaced heading (事 業 承 継).
_CJK = "[\u3000-\u30ff\u3400-\u9fff\uff01-\uff5e]"
_LETTER_SPACED_RE = re.compile(rf"(?<!\S){_CJK}(?: {_CJK}){{2,}}(?!\S)")


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


# One end of a period: an era year (令和2年度, 元年, 令和2年4月) or a Gregorian one (2020年度). The era may be
# left out of the end, which then shares the start's (平成26~28年度).
_END = r"(?:(?P<g{n}>(?:19|20)\d{{2}})|(?P<era{n}>令和|平成|昭和){optional}\s*(?P<y{n}>\d{{1,2}}|元))\s*(?:年度?)?(?:\s*(?P<m{n}>\d{{1,2}})\s*月)?"
_PERIOD_RE = re.compile(
    _END.format(n=1, optional="") + r"(?:\s*(?:～|-|から)\s*" + _END.format(n=2, optional="?") + ")?"
)


def parse_period(period_text: str | None) -> tuple[int | None, int | None]:
    """Fiscal years (start, end) of a printed period: 令和2年度～令和4年度, 平成26~28年度, 令和元年度～令和3年度,
    令和2年4月～令和5年3月, 2020年度～2022年度; a single year is both ends. A month from January to March
    belongs to the fiscal year before."""
    if not period_text:
        return None, None
    m = _PERIOD_RE.search(normalize_text(period_text))
    if not m:
        return None, None

    def fiscal_year(n: int, era: str | None) -> int | None:
        if m[f"g{n}"]:
            year = int(m[f"g{n}"])
        elif m[f"y{n}"] and era:
            year = ERA_BASE[era] + (1 if m[f"y{n}"] == "元" else int(m[f"y{n}"]))
        else:
            return None
        return year - 1 if m[f"m{n}"] and int(m[f"m{n}"]) <= 3 else year

    start = fiscal_year(1, m["era1"])
    end = fiscal_year(2, m["era2"] or m["era1"])
    return start, start if end is None else end


def check_digit(code5: str) -> int:
    """Check digit of a 全国地方公共団体コード (JIS X 0402 weights 6,5,4,3,2, modulus 11)."""
    total = sum(int(d) * w for d, w in zip(code5, (6, 5, 4, 3, 2)))
    return (11 - total % 11) % 10


@lru_cache(maxsize=1)
def municipalities() -> dict[str, str]:
    """Municipality name → 6-digit code, from the bundled table of Tokyo's 62 municipalities."""
    with resources.files("pipeline").joinpath("data/municipalities.csv").open(encoding="utf-8") as f:
        return {row["municipality"]: row["municipality_code"] for row in csv.DictReader(f)}


def municipality_code(name: str | None) -> str | None:
    """Code of a municipality name as printed (ヶ/ケ/が spellings folded), or None when unknown."""
    if not name:
        return None
    table = municipalities()
    name = normalize_text(name).removeprefix("東京都")
    for variant in (name, name.replace("ケ", "ヶ"), name.replace("が", "ヶ"), name.replace("ヵ", "ヶ")):
        if variant in table:
            return table[variant]
    return None


def plan_id(code: str | None, municipality: str, start_fy: int | None, sha256: str, page: int) -> str:
    """`<municipality_code>-<period_start_fy>`. The name stands in for an unknown code; an unread year gives
    `-unknown-<file>-p<page>`, so that two such plans never pass for one."""
    year = start_fy if start_fy is not None else f"unknown-{sha256[:8]}-p{page}"
    return f"{code or municipality}-{year}"


def build_tables(segments: list[tuple[str, dict]]) -> dict[str, pd.DataFrame]:
    """documents, plans, pillars and projects from (source_file, segment record) pairs.

    The same plan (municipality and start year) in two files is kept once, from the first file by
    name, and both files are told so in their warnings.
    """
    docs: dict[str, dict] = {}
    plans, pillars, projects = [], [], []
    seen: dict[str, str] = {}
    for source_file, seg in segments:
        warnings = list(seg["warnings"])
        provenance = {"source_file": source_file, "source_sha256": seg["source_sha256"]}
        kept = 0
        for plan in seg["plans"]:
            code = municipality_code(plan["municipality"])
            start_fy, end_fy = parse_period(plan["period_text"])
            pid = plan_id(code, plan["municipality"], start_fy, seg["source_sha256"], plan["page_start"])
            if code is None:
                warnings.append(f"{plan['municipality']}: not one of Tokyo's municipalities, no code")
            if start_fy is None:
                warnings.append(f"{plan['municipality']}: period not read: {plan['period_text']!r}")
            if pid in seen:
                warnings.append(f"{pid}: duplicate of the plan in {seen[pid]}, not kept")
                if seen[pid] in docs:
                    docs[seen[pid]]["warnings"].append(f"{pid}: also in {source_file}")
                continue
            seen[pid] = source_file
            kept += 1
            plans.append({
                "plan_id": pid, "municipality": plan["municipality"], "municipality_code": code,
                "plan_title": plan["plan_title"], "period_text": plan["period_text"], "period_start_fy": start_fy,
                "period_end_fy": end_fy, "summary": plan["summary"], "photo_captions": plan["photo_captions"],
                "page_start": plan["page_start"], "page_end": plan["page_end"], **provenance,
            })
            for pillar in plan["pillars"]:
                pillars.append({
                    "plan_id": pid, "pillar_no": pillar["pillar_no"], "pillar_title": pillar["pillar_title"],
                    "has_more_projects": pillar["has_more_projects"], "page": pillar["page"], **provenance,
                })
                for no, project in enumerate(pillar["projects"], start=1):
                    projects.append({
                        "plan_id": pid, "pillar_no": pillar["pillar_no"], "project_no": no,
                        "project_name": project["project_name"], "project_detail": project["project_detail"],
                        "page": project["page"], **provenance,
                    })
        docs[source_file] = {
            "source_file": source_file, "source_sha256": seg["source_sha256"], "pages": seg["pages"],
            "status": seg["status"], "error": seg["error"], "plans_found": kept, "warnings": warnings,
            "vertical_pages": seg["vertical_pages"], "pages_with_unmapped_glyphs": seg["pages_with_unmapped_glyphs"],
        }
    tables = {
        "documents": frame(list(docs.values()), "documents"),
        "plans": frame(plans, "plans"),
        "pillars": frame(pillars, "pillars"),
        "projects": frame(projects, "projects"),
    }
    return tables


def frame(rows: list[dict], table: str) -> pd.DataFrame:
    """Rows as a DataFrame with every column of the table, sorted by its key; tag lists start empty."""
    import pandas as pd

    from pipeline.schema import FIELDS, INT, TABLES

    names, key, _ = TABLES[table]
    df = pd.DataFrame(rows, columns=names)
    for name in names:
        if FIELDS[name][0] == INT:
            df[name] = df[name].astype("Int64")  # a missing page count stays missing, not 3.0
    for name in ("themes", "instruments"):
        if name in df:
            df[name] = [[] for _ in range(len(df))]
    return df.sort_values(key, kind="stable").reset_index(drop=True)
