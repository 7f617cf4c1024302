"""The pipeline's tools: one module per nox session, run as `python -m scripts.<name>`."""
