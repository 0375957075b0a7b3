"""The extract stage's rooms: reading one PDF's pages into positioned lines.

`pipeline.extract` is the stage's face; what it needs to read a page (characters, rows, columns, cells,
photos, the PDFium fallback) and to name a reader's failure lives here. Every module of this package is in the
extract stage's fingerprint. The capped worker process that runs the face is the run's (`pipeline.run.workers`).

- `chars`: characters to rows and lines (readable share, rows and their fragments, a line's text and box,
  fake-bold doubles dropped).
- `vertical`: vertical writing (rotated or downward glyphs, lines read column by column).
- `order`: reading order and columns (items, gutters, bands, closed cells read whole, photos taking room).
- `subpages`: the frames of the pages a sheet holds (a handout), each read as a page of its own.
- `regions`: picture regions found in a scanned page's pixels (its photos are no objects of their own).
- `cells`: ruled cells (rulings from drawn paths, cell borders, the closed cell a point lies in).
- `objects`: what pdfminer's layout of a page gives (characters, image boxes, rulings), photo frames among it.
- `pdfium`: the pypdfium2 fallback for pages whose fonts lack a Unicode map.
- `errors`: the failure kind and reason of a file that could not be read, or whose worker died or ran out of time.
"""
