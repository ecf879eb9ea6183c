"""What the gateway adds to a message or spec row from the rewards distributor's events: its novelty score and
weight once the oracle scored it, and its reward once its epoch's allocation paid it (protocol 7, revision 2)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from choir_chain.indexer.models import MessageReward, NoveltyScore
from choir_chain.pricing.novelty import novelty_reward

NOT_SCORED: dict[str, Any] = {"max_similarity": None, "novelty": None, "novelty_weight": None}
NOT_REWARDED: dict[str, Any] = {"reward": None, "reward_epoch": None}


def novelty_and_rewards(session: Session, global_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """global id -> `max_similarity`, `novelty` and `novelty_weight` once scored (else null), and `reward` (wei, a
    decimal string) and `reward_epoch` once its epoch's allocation minted it (else null), for every id given."""
    wanted = sorted(set(global_ids))
    out: dict[int, dict[str, Any]] = {i: {**NOT_SCORED, **NOT_REWARDED} for i in wanted}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.execute(
            select(NoveltyScore.message_id, NoveltyScore.max_similarity).where(NoveltyScore.message_id.in_(chunk))
        )
        for message_id, similarity in rows:
            similarity = min(1.0, max(-1.0, float(similarity)))
            out[int(message_id)].update(
                max_similarity=similarity, novelty=1.0 - similarity, novelty_weight=novelty_reward(similarity)
            )
        rewards = session.execute(
            select(MessageReward.message_id, MessageReward.amount, MessageReward.epoch).where(
                MessageReward.message_id.in_(chunk)
            )
        )
        for message_id, amount, epoch in rewards:
            out[int(message_id)].update(reward=str(amount), reward_epoch=int(epoch))
    return out
