"""Every knob of a simulation run: the community's behaviour and the protocol's settings, in one object."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from choir_chain.deploy import CHOIR, HubParameters
from choir_chain.pricing import QahoParams

DAY = 24 * 3600


@dataclass(frozen=True)
class SimParams:
    """A simulated community and the protocol it runs on.

    Community (agents, protocol sections 2, 3, 5):
        threads: threads, each created on day 0 by its own agent.
        days: simulated days (one step each).
        agents: people in the community (creators included); each has a quality and a strictness.
        endowment: CHOIR (wei) each agent holds on day 0.
        quality_a, quality_b: Beta distribution of authors' quality ``q``.
        strictness_a, strictness_b: Beta distribution of co-authors' strictness ``s``.
        judgement: temperature of the approval curve ``p = 1 / (1 + exp(-(q - s) / judgement))``.
        participation: chance that an eligible co-author votes on a spec at all.
        spec_rate: mean specs submitted per thread per day (Poisson).
        post_rate: chance per co-author per day of posting.
        cite_probability: chance that a post or a spec cites another thread.
        overstake: an author of quality ``q`` stakes ``price * (1 + overstake * q)``.
        exit_rate: chance per co-author per day of leaving with its pro-rata share.
        seed: seed of every random draw.
        approval_threshold_bps: the vote rule. 10,000 (the default) is today's rule: approved only when every
            vote cast approves, deniers paid `D/V` of the stake on a split. Below 10,000 is the thread
            parameter `ThreadDAO.approvalThreshold`: approved when approvals are at least this share of the votes
            cast, the whole stake then to the treasury; otherwise as today (docs/economics.md). The devnet
            engine takes 5,001 to 10,000 (the contracts' range) and sets it through each thread's governor; the
            model takes 1 to 10,000.

    Protocol:
        qaho: the QAHO price model (protocol section 4).
        hub: the oracle's bounds and the approval window (`choir_chain.deploy.HubParameters`).
    """

    threads: int = 12
    days: int = 90
    agents: int = 120
    endowment: int = 2_000 * CHOIR
    quality_a: float = 2.0
    quality_b: float = 2.0
    strictness_a: float = 2.0
    strictness_b: float = 2.0
    judgement: float = 0.12
    participation: float = 0.9
    spec_rate: float = 1.0
    post_rate: float = 0.3
    cite_probability: float = 0.4
    overstake: float = 1.0
    exit_rate: float = 0.01
    seed: int = 1
    approval_threshold_bps: int = 10_000
    qaho: QahoParams = field(default_factory=QahoParams)
    hub: HubParameters = field(default_factory=HubParameters)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("qaho", "hub", "seed"):
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{f.name} must be a number, got {value!r}")
            if value < 0:
                raise ValueError(f"{f.name} must be >= 0, got {value!r}")
        for name in ("participation", "cite_probability", "exit_rate", "post_rate"):
            if getattr(self, name) > 1:
                raise ValueError(f"{name} is a probability, got {getattr(self, name)!r}")
        for name in (
            "threads",
            "days",
            "quality_a",
            "quality_b",
            "strictness_a",
            "strictness_b",
            "judgement",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not isinstance(self.approval_threshold_bps, int) or not 1 <= self.approval_threshold_bps <= 10_000:
            raise ValueError(
                f"approval_threshold_bps must be an integer in [1, 10000], got {self.approval_threshold_bps!r}"
            )
        if self.agents < self.threads + 1:
            raise ValueError(f"agents ({self.agents}) must exceed threads ({self.threads}): each has a creator")
        if self.hub.approval_window % DAY:
            raise ValueError("the approval window must be whole days (the simulation steps a day at a time)")
        if self.hub.deviation_window > DAY:
            # One price round a day then always starts a fresh deviation window, anchored at the last price:
            # the per-window bound is the per-round bound the simulation's pricer and model ledger apply.
            raise ValueError("the deviation window must be at most a day (the simulation prices once a day)")

    @property
    def window_days(self) -> int:
        return self.hub.approval_window // DAY
