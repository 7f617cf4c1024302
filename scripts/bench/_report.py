"""The bench's table: one row per case, medians per client, paired ratios, the target met."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from ._common import CLIENTS


@dataclass
class Row:
    """One case: its samples per client per round, and its target."""

    case: str
    unit: str
    samples: dict[str, list[float]]
    target: str
    medians: dict[str, float] = field(init=False)
    vs_httpx: float = field(init=False)
    vs_openai: float = field(init=False)
    met: bool = field(init=False)

    # None: shown for information, with no target of its own.
    limit: float | None = None
    absolute: bool = False
    # Which ratio the limit applies to, when not absolute.
    against: str = "httpx"
    # False when the clients' rounds ran in separate processes, not back to back: the ratio
    # is then of the medians, as no round of one client has a twin of another's.
    paired: bool = True

    def __post_init__(self) -> None:
        # A case measured for chat_image alone shows "-" for the others.
        self.medians = {name: statistics.median(v) for name, v in self.samples.items()}
        # Ratios pair each round's figures (measured back to back, under the same load on a
        # shared machine) and take the median of the per-round ratios; unpaired rows compare
        # medians.
        self.vs_httpx = self._paired("httpx")
        self.vs_openai = self._paired("openai")
        ratio = self.vs_openai if self.against == "openai" else self.vs_httpx
        figure = self.medians["chat_image"] if self.absolute else ratio
        self.met = self.limit is None or figure <= self.limit

    def _paired(self, other: str) -> float:
        if other not in self.samples:
            return math.nan
        if not self.paired:
            return self.medians["chat_image"] / self.medians[other]
        pairs = zip(self.samples["chat_image"], self.samples[other], strict=True)
        return statistics.median(ours / theirs for ours, theirs in pairs)


def _cell(value: float, width: int, suffix: str = "") -> str:
    text = "-" if math.isnan(value) else f"{value:.2f}{suffix}"
    return f"{text:>{width}}"


def table(rows: list[Row]) -> str:
    """The rows as the fixed-width text table docs/performance.md quotes."""
    header = (
        f"{'case':<44} {'unit':<8} {'chat_image':>10} {'httpx':>10} {'openai':>10} "
        f"{'ours/httpx':>10} {'ours/openai':>11}  {'target':<22} met"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        m = {name: row.medians.get(name, math.nan) for name in CLIENTS}
        lines.append(
            f"{row.case:<44} {row.unit:<8} {m['chat_image']:>10.2f} {_cell(m['httpx'], 10)} "
            f"{_cell(m['openai'], 10)} {_cell(row.vs_httpx, 10, 'x')} "
            f"{_cell(row.vs_openai, 11, 'x')}  "
            f"{row.target:<22} {'-' if row.limit is None else 'yes' if row.met else 'NO'}"
        )
    return "\n".join(lines)
