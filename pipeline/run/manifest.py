"""OUT/manifest.json: what the tables were made from and the sha256 of every output, written last, so that a run
with nothing new writes nothing and a reader can tell a complete set from one a killed run left half-replaced; and
the warnings normalize gave as records, which a view made later reads instead of the words."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline import PIPELINE_VERSION
from pipeline.acquire.corrections import corrections_sha256
from pipeline.core.fingerprint import fingerprint
from pipeline.core.io import sha256_file
from pipeline.core.records import CorrectionOutcome, FileNotice, ReadTwice, Source, to_dict
from pipeline.outputs.views import VIEWS
from pipeline.run.cache import interim_path
from pipeline.run.inputs import Refused

MANIFEST_NAME = "manifest.json"


def manifest_inputs(
    sources: list[Source], refused: list[Refused], raw: Path, out: Path, sources_csv_sha256: str | None
) -> dict:
    """What the tables are made from: the input files, what was read of them (a file read again under wider
    limits may come out differently), RAW's sources.csv and corrections.csv and the fingerprint of the normalize
    stage (its code, its data files such as the vocabulary, its libraries). sources.csv's sha256 is the one taken
    while RAW was listed (run.runner.run)."""
    return {
        "pipeline_version": PIPELINE_VERSION,
        "normalize_fingerprint": fingerprint("normalize"),
        "inputs": [{"source_file": s.name, "source_sha256": s.sha256, "bytes": s.path.stat().st_size} for s in sources],
        "refused": [{"source_file": r.name, "status": r.failure.status, "error": r.reason} for r in refused],
        "segment_records": {s.sha256: sha256_file(interim_path(out, "segment", s.sha256)) for s in sources},
        "sources_csv": sources_csv_sha256,
        "corrections_csv": corrections_sha256(raw),
    }


def current_manifest(out: Path, inputs: dict) -> dict | None:
    """OUT's manifest when OUT already holds, whole, the outputs of these very inputs, and the report's crops (then a
    re-run has nothing to write); else None."""
    try:
        manifest = json.loads((out / MANIFEST_NAME).read_text(encoding="utf-8"))
        current = (
            all(manifest.get(k) == v for k, v in inputs.items())
            and all(sha256_file(out / name) == digest for name, digest in manifest["outputs"].items())
            and all((out / name).is_file() for name in manifest["crops"])
        )
        return manifest if current and all(view in manifest["outputs"] for view in VIEWS) else None
    except (OSError, ValueError, KeyError):
        return None


def notices_record(
    read_twice: list[ReadTwice], notices: list[FileNotice], corrections: list[CorrectionOutcome]
) -> dict:
    """The warnings normalize gave files, as records (normalize.Assembled), for the manifest: the plans read twice
    and the corrections applied or refused, which a report made later reads back
    (pipeline.outputs.report.recorded_read_twice, recorded_corrections), and the others by code, files and plan ids,
    for a program to select on without reading the words."""
    return {
        "read_twice": [to_dict(pair) for pair in read_twice],
        "notices": [to_dict(n) for n in notices],
        "corrections": [to_dict(outcome) for outcome in corrections],
    }
