"""Loaded first by the fork server of a probed run (tests/test_incremental.py, FORKSERVER_PROBE): appends a line to
the file $PIPELINE_COUNTS for each Sudachi dictionary loaded and each fingerprint made, in the fork server or in a
worker it forked, so that a test can tell what the workers load and compute, and where."""

import os

import sudachipy

import pipeline.core.fingerprint

SERVER = os.getpid()  # imported by the fork server, before it forks any worker


def count(what: str) -> None:
    with open(os.environ["PIPELINE_COUNTS"], "a", encoding="utf-8") as f:
        f.write(f"{what} in the {'fork server' if os.getpid() == SERVER else 'worker'}\n")


real_dictionary = sudachipy.Dictionary
real_fingerprint = pipeline.core.fingerprint.make_fingerprint


def dictionary(*args, **kwargs):
    count("dictionary")
    return real_dictionary(*args, **kwargs)


def make_fingerprint(stage):
    count(f"{stage} fingerprint")
    return real_fingerprint(stage)


sudachipy.Dictionary = dictionary
pipeline.core.fingerprint.make_fingerprint = make_fingerprint
