"""Routes: the knowledge network. Semantic search over the stored message bodies (`GET /search`) and the citation
graph between threads (`GET /graph`, `GET /threads/{id}/graph`).

Search embeds the query with the sentence-embedding model (all-MiniLM-L6-v2, `choir_chain.semantics`) and ranks
every stored body by exact cosine similarity. The model is loaded on the first search of the process (about
10 s; `load_embedder()` is a process-wide singleton) and bodies stored since the previous search are encoded
before the next one is answered, so a body is searchable as soon as `POST /content` stored it.

The graph counts a citation link as the hub does (`ChoirHub.citationsReceived`): a post's citations at once, a
spec's once it is approved, never a citation of the citing message's own thread. Edge weights are those counts,
and the CHOIR the cited thread was credited through the citing messages' approval rewards (the distributor's
citation share, from the indexer's `treasury_movements` of kind `reward`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from api.deps import MAX_INT, GatewayDep
from api.errors import ERROR_RESPONSES, ApiError, ErrorBody
from api.schemas import GraphEdge, GraphNode, NetworkGraph, SearchHit, SearchMessage, SearchResult, ThreadGraph
from api.state import Gateway
from choir_chain import content_store
from choir_chain.indexer.models import CountedCitation, Message, Thread, TreasuryMovement

router = APIRouter(tags=["knowledge network"])

MAX_K = 50
MAX_QUERY_CHARS = 1000
"""A longer query is refused: the model reads only its first 256 word pieces anyway."""
TITLE_CHARS = 80
"""A graph node's `title`: this many characters of its root message's body."""
INDEX_BITS = 64

SEARCH_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    503: {
        "model": ErrorBody,
        "description": "Search is switched off (`search_disabled`) or the embedding model cannot be loaded "
        "(`search_unavailable`)",
    },
}


# ------------------------------------------------------------------------------------------------------------
# Search
# ------------------------------------------------------------------------------------------------------------


@router.get("/search", response_model=SearchResult, responses=SEARCH_RESPONSES, summary="Semantic search of bodies")
def search(
    gw: GatewayDep,
    q: Annotated[
        str,
        Query(min_length=1, max_length=MAX_QUERY_CHARS, description="What to look for, in plain words."),
    ],
    k: Annotated[int, Query(ge=1, le=MAX_K, description="How many hits to answer, best first.")] = 10,
) -> SearchResult:
    """The `k` stored bodies most similar in meaning to `q` (cosine similarity of their sentence embeddings),
    each with the messages that carry it. The first search of a gateway process loads the model (~10 s)."""
    if not q.strip():
        raise ApiError(422, "invalid_request", "the query is blank", "q")
    if not gw.settings.search_enabled:
        raise ApiError(503, "search_disabled", "semantic search is switched off on this gateway", "q")
    from choir_chain.semantics.embedder import EmbedderError

    try:
        index = gw.semantic_search()
    except EmbedderError as err:
        raise ApiError(503, "search_unavailable", f"the embedding model cannot be loaded: {err}") from err
    hits = index.search(q, k)
    hashes = [h.content_hash for h in hits]
    bodies = content_store.bodies_of(gw.content_engine, hashes)
    carriers: dict[str, list[SearchMessage]] = defaultdict(list)
    if hashes:
        with Session(gw.engine) as session:
            rows = session.scalars(
                select(Message).where(Message.content_hash.in_(hashes)).order_by(Message.global_id)
            ).all()
        for m in rows:
            # validated from a dict: `kind` and `author_kind` are plain strings in the index, Literals in the model
            carriers[m.content_hash].append(
                SearchMessage.model_validate(
                    {
                        "thread_id": m.thread_id,
                        "index": m.message_index,
                        "global_id": str(m.global_id),
                        "kind": m.kind,
                        "author": m.author,
                        "author_kind": m.author_kind,
                    }
                )
            )
    items = [
        SearchHit(
            content_hash=h.content_hash,
            score=min(1.0, max(-1.0, float(h.score))),
            body=bodies[h.content_hash],
            messages=carriers.get(h.content_hash, []),
        )
        for h in hits
        if h.content_hash in bodies
    ]
    return SearchResult(query=q, k=k, searched=len(index), items=items)


# ------------------------------------------------------------------------------------------------------------
# The citation graph
# ------------------------------------------------------------------------------------------------------------

Pair = tuple[int, int]
"""(citing thread, cited thread)."""


def _counted_links(session: Session, where: ColumnElement[bool] | None = None) -> dict[Pair, int]:
    """Counted citations between threads (the hub's `CitationRecorded` rows), grouped by (citing, cited) thread."""
    query = (
        select(CountedCitation.citing_thread_id, CountedCitation.cited_thread_id, func.count())
        .where(*([where] if where is not None else []))
        .group_by(CountedCitation.citing_thread_id, CountedCitation.cited_thread_id)
    )
    return {(int(s), int(t)): int(n) for s, t, n in session.execute(query)}


def _citation_rewards(session: Session, thread_id: int | None = None) -> dict[Pair, int]:
    """CHOIR (wei) credited to cited threads through the approval rewards of other threads' messages, by
    (citing, cited) thread; only pairs touching `thread_id` if given."""
    query = select(TreasuryMovement.thread_id, TreasuryMovement.message_id, TreasuryMovement.amount).where(
        TreasuryMovement.kind == "reward", TreasuryMovement.message_id.is_not(None)
    )
    if thread_id is not None:
        first, after = thread_id << INDEX_BITS, (thread_id + 1) << INDEX_BITS
        query = query.where(
            or_(
                TreasuryMovement.thread_id == thread_id,
                and_(TreasuryMovement.message_id >= first, TreasuryMovement.message_id < after),
            )
        )
    out: dict[Pair, int] = defaultdict(int)
    for receiver, message_id, amount in session.execute(query):
        if message_id is None:  # excluded by the query; for the type checker
            continue
        citing = int(message_id) >> INDEX_BITS
        if citing != receiver:  # a thread's own approval reward is not a citation reward
            out[(citing, int(receiver))] += int(amount)
    return out


def _edges(links: dict[Pair, int], rewards: dict[Pair, int]) -> list[GraphEdge]:
    return [
        GraphEdge(source=s, target=t, citations=links.get((s, t), 0), choir=str(rewards.get((s, t), 0)))
        for s, t in sorted(set(links) | set(rewards))
    ]


def _nodes(gw: Gateway, threads: Iterable[Thread], made: dict[int, int]) -> list[GraphNode]:
    rows = sorted(threads, key=lambda t: t.thread_id)
    bodies = content_store.bodies_of(gw.content_engine, (t.content_hash for t in rows))
    return [
        GraphNode(
            thread_id=t.thread_id,
            address=t.address,
            creator=t.creator,
            title=_title(bodies.get(t.content_hash)),
            message_count=t.message_count,
            citations_received=t.citations_received,
            citations_made=made.get(t.thread_id, 0),
        )
        for t in rows
    ]


def _title(body: str | None) -> str | None:
    if body is None:
        return None
    line = " ".join(body.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


def _made(links: dict[Pair, int]) -> dict[int, int]:
    out: dict[int, int] = defaultdict(int)
    for (source, _), n in links.items():
        out[source] += n
    return out


@router.get("/graph", response_model=NetworkGraph, responses=ERROR_RESPONSES, summary="The citation network")
def network_graph(gw: GatewayDep) -> NetworkGraph:
    """Every thread as a node; an edge from each thread to each thread it cites, weighted by the counted
    citation links and the CHOIR credited through citation rewards."""
    with Session(gw.engine) as session:
        links = _counted_links(session)
        rewards = _citation_rewards(session)
        threads = session.scalars(select(Thread)).all()
        nodes = _nodes(gw, threads, _made(links))
    return NetworkGraph(nodes=nodes, edges=_edges(links, rewards))


@router.get(
    "/threads/{thread_id}/graph",
    response_model=ThreadGraph,
    responses=ERROR_RESPONSES,
    summary="A thread's citations in and out",
)
def thread_graph(
    gw: GatewayDep,
    thread_id: Annotated[int, PathParam(ge=0, le=MAX_INT, description="Thread id (decimal).", examples=[1])],
) -> ThreadGraph:
    """The thread, the threads it cites and those citing it as nodes, and the weighted edges between it and
    them (in and out), with its totals."""
    with Session(gw.engine) as session:
        if session.get(Thread, thread_id) is None:
            raise ApiError(404, "unknown_thread", f"no thread {thread_id}", "thread_id")
        links = _counted_links(
            session,
            or_(CountedCitation.citing_thread_id == thread_id, CountedCitation.cited_thread_id == thread_id),
        )
        rewards = _citation_rewards(session, thread_id)
        ids = {thread_id} | {t for pair in (*links, *rewards) for t in pair}
        threads = session.scalars(select(Thread).where(Thread.thread_id.in_(ids))).all()
        made = _made(_counted_links(session, CountedCitation.citing_thread_id.in_(ids)))
        nodes = _nodes(gw, threads, made)
    edges = _edges(links, rewards)
    into = [e for e in edges if e.target == thread_id]
    out_of = [e for e in edges if e.source == thread_id]
    return ThreadGraph(
        thread_id=thread_id,
        nodes=nodes,
        edges=edges,
        citations_in=sum(e.citations for e in into),
        citations_out=sum(e.citations for e in out_of),
        choir_in=str(sum(int(e.choir) for e in into)),
        choir_out=str(sum(int(e.choir) for e in out_of)),
    )
