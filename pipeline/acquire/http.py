"""Downloading: the one module that goes on the network (with httpx). A URL's answer read whole within the limits,
tried again after a pause when the connection failed or the server was busy, and what the answer is: a whole
PDF, a web page (its text in its charset), or something else said in a few words."""

from __future__ import annotations

import codecs
import re
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from pipeline import PIPELINE_VERSION
from pipeline.acquire.page import collapse, parse_page
from pipeline.core.failures import exception_line

USER_AGENT = f"tokyo-plans/{PIPELINE_VERSION} (python -m pipeline fetch; approval summaries for research)"
MIB = 1 << 20
EOF_WINDOW = 1024  # the PDF specification puts %%EOF within the last 1024 bytes of the file
RETRY_AFTER_MAX = 60.0  # seconds: a server asking for longer is not waited for that long
HTML_TYPES = ("text/html", "application/xhtml+xml")
# The one layer of compression fetch reads, itself, a block at a time (unpack): httpx unpacks each layer of a chunk
# whole before the size cap can be checked (3,499 bytes of `gzip, gzip` took the process to 4.2 GB). Asked for
# alone; any other coding, or two stacked, is refused: no server needs them to send a PDF or a page.
ACCEPTED_ENCODINGS = ("gzip", "x-gzip", "deflate")
# Bytes unpacked at a time: the cap is checked after each block, so memory stays within the cap plus one block.
UNPACK_BLOCK = 1 << 16


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Settings:
    """How to download: the limits, the retries, and the clock and sleep a test may replace."""

    timeout: float = 30.0  # seconds to connect, and between two reads of the answer
    max_bytes: int = 100 * MIB  # a larger answer is refused, stopped as soon as it passes the cap
    attempts: int = 3  # tries of a URL that failed to connect, broke off, or got a 5xx or 429 answer
    backoff: float = 1.0  # seconds before the second try, doubled before each next
    max_redirects: int = 5
    # Seconds one download may take in all, whatever the server's pace: a server sending a byte every few seconds
    # never trips `timeout`. Ten minutes bring the default cap of 100 MiB at 170 KiB/s, a slow municipal server.
    deadline: float = 600.0
    # Seconds a whole fetch may take, its pages and PDFs together: an hour is a round of 20 summaries at the
    # slowest pace above, two and a half times over; a URL reached later fails with its reason, the others stand.
    run_deadline: float = 3600.0
    run_ends_at: float | None = None  # the monotonic time the fetch ends by, set by fetch.fetch from run_deadline
    # Bytes fetched from one page, its PDFs together: a round's summaries weigh 0.2 to 2 MB each, so 200 MiB is ten
    # times the most a page of MAX_SUMMARIES_PER_PAGE (20) real ones could bring, and two downloads at the default
    # cap; without it, 20 links at 100 MiB each would put 2 GB into RAW from one address.
    page_max_bytes: int = 200 * MIB
    cap_option: str = "--max-mb"  # the option named when max_bytes stops a download (fetch sets --page-max-mb)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], datetime] = utc_now
    monotonic: Callable[[], float] = time.monotonic


class FetchFailed(Exception):
    """A URL that could not be fetched: its one-line reason."""


class TryAgain(Exception):
    """A failure another attempt may not meet (a broken connection, a 5xx or 429 answer): its one-line reason."""

    def __init__(self, reason: str, after: float = 0.0):
        super().__init__(reason)
        self.after = after


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
    return httpx.Client(
        timeout=httpx.Timeout(settings.timeout),
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": ", ".join(ACCEPTED_ENCODINGS[::2])},
    )


def download(session: httpx.Client, url: str, settings: Settings) -> Download:
    """GET a URL whole, tried again after a pause that doubles each time when the connection failed or broke off
    or the server answered 5xx or 429 (or after its Retry-After, up to a minute)."""
    for attempt in range(1, settings.attempts + 1):
        try:
            return download_once(session, url, settings)
        except TryAgain as exc:
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
                raise TryAgain(f"HTTP {status} {response.reason_phrase}".rstrip(), retry_after(response))
            if not 200 <= status < 300:
                raise FetchFailed(f"HTTP {status} {response.reason_phrase}".rstrip())
            expected = content_length(response)
            if expected is not None and expected > settings.max_bytes:
                raise FetchFailed(too_large(settings, f"{expected:,} bytes announced"))
            chunks, size = [], 0
            raw = within_deadline(response.iter_raw(), settings)
            for chunk in unpack(raw, response.headers.get("content-encoding", "")):
                size += len(chunk)
                if size > settings.max_bytes:
                    raise FetchFailed(too_large(settings, "the download was stopped there"))
                chunks.append(chunk)
            received = response.num_bytes_downloaded
            if expected is not None and received != expected:
                raise TryAgain(f"truncated: {received:,} of {expected:,} bytes received")
            media_type, charset = parse_content_type(response.headers.get("content-type", ""))
            return Download(url, str(response.url), media_type, charset, b"".join(chunks))
    except httpx.TooManyRedirects:
        raise FetchFailed(f"more than {settings.max_redirects} redirects") from None
    except httpx.ConnectTimeout:
        raise TryAgain(f"no connection within {settings.timeout:g} s (--timeout)") from None
    except httpx.TimeoutException:
        # Not tried again: a server silent for --timeout seconds would make the command wait that long again.
        raise FetchFailed(f"no answer within {settings.timeout:g} s (--timeout)") from None
    except httpx.RemoteProtocolError as exc:
        if response is not None and expected is not None:
            raise TryAgain(
                f"truncated: the connection closed after {response.num_bytes_downloaded:,} of {expected:,} bytes"
            ) from None
        raise TryAgain(f"connection broken: {exception_line(exc)}") from None
    except httpx.UnsupportedProtocol:
        raise FetchFailed("redirected to an address that is not http or https") from None
    except httpx.DecodingError as exc:
        raise FetchFailed(f"the answer could not be decompressed: {exception_line(exc)}") from None
    except (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.CloseError) as exc:
        raise TryAgain(f"connection failed: {exception_line(exc)}") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise FetchFailed(f"{type(exc).__name__}: {exception_line(exc)}") from None


def within_deadline(chunks: Iterable[bytes], settings: Settings) -> Iterator[bytes]:
    """The chunks of an answer as they come, until the download's deadline (settings.deadline) or the fetch's
    (settings.run_ends_at) passes: checked at each chunk, so a server that sends nothing at all is stopped by
    `timeout` instead, the later by at most that much."""
    started = settings.monotonic()
    for chunk in chunks:
        now = settings.monotonic()
        if now - started > settings.deadline:
            raise FetchFailed(f"not received within {settings.deadline:g} s (--deadline): the server is too slow")
        if settings.run_ends_at is not None and now > settings.run_ends_at:
            raise FetchFailed(f"the fetch ran past its {settings.run_deadline:g} s (--run-deadline)")
        yield chunk


def unpack(chunks: Iterable[bytes], encoding: str) -> Iterator[bytes]:
    """The body sent with Content-Encoding `encoding`, unpacked a block of at most UNPACK_BLOCK bytes at a time, so
    that the caller's size cap stops a decompression bomb within a block of it. One layer of gzip or deflate (zlib
    or gzip framing, told by its header); stacked or other codings are refused."""
    codings = [c.strip().lower() for c in encoding.split(",") if c.strip() and c.strip().lower() != "identity"]
    if not codings:
        yield from chunks
        return
    if len(codings) > 1 or codings[0] not in ACCEPTED_ENCODINGS:
        raise FetchFailed(
            f"refused: the answer is sent as Content-Encoding: {encoding.strip()}, which fetch does not read"
        )
    unpacker = zlib.decompressobj(zlib.MAX_WBITS | 32)  # +32: a zlib or a gzip header, whichever it has
    try:
        for chunk in chunks:
            data = chunk
            while block := unpacker.decompress(data, UNPACK_BLOCK):  # until this chunk gives no more
                yield block
                data = unpacker.unconsumed_tail
        yield unpacker.flush()  # what zlib still holds of the input taken: at most its window, 32 KiB
    except zlib.error as exc:
        raise FetchFailed(f"the answer could not be decompressed: {exc}") from None


def content_length(response: httpx.Response) -> int | None:
    """The announced length of the body as sent (compressed, when it is); None when absent or not a number."""
    value = response.headers.get("content-length", "")
    return int(value) if value.strip().isdigit() else None


def retry_after(response: httpx.Response) -> float:
    """Seconds a 429 or 503 answer asks to wait (Retry-After in seconds), capped; 0 when it says none."""
    value = response.headers.get("retry-after", "").strip()
    return min(float(value), RETRY_AFTER_MAX) if value.isdigit() else 0.0


def too_large(settings: Settings, how: str) -> str:
    """Why a download was refused for its size, naming the option whose cap it passed."""
    return f"too large: over {round(settings.max_bytes / MIB, 2):g} MiB ({settings.cap_option}), {how}"


def parse_content_type(value: str) -> tuple[str, str | None]:
    media_type, _, params = value.partition(";")
    m = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", params, re.IGNORECASE)
    return media_type.strip().lower(), m[1] if m else None


# --- what came back ------------------------------------------------------------------------------------------


def is_pdf(got: Download) -> bool:
    return got.data.startswith(b"%PDF-")


def is_html(got: Download) -> bool:
    if got.content_type in HTML_TYPES:
        return True
    start = got.data[:512].lstrip(codecs.BOM_UTF8 + b" \t\r\n").lower()
    return got.content_type in ("", "text/plain", "application/octet-stream") and start.startswith(
        (b"<!doctype html", b"<html")
    )


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
        text = collapse(got.data[: limit * 4].decode("utf-8", "replace"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decode_html(got: Download) -> str:
    """A page's text (read_html)."""
    return read_html(got)[0]


def read_html(got: Download) -> tuple[str, str]:
    """A page's text and the name of the encoding it was read in, found as a browser finds it, by the WHATWG
    Encoding Standard's labels (webencodings): a byte order mark, else the charset the server names (Windows-31J,
    x-sjis: Shift_JIS), else the one its <meta> names within META_WINDOW, else UTF-8 when the bytes are UTF-8, else
    Shift_JIS, the default a browser set to Japanese takes. Shift_JIS is read as Windows-31J, its superset (①, ㈱,
    NEC and IBM extensions), which Japanese sites use."""
    import webencodings

    label = got.charset
    if webencodings.lookup(label or "") is None:
        m = META_CHARSET_RE.search(got.data[:META_WINDOW])
        label = m[1].decode("ascii") if m else None
    encoding = webencodings.lookup(label or "")
    if encoding is None:
        try:
            got.data.decode("utf-8")
            encoding = webencodings.lookup("utf-8")
        except UnicodeDecodeError:
            encoding = webencodings.lookup("shift_jis")
    text, used = webencodings.decode(got.data, encoding, errors="replace")
    return text, used.name


# How far into a page its <meta charset> is looked for: the first 1,024 bytes in the standard, but a Japanese site's
# head may carry scripts and styles before it (one put it after the first 4 KiB); 64 KiB holds any head seen, and
# keeps the search short on a page of megabytes.
META_WINDOW = 1 << 16
META_CHARSET_RE = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
