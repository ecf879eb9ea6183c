"""The indexer's cursor as its readers see it (the pricer, the gateway's health): which deployment a database
follows and the last block whose events are all in it. Readers never write the index: the indexer is its only
writer (docs/architecture.md)."""

from __future__ import annotations

from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session

from choir_chain.indexer.db import create_schema
from choir_chain.indexer.errors import ChainMismatch, IndexerError
from choir_chain.indexer.models import CURSOR_ID, SCHEMA_VERSION, Cursor
from choir_chain.manifest import Manifest


def check_cursor(cursor: Cursor, chain_id: int, hub: str) -> None:
    """The database is this version's and follows `hub` on `chain_id`: else `IndexerError` or `ChainMismatch`."""
    if cursor.schema_version != SCHEMA_VERSION:
        raise IndexerError(
            f"the database was written by schema version {cursor.schema_version}, this version of Choir uses "
            f"{SCHEMA_VERSION}: re-derive its tables from its raw-log cache (choir index --rebuild), without the "
            "node, or re-index it (choir index --reset)"
        )
    if cursor.chain_id != chain_id or cursor.hub.lower() != hub.lower():
        raise ChainMismatch(
            f"the database follows hub {cursor.hub} on chain {cursor.chain_id}, not the manifest's {hub} on chain "
            f"{chain_id}: use another database or re-index it (--reset)"
        )


class IndexCursor:
    """Reads the cursor of `engine`'s index of `manifest`'s deployment."""

    def __init__(self, engine: Engine, manifest: Manifest) -> None:
        self.engine = engine
        self.manifest = manifest
        hub = manifest.contracts.get("ChoirHub")
        if hub is None:
            raise IndexerError("the manifest has no ChoirHub contract")
        self.hub = hub.address
        if not inspect(engine).has_table(Cursor.__tablename__):
            # No indexer has opened this database yet: the empty tables let readers query before it does
            # (the same idempotent DDL the indexer runs; no row is written).
            create_schema(engine)
        if not inspect(engine).has_table("log_cache"):
            from choir_chain.indexer.cache import create_cache_schema

            create_cache_schema(engine)

    @property
    def last_block(self) -> int:
        """The last block fully indexed; the block before the deployment while no indexer has started.

        Raises `ChainMismatch` or `IndexerError` when the database follows another deployment or schema."""
        with Session(self.engine) as session:
            cursor = session.get(Cursor, CURSOR_ID)
            if cursor is None:
                return self.manifest.deploy_block - 1
            check_cursor(cursor, self.manifest.chain_id, self.hub)
            return int(cursor.last_block)

    @property
    def rollbacks(self) -> int:
        """How many reorgs the indexer has rolled back in this database (0 before it starts): when this moves,
        rows a reader remembers may be gone (`cache.roll_back`)."""
        from choir_chain.indexer.cache import CACHE_ID, LogCache

        with Session(self.engine) as session:
            cache = session.get(LogCache, CACHE_ID)
            return 0 if cache is None else int(cache.rollbacks)
