"""A community on a devnet driven in batches: one method per protocol step, one receipt check, one gas table.

The benchmarks and the simulation's devnet engine send thousands of transactions from addresses nobody holds a
key for (anvil impersonates them, `BatchSender`), so each step is built as an unsigned `Tx` and a driver queues
the steps of one phase together (`send`) and mines them into a block (`mine`, which checks every receipt), or
does both at once (`run`). What a step created is read back from its receipt (`created_thread`, `spec_id`,
`receipts.single`), since transactions of different senders in one block run in no particular order.
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
from choir_chain.scenario.batch import BatchSender, Tx
from choir_chain.scenario.gas import GAS, prices_gas
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
        self.dao: type[Contract] = deployment.chain.w3.eth.contract(abi=artifacts.load("ThreadDAO").abi)
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

    def update_prices(
        self, pricer: str, ids: Sequence[int], prices: Sequence[int], round_: int, label: str | None = None
    ) -> Tx:
        """One oracle round: `prices[i]` for thread `ids[i]` (from the deployment's pricer account)."""
        data = self.hub.encode_abi("updatePrices", args=[list(ids), list(prices), round_])
        return Tx(pricer, self.hub.address, data, prices_gas(len(ids)), label or f"round {round_}")

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
