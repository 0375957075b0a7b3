"""`python -m pipeline fetch URL…` (pipeline.acquire.fetch) against a web server on 127.0.0.1 in a thread: a press
release with its summary and an unrelated PDF, redirects, errors, a server that never answers, truncated and
oversized answers, one that is busy once; and what RAW and RAW/sources.csv hold after each. No test reaches
another address, and none sleeps: the client's timeout against a server held on an Event is the only timing."""

import errno
import gzip
import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import tracemalloc
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest

from pipeline.acquire.fetch import ALREADY, FAILED, SAVED, Fetched, fetch, pdf_name
from pipeline.acquire.http import MIB, Download, Settings, parse_content_type, read_html
from pipeline.acquire.page import PageParser, parse_page, summary_links
from pipeline.acquire.sources import SourceInfo, hold_raw, read_sources
from pipeline.cli import main
from pipeline.core import io as io_module
from pipeline.core.failures import MACHINE_ERRNOS
from pipeline.core.faults import SIGNAL_VARIABLE, VARIABLE

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = (ROOT / "raw" / "r2-approval-summary.pdf").read_bytes()
SUMMARY_SHA = hashlib.sha256(SUMMARY).hexdigest()
PRESS_RELEASE = (ROOT / "tests" / "fixtures" / "calc_grid.pdf").read_bytes()  # the release's own text: not fetched
TITLE = "「地域産業活性化計画」を承認しました（令和6年度後期）｜東京都"
HEADER = "source_file,url,page_url,page_title,published,round,retrieved_at,sha256,bytes\n"
NOW = datetime(2025, 1, 6, 9, 30, 15, 123456, tzinfo=UTC)
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")

PRESS_PAGE = f"""<!DOCTYPE html>
<html lang="ja"><head><meta charset="utf-8"><title>{TITLE}</title>
<script>var x = "<a href='/files/script.pdf'>概要（PDF）</a>";</script></head>
<body>
<nav><ul><li><a href="/index.html">ホーム</a><li><a href="/about/gaiyou.html">都の概要</a></ul></nav>
<main>
<p class="date">令和6年12月20日</p>
<h1>「地域産業活性化計画」を承認しました</h1>
<p>都は、区市町村が策定した地域産業活性化計画（令和6年度～令和8年度）を承認しました。</p>
<h2>添付資料</h2>
<ul>
<li><a href="/files/press-release.pdf">報道発表資料（PDF：120KB）</a></li>
<li><a href="files/summary.pdf">別紙　承認した地域産業活性化計画の概要（PDF：161KB）</a></li>
</ul>
<p class="update">更新日：令和7年1月10日</p>
</main></body></html>
"""
NO_LINKS_PAGE = """<html><head><title>報道発表｜東京都</title></head><body>
<ul><li><a href="/files/press-release.pdf">報道発表資料（PDF：120KB）</a></li></ul></body></html>"""
# A gzip bomb: 64 MiB of zeros in 64 KiB, once and twice packed.
BOMB = gzip.compress(bytes(64 * MIB), compresslevel=9)
ENCODED = {
    "/gzip.pdf": ("gzip", gzip.compress(SUMMARY)),
    "/bomb.pdf": ("gzip", BOMB),
    "/bomb2.pdf": ("gzip, gzip", gzip.compress(BOMB)),
    "/br.pdf": ("br", SUMMARY),
}
# Bytes of Python memory a fetch may take beyond its --max-mb (tracemalloc's peak, the cap subtracted): a block being
# unpacked (64 KiB), the chunks joined once at the end (the cap again, were it reached), httpx's buffers, a page's
# text and one PDF with its sources.csv row. Peaks measured under a 1 MiB cap: the gzip bomb 1.5 MB (143 MiB before
# fetch unpacked the body itself), a page of three PDFs 1.8 MB, a dripping server 0.1 MB; 4 MiB leaves twice that.
PEAK_MARGIN = 4 * MIB
ERROR_PAGE = "<html><head><title>ページが見つかりません｜東京都</title></head><body>お探しのページは…</body></html>"


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.0, so a body without Content-Length runs to the end of the connection."""

    def do_GET(self):  # noqa: N802 - the name http.server calls
        path = unquote(self.path)
        with self.server.lock:
            self.server.hits[path] += 1
            hits = self.server.hits[path]
        if path == "/press.html":
            return self.redirect(301, "/news/press.html")
        if path == "/moved.pdf":
            return self.redirect(302, "/news/files/summary.pdf")
        if path == "/loop.pdf":
            return self.redirect(302, "/loop.pdf")
        if path == "/slow.pdf":
            self.server.release.wait(60)  # set when the test ends: the client has given up long before
            return self.send(200, "application/pdf", SUMMARY)
        if path == "/held.pdf":  # held until the test lets it go, having seen it asked for
            self.server.asked.set()
            self.server.release.wait(60)  # a guard: the test sets it at once, or at its end
            return self.send(200, "application/pdf", SUMMARY)
        if path == "/flaky.pdf" and hits == 1 or path == "/busy.pdf":
            return self.send(503, "text/html", b"<html><title>busy</title></html>", {"Retry-After": "2"})
        if path == "/truncated.pdf":  # announces the whole file, sends half, hangs up
            return self.send(200, "application/pdf", SUMMARY[: len(SUMMARY) // 2], {"Content-Length": len(SUMMARY)})
        if path == "/chunked.pdf":  # no Content-Length: the size cap must stop the reading itself
            return self.send(200, "application/pdf", SUMMARY, {"Content-Length": None})
        if path == "/drip.pdf":
            return self.drip()
        if path == "/many.html":  # 25 summaries linked, each the same bytes
            links = "".join(f'<li><a href="/many/{i}.pdf">概要{i}</a></li>' for i in range(25))
            return self.send(200, "text/html; charset=utf-8", f"<html><ul>{links}</ul></html>".encode())
        if path.startswith("/many/"):
            return self.send(200, "application/pdf", SUMMARY)
        if path in ENCODED:
            encoding, body = ENCODED[path]
            return self.send(200, "application/pdf", body, {"Content-Encoding": encoding})
        body = {
            "/news/press.html": ("text/html; charset=utf-8", PRESS_PAGE.encode()),
            "/nolinks.html": ("text/html", NO_LINKS_PAGE.encode()),
            "/news/files/summary.pdf": ("application/pdf", SUMMARY),
            "/flaky.pdf": ("application/pdf", SUMMARY),
            "/files/概要.pdf": ("application/octet-stream", SUMMARY),
            "/files/press-release.pdf": ("application/pdf", PRESS_RELEASE),
            "/error.pdf": ("text/html; charset=utf-8", ERROR_PAGE.encode()),
            "/cut.pdf": ("application/pdf", SUMMARY[: len(SUMMARY) // 2]),
        }.get(path)
        if body is None:
            return self.send(404, "text/html", b"<html><title>404</title></html>")
        return self.send(200, *body)

    def drip(self):
        """The summary a byte at a time, each sent once the client's clock has been read (DripClock): a server
        slow without end, whose pace the test sets without sleeping."""
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.send_header("Content-Length", str(len(SUMMARY)))
        self.end_headers()
        drip = self.server.drip
        try:
            for i in range(len(SUMMARY)):
                if not drip.acquire(timeout=60):  # a test that ended without its client's hanging up
                    return
                self.wfile.write(SUMMARY[i : i + 1])
        except OSError:  # the client hung up at its deadline
            pass

    def redirect(self, status, location):
        self.send(status, "text/html", b"", {"Location": location})

    def send(self, status, content_type, body, headers=None):
        headers = {"Content-Type": content_type, "Content-Length": len(body), **(headers or {})}
        try:
            self.send_response(status)
            for name, value in headers.items():
                if value is not None:
                    self.send_header(name, str(value))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client hung up (the slow answer, after its timeout)
            pass

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that hung up is what some tests do


@pytest.fixture(scope="module")
def running_server():
    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.lock, httpd.hits, httpd.release, httpd.asked = (
        threading.Lock(),
        Counter(),
        threading.Event(),
        threading.Event(),
    )
    httpd.drip = threading.Semaphore(0)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def server(running_server, monkeypatch):
    """The server with its request counts at zero; its held answers are let go when the test ends."""
    for name in PROXY_VARIABLES:  # 127.0.0.1 directly, never through a proxy
        monkeypatch.delenv(name, raising=False)
    running_server.hits.clear()
    yield running_server
    running_server.release.set()
    running_server.release, running_server.asked = threading.Event(), threading.Event()
    running_server.drip.release(len(SUMMARY))  # a drip the client hung up on ends at its next byte
    running_server.drip = threading.Semaphore(0)


def address(server, path):
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def fetch_all(urls, raw, **settings):
    """Outcomes of fetching the URLs, and the pauses between tries the fetch asked for (none is made)."""
    pauses = []
    settings = Settings(sleep=pauses.append, clock=lambda: NOW, **settings)
    return list(fetch(urls, raw, settings)), pauses


def listing(raw: Path) -> list[str]:
    """Every entry of RAW, hidden ones (a temporary left behind) included."""
    return sorted(os.listdir(raw)) if raw.exists() else []


def summary_row(server, name="summary.pdf"):
    return (
        f"{name},{address(server, '/news/files/summary.pdf')},{address(server, '/press.html')},{TITLE},"
        f"2024-12-20,令和6年度後期,2025-01-06T09:30:15Z,{SUMMARY_SHA},{len(SUMMARY)}\n"
    )


def test_a_press_release_gives_its_summary_and_nothing_else(server, tmp_path):
    raw = tmp_path / "raw"
    outcomes, pauses = fetch_all([address(server, "/press.html")], raw)
    assert outcomes == [
        Fetched(
            address(server, "/news/files/summary.pdf"),
            SAVED,
            f"saved as summary.pdf ({len(SUMMARY):,} bytes; 令和6年度後期; published 2024-12-20)",
            "summary.pdf",
        )
    ]
    assert listing(raw) == ["sources.csv", "summary.pdf"]
    assert (raw / "summary.pdf").read_bytes() == SUMMARY
    assert (raw / "sources.csv").read_text(encoding="utf-8") == HEADER + summary_row(server)
    assert read_sources(raw).rows == {
        "summary.pdf": SourceInfo(
            line=2,
            url=address(server, "/news/files/summary.pdf"),
            page_url=address(server, "/press.html"),
            page_title=TITLE,
            published="2024-12-20",
            round="令和6年度後期",
            sha256=SUMMARY_SHA,
        )
    }
    # The release's own PDF, the script's link and the navigation's 概要 page were never asked for.
    assert server.hits == {"/press.html": 1, "/news/press.html": 1, "/news/files/summary.pdf": 1}
    assert pauses == []


def test_bytes_already_in_raw_are_not_saved_again(server, tmp_path):
    raw = tmp_path / "raw"
    fetch_all([address(server, "/press.html")], raw)
    before = (raw / "sources.csv").read_bytes()
    # The same page again, then the same bytes behind a redirect and under another name.
    outcomes, _ = fetch_all(
        [
            address(server, "/press.html"),
            address(server, "/moved.pdf"),
            address(server, "/files/%E6%A6%82%E8%A6%81.pdf"),
        ],
        raw,
    )
    assert [o.line for o in outcomes] == [
        f"{address(server, '/news/files/summary.pdf')}: already in RAW as summary.pdf",
        f"{address(server, '/moved.pdf')}: already in RAW as summary.pdf",
        f"{address(server, '/files/%E6%A6%82%E8%A6%81.pdf')}: already in RAW as summary.pdf",
    ]
    assert {o.status for o in outcomes} == {ALREADY}
    assert listing(raw) == ["sources.csv", "summary.pdf"]
    assert (raw / "sources.csv").read_bytes() == before


def moved_row(server, name: str) -> str:
    """The sources.csv row of /moved.pdf saved as `name`."""
    return f"{name},{address(server, '/moved.pdf')},,,,,2025-01-06T09:30:15Z,{SUMMARY_SHA},{len(SUMMARY)}\n"


def test_a_copy_under_another_name_counts_as_in_raw_and_gets_its_row(server, tmp_path):
    """Issue 25: a PDF a killed fetch (or a maintainer) left without a row was "already in RAW" for ever, its row
    never added."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "r6-kouki.pdf").write_bytes(SUMMARY)
    outcomes, _ = fetch_all([address(server, "/moved.pdf")], raw)
    assert [o.line for o in outcomes] == [
        f"{address(server, '/moved.pdf')}: already in RAW as r6-kouki.pdf, without a row: row added to sources.csv"
    ]
    assert (raw / "sources.csv").read_text(encoding="utf-8") == HEADER + moved_row(server, "r6-kouki.pdf")
    outcomes, _ = fetch_all([address(server, "/moved.pdf")], raw)
    assert [o.line for o in outcomes] == [f"{address(server, '/moved.pdf')}: already in RAW as r6-kouki.pdf"]


def test_a_row_whose_file_is_gone_gets_its_file_again(server, tmp_path):
    """Issue 25: after a PDF was deleted by hand, fetching it again said "already in RAW as d.pdf"."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "sources.csv").write_text(f"source_file,sha256\n移した概要.pdf,{SUMMARY_SHA}\n", encoding="utf-8")
    outcomes, _ = fetch_all([address(server, "/moved.pdf")], raw)
    assert [o.line for o in outcomes] == [
        f"{address(server, '/moved.pdf')}: saved again as 移した概要.pdf, whose row sources.csv kept"
    ]
    assert listing(raw) == ["sources.csv", "移した概要.pdf"]
    assert (raw / "移した概要.pdf").read_bytes() == SUMMARY
    assert (raw / "sources.csv").read_text(encoding="utf-8") == f"source_file,sha256\n移した概要.pdf,{SUMMARY_SHA}\n"


def test_fetch_killed_between_the_pdf_and_its_row_is_mended_by_the_next(server, tmp_path):
    raw = tmp_path / "raw"
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES} | {VARIABLE: "fetch_after_pdf"}
    killed = subprocess.run(
        [sys.executable, "-m", "pipeline", "fetch", address(server, "/moved.pdf"), "--raw", str(raw)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL
    assert listing(raw) == ["moved.pdf"]
    outcomes, _ = fetch_all([address(server, "/moved.pdf")], raw)
    assert [o.line for o in outcomes] == [
        f"{address(server, '/moved.pdf')}: already in RAW as moved.pdf, without a row: row added to sources.csv"
    ]
    assert (raw / "sources.csv").read_text(encoding="utf-8") == HEADER + moved_row(server, "moved.pdf")


@pytest.mark.parametrize(("stop_signal", "status"), [("INT", 130), ("TERM", 143)], ids=["ctrl-c", "sigterm"])
def test_fetch_interrupted_between_the_pdf_and_its_row_takes_the_pdf_back(server, tmp_path, stop_signal, status):
    """Ctrl-C or SIGTERM where a SIGKILL leaves a PDF without its row: the PDF is taken back, and the line says what
    RAW holds (SIGTERM ended fetch without a word)."""
    raw = tmp_path / "raw"
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
    env |= {VARIABLE: "fetch_after_pdf", SIGNAL_VARIABLE: stop_signal}
    stopped = subprocess.run(
        [sys.executable, "-m", "pipeline", "fetch", address(server, "/moved.pdf"), "--raw", str(raw)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (stopped.returncode, stopped.stdout, stopped.stderr) == (
        status,
        "",
        f"interrupted: {raw} holds the summaries saved before, each whole and in sources.csv\n",
    )
    assert listing(raw) == []


# Seconds a test waits for a child process or an event at most: a guard against a hang, never reached when the test
# passes (a fetch from loopback takes about a second, most of it Python starting).
GUARD = 120


def fetch_command(raw: Path, *urls: str) -> list[str]:
    """`python -m pipeline fetch` of the URLs into RAW, as a maintainer types it."""
    return [sys.executable, "-m", "pipeline", "fetch", *urls, "--raw", str(raw)]


def test_two_fetch_processes_racing_into_one_raw_one_is_refused(server, tmp_path):
    """Issue 25: two fetches into one RAW at once both exited 0 and said 80 saved, while sources.csv had 78 rows. Two
    real processes: the first is held in its download (the server waits for the test) while the second starts, is
    refused with the lock's message and exits 1 having asked for nothing; then the first completes."""
    raw = tmp_path / "raw"
    env = {k: v for k, v in os.environ.items() if k not in (*PROXY_VARIABLES, VARIABLE, SIGNAL_VARIABLE)}
    first = subprocess.Popen(
        fetch_command(raw, address(server, "/held.pdf")),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.asked.wait(GUARD)  # the first fetch holds RAW once it asks (hold_raw, then the download)
        second = subprocess.run(
            fetch_command(raw, address(server, "/moved.pdf")),
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=GUARD,
        )
    finally:
        server.release.set()
        out, err = first.communicate(timeout=GUARD)
    assert (second.returncode, second.stdout, second.stderr) == (
        1,
        "",
        f"error: {raw} is in use by another fetch, or by a run listing it: wait for it to finish\n",
    )
    assert (first.returncode, out, err) == (
        0,
        f"{address(server, '/held.pdf')}: saved as held.pdf (165,155 bytes)\n",
        "",
    )
    assert server.hits == {"/held.pdf": 1}
    assert listing(raw) == ["held.pdf", "sources.csv"]
    assert list(read_sources(raw).rows) == ["held.pdf"]


def test_a_second_fetch_or_a_run_is_refused_while_a_fetch_holds_raw(server, tmp_path, capsys):
    """Issue 25: two fetches into one RAW at once both said "80 saved" while sources.csv had 78 rows, 5 PDFs were
    overwritten and 5 rows carried another file's sha256. A fetch holds RAW from start to end (sources.hold_raw), and
    a run holds it while it lists RAW: the second is refused at once, and nothing is asked of the server."""
    raw = tmp_path / "raw"
    raw.mkdir()
    busy = f"error: {raw} is in use by another fetch, or by a run listing it: wait for it to finish\n"
    with hold_raw(raw):  # as the first fetch does
        assert main(["fetch", address(server, "/moved.pdf"), "--raw", str(raw)]) == 1
        assert capsys.readouterr().err == busy
        assert main(["all", "--raw", str(raw), "--out", str(tmp_path / "out"), "-q"]) == 1
        assert capsys.readouterr().err == busy
    assert server.hits == {}
    assert listing(raw) == []


def test_a_pdf_address_is_saved_under_its_own_name_through_redirects(server, tmp_path):
    raw = tmp_path / "raw"
    outcomes, _ = fetch_all([address(server, "/moved.pdf")], raw)
    assert [o.line for o in outcomes] == [
        f"{address(server, '/moved.pdf')}: saved as moved.pdf ({len(SUMMARY):,} bytes)"
    ]
    assert listing(raw) == ["moved.pdf", "sources.csv"]
    # The address as given, not where the redirect ended; nothing known of a page.
    assert (raw / "sources.csv").read_text(encoding="utf-8") == HEADER + (
        f"moved.pdf,{address(server, '/moved.pdf')},,,,,2025-01-06T09:30:15Z,{SUMMARY_SHA},{len(SUMMARY)}\n"
    )


def test_a_japanese_name_is_decoded_and_a_taken_name_gets_a_suffix(server, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "summary.pdf").write_bytes(b"%PDF-1.4 another summary %%EOF\n")
    (raw / "summary-2.pdf").write_bytes(b"%PDF-1.4 a third one %%EOF\n")
    outcomes, _ = fetch_all([address(server, "/files/%E6%A6%82%E8%A6%81.pdf")], raw)
    assert [o.name for o in outcomes] == ["概要.pdf"]
    (raw / "概要.pdf").unlink()  # its row stays: the same bytes fetched again count as in RAW; start afresh
    (raw / "sources.csv").unlink()
    outcomes, _ = fetch_all([address(server, "/press.html")], raw)
    assert [o.name for o in outcomes] == ["summary-3.pdf"]
    assert listing(raw) == ["sources.csv", "summary-2.pdf", "summary-3.pdf", "summary.pdf"]
    assert (raw / "summary.pdf").read_bytes() == b"%PDF-1.4 another summary %%EOF\n"
    assert (raw / "sources.csv").read_text(encoding="utf-8") == HEADER + summary_row(server, "summary-3.pdf")


def test_a_hand_written_sources_csv_keeps_its_rows_bom_and_line_ends(server, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    hand = (
        "\ufeffsource_file,url,page_url,page_title,published,round,retrieved_at,sha256,bytes\r\n"
        'old.pdf,https://example.org/old.pdf,,"手で書いた行, 引用符つき",2020-10-01,令和2年度,,,\r\n'
    )
    (raw / "sources.csv").write_text(hand, encoding="utf-8", newline="")
    fetch_all([address(server, "/press.html")], raw)
    assert (raw / "sources.csv").read_bytes().decode("utf-8") == hand + summary_row(server).replace("\n", "\r\n")
    # A file with fewer columns gets the missing ones, its rows padded.
    (raw / "sources.csv").write_text("source_file,round\nold.pdf,令和2年度\n", encoding="utf-8")
    (raw / "summary.pdf").unlink()
    fetch_all([address(server, "/press.html")], raw)
    assert (raw / "sources.csv").read_text(encoding="utf-8") == (
        "source_file,round,url,page_url,page_title,published,retrieved_at,sha256,bytes\n"
        "old.pdf,令和2年度\n"
        f"summary.pdf,令和6年度後期,{address(server, '/news/files/summary.pdf')},{address(server, '/press.html')},"
        f"{TITLE},2024-12-20,2025-01-06T09:30:15Z,{SUMMARY_SHA},{len(SUMMARY)}\n"
    )


def test_a_busy_server_is_asked_again_after_a_pause(server, tmp_path):
    raw = tmp_path / "raw"
    outcomes, pauses = fetch_all([address(server, "/flaky.pdf")], raw)
    assert [o.line for o in outcomes] == [
        f"{address(server, '/flaky.pdf')}: saved as flaky.pdf ({len(SUMMARY):,} bytes)"
    ]
    assert server.hits == {"/flaky.pdf": 2}
    assert pauses == [2.0]  # its Retry-After: 2, over the first pause of 1 s
    assert listing(raw) == ["flaky.pdf", "sources.csv"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("path", "reason", "hits"),
    [
        ("/missing.pdf", "HTTP 404 Not Found", 1),
        ("/error.pdf", "not a PDF (the server sent text/html: 'ページが見つかりません｜東京都')", 1),
        ("/cut.pdf", f"truncated: no %%EOF at its end ({len(SUMMARY) // 2:,} bytes received)", 1),
        (
            "/truncated.pdf",
            f"truncated: the connection closed after {len(SUMMARY) // 2:,} of {len(SUMMARY):,} bytes (3 attempts)",
            3,
        ),  # tried again after 1 s, then 2 s
        ("/busy.pdf", "HTTP 503 Service Unavailable (3 attempts)", 3),  # after its Retry-After: 2 s, twice
        ("/loop.pdf", "more than 5 redirects", 6),
        (
            "/nolinks.html",
            "no summary PDF linked on the page (no PDF link whose text or list item says 概要 or 別紙; read as utf-8: "
            "1 link(s), 1 to PDFs)",
            1,
        ),
        ("/news/files/summary.pdf", f"too large: over 0.1 MiB (--max-mb), {len(SUMMARY):,} bytes announced", 1),
        ("/chunked.pdf", "too large: over 0.1 MiB (--max-mb), the download was stopped there", 1),
    ],
)
def test_a_failure_is_one_line_and_leaves_nothing(server, tmp_path, path, reason, hits):
    raw = tmp_path / "raw"
    raw.mkdir()
    outcomes, pauses = fetch_all([address(server, path)], raw, max_bytes=MIB // 10 if "too large" in reason else MIB)
    assert [o.line for o in outcomes] == [f"{address(server, path)}: {reason}"]
    assert outcomes[0].status == FAILED
    assert listing(raw) == []  # no file, no temporary, no sources.csv
    assert server.hits == {path: hits}
    assert pauses == {"/truncated.pdf": [1.0, 2.0], "/busy.pdf": [2.0, 2.0]}.get(path, [])


def test_a_closed_port_is_tried_three_times(server, tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/summary.pdf"
    outcomes, pauses = fetch_all([url], tmp_path / "raw", backoff=0.25)
    [line] = [o.line for o in outcomes]
    assert line.startswith(f"{url}: connection failed: ") and line.endswith(" (3 attempts)"), line
    assert "refused" in line.lower()
    assert pauses == [0.25, 0.5]
    assert listing(tmp_path / "raw") == []


@pytest.mark.slow
def test_a_server_that_does_not_answer_times_out_once(server, tmp_path):
    outcomes, pauses = fetch_all([address(server, "/slow.pdf")], tmp_path / "raw", timeout=0.5)
    assert [o.line for o in outcomes] == [f"{address(server, '/slow.pdf')}: no answer within 0.5 s (--timeout)"]
    assert server.hits == {"/slow.pdf": 1} and pauses == []
    assert listing(tmp_path / "raw") == []


def test_a_page_of_many_summary_links_is_fetched_up_to_the_cap(server, tmp_path):
    outcomes, _ = fetch_all([address(server, "/many.html")], tmp_path / "raw")
    assert outcomes[0].line == (
        f"{address(server, '/many.html')}: the page links 25 summary PDFs: only the first 20 are fetched (a press "
        "release links one or two; fetch the others by their own addresses)"
    )
    assert [o.status for o in outcomes[1:]] == [SAVED] + [ALREADY] * 19
    assert sorted(server.hits) == ["/many.html"] + sorted(f"/many/{i}.pdf" for i in range(20))


def test_a_page_stops_at_its_cap_of_bytes_all_its_pdfs_together(server, tmp_path):
    """Issue 25: a page's links were fetched whatever they weighed together. Two and a half summaries' worth: two are
    fetched whole, the third is refused by what they left, the last 17 of the 20 are not asked for."""
    raw = tmp_path / "raw"
    # 2.5 × 165,155 bytes; --max-mb 1, above each PDF, for the peak of memory measured against it
    (outcomes, _), peak = traced_peak(
        fetch_all, [address(server, "/many.html")], raw, page_max_bytes=412_887, max_bytes=MIB
    )
    left_note = f"{address(server, '/many.html')}: the page links 25 summary PDFs: only the first 20 are fetched"
    assert outcomes[0].line.startswith(left_note)
    assert [o.line for o in outcomes[1:4]] == [
        f"{address(server, '/many/0.pdf')}: saved as 0.pdf (165,155 bytes)",
        f"{address(server, '/many/1.pdf')}: already in RAW as 0.pdf",
        f"{address(server, '/many/2.pdf')}: too large: over 0.08 MiB (what the page's 0.39 MiB left, --page-max-mb), "
        "165,155 bytes announced",
    ]
    assert [o.line for o in outcomes[4:]] == [
        f"{address(server, f'/many/{i}.pdf')}: not fetched: the page's PDFs reached 0.39 MiB together "
        "(--page-max-mb); fetch the others by their own addresses"
        for i in range(3, 20)
    ]
    assert sorted(server.hits) == ["/many.html", "/many/0.pdf", "/many/1.pdf", "/many/2.pdf"]
    assert listing(raw) == ["0.pdf", "sources.csv"]
    assert peak < MIB + PEAK_MARGIN, f"peak {peak:,} bytes"


class DripClock:
    """A monotonic clock that moves half a second at each reading and lets the drip server send one more byte: a
    server sending a byte every half second (issue 25: a 25 KB "PDF" took 14 hours), without a sleep."""

    def __init__(self, server):
        self.now, self.server = 0.0, server

    def __call__(self) -> float:
        self.now += 0.5
        self.server.drip.release()
        return self.now


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        ({"deadline": 1.0}, "not received within 1 s (--deadline): the server is too slow"),
        ({"run_deadline": 2.0}, "the fetch ran past its 2 s (--run-deadline)"),
    ],
    ids=["download", "run"],
)
def test_a_server_that_drips_is_stopped_at_the_deadline(server, tmp_path, limits, reason):
    raw = tmp_path / "raw"
    (outcomes, pauses), peak = traced_peak(
        fetch_all, [address(server, "/drip.pdf")], raw, monotonic=DripClock(server), max_bytes=MIB, **limits
    )
    assert [o.line for o in outcomes] == [f"{address(server, '/drip.pdf')}: {reason}"]
    assert listing(raw) == [] and pauses == []
    assert peak < MIB + PEAK_MARGIN, f"peak {peak:,} bytes"


def traced_peak(function, *args, **kwargs):
    """What function(*args, **kwargs) returns, and the peak of Python memory it took (tracemalloc), in bytes."""
    tracemalloc.start()
    try:
        result = function(*args, **kwargs)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_gzip_bomb_is_stopped_at_the_cap_within_a_block_of_memory(server, tmp_path):
    """Issue 25: each layer was unpacked whole before the cap was checked: 3,499 bytes took the process to 4.2 GB."""
    (outcomes, _), peak = traced_peak(fetch_all, [address(server, "/bomb.pdf")], tmp_path / "raw", max_bytes=MIB)
    assert [o.line for o in outcomes] == [
        f"{address(server, '/bomb.pdf')}: too large: over 1 MiB (--max-mb), the download was stopped there"
    ]
    assert peak < MIB + PEAK_MARGIN, f"peak {peak:,} bytes"


@pytest.mark.parametrize(("path", "encoding"), [("/bomb2.pdf", "gzip, gzip"), ("/br.pdf", "br")])
def test_stacked_or_unknown_encodings_are_refused(server, tmp_path, path, encoding):
    outcomes, _ = fetch_all([address(server, path)], tmp_path / "raw")
    assert [o.line for o in outcomes] == [
        f"{address(server, path)}: refused: the answer is sent as Content-Encoding: {encoding}, which fetch does not "
        "read"
    ]


def test_a_gzipped_pdf_is_saved_unpacked(server, tmp_path):
    outcomes, _ = fetch_all([address(server, "/gzip.pdf")], tmp_path / "raw")
    assert [o.line for o in outcomes] == [f"{address(server, '/gzip.pdf')}: saved as gzip.pdf ({len(SUMMARY):,} bytes)"]
    assert (tmp_path / "raw" / "gzip.pdf").read_bytes() == SUMMARY


def test_a_sources_csv_that_cannot_be_written_takes_the_pdf_back(server, tmp_path, monkeypatch):
    def refused(raw, row):
        raise OSError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr("pipeline.acquire.sources.add_source_row", refused)
    raw = tmp_path / "raw"
    outcomes, _ = fetch_all([address(server, "/moved.pdf")], raw)
    assert [o.line for o in outcomes] == [
        f"{address(server, '/moved.pdf')}: not saved: sources.csv could not be written: [Errno 13] Permission denied"
    ]
    assert listing(raw) == []


def failing_writing(name: str, code: int):
    """core.io.atomic_file that fails with the error `code` of the machine (naming no file, as a write does) while
    writing the file `name`: the injected full disk of tests/test_robustness.py."""
    real = io_module.atomic_file

    @contextmanager
    def atomic_file(path: Path):
        with real(path) as f:
            if path.name == name:
                raise OSError(code, os.strerror(code))
            yield f

    return atomic_file


@pytest.mark.parametrize("code", MACHINE_ERRNOS, ids=[errno.errorcode[c] for c in MACHINE_ERRNOS])
@pytest.mark.parametrize("name", ["moved.pdf", "sources.csv"])
def test_a_full_disk_in_raw_stops_fetch_as_the_machines_failure(server, tmp_path, monkeypatch, capsys, name, code):
    """Issue 25: fetch's own full disk said "not saved: [Errno 28]…" per URL and exited 2, as for a bad address. Now
    the run's machine-failure status, 3, with the path and what to do; RAW keeps only the summary saved before, whole
    with its row (a PDF whose row could not be written is taken back), and the later address is not asked for."""
    raw = tmp_path / "raw"
    first, second = address(server, "/files/press-release.pdf"), address(server, "/moved.pdf")
    assert main(["fetch", first, "--raw", str(raw)]) == 0
    capsys.readouterr()
    before = {entry: (raw / entry).read_bytes() for entry in listing(raw)}
    monkeypatch.setattr(io_module, "atomic_file", failing_writing(name, code))
    later = address(server, "/gzip.pdf")
    assert main(["fetch", second, later, "--raw", str(raw)]) == 3
    assert capsys.readouterr() == (
        "",
        f"error: {os.strerror(code)} writing {raw / name}; free some space (or mend the disk) and fetch again: {raw} "
        "holds the summaries saved before, each whole and in sources.csv\n",
    )
    assert {entry: (raw / entry).read_bytes() for entry in listing(raw)} == before
    assert server.hits == {"/files/press-release.pdf": 1, "/moved.pdf": 1, "/news/files/summary.pdf": 1}  # redirected


# --- the command ---------------------------------------------------------------------------------------------


def test_the_command_goes_on_after_a_failure_and_exits_2(server, tmp_path, capsys):
    raw = tmp_path / "raw"
    urls = [address(server, p) for p in ("/missing.pdf", "/press.html", "/error.pdf")]
    assert main(["fetch", *urls, "--raw", str(raw)]) == 2
    out, err = capsys.readouterr()
    assert out == (
        f"{address(server, '/news/files/summary.pdf')}: saved as summary.pdf ({len(SUMMARY):,} bytes; "
        "令和6年度後期; published 2024-12-20)\n"
    )
    assert err == (
        f"{urls[0]}: HTTP 404 Not Found\n"
        f"{urls[2]}: not a PDF (the server sent text/html: 'ページが見つかりません｜東京都')\n"
    )
    assert listing(raw) == ["sources.csv", "summary.pdf"]
    [row] = read_sources(raw).rows.values()
    assert (row.round, row.published, row.sha256) == ("令和6年度後期", "2024-12-20", SUMMARY_SHA)
    # Fetched again, every summary is there already: exit 0.
    assert main(["fetch", urls[1], "--raw", str(raw)]) == 0
    assert capsys.readouterr() == (f"{address(server, '/news/files/summary.pdf')}: already in RAW as summary.pdf\n", "")


def test_the_command_refuses_wrong_addresses_and_an_unusable_raw_before_fetching(server, tmp_path, capsys):
    raw = tmp_path / "raw"
    assert main(["fetch", address(server, "/press.html"), "file:///etc/passwd", "--raw", str(raw)]) == 1
    assert capsys.readouterr().err == "error: not an http or https address: file:///etc/passwd\n"
    raw.write_text("a file")
    assert main(["fetch", address(server, "/press.html"), "--raw", str(raw)]) == 1
    assert capsys.readouterr().err == f"error: --raw must be a folder, not a file: {raw}\n"
    raw.unlink()
    raw.mkdir()
    (raw / "sources.csv").write_bytes("source_file,url\n概要.pdf,\n".encode("shift_jis"))
    assert main(["fetch", address(server, "/press.html"), "--raw", str(raw)]) == 1
    assert capsys.readouterr().err == (
        f"error: {raw / 'sources.csv'} is not UTF-8 (invalid start byte at byte 16): save it as UTF-8\n"
    )
    with pytest.raises(SystemExit) as exited:
        main(["fetch", address(server, "/press.html"), "--raw", str(raw), "--timeout", "0"])
    assert exited.value.code == 1
    assert capsys.readouterr().err == (
        "error: argument --timeout: must be above zero: 0 (see python -m pipeline fetch --help)\n"
    )
    assert server.hits == {}
    assert listing(raw) == ["sources.csv"]


@pytest.mark.slow
def test_make_fetch_saves_the_summary_and_refuses_an_empty_url(server, tmp_path):
    raw = tmp_path / "入力 データ"
    venv = Path(sys.prefix)  # the environment running the tests: make installs nothing (-o: its stamp is current)
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
    make = ["make", "-s", "-C", str(ROOT), f"VENV={venv}", "-o", f"{venv}/.installed"]
    urls = f"{address(server, '/press.html')} {address(server, '/moved.pdf')}"
    result = subprocess.run(
        [*make, "fetch", f"URL={urls}", f"RAW={raw}"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"{address(server, '/moved.pdf')}: already in RAW as summary.pdf"
    [(name, row)] = read_sources(raw).rows.items()
    assert (name, row.url, row.page_url, row.page_title, row.published, row.round, row.sha256) == (
        "summary.pdf",
        address(server, "/news/files/summary.pdf"),
        address(server, "/press.html"),
        TITLE,
        "2024-12-20",
        "令和6年度後期",
        SUMMARY_SHA,
    )
    assert listing(raw) == ["sources.csv", "summary.pdf"]
    empty = subprocess.run([*make, "fetch", f"RAW={raw}"], capture_output=True, text=True, env=env, timeout=120)
    assert empty.returncode != 0 and "usage: make fetch URL=" in empty.stderr


# --- reading a page ------------------------------------------------------------------------------------------


def test_the_words_around_a_link_count_when_they_are_its_own():
    page = parse_page("""<html><body><ul>
        <li>別紙　承認した地域産業活性化計画の概要（令和6年度前期）（<a href="a/gaiyou.pdf">PDF：1.2MB</a>）
        <li>参考資料（<a href="a/sankou.pdf">PDF：300KB</a>）
        <li><a href="/download?id=7">別紙２（PDF：80KB）</a>
        <li><a href="/about.html">事業の概要</a>
        </ul>
        <div>別紙 <a href="b1.pdf">PDF</a> 報道発表資料 <a href="b2.pdf">PDF</a></div>
        <p><a href="mailto:someone@example.org">別紙.pdf</a> <a href="#top">概要.pdf</a></p>
        </body></html>""")
    links = summary_links(page, "https://www.example.jp/news/2024/release.html")
    assert [(a.url, a.round) for a in links] == [
        ("https://www.example.jp/news/2024/a/gaiyou.pdf", "令和6年度前期"),  # its list item says 別紙 and the round
        ("https://www.example.jp/download?id=7", None),  # no .pdf, but the link says PDF: a download address
    ]  # not the mail address nor the place on the page, whatever they say


def test_the_publication_date_and_title_of_a_page():
    def published(body, head="<title>t</title>"):
        return parse_page(f"<html><head>{head}</head><body>{body}</body></html>").published

    assert published('<time datetime="2024-12-20T10:00+09:00">12月20日</time>') == "2024-12-20"
    assert published("<nav>令和7年1月10日 更新</nav><h1>承認</h1><p>令和元年５月１日　産業労働局</p>") == "2019-05-01"
    assert published("<p>2024年 12月 20日</p>") == "2024-12-20"
    assert published('<p class="news-date">令和6年2月30日</p><p>令和6年3月1日</p>') == "2024-03-01"  # no Feb 30
    assert published("<p>令和6年度から令和8年度</p>") is None
    assert parse_page("<html><body><h1>見出し（令和5年度第2回）</h1></body></html>").title == "見出し（令和5年度第2回）"
    sjis = "<html><head><meta charset='Shift_JIS'><title>承認①</title></head></html>".encode("cp932")
    assert parse_page(read_html(Download("u", "u", "text/html", None, sjis))[0]).title == "承認①"


SJIS_PAGE = """<html><head><title>承認しました（令和6年度後期）</title>{meta}</head><body>
<ul><li><a href="files/summary.pdf">{text}（PDF：161KB）</a></li></ul></body></html>"""


@pytest.mark.parametrize(
    ("content_type", "meta", "encoding"),
    [
        ("text/html; charset=Windows-31J", "", "shift_jis"),  # what Java servers send
        ("text/html; charset=x-sjis", "", "shift_jis"),
        ("text/html", "<!--" + "x" * 5000 + "--><meta charset='Shift_JIS'>", "shift_jis"),  # past the first 4 KiB
        ("text/html", "", "shift_jis"),  # no label, not UTF-8: a browser set to Japanese reads Shift_JIS
        ("text/html; charset=utf-8", "", "utf-8"),
    ],
    ids=["windows-31j", "x-sjis", "late-meta", "unlabelled", "utf-8"],
)
def test_japanese_servers_encodings_are_read_as_a_browser_reads_them(content_type, meta, encoding):
    """Issue 25: a page served as Windows-31J or x-sjis, or with its <meta> after the first 4 KiB, was read as UTF-8
    and fetch said "no summary PDF linked on the page"."""
    html = SJIS_PAGE.format(meta=meta, text="別紙　承認した計画の概要①")
    data = html.encode("cp932" if encoding == "shift_jis" else encoding)  # ①: Windows-31J, as Japanese sites write
    got = Download("u", "https://x.jp/news/p.html", *parse_content_type(content_type), data)
    text, used = read_html(got)
    assert used == encoding
    page = parse_page(text)
    assert page.title == "承認しました（令和6年度後期）"
    assert [a.url for a in summary_links(page, got.final_url)] == ["https://x.jp/news/files/summary.pdf"]


@pytest.mark.parametrize("text", ["概 要", "概　要", "別　紙", "別 紙　資料"])
def test_a_spaced_out_link_text_names_a_summary(text):
    """Issue 25: links reading 「概　要」, 「概 要」 or 「別　紙」 were skipped without a word."""
    page = parse_page(f'<ul><li><a href="/s.pdf">{text}（PDF）</a></li></ul>')
    assert [a.url for a in summary_links(page, "https://x.jp/p.html")] == ["https://x.jp/s.pdf"]


def test_links_are_resolved_against_the_pages_base():
    """Issue 25: <base href> was ignored, and fetch asked for another address than a browser does."""
    page = parse_page('<head><base href="https://cdn.x.jp/files/"></head><li><a href="s.pdf">概要</a></li>')
    assert [a.url for a in summary_links(page, "https://x.jp/news/p.html")] == ["https://cdn.x.jp/files/s.pdf"]


# Characters the parser may gather into elements' texts per character of the page: the texts read (title,
# headline, links, the blocks around links, dates) overlap at most a few deep on a real page.
GATHERED_PER_CHARACTER = 4


def test_the_page_parser_works_in_time_linear_in_the_page():
    """Issue 25: closing each element gathered its text from its start: 80,000 unclosed <div> (a 400 KB page) took
    45 s. Counted in characters gathered, not in seconds."""
    html = "<html><title>t</title><body>" + "<div>x" * 80_000 + '<li><a href="/s.pdf">概要</a></li></body></html>'
    parser = PageParser()
    parser.feed(html)
    parser.close()
    assert parser.links[0].text == "概要"
    assert parser.gathered <= GATHERED_PER_CHARACTER * len(html)


@pytest.mark.parametrize(
    ("url", "final", "name"),
    [
        ("https://x.jp/a/r6%E6%A6%82%E8%A6%81.pdf", None, "r6概要.pdf"),
        ("https://x.jp/a/REPORT.PDF", None, "REPORT.pdf"),
        ("https://x.jp/download?id=3", "https://cdn.x.jp/files/gaiyou.pdf", "gaiyou.pdf"),
        ("https://x.jp/download?id=3", "https://x.jp/download?id=3", "download.pdf"),
        ("https://x.jp/a/..%2F..%2Fetc%2Fpasswd", None, "_.._etc_passwd.pdf"),
        ("https://x.jp/a/.hidden.pdf", None, "hidden.pdf"),
        ("https://x.jp/a/%0Aline%E2%80%AE.pdf", None, "_line_.pdf"),
        ("https://x.jp/", None, "summary.pdf"),
        ("https://x.jp/a/.pdf", None, "summary.pdf"),
        ("https://x.jp/a/" + "概" * 100 + ".pdf", None, "概" * 66 + ".pdf"),
    ],
)
def test_file_names_come_from_the_address_and_are_safe(url, final, name):
    assert pdf_name(url, final or url) == name
