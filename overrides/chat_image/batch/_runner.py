"""The batch runner: items in, one JSONL line out per finished item, resumable.

A producer reads items lazily into a small queue; `concurrency` workers take them, skip what
the output already holds (same input hash), read the images, wait for the `Limiter`, send,
and append the outcome. Memory holds the queue, the requests in flight and the output's
index of ids, never the input.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import time
from collections.abc import Callable
from typing import Any, Final

import httpx

from .._client import AsyncChatImage
from .._exceptions import APIError, InvalidInputError, MissingExtraError
from .._images.stage import ImagesOption, resolve_policy
from .._models.completion import ChatCompletion
from .._models.content import ImageDetail
from .._models.messages import Message, prompt_messages
from .._retry import RetryEvent
from .._structured.outcomes import (
    ContentFilterFinishReasonError,
    LengthFinishReasonError,
    StructuredOutputError,
)
from .._validation import (
    check_item_request,
    check_number,
    check_positive,
    check_response_type,
    check_text,
)
from ._estimate import estimate_request_tokens
from ._items import BatchItem, InputProblem, Shard, iter_input, read_image
from ._journal import Journal, OutputWriteError
from ._limits import Limiter
from ._models import BatchSummary, Progress, RunOptions
from ._output import build_line, image_fields, input_hash, request_fields

__all__ = ["DEFAULT_BATCH_RETRIES", "DEFAULT_MAX_TOKENS", "BatchSummary", "Progress", "run_batch"]

DEFAULT_MAX_TOKENS: Final = 300
# More than the client's 2: in a long run, a rate-limited item should wait its turn, not fail.
DEFAULT_BATCH_RETRIES: Final = 5

# Workers at most, whatever `concurrency` says: more only cost memory (a task, a queue slot
# and a connection each), and no gateway answers a million requests from one client at once.
MAX_WORKERS: Final = 1024

# The retries of the item the current task is sending, counted by the client's on_retry.
_RETRIES: contextvars.ContextVar[list[int]] = contextvars.ContextVar("chat_image_batch_retries")


def default_http_client() -> httpx.AsyncClient | None:
    """`DefaultAioHttpClient()` when the aiohttp extra is installed: at a batch's concurrency
    it is several times faster than httpx's own pool. None (httpx's pool) without it."""
    from .._transports.aiohttp import DefaultAioHttpClient

    try:
        return DefaultAioHttpClient()
    except MissingExtraError:
        return None


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
    images: ImagesOption = None,
    pdf_pages: str | None = None,
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
    response_format: object = None,
) -> BatchSummary:
    """Answer every item of `source` (a folder or a JSONL manifest) into `output` (JSONL).

    Items already `ok` in `output` for the same input are skipped (and `error` ones unless
    `retry_failed`), so running again resumes. Setting `stop` stops taking items; those in
    flight get `grace` seconds to finish, then are cancelled and left for the next run. An
    item that fails is an `error` line in `output`, not an exception. At most `concurrency`
    requests are in flight, by no more workers than there are items (nor than
    `MAX_WORKERS`). If the output fails mid-run (a full disk), the run stops as on `stop`,
    keeps every line written whole, and says why in `BatchSummary.output_error`.

    Args:
        source: A folder (images found recursively) or a JSONL manifest, one request a line.
        output: The JSONL file written, one line per finished item; read first to resume.
            `"-"` (standard output), a FIFO or a device is written as a stream, no resume.
        prompt: What to ask of each image; a manifest line's `prompt` overrides it.
        model: The model; a manifest line's `model` overrides it.
        max_tokens: Each answer's limit, `DEFAULT_MAX_TOKENS` by default.
        detail: The images' `detail` (`low`, `high` or `auto`); None sends none.
        system: A system message sent before each question.
        resize: Scale images down to what the model sees (needs Pillow).
        images: The image policy (`ImagePolicy` or a profile name); each output line then
            records what it did (`actions`, and each image's bytes and pixels before and
            after). None: the client's default policy.
        pdf_pages: The pages of each PDF input to send ("1-3"); None for all (at most 100).
        concurrency: The most requests in flight; halved on a 429, then won back.
        rpm: Request starts per minute, spaced; None for no limit.
        tpm: Estimated input tokens per minute; None for no limit.
        retry_failed: Redo the items whose last answer in `output` was an error.
        shard: Take only this part of the items (`parse_shard("2/8")`), by a hash of the id.
        max_retries: Each request's retries, `DEFAULT_BATCH_RETRIES` by default.
        api_key: As for `AsyncChatImage`; the environment by default.
        base_url: As for `AsyncChatImage`; the environment by default.
        timeout: As for `AsyncChatImage`.
        http_client: The `httpx.AsyncClient` to send over, left open; by default a
            `DefaultAioHttpClient` when the `aiohttp` extra is installed, closed at the end.
        on_progress: Called with the running `Progress` after each item.
        on_problem: Called with each `InputProblem` (a file that is not an image, an
            invalid manifest line), which is then skipped.
        on_event: Called with a line of news, such as a slowdown after a 429.
        stop: Set it to stop taking items (what Ctrl-C and SIGTERM do in `chat-image batch`).
        grace: Seconds the requests in flight get to finish once `stop` is set; the run
            ends as soon as they do.
        count_first: Count the items before starting, so that progress has a total.
        response_format: Parse each answer into this type (as `parse()` does: a class,
            `list[X]`, or a JSON Schema dict); each line then has `parsed`, and an answer that
            never fit is an error line with its `problems`.

    Returns:
        A `BatchSummary`: ok, failed by error type, skipped, tokens, wall time, problems,
        and `output_error` if the output failed mid-run.

    Raises:
        InvalidInputError: A bad argument (a concurrency, rate or `max_tokens` below 1, a
            negative grace, text holding a lone surrogate), a missing key or base URL, an
            unreadable `source`, or an `output` that cannot be written (a directory, a
            missing folder, a read-only file system, a FIFO no process reads) or is not a
            batch output; nothing is sent.
        JournalBusyError: Another run is writing `output`.
    """
    check_positive("concurrency", concurrency)
    check_positive("rpm", rpm, optional=True)
    check_positive("tpm", tpm, optional=True)
    check_positive("max_tokens", max_tokens)
    check_number("grace", grace, minimum=0, unit="a number of seconds")
    for field, text in (("prompt", prompt), ("system", system), ("model", model)):
        if text is not None:
            check_text(field, text)
    if response_format is not None:
        check_response_type("response_format", response_format)
    policy = resolve_policy(images, None)
    options = RunOptions(
        prompt,
        system,
        model,
        max_tokens,
        detail,
        resize,
        retry_failed,
        response_format,
        policy,
        pdf_pages,
    )
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
            images=images,
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
    workers = min(concurrency, MAX_WORKERS)
    if progress.total is not None:
        workers = max(1, min(workers, progress.total))
    async with client:
        journal = Journal(output)
        try:
            runner = _Runner(
                client, options, journal, limiter, progress, tpm is not None, on_progress
            )
            # [tracing] The run is one span; each item's call is its child.
            with client._tracing.batch(progress, concurrency) as batch_trace:
                interrupted = await runner.run(
                    iter_input(source, shard),
                    workers,
                    stop,
                    grace,
                    problems,
                    on_problem,
                    unique_ids=os.path.isdir(source),
                )
                batch_trace.interrupted = interrupted
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
        output_error=None if runner.write_error is None else str(runner.write_error),
    )


class _Runner:
    def __init__(
        self,
        client: AsyncChatImage,
        options: RunOptions,
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
        self.client = client
        # The output's failure mid-run: once set, it ends the run as a stop does.
        self.write_error: OutputWriteError | None = None
        self.ending = asyncio.Event()

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
        ending = self.ending

        async def produce() -> None:
            try:
                for entry in entries:
                    if ending.is_set():
                        return
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
            except Exception:
                ending.set()  # the workers are told to end below; the error surfaces then
                raise
            for _ in range(concurrency):
                await queue.put(None)

        async def work() -> None:
            while (item := await queue.get()) is not None and not ending.is_set():
                await self.one(item)

        async def end_on_stop() -> None:
            await stop.wait()
            ending.set()

        producer = asyncio.create_task(produce())
        workers = [asyncio.create_task(work()) for _ in range(concurrency)]
        workers_done: asyncio.Future[Any] = asyncio.gather(*workers)
        watcher = asyncio.create_task(end_on_stop())
        ended = asyncio.create_task(ending.wait())
        try:
            await asyncio.wait([workers_done, ended], return_when=asyncio.FIRST_COMPLETED)
            if ending.is_set() and not workers_done.done():
                # Stop taking items. The producer may wait on a full queue and idle workers on
                # an empty one: drop what is queued and tell each worker to end, so that the
                # run ends as soon as the requests in flight do, or when the grace is over.
                producer.cancel()
                while not queue.empty():
                    queue.get_nowait()
                for _ in workers:
                    queue.put_nowait(None)
                await asyncio.wait([workers_done], timeout=grace)
            return stop.is_set()
        finally:
            for task in (watcher, ended, producer, *workers):
                task.cancel()
            outcomes = await asyncio.gather(producer, *workers, return_exceptions=True)
            if workers_done.done() and not workers_done.cancelled():
                workers_done.exception()  # retrieved: `outcomes` says what each task did
            for outcome in outcomes:
                if isinstance(outcome, Exception):
                    raise outcome  # a bug in the producer or a worker surfaces here

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
        # For `chat-image report`: where the images are and what was asked.
        base |= request_fields(options, item.images, prompt, model, max_tokens, detail)
        # For `chat-image report`: where the images are and what was asked.
        base |= request_fields(options, item.images, prompt, model, max_tokens, detail)
        try:
            prompt, model = check_item_request(prompt, model)
            images = [await read_image(image) for image in item.images]
            base["input_hash"] = input_hash(options, prompt, model, max_tokens, detail, images)
            if self._already_done(item.id, base["input_hash"]):
                self.progress.skipped += 1
                self._tick()
                return
            messages = prompt_messages(
                prompt,
                zip(item.images, images, strict=True),
                system=options.system,
                detail=detail,
                resize=options.resize,
                pdf_pages=options.pdf_pages,
            )
            # Issue 18: fitted here (the client's policy) so the line records what was done.
            params, prepared = await self.client._images.aprepare({"messages": messages})
            messages = params["messages"]
            if prepared is not None:
                base |= image_fields(prepared.reports)
            tokens = estimate_request_tokens(messages, max_tokens) if self.count_tokens else 0
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
        retries = [0]
        _RETRIES.set(retries)
        await self.limiter.acquire(tokens)
        ok = False
        request_id = None
        try:
            if self.options.response_format is not None:
                completion = await self._parse(model, max_tokens, messages)
            else:
                raw = await self.client.chat.completions.with_raw_response.create(
                    model=model, messages=messages, max_tokens=max_tokens
                )
                self.limiter.on_headers(raw.headers)
                completion = raw.parse()
                request_id = raw.request_id
            ok = True
        except (
            APIError,
            InvalidInputError,
            StructuredOutputError,
            LengthFinishReasonError,
            ContentFilterFinishReasonError,
        ) as exc:
            # InvalidInputError: what the client refuses of this item's input is its error.
            self._finish(base, exc, started, retries[0] + 1)
            return
        finally:
            await self.limiter.release(ok=ok)
        self._finish(base, completion, started, retries[0] + 1, request_id)

    async def _parse(self, model: str, max_tokens: int, messages: list[Message]) -> ChatCompletion:
        """`--schema`: the answer parsed (re-asks and fallbacks included, as `parse()` does)."""
        return await self.client.chat.completions.parse(
            model=model,
            messages=messages,
            max_tokens=max_tokens,
            response_format=self.options.response_format,
        )

    def _finish(
        self,
        base: dict[str, Any],
        outcome: ChatCompletion | Exception,
        started: float,
        attempts: int,
        request_id: str | None = None,
    ) -> None:
        if self.write_error is not None:
            return  # the output failed: this answer cannot be kept either, nor counted done
        record = build_line(
            base,
            outcome,
            attempts=attempts,
            latency_s=time.monotonic() - started,
            request_id=request_id,
        )
        try:
            self.journal.append(record)
        except OutputWriteError as exc:
            self.write_error = exc
            self.ending.set()
            return
        progress = self.progress
        if isinstance(outcome, ChatCompletion):
            progress.ok += 1
            usage = outcome.usage
            if usage is not None:
                progress.tokens_in += usage.prompt_tokens or 0
                progress.tokens_out += usage.completion_tokens or 0
        else:
            progress.failed[type(outcome).__name__] += 1
        self._tick()

    def _tick(self) -> None:
        self.progress.done += 1
        if self.on_progress is not None:
            self.on_progress(self.progress)
