"""A community on a devnet driven in batches: one method per protocol step, one receipt check, one gas table.

The benchmarks and the simulation's devnet engine send thousands of transactions from addresses nobody holds a
key for (anvil impersonates them, `BatchSender`), so each step is built as an unsigned `Tx` and a driver queues
the steps of one phase together (`send`) and mines them into a block (`mine`, which checks every receipt), or
does both at once (`run`). What a step created is read back from its receipt (`created_thread`, `spec_id`,
`created_governor`, `proposal_id`, `receipts.single`), since transactions of different senders in one block run
in no particular order. Besides the members' steps, the pricer's (a price round, a novelty round, an epoch's
allocation) and a thread governor's (create, propose, vote, queue, execute).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract

from choir_chain import artifacts
from choir_chain.deploy import Deployment
from choir_chain.protocol import AuthorKind
from choir_chain.protocol.governance import FOR, Proposal
from choir_chain.scenario.batch import BatchSender, Tx
from choir_chain.scenario.gas import GAS, allocate_gas, novelty_gas, prices_gas
from choir_chain.scenario.receipts import single

Content = bytes | str
"""A message's content hash: 32 bytes, or their 0x-hex."""


def keyless_address(text: str) -> str:
    """A deterministic address derived from `text` that nobody holds a key for (anvil impersonates it)."""
    return Web3.to_checksum_address(keccak(text=text)[12:])


class Community:
    """Protocol steps as batched transactions on `deployment` through `sender` (see the module docstring)."""

    def __init__(self, deployment: Deployment, sender: BatchSender) -> None:
        self.deployment = deployment
        self.sender = sender
        self.hub: Contract = deployment.hub
        self.token: Contract = deployment.token
        w3 = deployment.chain.w3
        self.dao: type[Contract] = w3.eth.contract(abi=artifacts.load("ThreadDAO").abi)
        self.governor: type[Contract] = w3.eth.contract(abi=artifacts.load("ThreadGovernor").abi)
        self.threads: dict[int, str] = {}
        """Thread id -> address, of every thread whose creation receipt went through `created_thread`."""

    # -- sending --------------------------------------------------------------------------------------------

    def send(self, txs: Sequence[Tx]) -> None:
        """Queue `txs` (consecutive nonces per sender, in order) for the next `mine`."""
        self.sender.send(list(txs))

    def mine(self) -> list[dict[str, Any]]:
        """Mine the queued transactions; every one must have succeeded (`BatchError` otherwise). Their receipts,
        in the order sent."""
        return self.sender.mine()

    def run(self, txs: Sequence[Tx]) -> list[dict[str, Any]]:
        """`send` then `mine`: the receipts of `txs` (none sent for an empty list)."""
        if not txs:
            return []
        self.send(txs)
        return self.mine()

    def latest_timestamp(self) -> int:
        return int(self.sender.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def block_number(self) -> int:
        return int(self.sender.call("eth_blockNumber"), 16)

    # -- protocol steps -------------------------------------------------------------------------------------

    def transfer(self, sender: str, to: str, amount: int, label: str = "transfer") -> Tx:
        """CHOIR from `sender` to `to` (funding a member)."""
        data = self.token.encode_abi("transfer", args=[to, amount])
        return Tx(sender, self.token.address, data, GAS["transfer"], label)

    def create_thread(self, creator: str, content: Content, kind: AuthorKind, label: str = "createThread") -> Tx:
        data = self.hub.encode_abi("createThread", args=[content, kind])
        return Tx(creator, self.hub.address, data, GAS["createThread"], label)

    def post(
        self,
        thread_id: int,
        author: str,
        content: Content,
        citations: Sequence[int],
        kind: AuthorKind,
        label: str | None = None,
    ) -> Tx:
        return self._thread_tx(thread_id, author, "post", [content, list(citations), kind], label)

    def approve(self, staker: str, thread_id: int, stake: int, label: str | None = None) -> Tx:
        """The CHOIR allowance of exactly `stake` that `submitSpec` on thread `thread_id` takes."""
        data = self.token.encode_abi("approve", args=[self.threads[thread_id], stake])
        return Tx(staker, self.token.address, data, GAS["approve"], label or f"approve for thread {thread_id}")

    def submit_spec(
        self,
        thread_id: int,
        author: str,
        content: Content,
        citations: Sequence[int],
        stake: int,
        kind: AuthorKind,
        label: str | None = None,
    ) -> Tx:
        """`submitSpec` alone; the allowance must be in place (`approve`, earlier in the same batch)."""
        return self._thread_tx(thread_id, author, "submitSpec", [content, list(citations), stake, kind], label)

    def stake_spec(
        self,
        thread_id: int,
        author: str,
        content: Content,
        citations: Sequence[int],
        stake: int,
        kind: AuthorKind,
        label: str | None = None,
    ) -> list[Tx]:
        """The approval of exactly the stake, then the spec: two transactions, in this order."""
        return [
            self.approve(author, thread_id, stake, label and f"{label} approve"),
            self.submit_spec(thread_id, author, content, citations, stake, kind, label),
        ]

    def vote(self, thread_id: int, voter: str, spec_id: int, approve: bool, label: str | None = None) -> Tx:
        return self._thread_tx(thread_id, voter, "vote", [spec_id, approve], label)

    def settle(self, thread_id: int, sender: str, spec_id: int, label: str | None = None) -> Tx:
        return self._thread_tx(thread_id, sender, "settle", [spec_id], label)

    def claim(self, thread_id: int, curator: str, spec_ids: Sequence[int], label: str | None = None) -> Tx:
        """A denier's curator rewards of `spec_ids`, in one transaction."""
        return self._thread_tx(thread_id, curator, "claimCuratorRewards", [list(spec_ids)], label)

    def exit(self, thread_id: int, member: str, label: str | None = None) -> Tx:
        return self._thread_tx(thread_id, member, "exit", [], label)

    def absorb_donations(self, thread_id: int, sender: str, label: str | None = None) -> Tx:
        """Add the CHOIR sent to the thread outside the protocol to its treasury."""
        return self._thread_tx(thread_id, sender, "absorbDonations", [], label)

    def donate(self, thread_id: int, donor: str, amount: int, label: str | None = None) -> list[Tx]:
        """`amount` of `donor`'s CHOIR into the thread's treasury: a transfer to the thread, then
        `absorbDonations` (two transactions, in this order)."""
        name = label or f"thread {thread_id}"
        return [
            self.transfer(donor, self.threads[thread_id], amount, f"{name} donation"),
            self.absorb_donations(thread_id, donor, label),
        ]

    def update_prices(
        self, pricer: str, ids: Sequence[int], prices: Sequence[int], round_: int, label: str | None = None
    ) -> Tx:
        """One oracle round: `prices[i]` for thread `ids[i]` (from the deployment's pricer account)."""
        data = self.hub.encode_abi("updatePrices", args=[list(ids), list(prices), round_])
        return Tx(pricer, self.hub.address, data, prices_gas(len(ids)), label or f"round {round_}")

    def novelty_scores(
        self,
        pricer: str,
        round_: int,
        model_id: str,
        calibration_version: int,
        ids: Sequence[int],
        similarities: Sequence[int],
        label: str | None = None,
    ) -> Tx:
        """One novelty round on the rewards distributor: the calibrated WAD similarity of each message id (from
        the deployment's pricer account, which holds the distributor's oracle role)."""
        args = [round_, model_id, calibration_version, list(ids), list(similarities)]
        data = self.rewards.encode_abi("setNoveltyScores", args=args)
        gas = novelty_gas(len(ids))
        return Tx(pricer, self.rewards.address, data, gas, label or f"novelty round {round_}")

    def allocate(
        self, pricer: str, epoch: int, ids: Sequence[int], amounts: Sequence[int], label: str | None = None
    ) -> Tx:
        """Closed epoch `epoch`'s budget paid to message `ids[i]` as `amounts[i]` (from the pricer account)."""
        data = self.rewards.encode_abi("allocate", args=[epoch, list(ids), list(amounts)])
        return Tx(pricer, self.rewards.address, data, allocate_gas(len(ids)), label or f"allocate epoch {epoch}")

    @property
    def rewards(self) -> Contract:
        """The deployment's rewards distributor (`ValueError` for a deployment made without rewards)."""
        if self.deployment.distributor is None:
            raise ValueError("the deployment has no rewards distributor")
        return self.deployment.distributor

    # -- governance -----------------------------------------------------------------------------------------

    def create_governor(self, thread_id: int, by: str, label: str | None = None) -> Tx:
        """Deploy the thread's governor (a co-author's step); its address is in the receipt (`created_governor`)."""
        data = self.hub.encode_abi("createGovernor", args=[thread_id])
        return Tx(by, self.hub.address, data, GAS["createGovernor"], label or f"thread {thread_id} createGovernor")

    def treasury_transfer(self, thread_id: int, to: str, amount: int, description: str) -> Proposal:
        """A proposal that the thread's treasury pays `amount` to `to`."""
        calldata = bytes.fromhex(self.dao.encode_abi("transferTreasury", args=[to, amount])[2:])
        return Proposal([self.threads[thread_id]], [0], [calldata], description)

    def approval_threshold(self, thread_id: int, bps: int, description: str) -> Proposal:
        """A proposal that the thread's approval threshold becomes `bps` basis points."""
        calldata = bytes.fromhex(self.dao.encode_abi("setApprovalThreshold", args=[bps])[2:])
        return Proposal([self.threads[thread_id]], [0], [calldata], description)

    def propose(self, governor: str, by: str, proposal: Proposal, label: str | None = None) -> Tx:
        """Submit `proposal` to `governor`; its id is in the receipt (`proposal_id`)."""
        p = proposal
        return self._governor_tx(governor, by, "propose", [p.targets, p.values, p.calldatas, p.description], label)

    def cast_vote(self, governor: str, by: str, proposal_id: int, support: int = FOR, label: str | None = None) -> Tx:
        return self._governor_tx(governor, by, "castVote", [proposal_id, support], label)

    def queue(self, governor: str, by: str, proposal: Proposal, label: str | None = None) -> Tx:
        p = proposal
        return self._governor_tx(governor, by, "queue", [p.targets, p.values, p.calldatas, p.description_hash], label)

    def execute(self, governor: str, by: str, proposal: Proposal, label: str | None = None) -> Tx:
        """Run a queued proposal; a call that fails inside it makes the execution fail for good, without a revert
        (docs/invariants.md G5: the governor's `executionFailed`)."""
        p = proposal
        args = [p.targets, p.values, p.calldatas, p.description_hash]
        return self._governor_tx(governor, by, "execute", args, label)

    def _governor_tx(self, governor: str, sender: str, fn: str, args: list[Any], label: str | None) -> Tx:
        data = self.governor.encode_abi(fn, args=args)
        return Tx(sender, governor, data, GAS[fn], f"{label or f'governor {governor}'} {fn}")

    def _thread_tx(self, thread_id: int, sender: str, fn: str, args: list[Any], label: str | None) -> Tx:
        data = self.dao.encode_abi(fn, args=args)
        return Tx(sender, self.threads[thread_id], data, GAS[fn], f"{label or f'thread {thread_id}'} {fn}")

    # -- receipts -------------------------------------------------------------------------------------------

    def created_thread(self, receipt: dict[str, Any]) -> int:
        """The id of the thread a `createThread` receipt created; its address is kept in `threads`."""
        args = single(receipt, self.hub, "ThreadCreated")
        thread_id = int(args["threadId"])
        self.threads[thread_id] = Web3.to_checksum_address(args["thread"])
        return thread_id

    def spec_id(self, receipt: dict[str, Any]) -> int:
        """The spec id (its message index) of a `submitSpec` receipt."""
        return int(single(receipt, self.dao, "SpecSubmitted")["specId"])

    def created_governor(self, receipt: dict[str, Any]) -> str:
        """The address of the governor a `createGovernor` receipt deployed."""
        return Web3.to_checksum_address(single(receipt, self.hub, "GovernorCreated")["governor"])

    def proposal_id(self, receipt: dict[str, Any]) -> int:
        """The id of the proposal a `propose` receipt created."""
        return int(single(receipt, self.governor, "ProposalCreated")["proposalId"])
