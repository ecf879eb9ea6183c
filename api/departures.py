"""Co-authors a spec no longer waits for: eligible at its snapshot, gone since, no vote cast (protocol section 3, r2).

`ThreadDAO.settleWithDepartures` takes this list so that exits never block a decision. The index suggests the
candidates (exits after the spec's snapshot); the chain decides: each is checked with the thread's own views, the
same checks the contract makes, so a lagging index can only leave someone out (then the settlement is refused as
too early and can be asked again), never put a wrong account in.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from web3 import Web3
from web3.contract import Contract

from api.state import Gateway
from api.txbuilder import call_view
from choir_chain.indexer.models import EquityEvent

NO_BALLOT = 0
SNAPSHOT_FIELD = 3
"""Index of `snapshot` in `ThreadDAO.getSpec`'s struct."""


def departed_coauthors(gw: Gateway, thread: Contract, thread_id: int, spec_id: int) -> list[str]:
    """The departed eligible non-voters of spec `spec_id`, in the increasing address order the contract wants."""
    snapshot = int(call_view(gw, thread.functions.getSpec(spec_id))[SNAPSHOT_FIELD])
    with Session(gw.engine) as session:
        candidates = session.scalars(
            select(EquityEvent.account)
            .where(EquityEvent.thread_id == thread_id, EquityEvent.kind == "exit", EquityEvent.timestamp > snapshot)
            .distinct()
        ).all()
    departed = [
        Web3.to_checksum_address(account)
        for account in candidates
        if call_view(gw, thread.functions.sharesOf(account)) == 0
        and call_view(gw, thread.functions.ballotOf(spec_id, account)) == NO_BALLOT
        and call_view(gw, thread.functions.getPastVotes(account, snapshot)) > 0
    ]
    return sorted(departed, key=lambda address: int(address, 16))
