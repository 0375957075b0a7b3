"""The one vocabulary of failures: every status a file can end with besides `ok`, what it means, what to do,
whose fault it is and when a later run tries the file again.

The schema's constraint on `documents.status`, the README's table of failures and the reasons printed on
the terminal all come from `Failure`; nothing else lists the kinds.
"""

from __future__ import annotations

import errno
from enum import Enum

from pipeline import PIPELINE_VERSION

OK = "ok"
# A reason is cut to what a person reads on one terminal line.
MAX_REASON = 200


class Fault(Enum):
    FILE = "the file"
    LIMITS = "the limits of the run"
    RUN = "the run (the file changed while it was read)"
    OURS = "this pipeline or a library it uses"
    MACHINE = "the machine (its disk full, a quota reached, a failing device)"


class Retry(Enum):
    NEVER = "when its bytes or the pipeline change"
    WIDER_LIMITS = "when a run allows more time or memory"
    ALWAYS = "on the next run"


class Failure(Enum):
    """A failure kind, named by its status; each carries what happened, what to do, its fault and its retry."""

    not_a_file = (
        "not a regular file: a folder, a named pipe, a socket, a device, a broken or looping link, or a "
        "link to a file outside RAW",
        "put the PDF itself in RAW",
        Fault.FILE,
        Retry.ALWAYS,
    )
    unreadable = (
        "the file cannot be read (no permission, an I/O error)",
        "check its permissions, or copy it again",
        Fault.FILE,
        Retry.ALWAYS,
    )
    not_pdf = (
        "not a PDF (often a web error page saved under a `.pdf` name)",
        "download the file again",
        Fault.FILE,
        Retry.NEVER,
    )
    empty = ("the file has 0 bytes", "download the file again", Fault.FILE, Retry.NEVER)
    encrypted = (
        "password-protected; no password is tried",
        "ask the publisher for an open copy",
        Fault.FILE,
        Retry.NEVER,
    )
    corrupt = (
        "the PDF parser gave up (truncated download, broken structure)",
        "download it again or ask the publisher for a new copy",
        Fault.FILE,
        Retry.NEVER,
    )
    timeout = (
        "reading took longer than `--timeout` (60 s)",
        "a decompression bomb or a very heavy page? raise --timeout if the file is genuine",
        Fault.LIMITS,
        Retry.WIDER_LIMITS,
    )
    too_large = (
        "reading needed more memory than `--memory-mb` (1024 MiB) beyond the reader's start",
        "a decompression bomb or a huge page? raise --memory-mb if the file is genuine",
        Fault.LIMITS,
        Retry.WIDER_LIMITS,
    )
    reader_crashed = (
        "the PDF reader died of a signal (a crash in a C library, or the memory cap hit outside Python)",
        "raise --memory-mb; if it still crashes, please report the file",
        Fault.OURS,
        Retry.WIDER_LIMITS,
    )
    no_text = (
        "no text layer: an image-only scan",
        "run OCR on it (e.g. ocrmypdf) and put the result in RAW",
        Fault.FILE,
        Retry.NEVER,
    )
    unreadable_text = (
        "the text layer does not read as Japanese (glyphs without a Unicode map, a broken font)",
        "get a better copy, or an image-only one, which is read by OCR (a text layer is never read over)",
        Fault.FILE,
        Retry.NEVER,
    )
    no_plans = (
        "readable text, but no plan header 「…」（…）【計画期間:…】",
        "check it is an approval summary; if it is, please report the layout",
        Fault.FILE,
        Retry.NEVER,
    )
    changed_during_run = (
        "the file's bytes changed between listing RAW and reading it",
        "nothing to do: the next run reads it again",
        Fault.RUN,
        Retry.ALWAYS,
    )
    write_failed = (
        "writing under OUT failed: the disk is full, a quota is reached, or the device gave an I/O error",
        "free some space (or mend the disk) and run again",
        Fault.MACHINE,
        Retry.ALWAYS,
    )
    internal_error = (
        "this pipeline failed on the file (a bug)",
        "please report the file with the error",
        Fault.OURS,
        Retry.NEVER,
    )

    def __init__(self, what: str, hint: str, fault: Fault, retry: Retry) -> None:
        self.what, self.hint, self.fault, self.retry = what, hint, fault, retry

    @property
    def status(self) -> str:
        return self.name


STATUSES = [OK] + [f.status for f in Failure]


def is_retried(status: str, wider_limits: bool) -> bool:
    """Whether a file that ended with `status` is read again by a run, given whether its limits are wider."""
    if status == OK:
        return False
    retry = Failure[status].retry
    return retry is Retry.ALWAYS or (retry is Retry.WIDER_LIMITS and wider_limits)


def failures_markdown() -> str:
    """The README's table of failure kinds."""
    out = ["| status | what happened | what to do | whose fault | read again |", "|---|---|---|---|---|"]
    out += [f"| `{f.status}` | {f.what} | {f.hint} | {f.fault.value} | {f.retry.value} |" for f in Failure]
    return "\n".join(out) + "\n"


def one_line(text: str, limit: int | None = MAX_REASON) -> str:
    """Text on one line, cut to a length a person reads on a terminal (`limit` characters; None: not cut)."""
    text = " ".join(text.split())
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def exception_line(exc: BaseException) -> str:
    """An exception's message on one line, whole; the name of its type when it has no message."""
    return one_line(str(exc), limit=None) or type(exc).__name__


def reason(failure: Failure, detail: str | None = None) -> str:
    """The one-line reason shown for a failure: what happened to this file, then what to do about it."""
    return one_line(f"{detail or failure.what}; {failure.hint}")


def internal_reason(message: str) -> str:
    """The reason for a failure of our own code: the exception and the pipeline version, for the bug report."""
    return reason(Failure.internal_error, f"{message} (pipeline {PIPELINE_VERSION})")


class UsageError(Exception):
    """A folder the run cannot use: reported in one line."""


# The errors of the machine, not of a file nor of this pipeline: a full disk, a quota, a failing device, a file
# system remounted read-only. A run stopped by one is not a bug to report; the next run does the work again.
MACHINE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS)


def is_machine_error(exc: BaseException) -> bool:
    """Whether an exception is an error of the machine (MACHINE_ERRNOS)."""
    return isinstance(exc, OSError) and exc.errno in MACHINE_ERRNOS


def machine_reason(exc: OSError) -> str:
    """The one-line reason for an error of the machine: what failed, on which path, and what to do."""
    where = f" writing {exc.filename}" if exc.filename else ""
    return reason(Failure.write_failed, f"{exc.strerror or exc}{where}")
