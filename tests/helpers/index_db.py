"""Indexing a test chain into a SQLite database in the indexer's tests."""

from __future__ import annotations

from pathlib import Path

from choir_chain.indexer import Indexer, make_engine
from helpers.world import ChainRun, dump


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def index(run: ChainRun, db: str, **options: object) -> dict[str, list[tuple[object, ...]]]:
    """Index the whole chain (up to `until` if given) into `db`; returns the dump."""
    until = options.pop("until", None)
    engine = make_engine(db)
    with Indexer(run.rpc_url, run.deployment.manifest, engine, **options) as indexer:  # type: ignore[arg-type]
        indexer.sync(until=until)  # type: ignore[arg-type]
    rows = dump(engine)
    engine.dispose()
    return rows
