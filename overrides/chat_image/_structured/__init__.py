"""Structured output: typed objects out of answers, on gateways that honour a format or not.

One idea per module: `fields` (what a type is made of), `schema` (types to JSON Schema),
`strict` (OpenAI's strict subset), `target` (a type prepared once), `convert` (JSON to the
type, every problem with its path), `extract` (the JSON inside an answer), `partial` (JSON
still arriving), `ladder` (which mode to send next; no I/O), `outcomes` (results and
errors), `parse` and `stream` (the drivers, over the public `create()`); `tools` (tool
definitions for `tools=`, from functions and types).
"""
