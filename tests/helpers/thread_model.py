"""The stateful thread test's model of the chain (protocol sections 2, 3, 5, 6 and 7, revision 2), independent
of the contracts: a spec, a thread (share histories, ledgers, specs, its price point and deviation window)
and the rewards distributor."""

from __future__ import annotations

from dataclasses import dataclass, field

from choir_chain.protocol.approval import UNANIMOUS_BPS
from helpers.contracts import DAY, HUB_DEFAULTS
from helpers.thread_model_arithmetic import DENIED, PENDING, SPLIT


@dataclass
class SpecModel:
    spec_id: int
    author: str
    stake: int
    price: int
    submitted: int
    deadline: int
    eligible: int
    citations: list[int] = field(default_factory=list)
    votes: dict[str, bool] = field(default_factory=dict)
    status: int = PENDING
    per_denier: int = 0
    claimed: set[str] = field(default_factory=set)

    @property
    def approvals(self) -> int:
        return sum(self.votes.values())

    @property
    def denials(self) -> int:
        return len(self.votes) - self.approvals

    def unclaimed(self) -> list[str]:
        if self.status not in (DENIED, SPLIT):
            return []
        return [a for a, approve in self.votes.items() if not approve and a not in self.claimed]


@dataclass(eq=False)  # compared and hashed by identity
class ThreadModel:
    thread_id: int
    address: str
    window: int
    threshold: int = UNANIMOUS_BPS  # approvalThreshold(): basis points of the votes cast (unanimity at creation)
    treasury: int = 0
    locked: int = 0
    message_count: int = 1
    citing_threads: set[int] = field(default_factory=set)  # the hub's count (r2): distinct other citing threads
    shares: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # account -> [(timestamp, shares)]
    total: list[tuple[int, int]] = field(default_factory=list)
    specs: dict[int, SpecModel] = field(default_factory=dict)
    # the hub's price point for this thread
    price: int = 0
    updated_at: int = 0
    anchor: int = 0  # the price at the start of the current deviation window
    window_start: int = 0  # 0: no window yet (at most one price)

    @staticmethod
    def _push(history: list[tuple[int, int]], timestamp: int, value: int) -> None:
        if history and history[-1][0] == timestamp:
            history[-1] = (timestamp, value)
        else:
            history.append((timestamp, value))

    def set_shares(self, account: str, timestamp: int, value: int) -> None:
        self._push(self.shares.setdefault(account, []), timestamp, value)

    def set_total(self, timestamp: int, value: int) -> None:
        self._push(self.total, timestamp, value)

    def shares_at(self, account: str, timestamp: int) -> int:
        for key, value in reversed(self.shares.get(account, [])):
            if key <= timestamp:
                return value
        return 0

    def shares_of(self, account: str) -> int:
        history = self.shares.get(account)
        return history[-1][1] if history else 0

    def joined_at(self, account: str) -> int:
        history = self.shares.get(account)
        return history[-1][0] if history else 0

    def total_shares(self) -> int:
        return self.total[-1][1] if self.total else 0

    def coauthors(self) -> list[str]:
        return [a for a in self.shares if self.shares_of(a) > 0]

    def coauthors_at(self, timestamp: int) -> int:
        return sum(1 for a in self.shares if self.shares_at(a, timestamp) > 0)

    def pending(self) -> list[SpecModel]:
        return [s for s in self.specs.values() if s.status == PENDING]

    def has_pending_spec(self, author: str) -> bool:
        """protocol 3 (r2): one pending spec per author per thread."""
        return any(s.author == author for s in self.pending())

    def departed(self, spec: SpecModel) -> list[str]:
        """The co-authors eligible for `spec` (shares at its snapshot) who hold none now and never voted on it, in
        increasing address order: the list `settleWithDepartures` takes."""
        return sorted(
            (
                a
                for a in self.shares
                if self.shares_at(a, spec.submitted - 1) > 0 and self.shares_of(a) == 0 and a not in spec.votes
            ),
            key=lambda a: int(a, 16),
        )

    def price_at(self, timestamp: int) -> int:
        if self.updated_at and timestamp - self.updated_at <= HUB_DEFAULTS["heartbeat"]:
            return self.price
        return max(self.price, HUB_DEFAULTS["fallbackPrice"])  # stale: never below the last price (r2)

    def deviation_anchor(self, timestamp: int) -> int:
        """The price an update at `timestamp` is measured from (0: a first price, not bounded)."""
        if self.price and timestamp - self.window_start < HUB_DEFAULTS["deviationWindow"]:
            return self.anchor
        return self.price  # a new window starts, anchored at the current price

    def record_price(self, price: int, timestamp: int) -> None:
        if self.price and timestamp - self.window_start >= HUB_DEFAULTS["deviationWindow"]:
            self.anchor, self.window_start = self.price, timestamp
        self.price, self.updated_at = price, timestamp

    def message_id(self, index: int) -> int:
        return (self.thread_id << 64) | index


@dataclass
class RewardsModel:
    """The rewards distributor (protocol 1 and 7, r2): the curve's start, scores, allocations, what was minted."""

    address: str
    launch: int
    wired: bool = False  # the hub's distributor: threads accept its credits
    allocated: dict[int, int] = field(default_factory=dict)  # epoch -> paid so far
    weighted: dict[int, bool] = field(default_factory=dict)  # message id -> scored with a non-zero weight
    paid: set[int] = field(default_factory=set)
    last_round: int = 0
    minted: int = 0

    def epoch_at(self, timestamp: int) -> int:
        return (timestamp - self.launch) // DAY

    def epoch_start(self, epoch: int) -> int:
        return self.launch + epoch * DAY
