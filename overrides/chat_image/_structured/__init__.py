"""Structured output: typed objects out of answers, and tool definitions for `tools=`."""
