"""Reading a press release: the standard library's tolerant HTML parser turned to what fetch needs of a page, its
title, date and links, and the links among them to approval summaries (概要, 別紙) with the round they name."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, urlunsplit

from pipeline.acquire.rounds import era_year, parse_round
from pipeline.core.text import normalize_text

# Elements that do not enclose a link for its surrounding text: the phrase-level ones a link sits in.
INLINE = frozenset(
    "a abbr b bdi bdo big br cite code data dfn em font i img kbd mark q s samp small span "
    "strong sub sup time tt u var wbr".split()
)
VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
SKIPPED = frozenset(("script", "style", "template"))
# An open element of the key closes when one of these starts, as a browser's parser does.
IMPLIED_END = {
    "li": {"li"},
    "p": {"p"},
    "dt": {"dt", "dd"},
    "dd": {"dt", "dd"},
    "tr": {"tr"},
    "td": {"td", "th"},
    "th": {"td", "th"},
    "option": {"option"},
}
DATE_RE = re.compile(
    r"(?:(?P<era>令和|平成)\s*(?P<year>元|\d{1,2})|(?P<gregorian>\d{4}))\s*年\s*"
    r"(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*日"
)
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
class WebPage:
    title: str | None
    h1: str | None
    published: str | None  # ISO date
    links: list[Link]
    base: str | None = None  # its <base href>, which a browser resolves its links against


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
        self.base: str | None = None  # the first <base href>: what the page's relative links are relative to
        self.gathered = 0  # characters joined into elements' texts: the parser's work, which tests bound

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping:
            return
        if tag in SKIPPED:
            self.skipping = tag
            return
        values = {name: value or "" for name, value in attrs}
        if tag == "base" and self.base is None and values.get("href", "").strip():
            self.base = values["href"].strip()
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
        """Keep the text of a closing element when something is read of it (a title, a headline, a link, a block
        around links, a date), and only then: gathering every element's text made a page of 80,000 unclosed <div>
        take 45 s, each closing one joining the text from its start."""
        wanted = (
            (element.tag == "title" and self.title is None)
            or (element.tag == "h1" and self.h1 is None)
            or element.link is not None
            or (element.block is not None and bool(self.blocks[element.block]))
            or element.dated
        )
        text = self.text_from(element.start) if wanted else ""
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

    def text_from(self, start: int) -> str:
        """The page's text from chunk `start` on, white space collapsed."""
        text = "".join(self.chunks[start:])
        self.gathered += len(text)
        return collapse(text)

    def close(self) -> None:
        super().close()
        while self.stack:
            self.closed(self.stack.pop())


def parse_page(html: str) -> WebPage:
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
        near.append("".join(parser.chunks[parser.h1_at :])[:NEAR_HEADLINE])
    near.append(text[:NEAR_TOP])
    # The title is what the browser's tab, a bookmark and a citation show, and every page has one; an <h1> is
    # the page's headline on some sites and the site's logo on others. Only a page without a title gets its <h1>.
    return WebPage(
        title=parser.title or parser.h1,
        h1=parser.h1,
        published=first_date([*parser.dates, *near]),
        links=parser.links,
        base=parser.base,
    )


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
    """Whether a text says 概要 or 別紙, spaces inside the word aside (「概 要」, 「別　紙」: a word spaced out to
    fill a cell's width)."""
    text = re.sub(r"\s+", "", normalize_text(text) or "")  # \s takes the ideographic space too
    return "概要" in text or "別紙" in text


@dataclass(frozen=True)
class Attachment:
    url: str  # absolute, as linked
    round: str | None


def summary_links(page: WebPage, base_url: str) -> list[Attachment]:
    """The page's links to PDFs whose text or enclosing element says 概要 or 別紙, absolute (against the page's
    <base href> when it has one, as a browser resolves them), each once, in page order; with the round the link
    names when the page's title names none."""
    found: dict[str, Attachment] = {}
    base_url = urljoin(base_url, page.base) if page.base else base_url
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
        found[url] = Attachment(
            url, parse_round(link.text, bracketed_only=True) or parse_round(link.context, bracketed_only=True)
        )
    return list(found.values())
