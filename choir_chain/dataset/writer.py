"""Rows to files: JSON Lines or Parquet (pyarrow), with fixed schemas so every export has the same columns and
types whatever its content (a column that happens to be all null still has its type).

Both writers are deterministic: same rows, same bytes. JSON Lines: one compact object per line, keys in the
schema's order, UTF-8 without escaping. Parquet: Snappy-compressed, one row group per `BATCH_ROWS` rows, no
timestamps in the file metadata.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

FORMATS = ("jsonl", "parquet")
BATCH_ROWS = 10_000

_CONTEXT = pa.list_(pa.struct([("message_index", pa.int64()), ("author", pa.string()), ("body", pa.string())]))

RECORD_SCHEMA = pa.schema(
    [
        ("thread_id", pa.int64()),
        ("message_index", pa.int64()),
        ("message_id", pa.string()),
        ("kind", pa.string()),
        ("outcome", pa.string()),
        ("author", pa.string()),
        ("author_kind", pa.string()),
        ("content_hash", pa.string()),
        ("body", pa.string()),
        ("context", _CONTEXT),
        ("context_omitted", pa.int64()),
        ("context_missing", pa.list_(pa.int64())),
        ("citations", pa.list_(pa.string())),
        ("stake", pa.string()),
        ("stake_wei", pa.string()),
        ("price_at_submission", pa.string()),
        ("price_at_submission_wei", pa.string()),
        ("votes_for", pa.int64()),
        ("votes_against", pa.int64()),
        ("max_similarity", pa.float64()),
        ("novelty", pa.float64()),
        ("novelty_reward", pa.float64()),
        ("novelty_model", pa.string()),
        ("novelty_calibration", pa.int64()),
        ("reward", pa.string()),
        ("reward_wei", pa.string()),
        ("block", pa.int64()),
        ("timestamp", pa.int64()),
        ("time", pa.string()),
    ]
)

PREFERENCE_SCHEMA = pa.schema(
    [
        ("thread_id", pa.int64()),
        ("context", _CONTEXT),
        ("context_omitted", pa.int64()),
        ("context_missing", pa.list_(pa.int64())),
        ("chosen", pa.string()),
        ("rejected", pa.string()),
        ("chosen_message_id", pa.string()),
        ("rejected_message_id", pa.string()),
        ("chosen_message_index", pa.int64()),
        ("rejected_message_index", pa.int64()),
        ("chosen_author_kind", pa.string()),
        ("rejected_author_kind", pa.string()),
        ("chosen_votes_for", pa.int64()),
        ("chosen_votes_against", pa.int64()),
        ("rejected_votes_for", pa.int64()),
        ("rejected_votes_against", pa.int64()),
        ("chosen_novelty_weight", pa.float64()),
        ("rejected_novelty_weight", pa.float64()),
        ("chosen_novelty_model", pa.string()),
        ("rejected_novelty_model", pa.string()),
        ("chosen_novelty_calibration", pa.int64()),
        ("rejected_novelty_calibration", pa.int64()),
    ]
)

UNPAIRED_SCHEMA = pa.schema(
    [
        ("prompt", pa.string()),
        ("completion", pa.string()),
        ("label", pa.bool_()),
        ("thread_id", pa.int64()),
        ("message_id", pa.string()),
        ("message_index", pa.int64()),
        ("author_kind", pa.string()),
        ("votes_for", pa.int64()),
        ("votes_against", pa.int64()),
        ("novelty_weight", pa.float64()),
        ("novelty_model", pa.string()),
        ("novelty_calibration", pa.int64()),
    ]
)


class RowWriter(Protocol):
    path: Path

    def write(self, rows: Iterable[dict[str, Any]]) -> None: ...

    def close(self) -> None: ...


class JsonlWriter:
    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self._names = schema.names
        self._file = path.open("w", encoding="utf-8", newline="\n")

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            if list(row) != self._names:
                raise ValueError(f"{self.path.name}: row keys {list(row)} differ from the schema {self._names}")
            self._file.write(json.dumps(row, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n")

    def close(self) -> None:
        self._file.close()


class ParquetWriter:
    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self._schema = schema
        self._pending: list[dict[str, Any]] = []
        self._writer = pq.ParquetWriter(path, schema, compression="snappy")

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        self._pending.extend(rows)
        while len(self._pending) >= BATCH_ROWS:
            self._write_group(self._pending[:BATCH_ROWS])
            self._pending = self._pending[BATCH_ROWS:]

    def _write_group(self, rows: list[dict[str, Any]]) -> None:
        self._writer.write_table(pa.Table.from_pylist(rows, schema=self._schema), row_group_size=BATCH_ROWS)

    def close(self) -> None:
        if self._pending:
            self._write_group(self._pending)
            self._pending = []
        self._writer.close()


def open_writer(fmt: str, directory: Path, name: str, schema: pa.Schema) -> RowWriter:
    """A writer of `directory/name.<fmt>`."""
    if fmt == "jsonl":
        return JsonlWriter(directory / f"{name}.jsonl", schema)
    if fmt == "parquet":
        return ParquetWriter(directory / f"{name}.parquet", schema)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
