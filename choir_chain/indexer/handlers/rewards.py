"""Handlers of the RewardsDistributor's events: novelty scores and epoch allocations."""

from __future__ import annotations

from choir_chain.chain.events import Event
from choir_chain.indexer.errors import InconsistentEvent
from choir_chain.indexer.handlers.registry import REWARDS, event_timestamp, handles
from choir_chain.indexer.models import (
    EpochAllocation,
    MessageReward,
    NoveltyScore,
)
from choir_chain.indexer.store import Store
from choir_chain.protocol import WAD, split_message_id


@handles(REWARDS, "NoveltyScoresSet")
def novelty_scores_set(store: Store, event: Event) -> None:
    """One row per scored message; a later round (or a repeat within the batch) overwrites, as on chain."""
    round_, ids, similarities = event.args["round"], event.args["messageIds"], event.args["maxSimilarities"]
    if len(ids) != len(similarities):
        raise InconsistentEvent(f"NoveltyScoresSet round {round_}: {len(ids)} ids, {len(similarities)} scores")
    for global_id, wad in zip(ids, similarities, strict=True):
        thread_id, index = split_message_id(global_id)
        values = {
            "thread_id": thread_id,
            "message_index": index,
            "max_similarity": wad / WAD,
            "round": round_,
            "model_id": event.args["modelId"],
            "calibration_version": event.args["calibrationVersion"],
            "block": event.block,
            "tx_hash": event.tx_hash,
            "log_index": event.log_index,
        }
        row = store.get(NoveltyScore, global_id)
        if row is None:
            store.create(NoveltyScore(message_id=global_id, **values), global_id)
        else:
            for name, value in values.items():
                setattr(row, name, value)


@handles(REWARDS, "MessageRewarded")
def message_rewarded(store: Store, event: Event) -> None:
    global_id = event.args["messageId"]
    thread_id, index = split_message_id(global_id)
    store.insert(
        MessageReward,
        message_id=global_id,
        thread_id=thread_id,
        message_index=index,
        epoch=event.args["epoch"],
        amount=event.args["amount"],
        to_thread=event.args["toThread"],
        score_round=event.args["scoreRound"],
        block=event.block,
        tx_hash=event.tx_hash,
        log_index=event.log_index,
        timestamp=event_timestamp(event),
    )


@handles(REWARDS, "EpochAllocated")
def epoch_allocated(store: Store, event: Event) -> None:
    store.insert(
        EpochAllocation,
        block=event.block,
        log_index=event.log_index,
        epoch=event.args["epoch"],
        messages=event.args["messages"],
        amount=event.args["amount"],
        allocated=event.args["allocated"],
        budget=event.args["budget"],
        tx_hash=event.tx_hash,
        timestamp=event_timestamp(event),
    )
