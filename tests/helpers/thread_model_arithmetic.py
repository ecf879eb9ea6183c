"""The stateful thread test's model, its numbers and pure arithmetic: the protocol constants it predicts with,
the spec statuses, the shares an approval adds (protocol 5), a settlement's division (protocol 3) and a
reward's citation split (protocol 7), written from protocol.md independently of the contracts."""

from __future__ import annotations

import math

from choir_chain.protocol.approval import UNANIMOUS_BPS
from helpers.contracts import DAY

WAD = 10**18
YEAR = 365 * DAY

# RewardsDistributor (protocol 1 and 7)
CITATION_SHARE_BPS = 1_000
MODEL_ID = "all-MiniLM-L6-v2"
EMISSION_END = 4 * YEAR
MAX_CITATIONS = 8

# IThreadDAO.SpecStatus
NONE, PENDING, APPROVED, DENIED, SPLIT, EXPIRED, REFUNDED = range(7)
STATUS_NAMES = ["None", "Pending", "Approved", "Denied", "Split", "Expired", "Refunded"]
# ThreadDAO.MAX_TOTAL_SHARES: approvals stop adding shares there (protocol 3, r2)
MAX_TOTAL_SHARES = 2**200 - 1


def new_shares(stake: int, price: int, coauthors_before: int, treasury_before: int, total: int) -> int:
    """protocol 5: e = min(sqrt(s / P0) / (N + 1), 1/2, s / (T + s)) with T the treasury before the stake (r2: the
    NAV floor), new = total * e / (1 - e), WAD integers rounded down, at least 1; a thread nobody holds shares in
    starts again at 1e18; never past MAX_TOTAL_SHARES (protocol 3, r2)."""
    if total == 0:
        return WAD
    e = min(equity_without_floor(stake, price, coauthors_before), stake * WAD // (treasury_before + stake))
    return min(max(total * e // (WAD - e), 1), MAX_TOTAL_SHARES - total)


def equity_without_floor(stake: int, price: int, coauthors_before: int) -> int:
    """protocol 5 before r2: min(sqrt(s / P0) / (N + 1), 1/2) in WAD."""
    return min(math.isqrt(stake * WAD * WAD // price) // (coauthors_before + 1), WAD // 2)


def divide(stake: int, approvals: int, denials: int, threshold: int = UNANIMOUS_BPS) -> tuple[int, int, int]:
    """protocol 3: (outcome, treasury gain, payout per denier), integer division, remainder to the treasury;
    approved when `approvals * 10,000 >= threshold * votes cast` (with a vote), and then no denier is paid."""
    if denials == 0:
        return (EXPIRED if approvals == 0 else APPROVED), stake, 0
    if approvals and approvals * UNANIMOUS_BPS >= threshold * (approvals + denials):
        return APPROVED, stake, 0
    if approvals == 0:
        per = stake // denials
        return DENIED, stake - per * denials, per
    per = stake * denials // (approvals + denials) // denials
    return SPLIT, stake - per * denials, per


def split_reward(total: int, cited_threads: int) -> tuple[int, int]:
    """protocol 7: (to each cited thread, to the citing thread): 10% split equally among the distinct other threads
    cited, rounded down; the citing thread gets the rest."""
    if cited_threads == 0:
        return 0, total
    per = total * CITATION_SHARE_BPS // 10_000 // cited_threads
    return per, total - per * cited_threads
