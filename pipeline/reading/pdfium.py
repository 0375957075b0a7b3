"""The pypdfium2 fallback: a second reading of the pages whose fonts lack a Unicode map."""

from __future__ import annotations

from pathlib import Path


def open_pdfium(pdf: Path | bytes):
    """A pypdfium2 document of a PDF given by its path or its bytes."""
    import pypdfium2 as pdfium

    return pdfium.PdfDocument(pdf if isinstance(pdf, bytes) else str(pdf))


class PdfiumFallback:
    """pypdfium2's reading of a PDF, for pages whose fonts lack a Unicode map: opened on the first such page,
    once per file, and closed with it."""

    def __init__(self, pdf: Path | bytes) -> None:
        self.pdf = pdf
        self.doc = None

    def chars(self, page_index: int, page_height: float) -> list[dict]:
        """Characters of one page in our layout; none when pypdfium2 cannot read the page either."""
        import pypdfium2 as pdfium
        import pypdfium2.raw as pdfium_c

        try:
            self.doc = self.doc or open_pdfium(self.pdf)
            page = self.doc[page_index]
            textpage = page.get_textpage()
        except pdfium.PdfiumError:
            return []
        try:
            chars = []
            for i in range(textpage.count_chars()):
                text = textpage.get_text_range(i, 1)
                if not text or text in "\r\n":
                    continue
                left, bottom, right, top = textpage.get_charbox(i)
                size = pdfium_c.FPDFText_GetFontSize(textpage.raw, i)
                chars.append(
                    {
                        "text": text,
                        "x0": left,
                        "x1": right,
                        "top": page_height - top,
                        "bottom": page_height - bottom,
                        "size": size or (top - bottom),
                        "fontname": "",
                        "matrix": (1, 0, 0, 1, left, bottom),
                    }
                )
            return chars
        finally:
            textpage.close()
            page.close()

    def close(self) -> None:
        if self.doc is not None:
            self.doc.close()
