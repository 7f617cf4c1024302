"""PDF pages rendered to images with pypdfium2 (the `pdf` extra: PDFium's wheels, Apache/BSD,
no system library), for `ImagePart.from_pdf`.

Pages are PNG (text and line art stay sharp, and PNG compresses them well); the image policy
then fits them like any image when the request is sent.
"""

from __future__ import annotations

import io
import os
import re
from typing import Final

from .._exceptions import InvalidInputError
from .errors import UnsupportedImageError

__all__ = ["MAX_PAGES", "parse_pages", "render_pdf"]

# A cap on pages a call renders: a 500-page scan is a batch job, not one request.
MAX_PAGES: Final = 100
_RANGE: Final = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d*)\s*)?$")


def parse_pages(pages: str | int | None, count: int, *, field: str = "pages") -> list[int]:
    """1-based page numbers from "1-3,5", "2-" (to the end), an int, or None (every page)."""
    if pages is None:
        chosen = list(range(1, count + 1))
    elif isinstance(pages, int) and not isinstance(pages, bool):
        chosen = [pages]
    elif isinstance(pages, str):
        chosen = []
        for item in pages.split(","):
            match = _RANGE.match(item)
            if not match:
                raise InvalidInputError(field, f"{pages!r}: expected pages like '1-3,5' or '2-'")
            first = int(match.group(1))
            if match.group(2) is None:
                last = first
            else:
                last = int(match.group(2)) if match.group(2) else count
            if last < first:
                raise InvalidInputError(field, f"{item.strip()!r} runs backwards")
            chosen.extend(range(first, last + 1))
    else:
        raise InvalidInputError(
            field, f"expected a str like '1-3' or an int, got {type(pages).__name__}"
        )
    outside = [page for page in chosen if not 1 <= page <= count]
    if outside:
        raise InvalidInputError(
            field, f"page {outside[0]} is outside the document, which has {count} page(s)"
        )
    if len(chosen) > MAX_PAGES:
        raise InvalidInputError(field, f"{len(chosen)} pages, over the cap of {MAX_PAGES} a call")
    return chosen


def render_pdf(
    path: str | os.PathLike[str] | bytes, pages: str | int | None = None, *, dpi: int = 150
) -> list[tuple[int, bytes]]:
    """(page number, PNG bytes) of each chosen page, in page order (needs the `pdf` extra)."""
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 18 <= dpi <= 600:
        raise InvalidInputError("dpi", f"expected an integer from 18 to 600, got {dpi!r}")
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
