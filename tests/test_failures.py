"""One vocabulary of failures: what each kind is called, when it is read again, and how a failure is named
from where it happened."""

from __future__ import annotations

import io

import pdfplumber
import pytest

from pipeline import PIPELINE_VERSION
from pipeline.core.failures import STATUSES, Failure, is_retried
from pipeline.core.records import Box, Limits, from_dict
from pipeline.reading.errors import classify_error, died


def test_the_statuses_a_file_can_end_with():
    assert STATUSES == [
        "ok",
        "not_a_file",
        "unreadable",
        "not_pdf",
        "empty",
        "encrypted",
        "corrupt",
        "timeout",
        "too_large",
        "reader_crashed",
        "no_text",
        "unreadable_text",
        "no_plans",
        "changed_during_run",
        "write_failed",
        "internal_error",
    ]


@pytest.mark.parametrize(
    ("status", "wider", "retried"),
    [
        ("ok", True, False),
        ("corrupt", True, False),
        ("timeout", False, False),
        ("timeout", True, True),
        ("too_large", True, True),
        ("reader_crashed", True, True),
        ("changed_during_run", False, True),
        ("not_a_file", False, True),
        ("unreadable", False, True),
        ("write_failed", False, True),
        ("internal_error", True, False),
    ],
)
def test_which_failures_a_later_run_reads_again(status, wider, retried):
    assert is_retried(status, wider) is retried


LIMITS = Limits(seconds=5, memory_mb=512)
TOO_LARGE = (
    "memory cap of 512 MiB {} while reading; a decompression bomb or a huge page? raise --memory-mb if "
    "the file is genuine"
)


@pytest.mark.parametrize(
    ("exitcode", "failure", "reason"),
    [
        (3, Failure.too_large, TOO_LARGE.format("reached")),
        (-9, Failure.too_large, TOO_LARGE.format("probably reached (the reader was killed)")),
        (
            -11,
            Failure.reader_crashed,
            "the reader died of SIGSEGV under a memory cap of 512 MiB; raise --memory-mb; if "
            "it still crashes, please report the file",
        ),
        (
            1,
            Failure.internal_error,
            f"the reader stopped with exit code 1 and no result (pipeline {PIPELINE_VERSION}); "
            "please report the file with the error",
        ),
    ],
)
def test_a_worker_that_died_is_named_by_how_it_died(exitcode, failure, reason):
    assert died(exitcode, LIMITS) == (failure, reason)


def test_an_error_inside_the_pdf_library_is_the_file_s():
    with pytest.raises(Exception) as caught:
        _ = pdfplumber.open(io.BytesIO(b"%PDF-1.4\n1 0 obj << /Type /Catalog")).pages
    assert classify_error(caught.value, LIMITS) == (
        Failure.corrupt,
        "unreadable PDF (PDFSyntaxError: No /Root object! - Is this really a PDF?); download it again "
        "or ask the publisher for a new copy",
    )


def test_an_error_raised_in_the_pipeline_s_own_code_is_ours():
    with pytest.raises(ValueError) as caught:
        from_dict(Box, {"x0": 1})
    assert classify_error(caught.value, LIMITS) == (
        Failure.internal_error,
        (
            f"ValueError: Box: missing ['bottom', 'top', 'x1'], unknown [] (pipeline {PIPELINE_VERSION}); "
            "please report the file with the error"
        ),
    )


def test_memory_exhausted_is_too_large_whatever_wraps_it():
    try:
        try:
            raise MemoryError
        except MemoryError as inner:
            raise RuntimeError("while reading page 3") from inner
    except RuntimeError as outer:
        assert classify_error(outer, LIMITS) == (Failure.too_large, TOO_LARGE.format("reached"))
