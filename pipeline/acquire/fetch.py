"""`python -m pipeline fetch URL…`: download approval summaries into RAW, each described by a row of
RAW/sources.csv (pipeline.acquire.sources).

A URL is a press release (an HTML page) or a summary PDF itself; which, the answer says: bytes starting with
`%PDF-` are a PDF whatever the Content-Type, an HTML Content-Type (or markup) is a page. From a page, the PDF
links whose text, or the element around them, says 概要 or 別紙 are fetched (「別紙　承認した地域産業活性化計画の
概要（PDF：1.2MB）」), and no other: a press release also links its own text and unrelated material.

A download is refused unless its bytes are a whole PDF (`%PDF-` at the start, `%%EOF` in the last KiB, as many
bytes as the server announced), so an error page saved under a .pdf name or a cut-off transfer never reaches RAW.
Bytes already in RAW (any file, or a sources.csv row with their sha256) are not saved again, and no file is ever
overwritten: a new file under a taken name gets `-2`, `-3`. The PDF is written atomically, then sources.csv is
rewritten atomically with the row added; when that fails the PDF is taken back, so RAW never holds half a fetch.

Each URL comes out as one Outcome, printed as one line: saved, already in RAW, or failed with its reason; a
failure never stops the other URLs.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import httpx

from pipeline import PIPELINE_VERSION
from pipeline.acquire.rounds import era_year, parse_round
from pipeline.acquire.sources import SOURCE_COLUMNS, SOURCES_NAME, read_sources
from pipeline.core.io import sha256_file, write_atomic
from pipeline.core.text import normalize_text

USER_AGENT = f"tokyo-plans/{PIPELINE_VERSION} (python -m pipeline fetch; approval summaries for research)"
MIB = 1 << 20
EOF_WINDOW = 1024  # the PDF specification puts %%EOF within the last 1024 bytes of the file
NAME_MAX_BYTES = 200  # a file name's stem, in UTF-8 bytes: Linux allows 255 for the whole name, suffix included
RETRY_AFTER_MAX = 60.0  # seconds: a server asking for longer is not waited for that long
HTML_TYPES = ("text/html", "application/xhtml+xml")
SAVED, ALREADY, FAILED = "saved", "already", "failed"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Settings:
    """How to download: the limits, the retries, and the clock and sleep a test may replace."""

    timeout: float = 30.0  # seconds to connect, and between two reads of the answer
    max_bytes: int = 100 * MIB  # a larger answer is refused, stopped as soon as it passes the cap
    attempts: int = 3  # tries of a URL that failed to connect, broke off, or got a 5xx or 429 answer
    backoff: float = 1.0  # seconds before the second try, doubled before each next
    max_redirects: int = 5
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], datetime] = utc_now


@dataclass(frozen=True)
class Outcome:
    """What became of one URL: `status` is saved, already (in RAW) or failed; `message` says which file or why."""

    url: str
    status: str
    message: str
    name: str | None = None  # the file in RAW, saved or already there

    @property
    def line(self) -> str:
        return f"{self.url}: {self.message}"


class FetchFailed(Exception):
    """A URL that could not be fetched: its one-line reason."""


class Retry(Exception):
    """A failure another attempt may not meet (a broken connection, a 5xx or 429 answer): its one-line reason."""

    def __init__(self, reason: str, after: float = 0.0):
        super().__init__(reason)
        self.after = after


class RawUnusable(Exception):
    """RAW, or its sources.csv, cannot take new files: reported before anything is downloaded."""


@dataclass(frozen=True)
class Download:
    """An answer read whole: the URL asked for, where the redirects ended, its media type and its bytes."""

    url: str
    final_url: str
    content_type: str  # media type, lowercase, without parameters; "" when the server sent none
    charset: str | None
    data: bytes


# --- downloading ---------------------------------------------------------------------------------------------

def client(settings: Settings) -> httpx.Client:
    return httpx.Client(timeout=httpx.Timeout(settings.timeout), follow_redirects=True,
                        max_redirects=settings.max_redirects, headers={"User-Agent": USER_AGENT})


def download(session: httpx.Client, url: str, settings: Settings) -> Download:
    """GET a URL whole, tried again after a pause that doubles each time when the connection failed or broke off
    or the server answered 5xx or 429 (or after its Retry-After, up to a minute)."""
    for attempt in range(1, settings.attempts + 1):
        try:
            return download_once(session, url, settings)
        except Retry as exc:
            if attempt == settings.attempts:
                raise FetchFailed(f"{exc} ({attempt} attempts)" if attempt > 1 else str(exc)) from None
            settings.sleep(max(settings.backoff * 2 ** (attempt - 1), exc.after))
    raise AssertionError("unreachable")


def download_once(session: httpx.Client, url: str, settings: Settings) -> Download:
    response = None
    expected = None
    try:
        with session.stream("GET", url) as response:
            status = response.status_code
            if status == 429 or status >= 500:
                raise Retry(f"HTTP {status} {response.reason_phrase}".rstrip(), retry_after(response))
            if not 200 <= status < 300:
                raise FetchFailed(f"HTTP {status} {response.reason_phrase}".rstrip())
            expected = content_length(response)
            if expected is not None and expected > settings.max_bytes:
                raise FetchFailed(too_large(settings.max_bytes, f"{expected:,} bytes announced"))
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > settings.max_bytes:
                    raise FetchFailed(too_large(settings.max_bytes, "the download was stopped there"))
                chunks.append(chunk)
            received = response.num_bytes_downloaded
            if expected is not None and received != expected:
                raise Retry(f"truncated: {received:,} of {expected:,} bytes received")
            media_type, charset = parse_content_type(response.headers.get("content-type", ""))
            return Download(url, str(response.url), media_type, charset, b"".join(chunks))
    except httpx.TooManyRedirects:
        raise FetchFailed(f"more than {settings.max_redirects} redirects") from None
    except httpx.ConnectTimeout:
        raise Retry(f"no connection within {settings.timeout:g} s (--timeout)") from None
    except httpx.TimeoutException:
        # Not tried again: a server silent for --timeout seconds would make the command wait that long again.
        raise FetchFailed(f"no answer within {settings.timeout:g} s (--timeout)") from None
    except httpx.RemoteProtocolError as exc:
        if response is not None and expected is not None:
            raise Retry(f"truncated: the connection closed after {response.num_bytes_downloaded:,} of "
                        f"{expected:,} bytes") from None
        raise Retry(f"connection broken: {one_line(exc)}") from None
    except httpx.UnsupportedProtocol:
        raise FetchFailed("redirected to an address that is not http or https") from None
    except httpx.DecodingError as exc:
        raise FetchFailed(f"the answer could not be decompressed: {one_line(exc)}") from None
    except (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.CloseError) as exc:
        raise Retry(f"connection failed: {one_line(exc)}") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise FetchFailed(f"{type(exc).__name__}: {one_line(exc)}") from None


def content_length(response: httpx.Response) -> int | None:
    """The announced length of the body as sent (compressed, when it is); None when absent or not a number."""
    value = response.headers.get("content-length", "")
    return int(value) if value.strip().isdigit() else None


def retry_after(response: httpx.Response) -> float:
    """Seconds a 429 or 503 answer asks to wait (Retry-After in seconds), capped; 0 when it says none."""
    value = response.headers.get("retry-after", "").strip()
    return min(float(value), RETRY_AFTER_MAX) if value.isdigit() else 0.0


def too_large(max_bytes: int, how: str) -> str:
    return f"too large: over {round(max_bytes / MIB, 2):g} MiB (--max-mb), {how}"


def parse_content_type(value: str) -> tuple[str, str | None]:
    media_type, _, params = value.partition(";")
    m = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", params, re.IGNORECASE)
    return media_type.strip().lower(), m[1] if m else None


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# --- what came back ------------------------------------------------------------------------------------------

def is_pdf(got: Download) -> bool:
    return got.data.startswith(b"%PDF-")


def is_html(got: Download) -> bool:
    if got.content_type in HTML_TYPES:
        return True
    start = got.data[:512].lstrip(codecs.BOM_UTF8 + b" \t\r\n").lower()
    return got.content_type in ("", "text/plain", "application/octet-stream") and start.startswith(
        (b"<!doctype html", b"<html"))


def check_pdf(got: Download) -> None:
    """Refuse bytes that are not a whole PDF: an error page under a .pdf name, a transfer cut short."""
    if not is_pdf(got):
        raise FetchFailed(f"not a PDF (the server sent {got.content_type or 'no Content-Type'}: {preview(got)!r})")
    if b"%%EOF" not in got.data[-EOF_WINDOW:]:
        raise FetchFailed(f"truncated: no %%EOF at its end ({len(got.data):,} bytes received)")


def preview(got: Download, limit: int = 60) -> str:
    """What an answer that is not a PDF is: a page's title, else its first characters."""
    text = None
    if is_html(got):
        page = parse_page(decode_html(got))
        text = page.title or page.h1
    if not text:
        text = collapse(got.data[:limit * 4].decode("utf-8", "replace"))
    return text if len(text) <= limit else text[:limit - 1] + "…"


def decode_html(got: Download) -> str:
    """A page's text: in the charset the server names, else the one its <meta> names, else UTF-8."""
    charset = got.charset
    if charset is None:
        m = re.search(rb"<meta[^>]*charset\s*=\s*[\"']?([\w.:-]+)", got.data[:4096], re.IGNORECASE)
        charset = m[1].decode("ascii") if m else "utf-8"
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        name = "utf-8"
    # Browsers read Shift_JIS as Windows-31J, its superset (①, ㈱, NEC and IBM extensions); Japanese sites use them.
    name = {"shift_jis": "cp932"}.get(name, name)
    data = got.data[len(codecs.BOM_UTF8):] if got.data.startswith(codecs.BOM_UTF8) else got.data
    return data.decode(name, "replace")


# --- reading a press release ---------------------------------------------------------------------------------

# Elements that do not enclose a link for its surrounding text: the phrase-level ones a link sits in.
INLINE = frozenset("a abbr b bdi bdo big br cite code data dfn em font i img kbd mark q s samp small span "
                   "strong sub sup time tt u var wbr".split())
VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
SKIPPED = frozenset(("script", "style", "template"))
# An open element of the key closes when one of these starts, as a browser's parser does.
IMPLIED_END = {"li": {"li"}, "p": {"p"}, "dt": {"dt", "dd"}, "dd": {"dt", "dd"}, "tr": {"tr"},
               "td": {"td", "th"}, "th": {"td", "th"}, "option": {"option"}}
DATE_RE = re.compile(r"(?:(?P<era>令和|平成)\s*(?P<year>元|\d{1,2})|(?P<gregorian>\d{4}))\s*年\s*"
                     r"(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*日")
NEAR_HEADLINE = 1000  # characters after the first <h1> in which its date is looked for
NEAR_TOP = 2000  # characters from the top of the page, when the date is not by the headline


@dataclass
class Link:
    """An <a href> of a page: its address as written, its text, and the text of the element around it (an <li>,
    a <p>, a cell) when that element holds no other PDF link, so the words are this link's."""

    href: str
    text: str = ""
    context: str | None = None
    block: int | None = None  # index of the enclosing element among the parser's blocks


@dataclass
class Page:
    title: str | None
    h1: str | None
    published: str | None  # ISO date
    links: list[Link]


@dataclass
class _Element:
    tag: str
    start: int  # index of its first text chunk
    block: int | None = None  # for a block element: its index in the parser's blocks
    link: int | None = None  # for an <a href>: its index in the parser's links
    dated: bool = False  # a <time>, or an element whose class names a date


class PageParser(HTMLParser):
    """What the standard library's tolerant parser sees of a page: the texts of its title, first <h1>, links and
    their enclosing elements, and its date. Unclosed <li> and <p> close as a browser closes them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.stack: list[_Element] = []
        self.links: list[Link] = []
        self.blocks: list[list[int]] = []  # per block element: the links it encloses
        self.title: str | None = None
        self.h1: str | None = None
        self.h1_at: int | None = None  # chunk index where the first <h1> starts
        self.dates: list[str] = []  # <time datetime> values and the texts of date elements, in page order
        self.skipping: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping:
            return
        if tag in SKIPPED:
            self.skipping = tag
            return
        values = {name: value or "" for name, value in attrs}
        if tag in IMPLIED_END:
            self.close_implied(IMPLIED_END[tag])
        if tag not in INLINE:
            self.chunks.append("\n")
        if tag in VOID:
            return
        element = _Element(tag, len(self.chunks))
        if tag not in INLINE:
            element.block = len(self.blocks)
            self.blocks.append([])
        if tag == "a" and values.get("href", "").strip():
            element.link = len(self.links)
            block = next((e.block for e in reversed(self.stack) if e.block is not None), None)
            self.links.append(Link(values["href"].strip(), block=block))
            if block is not None:
                self.blocks[block].append(element.link)
        if tag == "h1" and self.h1_at is None:
            self.h1_at = len(self.chunks)
        if tag == "time" and values.get("datetime"):
            self.dates.append(values["datetime"])
        classes = re.split(r"[\s_-]+", values.get("class", "").lower())
        element.dated = tag == "time" or any(c.startswith("date") for c in classes)  # date, news-date; not update
        self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag == self.skipping:
                self.skipping = None
            return
        if not any(e.tag == tag for e in self.stack):
            return  # a stray end tag
        while self.stack:
            element = self.stack.pop()
            self.closed(element)
            if element.tag == tag:
                break

    def close_implied(self, closers: set[str]) -> None:
        """Close an open <li>, <p>, cell… that a new one of its kind ends, up to the nearest list or table."""
        for depth in range(len(self.stack) - 1, -1, -1):
            tag = self.stack[depth].tag
            if tag in closers:
                while len(self.stack) > depth:
                    self.closed(self.stack.pop())
                return
            if tag in ("ul", "ol", "dl", "table", "tbody", "thead", "select", "div", "body"):
                return

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.chunks.append(data)

    def closed(self, element: _Element) -> None:
        text = collapse("".join(self.chunks[element.start:]))
        if element.tag not in INLINE:
            self.chunks.append("\n")
        if element.tag == "title" and self.title is None:
            self.title = text or None
        elif element.tag == "h1" and self.h1 is None:
            self.h1 = text or None
        if element.link is not None:
            self.links[element.link].text = text
        if element.block is not None:
            for index in self.blocks[element.block]:
                self.links[index].context = text
        if element.dated and text:
            self.dates.append(text)

    def close(self) -> None:
        super().close()
        while self.stack:
            self.closed(self.stack.pop())


def parse_page(html: str) -> Page:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    for members in parser.blocks:  # the surrounding text is a link's own only when no other PDF link shares it
        if sum(looks_like_pdf(parser.links[i]) for i in members) > 1:
            for i in members:
                parser.links[i].context = None
    text = "".join(parser.chunks)
    near = []
    if parser.h1_at is not None:
        near.append("".join(parser.chunks[parser.h1_at:])[:NEAR_HEADLINE])
    near.append(text[:NEAR_TOP])
    # The title is what the browser's tab, a bookmark and a citation show, and every page has one; an <h1> is
    # the page's headline on some sites and the site's logo on others. Only a page without a title gets its <h1>.
    return Page(title=parser.title or parser.h1, h1=parser.h1, published=first_date([*parser.dates, *near]),
                links=parser.links)


def first_date(texts: Iterable[str]) -> str | None:
    """The first date the texts give, ISO: an ISO date (a <time datetime>), 令和6年12月20日 or 2024年12月20日."""
    for text in texts:
        m = re.match(r"\s*(\d{4}-\d{2}-\d{2})", text)
        found = valid_date(*map(int, m[1].split("-"))) if m else None
        if found:
            return found
        for m in DATE_RE.finditer(normalize_text(text) or ""):
            year = era_year(m["era"], m["year"]) if m["era"] else int(m["gregorian"])
            found = valid_date(year, int(m["month"]), int(m["day"]))
            if found:
                return found
    return None


def valid_date(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def collapse(text: str) -> str:
    """Runs of ASCII white space as one space; an ideographic space stays as printed."""
    return re.sub(r"[ \t\r\n\f\v]+", " ", text).strip()


def looks_like_pdf(link: Link) -> bool:
    """A link to a PDF: its path ends in .pdf, or its text says PDF (（PDF：1.2MB）) of a download address."""
    return urlsplit(link.href).path.lower().endswith(".pdf") or "pdf" in (normalize_text(link.text) or "").lower()


def names_summary(text: str | None) -> bool:
    text = normalize_text(text) or ""
    return "概要" in text or "別紙" in text


@dataclass(frozen=True)
class Attachment:
    url: str  # absolute, as linked
    round: str | None


def summary_links(page: Page, base_url: str) -> list[Attachment]:
    """The page's links to PDFs whose text or enclosing element says 概要 or 別紙, absolute, each once, in page
    order; with the round the link names when the page's title names none."""
    found: dict[str, Attachment] = {}
    for link in page.links:
        if link.href.startswith("#"):
            continue  # a place on the page itself
        url = urljoin(base_url, link.href)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            continue
        url = urlunsplit(parts._replace(fragment=""))
        if url in found or not looks_like_pdf(link) or not (names_summary(link.text) or names_summary(link.context)):
            continue
        found[url] = Attachment(url, parse_round(link.text, bracketed_only=True)
                                or parse_round(link.context, bracketed_only=True))
    return list(found.values())


# --- RAW and sources.csv -------------------------------------------------------------------------------------

def check_raw(raw: Path) -> None:
    """Refuse a RAW that is not a folder, or whose sources.csv cannot take a row, before downloading anything."""
    if raw.exists() and not raw.is_dir():
        raise RawUnusable(f"--raw must be a folder, not a file: {raw}")
    read_sources_file(raw)


@dataclass
class SourcesFile:
    text: str | None  # None when there is no sources.csv (or it is empty)
    bom: bool
    newline: str
    header: list[str]


def read_sources_file(raw: Path) -> SourcesFile:
    path = raw / SOURCES_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return SourcesFile(None, False, "\n", list(SOURCE_COLUMNS))
    except OSError as exc:
        raise RawUnusable(f"{path} cannot be read: {exc.strerror or exc}") from None
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RawUnusable(f"{path} is not UTF-8 ({exc.reason} at byte {exc.start}): save it as UTF-8") from None
    if not text.strip():
        return SourcesFile(None, bom, "\n", list(SOURCE_COLUMNS))
    first = text.split("\n", 1)[0]
    try:
        header = next(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise RawUnusable(f"{path} cannot be read: {exc}") from None
    if "source_file" not in (name.strip() for name in header):
        raise RawUnusable(f"{path} has no source_file column in its first line: fix it or move it away")
    return SourcesFile(text, bom, "\r\n" if first.endswith("\r") else "\n", header)


def add_source_row(raw: Path, row: dict[str, str]) -> None:
    """Rewrite sources.csv with the row added (atomically: a crash leaves the old file or the new one). Its rows,
    their order and quoting, its byte order mark and line ends stay as they were; columns it lacks are added at
    the end of its header (the old rows then rewritten as the csv module quotes them, their cells unchanged)."""
    current = read_sources_file(raw)
    if current.text is None:
        text = csv_text([list(SOURCE_COLUMNS), [row[c] for c in SOURCE_COLUMNS]], current.newline)
    else:
        names = [name.strip() for name in current.header]
        missing = [c for c in SOURCE_COLUMNS if c not in names]
        if missing:  # every row again, the new columns empty in the old rows
            lines = list(csv.reader(io.StringIO(current.text)))
            lines[0] = current.header + missing
            text = csv_text(lines, current.newline)
            names += missing
        else:
            text = current.text if current.text.endswith("\n") else current.text + current.newline
        text += csv_text([[row.get(name, "") for name in names]], current.newline)
    write_atomic(raw / SOURCES_NAME, (codecs.BOM_UTF8 if current.bom else b"") + text.encode("utf-8"))


def csv_text(rows: list[list[str]], newline: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    return out.getvalue()


class RawFolder:
    """RAW as fetch sees it: the sha256 of what it holds (its files and sources.csv's rows), and free names."""

    def __init__(self, raw: Path):
        self.raw = raw
        self._held: dict[str, str] | None = None

    def held(self) -> dict[str, str]:
        """sha256 → the name of a file of RAW with those bytes, or of a sources.csv row that gives them."""
        if self._held is None:
            self._held = {}
            if self.raw.is_dir():
                for path in sorted(self.raw.iterdir()):
                    if path.name.startswith(".") or path.name == SOURCES_NAME or path.is_symlink():
                        continue
                    try:
                        self._held.setdefault(sha256_file(path), path.name)
                    except OSError:  # a folder, a FIFO, an unreadable file: not bytes fetch could duplicate
                        continue
            for name, info in read_sources(self.raw).rows.items():
                if info.sha256:
                    self._held.setdefault(info.sha256, name)
        return self._held

    def free_name(self, name: str) -> str:
        """The name, or with -2, -3… before .pdf when something stands under it already."""
        stem, number, candidate = name[:-len(".pdf")], 1, name
        while os.path.lexists(self.raw / candidate):
            number += 1
            candidate = f"{stem}-{number}.pdf"
        return candidate

    def add(self, sha256: str, name: str) -> None:
        self.held()[sha256] = name


def pdf_name(url: str, final_url: str) -> str:
    """A file name from the URL's last path segment (percent-escapes decoded), or the final URL's when only that
    one ends in .pdf (a download address that redirects to the file): no path separator, control character or
    leading dot, ending in .pdf, short enough for any Linux file system."""
    def segment(address: str) -> str:
        return unquote(urlsplit(address).path.rsplit("/", 1)[-1], errors="replace")

    name = segment(url)
    if not name.lower().endswith(".pdf") and segment(final_url).lower().endswith(".pdf"):
        name = segment(final_url)
    name = "".join("_" if ch in "/\\" or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch
                   for ch in name)
    stem = name[:-4] if name.lower().endswith(".pdf") else name
    stem = re.sub(r"^[\s.]+|\s+$", "", stem)
    stem = stem.encode("utf-8")[:NAME_MAX_BYTES].decode("utf-8", "ignore") or "summary"
    return f"{stem}.pdf"


# --- one URL, then many --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Origin:
    """Where a PDF was found, as sources.csv says it. `url` is the address as linked on the page (or given on
    the command line), not where redirects ended: the address a person clicks, which stays when a server moves
    its files behind it; `page_url` likewise is the press release's address as given."""

    url: str
    page_url: str = ""
    page_title: str = ""
    published: str = ""
    round: str = ""


def fetch(urls: Iterable[str], raw: Path, settings: Settings = Settings()) -> Iterator[Outcome]:
    """Fetch each URL into RAW, one after the other; an Outcome per PDF saved, found already or failed, and one
    per URL that failed before any PDF (a page that cannot be read, or that links no summary)."""
    folder = RawFolder(raw)
    with client(settings) as session:
        for url in urls:
            try:
                yield from fetch_url(session, folder, url, settings)
            except Exception as exc:  # noqa: BLE001 - our own bug on one URL: said in one line, the others go on
                yield Outcome(url, FAILED, f"internal error: {type(exc).__name__}: {one_line(exc)}")


def fetch_url(session: httpx.Client, folder: RawFolder, url: str, settings: Settings) -> Iterator[Outcome]:
    try:
        got = download(session, url, settings)
    except FetchFailed as exc:
        yield Outcome(url, FAILED, str(exc))
        return
    if is_pdf(got) or got.content_type == "application/pdf" or urlsplit(url).path.lower().endswith(".pdf"):
        yield save(folder, Origin(url), got, settings)  # an error page at a .pdf address is no press release
        return
    if not is_html(got):
        yield Outcome(url, FAILED, f"neither a PDF nor a web page (the server sent "
                                   f"{got.content_type or 'no Content-Type'}: {preview(got)!r})")
        return
    page = parse_page(decode_html(got))
    attachments = summary_links(page, got.final_url)
    if not attachments:
        yield Outcome(url, FAILED, "no summary PDF linked on the page (no PDF link whose text or list item says "
                                   "概要 or 別紙)")
        return
    page_round = parse_round(page.title)
    for attachment in attachments:
        origin = Origin(attachment.url, url, page.title or "", page.published or "",
                        page_round or attachment.round or "")
        try:
            pdf = download(session, attachment.url, settings)
        except FetchFailed as exc:
            yield Outcome(attachment.url, FAILED, str(exc))
            continue
        yield save(folder, origin, pdf, settings)


def save(folder: RawFolder, origin: Origin, got: Download, settings: Settings) -> Outcome:
    """Write a downloaded PDF into RAW and its row into sources.csv, unless its bytes are there already."""
    try:
        check_pdf(got)
    except FetchFailed as exc:
        return Outcome(origin.url, FAILED, str(exc))
    sha256 = hashlib.sha256(got.data).hexdigest()
    held = folder.held().get(sha256)
    if held is not None:
        return Outcome(origin.url, ALREADY, f"already in RAW as {held}", held)
    name = folder.free_name(pdf_name(origin.url, got.final_url))
    row = {"source_file": name, "url": origin.url, "page_url": origin.page_url, "page_title": origin.page_title,
           "published": origin.published, "round": origin.round,
           "retrieved_at": settings.clock().astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "sha256": sha256, "bytes": str(len(got.data))}
    path = folder.raw / name
    try:
        write_atomic(path, got.data)
    except OSError as exc:
        return Outcome(origin.url, FAILED, f"not saved: {one_line(exc)}")
    try:
        add_source_row(folder.raw, row)
    except BaseException as exc:  # the PDF without its row would be taken for a file fetched and described
        path.unlink(missing_ok=True)
        if not isinstance(exc, (OSError, RawUnusable)):
            raise
        return Outcome(origin.url, FAILED, f"not saved: {SOURCES_NAME} could not be written: {one_line(exc)}")
    folder.add(sha256, name)
    said = "; ".join(filter(None, [f"{len(got.data):,} bytes", origin.round, origin.published and
                                   f"published {origin.published}"]))
    return Outcome(origin.url, SAVED, f"saved as {name} ({said})", name)


def is_web_address(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
