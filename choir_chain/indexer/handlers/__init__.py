"""One function per contract event, turning it into rows (`hub`, `threads`, `rewards`; `registry` registers them).

Handlers are registered by `@handles(source, event name)`; the indexer fetches and applies only events that
have a handler, so supporting a new event (rewards, governance) is one decorated function here (plus its table
in `models.py`). Handlers run in chain order inside the range's transaction and must be deterministic: rows
may depend only on the event and on earlier rows, never on the wall clock or insertion order.

Running totals mirror the thread's ledger (`ThreadDAO.treasury()` / `lockedBalance()`):
SpecSubmitted locks the stake (ApprovalCertain moves its deadline to the last approval's second); SpecSettled
moves the treasury gain from locked to the treasury (the deniers' shares stay locked until claimed);
CuratorRewardClaimed releases a denier's share; CoauthorExited pays out of the treasury; DonationAbsorbed and
RewardCredited add to the treasury; TreasuryTransferred (governance) takes from it.
"""

from choir_chain.indexer.handlers import hub, rewards, threads
from choir_chain.indexer.handlers.registry import HANDLERS, HUB, REWARDS, THREAD, Handler, handled_events, handles

__all__ = ["HANDLERS", "HUB", "REWARDS", "THREAD", "Handler", "handled_events", "handles", "hub", "rewards", "threads"]
