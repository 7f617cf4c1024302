"""The API key never shows where people look: reprs, errors, logs, recorded requests."""

from __future__ import annotations

from conftest import API_KEY


def test_generated_client_repr_hides_the_token_before_and_after_use():
    from chat_image_api import AuthenticatedClient

    api = AuthenticatedClient(base_url="http://127.0.0.1:9", token=API_KEY)
    assert API_KEY not in repr(api)
    # get_httpx_client() writes the Authorization header into the client's own headers.
    api.get_httpx_client()
    api.get_async_httpx_client()
    assert API_KEY not in repr(api)
    assert API_KEY not in str(api)
    assert "AuthenticatedClient(" in repr(api)
