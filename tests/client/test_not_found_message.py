"""A 404 says which URL was requested and to check `base_url`: a wrong base path is the usual
cause, and `Error code: 404 - Not Found` alone does not show it. Every client and backend."""

from __future__ import annotations

import pickle

import pytest

from chat_image import NotFoundError
from chat_image.testing import Reply


def test_a_404_names_the_url_and_base_url(call, server):
    base_url = server.url + "/api/v2"  # the gateway serves /v1: this path is not there
    with pytest.raises(NotFoundError) as caught:
        call(client={"base_url": base_url, "max_retries": 0})
    requested = f"{server.url}/api/v2/v1/chat/completions"
    assert server.last.path == "/api/v2/v1/chat/completions"
    for copy in (caught.value, pickle.loads(pickle.dumps(caught.value))):
        assert f"POST {requested}" in str(copy)
        assert "base_url" in str(copy)
    assert caught.value.status_code == 404


def test_a_plain_404_page_names_the_url_too(call, server):
    server.default = Reply(
        status=404, body="<html>Not Found</html>", headers={"Content-Type": "text/html"}
    )
    with pytest.raises(NotFoundError) as caught:
        call(client={"max_retries": 0})
    message = str(caught.value)
    assert f"POST {server.url}/v1/chat/completions" in message
    assert "check base_url" in message
    assert "Not Found" in message


def test_a_model_the_gateway_does_not_know_is_not_blamed_on_base_url(call, server):
    """OpenAI answers 404 `model_not_found` for an unknown model: the URL is right."""
    server.default = Reply(status=404, message="The model `gpt-9` does not exist")
    with pytest.raises(NotFoundError) as caught:
        call(client={"max_retries": 0})
    message = str(caught.value)
    assert "gpt-9" in message
    assert f"{server.url}/v1/chat/completions" in message
    assert "base_url" not in message
