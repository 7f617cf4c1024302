"""The batch runner: items in, one JSONL line out per finished item, resumable.

A producer reads items lazily into a small queue; `concurrency` workers take them, skip what
the output already holds (same input hash), read the images, wait for the `Limiter`, send,
and append the outcome. Memory holds the queue, the requests in flight and the output's
index of ids, never the input.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs
import httpx

from .._client import AsyncChatImage
from .._completion import ChatCompletion
from .._content import ContentPart, ImageData, ImageDetail, ImagePart, TextPart
from .._errors import APIError, InvalidInputError, MissingExtraError
from .._image_file import ImageFile
from .._images import estimate_image_tokens
from .._messages import Message, SystemMessage, UserMessage
from .._retry import RetryEvent
from ._estimate import estimate_text_tokens
from ._items import BatchItem, InputProblem, Shard, is_url, iter_input
from ._journal import Journal
from ._limits import Limiter

__all__ = ["DEFAULT_BATCH_RETRIES", "DEFAULT_MAX_TOKENS", "BatchSummary", "Progress", "run_batch"]

DEFAULT_MAX_TOKENS: Final = 300
# More than the client's 2: in a long run, a rate-limited item should wait its turn, not fail.
DEFAULT_BATCH_RETRIES: Final = 5
# Files up to this size are read on the event loop; bigger ones in a thread.
_READ_INLINE_BYTES: Final = 1 << 20
# An image behind a URL has no size here: count it as 1024 x 1024 at high detail.
_URL_IMAGE_TOKENS: Final = estimate_image_tokens(1024, 1024, "high")

# The retries of the item the current task is sending, counted by the client's on_retry.
_RETRIES: contextvars.ContextVar[list[int]] = contextvars.ContextVar("chat_image_batch_retries")


@attrs.define
class Progress:
    """Counts so far, passed to `on_progress` after each item (mutable: do not keep it)."""

    total: int | None = None
    done: int = 0
    ok: int = 0
    failed: Counter[str] = attrs.field(factory=Counter)
    skipped: int = 0
    # Of the skipped, those whose last answer was an error (redone with retry_failed).
    skipped_failed: int = 0
    redone_changed: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    started: float = attrs.field(factory=time.monotonic)

    @property
    def failures(self) -> int:
        return sum(self.failed.values())


@attrs.frozen
class BatchSummary:
    """How a run ended. `skipped` counts items already in the output; `problems` what was not
    an item (files that are not images, invalid manifest lines)."""

    total: int
    ok: int
    failed: Mapping[str, int]
    skipped: int
    skipped_failed: int
    redone_changed: int
    not_done: int
    tokens_in: int
    tokens_out: int
    wall_s: float
    slowdowns: int
    repaired: bool
    interrupted: bool
    problems: int
    bad_input: int

    @property
    def failures(self) -> int:
        return sum(self.failed.values())


@attrs.frozen
class _Options:
    prompt: str | None
    system: str | None
    model: str | None
    max_tokens: int
    detail: ImageDetail | None
    resize: bool
    retry_failed: bool


def default_http_client() -> httpx.AsyncClient | None:
    """`DefaultAioHttpClient()` when the aiohttp extra is installed: at a batch's concurrency
    it is several times faster than httpx's own pool. None (httpx's pool) without it."""
    from .._aiohttp import DefaultAioHttpClient

    try:
        return DefaultAioHttpClient()
    except MissingExtraError:
        return None


def _check_positive(name: str, value: object, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise InvalidInputError(name, f"expected a positive number, got {value!r}")


async def run_batch(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    prompt: str | None = None,
    model: str | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    detail: ImageDetail | None = None,
    system: str | None = None,
    resize: bool = False,
    concurrency: int = 8,
    rpm: float | None = None,
    tpm: float | None = None,
    retry_failed: bool = False,
    shard: Shard | None = None,
    max_retries: int = DEFAULT_BATCH_RETRIES,
    api_key: str | None = None,
    base_url: str | httpx.URL | None = None,
    timeout: float | httpx.Timeout | None = None,
    http_client: httpx.AsyncClient | None = None,
    on_progress: Callable[[Progress], object] | None = None,
    on_problem: Callable[[InputProblem], object] | None = None,
    on_event: Callable[[str], object] | None = None,
    stop: asyncio.Event | None = None,
    grace: float = 5.0,
    count_first: bool = True,
) -> BatchSummary:
    """Answer every item of `source` (a folder or a JSONL manifest) into `output` (JSONL).

    Items already `ok` in `output` for the same input are skipped (and `error` ones unless
    `retry_failed`), so running again resumes. Setting `stop` stops taking items; those in
    flight get `grace` seconds to finish, then are cancelled and left for the next run.
    Bad arguments raise InvalidInputError before anything is sent.
    """
    _check_positive("concurrency", concurrency)
    _check_positive("rpm", rpm, optional=True)
    _check_positive("tpm", tpm, optional=True)
    _check_positive("max_tokens", max_tokens)
    options = _Options(prompt, system, model, max_tokens, detail, resize, retry_failed)
    limiter = Limiter(concurrency=concurrency, rpm=rpm, tpm=tpm)

    def heard(event: RetryEvent) -> None:
        slowdowns = limiter.slowdowns
        limiter.on_retry(event)
        retries = _RETRIES.get(None)
        if retries is not None:
            retries[0] += 1
        if limiter.slowdowns > slowdowns and on_event is not None:
            on_event(
                f"rate limited (429): new requests wait {event.wait:.1f} s, "
                f"at most {limiter.limit} in flight"
            )

    # The key, the base URL and the input are checked before the output is touched.
    http = http_client if http_client is not None else default_http_client()
    try:
        client = AsyncChatImage(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http,
            on_retry=heard,
        )
    except BaseException:
        if http is not None and http is not http_client:
            await http.aclose()
        raise
    progress = Progress()
    if count_first:
        progress.total = sum(isinstance(e, BatchItem) for e in iter_input(source, shard))
    started = time.monotonic()
    problems: list[InputProblem] = []
    stop = stop or asyncio.Event()
    async with client:
        journal = Journal(output)
        try:
            runner = _Runner(options, journal, limiter, progress, tpm is not None, on_progress)
            runner.client = client
            interrupted = await runner.run(
                iter_input(source, shard),
                concurrency,
                stop,
                grace,
                problems,
                on_problem,
                unique_ids=os.path.isdir(source),
            )
        finally:
            journal.close()
    return BatchSummary(
        total=progress.total if progress.total is not None else progress.done,
        ok=progress.ok,
        failed=dict(progress.failed),
        skipped=progress.skipped,
        skipped_failed=progress.skipped_failed,
        redone_changed=progress.redone_changed,
        not_done=max(0, (progress.total or 0) - progress.done),
        tokens_in=progress.tokens_in,
        tokens_out=progress.tokens_out,
        wall_s=time.monotonic() - started,
        slowdowns=limiter.slowdowns,
        repaired=journal.repaired,
        interrupted=interrupted,
        problems=len(problems),
        bad_input=sum(problem.bad_input for problem in problems),
    )


class _Runner:
    def __init__(
        self,
        options: _Options,
        journal: Journal,
        limiter: Limiter,
        progress: Progress,
        count_tokens: bool,
        on_progress: Callable[[Progress], object] | None,
    ) -> None:
        self.options = options
        self.journal = journal
        self.limiter = limiter
        self.progress = progress
        self.count_tokens = count_tokens
        self.on_progress = on_progress
        self.client: AsyncChatImage | None = None

    async def run(
        self,
        entries: Any,
        concurrency: int,
        stop: asyncio.Event,
        grace: float,
        problems: list[InputProblem],
        on_problem: Callable[[InputProblem], object] | None,
        unique_ids: bool,
    ) -> bool:
        """Run to the end, or until `stop`; True when stopped.

        `unique_ids`: the input cannot repeat an id (a folder's are its files' paths), so
        no set of every id is kept to refuse repeats: memory stays flat over the input.
        """
        queue: asyncio.Queue[BatchItem | None] = asyncio.Queue(maxsize=2 * concurrency)
        seen: set[str] | None = None if unique_ids else set()

        async def produce() -> None:
            for entry in entries:
                if stop.is_set():
                    break
                if seen is not None and isinstance(entry, BatchItem) and entry.id in seen:
                    entry = InputProblem(
                        f"id {entry.id!r}", "duplicate id; the first is used", True
                    )
                if isinstance(entry, InputProblem):
                    problems.append(entry)
                    if on_problem is not None:
                        on_problem(entry)
                    continue
                if seen is not None:
                    seen.add(entry.id)
                await queue.put(entry)
            for _ in range(concurrency):
                await queue.put(None)

        async def work() -> None:
            while (item := await queue.get()) is not None and not stop.is_set():
                await self.one(item)

        tasks = [asyncio.create_task(produce())]
        tasks += [asyncio.create_task(work()) for _ in range(concurrency)]
        all_done: asyncio.Future[Any] = asyncio.gather(*tasks)
        stopped: asyncio.Future[Any] = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait([all_done, stopped], return_when=asyncio.FIRST_COMPLETED)
            if stop.is_set() and not all_done.done():
                # Stop taking items; let those in flight finish for a moment, then cancel.
                await asyncio.wait([all_done], timeout=grace)
            return stop.is_set()
        finally:
            finished = all_done.done()
            stopped.cancel()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if finished:
                all_done.result()  # a bug in a worker surfaces here, not silently

    async def one(self, item: BatchItem) -> None:
        options = self.options
        started = time.monotonic()
        prompt = item.prompt if item.prompt is not None else options.prompt
        model = item.model or options.model
        max_tokens = item.max_tokens or options.max_tokens
        detail = item.detail or options.detail
        base: dict[str, Any] = {"id": item.id, "input_hash": None}
        if item.metadata is not None:
            base["metadata"] = item.metadata
        try:
            if prompt is None:
                raise InvalidInputError("prompt", "none for this item; give --prompt")
            if model is None:
                raise InvalidInputError("model", "none for this item; give --model")
            images = [await _read(image) for image in item.images]
            base["input_hash"] = _input_hash(options, prompt, model, max_tokens, detail, images)
            if self._already_done(item.id, base["input_hash"]):
                self.progress.skipped += 1
                self._tick()
                return
            messages = _messages(options, prompt, detail, item.images, images)
            tokens = _estimate(messages, max_tokens) if self.count_tokens else 0
        except InvalidInputError as exc:
            # Bad input of one item (a missing image, say) is its error line, not the run's end.
            if self._already_done(item.id, None):
                self.progress.skipped += 1
                self._tick()
            else:
                self._finish(base, exc, started, 0)
            return
        await self._send(base, model, max_tokens, messages, tokens, started)

    def _already_done(self, item_id: str, input_hash: str | None) -> bool:
        """Whether the output already answers this input; counts a changed input as redone."""
        before = self.journal.state.get(item_id)
        if before is None:
            return False
        if before.input_hash != input_hash:
            self.progress.redone_changed += 1
            return False
        if before.status == "ok":
            return True
        if self.options.retry_failed:
            return False
        self.progress.skipped_failed += 1
        return True

    async def _send(
        self,
        base: dict[str, Any],
        model: str,
        max_tokens: int,
        messages: list[Message],
        tokens: int,
        started: float,
    ) -> None:
        assert self.client is not None
        retries = [0]
        _RETRIES.set(retries)
        await self.limiter.acquire(tokens)
        ok = False
        try:
            raw = await self.client.chat.completions.with_raw_response.create(
                model=model, messages=messages, max_tokens=max_tokens
            )
            self.limiter.on_headers(raw.headers)
            completion = raw.parse()
            ok = True
        except APIError as exc:
            self._finish(base, exc, started, retries[0] + 1)
            return
        finally:
            await self.limiter.release(ok=ok)
        self._finish(base, completion, started, retries[0] + 1, raw.request_id)

    def _finish(
        self,
        base: dict[str, Any],
        outcome: ChatCompletion | Exception,
        started: float,
        attempts: int,
        request_id: str | None = None,
    ) -> None:
        progress = self.progress
        record = dict(base)
        if isinstance(outcome, ChatCompletion):
            choice = outcome.choices[0] if outcome.choices else None
            usage = outcome.usage
            record |= {
                "status": "ok",
                "content": choice.message.content if choice else None,
                "finish_reason": choice.finish_reason if choice else None,
                "usage": None
                if usage is None
                else {
                    "prompt_tokens": usage.prompt_tokens,
                    "completion_tokens": usage.completion_tokens,
                    "total_tokens": usage.total_tokens,
                },
                "model": outcome.model,
                "request_id": request_id,
            }
            progress.ok += 1
            if usage is not None:
                progress.tokens_in += usage.prompt_tokens or 0
                progress.tokens_out += usage.completion_tokens or 0
        else:
            record |= {
                "status": "error",
                "error": {
                    "type": type(outcome).__name__,
                    "message": str(outcome),
                    "status_code": getattr(outcome, "status_code", None),
                },
                "request_id": getattr(outcome, "request_id", None),
            }
            progress.failed[type(outcome).__name__] += 1
        record["attempts"] = attempts
        record["latency_s"] = round(time.monotonic() - started, 3)
        self.journal.append(record)
        self._tick()

    def _tick(self) -> None:
        self.progress.done += 1
        if self.on_progress is not None:
            self.on_progress(self.progress)


async def _read(image: str) -> bytes | str:
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
    return ImageFile.check(path, check_limit=False).read()


def _input_hash(
    options: _Options,
    prompt: str,
    model: str,
    max_tokens: int,
    detail: str | None,
    images: list[bytes | str],
) -> str:
    """What decides the answer: an image's bytes (or URL), the request's text and options."""
    described = {
        "prompt": prompt,
        "system": options.system,
        "model": model,
        "max_tokens": max_tokens,
        "detail": detail,
        "resize": options.resize,
        "images": [
            image if isinstance(image, str) else hashlib.sha256(image).hexdigest()
            for image in images
        ],
    }
    canonical = json.dumps(described, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _messages(
    options: _Options,
    prompt: str,
    detail: ImageDetail | None,
    names: tuple[str, ...],
    images: list[bytes | str],
) -> list[Message]:
    parts: list[ContentPart] = [TextPart(prompt)]
    for name, image in zip(names, images, strict=True):
        if isinstance(image, str):
            parts.append(ImagePart.from_url(image, detail))
            continue
        try:
            parts.append(ImagePart(ImageData.from_bytes(image, detail, resize=options.resize)))
        except InvalidInputError as exc:
            raise InvalidInputError("image", f"{name!r}: {exc.problem}") from None
    messages: list[Message] = [SystemMessage(options.system)] if options.system else []
    messages.append(UserMessage(parts))
    return messages


def _estimate(messages: list[Message], max_tokens: int) -> int:
    """What --tpm counts for a request: images, text, and the answer's `max_tokens`."""
    texts: list[str] = []
    image_tokens = 0
    for message in messages:
        content = message.content
        if content is None:
            continue
        if isinstance(content, str):
            texts.append(content)
            continue
        for part in content:
            if isinstance(part, TextPart):
                texts.append(part.text)
            elif isinstance(part, ImagePart) and isinstance(part.image_url, ImageData):
                image_tokens += part.estimate_tokens()
            elif isinstance(part, ImagePart):
                low = part.image_url.detail == "low"
                image_tokens += part.estimate_tokens() if low else _URL_IMAGE_TOKENS
    return estimate_text_tokens(texts) + image_tokens + max_tokens
