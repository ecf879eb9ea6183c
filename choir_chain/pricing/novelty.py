"""Novelty reward of a message from its highest similarity to earlier messages (protocol section 7)."""

from __future__ import annotations

import math

__all__ = ["MAX_NOVELTY_REWARD", "NOVELTY_THRESHOLD", "novelty_reward"]

#: Above this cosine similarity a message earns no novelty reward.
NOVELTY_THRESHOLD = 0.95
#: The novelty reward never exceeds this, in CHOIR.
MAX_NOVELTY_REWARD = 100.0
#: Reward at the threshold, in CHOIR; it grows tenfold for every 0.05 of similarity below it.
BASE_NOVELTY_REWARD = 0.01


def novelty_reward(max_similarity: float) -> float:
    """``0.01 * exp((ln 10 / 0.05) * (0.95 - maxSim))``, 0 above 0.95, capped at 100: a message's novelty weight.

    ``max_similarity`` is the highest cosine similarity (in [-1, 1]) of the message's sentence embedding to any
    earlier message. The chain (``RewardsDistributor.noveltyWeight``) computes the same curve in WAD fixed point;
    an approved spec's reward is its weight's share of its epoch's budget (protocol section 7, revision 2).
    """
    if math.isnan(max_similarity) or not -1.0 <= max_similarity <= 1.0:
        raise ValueError(f"max_similarity must lie in [-1, 1], got {max_similarity!r}")
    if max_similarity > NOVELTY_THRESHOLD:
        return 0.0
    slope = math.log(10.0) / 0.05
    return min(BASE_NOVELTY_REWARD * math.exp(slope * (NOVELTY_THRESHOLD - max_similarity)), MAX_NOVELTY_REWARD)
