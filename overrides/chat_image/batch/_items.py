"""What a batch is made of: items read lazily from a folder of images or a JSONL manifest.

Nothing here holds more than one item: a run over 10,000 images walks the folder (or reads
the manifest) as it goes. What is not an item (a file that is not an image, a manifest line
that is not valid) comes out as an `InputProblem`, never as an exception.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import attrs

from .._exceptions import InvalidImageError, InvalidInputError
from .._images.checks import sniff_media_type
from .._images.file import ImageFile
from .._models.content import ImageDetail
from .._models.messages import is_url
from .._validation import (
    check_exists,
    check_manifest_line,
    check_nonempty,
    check_shard_spec,
    validator,
)

__all__ = [
    "BatchItem",
    "InputProblem",
    "Shard",
    "iter_input",
    "parse_shard",
]

_HEAD_BYTES: Final = 32  # the image policy's formats need 32 (checks.HEAD_BYTES)


@attrs.frozen
class BatchItem:
    """One request of a batch: its id, its images (paths or URLs), and what to ask."""

    id: str
    images: tuple[str, ...] = attrs.field(validator=validator(check_nonempty, what="image"))
    prompt: str | None = None
    model: str | None = None
    max_tokens: int | None = None
    detail: ImageDetail | None = None
    # Copied to the output line as is.
    metadata: Any = None


@attrs.frozen
class InputProblem:
    """Something in the input that is not an item: where (a path or a line) and why."""

    where: str
    problem: str
    # A folder's other files are expected; a manifest's broken lines are bad input.
    bad_input: bool = False


@attrs.frozen
class Shard:
    """`--shard K/N`: the items whose id hashes to K (1 <= K <= N), for N parallel runs."""

    index: int
    count: int

    def __contains__(self, item_id: str) -> bool:
        # surrogatepass: an id holding a lone surrogate (a file name that is not UTF-8) gets
        # a shard too; every other id hashes exactly as before.
        digest = hashlib.sha256(item_id.encode("utf-8", "surrogatepass")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1


def parse_shard(text: str) -> Shard:
    """`K/N`, with 1 <= K <= N, or the InvalidInputError that says what is wrong."""
    return Shard(*check_shard_spec("--shard", text))


_NOT_FILES: Final = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a directory"),
)


def _iter_folder(root: Path) -> Iterator[BatchItem | InputProblem]:
    """Every file under `root`, sorted, so that runs (and shards) see the same order.

    Symlinked folders that lead out of `root` are followed, once each; a link to a folder
    inside `root` (a second name for it, or a loop back up the tree) or to one walked already
    is named as skipped. Files are opened without blocking, so a FIFO is named as skipped
    instead of waiting for a writer.
    """
    top = os.fspath(root)
    inside = os.path.join(os.path.realpath(top), "")
    walked = {_identity(top)}
    # os.walk holds one folder at a time; `dirs` is pruned in place, before it descends.
    for folder, dirs, files in os.walk(top, followlinks=True):
        kept = []
        for name in sorted(dirs):
            path = os.path.join(folder, name)
            identity = _identity(path)
            if os.path.islink(path):
                target = os.path.join(os.path.realpath(path), "")
                if target.startswith(inside):
                    where = os.path.relpath(target, inside).replace(os.sep, "/")
                    yield InputProblem(
                        _relative(path, top),
                        f"a link to a folder inside the input ({where}), not followed",
                    )
                    continue
                if identity is None or identity in walked:
                    yield InputProblem(
                        _relative(path, top), "a link to a folder walked already, not followed"
                    )
                    continue
            walked.add(identity)
            kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            yield _folder_entry(os.path.join(folder, name), top)


def _identity(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _relative(path: str, top: str) -> str:
    # Strings, not Path objects: pathlib interns every name it splits, and CPython's table
    # of interned strings never shrinks, so memory would grow with the folder.
    return os.path.relpath(path, top).replace(os.sep, "/")


def _folder_entry(path: str, top: str) -> BatchItem | InputProblem:
    relative = _relative(path, top)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        return InputProblem(relative, f"cannot be read: {exc.strerror or exc}")
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _NOT_FILES if test(mode)), "a special file")
            return InputProblem(relative, f"{kind}, not an image file")
        head = os.read(fd, _HEAD_BYTES)
    except OSError as exc:
        return InputProblem(relative, f"cannot be read: {exc.strerror or exc}")
    finally:
        os.close(fd)
    # Issue 18: every format the image policy converts, and PDFs (their pages), too.
    if sniff_media_type(head) is None and not head.startswith(b"%PDF-"):
        return InputProblem(relative, _NOT_AN_INPUT)
    return BatchItem(relative, (path,))


_NOT_AN_INPUT: Final = (
    "not a PNG, JPEG, GIF or WebP image, nor a TIFF, BMP, ICO, AVIF, HEIC/HEIF image to "
    "convert, nor a PDF"
)


def _manifest_item(data: object, base: Path) -> BatchItem:
    line = check_manifest_line(data, is_url=is_url)
    # Paths are relative to the manifest's folder, so a manifest travels with its images.
    images = tuple(image if is_url(image) else str(base / image) for image in line["images"])
    return BatchItem(
        line["id"],
        images,
        prompt=line["prompt"],
        model=line["model"],
        max_tokens=line["max_tokens"],
        detail=line["detail"],
        metadata=line["metadata"],
    )


def _iter_manifest(path: Path) -> Iterator[BatchItem | InputProblem]:
    with open(path, "rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            where = f"line {number}"
            try:
                yield _manifest_item(json.loads(raw), path.parent)
            except ValueError as exc:  # InvalidInputError, JSON and UTF-8 errors alike
                problem = str(exc) if isinstance(exc, InvalidInputError) else f"not JSON ({exc})"
                yield InputProblem(where, problem, bad_input=True)
            except RecursionError:
                yield InputProblem(where, "nested too deeply to read", bad_input=True)


def iter_input(
    source: str | os.PathLike[str], shard: Shard | None = None
) -> Iterator[BatchItem | InputProblem]:
    """The items of a folder (recursively, images only) or a JSONL manifest, lazily.

    Raises InvalidInputError when `source` is neither.
    """
    check_exists("INPUT", source, "folder or file")
    path = Path(source)
    found = _iter_folder(path) if path.is_dir() else _iter_manifest(path)
    for entry in found:
        if shard is None or isinstance(entry, InputProblem) or entry.id in shard:
            yield entry


# Files up to this size are read on the event loop; bigger ones in a thread.
_READ_INLINE_BYTES: Final = 1 << 20


async def read_image(image: str) -> bytes | str:
    """A URL as is, or the file's bytes (checked as an image, and against the size limit
    unless resizing will shrink it later)."""
    if is_url(image):
        return image
    try:
        small = os.stat(image).st_size <= _READ_INLINE_BYTES
    except OSError:
        small = True  # ImageFile.check says what is wrong with it
    if small:
        return _read_file(image)
    return await asyncio.to_thread(_read_file, image)


def _read_file(path: str) -> bytes:
    # No size limit here: resizing may shrink it; the part made from the bytes checks it.
    try:
        return ImageFile.check(path, check_limit=False).read()
    except InvalidImageError as refused:
        # A PDF: its bytes, for the message builder to render its pages (issue 18). Opened
        # as ImageFile opens files: a FIFO or device is never waited on, only refused.
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            raise refused from None  # it says why
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode) or os.pread(fd, 5, 0) != b"%PDF-":
                raise refused from None
            with os.fdopen(os.dup(fd), "rb") as file:
                return file.read()
        finally:
            os.close(fd)
