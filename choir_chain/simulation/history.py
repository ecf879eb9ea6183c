"""The record of a run: one row per thread per day, kept by column, written as CSV.

Amounts are integers in wei (``*_wei``) so a CSV can be checked to the wei; ``price`` and ``treasury`` repeat
them in CHOIR for reading and plotting. Equity spread is measured on the co-authors' shares: ``gini`` (0 when
all hold the same, towards 1 when one holds everything) and ``top_share`` (the largest holder's fraction).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

COLUMNS = (
    "day",
    "thread",
    "price_wei",
    "target_wei",
    "price",
    "n",
    "k0",
    "m",
    "refusal",
    "approved_recent",
    "citations",
    "coauthors",
    "treasury_wei",
    "locked_wei",
    "treasury",
    "total_shares",
    "gini",
    "top_share",
    "mean_strictness",
    "posts",
    "submitted",
    "approved",
    "denied",
    "split",
    "expired",
    "refunded",
)
"""CSV columns, in order."""


def gini(values: Iterable[int]) -> float:
    """Gini coefficient of non-negative holdings (0 for fewer than two holders)."""
    x = sorted(float(v) for v in values)
    total = sum(x)
    if len(x) < 2 or total == 0:
        return 0.0
    weighted = sum(rank * v for rank, v in enumerate(x, start=1))
    return 2.0 * weighted / (len(x) * total) - (len(x) + 1) / len(x)


def top_share(values: Iterable[int]) -> float:
    held = [int(v) for v in values]
    total = sum(held)
    return max(held) / total if total else 0.0


class History:
    """Rows appended day by day; `column` gives a NumPy view for plots and tests."""

    def __init__(self) -> None:
        self._columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}

    def append(self, **row: Any) -> None:
        if len(row) != len(COLUMNS):
            raise ValueError(f"row columns differ: {sorted(set(row) ^ set(COLUMNS))}")
        for name, value in row.items():
            self._columns[name].append(value)  # a wrong name is a KeyError

    def __len__(self) -> int:
        return len(self._columns["day"])

    def column(self, name: str) -> NDArray[Any]:
        """Integers above 2**63 (wei amounts) come back as an object array of Python ints."""
        values = self._columns[name]
        if name.endswith("_wei") or name == "total_shares":
            return np.array(values, dtype=object)
        return np.array(values)

    def raw(self, name: str) -> list[Any]:
        return self._columns[name]

    def rows(self) -> Iterable[tuple[Any, ...]]:
        return zip(*(self._columns[name] for name in COLUMNS), strict=True)

    def write_csv(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            for row in self.rows():
                writer.writerow(_cell(v) for v in row)
        return path


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.6g}"
    return value
