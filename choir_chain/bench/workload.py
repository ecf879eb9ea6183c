"""A busy community on a devnet, for the indexer benchmark: thousands of protocol events in a few minutes.

Rounds of four phases, each phase one block (anvil's clock moves one second a block, so a co-author who
joined in one round votes on every spec of the next):

1. every thread's co-author posts (citing earlier messages of its own and other threads) and one outsider per
   thread approves exactly the thread's price and submits a spec;
2. every co-author votes on the spec, approving with probability `approve_probability`;
3. every spec is settled: approved (all approved: the author joins), denied or split;
4. the deniers claim their curator rewards and the pricer pushes one round of QAHO prices for every thread
   (`choir_chain.pricing` on the workload's own tally, stepped as the pricer service steps them, within each
   thread's deviation window).

Every message declares an author kind (protocol section 7): a fixed, mostly human mix (`author_kind`), derived from the
message's label rather than the random generator, so the workload's other choices do not depend on it.

Rounds repeat until the workload has produced at least `target_events` events. Every transaction's receipt is
checked (`BatchSender.mine`), so the count is of events that are on the chain.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract

from choir_chain import artifacts
from choir_chain.bench.batch import BatchSender, Tx
from choir_chain.chain.events import EventType
from choir_chain.deploy import CHOIR, Deployment, HubParameters
from choir_chain.pricer.compute import OracleBounds, next_price, running_anchor
from choir_chain.pricing import refusal_ratio, thread_prices_wei
from choir_chain.protocol import message_id
from choir_chain.protocol.author_kind import AuthorKind

GAS = {
    "createThread": 400_000,
    "transfer": 100_000,
    "post": 200_000,
    "approve": 100_000,
    "submitSpec": 400_000,
    "vote": 200_000,
    "settle": 400_000,
    "claimCuratorRewards": 200_000,
    "updatePrices": 30_000_000,
}
"""Gas limits: generous (blocks are large), explicit so nothing is estimated against a state not yet mined."""

HUB = HubParameters()
BOUNDS = OracleBounds(HUB.min_price, HUB.max_price, HUB.max_deviation_bps, HUB.deviation_window)
FUNDS = 1_000_000 * CHOIR


def address(label: str) -> str:
    """A deterministic address nobody holds a key for (anvil impersonates it)."""
    return Web3.to_checksum_address(keccak(text=f"choir bench account {label}")[12:])


def content(label: str) -> str:
    return "0x" + keccak(text=f"choir bench message {label}").hex()


def author_kind(label: str) -> AuthorKind:
    """The declared author kind of message `label`: 70% human, 20% AI on a person's prompt, 10% AI, fixed per
    label (a hash, not a random draw)."""
    bucket = keccak(text=f"choir bench author kind {label}")[0] % 10
    return AuthorKind.HUMAN if bucket < 7 else AuthorKind.AI_PROMPTED if bucket < 9 else AuthorKind.AI


@cache
def thread_created() -> EventType:
    return EventType.named(artifacts.load("ChoirHub").abi, "ThreadCreated")


@cache
def spec_submitted() -> EventType:
    return EventType.named(artifacts.load("ThreadDAO").abi, "SpecSubmitted")


def spec_id_from_receipt(receipt: dict[str, Any]) -> int:
    """The spec id from a submitSpec receipt's `SpecSubmitted` log."""
    found = spec_submitted().args_of(receipt["logs"])
    if not found:
        raise RuntimeError(f"no SpecSubmitted log in transaction {receipt['transactionHash']}")
    return int(found[0]["specId"])


def thread_from_receipt(receipt: dict[str, Any]) -> tuple[int, str]:
    """(thread id, clone address) from a createThread receipt's `ThreadCreated` log."""
    (args,) = thread_created().args_of(receipt["logs"])
    return int(args["threadId"]), str(args["thread"])


@dataclass
class ThreadTally:
    """What the workload knows of one thread."""

    thread_id: int
    address: str
    coauthors: list[str]
    messages: int = 1
    price: int | None = None
    refusals: list[float] = field(default_factory=list)
    approvals: int = 0
    cited: int = 0


@dataclass
class WorkloadResult:
    events: int
    transactions: int
    rounds: int
    first_block: int
    last_block: int
    threads: int
    messages: int
    specs: int
    votes: int
    claims: int


class CommunityWorkload:
    """Generates the workload on a deployed devnet through `sender` (see the module docstring)."""

    def __init__(
        self,
        deployment: Deployment,
        sender: BatchSender,
        *,
        pricer: str,
        threads: int = 100,
        stakers: int = 150,
        posts_per_round: int = 2,
        approve_probability: float = 0.75,
        seed: int = 7,
    ) -> None:
        self.deployment = deployment
        self.sender = sender
        self.pricer = pricer
        self.hub = deployment.hub
        self.token = deployment.token
        self.thread_abi: type[Contract] = deployment.chain.w3.eth.contract(abi=artifacts.load("ThreadDAO").abi)
        self.creators = [address(f"creator {i}") for i in range(threads)]
        self.stakers = [address(f"staker {i}") for i in range(stakers)]
        self.posts_per_round = posts_per_round
        self.approve_probability = approve_probability
        self.rng = random.Random(seed)
        self.threads: list[ThreadTally] = []
        self.events = 0
        self.votes = 0
        self.claims = 0
        self.specs = 0
        self._next_staker = 0

    # -- phases ---------------------------------------------------------------------------------------------

    def setup(self, funder: str) -> int:
        """Fund everyone, create the threads; returns the first block of the workload."""
        first = int(self.sender.call("eth_blockNumber"), 16) + 1
        self.sender.prepare([*self.creators, *self.stakers])
        token = self.token.address
        self.sender.send(
            [
                Tx(funder, token, self.token.encode_abi("transfer", args=[a, FUNDS]), GAS["transfer"], "fund")
                for a in self.stakers
            ]
        )
        self.sender.send(
            [
                Tx(
                    c,
                    self.hub.address,
                    self.hub.encode_abi("createThread", args=[content(f"root {i}"), author_kind(f"root {i}")]),
                    GAS["createThread"],
                    f"createThread {i}",
                )
                for i, c in enumerate(self.creators)
            ]
        )
        receipts = self.sender.mine()[len(self.stakers) :]
        # Transactions of different senders are mined in no particular order: read each thread's id from its
        # ThreadCreated log.
        for receipt, creator in zip(receipts, self.creators, strict=True):
            thread_id, where = thread_from_receipt(receipt)
            self.threads.append(ThreadTally(thread_id, where, [creator]))
        self.threads.sort(key=lambda t: t.thread_id)
        self.events += 3 * len(self.creators)  # ThreadCreated, CoauthorJoined, MessagePosted (root)
        return first

    def round(self, number: int) -> None:
        stakers = self._posts_and_specs(number)
        receipts = self.sender.mine()
        specs = {thread_id: (staker, spec_id_from_receipt(receipts[i])) for thread_id, (staker, i) in stakers.items()}
        ballots = self._votes(specs)
        self.sender.mine()
        self._settle(specs, ballots)
        self.sender.mine()
        self._claims_and_prices(specs, ballots, number)
        self.sender.mine()

    def _thread_call(self, t: ThreadTally, sender: str, fn: str, args: list[object], label: str) -> Tx:
        return Tx(sender, t.address, self.thread_abi.encode_abi(fn, args=args), GAS[fn], f"{label} {fn}")

    def _posts_and_specs(self, number: int) -> dict[int, tuple[str, int]]:
        """Queue the posts and specs; thread id -> (staker, position of its submitSpec in the batch).

        Transactions of different senders in one block run in no particular order, so a spec's id (its message
        index) is read from its receipt, and citations name only messages that existed before this block.
        """
        txs: list[Tx] = []
        specs: dict[int, tuple[str, int]] = {}
        for t in self.threads:
            existing = t.messages
            for p in range(self.posts_per_round):
                author = self.rng.choice(t.coauthors)
                citations = self._citations(t, existing)
                label = f"round {number} thread {t.thread_id} post {p}"
                txs.append(self._thread_call(t, author, "post", [content(label), citations, author_kind(label)], label))
                t.messages += 1
                self.events += 1
            staker = self._pick_staker(t)
            stake = t.price or HUB.fallback_price
            label = f"round {number} thread {t.thread_id} spec"
            txs.append(
                Tx(
                    staker,
                    self.token.address,
                    self.token.encode_abi("approve", args=[t.address, stake]),
                    GAS["approve"],
                    f"{label} approve",
                )
            )
            txs.append(
                self._thread_call(t, staker, "submitSpec", [content(label), [], stake, author_kind(label)], label)
            )
            specs[t.thread_id] = (staker, len(txs) - 1)
            t.messages += 1
            self.events += 1
            self.specs += 1
        self.sender.send(txs)
        return specs

    def _citations(self, t: ThreadTally, existing: int) -> list[int]:
        """Zero to two citations: one of the first `existing` messages of this thread, the root of another."""
        cited: list[int] = []
        if self.rng.random() < 0.5:
            cited.append(message_id(t.thread_id, self.rng.randrange(existing)))
        if self.rng.random() < 0.5:
            other = self.rng.choice(self.threads)
            if other is not t:
                cited.append(message_id(other.thread_id, 0))
                other.cited += 1
        return cited

    def _pick_staker(self, t: ThreadTally) -> str:
        members = set(t.coauthors)
        for _ in range(len(self.stakers)):
            staker = self.stakers[self._next_staker % len(self.stakers)]
            self._next_staker += 1
            if staker not in members:
                return staker
        raise RuntimeError(f"every staker is a co-author of thread {t.thread_id}: use more stakers")

    def _votes(self, specs: dict[int, tuple[str, int]]) -> dict[int, list[tuple[str, bool]]]:
        txs: list[Tx] = []
        ballots: dict[int, list[tuple[str, bool]]] = {}
        for t in self.threads:
            _staker, spec_id = specs[t.thread_id]
            cast = [(voter, self.rng.random() < self.approve_probability) for voter in t.coauthors]
            ballots[t.thread_id] = cast
            for voter, approve in cast:
                label = f"thread {t.thread_id} spec {spec_id}"
                txs.append(self._thread_call(t, voter, "vote", [spec_id, approve], label))
            self.events += len(cast)
            self.votes += len(cast)
        self.sender.send(txs)
        return ballots

    def _settle(self, specs: dict[int, tuple[str, int]], ballots: dict[int, list[tuple[str, bool]]]) -> None:
        txs: list[Tx] = []
        for t in self.threads:
            staker, spec_id = specs[t.thread_id]
            txs.append(self._thread_call(t, staker, "settle", [spec_id], f"thread {t.thread_id} spec {spec_id}"))
            approvals = sum(1 for _, approve in ballots[t.thread_id] if approve)
            deniers = len(ballots[t.thread_id]) - approvals
            self.events += 1  # SpecSettled
            t.refusals.append(deniers / (approvals + deniers))
            if deniers == 0:
                t.coauthors.append(staker)
                t.approvals += 1
                self.events += 1  # CoauthorJoined
        self.sender.send(txs)

    def _claims_and_prices(
        self, specs: dict[int, tuple[str, int]], ballots: dict[int, list[tuple[str, bool]]], number: int
    ) -> None:
        txs: list[Tx] = []
        for t in self.threads:
            _staker, spec_id = specs[t.thread_id]
            for voter, approve in ballots[t.thread_id]:
                if not approve:
                    label = f"thread {t.thread_id} spec {spec_id}"
                    txs.append(self._thread_call(t, voter, "claimCuratorRewards", [[spec_id]], label))
                    self.events += 1
                    self.claims += 1
        ids, prices = self._prices()
        data = self.hub.encode_abi("updatePrices", args=[ids, prices, number])
        txs.append(Tx(self.pricer, self.hub.address, data, GAS["updatePrices"], f"round {number} prices"))
        self.events += 1
        self.sender.send(txs)

    def _prices(self) -> tuple[list[int], list[int]]:
        refusal = [refusal_ratio(t.refusals) for t in self.threads]
        model = thread_prices_wei(
            [t.approvals for t in self.threads],
            refusal,
            [t.cited for t in self.threads],
            [len(t.coauthors) for t in self.threads],
        )
        ids, prices = [], []
        now = int(self.hub.w3.eth.get_block("latest")["timestamp"])  # the round lands later: a lower bound
        for t, target in zip(self.threads, model, strict=True):
            # Rounds come seconds apart: the hub's deviation window (protocol section 6, r2) holds each move.
            window_anchor, window_start = self.hub.functions.priceWindow(t.thread_id).call()
            anchor = running_anchor(int(window_anchor), int(window_start), now, BOUNDS)
            step = next_price(t.price or 0, min(max(target, BOUNDS.min_price), BOUNDS.max_price), BOUNDS, anchor)
            assert step is not None  # the bounds never change during the workload
            t.price = step
            ids.append(t.thread_id)
            prices.append(t.price)
        return ids, prices

    # -- driver ---------------------------------------------------------------------------------------------

    def run(self, funder: str, target_events: int) -> WorkloadResult:
        first = self.setup(funder)
        rounds = 0
        while self.events < target_events:
            rounds += 1
            self.round(rounds)
        return WorkloadResult(
            events=self.events,
            transactions=self.sender.sent_total,
            rounds=rounds,
            first_block=first,
            last_block=int(self.sender.call("eth_blockNumber"), 16),
            threads=len(self.threads),
            messages=sum(t.messages for t in self.threads),
            specs=self.specs,
            votes=self.votes,
            claims=self.claims,
        )
