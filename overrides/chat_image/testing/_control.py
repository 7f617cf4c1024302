"""The fake gateway's control routes, for a test in another process (`python -m
chat_image.testing`): it queues answers and reads what arrived over HTTP instead of calling
the `FakeGateway` object.

- `POST /_fake/queue`: a `Reply`'s fields as a JSON object (or a list of them), queued in
  order; answers `{"queued": N}` (how many wait now), or 400 naming the bad field.
- `GET /_fake/requests`: what arrived, oldest first: `[{"method", "path", "headers",
  "body", "refusal"}]`, the body decoded from JSON when it is JSON (else text), the
  Authorization header masked as everywhere in the kit.
- `POST /_fake/clear`: forget requests and queued answers (`FakeGateway.clear()`).

Served only by a gateway made with `control=True`; the routes are outside `/v1`, so a client
under test can never reach them by its base URL.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from ._recorded import RecordedRequest
from ._replies import Reply

if TYPE_CHECKING:
    from ._gateway import FakeGateway

__all__ = ["CONTROL_PREFIX", "control_reply"]

CONTROL_PREFIX: Final = "/_fake/"
# The Reply fields JSON can carry (stream_body is bytes; a responder is code).
_FIELDS: Final = frozenset(field.name for field in attrs.fields(Reply)) - {"stream_body"}


def _error(status: int, message: str) -> Reply:
    return Reply(status=status, body={"error": {"message": message, "type": "fake_gateway"}})


def _reply_of(fields: object, where: str) -> Reply:
    if not isinstance(fields, Mapping):
        raise ValueError(f"{where}: expected an object of Reply fields, got {fields!r}")
    unknown = sorted(set(fields) - _FIELDS)
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: not a Reply field ({', '.join(sorted(_FIELDS))})")
    try:
        return Reply(**fields)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None


def _recorded(request: RecordedRequest) -> dict[str, Any]:
    try:
        body: Any = json.loads(request.body) if request.body else None
    except ValueError:
        body = request.body.decode("utf-8", "replace")
    return {
        "method": request.method,
        "path": request.path,
        "headers": dict(request.headers.items()),
        "body": body,
        "refusal": request.refusal,
    }


def control_reply(gateway: FakeGateway, method: str, path: str, body: bytes) -> Reply:
    """The answer to a control route (404 for a path under the prefix that is none)."""
    route = path.split("?", 1)[0][len(CONTROL_PREFIX) :]
    if (method, route) == ("GET", "requests"):
        return Reply(body=[_recorded(request) for request in gateway.requests])
    if (method, route) == ("POST", "clear"):
        gateway.clear()
        return Reply(body={})
    if (method, route) == ("POST", "queue"):
        try:
            data = json.loads(body or b"null")
            items = data if isinstance(data, list) else [data]
            replies = [_reply_of(item, f"[{index}]") for index, item in enumerate(items)]
        except ValueError as exc:
            return _error(400, f"cannot queue this: {exc}")
        gateway.queue(*replies)
        return Reply(body={"queued": gateway.queued})
    return _error(404, f"no control route {method} {CONTROL_PREFIX}{route}")
