"""A devnet for the adversarial strategies (`simulation.adversary_devnet`): the real contracts on anvil, a clock
moved by hand, throw-away keys, and the pricer's two jobs done with its own account (novelty scores through
`setNoveltyScores`, each closed epoch's allocation through `allocate`, computed by `pricer.allocation`).

Every protocol step goes through the scenario helper (`choir_chain.scenario`, docs/architecture.md "Scenarios"),
like the other drivers': `Community` builds it as an unsigned transaction from an account anvil impersonates (a run
sends thousands, and signing and web3's per-transaction requests cost more than the chain itself), and
`BatchSender`, with automine on, sends it and checks its receipt (a revert raises `BatchError` with its custom
error decoded). Each transaction is a batch of one, mined in its own block before the next is sent (a spec is two:
its approval, then `submitSpec`; a donation too: the transfer, then `absorbDonations`). What is the adversarial
run's own stays here: the clock, snapshots of the chain and of this object's records, throw-away keys, the novelty
rounds and the pricer's allocation, and the reads (through the pricer's light JSON-RPC client: a run makes
thousands). Times are set explicitly (`at`): anvil gives consecutive blocks the same second unless told
otherwise, and the thread's rules read "one second before" (a spec's snapshot, a proposal's), so every step that
depends on an earlier one is placed at a later second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.contract import Contract

from choir_chain import artifacts
from choir_chain.chain import Chain
from choir_chain.chain.rpc import RpcClient
from choir_chain.deploy import Deployment
from choir_chain.pricer.allocation import Allocation, Candidate, certain_times, compute_allocation
from choir_chain.pricer.client import Contract as PricerContract
from choir_chain.protocol import AuthorKind, split_message_id
from choir_chain.protocol import message_id as global_message_id
from choir_chain.protocol.governance import FOR, Proposal
from choir_chain.scenario.batch import BatchSender, Tx
from choir_chain.scenario.community import Community
from choir_chain.scenario.receipts import events
from choir_chain.semantics.calibration import CALIBRATION_VERSION

MODEL_ID = "all-MiniLM-L6-v2"
HUMAN = AuthorKind.HUMAN
GAS_ETHER = 1_000
"""Ether given to each throw-away key for gas."""


@dataclass
class Spec:
    """A submitted spec, as the world tracks it for scoring and allocation."""

    thread_id: int
    spec_id: int
    author: str
    similarity: int
    """The calibrated WAD similarity the pricer sends for it (WAD: withheld, weight 0)."""

    @property
    def message_id(self) -> int:
        return global_message_id(self.thread_id, self.spec_id)


@dataclass
class Paid:
    """One epoch's allocation as sent: the budget and what each message and thread received."""

    epoch: int
    budget: int
    amounts: dict[int, int]
    """message id -> amount of the budget allocated to it."""
    to_threads: dict[int, int] = field(default_factory=dict)
    """thread id -> CHOIR minted into it (a message's own part and citation shares)."""
    citations: int = 0
    """The part of `amounts` paid as citation shares to cited threads."""


@dataclass
class World:
    """The deployed contracts on a running devnet, with the admin (genesis holder) and the pricer's keys."""

    rpc_url: str
    deployment: Deployment
    admin: LocalAccount
    pricer: LocalAccount
    keys_made: int = 0
    specs: list[Spec] = field(default_factory=list)
    scored: set[int] = field(default_factory=set)
    certain: dict[int, int] = field(default_factory=dict)
    paid: list[Paid] = field(default_factory=list)
    _snapshot: str = ""
    _saved: tuple[int, list[Spec], set[int], dict[int, int], dict[int, str]] = (0, [], set(), {}, {})
    _threads: dict[int, Contract] = field(default_factory=dict)
    _light: dict[str, PricerContract] = field(default_factory=dict)
    rpc: RpcClient = field(init=False)
    """Reads and the clock."""
    sender: BatchSender = field(init=False)
    community: Community = field(init=False)
    """The protocol steps (`choir_chain.scenario`); it knows every thread created through `create_thread`."""

    def __post_init__(self) -> None:
        self.rpc = RpcClient(self.rpc_url)
        self.sender = BatchSender(self.rpc_url)
        self.sender.prepare([], automine=True)
        self.community = Community(self.deployment, self.sender)

    # --- chain plumbing -------------------------------------------------------------------------------------

    @property
    def chain(self) -> Chain:
        return self.deployment.chain

    @property
    def token(self) -> Contract:
        return self.deployment.token

    @property
    def hub(self) -> Contract:
        return self.deployment.hub

    @property
    def distributor(self) -> Contract:
        assert self.deployment.distributor is not None, "deployed without rewards"
        return self.deployment.distributor

    def contract(self, contract: Contract) -> PricerContract:
        """A light reader/encoder of `contract` (the pricer's JSON-RPC client: a run makes thousands of calls)."""
        if contract.address not in self._light:
            self._light[contract.address] = PricerContract(
                self.rpc, contract.address, cast(list[dict[str, Any]], contract.abi)
            )
        return self._light[contract.address]

    def read(self, contract: Contract, name: str, *args: Any) -> Any:
        """The first result of view `name` of `contract`."""
        return self.contract(contract).call(name, *args)[0]

    def run(self, *txs: Tx) -> list[dict[str, Any]]:
        """Send `txs` (steps of `community`) one at a time, each a batch of one mined in its own block before the
        next is sent (anvil's automine could put two sent together in one block); their receipts. A revert raises
        `BatchError` with its custom error decoded."""
        return [receipt for tx in txs for receipt in self.community.run([tx])]

    def now(self) -> int:
        return int(self.rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def at(self, timestamp: int) -> None:
        """Mine an empty block at `timestamp`, or a second after the head if that is later (steps only need their
        order; the runner checks that a day's steps stay inside their epoch). The transactions that follow are
        mined in that second or later."""
        self.rpc.call("evm_setNextBlockTimestamp", [max(timestamp, self.now() + 1)])
        self.rpc.call("evm_mine", [])

    def epoch_start(self, epoch: int) -> int:
        return int(self.read(self.distributor, "epochStart", epoch))

    def snapshot(self) -> None:
        self._snapshot = self.sender.snapshot()
        threads = dict(self.community.threads)
        self._saved = (self.keys_made, list(self.specs), set(self.scored), dict(self.certain), threads)

    def revert(self) -> None:
        """Back to the last `snapshot` (the chain, the sender's nonces and this object's records), and take it
        again."""
        self.sender.revert(self._snapshot)
        keys, specs, scored, certain, threads = self._saved
        self.keys_made, self.specs, self.scored, self.certain, self.paid = keys, list(specs), set(scored), {}, []
        self.certain.update(certain)
        self.community.threads = dict(threads)
        self._snapshot = self.sender.snapshot()

    # --- accounts and threads -------------------------------------------------------------------------------

    def key(self, choir: int = 0) -> LocalAccount:
        """A fresh key (deterministic: the n-th key of every run is the same) with gas and `choir` CHOIR."""
        self.keys_made += 1
        account: LocalAccount = Account.from_key(keccak(text=f"choir adversarial devnet key {self.keys_made}"))
        self.sender.fund([account.address], GAS_ETHER)
        if choir:
            self.transfer(self.admin, account.address, choir)
        return account

    def transfer(self, sender: LocalAccount, to: str, amount: int) -> None:
        """`amount` of `sender`'s CHOIR to `to`."""
        self.run(self.community.transfer(sender.address, to, amount))

    def balance(self, address: str) -> int:
        return int(self.read(self.token, "balanceOf", address))

    def thread(self, thread_id: int) -> Contract:
        if thread_id not in self._threads:
            self._threads[thread_id] = self.deployment.thread(thread_id)
        return self._threads[thread_id]

    def create_thread(self, creator: LocalAccount, title: str) -> int:
        (receipt,) = self.run(self.community.create_thread(creator.address, keccak(text=title), HUMAN, title))
        return self.community.created_thread(receipt)

    def price(self, thread_id: int) -> int:
        return int(self.read(self.hub, "price", thread_id))

    def donate(self, thread_id: int, donor: LocalAccount, amount: int) -> None:
        """`amount` of `donor`'s CHOIR into the thread's treasury (a transfer, then `absorbDonations`)."""
        self.run(*self.community.donate(thread_id, donor.address, amount))

    def submit(
        self,
        thread_id: int,
        author: LocalAccount,
        similarity: int,
        stake: int = 0,
        citations: tuple[int, ...] = (),
    ) -> Spec:
        """`author` stakes `stake` (the thread's price if 0) on a spec; the pricer will score it `similarity`."""
        stake = stake or self.price(thread_id)
        body = keccak(text=f"spec {len(self.specs)} by {author.address}")
        steps = self.community.stake_spec(thread_id, author.address, body, citations, stake, HUMAN)
        submitted = self.run(*steps)[1]
        spec = Spec(thread_id, self.community.spec_id(submitted), author.address, similarity)
        self.specs.append(spec)
        return spec

    def vote(self, spec: Spec, voter: LocalAccount, approve: bool = True) -> None:
        self.run(self.community.vote(spec.thread_id, voter.address, spec.spec_id, approve))

    def settle(self, spec: Spec, by: LocalAccount) -> None:
        self.run(self.community.settle(spec.thread_id, by.address, spec.spec_id))

    def exit(self, thread_id: int, member: LocalAccount) -> None:
        self.run(self.community.exit(thread_id, member.address))

    def claim(self, thread_id: int, address: str) -> int:
        """What `address`'s equity in the thread would pay on exit now: treasury * shares // totalShares."""
        thread = self.thread(thread_id)
        total = int(self.read(thread, "totalShares"))
        if total == 0:
            return 0
        return int(self.read(thread, "treasury")) * int(self.read(thread, "sharesOf", address)) // total

    def value(self, addresses: list[str], thread_ids: list[int]) -> int:
        """CHOIR held by `addresses`, plus what their equity in `thread_ids` would pay on exit."""
        held = sum(self.balance(a) for a in addresses)
        return held + sum(self.claim(t, a) for t in thread_ids for a in addresses)

    # --- the pricer's work ----------------------------------------------------------------------------------

    def score_pending(self) -> None:
        """One novelty round for every tracked spec not scored yet, with the similarity given at submission."""
        todo = [s for s in self.specs if s.message_id not in self.scored]
        if not todo:
            return
        round_ = int(self.read(self.distributor, "lastNoveltyRound")) + 1
        ids, sims = [s.message_id for s in todo], [s.similarity for s in todo]
        self.run(self.community.novelty_scores(self.pricer.address, round_, MODEL_ID, CALIBRATION_VERSION, ids, sims))
        self.scored.update(ids)

    def weight(self, message_id: int) -> int:
        return int(self.read(self.distributor, "scoreOf", message_id))

    def budget(self, epoch: int) -> int:
        return int(self.read(self.distributor, "epochBudget", epoch))

    def fair_allocation(self, epoch: int) -> Allocation:
        """The pricer's own pro-rata split of closed epoch `epoch` (`pricer.allocation.compute_allocation`), over
        the specs this world submitted (the pricer reads the same candidates from its index)."""
        paid = {m for p in self.paid for m in p.amounts}
        candidates = [
            Candidate(s.message_id, self.thread(s.thread_id).address, s.spec_id, 0, 0)
            for s in self.specs
            if s.message_id not in paid
        ]
        certain = certain_times(self.rpc, candidates, self.certain)
        launch = int(self.read(self.distributor, "launchTime"))
        return compute_allocation(self.contract(self.distributor), epoch, launch, certain)

    def allocate(self, epoch: int, amounts: dict[int, int]) -> Paid:
        """Send `allocate(epoch, ...)` from the pricer's key; record what each message and thread received."""
        paid = Paid(epoch, self.budget(epoch), dict(amounts))
        if amounts:
            step = self.community.allocate(self.pricer.address, epoch, list(amounts), list(amounts.values()))
            (sent,) = self.run(step)
            for args in events(sent, self.distributor, "MessageRewarded"):
                thread_id = split_message_id(int(args["messageId"]))[0]
                paid.to_threads[thread_id] = paid.to_threads.get(thread_id, 0) + int(args["toThread"])
            for args in events(sent, self.distributor, "CitationRewarded"):
                thread_id = int(args["threadId"])
                paid.to_threads[thread_id] = paid.to_threads.get(thread_id, 0) + int(args["amount"])
                paid.citations += int(args["amount"])
        self.paid.append(paid)
        return paid

    # --- governance -----------------------------------------------------------------------------------------

    def governor(self, thread_id: int, creator: LocalAccount) -> Contract:
        """The thread's governor, created by co-author `creator` if it has none yet."""
        address = str(self.read(self.hub, "governorOf", thread_id))
        if int(address, 16) == 0:
            (receipt,) = self.run(self.community.create_governor(thread_id, creator.address))
            address = self.community.created_governor(receipt)
        return self.chain.contract(artifacts.load("ThreadGovernor"), address)

    def treasury_transfer(self, thread_id: int, to: str, amount: int, description: str) -> Proposal:
        """A proposal that the thread's treasury pays `amount` to `to`."""
        return self.community.treasury_transfer(thread_id, to, amount, description)

    def propose(self, governor: Contract, by: LocalAccount, proposal: Proposal) -> int:
        """Submit `proposal`; its id."""
        (receipt,) = self.run(self.community.propose(governor.address, by.address, proposal))
        return self.community.proposal_id(receipt)

    def cast_vote(self, governor: Contract, by: LocalAccount, proposal_id: int, support: int = FOR) -> None:
        self.run(self.community.cast_vote(governor.address, by.address, proposal_id, support))

    def queue(self, governor: Contract, by: LocalAccount, proposal: Proposal) -> None:
        self.run(self.community.queue(governor.address, by.address, proposal))

    def execute(self, governor: Contract, by: LocalAccount, proposal: Proposal) -> None:
        """Run the queued proposal (a call failing inside it leaves it failed for good: `executionFailed`)."""
        self.run(self.community.execute(governor.address, by.address, proposal))
