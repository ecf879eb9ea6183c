"""Response (and request) models of the gateway's read and content routes, with OpenAPI examples.

Amounts and shares are decimal strings (JSON numbers lose precision past 2**53), as are global message ids
(`threadId << 64 | index`, always >= 2**64) and governor proposal ids (256-bit hashes). Thread ids, message
indexes, spec ids, rounds, blocks and timestamps are JSON integers.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Wei = Annotated[
    str, Field(pattern=r"^[0-9]+$", description="A uint256 as a decimal string.", examples=["30000000000000000000"])
]
GlobalId = Annotated[
    str,
    Field(
        pattern=r"^[0-9]+$",
        description="A global message id `threadId << 64 | index`, as a decimal string.",
        examples=["18446744073709551616"],
    ),
]
Address = Annotated[
    str,
    Field(
        pattern=r"^0x[0-9a-fA-F]{40}$",
        description="An EIP-55 checksummed address.",
        examples=["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"],
    ),
]
Hash32 = Annotated[
    str,
    Field(
        pattern=r"^0x[0-9a-f]{64}$",
        description="A 32-byte hash, lowercase 0x hex.",
        examples=["0x9c22ff5f21f0b81b113e63f7db6da94fedef11b2119b4088b89664fb9a3cb658"],
    ),
]
Count = Annotated[int, Field(ge=0)]

ThreadSort = Literal["price", "activity", "created"]
SortOrder = Literal["asc", "desc"]
SpecStatus = Literal["pending", "approved", "denied", "split", "expired", "refunded"]
MessageKind = Literal["root", "post", "spec"]
AuthorKindName = Literal["human", "ai", "ai_prompted"]
"""`choir_chain.protocol.AuthorKind.label`: a person (ugc), an AI (aigc), an AI on a person's prompt (aiugc)."""
ProposalState = Literal[
    "Pending", "Active", "Canceled", "Defeated", "Succeeded", "Queued", "Expired", "Executed", "Failed"
]

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
THREAD_1 = "0x8464135c8F25Da09e49BC8782676a84730C318bC"
GOVERNOR_1 = "0xC322C66b850c77e2EE8D832f5296856572E5CB8C"
HASH = "0x9c22ff5f21f0b81b113e63f7db6da94fedef11b2119b4088b89664fb9a3cb658"


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: `items`, how many there are in all, and the page's `limit` and `offset`."""

    items: list[T]
    total: Count
    limit: Count
    offset: Count


# ------------------------------------------------------------------------------------------------------------
# Threads
# ------------------------------------------------------------------------------------------------------------

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
}


class ThreadSummary(BaseModel):
    """A thread as the indexer knows it, with its live stake price."""

    model_config = _examples(THREAD_EXAMPLE)

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
    price: Wei = Field(description="Live ChoirHub.price(threadId): the stake a spec needs now.")
    last_price_round: Count | None = Field(description="The pricer round of the last price pushed (null: none).")
    citations_received: Count
    governor: Address | None
    last_activity: Count = Field(description="Timestamp of the thread's latest message, vote or settlement.")


class CoauthorOut(BaseModel):
    model_config = _examples({"account": ALICE, "shares": "1000000000000000000", "joined_timestamp": 1767225600})

    account: Address
    shares: Wei
    joined_timestamp: Count


class ThreadDetail(ThreadSummary):
    """A thread with its approval window and its current co-authors."""

    model_config = _examples(
        {
            **THREAD_EXAMPLE,
            "approval_window": 604800,
            "coauthors": [{"account": ALICE, "shares": "1000000000000000000", "joined_timestamp": 1767225600}],
        }
    )

    approval_window: Count = Field(description="Seconds co-authors have to vote on a new spec (live).")
    coauthors: list[CoauthorOut]


class ThreadPage(Page[ThreadSummary]):
    model_config = _examples({"items": [THREAD_EXAMPLE], "total": 2, "limit": 1, "offset": 0})


# ------------------------------------------------------------------------------------------------------------
# Messages, specs, prices, proposals
# ------------------------------------------------------------------------------------------------------------

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

    model_config = _examples(MESSAGE_EXAMPLE)

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
    model_config = _examples({"items": [MESSAGE_EXAMPLE], "total": 6, "limit": 1, "offset": 1})


class VoteOut(BaseModel):
    model_config = _examples({"voter": ALICE, "approve": True})

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

    model_config = _examples(SPEC_EXAMPLE)

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
    model_config = _examples({"items": [SPEC_EXAMPLE], "total": 3, "limit": 1, "offset": 0})


PRICE_POINT_EXAMPLE: dict[str, Any] = {
    "round": 1,
    "price": "40000000000000000000",
    "timestamp": 1767225620,
    "block": 42,
}


class PricePointOut(BaseModel):
    """A price the pricer pushed for the thread."""

    model_config = _examples(PRICE_POINT_EXAMPLE)

    round: Count
    price: Wei
    timestamp: Count
    block: Count


class PricePointPage(Page[PricePointOut]):
    model_config = _examples({"items": [PRICE_POINT_EXAMPLE], "total": 2, "limit": 1, "offset": 0})


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

    model_config = _examples(PROPOSAL_EXAMPLE)

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
    model_config = _examples({"items": [PROPOSAL_EXAMPLE], "total": 1, "limit": 20, "offset": 0})


# ------------------------------------------------------------------------------------------------------------
# Accounts, prices, health
# ------------------------------------------------------------------------------------------------------------


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
    """An account's CHOIR balance (live), its equity, its pending specs' stakes and its votes on specs."""

    model_config = _examples(
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


PRICE_EXAMPLE: dict[str, Any] = {
    "thread_id": 1,
    "price": "50000000000000000000",
    "last_round": 2,
    "updated_at": 1767916800,
}


class PriceOut(BaseModel):
    """A thread's live stake price, and the round and time of the last price pushed (null: none yet)."""

    model_config = _examples(PRICE_EXAMPLE)

    thread_id: int = Field(ge=1)
    price: Wei
    last_round: Count | None
    updated_at: Count | None


class PriceList(BaseModel):
    model_config = _examples({"items": [PRICE_EXAMPLE]})

    items: list[PriceOut]


class HealthOut(BaseModel):
    """`degraded` when the chain or the database does not answer, the chain is not the manifest's, or the
    indexer is more than `MAX_HEALTHY_LAG` blocks behind."""

    model_config = _examples(
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
    model_config = _examples({"ok": True})

    ok: Literal[True] = True


# ------------------------------------------------------------------------------------------------------------
# Content
# ------------------------------------------------------------------------------------------------------------


class ContentIn(BaseModel):
    """A message body; its keccak256 (of the UTF-8 bytes) must be the content hash of an indexed message."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"body": "alice post"}]})

    body: str


class ContentStored(BaseModel):
    model_config = _examples({"content_hash": HASH, "messages": ["18446744073709551617"]})

    content_hash: Hash32
    messages: list[GlobalId] = Field(description="Global ids of the messages with this content hash.")


class ContentOut(BaseModel):
    model_config = _examples({"content_hash": HASH, "body": "alice post"})

    content_hash: Hash32
    body: str


# ------------------------------------------------------------------------------------------------------------
# The knowledge network: semantic search and the citation graph
# ------------------------------------------------------------------------------------------------------------


class SearchMessage(BaseModel):
    """A message whose body is the hit."""

    thread_id: int = Field(ge=1)
    index: Count
    global_id: GlobalId
    kind: MessageKind
    author: Address
    author_kind: AuthorKindOut


SEARCH_HIT_EXAMPLE: dict[str, Any] = {
    "content_hash": HASH,
    "score": 0.71,
    "body": "alice post",
    "messages": [
        {
            "thread_id": 1,
            "index": 1,
            "global_id": "18446744073709551617",
            "kind": "post",
            "author": ALICE,
            "author_kind": "human",
        }
    ],
}


class SearchHit(BaseModel):
    """A stored body, its cosine similarity to the query, and the messages that carry it."""

    model_config = _examples(SEARCH_HIT_EXAMPLE)

    content_hash: Hash32
    score: float = Field(ge=-1, le=1, description="Cosine similarity of the body to the query.")
    body: str
    messages: list[SearchMessage] = Field(description="Indexed messages with this content hash, by global id.")


class SearchResult(BaseModel):
    """The top `k` stored bodies by cosine similarity to the query's sentence embedding, best first."""

    model_config = _examples({"query": "alice", "k": 10, "searched": 12, "items": [SEARCH_HIT_EXAMPLE]})

    query: str
    k: int = Field(ge=1)
    searched: Count = Field(description="Stored bodies the search looked through.")
    items: list[SearchHit]


GRAPH_NODE_EXAMPLE: dict[str, Any] = {
    "thread_id": 1,
    "address": THREAD_1,
    "creator": ALICE,
    "title": "root 1",
    "message_count": 6,
    "citations_received": 3,
    "citations_made": 2,
}
GRAPH_EDGE_EXAMPLE: dict[str, Any] = {"source": 1, "target": 2, "citations": 2, "choir": "1000000000000000000"}


class GraphNode(BaseModel):
    """A thread of the citation network."""

    model_config = _examples(GRAPH_NODE_EXAMPLE)

    thread_id: int = Field(ge=1)
    address: Address
    creator: Address
    title: str | None = Field(description="The start of its root message's body, if stored (null: not stored).")
    message_count: Count
    citations_received: Count = Field(description="Counted citations from other threads (hub.citationsReceived).")
    citations_made: Count = Field(description="Counted citations of other threads by this thread's messages.")


class GraphEdge(BaseModel):
    """Citations of thread `target` by messages of thread `source`, counted as the hub counts them: a post at
    once, a spec once approved, never a thread citing itself."""

    model_config = _examples(GRAPH_EDGE_EXAMPLE)

    source: int = Field(ge=1, description="The citing thread.")
    target: int = Field(ge=1, description="The cited thread.")
    citations: int = Field(ge=0, description="Counted citation links from source to target (the edge's weight).")
    choir: Wei = Field(description="CHOIR (wei) credited to target through citation rewards of source's messages.")


class NetworkGraph(BaseModel):
    """Every thread as a node, every pair of threads with counted citations between them as a weighted edge."""

    model_config = _examples({"nodes": [GRAPH_NODE_EXAMPLE], "edges": [GRAPH_EDGE_EXAMPLE]})

    nodes: list[GraphNode] = Field(description="By thread id.")
    edges: list[GraphEdge] = Field(description="By source, then target.")


class ThreadGraph(NetworkGraph):
    """A thread's citations in and out: the thread, the threads it cites or is cited by, and those edges."""

    model_config = _examples(
        {
            "thread_id": 1,
            "nodes": [GRAPH_NODE_EXAMPLE],
            "edges": [GRAPH_EDGE_EXAMPLE],
            "citations_in": 0,
            "citations_out": 2,
            "choir_in": "0",
            "choir_out": "1000000000000000000",
        }
    )

    thread_id: int = Field(ge=1)
    citations_in: Count
    citations_out: Count
    choir_in: Wei = Field(description="CHOIR credited to this thread through citation rewards.")
    choir_out: Wei = Field(description="CHOIR this thread's messages sent to cited threads as citation rewards.")
