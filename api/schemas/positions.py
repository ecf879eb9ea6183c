"""An account's position in one thread: its equity, what an exit pays now and when it may leave, and the curator
rewards it may claim."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.common import ALICE, Address, Count, Wei, examples


class ClaimableOut(BaseModel):
    spec_id: Count
    amount: Wei = Field(description="ThreadDAO.curatorRewardOf(spec, account): the denier's unclaimed share.")


class PositionOut(BaseModel):
    """Read live from the chain (shares, treasury, cooldown), the claimable specs found through the indexed
    votes."""

    model_config = examples(
        {
            "thread_id": 1,
            "account": ALICE,
            "shares": "1000000000000000000",
            "total_shares": "1000000000000000000",
            "treasury": "102000000000000000000",
            "exit_payout": "102000000000000000000",
            "joined_at": 1767225600,
            "exit_cooldown": 86400,
            "exit_available_at": 1767312000,
            "now": 1767916800,
            "claimable": [{"spec_id": 3, "amount": "20500000000000000003"}],
        }
    )

    thread_id: int = Field(ge=1)
    account: Address
    shares: Wei
    total_shares: Wei
    treasury: Wei
    exit_payout: Wei = Field(description="treasury * shares / total_shares: what `exit()` would pay now (0: none).")
    joined_at: Count | None = Field(description="When the account's shares last changed (null: not a co-author).")
    exit_cooldown: Count = Field(description="ThreadDAO.EXIT_COOLDOWN, seconds.")
    exit_available_at: Count | None = Field(
        description="The first timestamp at which `exit()` succeeds (null: not a co-author)."
    )
    now: Count = Field(description="The latest block's timestamp.")
    claimable: list[ClaimableOut] = Field(description="Specs the account denied whose share it has not claimed.")
