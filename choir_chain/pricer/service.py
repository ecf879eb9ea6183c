"""The pricer service: read the index, find the next trigger block, price its threads, submit `updatePrices`.

**One writer.** The pricer never indexes: it reads the indexer's rows and cursor (`IndexCursor`) and, when the
blocks indexed so far give no round, waits for the indexer to reach the chain's head (at most `index_wait`
seconds; `choir pricer` runs the indexer beside it, `choir up` runs both).

**Determinism.** Trigger blocks (`triggers.py`) are priced strictly in chain order. For trigger block B the
affected threads' targets are their QAHO prices as of B (`state.py`, `compute.py`); every round takes the
threads of B still away from their target, least recently priced first (then by id), at most `batch_size`
of them, and moves each one step (at most `maxDeviationBps`). When none is left the pricer moves to the next
trigger block. So the rounds, their threads and their prices are a function of the chain's history alone,
never of when the pricer ran, how fast, or where it crashed.

**Deviation windows.** The hub bounds a thread's move within each `deviationWindow` (protocol section 6, r2), so a
large jump takes several windows. A step is computed against the window's anchor as well as the previous
price unless the chain's time (the latest block's timestamp, a lower bound of the time the round will be
mined at) shows the window is over (`compute.next_price`), so a round never reverts. A thread its window holds
short of its target *waits*: the pricer goes on with later trigger blocks and, once at the head, reconciles
every thread as of the latest trigger block (full mode), where the waiting threads take their next steps as
their windows end. Each process also reconciles once when it first reaches the head, so a thread left waiting
before a restart is not forgotten. Which step a round takes then depends on when the windows ended, i.e. on
the chain's timestamps, which are part of its history too.

**Never a round twice, never a skipped one.** Before planning, the pricer waits until none of its own
transactions is in flight (pending nonce == mined nonce), then reads `lastRound()` L from the hub and sends
round L + 1 with the mined nonce. A second transaction for the same round is impossible: it would need the
same nonce. A crash after sending leaves at most that one transaction in flight, and the next start waits
for it first. Gas is estimated before sending, so a round the chain would reject is never sent.

**Resuming.** Each round's calldata carries the trigger block it priced (`progress.py`). On start (and
whenever L is not the round this process sent last) the pricer reads round L's transaction and resumes at
its trigger block; pricing a trigger block is idempotent, so nothing is repeated and nothing is skipped. A
last round without that tag (sent by something else) makes the pricer reconcile every thread as of the latest
trigger block first.

**Failures.** JSON-RPC transport failures are retried with exponential backoff inside the RPC client (the
indexer's); a rejected or reverted round, an error answer or an unreachable database is retried with backoff
at the level of the whole step, which re-reads everything from the chain. `max_failures` consecutive such
failures stop the service with a `PricerError`.

Every event is reported to `emit` as one flat dict (the CLI prints each as one JSON line): one `round` line
per round, plus `resume`, `waiting` (a transaction in flight, or threads held by their deviation windows),
`retry`, `stuck` and `allocation` lines (one per epoch allocated, see `allocator.py`), and with novelty scoring on
(`PricerConfig.novelty`, see `novelty.py`) one `novelty` line per round of novelty scores.

**Order of work in a step.** A price round comes first; when none is due, a round of novelty scores; when the
scorer has nothing left (its scores are final), the allocation of the oldest closed epoch that is due. One step
sends at most one transaction, so all three share the same nonce discipline, and neither novelty nor rewards ever
delays a price round.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from choir_chain import artifacts
from choir_chain.chain.events import EventType
from choir_chain.chain.rpc import RetryPolicy, RpcClient, RpcError, Stopped, TransportError
from choir_chain.indexer.cursor import IndexCursor
from choir_chain.indexer.db import make_engine
from choir_chain.indexer.indexer import check_chain
from choir_chain.indexer.models import PriceRound
from choir_chain.manifest import Manifest
from choir_chain.pricer.allocator import EpochAllocator
from choir_chain.pricer.client import Contract, Sender, Sent
from choir_chain.pricer.compute import clamp_to_bounds, model_prices, pending_steps
from choir_chain.pricer.distributor import OracleJob
from choir_chain.pricer.errors import PricerError, RoundRejected, RoundReverted
from choir_chain.pricer.novelty import EmbedderSource, NoveltyScorer
from choir_chain.pricer.oracle import OracleView, bounds_fields, read_oracle, waiting_event
from choir_chain.pricer.plan import PricerConfig, RoundPlan, Upcoming, least_recent_first, round_calldata
from choir_chain.pricer.progress import Position, decode_tag
from choir_chain.pricer.state import thread_states
from choir_chain.pricer.triggers import (
    affected_threads,
    block_timestamp,
    previous_trigger_block,
    threads_up_to,
    trigger_blocks,
)

RETRIED = (RoundRejected, RoundReverted, RpcError, TransportError, OperationalError, InterfaceError)
"""Failures of a step that are retried with backoff (the step re-reads everything from the chain)."""
IN_FLIGHT_POLL = 0.05
IN_FLIGHT_POLL_MAX = 2.0
"""Seconds between looks at a transaction of ours still in flight: from the first, doubling to the most."""
INDEX_POLL = 0.02
"""Seconds between looks at the indexer's cursor while waiting for it."""

Emit = Callable[[dict[str, Any]], None]


class Pricer:
    """Prices one deployment from one account, reading the index in `db` (URL or engine; default: the run folder's
    SQLite database), which an indexer keeps up to date. Not thread-safe; set `stop` to end `run`."""

    def __init__(
        self,
        rpc_url: str,
        manifest: Manifest,
        account: LocalAccount,
        db: str | Engine | None = None,
        *,
        config: PricerConfig | None = None,
        stop: threading.Event | None = None,
        emit: Emit | None = None,
        content_db: str | Engine | None = None,
        embedder: EmbedderSource | None = None,
    ) -> None:
        """`content_db` is where the message bodies (and their embeddings) are, by default `db`; `embedder`
        gives the embedding model for novelty scoring (default: `load_embedder`, which loads it at the first
        novelty step). Both matter only with `config.novelty`."""
        self.manifest = manifest
        self.config = config or PricerConfig()
        self.stop = stop or threading.Event()
        self.emit: Emit = emit or (lambda _event: None)
        self._owns_engine = not isinstance(db, Engine)
        self.engine = db if isinstance(db, Engine) else make_engine(db)
        self._rpc_url = rpc_url
        check_chain(rpc_url, manifest.chain_id, self.stop)
        self.index = IndexCursor(self.engine, manifest)
        # The first retry comes quickly: on the devnet most failed calls are anvil's stale-block race (see
        # `client.is_stale_block`), over at once; real outages still back off to `retry.maximum`.
        quick = RetryPolicy(initial=min(self.config.retry.initial, 0.05), maximum=self.config.retry.maximum)
        self.rpc = RpcClient(rpc_url, retry=quick, stop=self.stop)
        hub = manifest.contracts.get("ChoirHub")
        if hub is None:
            raise PricerError("the manifest has no ChoirHub contract")
        hub_abi = artifacts.load("ChoirHub").abi
        self.hub = Contract(self.rpc, hub.address, hub_abi)
        self._prices_updated = EventType.named(hub_abi, "PricesUpdated").topic0
        self.sender = Sender(self.rpc, account, manifest.chain_id)
        self.job = OracleJob(
            manifest, self.rpc, self.sender, self.engine, self.emit, self.stop, self.config.receipt_timeout
        )
        self.rewards = EpochAllocator.from_manifest(self.job, delay=self.config.allocation_delay)
        self.novelty: NoveltyScorer | None = None
        self._content_engine: Engine | None = None
        if self.config.novelty:
            self.novelty = self._new_scorer(content_db, embedder)
        self._position: Position | None = None
        self._last_round: int | None = None
        """The round this process last saw on chain (its own, or read at resume)."""
        self._warned_stuck: set[tuple[Position, tuple[int, ...]]] = set()
        self._warned_waiting: set[tuple[Position, tuple[int, ...]]] = set()
        self._reconcile_due = True
        """Reconcile every thread at the head: once per process, and again after threads were left waiting."""
        self._cache: dict[Position, dict[int, int]] = {}
        self._triggers = Upcoming(after=0, until=-1, blocks=[])
        self._in_flight: tuple[int, int] | None = None
        self._in_flight_poll = IN_FLIGHT_POLL
        self._index_behind: int | None = None
        """The indexed block last reported as behind the head (reported once per block)."""
        self._rollbacks = self.index.rollbacks
        """The indexer's count of reorgs rolled back, as of the last step (see `_after_reorg`)."""

    # --------------------------------------------------------------------------------------------------------
    # Set-up
    # --------------------------------------------------------------------------------------------------------

    def _new_scorer(self, content_db: str | Engine | None, embedder: EmbedderSource | None) -> NoveltyScorer:
        if content_db is None:
            content_engine = self.engine
        elif isinstance(content_db, Engine):
            content_engine = content_db
        else:
            content_engine = self._content_engine = make_engine(content_db)
        if embedder is None:
            from choir_chain.semantics.embedder import load_embedder

            embedder = load_embedder
        return NoveltyScorer.from_manifest(
            self.job, content_engine, embedder, batch_size=self.config.novelty_batch_size
        )

    def check_role(self) -> None:
        """Fail at once, with a clear message, if the account may not push prices (or, with a distributor,
        allocate epochs; with novelty scoring, submit novelty scores)."""
        (role,) = self.hub.call("PRICER_ROLE")
        (allowed,) = self.hub.call("hasRole", role, self.sender.address)
        if not allowed:
            raise PricerError(f"account {self.sender.address} lacks PRICER_ROLE on hub {self.hub.address}")
        if self.rewards is not None:
            self.rewards.check_role()
        if self.novelty is not None:
            self.novelty.check_role()

    def close(self) -> None:
        self.rpc.close()
        if self._content_engine is not None:
            self._content_engine.dispose()
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> Pricer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --------------------------------------------------------------------------------------------------------
    # The loop
    # --------------------------------------------------------------------------------------------------------

    def run(self, once: bool = False) -> None:
        """Price until `stop` is set; with `once`, until nothing is left to do now."""
        self.check_role()
        failures, delays = 0, self.config.retry.delays()
        while not self.stop.is_set():
            try:
                progressed = self.step()
            except Stopped:
                return
            except RETRIED as err:
                failures += 1
                reason = err.orig if isinstance(err, (OperationalError, InterfaceError)) else err
                if failures >= self.config.max_failures:
                    raise PricerError(f"giving up after {failures} failed attempts: {reason}") from err
                delay = next(delays, self.config.retry.maximum)
                self.emit({"event": "retry", "error": str(reason), "attempt": failures, "delay": delay})
                self.stop.wait(delay)
                continue
            failures, delays = 0, self.config.retry.delays()
            if not progressed:
                if once:
                    return
                self.stop.wait(self.config.poll_interval)

    def step(self) -> bool:
        """Do the next unit of work: wait for a transaction of ours in flight, or send and confirm one round,
        or submit a round of novelty scores, or allocate a closed epoch. False when there is nothing to do now.

        The database is brought up to the chain only when the blocks it already holds give no round: while
        a trigger block is being worked through, new blocks cannot change its rounds."""
        started = time.monotonic()
        mined, pending = self.sender.nonces()
        if pending > mined:
            if self._in_flight != (mined, pending):  # once per transaction, not once per look
                self._in_flight, self._in_flight_poll = (mined, pending), IN_FLIGHT_POLL
                event = {"event": "waiting", "reason": "transaction in flight", "nonce": mined}
                self.emit({**event, "pending": pending})
            self.stop.wait(self._in_flight_poll)
            self._in_flight_poll = min(self._in_flight_poll * 2, IN_FLIGHT_POLL_MAX)
            return True
        self._in_flight = None
        rollbacks = self.index.rollbacks
        if rollbacks != self._rollbacks:
            self._rollbacks = rollbacks
            self._after_reorg()
        plan = self.plan(mined, started) if self._position is not None else None
        if plan is None:
            self.sync()
            plan = self.plan(mined, started)
        if plan is None:
            if self.novelty is not None and self.novelty.step(mined):
                return True
            scores_final = self.novelty is None or self.novelty.idle
            return self.rewards is not None and scores_final and self.rewards.step(mined)
        sent = self.send(plan)
        self.confirm(plan, sent)
        return True

    def _after_reorg(self) -> None:
        """The indexer rolled a reorg back: forget everything remembered from the index or from rounds this
        process sent (they may be gone from the chain), and resume from the chain's own last round. Rounds a
        reorg dropped are priced again and sent under the next free round numbers (`lastRound() + 1`)."""
        self._last_round = None
        self._position = None
        self._cache = {}
        self._triggers = Upcoming(after=0, until=-1, blocks=[])
        self._warned_stuck.clear()
        self._warned_waiting.clear()
        self._reconcile_due = True
        if self.novelty is not None:
            self.novelty.forget()
        if self.rewards is not None:
            self.rewards.forget()
        self.emit({"event": "reorg", "rollbacks": self._rollbacks})

    # --------------------------------------------------------------------------------------------------------
    # Planning
    # --------------------------------------------------------------------------------------------------------

    def plan(self, nonce: int, started: float | None = None) -> RoundPlan | None:
        """The next round, to be sent with `nonce`, or None when there is none now. Call only with nothing of
        ours in flight (`nonce` the mined transaction count), after `sync`."""
        started = time.monotonic() if started is None else started
        head = self.index.last_block
        while True:
            position = self._position
            targets = self._targets(position) if position is not None and position.block <= head else {}
            view = self._read_oracle(sorted(targets))
            if view.last_round != self._last_round or self._position is None:
                self._position = self._resume(view.last_round)
                self._last_round = view.last_round
                continue  # plan again from the position the chain gives
            assert position is not None
            if position.block > head:
                return None  # the position's block is not indexed yet (confirmations)
            targets = clamp_to_bounds(targets, view.bounds)
            steps, stuck, waiting = pending_steps(targets, view.prices, view.bounds, view.anchors)
            if stuck and (position, tuple(stuck)) not in self._warned_stuck:
                self._warned_stuck.add((position, tuple(stuck)))
                event = {"event": "stuck", "trigger_block": position.block, "threads": stuck}
                self.emit({**event, **bounds_fields(view.bounds)})
            if waiting:
                self._reconcile_due = True  # come back to them at the head, whatever comes in between
                if (position, tuple(waiting)) not in self._warned_waiting:
                    self._warned_waiting.add((position, tuple(waiting)))
                    self.emit(waiting_event(position.block, waiting, view))
            if steps:
                # Least recently priced first: a trigger block with more than `batch_size` threads to move
                # gives every thread its first step before any gets a second.
                batch = tuple(least_recent_first(steps, view.rounds)[: self.config.batch_size])
                return RoundPlan(
                    round=view.last_round + 1, position=position, steps=batch, nonce=nonce, started=started
                )
            following = self._next_trigger(position.block, head)
            if following is not None:
                self._position = Position(following)
            elif self._reconcile_due and not position.full:
                # At the head: every thread as of this trigger block, so none left short of its target (by a
                # deviation window, or before a restart) is forgotten.
                self._reconcile_due = False
                self._position = Position(position.block, full=True)
            else:
                return None

    def _next_trigger(self, after: int, head: int) -> int | None:
        """The first trigger block in `(after, head]`, from a list read once per database range."""
        upcoming = self._triggers
        if upcoming.until < head or upcoming.after > after:
            with Session(self.engine) as session:
                if upcoming.after <= after <= upcoming.until:  # extend the list with the newly indexed blocks
                    blocks = [b for b in upcoming.blocks if b > after]
                    blocks += trigger_blocks(session, upcoming.until, head)
                else:
                    blocks = trigger_blocks(session, after, head)
            upcoming = self._triggers = Upcoming(after=after, until=head, blocks=blocks)
        return next((b for b in upcoming.blocks if after < b <= head), None)

    def sync(self) -> None:
        """Wait until the indexer has indexed the chain up to its head less the confirmation depth, at most
        `config.index_wait` seconds (then go on with what is indexed, and say so once)."""
        target = self.rpc.block_number() - self.config.confirmations
        deadline = time.monotonic() + self.config.index_wait
        while (indexed := self.index.last_block) < target:
            if self.stop.is_set():
                raise Stopped
            if time.monotonic() >= deadline:
                if self._index_behind != indexed:
                    self._index_behind = indexed
                    self.emit({"event": "waiting", "reason": "index behind", "indexed": indexed, "head": target})
                break
            self.stop.wait(INDEX_POLL)
        if self.stop.is_set():
            raise Stopped

    def _targets(self, position: Position) -> dict[int, int]:
        """Thread id -> model price in wei at `position` (cached: the state as of an indexed block never
        changes)."""
        cached = self._cache.get(position)
        if cached is not None:
            return cached
        with Session(self.engine) as session:
            ids = threads_up_to(session, position.block) if position.full else affected_threads(session, position.block)
            timestamp = block_timestamp(session, position.block)
            if not ids or timestamp is None:
                states = {}
            else:
                states = thread_states(session, ids, position.block, timestamp, self.config.params.window)
        targets = model_prices(states.values(), self.config.params)
        self._cache = {position: targets}  # only the current position is ever asked again
        return targets

    def _read_oracle(self, thread_ids: list[int]) -> OracleView:
        """The hub's last round, bounds and the threads' price points and windows (`oracle.read_oracle`)."""
        return read_oracle(self.rpc, self.hub, thread_ids)

    # --------------------------------------------------------------------------------------------------------
    # Resuming from the chain
    # --------------------------------------------------------------------------------------------------------

    def _resume(self, last: int) -> Position:
        """Where to go on, given the hub's last round: the trigger block recorded in that round's calldata."""
        if last == 0:
            position = Position(self.manifest.deploy_block - 1)
            self.emit({"event": "resume", "last_round": 0, "trigger_block": position.block, "mode": "start"})
            return position
        tx_hash = self._round_transaction(last)
        tx = self.rpc.call("eth_getTransactionByHash", [tx_hash])
        if not isinstance(tx, dict):
            # The index still holds a round that a reorg dropped: retried (with backoff) once it has caught up.
            raise TransportError(f"transaction {tx_hash} of round {last} is not on the chain (a reorg being indexed)")
        tagged = decode_tag(bytes.fromhex(str(tx.get("input", "0x"))[2:]))
        if tagged is not None:
            self.emit({"event": "resume", "last_round": last, "trigger_block": tagged.block, "mode": tagged.mode})
            return tagged
        head = self.index.last_block
        with Session(self.engine) as session:
            latest = previous_trigger_block(session, head + 1)
        position = Position(latest if latest is not None else self.manifest.deploy_block - 1, full=True)
        self.emit(
            {
                "event": "resume",
                "last_round": last,
                "trigger_block": position.block,
                "mode": "reconcile",
                "reason": f"round {last} ({tx_hash}) was not sent by a Choir pricer",
            }
        )
        return position

    def _round_transaction(self, round_: int) -> str:
        with Session(self.engine) as session:
            tx_hash = session.scalar(select(PriceRound.tx_hash).where(PriceRound.round == round_))
        if tx_hash is not None:
            return str(tx_hash)
        # Not indexed yet (within the confirmation depth): ask the node for the round's event.
        logs = self.rpc.call(
            "eth_getLogs",
            [
                {
                    "address": self.hub.address,
                    "fromBlock": hex(max(self.index.last_block + 1, self.manifest.deploy_block)),
                    "toBlock": "latest",
                    "topics": [self._prices_updated, "0x" + round_.to_bytes(32, "big").hex()],
                }
            ],
            retry_rpc_errors=False,
        )
        if not logs:
            raise PricerError(f"the hub's last round is {round_} but no PricesUpdated event of it was found")
        return str(logs[0]["transactionHash"])

    # --------------------------------------------------------------------------------------------------------
    # Sending
    # --------------------------------------------------------------------------------------------------------

    def send(self, plan: RoundPlan) -> Sent:
        """Estimate (a predicted revert raises `RoundRejected` and sends nothing), sign and send the round."""
        data = round_calldata(self.hub.function("updatePrices"), plan)
        return self.sender.submit(self.hub.address, data, plan.nonce, f"round {plan.round}")

    def confirm(self, plan: RoundPlan, sent: Sent) -> dict[str, Any] | None:
        """Wait for the round's receipt and report the round. None if it is still in flight (the next step
        waits for it); `RoundReverted` if it reverted."""
        try:
            receipt = self.sender.confirm(sent, self.config.receipt_timeout, self.stop, f"round {plan.round}")
        except RoundReverted:
            self._last_round = None  # re-read everything
            raise
        if receipt is None:
            return None
        self._last_round = plan.round
        self.emit(
            {
                "event": "round",
                "round": plan.round,
                "trigger_block": plan.position.block,
                "mode": plan.position.mode,
                "threads": plan.thread_ids,
                "prices": [str(p) for p in plan.prices],
                "targets": [str(s.target) for s in plan.steps],
                "clamped": [s.thread_id for s in plan.steps if s.clamped],
                "tx": sent.tx_hash,
                "block": int(receipt["blockNumber"], 16),
                "gas": int(receipt["gasUsed"], 16),
                "latency_ms": round((time.monotonic() - plan.started) * 1000, 1),
            }
        )
        return receipt
