"""What a type checker sees of the request fields and of a conversation's messages."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def test_fields_and_returned_messages_type_check(tmp_path: Path) -> None:
    snippet = textwrap.dedent(
        """
        from chat_image import ChatImage, ToolMessage, UserMessage, function_tool

        def get_weather(city: str) -> str:
            return city

        client = ChatImage(api_key="sk-test-1234567890", base_url="http://127.0.0.1:9/v1")
        bias: dict[int, int] = {50256: -100}
        first = client.chat.completions.create(
            model="m",
            messages=[UserMessage("Weather in Paris?")],
            max_tokens=50,
            tools=[get_weather, function_tool(get_weather, name="weather")],
            tool_choice="auto",
            parallel_tool_calls=True,
            response_format={"type": "json_object"},
            reasoning_effort="low",
            max_completion_tokens=100,
            logprobs=True,
            top_logprobs=2,
            logit_bias=bias,
        )
        client.chat.completions.create(
            model="m",
            messages=[
                UserMessage("Weather in Paris?"),
                first.choices[0].message,
                ToolMessage("call_1", "18 C"),
                {"role": "developer", "content": "Be brief."},
            ],
            max_tokens=50,
        )
        client.chat.completions.create(
            model="m", messages=[UserMessage("x")], max_tokens=5, reasoning_effort="max"
        )
        client.chat.completions.create(
            model="m", messages=[UserMessage("x")], max_tokens=5, tool_choice="any"
        )
        """
    )
    path = tmp_path / "snippet.py"
    path.write_text(snippet)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    # Exactly the two bad values, each on its own call's line (the overloads of create()
    # make mypy name the call, not the argument).
    assert [line.split(":")[1] for line in errors] == ["33", "36"], done.stdout
    assert all("No overload variant" in line for line in errors), done.stdout
