"""Incentives of the vote (docs/economics.md, section 6): what approving and denying a spec pay a co-author.

A co-author's payoff from a settlement is the change of its wealth: cash paid to it (a denier's part of the
stake) plus the change of its pro-rata claim on the treasury (`treasury * shares / totalShares`, what an exit
pays), marked at settlement, with the contracts' integer rules (`model_ledger.divide`, `shares_for_stake`). The
thread's co-authors hold equal shares. `reward` is what the epoch's budget later mints to the treasury for an
approved spec (protocol 7, r2); 0 models a spec of no weight, an epoch crowded with approvals, or the time after
the emission.

`expected_payoffs` takes the expectation over the other co-authors' votes (each votes with `participation`,
then approves with `approve_probability(q, s)`), exactly, by enumerating how many approve and deny.
`compare_rules` runs the agent simulation (`choir simulate --model`) under today's rule and a proposed
threshold and reports outcome shares and growth against thread size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from choir_chain.protocol.units import WAD
from choir_chain.simulation.agents import approve_probability
from choir_chain.simulation.ledger import OUTCOMES
from choir_chain.simulation.model_ledger import UNANIMOUS, divide, shares_for_stake
from choir_chain.simulation.params import SimParams

PROPOSED_THRESHOLD_BPS = 6_666
"""The proposed rule's threshold: two thirds of the votes cast (rounded down, so 2 of 3 and 4 of 6 pass)."""


@dataclass(frozen=True)
class VoteCase:
    """One spec before a co-author's vote."""

    coauthors: int
    """N, every one holding the same shares (the voter among them)."""
    stake: int
    price: int
    treasury: int
    others_approve: int
    others_deny: int
    reward: int = 0
    threshold_bps: int = UNANIMOUS

    def __post_init__(self) -> None:
        if self.coauthors < 1 or self.others_approve + self.others_deny > self.coauthors - 1:
            raise ValueError(
                f"{self.others_approve} + {self.others_deny} other votes among {self.coauthors} co-authors"
            )
        if self.stake < 1 or self.price < 1 or self.treasury < 0 or self.reward < 0:
            raise ValueError("stake and price must be positive, treasury and reward non-negative")


def payoff(case: VoteCase, approve: bool) -> int:
    """The voter's gain in wei if it approves (`approve`) or denies (module docstring)."""
    approvals = case.others_approve + int(approve)
    denials = case.others_deny + int(not approve)
    outcome, gain, per_denier = divide(case.stake, approvals, denials, case.threshold_bps)
    total = case.coauthors * WAD
    treasury = case.treasury + gain
    if outcome == "approved":
        total += shares_for_stake(case.stake, case.price, case.coauthors, case.treasury, total)
        treasury += case.reward
    cash = 0 if approve else per_denier
    return cash + treasury * WAD // total - case.treasury * WAD // (case.coauthors * WAD)


def advantage(case: VoteCase) -> int:
    """Payoff of approving minus payoff of denying (negative: denying pays more)."""
    return payoff(case, True) - payoff(case, False)


@dataclass(frozen=True)
class Expected:
    approve: float
    deny: float
    pivotal: float
    """Chance that no other co-author denies (the voter's denial then changes an approval into a split)."""


def expected_payoffs(
    coauthors: int,
    quality: float,
    *,
    stake: int,
    price: int,
    treasury: int,
    reward: int = 0,
    strictness: float = 0.5,
    participation: float = 0.9,
    judgement: float = 0.12,
    threshold_bps: int = UNANIMOUS,
) -> Expected:
    """Expected payoffs (wei, as floats) over the other co-authors' votes on a spec of author quality `quality`."""
    p = float(approve_probability(np.array([quality]), np.array([strictness]), judgement)[0])
    yes, no = participation * p, participation * (1 - p)
    others = coauthors - 1
    approve = deny = pivotal = 0.0
    for a in range(others + 1):
        for d in range(others - a + 1):
            chance = (
                math.comb(others, a) * math.comb(others - a, d) * yes**a * no**d * (1 - yes - no) ** (others - a - d)
            )
            case = VoteCase(coauthors, stake, price, treasury, a, d, reward, threshold_bps)
            approve += chance * payoff(case, True)
            deny += chance * payoff(case, False)
            pivotal += chance if d == 0 else 0.0
    return Expected(approve, deny, pivotal)


def outcome_by_size(rows: dict[str, np.ndarray], max_size: int = 16) -> dict[int, dict[str, int]]:
    """Settlements per outcome by the thread's co-authors at the start of the day (`History` columns `day`,
    `thread`, `coauthors` at the end of the day, and the outcomes), sizes capped at `max_size` (the last bucket
    is `max_size` and more). A thread starts with its creator alone."""
    order = np.lexsort((rows["day"], rows["thread"]))
    thread = rows["thread"][order]
    end = rows["coauthors"][order].astype(np.int64)
    start = np.concatenate([[1], end[:-1]])
    start[np.concatenate([[True], thread[1:] != thread[:-1]])] = 1  # each thread's first day
    size = np.minimum(start, max_size)
    out: dict[int, dict[str, int]] = {}
    for n in np.unique(size).tolist():
        mask = size == n
        out[int(n)] = {o: int(rows[o][order][mask].sum()) for o in OUTCOMES}
    return out


def compare_rules(
    params: SimParams, thresholds: tuple[int, ...] = (UNANIMOUS, PROPOSED_THRESHOLD_BPS)
) -> dict[str, Any]:
    """Run the model under each threshold: outcome totals, outcomes by thread size, mean co-authors per day."""
    from choir_chain.simulation.runner import conservation_gap, run_model

    runs: dict[str, Any] = {}
    for threshold in thresholds:
        result = run_model(replace(params, approval_threshold_bps=threshold))
        if conservation_gap(result.final, result.params):
            raise RuntimeError("the ledger does not conserve value")
        h = result.history
        rows = {name: h.column(name) for name in ("day", "thread", "coauthors", *OUTCOMES)}
        days = rows["day"].astype(np.int64)
        growth = [float(rows["coauthors"][days == d].mean()) for d in range(params.days)]
        runs[str(threshold)] = {
            "settled": result.totals.settled,
            "by_size": outcome_by_size(rows),
            "mean_coauthors": growth,
            "final_coauthors": sum(len(s) for s in result.final.shares.values()),
        }
    return runs
