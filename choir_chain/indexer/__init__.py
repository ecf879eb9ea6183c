"""`choir_chain.indexer`: the hub's and every thread's events, from the deploy block, into a SQL database.

`Indexer` follows the chain in block ranges behind a confirmation depth and applies each range in one
transaction (`indexer.py`), rolling reorgs back; `models.py` holds the tables, `handlers/` one function per
event, `pipeline.py` the logs-to-events routing (decoded by the chain layer's `choir_chain.chain.events`),
`cache.py` the raw-log cache (rebuilds and rollbacks, docs/indexer.md), `db.py` the engine (SQLite in the run
folder by default, PostgreSQL by URL), `cli.py` the `choir index` command.

Names are imported on first use (PEP 562), so `choir` commands that do not index never load SQLAlchemy's ORM.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from choir_chain.indexer.db import default_url, make_engine
    from choir_chain.indexer.errors import ChainMismatch, ConcurrentWriter, IndexerError, ReorgDetected
    from choir_chain.indexer.indexer import IndexedRange, Indexer

_EXPORTS = {
    "ChainMismatch": "errors",
    "ConcurrentWriter": "errors",
    "IndexerError": "errors",
    "ReorgDetected": "errors",
    "IndexedRange": "indexer",
    "Indexer": "indexer",
    "default_url": "db",
    "make_engine": "db",
}

__all__ = [
    "ChainMismatch",
    "ConcurrentWriter",
    "IndexedRange",
    "Indexer",
    "IndexerError",
    "ReorgDetected",
    "default_url",
    "make_engine",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
