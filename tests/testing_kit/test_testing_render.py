"""chat_image.testing.render_reply: the bytes a FakeGateway answer is made of, for other servers."""

from __future__ import annotations

import json
import re

import httpx
import pytest

import chat_image
from chat_image.testing import FakeGateway, Reply, render_reply

KEY = "sk-render-test-4b7e0a91"
REQUEST = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
# The one field that moves with the clock; everything else must be byte for byte the same.
_CREATED = re.compile(rb'"created": \d+')


def _served(reply: Reply, request: dict[str, object]) -> bytes:
    """What a fresh FakeGateway sends for `reply` to its first request."""
    with FakeGateway(api_key=KEY, default=reply) as gateway:
        response = httpx.post(
            gateway.base_url + "/chat/completions",
            json=request,
            headers={"Authorization": f"Bearer {KEY}"},
        )
    assert response.status_code == reply.status
    return response.content


def _same(rendered: bytes, served: bytes) -> bool:
    return _CREATED.sub(b"", rendered) == _CREATED.sub(b"", served)


def test_a_completion_is_one_piece_as_the_gateway_sends_it():
    reply = Reply(content="A boardwalk.", model="gpt-4o-2024-08-06", usage={"prompt_tokens": 9})
    pieces = render_reply(reply, REQUEST)
    assert len(pieces) == 1
    assert _same(pieces[0], _served(reply, REQUEST))
    completion = chat_image.parse_chat_completion(json.loads(pieces[0]))
    assert completion.choices[0].message.content == "A boardwalk."
    assert completion.model == "gpt-4o-2024-08-06"
    assert completion.usage is not None
    assert completion.usage.total_tokens == 9


def test_a_stream_is_one_piece_per_event_as_the_gateway_sends_them():
    request = {**REQUEST, "stream": True}
    reply = Reply(chunks=["one", " two", " three"])
    pieces = render_reply(reply, request)
    assert _same(b"".join(pieces), _served(reply, request))
    # role chunk, three content chunks, the finish chunk, [DONE]
    assert len(pieces) == 6
    assert all(p.startswith(b"data: ") and p.endswith(b"\n\n") for p in pieces)
    assert pieces[-1] == b"data: [DONE]\n\n"
    accumulator = chat_image.ChatCompletionAccumulator()
    for piece in pieces[:-1]:
        accumulator.add(chat_image.parse_chat_completion_chunk(json.loads(piece[6:])))
    assert accumulator.get_final_completion().choices[0].message.content == "one two three"


def test_an_error_status_renders_its_error_body():
    reply = Reply(status=429, message="slow down")
    (body,) = render_reply(reply)
    assert json.loads(body)["error"]["message"] == "slow down"
    assert _same(body, _served(reply, REQUEST))


@pytest.mark.parametrize("fault", ["close", "drop_mid_body", "hang", "pings_only", "cut"])
def test_faults_on_the_connection_have_no_bytes(fault: str):
    with pytest.raises(ValueError, match=fault):
        render_reply(Reply(fault=fault))  # type: ignore[arg-type]
