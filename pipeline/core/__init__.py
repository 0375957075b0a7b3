"""The shared core: what every stage and view stands on, importing nothing of the pipeline above it.

Interim records (records), canonical text (text, radicals), the failure vocabulary (failures), atomic writes
(io), fault injection (faults), the layout thresholds (layout), the table schema (schema) and the bundled
reference data it names (reference).
"""
