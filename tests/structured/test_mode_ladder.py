"""Which refusals step down the ladder, from the gateways' real messages (item 10)."""

from __future__ import annotations

import pytest

from chat_image._structured.ladder import classify_refusal, next_mode
from chat_image.testing import FORMAT_REFUSALS

CAPABILITY = ["openai", "openai-json-object", "deepseek", "deepseek-422", "volcengine", "anthropic"]
SCHEMA = ["vllm-xgrammar", "gemini", "llama-cpp"]


@pytest.mark.parametrize("gateway", CAPABILITY)
def test_a_format_the_gateway_lacks_is_a_capability_refusal(gateway):
    status, message, param = FORMAT_REFUSALS[gateway]
    refusal = classify_refusal(status, message, param)
    assert refusal is not None
    assert refusal.kind == "capability"


@pytest.mark.parametrize("gateway", SCHEMA)
def test_a_schema_feature_the_gateway_lacks_is_a_schema_refusal(gateway):
    status, message, param = FORMAT_REFUSALS[gateway]
    refusal = classify_refusal(status, message, param)
    assert refusal is not None
    assert refusal.kind == "schema"


def test_the_keyword_named_is_kept():
    status, message, param = FORMAT_REFUSALS["gemini"]
    assert classify_refusal(status, message, param).keywords == ("additionalProperties",)
    refusal = classify_refusal(400, "Grammar error: Unknown format: uri", None)
    assert refusal.keywords == ("format",)
    refusal = classify_refusal(
        400, "Invalid schema for response_format 'R': 'oneOf' is not permitted", None
    )
    assert refusal.keywords == ("oneOf",)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (400, "max_tokens must be at least 1"),
        (401, "Incorrect API key provided."),
        (429, "Rate limit reached."),
        (500, "The server had an error processing your request."),
        (404, "The model does not exist."),
    ],
)
def test_other_errors_are_not_about_the_format(status, message):
    assert classify_refusal(status, message, None) is None


def test_a_vllm_500_about_the_format_is_one():
    assert classify_refusal(500, "response_format: malformed", None) is not None


def test_the_ladder_goes_down_once_through_each_mode():
    assert next_mode("json_schema") == "json_object"
    assert next_mode("json_object") == "prompt"
    assert next_mode("prompt") is None
