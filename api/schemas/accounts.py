"""Accounts, current prices, health."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import (
    ALICE,
    Address,
    Count,
    Meta,
    Wei,
    examples,
)


class EquityOut(BaseModel):
    thread_id: int = Field(ge=1)
    shares: Wei
    total_shares: Wei


class OpenStakeOut(BaseModel):
    thread_id: int = Field(ge=1)
    spec_id: Count
    stake: Wei


class AccountVoteOut(BaseModel):
    thread_id: int = Field(ge=1)
    spec_id: Count
    approve: bool


class AccountOut(BaseModel):
    """An account's CHOIR balance, its equity, its pending specs' stakes and its votes on specs."""

    model_config = examples(
        {
            "address": ALICE,
            "balance": "9940000000000000000000",
            "equity": [{"thread_id": 1, "shares": "1000000000000000000", "total_shares": "1000000000000000000"}],
            "open_stakes": [{"thread_id": 2, "spec_id": 4, "stake": "50000000000000000000"}],
            "votes": [{"thread_id": 1, "spec_id": 2, "approve": True}],
        }
    )

    address: Address
    balance: Wei
    equity: list[EquityOut]
    open_stakes: list[OpenStakeOut]
    votes: list[AccountVoteOut]
    meta: Meta | None = Field(default=None, description="The block this answer reflects.")


PRICE_EXAMPLE: dict[str, Any] = {
    "thread_id": 1,
    "price": "50000000000000000000",
    "last_round": 2,
    "updated_at": 1767916800,
}


class PriceOut(BaseModel):
    """A thread's live stake price, and the round and time of the last price pushed (null: none yet)."""

    model_config = examples(PRICE_EXAMPLE)

    thread_id: int = Field(ge=1)
    price: Wei
    last_round: Count | None
    updated_at: Count | None


class PriceList(BaseModel):
    model_config = examples({"items": [PRICE_EXAMPLE]})

    items: list[PriceOut]


class HealthOut(BaseModel):
    """`degraded` when the chain or the database does not answer, the chain is not the manifest's, or the
    indexer is more than `MAX_HEALTHY_LAG` blocks behind."""

    model_config = examples(
        {
            "status": "ok",
            "chain_id": 31337,
            "chain_head": 120,
            "indexed_block": 120,
            "indexer_lag": 0,
            "pricer_round": 2,
        }
    )

    status: Literal["ok", "degraded"]
    chain_id: Count | None
    chain_head: Count | None
    indexed_block: Count | None
    indexer_lag: int | None = Field(description="chain_head - indexed_block (null if either is unknown).")
    pricer_round: Count | None = Field(description="ChoirHub.lastRound() (null if the chain does not answer).")


class Ping(BaseModel):
    model_config = examples({"ok": True})

    ok: Literal[True] = True
