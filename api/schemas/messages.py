"""Messages, specs and their votes, price history, governor proposals."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from api.schemas.common import (
    ALICE,
    BOB,
    HASH,
    THREAD_1,
    Address,
    AuthorKindName,
    Count,
    GlobalId,
    Hash32,
    MessageKind,
    Page,
    ProposalState,
    SpecStatus,
    Wei,
    examples,
)

MESSAGE_EXAMPLE: dict[str, Any] = {
    "index": 1,
    "global_id": "18446744073709551617",
    "author": ALICE,
    "content_hash": HASH,
    "kind": "post",
    "timestamp": 1767225602,
    "citations": ["36893488147419103232", "18446744073709551616"],
    "body": "alice post",
    "author_kind": "human",
    "max_similarity": 0.82,
    "novelty": 0.18,
    "novelty_weight": 3.981071705534973,
    "reward": "1250000000000000000000",
    "reward_epoch": 0,
}

AuthorKindOut = Annotated[
    AuthorKindName, Field(description="What the submitter declared on chain: `human`, `ai` or `ai_prompted`.")
]
MaxSimilarity = Annotated[
    float | None,
    Field(ge=-1, le=1, description="Highest cosine similarity of its body to any earlier message (null: not scored)."),
]
Novelty = Annotated[float | None, Field(ge=0, le=2, description="`1 - max_similarity` (null: not scored).")]
NoveltyWeight = Annotated[
    float | None,
    Field(
        ge=0,
        le=100,
        description="Its novelty weight (a number): `0.01 * exp((ln 10 / 0.05) * (0.95 - max_similarity))`, 0 above "
        "0.95, at most 100. An approved spec's reward is its weight's share of its epoch's budget (null: not "
        "scored, no weight, no reward).",
    ),
]
Reward = Annotated[
    str | None,
    Field(
        pattern=r"^[0-9]+$",
        description="CHOIR (wei, decimal string) minted for it from the budget of the epoch in which its approval "
        "became certain, once that epoch's allocation landed (null: not paid, or not yet).",
    ),
]
RewardEpoch = Annotated[int | None, Field(ge=0, description="The epoch whose allocation paid `reward` (null: none).")]


class MessageOut(BaseModel):
    """A message of a thread; `body` once someone stored it with `POST /content`; its novelty once scored; its reward
    once its epoch's allocation paid it."""

    model_config = examples(MESSAGE_EXAMPLE)

    index: Count
    global_id: GlobalId
    author: Address
    content_hash: Hash32
    kind: MessageKind
    timestamp: Count
    citations: list[GlobalId]
    body: str | None
    author_kind: AuthorKindOut
    max_similarity: MaxSimilarity
    novelty: Novelty
    novelty_weight: NoveltyWeight
    reward: Reward
    reward_epoch: RewardEpoch


class MessagePage(Page[MessageOut]):
    model_config = examples({"items": [MESSAGE_EXAMPLE], "total": 6, "limit": 1, "offset": 1})


class VoteOut(BaseModel):
    model_config = examples({"voter": ALICE, "approve": True})

    voter: Address
    approve: bool


SPEC_EXAMPLE: dict[str, Any] = {
    "spec_id": 2,
    "author": BOB,
    "stake": "30000000000000000000",
    "price": "30000000000000000000",
    "deadline": 1767830402,
    "status": "approved",
    "approvals": 1,
    "denials": 0,
    "eligible": 1,
    "votes": [{"voter": ALICE, "approve": True}],
    "citations": ["18446744073709551617"],
    "author_kind": "ai_prompted",
    "max_similarity": None,
    "novelty": None,
    "novelty_weight": None,
    "reward": None,
    "reward_epoch": None,
}


class SpecOut(BaseModel):
    """A staked submission and the co-authors' votes on it; its novelty once scored; its reward once paid."""

    model_config = examples(SPEC_EXAMPLE)

    spec_id: Count
    author: Address
    stake: Wei
    price: Wei = Field(description="The stake price when it was submitted.")
    deadline: Count
    status: SpecStatus
    approvals: Count
    denials: Count
    eligible: Count = Field(description="Co-authors allowed to vote on it (those at its submission).")
    votes: list[VoteOut]
    citations: list[GlobalId]
    author_kind: AuthorKindOut
    max_similarity: MaxSimilarity
    novelty: Novelty
    novelty_weight: NoveltyWeight
    reward: Reward
    reward_epoch: RewardEpoch


class SpecPage(Page[SpecOut]):
    model_config = examples({"items": [SPEC_EXAMPLE], "total": 3, "limit": 1, "offset": 0})


PRICE_POINT_EXAMPLE: dict[str, Any] = {
    "round": 1,
    "price": "40000000000000000000",
    "timestamp": 1767225620,
    "block": 42,
}


class PricePointOut(BaseModel):
    """A price the pricer pushed for the thread."""

    model_config = examples(PRICE_POINT_EXAMPLE)

    round: Count
    price: Wei
    timestamp: Count
    block: Count


class PricePointPage(Page[PricePointOut]):
    model_config = examples({"items": [PRICE_POINT_EXAMPLE], "total": 2, "limit": 1, "offset": 0})


PROPOSAL_EXAMPLE: dict[str, Any] = {
    "proposal_id": "81129593658128521426340183478633431960224185738263617893484339183713617290153",
    "proposer": ALICE,
    "description": "pay heidi",
    "state": "Executed",
    "votes_for": "1000000000000000000",
    "votes_against": "0",
    "votes_abstain": "0",
    "snapshot": 1767916900,
    "deadline": 1768521700,
    "eta": 1768694600,
    "targets": [THREAD_1],
    "values": ["0"],
    "calldatas": ["0x6e1b3c2f"],
}


class ProposalOut(BaseModel):
    """A proposal of the thread's governor (OpenZeppelin Governor), read live from the chain."""

    model_config = examples(PROPOSAL_EXAMPLE)

    proposal_id: Wei
    proposer: Address
    description: str
    state: ProposalState = Field(description="OpenZeppelin's state; Failed: executed, its calls reverted (final).")
    votes_for: Wei
    votes_against: Wei
    votes_abstain: Wei
    snapshot: Count = Field(description="Timepoint (timestamp) at which votes are weighed.")
    deadline: Count = Field(description="Last timepoint (timestamp) of the vote.")
    eta: Count | None = Field(description="Earliest execution time once queued (null: not queued).")
    targets: list[Address]
    values: list[Wei]
    calldatas: list[Annotated[str, Field(pattern=r"^0x([0-9a-f]{2})*$")]]


class ProposalPage(Page[ProposalOut]):
    model_config = examples({"items": [PROPOSAL_EXAMPLE], "total": 1, "limit": 20, "offset": 0})
