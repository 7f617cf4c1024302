"""PDF pages rendered to images with pypdfium2 (the `pdf` extra: PDFium's wheels, Apache/BSD,
no system library), for `ImagePart.from_pdf`.

Pages are PNG (text and line art stay sharp, and PNG compresses them well); the image policy
then fits them like any image when the request is sent.
"""

from __future__ import annotations

import io
import os
from typing import Final

from .._exceptions import InvalidInputError
from .._validation import check_int, check_pages
from .errors import UnsupportedImageError

__all__ = ["MAX_PAGES", "parse_pages", "render_pdf"]

# A cap on pages a call renders: a 500-page scan is a batch job, not one request.
MAX_PAGES: Final = 100


def parse_pages(pages: str | int | None, count: int, *, field: str = "pages") -> list[int]:
    """1-based page numbers from "1-3,5", "2-" (to the end), an int, or None (every page)."""
    return check_pages(field, pages, count, cap=MAX_PAGES)


def render_pdf(
    path: str | os.PathLike[str] | bytes, pages: str | int | None = None, *, dpi: int = 150
) -> list[tuple[int, bytes]]:
    """(page number, PNG bytes) of each chosen page, in page order (needs the `pdf` extra)."""
    check_int("dpi", dpi, minimum=18, maximum=600)
    try:
        import pypdfium2 as pdfium
    except ImportError:
        raise UnsupportedImageError(
            "path",
            "rendering PDF pages needs pypdfium2: pip install 'chat-image[pdf]'",
            extra="pdf",
        ) from None
    source: str | bytes = path if isinstance(path, bytes) else os.fspath(path)
    shown = "the PDF" if isinstance(source, bytes) else repr(source)
    try:
        document = pdfium.PdfDocument(source)
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            reason = "it is encrypted (password-protected); decrypt it first"
        raise InvalidInputError("path", f"{shown} cannot be opened as a PDF: {reason}") from None
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise InvalidInputError("path", f"{shown} cannot be read: {exc.strerror}") from None
    try:
        chosen = parse_pages(pages, len(document))
        images = []
        for number in chosen:
            page = document[number - 1]
            try:
                bitmap = page.render(scale=dpi / 72)
                out = io.BytesIO()
                bitmap.to_pil().save(out, format="PNG")
                images.append((number, out.getvalue()))
            finally:
                page.close()
        return images
    finally:
        document.close()
