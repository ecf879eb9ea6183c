"""The pricer against a real devnet and a real database: prices equal an independent computation, steps stay
within the deviation bound of their window, rounds run 1, 2, 3... and a restart (even with a round in flight)
resumes exactly; a second `--once` sends nothing; a flaky node changes nothing; the command line prints one
JSON line per round and one-line errors.

One scripted workload is applied once; each test starts from an anvil snapshot taken after it, with a fresh
database, and compares its rounds with those of one uninterrupted reference run (`--once` at the workload's
end, each thread as far as its deviation window allows). The `settled` run, with the admin's bound tightened to
1% per window, goes on window after window (an hour of chain time between runs) until no thread waits.
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from helpers.world import content, dump, gid, indexing, time_travel
from typer.testing import CliRunner
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError
from web3.types import TxParams

from choir_chain.chain import Chain, dev_accounts
from choir_chain.chain.rpc import RetryPolicy
from choir_chain.cli import app
from choir_chain.deploy import CHOIR, DAY, HOUR, Deployment, deploy
from choir_chain.devnet import DEV_MNEMONIC, Devnet, rpc_call
from choir_chain.devtools.faulty_rpc import Faults, FaultyRpc
from choir_chain.indexer import Indexer, make_engine
from choir_chain.pricer import Pricer, PricerConfig, PricerError
from choir_chain.pricer.allocation import MAX_MESSAGES, pro_rata
from choir_chain.pricer.cli import load_account
from choir_chain.pricer.compute import OracleBounds, next_price, running_anchor, within_deviation
from choir_chain.pricing import thread_price_wei
from choir_chain.protocol.author_kind import AuthorKind

WEEK = 7 * DAY
STAKE = 200 * CHOIR
FAST = PricerConfig(retry=RetryPolicy(initial=0.001, maximum=0.01), poll_interval=0.01)
Rounds = dict[int, tuple[list[int], list[int]]]
"""round -> (thread ids, prices), from the hub's PricesUpdated events."""


# ------------------------------------------------------------------------------------------------------------
# The workload, and what the test expects of it (computed from what the script did, not from the database)
# ------------------------------------------------------------------------------------------------------------


@dataclass
class Expected:
    """Per thread: settlement times of approvals, refusal weights in settlement order, distinct other threads
    citing it, current co-authors."""

    approvals: dict[int, list[int]] = field(default_factory=dict)
    weights: dict[int, list[float]] = field(default_factory=dict)
    citations: dict[int, int] = field(default_factory=dict)
    coauthors: dict[int, set[str]] = field(default_factory=dict)

    def price(self, thread_id: int, now: int) -> int:
        a = sum(1 for t in self.approvals.get(thread_id, []) if t > now - WEEK)
        window = self.weights.get(thread_id, [])[-20:]
        r = math.fsum(window) / len(window) if window else 0.0
        c, n = self.citations.get(thread_id, 0), len(self.coauthors[thread_id])
        return thread_price_wei(a, r, c, n)


@dataclass
class World:
    devnet: Devnet
    deployment: Deployment
    accounts: list[LocalAccount]
    expected: Expected
    final_time: int
    """Timestamp of the last trigger block of the workload."""
    jump: tuple[int, int, int, int]
    """Thread 3's price before seven approvals in one block, its target after them, after one more citation,
    and after the approvals expired."""
    snapshot: str = ""

    @property
    def rpc_url(self) -> str:
        return self.devnet.rpc_url

    @property
    def pricer(self) -> LocalAccount:
        return self.accounts[1]

    def revert(self) -> None:
        assert rpc_call(self.rpc_url, "evm_revert", [self.snapshot]) is True
        self.snapshot = str(rpc_call(self.rpc_url, "evm_snapshot"))


def sign(account: LocalAccount, tx: TxParams) -> bytes:
    return bytes(account.sign_transaction(cast(dict[str, Any], tx)).raw_transaction)


class QuickSender:
    """Sends workload transactions with a fixed gas limit and fees and locally counted nonces: a third of
    the requests of `Chain.transact`. Returns the block; a revert fails the test."""

    def __init__(self, chain: Chain) -> None:
        self.w3 = chain.w3
        self.nonces: dict[str, int] = {}

    def __call__(self, call: ContractFunction, sender: LocalAccount) -> int:
        address = sender.address
        if address not in self.nonces:
            self.nonces[address] = self.w3.eth.get_transaction_count(address)
        fields = {"from": address, "nonce": self.nonces[address], "gas": 2_000_000, "chainId": 31337}
        fees = {"maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9}
        tx = call.build_transaction(cast(TxParams, {**fields, **fees}))
        tx_hash = self.w3.eth.send_raw_transaction(sign(sender, tx))
        self.nonces[address] += 1
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.002)
        assert receipt["status"] == 1, f"{call.fn_name} reverted"
        return int(receipt["blockNumber"])


def _timestamp(chain: Chain, block: int) -> int:
    return int(chain.w3.eth.get_block(block)["timestamp"])


def run_workload(devnet: Devnet, deployment: Deployment, accounts: list[LocalAccount]) -> World:
    chain, hub, token = deployment.chain, deployment.hub, deployment.token
    admin, alice, bob, carol = accounts[0], accounts[2], accounts[3], accounts[4]
    users = accounts[5:]
    e = Expected()

    send = QuickSender(chain)

    def settle(thread_id: int, spec_id: int, votes: list[int]) -> int:
        block = send(deployment.thread(thread_id).functions.settle(spec_id), admin)
        return _settled(thread_id, block, votes)

    def _settled(thread_id: int, block: int, votes: list[int]) -> int:
        approvals, denials = votes
        if denials == 0:
            e.approvals.setdefault(thread_id, []).append(_timestamp(chain, block))
        e.weights.setdefault(thread_id, []).append(denials / (approvals + denials))
        return block

    def submit(thread_id: int, user: LocalAccount, text: str, cites: list[int]) -> int:
        thread = deployment.thread(thread_id)
        send(token.functions.approve(thread.address, STAKE), user)
        send(thread.functions.submitSpec(content(text), cites, STAKE, AuthorKind.HUMAN), user)
        return int(thread.functions.messageCount().call()) - 1

    for user in (alice, bob, carol, *users):
        send(token.functions.transfer(user.address, 10_000 * CHOIR), admin)
    for creator in (alice, bob, carol):
        send(hub.functions.createThread(content(f"root of {creator.address}"), AuthorKind.HUMAN), creator)
    e.coauthors = {1: {alice.address}, 2: {bob.address}, 3: {carol.address}}
    t1, t2, t3 = (deployment.thread(i) for i in (1, 2, 3))
    time_travel(devnet.rpc_url, 2)

    send(t1.functions.post(content("alice cites 2 and 1"), [gid(2, 0), gid(1, 0)], AuthorKind.HUMAN), alice)
    e.citations[2] = 1  # the self-citation of thread 1 does not count

    spec = submit(1, users[0], "u0 joins 1, citing 3", [gid(3, 0)])
    send(t1.functions.vote(spec, True), alice)
    settle(1, spec, [1, 0])
    e.citations[3] = 1
    e.coauthors[1].add(users[0].address)
    time_travel(devnet.rpc_url, 2)

    spec = submit(1, users[12], "u12 denied by both", [])
    send(t1.functions.vote(spec, False), alice)
    send(t1.functions.vote(spec, False), users[0])
    settle(1, spec, [0, 2])
    spec = submit(3, users[13], "u13 denied", [])
    send(t3.functions.vote(spec, False), carol)
    settle(3, spec, [0, 1])

    spec = submit(2, users[1], "u1 denied", [gid(3, 0)])  # a denied spec's citation does not count
    send(t2.functions.vote(spec, False), bob)
    settle(2, spec, [0, 1])
    spec = submit(2, users[2], "u2 joins 2", [])
    send(t2.functions.vote(spec, True), bob)
    settle(2, spec, [1, 0])
    e.coauthors[2].add(users[2].address)
    time_travel(devnet.rpc_url, 2)

    spec = submit(2, users[3], "u3 split", [])
    send(t2.functions.vote(spec, True), bob)
    send(t2.functions.vote(spec, False), users[2])
    settle(2, spec, [1, 1])

    # Seven specs on thread 3 approved in ONE block: its activity jumps from 0 to 7 at once.
    joiners = users[4:11]
    specs = []
    for i, user in enumerate(joiners):
        cites = [gid(2, 0)] if i == 0 else [gid(1, 0)] if i == 1 else []
        specs.append(submit(3, user, f"joiner {i}", cites))
    for spec in specs:
        send(t3.functions.vote(spec, True), carol)
    before = e.price(3, _timestamp(chain, chain.w3.eth.block_number))
    block = _in_one_block(chain, [t3.functions.settle(spec) for spec in specs], admin)
    send.nonces.pop(admin.address)
    for _ in specs:
        _settled(3, block, [1, 0])
    e.citations[2] += 1
    e.citations[1] = 1
    e.coauthors[3].update(u.address for u in joiners)
    jump_target = e.price(3, _timestamp(chain, block))

    block = send(t1.functions.post(content("alice cites 3"), [gid(3, 0)], AuthorKind.HUMAN), alice)
    # thread 1 cited thread 3 before (u0's approved spec): c counts distinct citing threads (protocol 7, r2)
    top = e.price(3, _timestamp(chain, block))

    time_travel(devnet.rpc_url, DAY + 2)
    send(t1.functions.exit(), users[0])
    e.coauthors[1].discard(users[0].address)

    # Eight days later every approval has left the activity window; the next settlement reprices them.
    time_travel(devnet.rpc_url, 8 * DAY)
    spec = submit(2, users[11], "u11 denied by both", [])
    send(t2.functions.vote(spec, False), bob)
    send(t2.functions.vote(spec, False), users[2])
    final = settle(2, spec, [0, 2])
    final_time = _timestamp(chain, final)
    return World(
        devnet=devnet,
        deployment=deployment,
        accounts=accounts,
        expected=e,
        final_time=final_time,
        jump=(before, jump_target, top, e.price(3, final_time)),
    )


def _in_one_block(chain: Chain, calls: list[ContractFunction], sender: LocalAccount) -> int:
    """Mine `calls` from `sender` in a single block (automine off while they are sent)."""
    w3 = chain.w3
    nonce = w3.eth.get_transaction_count(sender.address)
    rpc_call(w3.provider.endpoint_uri, "evm_setAutomine", [False])  # type: ignore[attr-defined]
    try:
        hashes = []
        for i, call in enumerate(calls):
            fields = {"from": sender.address, "nonce": nonce + i, "gas": 300_000}
            tx = call.build_transaction(cast(TxParams, fields))
            hashes.append(w3.eth.send_raw_transaction(sign(sender, tx)))
        rpc_call(w3.provider.endpoint_uri, "evm_mine")  # type: ignore[attr-defined]
    finally:
        rpc_call(w3.provider.endpoint_uri, "evm_setAutomine", [True])  # type: ignore[attr-defined]
    receipts = [w3.eth.get_transaction_receipt(h) for h in hashes]
    assert all(r["status"] == 1 for r in receipts)
    assert len({r["blockNumber"] for r in receipts}) == 1
    return int(receipts[0]["blockNumber"])


# ------------------------------------------------------------------------------------------------------------
# Fixtures and helpers
# ------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with Devnet(tmp_path_factory.mktemp("devnet"), accounts=20) as devnet:
        chain = Chain.connect(devnet.rpc_url)
        accounts = dev_accounts(DEV_MNEMONIC, 20)
        deployment = deploy(chain, accounts[0], pricer=accounts[1].address)
        result = run_workload(devnet, deployment, accounts)
        result.snapshot = str(rpc_call(devnet.rpc_url, "evm_snapshot"))
        yield result


@dataclass(frozen=True)
class Outcome:
    rounds: Rounds
    points: dict[int, tuple[int, int, int]]
    events: list[dict[str, Any]]


def outcome(world: World, events: list[dict[str, Any]] | None = None) -> Outcome:
    hub = world.deployment.hub
    logs = hub.events.PricesUpdated().get_logs(from_block=0)
    rounds = {int(x["args"]["round"]): (list(x["args"]["threadIds"]), list(x["args"]["prices"])) for x in logs}
    assert len(rounds) == len(logs), "a round was accepted twice"
    points = {t: tuple(hub.functions.pricePoint(t).call()) for t in (1, 2, 3)}
    return Outcome(rounds=rounds, points=points, events=events or [])  # type: ignore[arg-type]


def price_once(world: World, db: str, *, rpc_url: str | None = None, config: PricerConfig = FAST) -> Outcome:
    events: list[dict[str, Any]] = []
    url = rpc_url or world.rpc_url
    with (
        indexing(url, world.deployment.manifest, db, config.confirmations),
        Pricer(url, world.deployment.manifest, world.pricer, db, config=config, emit=events.append) as pricer,
    ):
        pricer.run(once=True)
    return outcome(world, events)


def pricer_statuses(world: World) -> list[int]:
    """Status of every price round the pricer account ever sent to the hub (all blocks' receipts, in one batch);
    its scores and allocations sent to the RewardsDistributor are not rounds."""
    head = int(str(rpc_call(world.rpc_url, "eth_blockNumber")), 16)
    batch = [{"jsonrpc": "2.0", "id": n, "method": "eth_getBlockReceipts", "params": [hex(n)]} for n in range(head + 1)]
    replies = requests.post(world.rpc_url, json=batch, timeout=60).json()
    pricer, hub = world.pricer.address.lower(), world.deployment.hub.address.lower()
    return [
        int(r["status"], 16)
        for reply in replies
        for r in reply["result"]
        if r["from"].lower() == pricer and (r["to"] or "").lower() == hub
    ]


@pytest.fixture(scope="module")
def reference(world: World, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    """One uninterrupted run from the snapshot; the chain is then reverted for the tests."""
    db = f"sqlite:///{tmp_path_factory.mktemp('reference') / 'choir.db'}"
    result = price_once(world, db)
    world.revert()
    return result


def held(events: list[dict[str, Any]]) -> bool:
    """Whether a run left threads waiting for their deviation windows to end."""
    return any(e["event"] == "waiting" and e.get("reason") == "deviation window" for e in events)


@dataclass(frozen=True)
class Settled:
    """A run continued window after window until no thread waits: its rounds (with their block timestamps)
    and events, and how many runs it took."""

    outcome: Outcome
    times: dict[int, int]
    runs: int


TIGHT_BPS = 100


@pytest.fixture(scope="module")
def settled(world: World, reference: Outcome, tmp_path_factory: pytest.TempPathFactory) -> Settled:
    db = f"sqlite:///{tmp_path_factory.mktemp('settled') / 'choir.db'}"
    QuickSender(world.deployment.chain)(world.deployment.hub.functions.setMaxDeviationBps(TIGHT_BPS), world.accounts[0])
    events: list[dict[str, Any]] = []
    runs = 0
    while True:
        runs += 1
        result = price_once(world, db)
        events += result.events
        if not held(result.events):
            break
        assert runs < 40, "the prices should settle within a few windows"
        time_travel(world.rpc_url, HOUR)  # every window of the last run is over
    final = outcome(world, events)
    logs = world.deployment.hub.events.PricesUpdated().get_logs(from_block=0)
    times = {int(x["args"]["round"]): _timestamp(world.deployment.chain, x["blockNumber"]) for x in logs}
    world.revert()
    return Settled(final, times, runs)


@pytest.fixture
def fresh(world: World, reference: Outcome) -> Iterator[World]:
    """The chain as the workload left it (no price pushed yet); reverted again afterwards."""
    yield world
    world.revert()


# ------------------------------------------------------------------------------------------------------------
# Pricing
# ------------------------------------------------------------------------------------------------------------


def test_prices_equal_an_independent_computation(world: World, reference: Outcome, settled: Settled) -> None:
    for thread_id in (1, 2, 3):  # with the bound tightened to 1%, after several windows: the same prices
        assert settled.outcome.points[thread_id][0] == reference.points[thread_id][0]
    assert settled.runs > 3
    for thread_id in (1, 2, 3):
        price, _updated, _round = reference.points[thread_id]
        assert price == world.expected.price(thread_id, world.final_time), f"thread {thread_id}"
    before, up, _top, down = world.jump
    assert up > 3 * before and up > 3 * down  # a large jump: several rounds up, several down
    e = world.expected
    for thread_id in (1, 2, 3):  # every input matters: each thread has refusals (K0 != 1), so c and N move m
        assert e.weights[thread_id] and any(e.weights[thread_id])
        e.citations[thread_id] = e.citations.get(thread_id, 0) + 1
        assert e.price(thread_id, world.final_time) != reference.points[thread_id][0]
        e.citations[thread_id] -= 1


def test_rounds_run_from_one_without_gaps_and_every_step_is_allowed(world: World, reference: Outcome) -> None:
    rounds = reference.rounds
    assert sorted(rounds) == list(range(1, len(rounds) + 1))
    assert [e["round"] for e in reference.events if e["event"] == "round"] == sorted(rounds)
    assert world.deployment.hub.functions.lastRound().call() == 0  # reverted for the other tests
    previous: dict[int, int] = {}
    for number in sorted(rounds):
        ids, prices = rounds[number]
        assert len(set(ids)) == len(ids)
        for thread_id, price in zip(ids, prices, strict=True):
            if thread_id in previous:
                assert abs(price - previous[thread_id]) * 10_000 <= previous[thread_id] * 5_000
                assert price != previous[thread_id], "a round only carries prices that move"
            previous[thread_id] = price


def test_a_big_jump_stops_at_the_edge_of_its_deviation_window(world: World, reference: Outcome) -> None:
    """Thread 3's seven approvals in one block ask for a jump of more than 3x. Its window opened at its second
    price (anchored at the first): the climb stops at 1.5x the anchor, however many rounds follow in the hour;
    the later trigger blocks ask for less, within the band, and get it."""
    history = [p for n in sorted(reference.rounds) for t, p in zip(*reference.rounds[n], strict=True) if t == 3]
    before, up, _top, down = world.jump
    assert up > 3 * before
    first, anchor_edge = history[0], history[0] + history[0] * 5_000 // 10_000
    assert history[1] == before and up > anchor_edge
    assert history[2] == anchor_edge  # the jump's round: as far as the window allows (before * 1.5 is further)
    assert all(abs(p - first) * 10_000 <= first * 5_000 for p in history[1:])
    assert history[-1] == down


def test_window_after_window_with_a_tight_bound(world: World, settled: Settled) -> None:
    """With 1% per window, every price stays within 1% of its window's anchor (replayed from the rounds' block
    times by the contract's rule), the prices reach the model's over several windows, and in every window a
    thread short of its target moved as far as the window allowed."""
    rounds, times = settled.outcome.rounds, settled.times
    for thread_id in (1, 2, 3):
        history = [(times[n], p) for n in sorted(rounds) for t, p in zip(*rounds[n], strict=True) if t == thread_id]
        price, anchor, start, last_window = history[0][1], 0, 0, 0
        for when, new in history[1:]:
            if when - start >= HOUR:
                anchor, start = price, when
            assert abs(new - anchor) * 10_000 <= anchor * TIGHT_BPS, (thread_id, when, new, anchor)
            last_window, price = start, new
        assert price == world.expected.price(thread_id, world.final_time)
        assert last_window >= history[0][0] + HOUR  # it took windows, not rounds
    for event in settled.outcome.events:
        if event["event"] == "round":
            for thread_id, step, target in zip(event["threads"], event["prices"], event["targets"], strict=True):
                assert (thread_id in event["clamped"]) == (step != target)
    waiting = [e for e in settled.outcome.events if e["event"] == "waiting" and e.get("reason") == "deviation window"]
    assert waiting and all(e["until"] > 0 for e in waiting)


def test_next_price_mirrors_the_contract_check() -> None:
    rng = random.Random(7)
    for _ in range(5_000):
        bps = rng.choice([1, 333, 5_000, 9_999, 10_000])
        prev = rng.choice([0, 1, 2, 3, rng.randrange(1, 10**6), rng.randrange(1, 10**24)])
        target = rng.randrange(1, 10**25)
        low = rng.choice([1, rng.randrange(1, 10**20)])
        bounds = OracleBounds(low, low + rng.randrange(0, 10**26), bps)
        step = next_price(prev, target, bounds)
        if step is None:
            continue
        assert bounds.min_price <= step <= bounds.max_price
        assert within_deviation(prev, step, bps)
        if step != min(max(target, bounds.min_price), bounds.max_price):  # held short: one wei more is refused
            nearer = step + (1 if target > step else -1)
            in_bounds = bounds.min_price <= nearer <= bounds.max_price
            assert not (in_bounds and within_deviation(prev, nearer, bps))
    assert next_price(100, 1_000, OracleBounds(1, 10, 5_000)) is None  # bounds moved more than a step away


def test_pro_rata_shares_the_budget_by_weight() -> None:
    """`B * w // W` for each positive weight: proportional, never above the budget, zero weights and zero amounts
    left out, the heaviest kept past the limit (the others' shares stay unallocated)."""
    budget = 6_172_000 * CHOIR + 7
    weights = {5: 3 * CHOIR, 2: CHOIR, 9: 0, 4: 6 * CHOIR}
    amounts = pro_rata(budget, weights)
    assert list(amounts) == [2, 4, 5]  # message id order, the unweighted one out
    assert amounts == {m: budget * weights[m] // (10 * CHOIR) for m in (2, 4, 5)}
    assert budget - 3 <= sum(amounts.values()) <= budget
    assert pro_rata(budget, {1: 0, 2: 0}) == {} and pro_rata(0, {1: CHOIR}) == {}
    assert pro_rata(10, {1: 1, 2: 10**30}) == {2: 9}  # rounds to zero: left out
    many = {m: CHOIR + m for m in range(MAX_MESSAGES + 5)}
    kept = pro_rata(budget, many)
    assert len(kept) == MAX_MESSAGES and set(kept) == set(range(5, MAX_MESSAGES + 5))  # the heaviest
    assert sum(kept.values()) < budget  # the left-out shares are not handed to the others


# ------------------------------------------------------------------------------------------------------------
# Restarts
# ------------------------------------------------------------------------------------------------------------


def test_restarts_resume_exactly(fresh: World, reference: Outcome, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'restarted.db'}"
    resumes: list[dict[str, Any]] = []
    for steps in (1, 2, 1, 3):  # a new process each time, stopped after a few steps
        events: list[dict[str, Any]] = []
        with (
            indexing(fresh.rpc_url, fresh.deployment.manifest, db),
            Pricer(fresh.rpc_url, fresh.deployment.manifest, fresh.pricer, db, config=FAST, emit=events.append) as p,
        ):
            p.check_role()
            for _ in range(steps):
                p.step()
        resumes += [e for e in events if e["event"] == "resume"]
    assert [e["last_round"] for e in resumes] == [0, 1, 3, 4]
    result = price_once(fresh, db)
    assert result.rounds == reference.rounds
    assert result.points.keys() == reference.points.keys()
    assert all(result.points[t][0] == reference.points[t][0] for t in result.points)


def test_a_round_in_flight_at_a_crash_is_waited_for_not_repeated(
    fresh: World, reference: Outcome, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'inflight.db'}"
    url = fresh.rpc_url
    with (
        indexing(url, fresh.deployment.manifest, db),
        Pricer(url, fresh.deployment.manifest, fresh.pricer, db, config=FAST) as first,
    ):
        for _ in range(2):
            first.step()
        rpc_call(url, "evm_setAutomine", [False])
        first.sync()
        nonce, pending = first.sender.nonces()
        assert nonce == pending
        plan = first.plan(nonce)
        assert plan is not None and plan.round == 3
        first.send(plan)  # ... and the process dies before the round is mined

    def on_event(event: dict[str, Any]) -> None:
        events.append(event)
        if event["event"] == "waiting":  # the node mines the transaction at last
            rpc_call(url, "evm_setAutomine", [True])
            rpc_call(url, "evm_mine")

    events: list[dict[str, Any]] = []
    try:
        with (
            indexing(url, fresh.deployment.manifest, db),
            Pricer(url, fresh.deployment.manifest, fresh.pricer, db, config=FAST, emit=on_event) as second,
        ):
            second.run(once=True)
    finally:
        rpc_call(url, "evm_setAutomine", [True])
    assert [e["event"] for e in events][:2] == ["waiting", "resume"]
    assert next(e for e in events if e["event"] == "resume")["last_round"] == 3
    result = outcome(fresh)
    assert result.rounds == reference.rounds
    assert pricer_statuses(fresh) == [1] * len(reference.rounds)  # nothing reverted, nothing repeated


def test_rounds_a_reorg_dropped_are_sent_again_under_new_numbers(
    fresh: World, reference: Outcome, tmp_path: Path
) -> None:
    """Rounds 1 and 2 are mined and indexed, then a reorg replaces their blocks: the indexer rolls back, and the
    same process prices them again as the next free rounds; nothing reverts, no number is used twice."""
    db = f"sqlite:///{tmp_path / 'reorg.db'}"
    url = fresh.rpc_url
    events: list[dict[str, Any]] = []
    with (
        indexing(url, fresh.deployment.manifest, db) as indexer,
        Pricer(url, fresh.deployment.manifest, fresh.pricer, db, config=FAST, emit=events.append) as pricer,
    ):
        pricer.check_role()
        snapshot = rpc_call(url, "evm_snapshot")
        for _ in range(2):
            pricer.step()
        assert [e["round"] for e in events if e["event"] == "round"] == [1, 2]
        assert rpc_call(url, "evm_revert", [snapshot]) is True
        rpc_call(url, "anvil_mine", ["0x3"])  # other blocks at the heights of rounds 1 and 2, and one more
        pricer.sync()  # the indexer rolls the reorg back and catches up
        assert indexer.last_block == int(str(rpc_call(url, "eth_blockNumber")), 16)
        pricer.run(once=True)
    assert [e["rollbacks"] for e in events if e["event"] == "reorg"] == [1]
    rounds = [e["round"] for e in events if e["event"] == "round"]
    assert rounds[:2] == [1, 2] and rounds[2:] == list(range(1, len(reference.rounds) + 1))
    result = outcome(fresh)  # asserts that no round number was accepted twice
    assert result.rounds == reference.rounds
    assert pricer_statuses(fresh) == [1] * len(reference.rounds)  # nothing reverted on the chain that won
    assert dump(make_engine(db)) == dump(_fresh_index(fresh, tmp_path / "fresh.db"))


def test_a_trigger_only_the_new_branch_has_is_priced(fresh: World, tmp_path: Path) -> None:
    """The replaced blocks held a citation of thread 1 (priced), the new ones a citation of thread 3 one block
    later: the running pricer forgets the old trigger blocks and prices the new one; a fresh pricer then finds
    nothing left to send."""
    db = f"sqlite:///{tmp_path / 'branch.db'}"
    url, chain, bob = fresh.rpc_url, fresh.deployment.chain, fresh.accounts[3]
    t2 = fresh.deployment.thread(2)
    events: list[dict[str, Any]] = []
    with (
        indexing(url, fresh.deployment.manifest, db),
        Pricer(url, fresh.deployment.manifest, fresh.pricer, db, config=FAST, emit=events.append) as pricer,
    ):
        for _ in range(10):  # until no thread waits for its deviation window
            del events[:]
            pricer.run(once=True)
            if not held(events):
                break
            time_travel(url, HOUR)
        snapshot = rpc_call(url, "evm_snapshot")
        chain.transact(t2.functions.post(content("bob cites 1"), [gid(1, 0)], AuthorKind.HUMAN), bob)
        del events[:]
        pricer.run(once=True)
        assert [e["threads"] for e in events if e["event"] == "round"] == [[1]]
        assert rpc_call(url, "evm_revert", [snapshot]) is True
        rpc_call(url, "anvil_mine", ["0x1"])
        chain.transact(t2.functions.post(content("bob cites 3"), [gid(3, 0)], AuthorKind.HUMAN), bob)
        rpc_call(url, "anvil_mine", ["0x1"])
        pricer.sync()
        del events[:]
        pricer.run(once=True)
    assert [e["event"] for e in events if e["event"] == "reorg"] == ["reorg"]
    assert [e["threads"] for e in events if e["event"] == "round"] == [[3]]
    before = outcome(fresh)
    assert price_once(fresh, f"sqlite:///{tmp_path / 'again.db'}").rounds == before.rounds


class CountingStop(threading.Event):
    """A stop event that counts the waits between looks for a receipt, and stops after `limit` of them."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit, self.waits = limit, 0

    def wait(self, timeout: float | None = None) -> bool:
        self.waits += 1
        if self.waits >= self.limit:
            self.set()
        return self.is_set()


def test_a_dropped_round_does_not_wedge_the_pricer(fresh: World, reference: Outcome, tmp_path: Path) -> None:
    """A round the node forgets (dropped from its pool, as a reorg may) ends the wait for its receipt after a
    few looks, not after `receipt_timeout`; the next step sends the same round number again, once."""
    db = f"sqlite:///{tmp_path / 'dropped.db'}"
    url = fresh.rpc_url
    with (
        indexing(url, fresh.deployment.manifest, db),
        Pricer(url, fresh.deployment.manifest, fresh.pricer, db, config=FAST) as pricer,
    ):
        pricer.check_role()
        pricer.step()
        rpc_call(url, "evm_setAutomine", [False])
        try:
            pricer.sync()
            nonce, _ = pricer.sender.nonces()
            plan = pricer.plan(nonce)
            assert plan is not None and plan.round == 2
            sent = pricer.send(plan)
            rpc_call(url, "anvil_dropTransaction", [sent.tx_hash])
            stop = CountingStop(limit=200)
            assert pricer.sender.receipt(sent.tx_hash, 3_600.0, stop) is None
            assert stop.waits < 20, "the wait should end once the node no longer knows the transaction"
        finally:
            rpc_call(url, "evm_setAutomine", [True])
        pricer.run(once=True)
    assert outcome(fresh).rounds == reference.rounds
    assert pricer_statuses(fresh) == [1] * len(reference.rounds)


def _fresh_index(world: World, path: Path) -> Any:
    engine = make_engine(f"sqlite:///{path}")
    with Indexer(world.rpc_url, world.deployment.manifest, engine) as indexer:
        indexer.sync()
    return engine


def test_a_flaky_node_changes_nothing(fresh: World, reference: Outcome, tmp_path: Path) -> None:
    """Every third request fails with HTTP 503 (sends included): retried with backoff, same rounds."""
    with FaultyRpc(fresh.rpc_url, Faults(fail_every=3, max_span=10_000)) as proxy:
        result = price_once(fresh, f"sqlite:///{tmp_path / 'flaky.db'}", rpc_url=proxy.url)
    assert proxy.counts["overloaded"] > 10
    assert result.rounds == reference.rounds
    assert pricer_statuses(fresh) == [1] * len(reference.rounds)


def test_a_faulty_provider_changes_nothing(fresh: World, reference: Outcome, tmp_path: Path) -> None:
    """A provider that caps log ranges, answers 429 with `Retry-After`, delays and drops connections (an answer to a
    sent transaction lost included): the same rounds, none reverted or repeated."""
    faults = Faults(
        max_span=16, rate_limited=0.05, retry_after=0.01, delayed=0.1, max_delay=0.005, dropped=0.05, seed=2026_12_06
    )
    with FaultyRpc(fresh.rpc_url, faults) as proxy:
        result = price_once(fresh, f"sqlite:///{tmp_path / 'faulty.db'}", rpc_url=proxy.url)
    assert proxy.counts["rate_limited"] > 0 and proxy.counts["dropped_after"] > 0
    assert proxy.counts["calls.eth_sendRawTransaction"] >= len(reference.rounds)
    assert result.rounds == reference.rounds
    assert pricer_statuses(fresh) == [1] * len(reference.rounds)


def test_after_a_full_run(fresh: World, reference: Outcome, tmp_path: Path) -> None:
    """A second `--once` sends nothing; the database equals a fresh index; the largest step `next_price`
    allows toward a far target is exactly the contract's limit (one wei further is refused)."""
    db = f"sqlite:///{tmp_path / 'twice.db'}"
    price_once(fresh, db)
    w3, hub, pricer = fresh.deployment.chain.w3, fresh.deployment.hub, fresh.pricer
    nonce, block = w3.eth.get_transaction_count(pricer.address), w3.eth.block_number
    again = price_once(fresh, db)  # in the same deviation windows: nothing more to send
    assert [e["event"] for e in again.events if e["event"] != "waiting"] == ["resume"]
    assert (w3.eth.get_transaction_count(pricer.address), w3.eth.block_number) == (nonce, block)
    assert again.rounds == reference.rounds

    fresh_db = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    with Indexer(fresh.rpc_url, fresh.deployment.manifest, fresh_db) as indexer:
        indexer.sync()
    priced = make_engine(db)
    assert dump(priced) == dump(fresh_db)
    priced.dispose()
    fresh_db.dispose()

    last = hub.functions.lastRound().call()
    bounds = OracleBounds(hub.functions.minPrice().call(), hub.functions.maxPrice().call(), 5_000, HOUR)
    time_travel(fresh.rpc_url, HOUR)  # a new window for every thread: each may move 50% either way
    now = w3.eth.get_block("latest")["timestamp"]
    for thread_id in (1, 2, 3):
        price = hub.functions.pricePoint(thread_id).call()[0]
        anchor = running_anchor(*hub.functions.priceWindow(thread_id).call(), now, bounds)
        assert anchor == 0
        for far, further in ((100 * price, 1), (bounds.min_price, -1)):
            allowed = next_price(price, far, bounds, anchor)
            assert allowed is not None and allowed != price
            hub.functions.updatePrices([thread_id], [allowed], last + 1).call({"from": pricer.address})
            with pytest.raises(ContractLogicError):
                hub.functions.updatePrices([thread_id], [allowed + further], last + 1).call({"from": pricer.address})


def test_the_pricer_never_writes_the_index(fresh: World, tmp_path: Path) -> None:
    """Without an indexer the pricer reads an empty index: it waits for it (saying so once), sends nothing and
    writes no row; the indexer is the only writer (docs/architecture.md)."""
    db = f"sqlite:///{tmp_path / 'reader.db'}"
    w3, pricer = fresh.deployment.chain.w3, fresh.pricer
    nonce = w3.eth.get_transaction_count(pricer.address)
    events: list[dict[str, Any]] = []
    config = PricerConfig(retry=FAST.retry, poll_interval=0.01, index_wait=0.2)
    with Pricer(fresh.rpc_url, fresh.deployment.manifest, pricer, db, config=config, emit=events.append) as alone:
        alone.run(once=True)
    behind = [e for e in events if e.get("reason") == "index behind"]
    assert len(behind) == 1 and behind[0]["indexed"] == fresh.deployment.manifest.deploy_block - 1
    assert w3.eth.get_transaction_count(pricer.address) == nonce
    engine = make_engine(db)
    assert {table: rows for table, rows in dump(engine).items() if rows} == {}
    engine.dispose()


def test_bounds_moved_by_the_admin(fresh: World, tmp_path: Path) -> None:
    """A minimum price more than one step above a thread's price: no allowed price exists, the thread is
    reported stuck and nothing is sent; once the minimum is within a step, the thread moves to it."""
    db = f"sqlite:///{tmp_path / 'bounds.db'}"
    price_once(fresh, db)
    hub, admin, send = fresh.deployment.hub, fresh.accounts[0], QuickSender(fresh.deployment.chain)
    prices = {t: hub.functions.pricePoint(t).call()[0] for t in (1, 2, 3)}
    assert max(prices.values()) < 40 * CHOIR
    send(hub.functions.setFallbackPrice(100 * CHOIR), admin)
    send(hub.functions.setPriceBounds(100 * CHOIR, 1_000_000 * CHOIR), admin)
    last = hub.functions.lastRound().call()
    stuck = price_once(fresh, db)
    assert next(e for e in stuck.events if e["event"] == "stuck")["threads"] == [1, 2, 3]
    assert hub.functions.lastRound().call() == last

    floor = min(prices.values()) * 5 // 4  # within one step of every thread's price
    send(hub.functions.setPriceBounds(floor, 1_000_000 * CHOIR), admin)
    time_travel(fresh.rpc_url, HOUR)  # ... once their deviation windows are over
    moved = price_once(fresh, db)
    rounds = [e for e in moved.events if e["event"] == "round"]
    assert len(rounds) == 1 and rounds[0]["threads"] == [1, 2, 3]
    assert {t: hub.functions.pricePoint(t).call()[0] for t in (1, 2, 3)} == {t: floor for t in (1, 2, 3)}
    assert pricer_statuses(fresh) == [1] * hub.functions.lastRound().call()


# ------------------------------------------------------------------------------------------------------------
# The command line
# ------------------------------------------------------------------------------------------------------------


def _args(world: World, tmp_path: Path, *extra: str) -> list[str]:
    manifest = world.deployment.manifest.write(tmp_path / "deployments")
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    return ["pricer", "--rpc", world.rpc_url, "--manifest", str(manifest), "--db", db, *extra]


def test_cli_prints_one_json_line_per_round(fresh: World, reference: Outcome, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, _args(fresh, tmp_path, "--once"), env={"CHOIR_PRICER_KEY": ""})
    assert result.exit_code == 0, result.output + result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    rounds = [line for line in lines if line["event"] == "round"]
    assert [r["round"] for r in rounds] == sorted(reference.rounds)
    for line in rounds:
        assert {
            "round",
            "trigger_block",
            "threads",
            "prices",
            "tx",
            "block",
            "gas",
            "latency_ms",
        } <= line.keys()
        assert line["gas"] > 0 and line["block"] > line["trigger_block"]
        assert [int(p) for p in line["prices"]] == reference.rounds[line["round"]][1]
    assert f"pricer stopped at round {len(reference.rounds)}" in result.stderr


def test_cli_follows_until_ctrl_c(fresh: World, reference: Outcome, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CHOIR_PRICER_KEY"}
    command = [sys.executable, "-m", "choir_chain.cli", *_args(fresh, tmp_path, "--poll-interval", "0.02")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        rounds = 0
        while rounds < len(reference.rounds):  # one JSON line per event, flushed as it happens
            line = process.stdout.readline()
            assert line, "the pricer stopped on its own"
            rounds += json.loads(line)["event"] == "round"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert f"pricer stopped at round {len(reference.rounds)}" in err and "Traceback" not in err
    assert fresh.deployment.hub.functions.lastRound().call() == len(reference.rounds)


def test_the_key_comes_from_the_environment(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    own = Account.create()
    monkeypatch.setenv("MY_KEY", "0x" + bytes(own.key).hex())
    assert load_account("MY_KEY", 11155111).address == own.address
    monkeypatch.setenv("MY_KEY", "0x" + bytes(world.pricer.key).hex())
    assert load_account("MY_KEY", 31337).address == world.pricer.address
    with pytest.raises(PricerError, match="development mnemonic"):  # anyone can sign for it
        load_account("MY_KEY", 11155111)
    monkeypatch.delenv("MY_KEY")
    assert load_account("MY_KEY", 31337).address == world.pricer.address  # devnet: development account 1
    with pytest.raises(PricerError, match="no pricer key: set MY_KEY"):
        load_account("MY_KEY", 11155111)


@pytest.mark.parametrize(
    ("extra", "env", "message"),
    [
        ([], {"CHOIR_PRICER_KEY": "0x" + "11" * 32}, "lacks PRICER_ROLE"),
        ([], {"CHOIR_PRICER_KEY": "not a key"}, "CHOIR_PRICER_KEY does not hold a valid private key"),
        (["--manifest", "{tmp}/missing.json"], {}, "missing.json"),
        (["--rpc", ""], {}, "no node URL"),
        (["--rpc", "http://127.0.0.1:9"], {}, "cannot reach the node"),
    ],
)
def test_cli_errors_are_one_line(
    fresh: World, tmp_path: Path, extra: list[str], env: dict[str, str], message: str
) -> None:
    args = [a.format(tmp=tmp_path) for a in _args(fresh, tmp_path, "--once", *extra)]
    result = CliRunner().invoke(app, args, env={"CHOIR_PRICER_KEY": "", **env})
    assert result.exit_code == 1, result.output + result.stderr
    assert result.stderr.startswith("error:"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert "11" * 32 not in result.stderr


def test_cli_needs_a_key_off_the_devnet(fresh: World, tmp_path: Path) -> None:
    manifest = fresh.deployment.manifest.model_copy(update={"chain_id": 11155111})
    path = manifest.write(tmp_path / "deployments")
    args = ["pricer", "--rpc", fresh.rpc_url, "--manifest", str(path), "--once"]
    result = CliRunner().invoke(app, args, env={"CHOIR_PRICER_KEY": ""})
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: no pricer key: set CHOIR_PRICER_KEY to the pricer's private key (hex), or pass --account with an "
        "Ape keystore account"
    )


# ------------------------------------------------------------------------------------------------------------
# Rewards
# ------------------------------------------------------------------------------------------------------------


def approved_by_epoch(world: World) -> dict[int, list[int]]:
    """epoch -> global ids of the workload's specs whose approval became certain in it (from the chain)."""
    deployment = world.deployment
    distributor = deployment.distributor
    assert distributor is not None
    launch = distributor.functions.launchTime().call()
    out: dict[int, list[int]] = {}
    for thread_id in range(1, deployment.hub.functions.threadCount().call() + 1):
        thread = deployment.thread(thread_id)
        for index in range(1, thread.functions.messageCount().call()):
            certain = thread.functions.approvalCertainAt(index).call()
            if certain:
                out.setdefault((certain - launch) // DAY, []).append(gid(thread_id, index))
    return out


def test_the_pricer_allocates_a_closed_epoch_once_pro_rata(fresh: World, tmp_path: Path) -> None:
    """The oracle (the pricer's account) scored the approvals of a closed epoch; the pricer pays them that epoch's
    budget pro rata by their on-chain weights, exactly once: a second run (a restart) sends nothing more. Nothing
    was minted at settlement, and the unscored approvals of other epochs get nothing."""
    distributor = fresh.deployment.distributor
    assert distributor is not None
    token = fresh.deployment.token
    epochs = approved_by_epoch(fresh)
    epoch, ids = max(epochs.items(), key=lambda item: (len(item[1]), -item[0]))
    assert len(ids) >= 2 and epoch < distributor.functions.currentEpoch().call()
    assert token.functions.totalSupply().call() == token.functions.GENESIS_SUPPLY().call()  # settle minted nothing
    similarities = [int(0.8 * 10**18)] + [int(0.9 * 10**18)] * (len(ids) - 1)
    send = QuickSender(fresh.deployment.chain)
    send(distributor.functions.setNoveltyScores(1, "all-MiniLM-L6-v2", 0, ids, similarities), fresh.pricer)
    result = price_once(fresh, f"sqlite:///{tmp_path / 'alloc.db'}")
    allocations = [e for e in result.events if e["event"] == "allocation"]
    assert [e["epoch"] for e in allocations] == [epoch]
    budget = distributor.functions.epochBudget(epoch).call()
    weights = {m: distributor.functions.scoreOf(m).call()[0] for m in ids}
    expected = {m: budget * w // sum(weights.values()) for m, w in weights.items()}
    assert [int(m) for m in allocations[0]["messages"]] == sorted(ids)
    assert [int(a) for a in allocations[0]["amounts"]] == [expected[m] for m in sorted(ids)]
    assert expected[ids[0]] > 8 * expected[ids[1]]  # ten times the weight (0.8 against 0.9)
    assert distributor.functions.allocated(epoch).call() == sum(expected.values()) <= budget
    assert token.functions.totalSupply().call() - token.functions.GENESIS_SUPPLY().call() == sum(expected.values())
    assert all(distributor.functions.isPaid(m).call() for m in ids)
    assert result.rounds == outcome(fresh).rounds  # the price rounds went on as usual
    again = price_once(fresh, f"sqlite:///{tmp_path / 'alloc.db'}")
    assert not [e for e in again.events if e["event"] == "allocation"]
    fresh_db = price_once(fresh, f"sqlite:///{tmp_path / 'other.db'}")  # a restart from an empty database
    assert not [e for e in fresh_db.events if e["event"] in ("allocation", "allocation_failed")]


def test_an_allocation_a_reorg_dropped_is_sent_again(fresh: World, tmp_path: Path) -> None:
    """The allocation of a closed epoch (and the price rounds) are mined, then a reorg replaces their blocks: the
    same pricer process allocates the epoch again on the new chain, once."""
    distributor = fresh.deployment.distributor
    assert distributor is not None
    url = fresh.rpc_url
    epoch, ids = max(approved_by_epoch(fresh).items(), key=lambda item: (len(item[1]), -item[0]))
    scores = distributor.functions.setNoveltyScores(1, "all-MiniLM-L6-v2", 0, ids, [int(0.8 * 10**18)] * len(ids))
    QuickSender(fresh.deployment.chain)(scores, fresh.pricer)
    db = f"sqlite:///{tmp_path / 'realloc.db'}"
    events: list[dict[str, Any]] = []
    with (
        indexing(url, fresh.deployment.manifest, db),
        Pricer(url, fresh.deployment.manifest, fresh.pricer, db, config=FAST, emit=events.append) as pricer,
    ):
        snapshot = rpc_call(url, "evm_snapshot")
        pricer.run(once=True)
        assert [e["epoch"] for e in events if e["event"] == "allocation"] == [epoch]
        replaced = int(str(rpc_call(url, "eth_blockNumber")), 16)
        assert rpc_call(url, "evm_revert", [snapshot]) is True
        assert distributor.functions.allocated(epoch).call() == 0
        base = int(str(rpc_call(url, "eth_blockNumber")), 16)
        rpc_call(url, "anvil_mine", [hex(replaced - base + 1)])  # a longer chain without the pricer's blocks
        pricer.sync()
        del events[:]
        pricer.run(once=True)
    assert [e["event"] for e in events if e["event"] == "reorg"] == ["reorg"]
    assert [e["epoch"] for e in events if e["event"] == "allocation"] == [epoch]
    assert distributor.functions.allocated(epoch).call() > 0
    assert all(distributor.functions.isPaid(m).call() for m in ids)
    again = price_once(fresh, f"sqlite:///{tmp_path / 'again.db'}")
    assert not [e for e in again.events if e["event"] in ("allocation", "allocation_failed")]
