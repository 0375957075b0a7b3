"""Failure kinds of a file that could not be read: decided from its first bytes before any parser sees it
(`sniff`), or from what the reader raised, told apart as the file's fault or a bug of ours."""

from __future__ import annotations

import re
import signal
from pathlib import Path

from pipeline.core.failures import Failure, internal_reason, reason
from pipeline.core.records import Limits

PACKAGE_DIR = Path(__file__).resolve().parents[1]


class EncryptedPdf(Exception):
    """pypdfium2's refusal of a password-protected file, named so that `classify_error` tells it as pdfminer's."""


class UnreadablePdf(Exception):
    """pypdfium2's refusal of a damaged file or page, said in words for the file's reason (`classify_error`)."""


def sniff(data: bytes) -> tuple[Failure, str] | None:
    """A failure decided from the first bytes alone, before any PDF parser sees the file."""
    head = data[:1024]
    if not head:
        return Failure.empty, reason(Failure.empty, "the file is empty (0 bytes)")
    if b"%PDF-" not in head:
        start = head.removeprefix(b"\xef\xbb\xbf").lstrip()
        if re.match(rb"(?i)<(!doctype html|html|head|body|\?xml)", start):
            return Failure.not_pdf, reason(
                Failure.not_pdf, "not a PDF: an HTML page (a web error page saved under a .pdf name?)"
            )
        return Failure.not_pdf, reason(Failure.not_pdf, f"not a PDF: starts with {start[:16].decode('latin-1')!r}")
    return None


def exception_chain(exc: BaseException):
    """The exception and every exception it wraps or was raised while handling (pdfplumber wraps pdfminer's)."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        stack += [e.__context__, e.__cause__, *(a for a in e.args if isinstance(a, BaseException))]


def innermost(exc: BaseException) -> BaseException:
    """The exception a wrapper was made from: its name says more than PdfminerException."""
    while True:
        inner = next((a for a in exc.args if isinstance(a, BaseException)), None) or exc.__cause__
        if inner is None:
            return exc
        exc = inner


def raised_by_pipeline(exc: BaseException) -> bool:
    """Whether an exception was raised in this package's own code rather than inside a PDF library: a bug of
    ours, not a property of the file."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(PACKAGE_DIR)


def classify_error(exc: BaseException, limits: Limits) -> tuple[Failure, str]:
    """Failure kind and one-line reason for an exception raised while reading a PDF. A memory failure is looked
    for first and by type alone: formatting a message could need the memory that just ran out."""
    chain = list(exception_chain(exc))
    if any(isinstance(e, MemoryError) for e in chain):
        return Failure.too_large, too_large_reason(limits)
    if any("Password" in type(e).__name__ or "Encrypt" in type(e).__name__ for e in chain):
        return Failure.encrypted, reason(
            Failure.encrypted, "the PDF is encrypted (password-protected, no password is tried)"
        )
    unreadable = next((e for e in chain if isinstance(e, UnreadablePdf)), None)
    if unreadable is not None:
        return Failure.corrupt, reason(Failure.corrupt, f"unreadable PDF ({unreadable})")
    cause = innermost(exc)
    message = f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
    if any("allocate" in str(e) or "insufficient memory" in str(e) for e in chain):
        return Failure.too_large, too_large_reason(limits)
    if raised_by_pipeline(cause):
        return Failure.internal_error, internal_reason(message)
    return Failure.corrupt, reason(Failure.corrupt, f"unreadable PDF ({message})")


def too_large_reason(limits: Limits, how: str = "reached") -> str:
    return reason(Failure.too_large, f"memory cap of {limits.memory_mb} MiB {how} while reading")


# A worker that ran out of memory, even while reporting it, exits with this status: the parent writes its record.
EXIT_OUT_OF_MEMORY = 3


def died(exitcode: int, limits: Limits) -> tuple[Failure, str]:
    """The failure of a worker that ended without writing its record, from how it ended."""
    if exitcode == EXIT_OUT_OF_MEMORY:
        return Failure.too_large, too_large_reason(limits)
    if exitcode == -signal.SIGKILL:  # the kernel's last resort when memory runs out
        return Failure.too_large, too_large_reason(limits, "probably reached (the reader was killed)")
    if exitcode < 0:
        return Failure.reader_crashed, reason(
            Failure.reader_crashed,
            (f"the reader died of {signal.Signals(-exitcode).name} under a memory cap of {limits.memory_mb} MiB"),
        )
    return Failure.internal_error, internal_reason(f"the reader stopped with exit code {exitcode} and no result")


def deadline_failure(limits: Limits) -> tuple[Failure, str]:
    """The failure of a worker killed at its deadline."""
    return Failure.timeout, reason(Failure.timeout, f"reading took longer than {limits.seconds:g} s")
