"""Submits each closed epoch's reward allocation (`RewardsDistributor.allocate`, ORACLE_ROLE), once.

**When.** Epoch `e` is allocated once it has closed (`e < currentEpoch()`), the index covers its end plus
`delay` seconds, and the novelty scorer of this service (if any) has nothing left to score: its scores are
final. The allocation itself is `allocation.compute_allocation` (pro rata by on-chain weight, from the index and
the chain), so it is a function of the chain's history alone.

**Never twice.** Like price and novelty rounds: the service sends only when nothing of the account is in flight
(pending nonce == mined nonce), and the allocator sends an epoch only while `allocated(e)` on chain is 0; a second
transaction for the same epoch would need the same nonce, and the contract refuses to pay a message twice
(`AlreadyPaid`) or an epoch beyond its budget (`BudgetExceeded`) anyway. After a crash between sending and
confirming, the next start waits for the transaction in flight and then reads `allocated(e)`.

**Failures never hold prices up.** A rejected or reverted allocation, or an RPC error, is reported
(`allocation_failed`) and tried again after `RETRY_AFTER` seconds while price rounds go on. An epoch with
approvals but no weight yet is looked at again until `SCORE_WAIT` after its end, then left (nothing is carried
over).
"""

from __future__ import annotations

import time

from sqlalchemy.orm import Session

from choir_chain.chain.rpc import RpcError
from choir_chain.indexer.models import Cursor
from choir_chain.pricer.allocation import DAY, certain_times, compute_allocation, unpaid_candidates
from choir_chain.pricer.client import Contract
from choir_chain.pricer.distributor import OracleJob, find_distributor, holds_role
from choir_chain.pricer.errors import RoundRejected, RoundReverted

REQUIRED_FUNCTIONS = (
    "ORACLE_ROLE",
    "hasRole",
    "currentEpoch",
    "launchTime",
    "epochBudget",
    "allocated",
    "scoreOf",
    "allocate",
)
"""What the allocator calls on the RewardsDistributor."""
RETRY_AFTER = 60.0
"""Seconds before a failed allocation is tried again (prices go on meanwhile)."""
SCORE_WAIT = 7 * DAY
"""How long after an epoch's end its approvals may still receive the scores that give them weight."""


class EpochAllocator:
    """Allocates closed epochs' budgets on the RewardsDistributor, oldest first, one transaction per epoch."""

    def __init__(self, distributor: Contract, job: OracleJob, *, delay: int = 0) -> None:
        self.distributor = distributor
        self.job = job
        self.delay = delay
        self._retry_at = 0.0
        self.disabled = False
        self._launch: int | None = None
        self._certain: dict[int, int] = {}
        """message id -> when its approval became certain (final once known)."""
        self._finished: set[int] = set()
        """Epochs allocated on chain, or left for good (no weight by `SCORE_WAIT` after their end)."""

    @classmethod
    def from_manifest(cls, job: OracleJob, *, delay: int = 0) -> EpochAllocator | None:
        """The allocator of the manifest's RewardsDistributor; None for a deployment without one, or (reported
        as `rewards_disabled`) one whose ABI lacks a function the allocator calls."""
        found = find_distributor(job.manifest, job.rpc, REQUIRED_FUNCTIONS)
        if found.missing:
            job.emit({"event": "rewards_disabled", "reason": f"RewardsDistributor has no {', '.join(found.missing)}"})
        if found.contract is None:
            return None
        return cls(found.contract, job, delay=delay)

    def forget(self) -> None:
        """After a reorg: an epoch allocated on the replaced blocks may be unallocated again, and approvals may
        have moved; `allocated(e)` on chain decides again (it is never paid twice)."""
        self._finished.clear()
        self._certain.clear()
        self._retry_at = 0.0

    def check_role(self) -> None:
        """Without ORACLE_ROLE (another oracle service allocates) this pricer leaves allocations alone, reported
        once as `rewards_disabled`; prices go on."""
        if not holds_role(self.distributor, "ORACLE_ROLE", self.job.sender.address):
            self.disabled = True
            self.job.emit(
                {
                    "event": "rewards_disabled",
                    "reason": f"account {self.job.sender.address} lacks ORACLE_ROLE on RewardsDistributor "
                    f"{self.distributor.address}: epochs are not allocated by this pricer",
                }
            )

    def step(self, nonce: int) -> bool:
        """Allocate the oldest closed epoch that is due (sent with `nonce`); False when nothing was sent."""
        if self.disabled or time.monotonic() < self._retry_at:
            return False
        try:
            return self._step(nonce)
        except (RpcError, RoundRejected, RoundReverted) as err:
            self._retry_at = time.monotonic() + RETRY_AFTER
            self.job.emit({"event": "allocation_failed", "error": str(err), "retry_in": RETRY_AFTER})
            return False

    def _step(self, nonce: int) -> bool:
        indexed = self._indexed_timestamp()
        if indexed is None:
            return False
        if self._launch is None:
            (launch,) = self.distributor.call("launchTime")
            self._launch = int(launch)
        launch = self._launch
        (current,) = self.distributor.call("currentEpoch")
        certain = certain_times(self.job.rpc, unpaid_candidates(self.job.engine), self._certain)
        closed = {(at - launch) // DAY for at in certain.values() if at >= launch} - self._finished
        epochs = sorted(e for e in closed if e < int(current))
        for epoch in epochs:
            end = launch + (epoch + 1) * DAY
            if indexed < end + self.delay:
                break  # later epochs are not due either
            (done,) = self.distributor.call("allocated", epoch)
            if int(done):
                self._finished.add(epoch)
                continue
            plan = compute_allocation(self.distributor, epoch, launch, certain)
            if not plan.message_ids:
                if indexed >= end + SCORE_WAIT:
                    self._finished.add(epoch)
                continue
            return self._send(plan.epoch, plan.message_ids, plan.amounts, plan.budget, nonce)
        return False

    def _send(self, epoch: int, ids: list[int], amounts: list[int], budget: int, nonce: int) -> bool:
        data = self.distributor.calldata("allocate", epoch, ids, amounts)
        what = f"the allocation of epoch {epoch}"
        sent = self.job.sender.submit(self.distributor.address, data, nonce, what)
        receipt = self.job.sender.confirm(sent, self.job.receipt_timeout, self.job.stop, what)
        if receipt is None:
            return True  # in flight; the next step waits for it, then reads allocated(epoch)
        self._finished.add(epoch)
        self.job.emit(
            {
                "event": "allocation",
                "epoch": epoch,
                "messages": [str(i) for i in ids],
                "amounts": [str(a) for a in amounts],
                "total": str(sum(amounts)),
                "budget": str(budget),
                "tx": sent.tx_hash,
                "block": int(receipt["blockNumber"], 16),
                "gas": int(receipt["gasUsed"], 16),
            }
        )
        return True

    def _indexed_timestamp(self) -> int | None:
        """The timestamp of the last block the database holds."""
        with Session(self.job.engine) as session:
            cursor = session.get(Cursor, 1)
        if cursor is None or cursor.last_block < 0:
            return None
        header = self.job.rpc.call("eth_getBlockByNumber", [hex(cursor.last_block), False])
        return int(header["timestamp"], 16) if isinstance(header, dict) else None
