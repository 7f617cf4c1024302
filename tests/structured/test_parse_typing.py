"""What a type checker sees: `parse(..., response_format=Receipt)` is a
`ParsedChatCompletion[Receipt]` (mypy on a user's file, in a fresh process)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

USER_FILE = """
    import dataclasses
    from typing import Any

    from chat_image import AsyncChatImage, ChatImage


    @dataclasses.dataclass
    class Receipt:
        merchant: str
        total: float


    def sync(client: ChatImage) -> None:
        completion = client.chat.completions.parse(
            model="m", messages=[], max_tokens=5, response_format=Receipt
        )
        reveal_type(completion)
        reveal_type(completion.choices[0].message.parsed)
        many = client.chat.completions.parse(
            model="m", messages=[], max_tokens=5, response_format=list[Receipt]
        )
        reveal_type(many)
        loose = client.chat.completions.parse(
            model="m", messages=[], max_tokens=5, response_format={"type": "object"}
        )
        reveal_type(loose)
        with client.chat.completions.stream(
            model="m", messages=[], max_tokens=5, response_format=Receipt
        ) as stream:
            reveal_type(stream.get_final_completion())


    async def later(client: AsyncChatImage) -> None:
        completion = await client.chat.completions.parse(
            model="m", messages=[], max_tokens=5, response_format=Receipt
        )
        reveal_type(completion)
"""


def test_mypy_sees_the_parsed_type(tmp_path):
    user = tmp_path / "user_code.py"
    user.write_text(textwrap.dedent(USER_FILE), encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(user),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        check=False,
    )
    revealed = [
        line.split("Revealed type is ", 1)[1]
        for line in done.stdout.splitlines()
        if "Revealed type is" in line
    ]
    assert revealed == [
        '"chat_image._structured.outcomes.ParsedChatCompletion[user_code.Receipt]"',
        '"user_code.Receipt | None"',
        '"chat_image._structured.outcomes.ParsedChatCompletion[list[user_code.Receipt]]"',
        '"chat_image._structured.outcomes.ParsedChatCompletion[dict[str, Any]]"',
        '"chat_image._structured.outcomes.ParsedChatCompletion[user_code.Receipt]"',
        '"chat_image._structured.outcomes.ParsedChatCompletion[user_code.Receipt]"',
    ], done.stdout
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert errors == [], done.stdout
