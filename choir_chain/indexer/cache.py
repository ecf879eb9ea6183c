"""The raw-log cache: every log the indexer kept, with its block hash, in the index's own database.

Three tables beside the derived ones (`models.py`), on their own declarative base and with their own version
(`CACHE_VERSION`), so that a change of the derived tables (`SCHEMA_VERSION`) keeps the cache:

- `raw_logs`: each log of the deployment (the hub's, the distributor's, its threads'), as the node gave it,
  with its block timestamp; written in the same transaction as the range's rows;
- `block_hashes`: the hash of every block that has a kept log, of the blocks near the chain's head when they
  were indexed (the last `max_reorg_depth`), and of the block before the deployment (the anchor);
- `log_cache`: one row, the deployment the cache follows and the last block it covers.

The derived tables are a function of the cache: `replay` applies the cached logs through the same handlers,
in chain order, in chunks of whole blocks within the caller's transaction. `rebuild` (`choir index
--rebuild`) drops and recreates the derived tables and replays everything, without the node; `roll_back`
(a reorg without undo records, see `undo.py`) deletes the cache above the common ancestor and re-derives the
tables up to it. Both cost one pass over the cache (thousands of events a second), whatever the depth of the
reorg. The undo tables (`undo.py`) live on this declarative base too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy import BigInteger, Engine, Integer, LargeBinary, String, delete, insert, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from choir_chain.chain.events import EventDecoder
from choir_chain.indexer.errors import ChainMismatch, IndexerError
from choir_chain.indexer.handlers import HANDLERS
from choir_chain.indexer.models import CURSOR_ID, HASH, SCHEMA_VERSION, Base, Cursor
from choir_chain.indexer.pipeline import LogRouter, RawLogEntry, contract_address, load_abis
from choir_chain.indexer.store import Store
from choir_chain.manifest import Manifest

CACHE_VERSION = 1
"""Bumped only when the cache's own tables change (which then needs `--reset`, a new index from the node)."""
CACHE_ID = 1
REPLAY_CHUNK = 5_000
"""Logs applied per `Store` (whole blocks) while replaying: bounds the rows held in memory."""


class CacheBase(DeclarativeBase):
    type_annotation_map = {int: BigInteger}  # noqa: RUF012 (SQLAlchemy's declared class attribute)


class LogCache(CacheBase):
    """One row: the deployment the cache follows and the last block it covers."""

    __tablename__ = "log_cache"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cache_version: Mapped[int] = mapped_column(Integer)
    chain_id: Mapped[int]
    hub: Mapped[str] = mapped_column(String(42))
    deploy_block: Mapped[int]
    last_block: Mapped[int]
    rollbacks: Mapped[int] = mapped_column(default=0)
    """Reorgs rolled back so far: readers holding derived state in memory (the pricer) drop it when this moves."""


class RawLog(CacheBase):
    """A log as the node returned it, its topics (32 bytes each, concatenated) and data as bytes (half the size
    of their hex, which is most of the cache)."""

    __tablename__ = "raw_logs"

    block_number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    log_index: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    block_hash: Mapped[str] = mapped_column(HASH)
    tx_index: Mapped[int]
    tx_hash: Mapped[str] = mapped_column(HASH)
    address: Mapped[str] = mapped_column(String(42))
    topics: Mapped[bytes] = mapped_column(LargeBinary)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    timestamp: Mapped[int]


class BlockHash(CacheBase):
    """The hash a block had when it was indexed."""

    __tablename__ = "block_hashes"

    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(HASH)


def create_cache_schema(engine: Engine) -> None:
    CacheBase.metadata.create_all(engine)


def drop_cache_schema(engine: Engine) -> None:
    CacheBase.metadata.drop_all(engine)


def check_cache(cache: LogCache, chain_id: int, hub: str) -> None:
    if cache.cache_version != CACHE_VERSION:
        raise IndexerError(
            f"the raw-log cache was written by cache version {cache.cache_version}, this version of Choir uses "
            f"{CACHE_VERSION}: re-index it from the node (choir index --reset)"
        )
    if cache.chain_id != chain_id or cache.hub.lower() != hub.lower():
        raise ChainMismatch(
            f"the raw-log cache follows hub {cache.hub} on chain {cache.chain_id}, not the manifest's {hub} on "
            f"chain {chain_id}: use another database or re-index it (--reset)"
        )


def raw_log_rows(logs: Iterable[RawLogEntry]) -> list[dict[str, Any]]:
    """`raw_logs` rows of logs whose `blockTimestamp` is filled in."""
    return [
        {
            "block_number": int(entry["blockNumber"], 16),
            "log_index": int(entry["logIndex"], 16),
            "block_hash": str(entry["blockHash"]).lower(),
            "tx_index": int(entry["transactionIndex"], 16),
            "tx_hash": str(entry["transactionHash"]).lower(),
            "address": str(entry["address"]).lower(),
            "topics": b"".join(bytes.fromhex(str(t)[2:]) for t in entry["topics"]),
            "data": bytes.fromhex(str(entry["data"])[2:]),
            "timestamp": int(entry["blockTimestamp"], 16),
        }
        for entry in logs
    ]


def as_rpc_log(row: Any) -> dict[str, Any]:
    """A `raw_logs` row back in `eth_getLogs` form."""
    topics = bytes(row.topics)
    return {
        "blockNumber": hex(row.block_number),
        "logIndex": hex(row.log_index),
        "blockHash": row.block_hash,
        "transactionIndex": hex(row.tx_index),
        "transactionHash": row.tx_hash,
        "address": row.address,
        "topics": ["0x" + topics[i : i + 32].hex() for i in range(0, len(topics), 32)],
        "data": "0x" + bytes(row.data).hex(),
        "blockTimestamp": hex(row.timestamp),
    }


def write_range(session: Session, logs: Iterable[RawLogEntry], hashes: Mapping[int, str], end: int) -> None:
    """Cache a range's kept logs and known block hashes, and move the cache's end to `end` (same transaction as
    the range's rows)."""
    rows = raw_log_rows(logs)
    if rows:
        session.execute(insert(CacheBase.metadata.tables[RawLog.__tablename__]), rows)
    if hashes:
        session.execute(
            insert(CacheBase.metadata.tables[BlockHash.__tablename__]),
            [{"number": n, "hash": h} for n, h in sorted(hashes.items())],
        )
    session.execute(update(LogCache).where(LogCache.id == CACHE_ID).values(last_block=end))


def _chunks(session: Session, up_to: int) -> Iterator[list[dict[str, Any]]]:
    """The cached logs of blocks <= `up_to` in (block, log index) order, in lists of whole blocks (keyset
    pages, so no cursor stays open while the caller writes)."""
    table = RawLog.__table__
    done = -1
    while True:
        page = select(table).where(table.c.block_number > done, table.c.block_number <= up_to)
        rows = list(session.execute(page.order_by(table.c.block_number, table.c.log_index).limit(REPLAY_CHUNK)))
        if not rows:
            return
        if len(rows) == REPLAY_CHUNK:  # complete the page's last block
            last = rows[-1]
            rest = select(table).where(table.c.block_number == last.block_number, table.c.log_index > last.log_index)
            rows.extend(session.execute(rest.order_by(table.c.log_index)))
        yield [as_rpc_log(row) for row in rows]
        done = rows[-1].block_number


def replay(session: Session, router: LogRouter, up_to: int) -> int:
    """Apply every cached log up to block `up_to` to (empty) derived tables; the number of events applied."""
    threads: dict[str, int] = {}
    applied = 0
    for chunk in _chunks(session, up_to):
        threads.update(router.discover(chunk))
        events = router.events(chunk, threads)
        store = Store(session)
        for event in events:
            HANDLERS[(event.source, event.name)](store, event)
        store.write()
        applied += len(events)
    return applied


def clear_derived(session: Session) -> None:
    """Delete every derived row but the cursor's (foreign keys are checked at commit)."""
    for table in reversed(Base.metadata.sorted_tables):
        if table.name != Cursor.__tablename__:
            session.execute(delete(table))


def trim(session: Session, point: int) -> None:
    """Forget the cache above block `point` (the derived tables already reflect `point`) and count a rollback."""
    session.execute(delete(RawLog).where(RawLog.block_number > point))
    session.execute(delete(BlockHash).where(BlockHash.number > point))
    session.execute(
        update(LogCache).where(LogCache.id == CACHE_ID).values(last_block=point, rollbacks=LogCache.rollbacks + 1)
    )


def roll_back(session: Session, router: LogRouter, ancestor: int) -> int:
    """Forget the cache above block `ancestor` and re-derive every table up to it; events re-applied."""
    trim(session, ancestor)
    clear_derived(session)
    session.flush()
    return replay(session, router, ancestor)


def stored_hash(session: Session, number: int) -> str | None:
    return session.scalar(select(BlockHash.hash).where(BlockHash.number == number))


def rebuild(engine: Engine, manifest: Manifest, abis: Mapping[str, list[dict[str, Any]]] | None = None) -> int:
    """Drop and recreate the derived tables and re-derive them from the raw-log cache, in one transaction and
    without the node (`choir index --rebuild`): after a schema change of the derived tables or a handler fix.
    Returns the last block indexed."""
    hub = contract_address(manifest, "ChoirHub")
    distributor = manifest.contracts.get("RewardsDistributor")
    router = LogRouter(
        EventDecoder(abis or load_abis(manifest)), hub, distributor.address if distributor is not None else None
    )
    from choir_chain.indexer import undo  # its tables, on this base (undo.py imports this module)

    create_cache_schema(engine)
    with Session(engine, autoflush=False, expire_on_commit=False) as session, session.begin():
        cache = session.get(LogCache, CACHE_ID)
        if cache is None:
            raise IndexerError("the database has no raw-log cache to rebuild from: re-index it (choir index --reset)")
        check_cache(cache, manifest.chain_id, hub)
        last = cache.last_block
        connection = session.connection()
        Base.metadata.drop_all(connection)
        Base.metadata.create_all(connection)
        session.add(
            Cursor(
                id=CURSOR_ID,
                schema_version=SCHEMA_VERSION,
                chain_id=cache.chain_id,
                hub=cache.hub,
                deploy_block=cache.deploy_block,
                last_block=last,
                last_block_hash=stored_hash(session, last),
            )
        )
        session.flush()
        replay(session, router, last)
        undo.clear(session)  # before-images of the old tables: a later reorg replays instead
    return last
