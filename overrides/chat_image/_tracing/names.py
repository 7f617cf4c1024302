"""Every name the client's telemetry uses, in one place: the GenAI semantic conventions are
still moving, and a rename there is a change here only.

The conventions' names are those of OpenTelemetry's GenAI semantic conventions (v1.37); the
`chat_image.*` ones are ours.
"""

from __future__ import annotations

from typing import Final

# The instrumentation scope: what the spans and metrics say made them.
SCOPE: Final = "chat_image"

# Environment variables.
TRACING_ENV: Final = "CHAT_IMAGE_TRACING"
"""`0` / `false` / `no` / `off` turns the client's spans and metrics off."""
CAPTURE_CONTENT_ENV: Final = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
"""`true`: prompts and answers are recorded on the span (images as references only)."""

# Span names and values.
OPERATION_CHAT: Final = "chat"
BATCH_SPAN: Final = "chat_image batch"
PARSE_SPAN: Final = "parse"
"""`parse {model}`: one structured-output call, its requests (re-asks, mode steps) children."""
DEFAULT_PROVIDER: Final = "openai"
"""What an OpenAI-compatible client reports unless told which provider is behind the gateway,
as the conventions ask of the `openai` package's instrumentation."""

# Request attributes (conventions).
OPERATION_NAME: Final = "gen_ai.operation.name"
PROVIDER_NAME: Final = "gen_ai.provider.name"
REQUEST_MODEL: Final = "gen_ai.request.model"
REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
REQUEST_TOP_P: Final = "gen_ai.request.top_p"
REQUEST_SEED: Final = "gen_ai.request.seed"
REQUEST_CHOICE_COUNT: Final = "gen_ai.request.choice.count"
REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"

# Response attributes (conventions).
RESPONSE_ID: Final = "gen_ai.response.id"
RESPONSE_MODEL: Final = "gen_ai.response.model"
RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
ERROR_TYPE: Final = "error.type"

# Content, opt-in (conventions): JSON text in the conventions' message shape.
INPUT_MESSAGES: Final = "gen_ai.input.messages"
OUTPUT_MESSAGES: Final = "gen_ai.output.messages"

# Ours.
REQUEST_IMAGE_COUNT: Final = "chat_image.request.image_count"
"""Image parts in the request's messages, sent inline or by URL."""
REQUEST_IMAGE_BYTES: Final = "chat_image.request.image_bytes"
"""Bytes of the images sent inline (before base64); a URL's image counts 0."""
RETRIES_TAKEN: Final = "chat_image.retries_taken"
"""Times the request was sent again before the answer came (across a stream's re-sends)."""
STREAM: Final = "chat_image.stream"
"""True for `stream=True` calls."""
STREAM_COMPLETE: Final = "chat_image.stream.complete"
"""False when the caller left a stream before its end (not an error)."""
PARSE_MODE_REQUESTED: Final = "chat_image.parse.mode_requested"
"""The `mode` argument of `parse()` (`auto`, or the one mode to use)."""
PARSE_MODE: Final = "chat_image.parse.mode"
"""The mode of the request that was answered (`json_schema`, `json_object`, `prompt`)."""
PARSE_ATTEMPTS: Final = "chat_image.parse.attempts"
"""Answers read, re-asks included."""
BATCH_TOTAL: Final = "chat_image.batch.total"
BATCH_OK: Final = "chat_image.batch.ok"
BATCH_FAILED: Final = "chat_image.batch.failed"
BATCH_SKIPPED: Final = "chat_image.batch.skipped"
BATCH_NOT_DONE: Final = "chat_image.batch.not_done"
BATCH_CONCURRENCY: Final = "chat_image.batch.concurrency"
BATCH_INTERRUPTED: Final = "chat_image.batch.interrupted"

# Metrics (conventions) and their attribute ("token" here is a model's, not a credential).
OPERATION_DURATION: Final = "gen_ai.client.operation.duration"
TOKEN_USAGE: Final = "gen_ai.client.token.usage"  # noqa: S105
TOKEN_TYPE: Final = "gen_ai.token.type"  # noqa: S105
TOKEN_TYPE_INPUT: Final = "input"  # noqa: S105
TOKEN_TYPE_OUTPUT: Final = "output"  # noqa: S105
# The conventions' advised bucket boundaries.
DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
TOKEN_BUCKETS: Final = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip
