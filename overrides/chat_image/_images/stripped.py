"""An image file sent without its metadata, read piece by piece as the body goes out.

`StrippedFile` is an `ImageFile` whose bytes are the file's pieces that `metadata.scan` kept:
the send path reads it in slices like any checked file (one slice in memory at a time), and
it checks the file is still the one scanned, exactly as `ImageFile` does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import attrs

from .file import ImageFile
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
            held: bytes | None = None
            for piece in self._pieces(fd, size):
                # One slice held back: the last goes out only after the comparison below.
                if held is not None:
                    yield held
                held = piece
            self._compare(os.fstat(fd))
            if held is not None:
                yield held
        except OSError as exc:
            raise self._changed(f"reading it failed: {exc.strerror or exc}") from None
        finally:
            os.close(fd)

    def _pieces(self, fd: int, size: int) -> Iterator[bytes]:
        """Slices of exactly `size` bytes (but the last), read straight from the file where
        no literal block or piece boundary falls inside one."""
        pending = b""
        for piece in self.pieces:
            if isinstance(piece, bytes):
                pending += piece
                while len(pending) >= size:
                    yield pending[:size]
                    pending = pending[size:]
                continue
            offset, length = piece
            end = offset + length
            while offset < end:
                want = min(size - len(pending), end - offset)
                chunk = os.pread(fd, want, offset)
                if len(chunk) < want:
                    chunk += self._rest(fd, want - len(chunk), offset + len(chunk))
                offset += want
                if pending:
                    pending += chunk
                    if len(pending) == size:
                        yield pending
                        pending = b""
                elif want == size:
                    yield chunk
                else:
                    pending = chunk
        if pending:
            yield pending

    def _rest(self, fd: int, missing: int, offset: int) -> bytes:
        """The rest of a short read, or the error saying the file ended early."""
        pieces = []
        while missing:
            chunk = os.pread(fd, missing, offset)
            if not chunk:
                self._compare(os.fstat(fd))
                raise self._changed("it ended before its last piece")
            pieces.append(chunk)
            missing -= len(chunk)
            offset += len(chunk)
        return b"".join(pieces)

    def _compare(self, info: os.stat_result, *, read: int | None = None) -> None:
        # The checks of `ImageFile._compare`, against the file's own size.
        ImageFile._compare(attrs.evolve(self, size=self.file_size), info, read=None)
