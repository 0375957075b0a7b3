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

Each URL comes out as one Fetched record, printed as one line: saved, already in RAW, or failed with its reason; a
failure never stops the other URLs, but a full disk, a quota or an I/O error (core.failures.MACHINE_ERRNOS) stops the
fetch: raised, for the command to say once with its path (exit status 3).
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from pipeline.acquire import sources
from pipeline.acquire.http import (
    MIB,
    Download,
    FetchFailed,
    Settings,
    check_pdf,
    client,
    download,
    is_html,
    is_pdf,
    preview,
    read_html,
)
from pipeline.acquire.page import looks_like_pdf, parse_page, summary_links
from pipeline.acquire.rounds import parse_round
from pipeline.acquire.sources import SOURCES_NAME, RawUnusable, hold_raw, is_input_name, read_sources, writable_sources
from pipeline.core.failures import exception_line, is_machine_error
from pipeline.core.faults import stop_here
from pipeline.core.io import sha256_file, write_atomic

NAME_MAX_BYTES = 200  # a file name's stem, in UTF-8 bytes: Linux allows 255 for the whole name, suffix included
SAVED, ALREADY, FAILED = "saved", "already", "failed"
# Summary PDFs fetched from one page: a press release links one or two (the summary, a 別紙); 20 leaves room for a
# page gathering a year's rounds, and keeps a page of thousands of matching links from filling RAW.
MAX_SUMMARIES_PER_PAGE = 20
DEFAULT_SETTINGS = Settings()  # frozen: one instance serves every call that brings none


@dataclass(frozen=True)
class Fetched:
    """What became of one URL: `status` is saved, already (in RAW) or failed; `message` says which file or why."""

    url: str
    status: str
    message: str
    name: str | None = None  # the file in RAW, saved or already there

    @property
    def line(self) -> str:
        return f"{self.url}: {self.message}"


# --- RAW and sources.csv -------------------------------------------------------------------------------------


def check_raw(raw: Path) -> None:
    """Refuse a RAW that is not a folder, or whose sources.csv cannot take a row, before downloading anything."""
    if raw.exists() and not raw.is_dir():
        raise RawUnusable(f"--raw must be a folder, not a file: {raw}")
    writable_sources(raw)


class RawFolder:
    """RAW as fetch sees it, read once under its lock (sources.hold_raw): the sha256 of each of its files, the
    sha256 sources.csv's rows give, the names that have a row, and free names."""

    def __init__(self, raw: Path):
        self.raw = raw
        self._files: dict[str, str] | None = None
        self._rows: dict[str, str] = {}
        self._described: set[str] = set()

    def files(self) -> dict[str, str]:
        """sha256 → the name of a file of RAW with those bytes."""
        if self._files is None:
            self._files = {}
            if self.raw.is_dir():
                for path in sorted(self.raw.iterdir()):
                    if not is_input_name(path.name) or path.is_symlink():
                        continue
                    try:
                        self._files.setdefault(sha256_file(path), path.name)
                    except OSError:  # a folder, a FIFO, an unreadable file: not bytes fetch could duplicate
                        continue
            for name, info in read_sources(self.raw).rows.items():
                self._described.add(name)
                if info.sha256:
                    self._rows.setdefault(info.sha256, name)
        return self._files

    def described(self, name: str) -> bool:
        """Whether sources.csv has a row for the file `name`."""
        self.files()
        return name in self._described

    def row_without_file(self, sha256: str) -> str | None:
        """The name of a sources.csv row that gives these bytes while RAW holds no file of that name (deleted by hand,
        or a fetch killed before its PDF was written): the file to write again."""
        self.files()
        name = self._rows.get(sha256)
        return name if name is not None and not os.path.lexists(self.raw / name) else None

    def free_name(self, name: str) -> str:
        """The name, or with -2, -3… before .pdf when something stands under it already."""
        stem, number, candidate = name[: -len(".pdf")], 1, name
        while os.path.lexists(self.raw / candidate):
            number += 1
            candidate = f"{stem}-{number}.pdf"
        return candidate

    def add(self, sha256: str, name: str) -> None:
        """A file saved, and its row written."""
        self.files()[sha256] = name
        self._described.add(name)
        self._rows.setdefault(sha256, name)


def pdf_name(url: str, final_url: str) -> str:
    """A file name from the URL's last path segment (percent-escapes decoded), or the final URL's when only that
    one ends in .pdf (a download address that redirects to the file): no path separator, control character or
    leading dot, ending in .pdf, short enough for any Linux file system."""

    def segment(address: str) -> str:
        return unquote(urlsplit(address).path.rsplit("/", 1)[-1], errors="replace")

    name = segment(url)
    if not name.lower().endswith(".pdf") and segment(final_url).lower().endswith(".pdf"):
        name = segment(final_url)
    name = "".join("_" if ch in "/\\" or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in name)
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


def fetch(urls: Iterable[str], raw: Path, settings: Settings = DEFAULT_SETTINGS) -> Iterator[Fetched]:
    """Fetch each URL into RAW, one after the other, holding RAW throughout (RawBusy when another fetch or a run's
    listing holds it); a Fetched per PDF saved, found already or failed, and one per URL that failed before any PDF
    (a page that cannot be read, or that links no summary)."""
    raw.mkdir(parents=True, exist_ok=True)
    settings = replace(settings, run_ends_at=settings.monotonic() + settings.run_deadline)
    folder = RawFolder(raw)
    with hold_raw(raw), client(settings) as session:
        for url in urls:
            try:
                yield from fetch_url(session, folder, url, settings)
            except Exception as exc:  # noqa: BLE001 - our own bug on one URL: said in one line, the others go on
                if is_machine_error(exc):  # the disk, not this URL: every later one would meet it too
                    raise
                yield Fetched(url, FAILED, f"internal error: {type(exc).__name__}: {exception_line(exc)}")


def fetch_url(session: httpx.Client, folder: RawFolder, url: str, settings: Settings) -> Iterator[Fetched]:
    try:
        got = download(session, url, settings)
    except FetchFailed as exc:
        yield Fetched(url, FAILED, str(exc))
        return
    if is_pdf(got) or got.content_type == "application/pdf" or urlsplit(url).path.lower().endswith(".pdf"):
        yield save(folder, Origin(url), got, settings)  # an error page at a .pdf address is no press release
        return
    if not is_html(got):
        yield Fetched(
            url,
            FAILED,
            f"neither a PDF nor a web page (the server sent {got.content_type or 'no Content-Type'}: {preview(got)!r})",
        )
        return
    text, encoding = read_html(got)
    page = parse_page(text)
    attachments = summary_links(page, got.final_url)
    if not attachments:
        pdfs = sum(looks_like_pdf(link) for link in page.links)
        yield Fetched(
            url,
            FAILED,
            "no summary PDF linked on the page (no PDF link whose text or list item says 概要 or 別紙; read as "
            f"{encoding}: {len(page.links)} link(s), {pdfs} to PDFs)",
        )
        return
    if len(attachments) > MAX_SUMMARIES_PER_PAGE:
        yield Fetched(
            url,
            FAILED,
            f"the page links {len(attachments)} summary PDFs: only the first {MAX_SUMMARIES_PER_PAGE} are fetched "
            "(a press release links one or two; fetch the others by their own addresses)",
        )
        attachments = attachments[:MAX_SUMMARIES_PER_PAGE]
    page_round = parse_round(page.title)
    left = settings.page_max_bytes  # bytes the page's PDFs may still bring, saved or found in RAW alike
    for attachment in attachments:
        if left <= 0:
            yield Fetched(attachment.url, FAILED, page_cap_reached(settings))
            continue
        origin = Origin(
            attachment.url, url, page.title or "", page.published or "", page_round or attachment.round or ""
        )
        try:
            pdf = download(session, attachment.url, within_page(settings, left))
        except FetchFailed as exc:
            if left < settings.max_bytes and str(exc).startswith("too large"):
                left = 0  # the page's cap stopped it: the later links are not asked for
            yield Fetched(attachment.url, FAILED, str(exc))
            continue
        left -= len(pdf.data)
        yield save(folder, origin, pdf, settings)


def within_page(settings: Settings, left: int) -> Settings:
    """The settings for one PDF of a page whose earlier PDFs left `left` bytes of --page-max-mb: the smaller cap
    stops the download, and is named."""
    if left >= settings.max_bytes:
        return settings
    page_mib = round(settings.page_max_bytes / MIB, 2)
    return replace(settings, max_bytes=left, cap_option=f"what the page's {page_mib:g} MiB left, --page-max-mb")


def page_cap_reached(settings: Settings) -> str:
    """Why a link of a page was not asked for: its earlier PDFs brought --page-max-mb."""
    return (
        f"not fetched: the page's PDFs reached {round(settings.page_max_bytes / MIB, 2):g} MiB together "
        "(--page-max-mb); fetch the others by their own addresses"
    )


def save(folder: RawFolder, origin: Origin, got: Download, settings: Settings) -> Fetched:
    """Write a downloaded PDF into RAW and its row into sources.csv, unless its bytes are there already; and mend
    what a fetch killed between the two left: a file of these bytes without a row gets its row, a row of these bytes
    whose file is gone gets its file again."""
    try:
        check_pdf(got)
    except FetchFailed as exc:
        return Fetched(origin.url, FAILED, str(exc))
    sha256 = hashlib.sha256(got.data).hexdigest()
    held = folder.files().get(sha256)
    row = source_row(origin, got, sha256, settings)
    if held is not None and folder.described(held):
        return Fetched(origin.url, ALREADY, f"already in RAW as {held}", held)
    if held is not None:
        try:
            sources.add_source_row(folder.raw, row | {"source_file": held})
        except (OSError, RawUnusable) as exc:
            if is_machine_error(exc):
                raise
            return Fetched(
                origin.url, FAILED, f"its row not added: {SOURCES_NAME} could not be written: {exception_line(exc)}"
            )
        folder.add(sha256, held)
        return Fetched(
            origin.url, ALREADY, f"already in RAW as {held}, without a row: row added to {SOURCES_NAME}", held
        )
    gone = folder.row_without_file(sha256)
    if gone is not None:
        try:
            write_atomic(folder.raw / gone, got.data)
        except OSError as exc:
            if is_machine_error(exc):  # a full disk is the machine's, said once by the command (cli.fetch_urls)
                raise
            return Fetched(origin.url, FAILED, f"not saved: {exception_line(exc)}")
        folder.add(sha256, gone)
        return Fetched(origin.url, SAVED, f"saved again as {gone}, whose row {SOURCES_NAME} kept", gone)
    name = folder.free_name(pdf_name(origin.url, got.final_url))
    path = folder.raw / name
    try:
        write_atomic(path, got.data)
    except OSError as exc:
        if is_machine_error(exc):
            raise
        return Fetched(origin.url, FAILED, f"not saved: {exception_line(exc)}")
    try:
        stop_here("fetch_after_pdf")  # inside: Ctrl-C or SIGTERM here takes the PDF back, as a failed row does
        sources.add_source_row(folder.raw, row | {"source_file": name})  # through the module, which a test replaces
    except BaseException as exc:  # the PDF without its row would be taken for a file fetched and described
        path.unlink(missing_ok=True)
        if not isinstance(exc, (OSError, RawUnusable)) or is_machine_error(exc):
            raise
        return Fetched(origin.url, FAILED, f"not saved: {SOURCES_NAME} could not be written: {exception_line(exc)}")
    folder.add(sha256, name)
    said = "; ".join(
        filter(None, [f"{len(got.data):,} bytes", origin.round, origin.published and f"published {origin.published}"])
    )
    return Fetched(origin.url, SAVED, f"saved as {name} ({said})", name)


def source_row(origin: Origin, got: Download, sha256: str, settings: Settings) -> dict[str, str]:
    """The sources.csv row of a download, its source_file left to the caller."""
    return {
        "source_file": "",
        "url": origin.url,
        "page_url": origin.page_url,
        "page_title": origin.page_title,
        "published": origin.published,
        "round": origin.round,
        "retrieved_at": settings.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sha256": sha256,
        "bytes": str(len(got.data)),
    }


def is_web_address(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
