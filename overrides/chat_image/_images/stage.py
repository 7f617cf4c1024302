"""Where a client applies its image policy: once per call, before the request is built.

`ImageStage` holds the client's policy and its download cache. `call` / `acall` wrap one
`create()`: the call's `images=` (else the client's) is resolved, URLs to inline are
downloaded (`acall` without blocking the event loop), `apply_policy` fits the images (in a
worker thread for `acall` when there is pixel or file work), and the request goes out with the
prepared messages. With `urls="auto"`, a 400 saying the gateway could not fetch an image URL
sends the request once more with the images inline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Final, TypeAlias, TypeVar

import attrs

from .._exceptions import APIStatusError, InvalidInputError
from .._models.content import ImageData, ImagePart, ImageURL
from .._models.messages import Message, parse_message
from .fetch import DownloadCache, afetch_images, fetch_images, gateway_could_not_fetch
from .limits import DEFAULT_POLICY, ImageLimits, ImagePolicy, check_policy
from .policy import PreparedImages, apply_policy, sent_as_given, urls_to_fetch

__all__ = ["ImageStage", "ImagesOption", "resolve_policy"]

# What `images=` takes: a policy, a profile name or limits (meaning `ImagePolicy(limits=...)`),
# False to send images exactly as given, or None for the client's (the default policy).
ImagesOption: TypeAlias = ImagePolicy | ImageLimits | str | bool | None
Result = TypeVar("Result")
_PARAM: Final = "images"


def resolve_policy(value: object, default: ImagePolicy | None) -> ImagePolicy | None:
    """The policy `images=` asks for; None when images are to be sent as given."""
    if value is None:
        return default
    if value is False:
        return None
    if value is True:
        return DEFAULT_POLICY
    return check_policy(value, field=_PARAM)


def _parsed(messages: object) -> list[Message]:
    if isinstance(messages, str | bytes | Mapping) or not isinstance(messages, Iterable):
        # Left for the request builder to refuse with its own message.
        raise _NotMessages
    parsed = []
    for index, item in enumerate(messages):
        try:
            parsed.append(parse_message(item))
        except InvalidInputError as exc:
            raise exc.under(f"messages[{index}]") from None
    return parsed


class _NotMessages(Exception):
    """`messages` is not a list: nothing for the policy to do."""


def _has_images(messages: list[Message]) -> bool:
    return any(
        isinstance(part, ImagePart)
        for message in messages
        if isinstance(message.content, tuple)
        for part in message.content
    )


def _needs_thread(messages: list[Message]) -> bool:
    """Whether preparing may read files or decode pixels (worth a worker thread)."""
    for message in messages:
        if isinstance(message.content, tuple):
            for part in message.content:
                if isinstance(part, ImagePart) and (
                    isinstance(part.image_url, ImageData)
                    or part.image_url.url[:5].lower() == "data:"
                ):
                    return True
    return False


def _has_http_urls(messages: list[Message]) -> bool:
    return any(
        isinstance(part, ImagePart)
        and isinstance(part.image_url, ImageURL)
        and part.image_url.url[:4].lower() == "http"
        for message in messages
        if isinstance(message.content, tuple)
        for part in message.content
    )


@attrs.define
class _Plan:
    """One call's policy and parsed messages (None: nothing for the policy to do)."""

    params: dict[str, Any]
    policy: ImagePolicy | None
    messages: list[Message] | None
    # Images the policy leaves as they are (URLs the gateway fetches): nothing was done.
    as_given: PreparedImages | None = None


class ImageStage:
    """A client's image policy and download cache (see the module docstring)."""

    def __init__(self, images: ImagesOption = None) -> None:
        self.policy = resolve_policy(images, DEFAULT_POLICY)
        self.cache = DownloadCache()

    def _plan(self, params: Mapping[str, Any]) -> _Plan:
        rest = {key: value for key, value in params.items() if key != _PARAM}
        policy = resolve_policy(params.get(_PARAM), self.policy)
        if policy is None or "messages" not in params:
            return _Plan(rest, None, None)
        try:
            messages = _parsed(params["messages"])
        except _NotMessages:
            return _Plan(rest, None, None)
        if not _has_images(messages):
            return _Plan({**rest, "messages": messages}, None, None)
        if sent_as_given(messages, policy):
            as_given = PreparedImages(tuple(messages), ())
            return _Plan({**rest, "messages": messages}, None, None, as_given)
        return _Plan(rest, policy, messages)

    def _with(self, plan: _Plan, prepared: PreparedImages) -> dict[str, Any]:
        return {**plan.params, "messages": list(prepared.messages)}

    def prepare(self, params: Mapping[str, Any]) -> tuple[dict[str, Any], PreparedImages | None]:
        """`params` with the messages as they will be sent, and what was done to them."""
        plan = self._plan(params)
        if plan.policy is None or plan.messages is None:
            return plan.params, plan.as_given
        fetched = fetch_images(
            urls_to_fetch(plan.messages, plan.policy),
            timeout=plan.policy.url_timeout,
            max_bytes=plan.policy.url_max_bytes,
            cache=self.cache,
        )
        prepared = apply_policy(plan.messages, plan.policy, fetched=fetched)
        return self._with(plan, prepared), prepared

    async def aprepare(
        self, params: Mapping[str, Any]
    ) -> tuple[dict[str, Any], PreparedImages | None]:
        """`prepare`, with downloads awaited and file or pixel work in a worker thread."""
        plan = self._plan(params)
        if plan.policy is None or plan.messages is None:
            return plan.params, plan.as_given
        policy, messages = plan.policy, plan.messages
        fetched = await afetch_images(
            urls_to_fetch(messages, policy),
            timeout=policy.url_timeout,
            max_bytes=policy.url_max_bytes,
            cache=self.cache,
        )
        if fetched or _needs_thread(messages):
            import asyncio  # here: a sync client's calls never load it

            prepared = await asyncio.to_thread(apply_policy, messages, policy, fetched=fetched)
        else:
            prepared = apply_policy(messages, policy, fetched=fetched)
        return self._with(plan, prepared), prepared

    def _inline_again(self, params: Mapping[str, Any], error: APIStatusError) -> dict[str, Any]:
        """`params` asking for the images inline, if `error` says the gateway could not fetch
        one of its image URLs under `urls="auto"`; otherwise `error` is raised again."""
        policy = resolve_policy(params.get(_PARAM), self.policy)
        messages = params.get("messages")
        if (
            policy is None
            or policy.urls != "auto"
            or not gateway_could_not_fetch(error.status_code, f"{error.code} {error}")
            or not isinstance(messages, list)
            or not _has_http_urls(messages)
        ):
            raise error
        return {**params, _PARAM: attrs.evolve(policy, urls="inline")}

    def call(self, params: Mapping[str, Any], send: Callable[[dict[str, Any]], Result]) -> Result:
        """`send` the call with its images prepared (and once more inline, under "auto")."""
        prepared, _ = self.prepare(params)
        try:
            return send(prepared)
        except APIStatusError as error:
            again = self._inline_again({**params, "messages": prepared["messages"]}, error)
        return send(self.prepare(again)[0])

    async def acall(
        self, params: Mapping[str, Any], send: Callable[[dict[str, Any]], Awaitable[Result]]
    ) -> Result:
        """`call`, awaited."""
        prepared, _ = await self.aprepare(params)
        try:
            return await send(prepared)
        except APIStatusError as error:
            again = self._inline_again({**params, "messages": prepared["messages"]}, error)
        return await send((await self.aprepare(again))[0])
