"""A devnet for the adversarial strategies (`simulation.adversary_devnet`): the real contracts on anvil, a clock
moved by hand, throw-away keys, and the pricer's two jobs done with its own account (novelty scores through
`setNoveltyScores`, each closed epoch's allocation through `allocate`, computed by `pricer.allocation`).

Transactions go out unsigned from any account (anvil impersonates them all: a run sends thousands, and signing and
web3's per-transaction requests cost more than the chain itself), through the pricer's light JSON-RPC client.
Small helpers of its own on purpose: the scenario drivers (`seed`, `bench.workload`, `simulation.chain_ledger`)
serve other purposes. Times are set explicitly (`at`): anvil gives consecutive blocks the same second unless told
otherwise, and the thread's rules read "one second before" (a spec's snapshot, a proposal's), so every step that
depends on an earlier one is placed at a later second.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.contract import Contract

from choir_chain import artifacts
from choir_chain.chain import Chain
from choir_chain.chain.client import RECEIPT_POLL_SECONDS
from choir_chain.chain.rpc import RpcClient, RpcError
from choir_chain.deploy import Deployment
from choir_chain.pricer.allocation import Allocation, Candidate, certain_times, compute_allocation
from choir_chain.pricer.client import Contract as PricerContract
from choir_chain.protocol import message_id as global_message_id
from choir_chain.protocol import split_message_id
from choir_chain.scenario.receipts import events
from choir_chain.semantics.calibration import CALIBRATION_VERSION

MODEL_ID = "all-MiniLM-L6-v2"
HUMAN = 0
GAS_ETHER = 10**21
"""Ether (wei) given to each throw-away key for gas."""
GAS_LIMIT = 12_000_000
"""Every transaction's gas limit: enough for the largest (an allocation of a few dozen messages)."""


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
    _saved: tuple[int, list[Spec], set[int], dict[int, int]] = (0, [], set(), {})
    _threads: dict[int, Contract] = field(default_factory=dict)
    _light: dict[str, PricerContract] = field(default_factory=dict)
    rpc: RpcClient = field(init=False)

    def __post_init__(self) -> None:
        self.rpc = RpcClient(self.rpc_url)
        self.rpc.call("anvil_autoImpersonateAccount", [True])

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

    def send(self, contract: Contract, name: str, args: Sequence[Any], sender: LocalAccount) -> dict[str, Any]:
        """Call `name(*args)` on `contract` from `sender` (anvil impersonates every account: nothing to sign) and
        wait for the receipt; a refusal is raised with its decoded custom error."""
        tx = {
            "from": sender.address,
            "to": contract.address,
            "data": "0x" + self.contract(contract).calldata(name, *args).hex(),
            "gas": hex(GAS_LIMIT),
        }
        tx_hash = self.rpc.call("eth_sendTransaction", [tx], retry_rpc_errors=False)
        receipt = None
        while receipt is None:
            receipt = self.rpc.call("eth_getTransactionReceipt", [tx_hash])
            if receipt is None:
                time.sleep(RECEIPT_POLL_SECONDS)
        if int(receipt["status"], 16) != 1:
            try:
                self.rpc.call(
                    "eth_call", [{k: v for k, v in tx.items() if k != "gas"}, "latest"], retry_rpc_errors=False
                )
            except RpcError as err:
                raise RuntimeError(f"{name} from {sender.address}: {err}") from err
            raise RuntimeError(f"{name} from {sender.address} reverted")
        return dict(receipt)

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
        self._snapshot = str(self.rpc.call("evm_snapshot", []))
        self._saved = (self.keys_made, list(self.specs), set(self.scored), dict(self.certain))

    def revert(self) -> None:
        """Back to the last `snapshot` (the chain and this object's records), and take it again."""
        assert self.rpc.call("evm_revert", [self._snapshot]) is True
        keys, specs, scored, certain = self._saved
        self.keys_made, self.specs, self.scored, self.certain, self.paid = keys, list(specs), set(scored), {}, []
        self.certain.update(certain)
        self._snapshot = str(self.rpc.call("evm_snapshot", []))

    # --- accounts and threads -------------------------------------------------------------------------------

    def key(self, choir: int = 0) -> LocalAccount:
        """A fresh key (deterministic: the n-th key of every run is the same) with gas and `choir` CHOIR."""
        self.keys_made += 1
        account: LocalAccount = Account.from_key(keccak(text=f"choir adversarial devnet key {self.keys_made}"))
        self.rpc.call("anvil_setBalance", [account.address, hex(GAS_ETHER)])
        if choir:
            self.send(self.token, "transfer", (account.address, choir), self.admin)
        return account

    def balance(self, address: str) -> int:
        return int(self.read(self.token, "balanceOf", address))

    def thread(self, thread_id: int) -> Contract:
        if thread_id not in self._threads:
            self._threads[thread_id] = self.deployment.thread(thread_id)
        return self._threads[thread_id]

    def create_thread(self, creator: LocalAccount, title: str) -> int:
        self.send(self.hub, "createThread", (keccak(text=title), HUMAN), creator)
        return int(self.read(self.hub, "threadCount"))

    def price(self, thread_id: int) -> int:
        return int(self.read(self.hub, "price", thread_id))

    def donate(self, thread_id: int, donor: LocalAccount, amount: int) -> None:
        """`amount` of `donor`'s CHOIR into the thread's treasury (a transfer, then `absorbDonations`)."""
        thread = self.thread(thread_id)
        self.send(self.token, "transfer", (thread.address, amount), donor)
        self.send(thread, "absorbDonations", (), donor)

    def submit(
        self,
        thread_id: int,
        author: LocalAccount,
        similarity: int,
        stake: int = 0,
        citations: tuple[int, ...] = (),
    ) -> Spec:
        """`author` stakes `stake` (the thread's price if 0) on a spec; the pricer will score it `similarity`."""
        thread = self.thread(thread_id)
        stake = stake or self.price(thread_id)
        body = keccak(text=f"spec {len(self.specs)} by {author.address}")
        self.send(self.token, "approve", (thread.address, stake), author)
        self.send(thread, "submitSpec", (body, list(citations), stake, HUMAN), author)
        spec = Spec(thread_id, int(self.read(thread, "messageCount")) - 1, author.address, similarity)
        self.specs.append(spec)
        return spec

    def vote(self, spec: Spec, voter: LocalAccount, approve: bool = True) -> None:
        self.send(self.thread(spec.thread_id), "vote", (spec.spec_id, approve), voter)

    def settle(self, spec: Spec, by: LocalAccount) -> None:
        self.send(self.thread(spec.thread_id), "settle", (spec.spec_id,), by)

    def exit(self, thread_id: int, member: LocalAccount) -> None:
        self.send(self.thread(thread_id), "exit", (), member)

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
        args = (round_, MODEL_ID, CALIBRATION_VERSION, ids, sims)
        self.send(self.distributor, "setNoveltyScores", args, self.pricer)
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
            sent = self.send(self.distributor, "allocate", (epoch, list(amounts), list(amounts.values())), self.pricer)
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
            self.send(self.hub, "createGovernor", (thread_id,), creator)
            address = str(self.read(self.hub, "governorOf", thread_id))
        return self.chain.contract(artifacts.load("ThreadGovernor"), address)


def transfer_proposal(world: World, thread_id: int, to: str, amount: int, text: str) -> tuple[Any, ...]:
    """(targets, values, calldatas, description hash) of a proposal moving `amount` of the treasury to `to`."""
    thread = world.thread(thread_id)
    calldata = world.contract(thread).calldata("transferTreasury", to, amount)
    return [thread.address], [0], [calldata], keccak(text=text)
