"""The initial parameters of a deployment (`choir_chain.deploy` on the devnet, `choir_chain.rollout` elsewhere):
the hub's (protocol section 6) and every thread governor's (section 8)."""

from __future__ import annotations

from dataclasses import dataclass

from choir_chain.protocol.units import CHOIR

HOUR = 3600
DAY = 24 * HOUR


@dataclass(frozen=True)
class HubParameters:
    """Initial hub parameters; defaults follow protocol section 6 (fallback price = S0 * 3, S0 = 10 CHOIR)."""

    min_price: int = 1 * CHOIR
    max_price: int = 1_000_000 * CHOIR
    fallback_price: int = 30 * CHOIR
    max_deviation_bps: int = 5_000
    heartbeat: int = DAY
    deviation_window: int = HOUR  # maxDeviationBps bounds the move within each such window (protocol section 6, r2)
    approval_window: int = 7 * DAY

    def as_dict(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class GovernanceParameters:
    """Settings every new thread governor gets (protocol section 8); see docs/governance.md."""

    voting_delay: int = 3600  # an hour from proposal to snapshot: time to notice a proposal
    voting_period: int = 3 * DAY
    quorum_bps: int = 5_000  # half of all shares must vote for or abstain
    execution_delay: int = DAY  # a passed proposal waits a day in the queue: time to exit if one disagrees

    def as_dict(self) -> dict[str, int]:
        return {f"governance.{k}": int(v) for k, v in self.__dict__.items()}
