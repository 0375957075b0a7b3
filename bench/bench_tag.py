"""Measure tagging throughput on real plan text (python bench/bench_tag.py [megabytes])."""

import sys
import time
from pathlib import Path

from pipeline.tagging.tagger import Tagger
from pipeline.tagging.tokens import get_dictionary

REFERENCE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "r2-approval-summary.txt"


def build_lines(megabytes: float) -> list[str]:
    """Repeat the reference text's non-empty lines until about `megabytes` of UTF-8."""
    source = [line for line in REFERENCE.read_text(encoding="utf-8").splitlines() if line.strip()]
    lines, size, target = [], 0, int(megabytes * 1_000_000)
    while size < target:
        line = source[len(lines) % len(source)]
        lines.append(line)
        size += len(line.encode("utf-8"))
    return lines


def measure_tagging(megabytes: float = 1.0) -> dict:
    """Time Tagger.match line by line, with dictionary load and Tagger set-up timed apart."""
    start = time.perf_counter()
    get_dictionary()
    load_seconds = time.perf_counter() - start

    start = time.perf_counter()
    tagger = Tagger()
    setup_seconds = time.perf_counter() - start

    lines = build_lines(megabytes)
    size = sum(len(line.encode("utf-8")) for line in lines)
    start = time.perf_counter()
    for line in lines:
        tagger.match(line)
    seconds = time.perf_counter() - start
    return {
        "bytes": size,
        "seconds": seconds,
        "mb_per_s": size / 1_000_000 / seconds,
        "lines": len(lines),
        "load_seconds": load_seconds,
        "setup_seconds": setup_seconds,
    }


if __name__ == "__main__":
    r = measure_tagging(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)
    print(
        f"tagged {r['bytes']:,} bytes in {r['lines']:,} lines: {r['seconds']:.2f} s, {r['mb_per_s']:.2f} MB/s "
        f"(dictionary load {r['load_seconds']:.3f} s, tagger set-up {r['setup_seconds']:.3f} s)"
    )
