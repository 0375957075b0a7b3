"""Benchmarks: `make bench` (bench/bench.py), the corpus it reads (bench/corpus.py), tagging (bench/bench_tag.py)."""
