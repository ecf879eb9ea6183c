"""An epoch's reward allocation (protocol section 7, revision 2), computed from the index and the chain.

Epoch `e` (1 day from the distributor's `launchTime`) has the budget `B_e = F(end) - F(start)`
(`RewardsDistributor.epochBudget`). The specs whose approval became certain during `e` (the second of the last
vote when every eligible co-author approved, else the end of the window: `ThreadDAO.approvalCertainAt`) share it
pro rata by their novelty weight (`RewardsDistributor.scoreOf`, the on-chain WAD integer, so the split is the same
on every machine): `amount_i = B_e * w_i // W`, `W` the sum of the weights. A message without a score, or scored
above the threshold, has no weight and gets nothing; amounts that round to zero are left out; what rounding
leaves is not carried over.

Candidates come from the index (specs with approvals and no denial, pending or approved, whose submission and
deadline bracket the epoch); the chain then says when each approval became certain, so a spec settled late (or
not yet settled) counts in the epoch its approval became certain, whoever settles it and whenever.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from choir_chain import artifacts
from choir_chain.chain.rpc import RpcClient
from choir_chain.indexer.models import MessageReward, Spec, Thread
from choir_chain.pricer.client import Contract
from choir_chain.protocol import message_id as global_message_id

DAY = 24 * 3600
MAX_MESSAGES = 200
"""Most messages one allocation pays (one transaction per epoch); past it the heaviest are paid and the shares of
the others stay unallocated (never more than the budget)."""


@dataclass(frozen=True)
class Candidate:
    """A spec that may have been approved during some epoch."""

    message_id: int
    thread_address: str
    spec_id: int
    submitted: int
    deadline: int


@dataclass(frozen=True)
class Allocation:
    """What epoch `epoch` pays: `amounts[i]` to `message_ids[i]`, in message id order; `weights` for the record."""

    epoch: int
    budget: int
    message_ids: list[int]
    amounts: list[int]
    weights: list[int]

    @property
    def total(self) -> int:
        return sum(self.amounts)


def pro_rata(budget: int, weights: dict[int, int], limit: int = MAX_MESSAGES) -> dict[int, int]:
    """message id -> `budget * w // W` for the `limit` heaviest (then lowest id) positive weights, `W` the sum of
    all positive weights; zero amounts left out. The amounts sum to at most `budget`."""
    positive = {m: w for m, w in weights.items() if w > 0}
    total = sum(positive.values())
    if total == 0 or budget <= 0:
        return {}
    kept = sorted(positive, key=lambda m: (-positive[m], m))[:limit]
    amounts = {m: budget * positive[m] // total for m in kept}
    return {m: a for m, a in sorted(amounts.items()) if a > 0}


def unpaid_candidates(engine: Engine) -> list[Candidate]:
    """Specs with at least one approval and no denial, pending or approved, not rewarded yet, in id order."""
    with Session(engine) as session:
        paid = {int(m) for m in session.scalars(select(MessageReward.message_id))}
        rows = session.execute(
            select(Spec.thread_id, Spec.spec_id, Spec.submitted_timestamp, Spec.deadline, Thread.address)
            .join(Thread, Thread.thread_id == Spec.thread_id)
            .where(Spec.approvals > 0, Spec.denials == 0, Spec.status.in_(("pending", "approved")))
            .order_by(Spec.thread_id, Spec.spec_id)
        ).all()
    out = []
    for thread_id, spec_id, submitted, deadline, address in rows:
        message_id = global_message_id(int(thread_id), int(spec_id))
        if message_id not in paid:
            out.append(Candidate(message_id, str(address), int(spec_id), int(submitted), int(deadline)))
    return out


def certain_times(rpc: RpcClient, candidates: list[Candidate], known: dict[int, int]) -> dict[int, int]:
    """message id -> `approvalCertainAt` on its thread (0: not approved, or not yet certain). Non-zero times never
    change, so those in `known` are not asked again (and new ones are added to it)."""
    abi = artifacts.load("ThreadDAO").abi
    out: dict[int, int] = {}
    for c in candidates:
        if c.message_id not in known:
            (at,) = Contract(rpc, c.thread_address, abi).call("approvalCertainAt", c.spec_id)
            if int(at):
                known[c.message_id] = int(at)
        out[c.message_id] = known.get(c.message_id, 0)
    return out


def compute_allocation(distributor: Contract, epoch: int, launch: int, certain: dict[int, int]) -> Allocation:
    """Epoch `epoch`'s allocation: the messages whose approval became certain during it (`certain`: message id
    -> `approvalCertainAt`), weighted by their on-chain scores."""
    start, end = launch + epoch * DAY, launch + (epoch + 1) * DAY
    approved = sorted(m for m, at in certain.items() if start <= at < end)
    scores = distributor.call_many([("scoreOf", (m,)) for m in approved])
    weights = {m: int(weight) for m, (weight, _round) in zip(approved, scores, strict=True)}
    (budget,) = distributor.call("epochBudget", epoch)
    amounts = pro_rata(int(budget), weights)
    ids = list(amounts)
    return Allocation(epoch, int(budget), ids, [amounts[m] for m in ids], [weights[m] for m in ids])
