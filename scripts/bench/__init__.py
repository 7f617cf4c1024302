"""`nox -s bench`: chat_image timed and weighed against plain httpx and the `openai` package.

Run as `python -m scripts.bench` (`--quick`, `--only`, `--rounds`, `--json`); `nox -s bench`
installs `openai` in its own environment, as it is not a dependency of chat_image. One module
per case family (`_latency`, `_async`, `_imports`, `_memory`, `_stream`, `_batch`), the local
server in `_server`, the table in `_report`, the command line in `__main__`. This is a
measurement, not a test: nothing here fails on a slow machine.
"""
