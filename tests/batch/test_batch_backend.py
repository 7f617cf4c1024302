"""The batch runner sends over aiohttp when the extra is installed, over httpx otherwise."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from chat_image import DefaultAioHttpClient
from chat_image.batch._runner import default_http_client


def test_with_the_extra_the_runner_uses_default_aiohttp_client():
    async def made() -> object:
        http = default_http_client()
        if http is not None:
            await http.aclose()
        return http

    assert isinstance(asyncio.run(made()), DefaultAioHttpClient)


def test_without_the_extra_it_falls_back_to_httpx():
    code = (
        "import sys; sys.modules['httpx_aiohttp'] = None\n"
        "from chat_image.batch._runner import default_http_client\n"
        "print(default_http_client())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "None"), done.stderr
