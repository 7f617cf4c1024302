"""A chat completion as OpenAI sends it, for tests that need one exact, known answer."""

from __future__ import annotations

from typing import Any


def completion(
    content: str = "A wooden boardwalk through a green meadow.", **extra: Any
) -> dict[str, Any]:
    """A chat completion as OpenAI sends it for the seed request."""
    body = {
        "id": "chatcmpl-AbC123",
        "object": "chat.completion",
        "created": 1732540800,
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 1118,
            "completion_tokens": 12,
            "total_tokens": 1130,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "system_fingerprint": "fp_50cad350e4",
    }
    body.update(extra)
    return body
