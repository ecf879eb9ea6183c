"""The pricer tests' workload: one scripted sequence of threads, specs, votes, settlements, citations and exits
on a devnet, and what the tests expect of it, computed from what the script did (not from any database).

Thread 3 gets seven approvals settled in ONE block (a price jump of more than 3x); eight days later every approval
has left the activity window. `World` holds the devnet, the deployment and an anvil snapshot taken after the
workload, which each test reverts to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from web3.contract.contract import ContractFunction
from web3.types import TxParams

from choir_chain.chain import Chain
from choir_chain.deploy import CHOIR, DAY, Deployment
from choir_chain.devnet import Devnet, rpc_call
from choir_chain.pricing import thread_price_wei
from choir_chain.protocol.author_kind import AuthorKind
from helpers.world import content, gid, time_travel

WEEK = 7 * DAY
STAKE = 200 * CHOIR


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


def timestamp(chain: Chain, block: int) -> int:
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
            e.approvals.setdefault(thread_id, []).append(timestamp(chain, block))
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
    before = e.price(3, timestamp(chain, chain.w3.eth.block_number))
    block = _in_one_block(chain, [t3.functions.settle(spec) for spec in specs], admin)
    send.nonces.pop(admin.address)
    for _ in specs:
        _settled(3, block, [1, 0])
    e.citations[2] += 1
    e.citations[1] = 1
    e.coauthors[3].update(u.address for u in joiners)
    jump_target = e.price(3, timestamp(chain, block))

    block = send(t1.functions.post(content("alice cites 3"), [gid(3, 0)], AuthorKind.HUMAN), alice)
    # thread 1 cited thread 3 before (u0's approved spec): c counts distinct citing threads (protocol 7, r2)
    top = e.price(3, timestamp(chain, block))

    time_travel(devnet.rpc_url, DAY + 2)
    send(t1.functions.exit(), users[0])
    e.coauthors[1].discard(users[0].address)

    # Eight days later every approval has left the activity window; the next settlement reprices them.
    time_travel(devnet.rpc_url, 8 * DAY)
    spec = submit(2, users[11], "u11 denied by both", [])
    send(t2.functions.vote(spec, False), bob)
    send(t2.functions.vote(spec, False), users[2])
    final = settle(2, spec, [0, 2])
    final_time = timestamp(chain, final)
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
