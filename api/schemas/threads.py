"""Threads: summaries, details, co-authors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import (
    ALICE,
    GOVERNOR_1,
    HASH,
    THREAD_1,
    Address,
    Count,
    Hash32,
    Meta,
    Page,
    Wei,
    examples,
)

THREAD_EXAMPLE: dict[str, Any] = {
    "thread_id": 1,
    "address": THREAD_1,
    "creator": ALICE,
    "content_hash": HASH,
    "created_timestamp": 1767225600,
    "message_count": 6,
    "coauthor_count": 1,
    "total_shares": "1000000000000000000",
    "treasury": "102000000000000000000",
    "locked": "50000000000000000000",
    "price": "30000000000000000000",
    "last_price_round": 2,
    "citations_received": 3,
    "governor": GOVERNOR_1,
    "last_activity": 1767916800,
    "title": "A shared spec for the Choir chain",
}


class ThreadSummary(BaseModel):
    """A thread as the indexer knows it, with its live stake price."""

    model_config = examples(THREAD_EXAMPLE)

    thread_id: int = Field(ge=1)
    address: Address
    creator: Address
    content_hash: Hash32
    created_timestamp: Count
    message_count: Count
    coauthor_count: Count
    total_shares: Wei
    treasury: Wei = Field(description="ThreadDAO.treasury(): the thread's own funds.")
    locked: Wei = Field(description="Escrowed stakes and deniers' unclaimed shares.")
    price: Wei = Field(description="ChoirHub.price(threadId) at the answer's block: the stake a spec needs.")
    last_price_round: Count | None = Field(description="The pricer round of the last price pushed (null: none).")
    citations_received: Count
    governor: Address | None
    last_activity: Count = Field(description="Timestamp of the thread's latest message, vote or settlement.")
    title: str | None = Field(
        description="The opening words of the root message's first line (null while its body is not stored)."
    )


class CoauthorOut(BaseModel):
    model_config = examples({"account": ALICE, "shares": "1000000000000000000", "joined_timestamp": 1767225600})

    account: Address
    shares: Wei
    joined_timestamp: Count


class ThreadDetail(ThreadSummary):
    """A thread with its approval window and threshold and its current co-authors."""

    model_config = examples(
        {
            **THREAD_EXAMPLE,
            "approval_window": 604800,
            "approval_threshold": 10000,
            "coauthors": [{"account": ALICE, "shares": "1000000000000000000", "joined_timestamp": 1767225600}],
        }
    )

    approval_window: Count = Field(description="Seconds co-authors have to vote on a new spec.")
    approval_threshold: Count = Field(
        description="Basis points of the votes cast a spec's approvals must reach to approve it (10000: unanimity, "
        "every thread's default); an approved spec's whole stake goes to the treasury, deniers get nothing."
    )
    coauthors: list[CoauthorOut]
    meta: Meta | None = Field(default=None, description="The block this answer reflects.")


class ThreadPage(Page[ThreadSummary]):
    model_config = examples({"items": [THREAD_EXAMPLE], "total": 2, "limit": 1, "offset": 0})
