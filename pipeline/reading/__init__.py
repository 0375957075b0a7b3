"""The extract stage's rooms: reading one PDF's pages into positioned lines, in a capped worker process.

`pipeline.extract` is the stage's face; what it needs to read a page (characters, rows, columns, cells,
photos, the PDFium fallback) and to run a reader safely (the worker, its limits and its failure kinds) lives
here. Every module of this package is in the extract stage's fingerprint.
"""
