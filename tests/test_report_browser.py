"""report.html in a real browser: headless Chromium opens it offline, logs no console error, and draws every
chart. Skipped, with its reason, where Chromium is not installed (CI installs it: .ci/run)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from pipeline.outputs.report import CHART_IDS
from tests.conftest import run_pipeline

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# A browser started per test, most of a second each: slow (make test runs them, make test-fast does not).
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (apt-get install chromium)"),
    pytest.mark.slow,
]
# Flags for a headless browser as root on a machine without network: no sandbox (root), no GPU, and none of
# the background connections a closed network refuses.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]
# A chart is drawn when this share of its screenshot differs from the page's white: its bars or cells.
MIN_INKED_SHARE = 0.02


def chromium(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{page.stem}"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=300,
    )


def inked_share(png: Path) -> float:
    image = Image.open(png).convert("L")
    histogram = image.histogram()
    return 1 - sum(histogram[250:]) / (image.width * image.height)


def chart_page(report: str, chart_id: str) -> str:
    """The report's stylesheet and one chart alone, so that the screenshot shows that chart and nothing else."""
    style = re.search(r"<style>.*?</style>", report, re.S).group()
    chart = re.search(rf'<table class="[a-z]+" id="{chart_id}">.*?</table>', report, re.S).group()
    return f'<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">{style}</head><body>{chart}</body></html>'


def test_the_report_opens_without_console_errors(sample_out, tmp_path):
    done = chromium(sample_out / "report.html", tmp_path, "--dump-dom")
    assert done.returncode == 0, done.stderr
    assert "承認した地域産業活性化計画の概要" in done.stdout
    assert done.stdout.count("<details>") == 6  # the sample's six plans, each collapsed, no script needed
    assert [line for line in done.stderr.splitlines() if "CONSOLE" in line] == []


@pytest.mark.parametrize("chart", sorted(CHART_IDS))
def test_every_chart_is_drawn(sample_out, tmp_path, chart):
    page = tmp_path / f"{chart}.html"
    page.write_text(
        chart_page((sample_out / "report.html").read_text(encoding="utf-8"), CHART_IDS[chart]), encoding="utf-8"
    )
    png = tmp_path / f"{chart}.png"
    done = chromium(page, tmp_path, f"--screenshot={png}", "--window-size=1000,800")
    assert done.returncode == 0, done.stderr
    assert inked_share(png) > MIN_INKED_SHARE


# Counts, once the page has loaded (the load event waits for the images not loaded lazily), the crops of the plans to
# review that the browser drew: what a reviewer sees beside each plan. Added to a copy of the report, which itself
# needs no script.
COUNT_CROPS = """<script>
window.addEventListener("load", () => {
  const crops = [...document.querySelectorAll(".review img")];
  const shown = crops.filter((img) => img.complete && img.naturalWidth > 0);
  document.body.dataset.crops = `${shown.length} of ${crops.length}`;
});
</script>"""


def test_each_plan_to_review_shows_the_crop_of_its_page(variant_pdfs, tmp_path):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    shutil.copy(variant_pdfs["page_break"], raw)
    assert run_pipeline(raw, out) == 0
    report = (out / "report.html").read_text(encoding="utf-8")
    page = out / "check.html"
    page.write_text(report.replace("</body>", COUNT_CROPS + "</body>"), encoding="utf-8")
    done = chromium(page, tmp_path, "--dump-dom", "--virtual-time-budget=5000")
    assert done.returncode == 0, done.stderr
    # The fixture's two plans each keep lines across its page break by default; each stands on two pages.
    assert 'data-crops="4 of 4"' in done.stdout
    assert done.stdout.count('class="review"') == 2
    assert [line for line in done.stderr.splitlines() if "CONSOLE" in line] == []
