"""The indexer: follows the hub and every thread clone from the manifest's deploy block into the database.

Per block range `[first, last]`, `last = min(first + batch - 1, head - confirmations)`:

1. `eth_getLogs` of the hub's address (and the rewards distributor's, when the manifest has one): their events,
   and the addresses of threads created in the range;
2. `eth_getLogs` of the ThreadDAO event signatures that have a handler, for any address, keeping the logs of
   known threads (the database's plus those just discovered): one query however many threads exist;
3. order by (block, transaction, log index), the hub's `ThreadCreated` first within its transaction (the
   clone's `initialize` logs its root message and its creator's shares before the hub logs the creation);
4. apply every handler and move the cursor in ONE database transaction.

A crash at any point therefore loses nothing and never half-applies a range: on restart the indexer resumes
after the last committed block, and the rows equal those of a fresh index. The cursor also records the hash of
its last block; a different hash on the chain (a reorg deeper than the confirmation depth, or a devnet
restarted under the same database) stops the indexer instead of mixing two chains. RPC failures are retried
with backoff and a range is never skipped; a provider refusing a range (too many blocks or logs) gets half.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from choir_chain import artifacts
from choir_chain.chain.logs import logs_from
from choir_chain.chain.rpc import RetryPolicy, RpcClient, RpcError, Stopped, TransportError
from choir_chain.indexer.cursor import check_cursor
from choir_chain.indexer.db import create_schema, drop_schema, make_engine
from choir_chain.indexer.decode import Event, EventDecoder
from choir_chain.indexer.errors import ChainMismatch, ConcurrentWriter, IndexerError, ReorgDetected
from choir_chain.indexer.handlers import HANDLERS, HUB, REWARDS, THREAD, handled_events
from choir_chain.indexer.models import CURSOR_ID, SCHEMA_VERSION, Cursor, Thread
from choir_chain.indexer.store import Store
from choir_chain.manifest import Manifest

log = logging.getLogger("choir_chain.indexer")

HEADER_BATCH = 100
"""Block headers fetched per JSON-RPC batch when logs carry no `blockTimestamp`."""
STARTUP_RETRY = RetryPolicy(initial=0.25, maximum=1.0, attempts=3)
"""A node that does not answer at start-up is a configuration error, reported rather than waited for."""


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
        abis: Mapping[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        if confirmations < 0:
            raise IndexerError(f"confirmations must be >= 0, not {confirmations}")
        if batch_blocks < 1:
            raise IndexerError(f"batch_blocks must be >= 1, not {batch_blocks}")
        self.manifest = manifest
        self.confirmations = confirmations
        self.batch_blocks = batch_blocks
        self.poll_interval = poll_interval
        self.retry = retry or RetryPolicy()
        self.stop = stop or threading.Event()
        self._owns_engine = not isinstance(db, Engine)
        self.engine = db if isinstance(db, Engine) else make_engine(db)
        self.hub = self._contract_address("ChoirHub")
        distributor = self.manifest.contracts.get("RewardsDistributor")
        self.distributor: str | None = distributor.address if distributor is not None else None
        """Followed for novelty scores and approval rewards; None for a deployment without rewards."""
        self.decoder = EventDecoder(abis or self._load_abis())
        self._thread_topics = self.decoder.topics(THREAD, handled_events(THREAD))
        self.rpc = RpcClient(rpc_url, retry=self.retry, stop=self.stop)

        check_chain(rpc_url, self.manifest.chain_id, self.stop)
        if reset:
            drop_schema(self.engine)
        create_schema(self.engine)
        self._last_block = 0
        self._last_hash: str | None = None
        self._threads: dict[str, int] = {}
        self._verified = False
        self._delays = self.retry.delays()
        self._load_state()

    # --------------------------------------------------------------------------------------------------------
    # Set-up and state
    # --------------------------------------------------------------------------------------------------------

    def _contract_address(self, name: str) -> str:
        entry = self.manifest.contracts.get(name)
        if entry is None:
            raise IndexerError(f"the manifest has no {name} contract")
        return entry.address

    def _load_abis(self) -> dict[str, list[dict[str, Any]]]:
        abis = {}
        sources = [(HUB, "ChoirHub"), (THREAD, "ThreadDAO")]
        if self.distributor is not None:
            sources.append((REWARDS, "RewardsDistributor"))
        for source, name in sources:
            artifact = artifacts.load(name)
            deployed = self.manifest.contracts.get(name)
            if deployed is not None and deployed.abi_hash != artifact.abi_hash:
                # Events are matched by signature hash, so a changed event is skipped, never misread.
                log.warning("%s's compiled ABI differs from the deployed one; unknown events are skipped", name)
            abis[source] = artifact.abi
        return abis

    def _load_state(self) -> None:
        """Read (or create) the cursor and the known thread addresses from the database."""
        with Session(self.engine) as session, session.begin():
            cursor = session.get(Cursor, CURSOR_ID)
            if cursor is None:
                cursor = Cursor(
                    id=CURSOR_ID,
                    schema_version=SCHEMA_VERSION,
                    chain_id=self.manifest.chain_id,
                    hub=self.hub,
                    deploy_block=self.manifest.deploy_block,
                    last_block=self.manifest.deploy_block - 1,
                    last_block_hash=None,
                )
                session.add(cursor)
            else:
                check_cursor(cursor, self.manifest.chain_id, self.hub)
            self._last_block, self._last_hash = cursor.last_block, cursor.last_block_hash
            self._verified = False
            rows = session.execute(select(Thread.address, Thread.thread_id)).all()
            self._threads = {address.lower(): thread_id for address, thread_id in rows}

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
        """Index the next block range, if any block is due; None when the index is up to date."""
        target = self.target_block(until)
        last = self._last_block
        if not self._verified:
            self._check_continuity(last)  # at once, not only when the next block is due
        if target <= last:
            return None
        first, end = last + 1, min(last + self.batch_blocks, target)

        own = [self.hub] if self.distributor is None else [self.hub, self.distributor]
        hub_logs, end = self._get_logs(first, end, address=own)
        thread_logs, thread_end = self._get_logs(first, end, topics=[self._thread_topics])
        if thread_end < end:
            hub_logs = [entry for entry in hub_logs if int(entry["blockNumber"], 16) <= thread_end]
            end = thread_end
        end_hash = self._check_continuity_and_hash(last, end)

        discovered: dict[str, int] = {}
        events: list[Event] = []
        distributor = self.distributor.lower() if self.distributor is not None else None
        for entry in hub_logs:
            source = REWARDS if entry["address"].lower() == distributor else HUB
            event = self.decoder.decode(source, entry)
            if event is None or (source, event.name) not in HANDLERS:
                continue
            if event.name == "ThreadCreated":
                discovered[event.args["thread"].lower()] = event.args["threadId"]
            events.append(event)
        for entry in thread_logs:
            address = entry["address"].lower()
            thread_id = self._threads[address] if address in self._threads else discovered.get(address)
            if thread_id is None:
                continue  # the same event signature from a contract that is not one of the hub's threads
            event = self.decoder.decode(THREAD, entry, thread_id=thread_id)
            if event is not None:
                events.append(event)
        events = self._with_timestamps(events)
        events.sort(key=_chain_order)

        self._apply(events, last, end, end_hash)
        self._threads.update(discovered)
        self._last_block, self._last_hash = end, end_hash
        indexed = IndexedRange(first=first, last=end, events=len(events))
        log.log(
            logging.INFO if events else logging.DEBUG,
            "indexed blocks %d-%d: %d events",
            first,
            end,
            len(events),
        )
        return indexed

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

    def _check_continuity(self, last: int, header: dict[str, Any] | None = None, fetched: bool = False) -> None:
        """Block `last` must still be the block the database holds (same hash)."""
        if self._last_hash is not None:
            if not fetched:
                header = self.rpc.block(last)
            if header is None or str(header.get("hash", "")).lower() != self._last_hash:
                raise ReorgDetected(
                    f"block {last} of the database is not on the chain any more (a reorg deeper than "
                    f"{self.confirmations} confirmations, or a new chain under the same database): "
                    "re-index (--reset)"
                )
        self._verified = True

    def _check_continuity_and_hash(self, last: int, end: int) -> str:
        """The hash of block `end`, after checking that block `last` is still the one the database holds."""
        numbers = [end] if self._last_hash is None else [end, last]
        headers = self.rpc.blocks(numbers)
        if self._last_hash is not None:
            self._check_continuity(last, headers[1], fetched=True)
        header = headers[0]
        if header is None:
            raise TransportError(f"the node has no block {end} although it reported it")
        return str(header["hash"]).lower()

    def _with_timestamps(self, events: list[Event]) -> list[Event]:
        """Fill in block timestamps that the logs did not carry (`blockTimestamp` is a recent addition)."""
        missing = sorted({e.block for e in events if e.timestamp is None})
        if not missing:
            return events
        stamps: dict[int, int] = {}
        for i in range(0, len(missing), HEADER_BATCH):
            chunk = missing[i : i + HEADER_BATCH]
            for number, header in zip(chunk, self.rpc.blocks(chunk), strict=True):
                if header is None:
                    raise TransportError(f"the node has no block {number} although it has its logs")
                stamps[number] = int(header["timestamp"], 16)
        return [e if e.timestamp is not None else replace(e, timestamp=stamps[e.block]) for e in events]

    def _apply(self, events: list[Event], last: int, end: int, end_hash: str) -> None:
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
            store = Store(session)
            for event in events:
                HANDLERS[(event.source, event.name)](store, event)
            store.write()


def _chain_order(event: Event) -> tuple[int, int, int, int]:
    creation_first = 0 if event.source == HUB and event.name == "ThreadCreated" else 1
    return (event.block, event.tx_index, creation_first, event.log_index)
