"""A devnet run's approval threshold, set the way a thread's parameters change on chain: through its governor.

Before day 0, every thread's creator (its only co-author, holding every share) creates the thread's governor,
proposes `setApprovalThreshold(bps)`, votes for it, queues it and, after the execution delay, executes it; each
step is one block for all threads (`choir_chain.scenario.Community`), and the clock jumps over the voting delay,
the voting period and the execution delay (a few days the simulation does not count). The thread's
`ApprovalThresholdSet` is checked in every execution's receipt: a run never starts under a rule other than the
one asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from web3 import Web3

from choir_chain.protocol.approval import is_valid_threshold
from choir_chain.scenario.receipts import single

if TYPE_CHECKING:
    from choir_chain.simulation.chain_ledger import ChainLedger


class ThresholdError(RuntimeError):
    """A thread's governance did not set the approval threshold asked for."""


def set_approval_thresholds(ledger: ChainLedger, threads: list[int], creators: list[int], bps: int) -> None:
    """Give every thread in `threads` (created by agent `creators[i]`) the approval threshold `bps` through a
    governance proposal of its own governor (see the module docstring)."""
    if not is_valid_threshold(bps):
        raise ValueError(f"the contracts accept an approval threshold of 5001 to 10000 basis points, not {bps}")
    c = ledger.community
    proposers = [ledger.agents[who] for who in creators]
    receipts = c.run([c.create_governor(t, who) for t, who in zip(threads, proposers, strict=True)])
    governors = [c.created_governor(r) for r in receipts]
    proposals = [c.approval_threshold(t, bps, f"approval threshold {bps} basis points") for t in threads]
    receipts = c.run([c.propose(g, who, p) for g, who, p in zip(governors, proposers, proposals, strict=True)])
    ids = [c.proposal_id(r) for r in receipts]

    def latest(view: str) -> int:
        return max(
            int(getattr(_governor(ledger, g).functions, view)(i).call()) for g, i in zip(governors, ids, strict=True)
        )

    def each(step: Callable[[str, str, int, Any], Any]) -> list[dict[str, Any]]:
        return c.run([step(g, who, i, p) for g, who, i, p in zip(governors, proposers, ids, proposals, strict=True)])

    _at(ledger, latest("proposalSnapshot") + 1)
    each(lambda g, who, i, _p: c.cast_vote(g, who, i))
    _at(ledger, latest("proposalDeadline") + 1)
    each(lambda g, who, _i, p: c.queue(g, who, p))
    _at(ledger, latest("proposalEta"))
    executed = each(lambda g, who, _i, p: c.execute(g, who, p))
    for t, receipt in zip(threads, executed, strict=True):
        set_to = int(single(receipt, c.dao, "ApprovalThresholdSet")["approvalThreshold"])
        if set_to != bps:
            raise ThresholdError(f"thread {t}: the governor set {set_to}, not {bps}")
    for t in threads:
        read = int(c.dao(address=Web3.to_checksum_address(c.threads[t])).functions.approvalThreshold().call())
        if read != bps:
            raise ThresholdError(f"thread {t} reads an approval threshold of {read}, not {bps}")


def _governor(ledger: ChainLedger, address: str) -> Any:
    return ledger.community.governor(address=Web3.to_checksum_address(address))


def _at(ledger: ChainLedger, timestamp: int) -> None:
    """The next block is mined at `timestamp` (or one second on, if the chain is already there)."""
    latest = ledger.community.latest_timestamp()
    ledger.sender.call("evm_setNextBlockTimestamp", [max(timestamp, latest + 1)])
