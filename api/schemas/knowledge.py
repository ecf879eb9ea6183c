"""The knowledge network: semantic search and the citation graph."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import (
    ALICE,
    HASH,
    THREAD_1,
    Address,
    Count,
    GlobalId,
    Hash32,
    MessageKind,
    Wei,
    examples,
)
from api.schemas.messages import AuthorKindOut


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

    model_config = examples(SEARCH_HIT_EXAMPLE)

    content_hash: Hash32
    score: float = Field(ge=-1, le=1, description="Cosine similarity of the body to the query.")
    body: str
    messages: list[SearchMessage] = Field(description="Indexed messages with this content hash, by global id.")


class SearchResult(BaseModel):
    """The top `k` stored bodies by cosine similarity to the query's sentence embedding, best first."""

    model_config = examples({"query": "alice", "k": 10, "searched": 12, "items": [SEARCH_HIT_EXAMPLE]})

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

    model_config = examples(GRAPH_NODE_EXAMPLE)

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

    model_config = examples(GRAPH_EDGE_EXAMPLE)

    source: int = Field(ge=1, description="The citing thread.")
    target: int = Field(ge=1, description="The cited thread.")
    citations: int = Field(ge=0, description="Counted citation links from source to target (the edge's weight).")
    choir: Wei = Field(description="CHOIR (wei) credited to target through citation rewards of source's messages.")


class NetworkGraph(BaseModel):
    """Every thread as a node, every pair of threads with counted citations between them as a weighted edge."""

    model_config = examples({"nodes": [GRAPH_NODE_EXAMPLE], "edges": [GRAPH_EDGE_EXAMPLE]})

    nodes: list[GraphNode] = Field(description="By thread id.")
    edges: list[GraphEdge] = Field(description="By source, then target.")


class ThreadGraph(NetworkGraph):
    """A thread's citations in and out: the thread, the threads it cites or is cited by, and those edges."""

    model_config = examples(
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
