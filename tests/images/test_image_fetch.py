"""Image URLs downloaded by the client: caps enforced while reading, at most 3 redirects,
nothing of the gateway's sent, and the query string never in a message."""

from __future__ import annotations

import asyncio

import pytest
from image_host import ImageHost

from chat_image._images.errors import ImageFetchError
from chat_image._images.fetch import (
    DownloadCache,
    afetch_images,
    fetch_images,
    gateway_could_not_fetch,
    redact_url,
)
from samples import image_bytes

PNG = image_bytes("PNG")


@pytest.fixture
def host():
    with ImageHost().running() as running:
        yield running


def test_an_image_is_downloaded_with_no_credentials(host):
    url = host.add("/ok.png", PNG)
    assert fetch_images([url], timeout=5, max_bytes=10_000) == {url: PNG}
    headers = {k.lower() for k in host.seen[0][1]}
    assert "authorization" not in headers
    assert "cookie" not in headers


def test_three_redirects_are_followed_and_four_are_not(host):
    host.add("/ok.png", PNG)
    assert fetch_images([host.url + "/redirect/3"], timeout=5, max_bytes=10_000)
    with pytest.raises(ImageFetchError, match="more than 3 redirects"):
        fetch_images([host.url + "/redirect/4"], timeout=5, max_bytes=10_000)


def test_a_failure_names_the_status_and_hides_the_query(host):
    url = host.url + "/private.png?X-Amz-Signature=topsecret&X-Amz-Credential=AKIA"
    with pytest.raises(ImageFetchError) as caught:
        fetch_images([url], timeout=5, max_bytes=10_000)
    error = caught.value
    assert error.status == 403
    assert "HTTP 403" in str(error)
    assert "topsecret" not in str(error)
    assert "AKIA" not in str(error)
    assert "topsecret" not in repr(error.__dict__)
    assert error.url == host.url + "/private.png?[redacted]"


def test_the_size_cap_holds_while_reading(host):
    with pytest.raises(ImageFetchError, match="cap of 100,000 bytes"):
        fetch_images([host.url + "/endless"], timeout=5, max_bytes=100_000)


def test_the_time_cap_holds_while_reading(host):
    with pytest.raises(ImageFetchError, match=r"longer than 0\.5 s"):
        fetch_images([host.url + "/slow"], timeout=0.5, max_bytes=100_000)


def test_what_is_not_an_image_is_refused(host):
    url = host.add("/page.html", b"<html>login</html>", "text/html")
    with pytest.raises(ImageFetchError, match="not an image"):
        fetch_images([url], timeout=5, max_bytes=10_000)


def test_only_http_urls_are_downloaded():
    with pytest.raises(ImageFetchError, match="only http"):
        fetch_images(["file:///etc/passwd"], timeout=5, max_bytes=10_000)


def test_a_cache_downloads_each_url_once(host):
    url = host.add("/ok.png", PNG)
    cache = DownloadCache()
    fetch_images([url], timeout=5, max_bytes=10_000, cache=cache)
    fetch_images([url], timeout=5, max_bytes=10_000, cache=cache)
    assert asyncio.run(afetch_images([url], timeout=5, max_bytes=10_000, cache=cache)) == {url: PNG}
    assert len(host.seen) == 1


def test_async_downloads_alike(host):
    url = host.add("/ok.png", PNG)
    assert asyncio.run(afetch_images([url], timeout=5, max_bytes=10_000)) == {url: PNG}
    with pytest.raises(ImageFetchError) as caught:
        asyncio.run(afetch_images([host.url + "/private.png?sig=s"], timeout=5, max_bytes=10))
    assert caught.value.status == 403


def test_redaction():
    assert redact_url("https://user:pw@h.example:8443/a/b.png?sig=1#x") == (
        "https://h.example:8443/a/b.png?[redacted]"
    )
    assert redact_url("https://h/a.png") == "https://h/a.png"


def test_the_gateways_could_not_fetch_answers_are_recognised():
    assert gateway_could_not_fetch(400, '{"error": {"code": "invalid_image_url"}}')
    assert gateway_could_not_fetch(400, "Timeout while downloading https://x/y.png")
    assert gateway_could_not_fetch(400, "Failed to download image")
    assert not gateway_could_not_fetch(400, "max_tokens is too large")
    assert not gateway_could_not_fetch(500, "Failed to download image")
