"""`export()`: the indexer's database and the content store to a dataset folder, all or nothing.

The files are written into a temporary folder beside `out` and renamed to `out` only when complete, so a failed
or interrupted export leaves no partial output behind. Threads are processed in ascending id, messages in
index order, so the same database gives byte-identical files.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from choir_chain.dataset import card, records
from choir_chain.dataset.preferences import DEFAULT_MAX_PAIRS_PER_THREAD, pairs_of, unpaired_of
from choir_chain.dataset.records import DEFAULT_CONTEXT_LIMIT, DatasetError
from choir_chain.dataset.writer import FORMATS, PREFERENCE_SCHEMA, RECORD_SCHEMA, UNPAIRED_SCHEMA, open_writer

Progress = Callable[[int], None]
"""Called with the number of messages just processed."""


@dataclass(frozen=True)
class ExportResult:
    out: Path
    stats: card.Stats
    source: records.Source
    files: list[str]


def export(
    engine: Engine,
    out: Path,
    *,
    fmt: str = "jsonl",
    content_engine: Engine | None = None,
    context_limit: int = DEFAULT_CONTEXT_LIMIT,
    max_pairs_per_thread: int = DEFAULT_MAX_PAIRS_PER_THREAD,
    overwrite: bool = False,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
) -> ExportResult:
    """Export the records, the preference pairs, `missing_bodies.json` and the card into folder `out`.

    `out` must not exist, or be an empty folder, unless `overwrite` (then it is replaced once the new export is
    complete). Raises `DatasetError` for bad options or input, before anything is written.
    """
    if fmt not in FORMATS:
        raise DatasetError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if context_limit < 0:
        raise DatasetError(f"the context limit must be >= 0 characters, not {context_limit}")
    if max_pairs_per_thread < 0:
        raise DatasetError(f"the pairs per thread must be >= 0, not {max_pairs_per_thread}")
    out = out.absolute()
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise DatasetError(f"{out} exists and is not empty (pass --overwrite to replace it)")
    content_engine = content_engine or engine
    source = records.read_source(engine)
    records.check_content_store(content_engine)

    parent = out.parent
    if not parent.is_dir():
        raise DatasetError(f"cannot write {out}: folder {parent} does not exist")
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=parent))
    except OSError as err:
        raise DatasetError(f"cannot write into {parent}: {err.strerror or err}") from err
    try:
        os.chmod(staging, 0o755)  # mkdtemp's 0700 would hide the export from other users
        if on_total is not None:
            on_total(records.message_count(engine))
        stats, files = _write(engine, content_engine, staging, fmt, context_limit, max_pairs_per_thread, progress)
        (staging / "README.md").write_text(
            card.render(stats, source, fmt=fmt, context_limit=context_limit, max_pairs_per_thread=max_pairs_per_thread),
            encoding="utf-8",
        )
        files.append("README.md")
        _replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportResult(out=out, stats=stats, source=source, files=sorted(files))


def _write(
    engine: Engine,
    content_engine: Engine,
    folder: Path,
    fmt: str,
    context_limit: int,
    max_pairs: int,
    progress: Progress | None,
) -> tuple[card.Stats, list[str]]:
    stats = card.Stats()
    record_writer = open_writer(fmt, folder, "records", RECORD_SCHEMA)
    pair_writer = open_writer(fmt, folder, "preferences", PREFERENCE_SCHEMA)
    unpaired_writer = open_writer(fmt, folder, "unpaired", UNPAIRED_SCHEMA)
    try:
        for thread in records.iter_threads(engine, content_engine, records.thread_ids(engine)):
            items = thread.items
            contexts = records.contexts(items, context_limit)
            rows = []
            for item, context in zip(items, contexts, strict=True):
                if not item.is_record:
                    continue
                if item.body is None:
                    stats.missing.append(records.missing_entry(item))
                    continue
                row = records.record_of(item, context)
                stats.add_record(row)
                rows.append(row)
            if rows:
                stats.threads += 1
            record_writer.write(rows)
            pairs = pairs_of(items, contexts, max_pairs)
            if pairs:
                stats.pairs += len(pairs)
                stats.threads_with_pairs += 1
            pair_writer.write(pairs)
            unpaired = unpaired_of(items, contexts)
            stats.unpaired += len(unpaired)
            stats.approved_examples += sum(row["label"] for row in unpaired)
            unpaired_writer.write(unpaired)
            if progress is not None:
                progress(len(items))
    finally:
        record_writer.close()
        pair_writer.close()
        unpaired_writer.close()
    missing = {"count": len(stats.missing), "messages": stats.missing}
    (folder / "missing_bodies.json").write_text(json.dumps(missing, indent=2) + "\n", encoding="utf-8")
    files = [record_writer.path.name, pair_writer.path.name, unpaired_writer.path.name, "missing_bodies.json"]
    return stats, files


def _replace(staging: Path, out: Path) -> None:
    """Move the finished export to `out`, replacing an existing folder only after the new one is complete."""
    if not out.exists():
        staging.rename(out)
        return
    old = out.parent / f".{out.name}.old-{staging.name.rsplit('-', 1)[-1]}"
    out.rename(old)
    try:
        staging.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)
