"""OCR clean-up: the mistakes Tesseract's Japanese model makes on our pages, undone by rules that each say why.

Every rule reads only the line it mends, and changes a character only where its context leaves no doubt:
- spaces between Japanese characters dropped (the model puts one between every two characters);
- circled digits inside a number or a year made digits (平成②⑦年度 → 平成27年度, 約③,⑤00 → 約3,500), while
  a circled digit that starts a line, not followed by a digit, stays: it numbers a pillar (① 創業の支援);
- a range mark read as 一, ー or ~, or lost, between a fiscal year and an era name made ～ (令和2年度一令和4年度);
- an opening bracket read as a backquote made 「 before Japanese text, 』 made 「 where a 」 closes it later in the
  line, and the ASCII parentheses the model gives for the full-width ones made full-width beside Japanese text, as
  printed (not the colon: summaries print 【計画期間:…】 with either);
- what is left of a wiped rule (reading.ocr.without_rules) beside Japanese text, read as | [ ] or _, dropped: no
  summary prints these ASCII marks in Japanese text (its brackets are full-width);
- the confusions of pipeline/data/ocr_confusions.csv (a character read for another) undone only where the
  result is a known word: a municipality's name, an era name, or a word the confusion's row names (the
  vocabulary is not read here: an edit of it would read every PDF again, the extract stage's code and data).
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

from pipeline.core.text import CJK_CLASS

# Read here with the csv module, not core.reference, which names the vocabulary too: an edit of the vocabulary would
# then read every PDF again (fingerprint.named_files).
DATA_DIR = Path(__file__).resolve().parents[1] / "data"
CONFUSIONS_PATH = DATA_DIR / "ocr_confusions.csv"
MUNICIPALITIES_PATH = DATA_DIR / "municipalities.csv"
ERAS = ("令和", "平成", "昭和")
CIRCLED = "①②③④⑤⑥⑦⑧⑨"  # ⑩ and above never stand for one digit
DIGITS = "0-9０-９" + CIRCLED
# Japanese text and the full-width punctuation set in it: no space is printed between two of these.
JAPANESE = rf"(?:{CJK_CLASS}|[、。，．・：；？！「」『』（）【】〔〕［］～ー－\u3000-\u303f{CIRCLED}])"
SPACE_RE = re.compile(rf"(?<={JAPANESE}) +|(?<=[{DIGITS},]) +(?={JAPANESE}|[{DIGITS},])| +(?={JAPANESE})")
# A circled digit beside a digit, a digit group's comma, an era name or a counter of a year: part of a number.
IN_NUMBER_RE = re.compile(
    rf"(?<=[{DIGITS},])[{CIRCLED}]|[{CIRCLED}](?=[{DIGITS}]|,[{DIGITS}])"
    rf"|(?<={'|'.join(ERAS)})[{CIRCLED}]|[{CIRCLED}](?=年|月|日|%|％)"
)
RANGE_RE = re.compile(rf"(?<=年度)[一ー－~-]?(?={'|'.join(ERAS)})")
# A backquote is never printed in a summary: before Japanese text it is 「 (`五反田バレー at a line's end). 』 is
# printed, after its 『: it is 「 only where a 」 closes it later in the line.
OPENING_RE = re.compile(rf"[`‘](?={JAPANESE})|』(?=[^「」『』]*」)")
FULL_WIDTH = str.maketrans("()", "（）")
RULE_REMNANT_RE = re.compile(rf"(?<={JAPANESE})[|\[\]_]+|[|\[\]_]+(?={JAPANESE})")
# An ASCII parenthesis with Japanese text on one side at least: a full-width one, as the summaries print.
HALF_WIDTH_RE = re.compile(rf"(?<={JAPANESE})[()]|[()](?={JAPANESE})")


def clean_line(text: str) -> str:
    """A line as Tesseract read it, mended by the rules of this module, in their order."""
    text = SPACE_RE.sub("", text.strip())
    # Twice: the first pass makes the digits of a run of circled ones (②⑦) that the second finds beside a digit.
    for _ in range(2):
        text = IN_NUMBER_RE.sub(lambda m: str(CIRCLED.index(m.group()) + 1), text)
    text = RANGE_RE.sub("～", text)
    text = OPENING_RE.sub("「", text)
    text = HALF_WIDTH_RE.sub(lambda m: m.group().translate(FULL_WIDTH), text)
    text = RULE_REMNANT_RE.sub("", text)
    for misread, word in misreadings().items():
        text = text.replace(misread, word)
    return text


@cache
def misreadings() -> dict[str, str]:
    """Each known word as a confusion of ocr_confusions.csv misreads it, and the word: 祷助 → 補助. The known words
    of a confusion are its row's words, the municipalities' names and the era names that hold the character meant."""
    with MUNICIPALITIES_PATH.open(encoding="utf-8", newline="") as f:
        places = {row["name_ja"] for row in csv.DictReader(f)} | set(ERAS)
    with CONFUSIONS_PATH.open(encoding="utf-8", newline="") as f:
        confusions = list(csv.DictReader(f))
    found = {}
    for row in confusions:
        for word in sorted(places | set(row["words"].split("|"))):
            if row["meant"] in word:
                found[word.replace(row["meant"], row["read"])] = word
    return found
