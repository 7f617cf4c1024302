"""Answer many image requests, resumably: `await run_batch("photos/", "answers.jsonl", ...)`.

The runner behind `chat-image batch`, for notebooks and services. It needs nothing beyond
the base install; `dry_run` reads image sizes from headers with the `cli` extra (or Pillow).
`write_report` turns an output into an HTML page to look at (thumbnails with Pillow).
"""

from ._dryrun import DryRunReport, dry_run
from ._items import BatchItem, InputProblem, Shard, iter_input, parse_shard
from ._journal import JournalBusyError
from ._report import ReportSummary, write_report
from ._runner import DEFAULT_BATCH_RETRIES, DEFAULT_MAX_TOKENS, BatchSummary, Progress, run_batch

__all__ = [
    "DEFAULT_BATCH_RETRIES",
    "DEFAULT_MAX_TOKENS",
    "BatchItem",
    "BatchSummary",
    "DryRunReport",
    "InputProblem",
    "JournalBusyError",
    "Progress",
    "ReportSummary",
    "Shard",
    "dry_run",
    "iter_input",
    "parse_shard",
    "run_batch",
    "write_report",
]
