"""The report page rendered from its values (pipeline.outputs.report.report_context), with Jinja2.

It imports neither pandas nor pyarrow, so that a process of the run's fork server, which has not loaded them,
writes the page while the run writes the tables (`report.start_report`).
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup

from pipeline.core.io import write_atomic
from pipeline.outputs.crops import Crop, make_crops

# Characters that have no place in an HTML or XML document: C0 controls but tab, line feed and carriage return,
# DEL and the C1 controls, lone surrogates (an undecodable file name), noncharacters.
NOT_TEXT = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
NOT_TEXT_RE = re.compile(f"[{NOT_TEXT}]")


def text(value):
    """Every value the template prints: missing as empty, characters HTML cannot hold as U+FFFD (autoescaping
    then takes care of markup); the template's own markup (a macro's output) passes as it is."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str) and not isinstance(value, Markup):
        return NOT_TEXT_RE.sub("\ufffd", value)
    return value


@lru_cache(maxsize=1)
def environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(
        loader=PackageLoader("pipeline.outputs", "templates"),
        autoescape=True,
        finalize=text,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_page(context: dict) -> str:
    """The report page as HTML text, of its values (report.report_context)."""
    return environment().get_template("report.html").render(**context)


def write_page(context: dict, path: Path, crops: dict[str, list[Crop]] | None = None) -> Path:
    """Write the page of its values atomically, after the crops it shows that are not made yet (`crops`, by plan id:
    crops.make_crops, under its folder's `crops`); returns its path."""
    if crops is not None:
        make_crops([crop for made in crops.values() for crop in made], path.parent)
    write_atomic(path, render_page(context).encode("utf-8"))
    return path
