"""The indexer: follows the hub and every thread clone from the manifest's deploy block into the database.

Per block range `[first, last]`, `last = min(first + batch - 1, head - confirmations)`:

1. `eth_getLogs` of the hub's address (and the rewards distributor's, when the manifest has one): their events,
   and the addresses of threads created in the range;
2. `eth_getLogs` of the ThreadDAO event signatures that have a handler, for any address, keeping the logs of
   known threads (the database's plus those just discovered): one query however many threads exist;
3. one batch of block headers: the range's last block, the cursor's block (still on the chain?) and every
   block within `max_reorg_depth` of the head (their hashes find a later reorg's common ancestor);
4. order by (block, transaction, log index), the hub's `ThreadCreated` first within its transaction (the
   clone's `initialize` logs its root message and its creator's shares before the hub logs the creation);
5. apply every handler, cache the range's raw logs and block hashes (`cache.py`), record its undo records if it
   is within `max_reorg_depth` of the head, and move the cursor in ONE database transaction.

A crash at any point therefore loses nothing and never half-applies a range: on restart the indexer resumes
after the last committed block, and the rows equal those of a fresh index. RPC failures are retried with
backoff and a range is never skipped; a provider refusing a range (too many blocks or logs) gets half.

**Reorgs.** The cursor records the hash of its last block. When the chain has another block there, the indexer
looks for the common ancestor (the newest stored block hash within `max_reorg_depth` blocks that the chain
still has) and rolls back to it in ONE transaction, then indexes on from the node. Ranges within
`max_reorg_depth` of the head record undo records (`undo.py`: the keys they inserted, the before-images of the
rows they updated), so the rollback undoes just those ranges, in proportion to the reorg's depth. Without the
records (after `--rebuild`), it empties the derived tables and replays the raw-log cache up to the ancestor,
which costs as much as the whole index (`cache.py`). A reorg deeper than `max_reorg_depth`, or a changed block
before the deployment (a devnet restarted under the same database), stops the indexer with `ReorgDetected`,
changing nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from choir_chain.chain.events import Event, EventDecoder
from choir_chain.chain.logs import logs_from
from choir_chain.chain.rpc import RetryPolicy, RpcClient, RpcError, Stopped, TransportError
from choir_chain.indexer.cache import (
    CACHE_ID,
    CACHE_VERSION,
    BlockHash,
    LogCache,
    check_cache,
    create_cache_schema,
    drop_cache_schema,
    roll_back,
    stored_hash,
    trim,
    write_range,
)
from choir_chain.indexer.cursor import check_cursor
from choir_chain.indexer.db import create_schema, drop_schema, make_engine
from choir_chain.indexer.errors import ChainMismatch, ConcurrentWriter, IndexerError, ReorgDetected
from choir_chain.indexer.handlers import HANDLERS, THREAD, handled_events
from choir_chain.indexer.models import CURSOR_ID, SCHEMA_VERSION, Cursor, Thread
from choir_chain.indexer.pipeline import LogRouter, contract_address, load_abis
from choir_chain.indexer.store import Store
from choir_chain.indexer.undo import UndoRecorder, drop_undo_above, prune, undo_to
from choir_chain.manifest import Manifest

log = logging.getLogger("choir_chain.indexer")

HEADER_BATCH = 100
"""Block headers fetched per JSON-RPC batch when logs carry no `blockTimestamp`."""
MAX_REORG_DEPTH = 64
"""Blocks a reorg may replace before the indexer stops instead of rolling back (devnets and testnets; a chain
with finality may allow less, `--max-reorg-depth`)."""
STARTUP_RETRY = RetryPolicy(initial=0.25, maximum=1.0, attempts=3)
"""A node that does not answer at start-up is a configuration error, reported rather than waited for."""


def _warn_abi(name: str) -> None:
    # Events are matched by signature hash, so a changed event is skipped, never misread.
    log.warning("%s's compiled ABI differs from the deployed one; unknown events are skipped", name)


def check_chain(rpc_url: str, chain_id: int, stop: threading.Event | None = None) -> None:
    """The node at `rpc_url` answers and serves chain `chain_id`: `IndexerError` (unreachable) or `ChainMismatch`."""
    probe = RpcClient(rpc_url, retry=STARTUP_RETRY, stop=stop, timeout=10.0, log_retries=False)
    try:
        served = probe.chain_id()
    except (TransportError, RpcError) as err:
        raise IndexerError(f"cannot reach the node at {rpc_url}: {err}") from err
    finally:
        probe.close()
    if served != chain_id:
        raise ChainMismatch(f"the node at {rpc_url} serves chain {served}, the manifest chain {chain_id}")


@dataclass(frozen=True)
class IndexedRange:
    """A block range applied and committed."""

    first: int
    last: int
    events: int


class Indexer:
    """Indexes one deployment into one database. Not thread-safe; one writer per database.

    `db` is a database URL or an engine (default: the SQLite file in the run folder). `stop` (set it from a
    signal handler) ends `follow` after the current range, and interrupts retry waits.
    """

    def __init__(
        self,
        rpc_url: str,
        manifest: Manifest,
        db: str | Engine | None = None,
        *,
        confirmations: int = 0,
        batch_blocks: int = 1000,
        poll_interval: float = 1.0,
        retry: RetryPolicy | None = None,
        stop: threading.Event | None = None,
        reset: bool = False,
        max_reorg_depth: int = MAX_REORG_DEPTH,
        abis: Mapping[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        if confirmations < 0:
            raise IndexerError(f"confirmations must be >= 0, not {confirmations}")
        if max_reorg_depth < 0:
            raise IndexerError(f"max_reorg_depth must be >= 0, not {max_reorg_depth}")
        if batch_blocks < 1:
            raise IndexerError(f"batch_blocks must be >= 1, not {batch_blocks}")
        self.manifest = manifest
        self.confirmations = confirmations
        self.max_reorg_depth = max_reorg_depth
        self.batch_blocks = batch_blocks
        self.poll_interval = poll_interval
        self.retry = retry or RetryPolicy()
        self.stop = stop or threading.Event()
        self._owns_engine = not isinstance(db, Engine)
        self.engine = db if isinstance(db, Engine) else make_engine(db)
        self.hub = contract_address(manifest, "ChoirHub")
        distributor = self.manifest.contracts.get("RewardsDistributor")
        self.distributor: str | None = distributor.address if distributor is not None else None
        """Followed for novelty scores and approval rewards; None for a deployment without rewards."""
        self.decoder = EventDecoder(abis or load_abis(manifest, _warn_abi))
        self.router = LogRouter(self.decoder, self.hub, self.distributor)
        self._thread_topics = self.decoder.topics(THREAD, handled_events(THREAD))
        self.rpc = RpcClient(rpc_url, retry=self.retry, stop=self.stop)

        check_chain(rpc_url, self.manifest.chain_id, self.stop)
        if reset:
            drop_schema(self.engine)
            drop_cache_schema(self.engine)
        create_schema(self.engine)
        create_cache_schema(self.engine)
        self._last_block = 0
        self._last_hash: str | None = None
        self._threads: dict[str, int] = {}
        self._verified = False
        self._delays = self.retry.delays()
        self._load_state()

    # --------------------------------------------------------------------------------------------------------
    # Set-up and state
    # --------------------------------------------------------------------------------------------------------

    def _load_state(self) -> None:
        """Read (or create) the cursor, the cache's row and the known thread addresses from the database."""
        anchor = self.manifest.deploy_block - 1
        with Session(self.engine) as session, session.begin():
            cursor = session.get(Cursor, CURSOR_ID)
            cache = session.get(LogCache, CACHE_ID)
            if cursor is None:
                cursor = Cursor(
                    id=CURSOR_ID,
                    schema_version=SCHEMA_VERSION,
                    chain_id=self.manifest.chain_id,
                    hub=self.hub,
                    deploy_block=self.manifest.deploy_block,
                    last_block=anchor,
                    last_block_hash=None,
                )
                session.add(cursor)
                if cache is None:
                    cache = self._new_cache(session, anchor)
            else:
                check_cursor(cursor, self.manifest.chain_id, self.hub)
            if cache is None or cache.last_block != cursor.last_block:
                raise IndexerError(
                    "the raw-log cache does not cover the database's blocks (written by an older Choir, or edited): "
                    "re-index it (choir index --reset)"
                )
            check_cache(cache, self.manifest.chain_id, self.hub)
            self._last_block, self._last_hash = cursor.last_block, cursor.last_block_hash
            self._verified = False
            rows = session.execute(select(Thread.address, Thread.thread_id)).all()
            self._threads = {address.lower(): thread_id for address, thread_id in rows}

    def _new_cache(self, session: Session, anchor: int) -> LogCache:
        """The cache's row, and the hash of the block before the deployment (which tells a reorg from a new
        chain)."""
        cache = LogCache(
            id=CACHE_ID,
            cache_version=CACHE_VERSION,
            chain_id=self.manifest.chain_id,
            hub=self.hub,
            deploy_block=self.manifest.deploy_block,
            last_block=anchor,
        )
        session.add(cache)
        anchor_hash = _hash(self.rpc.block(anchor)) if anchor >= 0 else None
        if anchor_hash is not None:
            session.add(BlockHash(number=anchor, hash=anchor_hash))
        return cache

    @property
    def last_block(self) -> int:
        """The last block whose events are all in the database."""
        return self._last_block

    def close(self) -> None:
        self.rpc.close()
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> Indexer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --------------------------------------------------------------------------------------------------------
    # Indexing
    # --------------------------------------------------------------------------------------------------------

    def target_block(self, until: int | None = None) -> int:
        """The last block to index now: the head less the confirmation depth (and at most `until`)."""
        target = self.rpc.block_number() - self.confirmations
        return target if until is None else min(target, until)

    def step(self, until: int | None = None) -> IndexedRange | None:
        """Index the next block range, if any block is due; None when the index is up to date. A reorg found on
        the way is rolled back first (`max_reorg_depth`)."""
        target = self.target_block()
        due = target if until is None else min(target, until)
        last = self._last_block
        if not self._verified and not self._still_on_chain(last):
            self._recover()
            return self.step(until)
        if due <= last:
            return None
        first, end = last + 1, min(last + self.batch_blocks, due)
        window_start = target - self.max_reorg_depth
        if first < window_start <= end:
            end = window_start - 1  # ranges near the head record undo records (`undo.py`); older ones need none

        own_contracts = [self.hub] if self.distributor is None else [self.hub, self.distributor]
        own, end = self._get_logs(first, end, address=own_contracts)
        thread_logs, thread_end = self._get_logs(first, end, topics=[self._thread_topics])
        if thread_end < end:
            own = [entry for entry in own if int(entry["blockNumber"], 16) <= thread_end]
            end = thread_end
        kept, discovered = self.router.keep(own, thread_logs, self._threads)

        # Headers of `last` (continuity), `end`, and every block within `max_reorg_depth` of the head: their
        # hashes let a later reorg find its common ancestor. One batch request.
        window = range(max(first, window_start), end + 1)
        numbers = sorted({last, end, *window} if self._last_hash is not None else {end, *window})
        headers = dict(zip(numbers, self.rpc.blocks(numbers), strict=True))
        if self._last_hash is not None and _hash(headers[last]) != self._last_hash:
            self._recover()
            return self.step(until)
        hashes = {n: _hash(headers[n]) for n in numbers if n >= first}
        if None in hashes.values():
            raise TransportError(f"the node has no block {end} although it reported it")
        kept = self._with_timestamps(kept, headers)
        for entry in kept:
            number, block_hash = int(entry["blockNumber"], 16), str(entry["blockHash"]).lower()
            if hashes.setdefault(number, block_hash) != block_hash:
                # The logs and the headers were read from two branches: read the range again.
                raise TransportError(f"block {number} changed while blocks {first}-{end} were read (a reorg)")
        threads = {**self._threads, **discovered}
        events = self.router.events(kept, threads)

        end_hash = str(hashes[end])
        self._apply(events, kept, hashes, last, end, end_hash, undo=first >= window_start)  # type: ignore[arg-type]
        self._threads = threads
        self._last_block, self._last_hash = end, end_hash
        log.log(logging.INFO if events else logging.DEBUG, "indexed blocks %d-%d: %d events", first, end, len(events))
        return IndexedRange(first=first, last=end, events=len(events))

    def sync(self, until: int | None = None) -> int:
        """Index every due block (up to `until` if given); returns the last indexed block."""
        while not self.stop.is_set():
            try:
                if self._step_or_wait(until) is None:
                    break
            except Stopped:
                break
        return self._last_block

    def follow(self) -> None:
        """Index new blocks as they come, until `stop` is set."""
        while not self.stop.is_set():
            try:
                if self._step_or_wait() is None:
                    self.stop.wait(self.poll_interval)
            except Stopped:
                return

    def _step_or_wait(self, until: int | None = None) -> IndexedRange | bool | None:
        """`step`, except that a passing failure (the node answering inconsistently, the database unreachable)
        is logged and waited out with backoff: the range is then tried again, never skipped. Returns False
        after such a wait."""
        try:
            indexed = self.step(until)
        except (TransportError, RpcError, OperationalError, InterfaceError) as err:
            delay = next(self._delays, self.retry.maximum)
            reason = err.orig if isinstance(err, (OperationalError, InterfaceError)) else err
            log.warning("indexing after block %d failed (%s); retrying in %.2fs", self._last_block, reason, delay)
            if self.stop.wait(delay):
                raise Stopped from err
            self._reload_state()
            return False
        self._delays = self.retry.delays()
        return indexed

    def _reload_state(self) -> None:
        try:
            self._load_state()
        except (OperationalError, InterfaceError) as err:
            log.warning("database still unavailable (%s)", err.orig or err)

    def _get_logs(self, first: int, end: int, **query: Any) -> tuple[list[Any], int]:
        """Logs of blocks `first..end'` with `end' <= end`, as far as the node accepts the range (`logs_from`); a
        single block refused is asked again with backoff."""
        delays = self.retry.delays()
        while True:
            try:
                return logs_from(lambda a, b: self.rpc.get_logs(a, b, **query), first, end)
            except RpcError as err:
                end = first
                delay = next(delays, self.retry.maximum)
                log.warning("eth_getLogs of block %d failed (%s); retrying in %.2fs", first, err, delay)
                if self.stop.wait(delay):
                    raise Stopped from err

    def _still_on_chain(self, last: int) -> bool:
        """Block `last` is still the block the database holds (same hash)."""
        if self._last_hash is not None and _hash(self.rpc.block(last)) != self._last_hash:
            return False
        self._verified = True
        return True

    def _common_ancestor(self) -> int:
        """The highest block the database holds whose hash is still the chain's: the stored hashes within
        `max_reorg_depth` of the cursor, newest first, in batches of headers. `ReorgDetected` if none is (or
        if the block before the deployment changed: a new chain, not a reorg)."""
        last, floor = self._last_block, self._last_block - self.max_reorg_depth
        anchor = self.manifest.deploy_block - 1
        with Session(self.engine) as session:
            query = select(BlockHash.number, BlockHash.hash).where(
                or_(BlockHash.number >= floor, BlockHash.number == anchor)
            )
            known = {n: h for n, h in session.execute(query.order_by(BlockHash.number.desc()))}
        if anchor in known and _hash(self.rpc.block(anchor)) != known[anchor]:
            raise ReorgDetected(
                f"block {anchor}, before the deployment, is not the database's any more: a new chain under the "
                "same database; re-index it (--reset)"
            )
        candidates = [n for n in known if n >= max(floor, anchor)]
        for i in range(0, len(candidates), HEADER_BATCH):
            chunk = candidates[i : i + HEADER_BATCH]
            for number, header in zip(chunk, self.rpc.blocks(chunk), strict=True):
                if _hash(header) == known[number]:
                    return number
        raise ReorgDetected(
            f"blocks {max(floor, anchor + 1)}-{last} of the database are not on the chain any more: a reorg deeper "
            f"than the limit of {self.max_reorg_depth} blocks (--max-reorg-depth), or a new chain under the same "
            "database; re-index it (--reset)"
        )

    def _recover(self) -> None:
        """Roll back to the common ancestor in one transaction: by the undo records of the ranges near the head
        when they reach it, else by replaying the raw-log cache (`cache.roll_back`)."""
        last = self._last_block
        ancestor = self._common_ancestor()
        start = time.perf_counter()
        with Session(self.engine, autoflush=False, expire_on_commit=False) as session, session.begin():
            locked = session.execute(
                update(Cursor).where(Cursor.id == CURSOR_ID, Cursor.last_block == last).values(last_block=last)
            )
            if locked.rowcount != 1:  # type: ignore[attr-defined]
                raise ConcurrentWriter(f"another indexer moved this database's cursor past block {last}")
            point = undo_to(session, ancestor, last)
            if point is not None:
                how = "undone"
                trim(session, point)
            else:
                how, point = "replayed from the cache", ancestor
                roll_back(session, self.router, ancestor)
                drop_undo_above(session, ancestor)
            session.execute(
                update(Cursor)
                .where(Cursor.id == CURSOR_ID)
                .values(last_block=point, last_block_hash=stored_hash(session, point))
            )
        self._load_state()
        log.warning(
            "reorg: blocks %d-%d were replaced; rolled back to block %d (%s in %.2fs) and re-indexing",
            ancestor + 1,
            last,
            point,
            how,
            time.perf_counter() - start,
        )

    def _with_timestamps(self, logs: list[Any], headers: dict[int, Any]) -> list[Any]:
        """Fill in block timestamps that the logs did not carry (`blockTimestamp` is a recent addition), from
        `headers` or fetched ones."""
        missing = sorted({int(e["blockNumber"], 16) for e in logs if e.get("blockTimestamp") is None} - set(headers))
        for i in range(0, len(missing), HEADER_BATCH):
            chunk = missing[i : i + HEADER_BATCH]
            headers.update(zip(chunk, self.rpc.blocks(chunk), strict=True))
        filled = []
        for entry in logs:
            if entry.get("blockTimestamp") is None:
                header = headers[int(entry["blockNumber"], 16)]
                if header is None:
                    raise TransportError(f"the node has no block {entry['blockNumber']} although it has its logs")
                entry = {**entry, "blockTimestamp": header["timestamp"]}
            filled.append(entry)
        return filled

    def _apply(
        self,
        events: list[Event],
        logs: list[Any],
        hashes: dict[int, str],
        last: int,
        end: int,
        end_hash: str,
        *,
        undo: bool,
    ) -> None:
        with Session(self.engine, autoflush=False, expire_on_commit=False) as session, session.begin():
            # Moving the cursor first takes the write lock (PostgreSQL row lock, SQLite RESERVED lock), so a
            # second indexer on the same database waits here and then finds the cursor moved.
            moved = session.execute(
                update(Cursor)
                .where(Cursor.id == CURSOR_ID, Cursor.last_block == last)
                .values(last_block=end, last_block_hash=end_hash)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                raise ConcurrentWriter(f"another indexer moved this database's cursor past block {last}")
            recorder = UndoRecorder() if undo else None
            store = Store(session, recorder)
            for event in events:
                HANDLERS[(event.source, event.name)](store, event)
            store.write()
            write_range(session, logs, hashes, end)
            if recorder is not None:
                recorder.write(session, last + 1, end)
            prune(session, end - self.max_reorg_depth)


def _hash(header: dict[str, Any] | None) -> str | None:
    return None if header is None else str(header.get("hash", "")).lower()
