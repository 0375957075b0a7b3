"""The extract stage's rooms: reading one PDF's pages into positioned lines, in a capped worker process.

`pipeline.extract` is the stage's face; what it needs to read a page (characters, rows, columns, cells,
photos, the PDFium fallback) and to run a reader safely (the worker, its limits and its failure kinds) lives
here. Every module of this package is in the extract stage's fingerprint.

- `chars`: characters to rows and lines (readable share, rows and their fragments, a line's text and box,
  fake-bold doubles dropped).
- `vertical`: vertical writing (rotated or downward glyphs, lines read column by column).
- `order`: reading order and columns (items, gutters, bands, closed cells read whole, photos taking room).
- `cells`: ruled cells (rulings from drawn paths, cell borders, the closed cell a point lies in).
- `objects`: what pdfminer's layout of a page gives (characters, image boxes, rulings), photo frames among it.
- `pdfium`: the pypdfium2 fallback for pages whose fonts lack a Unicode map.
- `errors`: the failure kind and reason of a file that could not be read.
- `worker`: one capped process per file, from a fork server; it imports the face (never the other way round),
  and `Source` and `Limits` live in `pipeline.core.records`.
"""
