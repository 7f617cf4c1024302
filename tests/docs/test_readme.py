"""The README's quickstart runs, as written, against a local server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chat_image.testing import FakeGateway, Reply
from completions import completion
from conftest import API_KEY

README = Path(__file__).resolve().parents[2] / "README.md"


def _blocks(heading: str) -> list[str]:
    """The python code blocks of the README section under `## {heading}`."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def _quickstart_blocks() -> list[str]:
    return _blocks("Quickstart")


def test_readme_has_a_typed_and_a_dict_quickstart():
    blocks = _quickstart_blocks()
    assert len(blocks) == 2
    assert "UserMessage(" in blocks[0]
    assert '"role": "user"' in blocks[1]


@pytest.mark.parametrize("index", [0, 1])
def test_quickstart_block_runs(index, server: FakeGateway, monkeypatch, capsys):
    monkeypatch.setenv("CHAT_IMAGE_BASE_URL", server.url + "/v1")
    monkeypatch.setenv("CHAT_IMAGE_API_KEY", API_KEY)
    exec(compile(_quickstart_blocks()[index], f"README.md[{index}]", "exec"), {})
    assert "A wooden boardwalk" in capsys.readouterr().out
    assert server.last.path == "/v1/chat/completions"
    assert server.last.json["messages"][-1]["role"] == "user"


def _errors_blocks() -> list[str]:
    return _blocks("Errors and retries")


def test_errors_example_runs_and_catches_a_rate_limit(server: FakeGateway, monkeypatch, capsys):
    monkeypatch.setenv("CHAT_IMAGE_BASE_URL", server.url + "/v1")
    monkeypatch.setenv("CHAT_IMAGE_API_KEY", API_KEY)
    server.default = Reply(status=429, message="Slow down", headers={"x-request-id": "req_9"})
    exec(compile(_errors_blocks()[0], "README.md[errors]", "exec"), {})
    assert capsys.readouterr().out == "rate limited (request req_9): Slow down\n"
    assert server.count == 1  # max_retries=0 for the call


def test_errors_section_lists_every_exported_error():
    import chat_image

    text = README.read_text(encoding="utf-8").split("## Errors and retries", 1)[1]
    tree = text.split("```", 2)[1]
    for name in chat_image.__all__:
        obj = getattr(chat_image, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert name in tree, name


def test_generated_client_example_retries(server: FakeGateway):
    from chat_image_api.api.chat import create_chat_completion
    from chat_image_api.models import ChatCompletionRequest, ChatMessage

    block = _errors_blocks()[1].replace("https://your-gateway.example", server.url)
    namespace: dict = {}
    exec(compile(block, "README.md[transport]", "exec"), namespace)
    server.api_key = "sk-..."  # the block's placeholder: the gateway takes only that key
    server.queue(Reply(fault="close"), Reply(body=completion()))
    body = ChatCompletionRequest(
        model="m", messages=[ChatMessage(role="user", content="x")], max_tokens=1
    )
    with namespace["api"] as api:  # one real backoff of at most 0.5 s
        assert create_chat_completion.sync_detailed(client=api, body=body).status_code == 200
    assert server.count == 2


def _images_blocks() -> list[str]:
    return _blocks("Images")


def test_images_block_runs(server: FakeGateway, monkeypatch, tmp_path, capsys):
    from samples import image_bytes

    monkeypatch.setenv("CHAT_IMAGE_BASE_URL", server.url + "/v1")
    monkeypatch.setenv("CHAT_IMAGE_API_KEY", API_KEY)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cat.png").write_bytes(image_bytes("PNG"))
    (tmp_path / "dog.webp").write_bytes(image_bytes("WEBP"))
    exec(compile(_images_blocks()[0], "README.md[images]", "exec"), {})
    assert "A wooden boardwalk" in capsys.readouterr().out
    content = server.last.json["messages"][0]["content"]
    assert [part["type"] for part in content] == ["text", "image_url", "image_url", "image_url"]
    assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert content[2]["image_url"]["url"].startswith("data:image/webp;base64,")


def test_the_refusal_quoted_in_the_readme_is_the_real_one(monkeypatch, tmp_path):
    from chat_image import ImagePart, InvalidImageError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.png").write_bytes(b"%PDF-1.7\n")
    with pytest.raises(InvalidImageError) as caught:
        ImagePart.from_path("notes.png")
    assert f"`{caught.value}`" in " ".join(README.read_text(encoding="utf-8").split())


@pytest.mark.pillow
def test_resize_block_runs(monkeypatch, tmp_path, capsys):
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (3000, 2000), "olive").save(tmp_path / "photo.jpg")
    exec(compile(_images_blocks()[1], "README.md[resize]", "exec"), {})
    # 3000 x 2000 -> within 2048 x 2048 -> short side 768: 1152 x 768, 3 x 2 tiles.
    assert capsys.readouterr().out.split() == ["(1152,", "768)", "1105"]
