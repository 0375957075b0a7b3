"""Imported by the fork server of a run that tags (pipeline.run.workers.PRELOAD_TAGGER): builds the tagger there,
once, before any worker is forked, so that every worker shares it."""

from pipeline.run.workers import load_tagger

load_tagger()
