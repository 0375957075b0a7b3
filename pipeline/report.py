"""OUT/report.html: one self-contained page on what was read, in Japanese with English subtitles.

Sections: the documents and their status, plans per round and municipality, a heatmap of themes by
municipality, instruments by plan, the warnings. Charts are matplotlib figures inlined as SVG, their text
drawn as glyph outlines in IPAexGothic (the font japanize-matplotlib ships), so the page needs no font or
other file. The same tables give the same bytes: no dates, fixed SVG id salts. Any text of the tables shows as
text: escaped in the page, drawn without mathtext in the charts ($$区 is a name, not a formula), characters that
no HTML or XML document may hold replaced.
matplotlib is imported inside write_report only, so that importing this module (or a worker) stays light.
"""

from __future__ import annotations

import html
import importlib.util
import io
import os
import re
import sys
import time
from pathlib import Path

import pandas as pd

from pipeline import PIPELINE_VERSION
from pipeline.io import write_atomic
from pipeline.schema import FIELDS, TABLES

FONT_FILE = ("fonts", "ipaexg.ttf")  # inside the japanize_matplotlib package
HEATMAP_ID = "chart-themes-by-municipality"
CHART_IDS = {
    "rounds": "chart-plans-by-municipality-and-round",
    "themes": HEATMAP_ID,
    "instruments": "chart-instruments-by-plan",
}
CSS = """
body{font-family:"IPAexGothic","Hiragino Sans","Yu Gothic","Meiryo","Noto Sans CJK JP",sans-serif;margin:2em auto;
max-width:1100px;padding:0 1em;color:#222;line-height:1.5}
h1{font-size:1.5em;margin-bottom:0}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
.en{color:#666;font-size:.85em;font-weight:normal;display:block}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.2em .5em;
vertical-align:top;text-align:left}th{background:#f3f3f3}td.num{text-align:right}
.ok{color:#1a7f37;font-weight:bold}.bad{color:#c62828;font-weight:bold}
figure{margin:1em 0}figure svg{max-width:100%;height:auto}figcaption{color:#555;font-size:.85em}
code{font-size:.9em}.empty{color:#777;font-style:italic}
"""


def _items(value) -> list[str]:
    """A list cell as a Python list, whether it came from the pipeline (list) or from Parquet (ndarray)."""
    if value is None or isinstance(value, str):
        return [] if value is None else [value]
    try:
        return [str(v) for v in value]
    except TypeError:  # NaN and other scalars: no items
        return []


# Characters that have no place in an HTML or XML document: C0 controls but tab, line feed and carriage return,
# DEL and the C1 controls, lone surrogates (an undecodable file name), noncharacters.
NOT_TEXT = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
NOT_TEXT_RE = re.compile(f"[{NOT_TEXT}]")
# In a chart label these, and tab and line ends too, become the geta mark 〓, which Japanese typesetting sets for a
# character it cannot print (IPAexGothic has it, not U+FFFD).
CHART_NOT_TEXT_RE = re.compile(rf"[\t\n\r{NOT_TEXT}]")
CHART_MISSING = "\u3013"


def _e(value) -> str:
    """A value as HTML text: markup characters escaped, characters HTML cannot hold replaced by U+FFFD."""
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return ""
    return html.escape(NOT_TEXT_RE.sub("\ufffd", str(value)), quote=True)


def _label(value) -> str:
    """A value as the text of a chart label: drawn as it reads (mathtext is off), one line, no control character
    in the SVG."""
    return CHART_NOT_TEXT_RE.sub(CHART_MISSING, str(value))


def _heading(level: int, ja: str, en: str, anchor: str | None = None) -> str:
    attr = f' id="{_e(anchor)}"' if anchor else ""
    return f"<h{level}{attr}>{_e(ja)}<span class=\"en\">{_e(en)}</span></h{level}>"


def _table(header: list[tuple[str, str]], rows: list[list[str]], numeric: set[int] = frozenset(),
           table_id: str | None = None) -> str:
    """An HTML table; header cells are (Japanese, English), row cells already escaped HTML."""
    attr = f' id="{_e(table_id)}"' if table_id else ""
    head = "".join(f"<th>{_e(ja)}<span class=\"en\">{_e(en)}</span></th>" for ja, en in header)
    body = "".join(
        "<tr>" + "".join(f"<td class=\"num\">{c}</td>" if i in numeric else f"<td>{c}</td>"
                         for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _column(name: str) -> tuple[str, str]:
    """(Japanese title, column name) of a schema field, for table headers."""
    return FIELDS[name][1], name


def _frame(tables: dict[str, pd.DataFrame], name: str) -> pd.DataFrame:
    df = tables.get(name)
    return df.reset_index(drop=True) if df is not None else pd.DataFrame(columns=TABLES[name][0])


def _vocabulary() -> tuple[dict[str, list[str]], dict[str, str]]:
    """Codes per kind in vocabulary order, and each code's Japanese label."""
    from pipeline.tag import load_vocabulary

    vocabulary = load_vocabulary()
    codes = {kind: vocabulary.loc[vocabulary["kind"] == kind, "code"].tolist() for kind in ("theme", "instrument")}
    return codes, dict(zip(vocabulary["code"], vocabulary["label_ja"]))


def _municipality_order(plans: pd.DataFrame) -> list[str]:
    """Municipalities in code order (Tokyo's own order), those without a code last by name."""
    first = plans.groupby("municipality", sort=False)["municipality_code"].first()
    return sorted(first.index, key=lambda m: (pd.isna(first[m]), first[m] if not pd.isna(first[m]) else "", m))


# --- matplotlib ----------------------------------------------------------------------------------------------

def _font_path() -> Path:
    spec = importlib.util.find_spec("japanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("japanize-matplotlib is not installed: the report's Japanese font comes from it")
    return Path(list(spec.submodule_search_locations)[0]).joinpath(*FONT_FILE)


def _setup_font() -> tuple[str, dict]:
    """Register IPAexGothic with matplotlib; returns the family name resolved for it and the rcParams to use."""
    from matplotlib import font_manager

    path = _font_path()
    if not any(Path(f.fname) == path for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    found = font_manager.findfont(font_manager.FontProperties(family=name), fallback_to_default=False)
    resolved = font_manager.get_font(found).family_name
    rc = {
        "font.family": [name],
        "font.size": 9,
        "axes.unicode_minus": False,  # IPAexGothic's U+2212 is not needed; keep ASCII hyphen-minus
        "svg.fonttype": "path",  # glyph outlines: the page renders the same without the font installed
        "svg.image_inline": True,
        "figure.dpi": 100,
        "text.parse_math": False,  # a municipality printed $$区 is text, not a formula that fails to parse
    }
    return resolved, rc


def _svg(fig, chart_id: str, label: str) -> str:
    """A figure as an inline <svg> element with a stable id; deterministic bytes."""
    import matplotlib

    buf = io.StringIO()
    # A salt per chart: equal clip rectangles in two charts then still get different ids in the page.
    with matplotlib.rc_context({"svg.hashsalt": chart_id}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    return text.replace("<svg", f'<svg id="{_e(chart_id)}" role="img" aria-label="{_e(label)}"', 1)


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(max(width, 4.0), max(height, 3.0)), layout="constrained")


def _bars_by_round(plans: pd.DataFrame, chart_id: str) -> str:
    counts = plans.groupby(["municipality", "period_start_fy"], dropna=False).size().unstack(fill_value=0)
    order = _municipality_order(plans)
    counts = counts.reindex(order[::-1]).fillna(0)
    fig = _figure(7.5, 0.28 * len(counts) + 1.2)
    ax = fig.add_subplot()
    left = [0] * len(counts)
    for i, fy in enumerate(counts.columns):
        values = counts[fy].tolist()
        name = "不明 / unknown" if pd.isna(fy) else f"{int(fy)}年度"
        ax.barh(range(len(counts)), values, left=left, color=f"C{i % 10}", label=name)
        left = [a + b for a, b in zip(left, values)]
    ax.set_yticks(range(len(counts)), [_label(m) for m in counts.index])
    ax.set_xlabel("計画数 / plans")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title("区市町村・開始年度別の計画数 / Plans by municipality and round (first fiscal year)")
    ax.legend(title="開始年度 / round", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return _svg(fig, chart_id, "区市町村・開始年度別の計画数 / Plans by municipality and round")


MAX_ANNOTATED_CELLS = 400


def _heatmap(matrix: pd.DataFrame, chart_id: str, title: str, xlabel: str, ylabel: str, marks=None) -> str:
    """A heatmap of counts with the count written in each non-zero cell (or a mark from `marks`)."""
    fig = _figure(max(0.42 * matrix.shape[1] + 2.6, 7.0), 0.32 * matrix.shape[0] + 3.4)
    ax = fig.add_subplot()
    values = matrix.to_numpy(dtype=float)
    top = max(float(values.max()), 1.0) if values.size else 1.0
    # pcolormesh, not imshow: cells stay vector shapes, sharp at any zoom, instead of an embedded bitmap.
    image = ax.pcolormesh(values, cmap="Blues", vmin=0, vmax=top, edgecolors="white", linewidth=0.5)
    ax.invert_yaxis()  # first row on top, as in a table
    # Numbers in the cells only while they stay legible (and cheap: each is a text drawn in the font).
    cells = pd.DataFrame(values).stack().items() if values.size <= MAX_ANNOTATED_CELLS else ()
    for (r, c), v in cells:
        text = f"{int(v)}" if v else (marks[r][c] if marks else "")
        if text:
            ax.text(c + 0.5, r + 0.5, text, ha="center", va="center", fontsize=7,
                    color="white" if v > top * 0.6 else "black")
    ax.set_xticks([c + 0.5 for c in range(matrix.shape[1])], [_label(c) for c in matrix.columns], rotation=60,
                  ha="right", rotation_mode="anchor")
    ax.set_yticks([r + 0.5 for r in range(matrix.shape[0])], [_label(r) for r in matrix.index])
    ax.tick_params(length=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, shrink=0.6, label="件数 / count")
    return _svg(fig, chart_id, title)


def _themes_matrix(plans: pd.DataFrame, codes: list[str], labels: dict[str, str]) -> pd.DataFrame:
    order = _municipality_order(plans)
    seen = set(codes)
    extra = sorted({t for v in plans["themes"] for t in _items(v)} - seen)  # codes not in the vocabulary
    columns = codes + extra
    matrix = pd.DataFrame(0, index=order, columns=columns)
    for muni, themes in zip(plans["municipality"], plans["themes"]):
        for t in _items(themes):
            matrix.loc[muni, t] += 1
    matrix.columns = [f"{labels.get(c, c)} ({c})" for c in columns]
    return matrix


def _plan_label(row) -> str:
    fy = "" if pd.isna(row.period_start_fy) else f" {int(row.period_start_fy)}"
    return f"{row.municipality}{fy}"


def _instruments_matrix(plans: pd.DataFrame, projects: pd.DataFrame, codes: list[str], labels: dict[str, str]):
    """Projects per plan and instrument; a ○ where only the plan's own text names the instrument."""
    extra = sorted({t for v in plans["instruments"] for t in _items(v)} - set(codes))
    columns = codes + extra
    ids = plans["plan_id"].tolist()
    matrix = pd.DataFrame(0, index=ids, columns=columns)
    for pid, instruments in zip(projects["plan_id"], projects["instruments"]):
        if pid in matrix.index:
            for t in _items(instruments):
                if t in matrix.columns:
                    matrix.loc[pid, t] += 1
    marks = [["○" if c in set(_items(v)) else "" for c in columns] for v in plans["instruments"]]
    matrix.index = [_plan_label(row) for row in plans.itertuples()]
    matrix.columns = [f"{labels.get(c, c)} ({c})" for c in columns]
    return matrix, marks


# --- page ----------------------------------------------------------------------------------------------------

def _documents_section(documents: pd.DataFrame) -> str:
    names = ["source_file", "status", "pages", "plans_found", "plans_rejected", "lines_by_default", "error", "warnings",
             "vertical_pages", "pages_with_unmapped_glyphs", "source_sha256"]
    rows = []
    for row in documents.itertuples():
        status = f'<span class="{"ok" if row.status == "ok" else "bad"}">{_e(row.status)}</span>'
        sha = f'<code title="{_e(row.source_sha256)}">{_e(str(row.source_sha256)[:12])}…</code>'
        rows.append([
            f"<code>{_e(row.source_file)}</code>", status, _e(row.pages), _e(row.plans_found), _e(row.plans_rejected),
            _e(row.lines_by_default), _e(row.error),
            "<br>".join(_e(w) for w in _items(row.warnings)),
            _e(", ".join(_items(row.vertical_pages))), _e(", ".join(_items(row.pages_with_unmapped_glyphs))), sha,
        ])
    ok = int((documents["status"] == "ok").sum()) if len(documents) else 0
    summary = (f"<p>{len(documents)} 件の文書を読み込み、{ok} 件が ok、{len(documents) - ok} 件が失敗しました。"
               f"<span class=\"en\">{len(documents)} document(s) read: {ok} ok, {len(documents) - ok} failed.</span></p>")
    return (_heading(2, "読み込んだ文書と処理結果", "Documents read and their status", "documents") + summary
            + _table([_column(n) for n in names], rows, numeric={2, 3, 4, 5}, table_id="documents-table"))


def _rounds_section(plans: pd.DataFrame, chart: str | None) -> str:
    out = [_heading(2, "開始年度・区市町村別の計画", "Plans per round (first fiscal year) and municipality", "rounds")]
    if not len(plans):
        return out[0] + '<p class="empty">計画はありません。 / No plans.</p>'
    per_round = plans.groupby("period_start_fy", dropna=False).agg(
        plans=("plan_id", "size"), municipalities=("municipality", "nunique"))
    rows = [["不明 / unknown" if pd.isna(fy) else _e(int(fy)), _e(r.plans), _e(r.municipalities)]
            for fy, r in zip(per_round.index, per_round.itertuples())]
    out.append(_table([_column("period_start_fy"), ("計画数", "plans"), ("区市町村数", "municipalities")], rows,
                      numeric={1, 2}, table_id="rounds-table"))
    out.append(f"<figure>{chart}<figcaption>区市町村ごとの計画数を開始年度で色分け。"
               "<span class=\"en\">Plans per municipality, coloured by the plan's first fiscal year.</span>"
               "</figcaption></figure>")
    plan_rows = [[f"<code>{_e(r.plan_id)}</code>", _e(r.municipality), _e(r.municipality_code), _e(r.plan_title),
                  _e(r.period_text), f"<code>{_e(r.source_file)}</code> p.{_e(r.page_start)}"]
                 for r in plans.itertuples()]
    out.append(_table([_column(n) for n in ("plan_id", "municipality", "municipality_code", "plan_title",
                                            "period_text", "source_file")], plan_rows, table_id="plans-table"))
    return "".join(out)


def _chart_section(title_ja: str, title_en: str, anchor: str, chart: str | None, caption_ja: str,
                   caption_en: str) -> str:
    head = _heading(2, title_ja, title_en, anchor)
    if chart is None:
        return head + '<p class="empty">データがありません。 / No data.</p>'
    return (f"{head}<figure>{chart}<figcaption>{_e(caption_ja)}<span class=\"en\">{_e(caption_en)}</span>"
            "</figcaption></figure>")


def _warnings_section(documents: pd.DataFrame) -> str:
    rows = [[f"<code>{_e(row.source_file)}</code>", _e(w)]
            for row in documents.itertuples() for w in _items(row.warnings)]
    rows += [[f"<code>{_e(row.source_file)}</code>", f'<span class="bad">{_e(row.status)}</span>: {_e(row.error)}']
             for row in documents.itertuples() if row.status != "ok"]
    head = _heading(2, "警告とエラー", "Warnings and errors", "warnings")
    if not rows:
        return head + '<p class="empty">警告はありません。 / No warnings.</p>'
    return head + _table([_column("source_file"), ("警告・エラー", "warning or error")], rows, table_id="warnings-table")


def render_report(tables: dict[str, pd.DataFrame]) -> str:
    """The report page as HTML text."""
    from matplotlib import rc_context

    documents, plans, projects = (_frame(tables, n) for n in ("documents", "plans", "projects"))
    codes, labels = _vocabulary()
    font, rc = _setup_font()
    charts: dict[str, str | None] = dict.fromkeys(CHART_IDS)
    with rc_context(rc):
        if len(plans):
            charts["rounds"] = _bars_by_round(plans, CHART_IDS["rounds"])
            charts["themes"] = _heatmap(
                _themes_matrix(plans, codes["theme"], labels), CHART_IDS["themes"],
                "区市町村別の政策テーマ / Policy themes by municipality", "政策テーマ / theme",
                "区市町村 / municipality")
            matrix, marks = _instruments_matrix(plans, projects, codes["instrument"], labels)
            charts["instruments"] = _heatmap(
                matrix, CHART_IDS["instruments"], "計画別の支援手法 / Policy instruments by plan",
                "支援手法 / instrument", "計画 / plan", marks)
    counts = " ".join(f"{name}: {len(_frame(tables, name))}" for name in TABLES)
    body = [
        _heading(1, "承認した地域産業活性化計画の概要: 処理レポート",
                 "Approved regional industry revitalization plans: processing report"),
        f"<p>pipeline {_e(PIPELINE_VERSION)} — {_e(counts)}</p>",
        _documents_section(documents),
        _rounds_section(plans, charts["rounds"]),
        _chart_section("区市町村別の政策テーマ", "Policy themes by municipality (heatmap)", "themes", charts["themes"],
                       "各セルはその区市町村のテーマを含む計画の数（plans.themes）。",
                       "Each cell counts the municipality's plans tagged with the theme (plans.themes)."),
        _chart_section("計画別の支援手法", "Policy instruments by plan", "instruments", charts["instruments"],
                       "数字はその支援手法に該当する事業の数（projects.instruments）、○は計画の本文・概要のみが該当。",
                       "Numbers count the plan's projects tagged with the instrument (projects.instruments); ○ marks "
                       "an instrument found only in the plan's own text."),
        _warnings_section(documents),
    ]
    return (
        "<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<meta name=\"generator\" content=\"pipeline {_e(PIPELINE_VERSION)}\">\n"
        f"<meta name=\"chart-font\" content=\"{_e(font)}\">\n"
        "<title>地域産業活性化計画 処理レポート / Processing report</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def write_report(tables: dict[str, pd.DataFrame], out: Path) -> Path:
    """Write OUT/report.html atomically; returns its path. A process that has not imported matplotlib yet (the
    CLI) has it keep its font cache under OUT/interim/matplotlib, unless MPLCONFIGDIR says otherwise: nothing
    outside RAW and OUT is written."""
    if "matplotlib" not in sys.modules:  # its cache folder is fixed when it is first imported
        os.environ.setdefault("MPLCONFIGDIR", str(Path(out).resolve() / "interim" / "matplotlib"))
    path = Path(out) / "report.html"
    write_atomic(path, render_report(tables).encode("utf-8"))
    return path


if __name__ == "__main__":  # python -m pipeline.report OUT: the report of the tables already in OUT
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "out")
    started = time.monotonic()
    written = write_report({name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES}, folder)
    print(f"{written} ({written.stat().st_size} bytes, {time.monotonic() - started:.2f} s)")
