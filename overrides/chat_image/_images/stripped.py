"""An image file sent without its metadata, read piece by piece as the body goes out.

`StrippedFile` is an `ImageFile` whose bytes are the file's pieces that `metadata.scan` kept:
the send path reads it in slices like any checked file (one slice in memory at a time), and
it checks the file is still the one scanned, exactly as `ImageFile` does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import attrs

from .._image_file import ImageFile, _read_exactly
from .metadata import Piece, pieces_size

__all__ = ["StrippedFile"]


@attrs.frozen
class StrippedFile(ImageFile):
    """`size` is what is sent; `file_size` the file's own, compared on each read."""

    file_size: int = attrs.field(default=0, kw_only=True, repr=False)
    pieces: tuple[Piece, ...] = attrs.field(default=(), kw_only=True, repr=False)

    @classmethod
    def of(cls, file: ImageFile, pieces: tuple[Piece, ...]) -> StrippedFile:
        """`file` as the `pieces` of it that `metadata.scan` kept."""
        return cls(
            file.path,
            pieces_size(pieces),
            file.media_type,
            file.mtime_ns,
            file.device,
            file.inode,
            file_size=file.size,
            pieces=pieces,
        )

    def slices(self, size: int) -> Iterator[bytes]:
        """The kept pieces in slices of `size` bytes (the last may be shorter); the file is
        compared again before the last slice, as `ImageFile.slices` does."""
        fd = self._open_unchanged()
        try:
            pending = bytearray()
            for piece in self.pieces:
                if isinstance(piece, bytes):
                    pending += piece
                else:
                    offset, length = piece
                    os.lseek(fd, offset, os.SEEK_SET)
                    while length:
                        chunk = _read_exactly(fd, min(length, size))
                        if not chunk:
                            self._compare(os.fstat(fd), read=offset)
                            raise self._changed("it ended before its last piece")
                        pending += chunk
                        offset += len(chunk)
                        length -= len(chunk)
                        # Strictly more: the last slice waits for the comparison below.
                        while len(pending) > size:
                            yield bytes(pending[:size])
                            del pending[:size]
            self._compare(os.fstat(fd))
            if pending:
                yield bytes(pending)
        except OSError as exc:
            raise self._changed(f"reading it failed: {exc.strerror or exc}") from None
        finally:
            os.close(fd)

    def _compare(self, info: os.stat_result, *, read: int | None = None) -> None:
        # The checks of `ImageFile._compare`, against the file's own size.
        ImageFile._compare(attrs.evolve(self, size=self.file_size), info, read=None)
