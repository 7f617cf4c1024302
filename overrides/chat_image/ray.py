"""Ray Data: `ds.map_batches(ChatImageMapper, fn_constructor_kwargs={...}, concurrency=N)`.

`ChatImageMapper` answers a batch of rows (a dict of columns) with one vision request per
row. It needs no Ray: it is a plain callable class, usable over any dict of columns. Each
worker sends its rows concurrently on its own event loop (`AsyncChatImage`), within its share
of the cluster's request rate, and a row that fails is a row with `status` "error" and a
short message, never an exception that stops the job (nor one that carries the image).

    import ray
    from chat_image.ray import ChatImageMapper

    ds = ray.data.read_binary_files("s3://bucket/photos/", include_paths=True)
    answers = ds.map_batches(
        ChatImageMapper,
        fn_constructor_kwargs={"model": "gpt-4o", "prompt": "Describe it.", "rpm": 6000,
                               "workers": 8},
        concurrency=8,
        batch_size=64,
    )
    answers.write_parquet("s3://bucket/answers/")
"""

from __future__ import annotations

import asyncio
import importlib
import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from ._client import AsyncChatImage
from ._images.stage import ImagesOption, resolve_policy
from ._models.completion import ChatCompletion
from ._models.content import ImageDetail
from ._models.messages import Message, prompt_messages
from ._validation import (
    check_columns,
    check_detail,
    check_instance,
    check_int,
    check_max_retries,
    check_nonempty_str,
    check_path,
    check_positive,
    check_response_type,
)
from .batch import DEFAULT_BATCH_RETRIES, DEFAULT_MAX_TOKENS
from .batch._items import read_image
from .batch._models import RunOptions
from .batch._output import input_hash

if TYPE_CHECKING:
    import httpx

    from ._retry import RetryEvent
    from .batch._limits import Limiter

__all__ = ["RESULT_COLUMNS", "ChatImageMapper"]

# Each result column and its Arrow type, in output order. A batch whose rows all succeeded has
# its error columns all None, which Arrow would type as null, and a folder of Parquet files
# Ray writes from such batches and others would not read back as one table; typed, every
# batch has one schema.
_ARROW_TYPES: Final = {
    "status": "string",
    "content": "string",
    "finish_reason": "string",
    "error_type": "string",
    "error_message": "string",
    "http_status": "int64",
    "prompt_tokens": "int64",
    "completion_tokens": "int64",
    "latency_s": "float64",
    "input_hash": "string",
}

RESULT_COLUMNS: Final = tuple(_ARROW_TYPES)
"""The columns each output row gains, in this order, after its input columns."""

# An error message is for a person reading a table: its first few hundred characters.
_MESSAGE_CHARS: Final = 300
# Base64 runs long enough to be image data, and data URLs: never copied into a row.
_DATA_URL: Final = re.compile(r"data:[\w.+/-]*;base64,[A-Za-z0-9+/=]*")
_BASE64_RUN: Final = re.compile(r"[A-Za-z0-9+/]{100,}={0,2}")


def _short_message(exc: BaseException) -> str:
    """`str(exc)` without image data (data URLs, long base64 runs), cut to a few hundred
    characters: what a failed row says."""
    message = _DATA_URL.sub("data:...", str(exc))
    message = _BASE64_RUN.sub("...", message)
    message = " ".join(message.split())
    if len(message) > _MESSAGE_CHARS:
        message = message[: _MESSAGE_CHARS - 3] + "..."
    return message or type(exc).__name__


class _Runtime:
    """What a mapper makes on first use, in the process that uses it: an event loop in a
    thread of its own, the client and the limiter that live on it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
        self.loop = loop
        self.thread = thread
        self.client: AsyncChatImage | None = None
        self.limiter: Limiter | None = None


def _pyarrow() -> Any:
    """pyarrow when it is installed (Ray Data installs it), else None: the columns stay lists."""
    try:
        return importlib.import_module("pyarrow")
    except ImportError:
        return None


class ChatImageMapper:
    """Answers a batch of rows, one request per row: `mapper({"bytes": [...], "path": [...]})`.

    Made on each Ray worker from `fn_constructor_kwargs`, so the client's settings (key, base
    URL) come from the workers' environment unless given. Arguments:

    - `model`, `prompt`, `max_tokens` (300), `system`, `detail`, `resize` (scale images down to
      what the model uses; needs the `images` extra): what each request asks.
    - `image_column` ("bytes"): each row's image as bytes, a file path or an http(s)/data URL;
      `id_column` ("path"): the column naming each row (both must be in every batch).
    - `in_flight` (8): requests in flight per worker; `rpm`: the cluster's total requests per
      minute, divided evenly among `workers` (give Ray's `concurrency` here too).
    - `api_key`, `base_url`, `timeout`, `max_retries` (5): the client's settings.
    - `images`: the image policy, as the clients take it (an `ImagePolicy`, a profile name such
      as "anthropic", or False to send images as given); the openai profile by default.
    - `schema`: parse each answer into this type, as `parse()` does (a class, `list[X]` or a
      JSON Schema dict); rows then have a `parsed` column (a dict, JSON-ready), and an answer
      that never fit is an error row.

    A batch's output keeps its input columns (less the image column when it holds bytes) and
    adds `RESULT_COLUMNS`: lists, or with pyarrow installed (as Ray Data installs it) pyarrow
    arrays of fixed types, so that every batch has one schema. Raises InvalidInputError for
    bad arguments, at once, and on the first batch for a missing column or missing
    credentials: every row would fail alike.
    """

    def __init__(
        self,
        *,
        model: str,
        prompt: str,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        system: str | None = None,
        detail: ImageDetail | None = None,
        resize: bool = False,
        image_column: str = "bytes",
        id_column: str = "path",
        in_flight: int = 8,
        rpm: float | None = None,
        workers: int = 1,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int = DEFAULT_BATCH_RETRIES,
        schema: object = None,
        images: ImagesOption = None,
    ) -> None:
        self.model = check_nonempty_str("model", model)
        resolve_policy(images, None)  # a bad policy is refused here, not on every worker
        self.images = images
        if schema is not None:
            check_response_type("schema", schema)
        self.schema = schema
        self.prompt = check_nonempty_str("prompt", prompt)
        self.system = None if system is None else check_nonempty_str("system", system)
        self.max_tokens = check_int("max_tokens", max_tokens, minimum=1)
        check_detail("detail", detail)
        self.detail: ImageDetail | None = detail
        self.resize = bool(resize)
        self.image_column = check_nonempty_str("image_column", image_column)
        self.id_column = check_nonempty_str("id_column", id_column)
        self.in_flight = check_int("in_flight", in_flight, minimum=1)
        check_positive("rpm", rpm, optional=True)
        self.rpm = rpm
        self.workers = check_int("workers", workers, minimum=1)
        self.max_retries = check_max_retries(max_retries)
        self._api_key = api_key
        self._base_url = base_url
        self._timeout = timeout
        self._runtime: _Runtime | None = None
        self._lock = threading.Lock()

    @property
    def result_columns(self) -> tuple[str, ...]:
        """The columns each batch's output adds: `RESULT_COLUMNS`, and `parsed` with a schema."""
        return (*RESULT_COLUMNS, "parsed") if self.schema is not None else RESULT_COLUMNS

    @property
    def worker_rpm(self) -> float | None:
        """This worker's share of `rpm`: requests per minute it may start."""
        return None if self.rpm is None else self.rpm / self.workers

    def __repr__(self) -> str:
        # Never the key: only what the requests ask and how fast.
        return (
            f"<ChatImageMapper model={self.model!r} in_flight={self.in_flight} "
            f"worker_rpm={self.worker_rpm}>"
        )

    # A mapper travels (pickled) as its arguments; each process makes its own loop and client.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_runtime"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, Any]:
        """Answer every row of `batch` (a dict of equally long columns); returns the columns
        of the answers, one row per input row, in the same order."""
        if not isinstance(batch, Mapping):
            raise TypeError(
                "ChatImageMapper takes a dict of columns: map_batches(..., batch_format='numpy')"
                f", got {type(batch).__name__}"
            )
        check_columns((self.image_column, self.id_column), batch)
        images: Sequence[Any] = batch[self.image_column]
        runtime = self._start()
        rows = asyncio.run_coroutine_threadsafe(self._answer_all(runtime, images), runtime.loop)
        results = rows.result()
        holds_bytes = any(isinstance(image, bytes | bytearray | memoryview) for image in images)
        out: dict[str, Any] = {
            name: column
            for name, column in batch.items()
            if not (name == self.image_column and holds_bytes) and name not in self.result_columns
        }
        arrow = _pyarrow()
        for name in self.result_columns:
            values = [row[name] for row in results]
            kind = _ARROW_TYPES.get(name)
            out[name] = (
                values
                if arrow is None or kind is None
                else arrow.array(values, type=getattr(arrow, kind)())
            )
        return out

    def close(self) -> None:
        """Close the connections and stop the worker's event loop (a new call starts again)."""
        with self._lock:
            runtime, self._runtime = self._runtime, None
        if runtime is None:
            return
        if runtime.client is not None:
            asyncio.run_coroutine_threadsafe(runtime.client.close(), runtime.loop).result()
        runtime.loop.call_soon_threadsafe(runtime.loop.stop)
        runtime.thread.join()
        runtime.loop.close()

    def __enter__(self) -> ChatImageMapper:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the worker's loop --------------------------------------------------------------------

    def _start(self) -> _Runtime:
        with self._lock:
            if self._runtime is not None:
                return self._runtime
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="chat-image-mapper", daemon=True
            )
            thread.start()
            runtime = _Runtime(loop, thread)
            try:
                asyncio.run_coroutine_threadsafe(self._connect(runtime), loop).result()
            except BaseException:
                loop.call_soon_threadsafe(loop.stop)
                thread.join()
                loop.close()
                raise
            self._runtime = runtime
            return runtime

    async def _connect(self, runtime: _Runtime) -> None:
        """The client and limiter, made on the loop they will run on."""
        from .batch._limits import Limiter
        from .batch._runner import default_http_client

        limiter = Limiter(concurrency=self.in_flight, rpm=self.worker_rpm)

        def heard(event: RetryEvent) -> None:
            # A 429's Retry-After pauses every request of this worker, not only the one told.
            limiter.on_retry(event)

        http: httpx.AsyncClient | None = default_http_client()
        try:
            runtime.client = AsyncChatImage(
                api_key=self._api_key,
                base_url=self._base_url,
                timeout=self._timeout,
                max_retries=self.max_retries,
                http_client=http,
                on_retry=heard,
                images=self.images,
            )
        except BaseException:
            if http is not None:
                await http.aclose()
            raise
        runtime.limiter = limiter

    async def _answer_all(self, runtime: _Runtime, images: Sequence[Any]) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(self._answer(runtime, image) for image in images)))

    async def _answer(self, runtime: _Runtime, image: object) -> dict[str, Any]:
        row: dict[str, Any] = dict.fromkeys(self.result_columns)
        try:
            data = await _image_bytes(image)
            row["input_hash"] = self._input_hash(data)
            messages = self._messages(data)
        except Exception as exc:  # bad input of one row is that row's error
            return _failed(row, exc, 0.0)
        client, limiter = runtime.client, runtime.limiter
        assert client is not None
        assert limiter is not None
        await limiter.acquire()
        started = time.monotonic()
        ok = False
        try:
            if self.schema is not None:
                parsed = await client.chat.completions.parse(
                    model=self.model,
                    messages=messages,
                    max_tokens=self.max_tokens,
                    response_format=self.schema,
                )
                row["parsed"] = _jsonable(parsed.choices[0].message.parsed)
                completion: ChatCompletion = parsed
            else:
                raw = await client.chat.completions.with_raw_response.create(
                    model=self.model, messages=messages, max_tokens=self.max_tokens
                )
                limiter.on_headers(raw.headers)
                completion = raw.parse()
            ok = True
        except Exception as exc:  # one row's failure, whatever it is, stays in its row
            return _failed(row, exc, time.monotonic() - started)
        finally:
            await limiter.release(ok=ok)
        return _answered(row, completion, time.monotonic() - started)

    def _input_hash(self, data: bytes | str) -> str:
        """The batch runner's hash of what decides the answer, so outputs compare across both."""
        options = RunOptions(
            self.prompt, self.system, self.model, self.max_tokens, self.detail, self.resize, False
        )
        return input_hash(options, self.prompt, self.model, self.max_tokens, self.detail, [data])

    def _messages(self, data: bytes | str) -> list[Message]:
        # The one message builder the command line and the batch runner use too.
        return prompt_messages(
            self.prompt,
            [("image", data)],
            system=self.system,
            detail=self.detail,
            resize=self.resize,
        )


async def _image_bytes(image: object) -> bytes | str:
    """A row's image: its bytes (given, or read from a path, checked), or its URL as is."""
    if isinstance(image, str | os.PathLike):
        return await read_image(check_path("image", image))  # a URL comes back as it is
    data = check_instance("image", image, (bytes, bytearray, memoryview), "bytes, a path or a URL")
    return bytes(data)


def _jsonable(value: object) -> object:
    """A parsed answer as plain JSON data (a dict for a class), as the batch output holds it."""
    from ._structured.spec import to_jsonable

    return to_jsonable(value)


def _failed(row: dict[str, Any], exc: Exception, latency: float) -> dict[str, Any]:
    row["status"] = "error"
    row["error_type"] = type(exc).__name__
    row["error_message"] = _short_message(exc)
    status = getattr(exc, "status_code", None)
    row["http_status"] = status if isinstance(status, int) else None
    row["latency_s"] = round(latency, 3)
    return row


def _answered(row: dict[str, Any], completion: ChatCompletion, latency: float) -> dict[str, Any]:
    choice = completion.choices[0] if completion.choices else None
    usage = completion.usage
    row["status"] = "ok"
    row["content"] = choice.message.content if choice else None
    row["finish_reason"] = choice.finish_reason if choice else None
    if usage is not None:
        row["prompt_tokens"] = usage.prompt_tokens
        row["completion_tokens"] = usage.completion_tokens
    row["latency_s"] = round(latency, 3)
    return row
