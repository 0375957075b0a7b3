"""Maintainers' tools, run from a checkout of the repository and never installed: `python -m tools.docs`
regenerates the generated parts of README.md and docs/*.md (`make docs`), `python -m tools.evaluate` scores the
tagger on tests/data/labelled (`make eval-tags`).

They read the repository's README, docs, tests and sample, which an installed package does not carry: each finds
the repository explicitly (tools.repo), and the pipeline package never imports them.
"""
