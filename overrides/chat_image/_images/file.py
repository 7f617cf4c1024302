"""Image files checked when a part is made and read in slices each time a body is sent.

`ImageFile.check` looks at the file once (a regular file, under the size limit, a PNG, JPEG,
GIF or WebP by its first bytes) and notes what it was: device, inode, size and modification
time. Each read later, one per attempt, opens the file again and compares: a file changed,
truncated, replaced or removed in between is an `InvalidImageError` naming it. A read never
shows a slice that might be wrong: the last slice of the file is handed out only after the
file has been compared again at its end, so a change made while the body is being sent
leaves the body short of its Content-Length, never complete and wrong.

Files are opened with O_NONBLOCK, so a FIFO (or another special file) put at the path is
refused instead of blocking `open()` until someone writes to it; for a regular file the
flag changes nothing.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from typing import Final

import attrs

from .._exceptions import InvalidImageError
from .._validation import check_path
from .checks import HEAD_BYTES, check_size, not_an_image, sniff_media_type

__all__ = ["ImageFile"]

_OPEN_FLAGS: Final = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_FIELD: Final = "path"
# What `stat.S_IFMT` tells about a path that is not a regular file, for the message.
_KINDS: Final = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _open(source: str) -> int:
    """A descriptor for the file at `source`, or the InvalidImageError that says why not."""
    try:
        return os.open(source, _OPEN_FLAGS)
    except FileNotFoundError:
        raise InvalidImageError(_FIELD, f"{source!r}: no such file") from None
    except IsADirectoryError:
        raise InvalidImageError(_FIELD, f"{source!r} is a directory, not an image file") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InvalidImageError(_FIELD, f"{source!r} cannot be read: {reason}") from None


def _read_exactly(fd: int, size: int) -> bytes:
    """Up to `size` bytes; fewer only at the end of the file."""
    first = os.read(fd, size)
    if len(first) == size or not first:
        return first
    # A regular file gives short reads only at its end or when interrupted: finish the job,
    # since slices must stay whole multiples of 3 bytes for their base64 to join up.
    pieces = [first]
    got = len(first)
    while got < size:
        piece = os.read(fd, size - got)
        if not piece:
            break
        pieces.append(piece)
        got += len(piece)
    return b"".join(pieces)


@attrs.frozen
class ImageFile:
    """A checked image file: its path, and what it was when checked, to notice any change."""

    path: str
    size: int
    media_type: str
    mtime_ns: int = attrs.field(repr=False)
    device: int = attrs.field(repr=False)
    inode: int = attrs.field(repr=False)

    @classmethod
    def check(cls, path: object, *, check_limit: bool = True) -> ImageFile:
        """The file at `path`, if it is a regular file holding an image the gateway takes.

        Reads its first bytes only; with `check_limit`, refuses a file over the limit.
        """
        source = check_path(_FIELD, path)
        fd = _open(source)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                kind = _kind(info.st_mode)
                raise InvalidImageError(_FIELD, f"{source!r} is {kind}, not an image file")
            if check_limit:
                check_size(info.st_size, field=_FIELD, source=source)
            head = os.pread(fd, HEAD_BYTES, 0)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise InvalidImageError(_FIELD, f"{source!r} cannot be read: {reason}") from None
        finally:
            os.close(fd)
        media_type = sniff_media_type(head)
        if media_type is None:
            raise InvalidImageError(_FIELD, not_an_image(source, head))
        return cls(source, info.st_size, media_type, info.st_mtime_ns, info.st_dev, info.st_ino)

    def verify(self) -> None:
        """InvalidImageError unless the path still names the file as it was checked."""
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            raise self._changed("it was removed") from None
        except OSError as exc:
            raise self._changed(f"it cannot be read now: {exc.strerror or exc}") from None
        self._compare(info)

    def read(self) -> bytes:
        """The whole file, checked as `slices` checks it."""
        return b"".join(self.slices(max(self.size, 1)))

    def slices(self, size: int) -> Iterator[bytes]:
        """The file in slices of `size` bytes (the last may be shorter).

        InvalidImageError as soon as the file is found not to be what was checked, and
        before the last slice at the latest: the file is compared again once it is read.
        """
        fd = self._open_unchanged()
        try:
            offset = 0
            while offset < self.size:
                piece = _read_exactly(fd, min(size, self.size - offset))
                if offset == 0 and sniff_media_type(piece[:HEAD_BYTES]) != self.media_type:
                    raise self._changed("its first bytes are no longer the image's")
                offset += len(piece)
                if not piece or offset == self.size:
                    # Truncated (a short read), or grown or rewritten (fstat says so now).
                    self._compare(os.fstat(fd), read=offset)
                yield piece
        except OSError as exc:
            raise self._changed(f"reading it failed: {exc.strerror or exc}") from None
        finally:
            os.close(fd)

    def _open_unchanged(self) -> int:
        try:
            fd = os.open(self.path, _OPEN_FLAGS)
        except FileNotFoundError:
            raise self._changed("it was removed") from None
        except OSError as exc:
            raise self._changed(f"it cannot be opened now: {exc.strerror or exc}") from None
        try:
            self._compare(os.fstat(fd))
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _compare(self, info: os.stat_result, *, read: int | None = None) -> None:
        if (info.st_dev, info.st_ino) != (self.device, self.inode):
            raise self._changed("another file was put in its place")
        if not stat.S_ISREG(info.st_mode):
            raise self._changed(f"it is now {_kind(info.st_mode)}")
        if info.st_size != self.size:
            raise self._changed(f"its size went from {self.size:,} to {info.st_size:,} bytes")
        if read is not None and read != self.size:
            raise self._changed(f"it ended after {read:,} of its {self.size:,} bytes")
        if info.st_mtime_ns != self.mtime_ns:
            raise self._changed("it was modified")

    def _changed(self, what: str) -> InvalidImageError:
        return InvalidImageError(
            _FIELD,
            f"{self.path!r} changed after the image part was made ({what}); make the part again",
        )
