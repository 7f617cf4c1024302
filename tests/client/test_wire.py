"""What arrives at a real server on 127.0.0.1 when the friendly client is called."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import yaml

from chat_image import (
    AsyncChatImage,
    ChatCompletion,
    ChatImage,
    ImagePart,
    ImageURL,
    SystemMessage,
    TextPart,
    UserMessage,
)
from chat_image.testing import FakeGateway, Reply
from completions import completion
from conftest import API_KEY

SPEC = Path(__file__).resolve().parents[2] / "openapi.yaml"


def _seed_example() -> dict:
    """The request example the upstream document itself carries."""
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    operation = spec["paths"]["/v1/chat/completions"]["post"]
    return operation["requestBody"]["content"]["application/json"]["example"]


def test_seed_example_built_from_typed_objects_is_sent_verbatim(client, server):
    example = _seed_example()
    image_url = example["messages"][0]["content"][1]["image_url"]["url"]

    client.chat.completions.create(
        model="gpt-4o",
        messages=[
            UserMessage(
                [
                    TextPart("What is in this image?"),
                    ImagePart(ImageURL(image_url)),
                ]
            )
        ],
        max_tokens=300,
    )

    assert server.last.json == example


def test_request_line_auth_and_content_type(client, server):
    client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], max_tokens=5
    )
    sent = server.last
    assert sent.method == "POST"
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["Authorization"] == "Bearer [masked]"  # the scheme as sent
    assert sent.has_api_key(API_KEY)
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["User-Agent"].startswith("chat-image-python/")


def test_each_part_type_and_the_string_shorthand_on_the_wire(client, server):
    client.chat.completions.create(
        model="gpt-4o",
        messages=[
            SystemMessage("Answer in one sentence."),
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Compare these."},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                    ImagePart.from_url("data:image/png;base64,iVBORw0KGgo=", detail="low"),
                    {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                ],
            },
            {"role": "assistant", "content": "They differ in colour."},
            UserMessage("And in size?", name="alice"),
        ],
        max_tokens=50,
        temperature=0.2,
    )
    assert server.last.json == {
        "model": "gpt-4o",
        "max_tokens": 50,
        "temperature": 0.2,
        "messages": [
            {"role": "system", "content": "Answer in one sentence."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Compare these."},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                    {
                        "type": "image_url",
                        "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"},
                    },
                    {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                ],
            },
            {"role": "assistant", "content": "They differ in colour."},
            {"role": "user", "content": "And in size?", "name": "alice"},
        ],
    }


def test_unset_options_are_not_sent_and_extra_body_is(client, server):
    client.chat.completions.create(
        model="gpt-4o",
        messages=[UserMessage("hi")],
        max_tokens=5,
        extra_body={"response_format": {"type": "json_object"}},
        extra_headers={"X-Trace": "t-1"},
    )
    body = server.last.json
    assert set(body) == {"model", "messages", "max_tokens", "response_format"}
    assert server.last.headers["X-Trace"] == "t-1"


def test_realistic_response_is_typed(client, server):
    server.default = Reply(body=completion(service_tier="default"))
    result = client.chat.completions.create(
        model="gpt-4o", messages=[UserMessage("hi")], max_tokens=5
    )
    assert isinstance(result, ChatCompletion)
    assert result.id == "chatcmpl-AbC123"
    assert result.created == 1732540800
    choice = result.choices[0]
    assert (choice.index, choice.finish_reason) == (0, "stop")
    assert choice.message.role == "assistant"
    assert choice.message.content == "A wooden boardwalk through a green meadow."
    assert result.usage is not None
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (1118, 12)
    assert result.usage.total_tokens == 1130
    assert result.usage.prompt_tokens_details is not None
    assert result.usage.prompt_tokens_details.cached_tokens == 0
    assert result.usage.completion_tokens_details is not None
    assert result.usage.completion_tokens_details.reasoning_tokens == 0
    assert result.extra == {"service_tier": "default"}


def test_base_url_with_or_without_v1_reaches_the_same_path(server):
    for base in (server.url, server.url + "/", server.url + "/v1", server.url + "/v1/"):
        with ChatImage(api_key=API_KEY, base_url=base) as chat:
            chat.chat.completions.create(model="m", messages=[UserMessage("x")], max_tokens=1)
        assert server.last.path == "/v1/chat/completions", base


def test_environment_supplies_key_and_url_project_names_first(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("CHAT_IMAGE_API_KEY", "sk-project-env")
    monkeypatch.setenv("CHAT_IMAGE_BASE_URL", server.url + "/v1")
    server.api_key = "sk-project-env"  # any other key is answered 401
    with ChatImage() as chat:
        chat.chat.completions.create(model="m", messages=[UserMessage("x")], max_tokens=1)
    assert server.last.has_api_key("sk-project-env")


def test_openai_environment_names_are_the_fallback(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-env")
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
    server.api_key = "sk-openai-env"  # any other key is answered 401
    with ChatImage() as chat:
        chat.chat.completions.create(model="m", messages=[UserMessage("x")], max_tokens=1)
    assert server.last.has_api_key("sk-openai-env")


def test_callers_own_httpx_client_is_used_and_left_open(server):
    seen: list[str] = []
    http = httpx.Client(event_hooks={"request": [lambda request: seen.append(str(request.url))]})
    with ChatImage(api_key=API_KEY, base_url=server.url, http_client=http) as chat:
        chat.chat.completions.create(model="m", messages=[UserMessage("x")], max_tokens=1)
    assert seen == [server.url + "/v1/chat/completions"]
    assert server.last.has_api_key(API_KEY)
    assert not http.is_closed
    http.close()


def test_async_client_sends_the_same_request(server):
    async def main() -> ChatCompletion:
        async with AsyncChatImage(api_key=API_KEY, base_url=server.url) as chat:
            return await chat.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
                max_tokens=7,
            )

    result = asyncio.run(main())
    assert result.choices[0].message.content
    assert server.last.path == "/v1/chat/completions"
    assert server.last.json["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "hi"}]}
    ]


def test_async_callers_own_client(server):
    async def main() -> None:
        http = httpx.AsyncClient()
        async with AsyncChatImage(api_key=API_KEY, base_url=server.url, http_client=http) as chat:
            await chat.chat.completions.create(model="m", messages=[UserMessage("x")], max_tokens=1)
        assert not http.is_closed
        await http.aclose()

    asyncio.run(main())
    assert server.last.has_api_key(API_KEY)


def test_generated_client_reaches_the_server_on_its_own(server: FakeGateway):
    from chat_image_api import AuthenticatedClient
    from chat_image_api.api.chat import create_chat_completion
    from chat_image_api.models import ChatCompletionRequest, ChatMessage

    api = AuthenticatedClient(base_url=server.url, token=API_KEY)
    body = ChatCompletionRequest(
        model="gpt-4o", messages=[ChatMessage(role="user", content="hi")], max_tokens=3
    )
    with api:
        response = create_chat_completion.sync_detailed(client=api, body=body)
    assert response.status_code == 200
    assert server.last.has_api_key(API_KEY)
    assert server.last.json == {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 3,
    }


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"api_key": None, "base_url": "http://127.0.0.1:1"}, "api_key"),
        ({"api_key": "k", "base_url": None}, "base_url"),
        ({"api_key": "k", "base_url": "ftp://gateway"}, "base_url"),
    ],
)
def test_missing_or_bad_settings_fail_at_construction(kwargs, field):
    from chat_image import InvalidInputError

    with pytest.raises(InvalidInputError) as caught:
        ChatImage(**kwargs)
    assert caught.value.field == field


@pytest.mark.parametrize("own_http_client", [False, True])
def test_default_headers_reach_the_server_whoever_built_the_httpx_client(server, own_http_client):
    http = httpx.Client() if own_http_client else None
    with ChatImage(
        api_key=API_KEY,
        base_url=server.url,
        default_headers={"X-Team": "vision", "User-Agent": "app/1", "Authorization": "no"},
        http_client=http,
    ) as chat:
        chat.chat.completions.create(
            model="m", messages=[UserMessage("x")], max_tokens=1, extra_headers={"X-Call": "1"}
        )
    sent = server.last.headers
    assert (sent["X-Team"], sent["User-Agent"], sent["X-Call"]) == ("vision", "app/1", "1")
    assert server.last.has_api_key(API_KEY)
    if http is not None:
        http.close()
