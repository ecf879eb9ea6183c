"""Routes: reads of threads, messages, specs, prices, proposals and accounts; health and metrics.

Rows come from the indexer's database (one SQLAlchemy session per request, read only); values that must be
current come live from the chain in one JSON-RPC batch per request (stake prices, balances, approval windows,
spec eligibility, proposals). Routes are plain `def`: FastAPI runs them in its threadpool, so blocking database
and RPC calls never stall the event loop.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from sqlalchemy import and_, case, func, literal, select, type_coerce, union_all
from sqlalchemy.orm import Session
from web3 import Web3

from api import live, metrics
from api.deps import MAX_INT, GatewayDep, PageDep, Pagination
from api.errors import ERROR_RESPONSES, ApiError
from api.message_extras import novelty_and_rewards
from api.schemas import (
    AccountOut,
    HealthOut,
    MessagePage,
    Ping,
    PriceList,
    PricePointPage,
    ProposalPage,
    SortOrder,
    SpecPage,
    SpecStatus,
    ThreadDetail,
    ThreadPage,
    ThreadSort,
)
from api.state import Gateway
from choir_chain import content_store
from choir_chain.indexer.models import (
    Citation,
    Coauthor,
    Message,
    Price,
    PriceRound,
    Settlement,
    Spec,
    Thread,
    Vote,
)
from choir_chain.indexer.uint import Uint256
from choir_chain.protocol import message_id

router = APIRouter(tags=["reads"])


ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"
PRICE = live.fn("ChoirHub", "price")

ThreadId = Annotated[int, PathParam(ge=0, le=MAX_INT, description="Thread id (decimal).", examples=[1])]


def _page(items: list[Any], total: int, page: Pagination) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


def _thread(session: Session, thread_id: int) -> Thread:
    row = session.get(Thread, thread_id)
    if row is None:
        raise ApiError(404, "unknown_thread", f"no thread {thread_id}", "thread_id")
    return row


def _global_id(thread_id: int, index: int) -> str:
    return str(message_id(thread_id, index))


# ------------------------------------------------------------------------------------------------------------
# Threads
# ------------------------------------------------------------------------------------------------------------


def _activity_union(thread_ids: Sequence[int] | None = None) -> Any:
    """(thread_id, ts) of every message, vote and settlement (of `thread_ids` only, if given)."""
    parts = []
    for model in (Message, Vote, Settlement):
        part = select(model.thread_id.label("thread_id"), model.timestamp.label("ts"))
        if thread_ids is not None:
            part = part.where(model.thread_id.in_(thread_ids))
        parts.append(part)
    return union_all(*parts).subquery()


def _last_activity(session: Session, thread_ids: Sequence[int]) -> dict[int, int]:
    if not thread_ids:
        return {}
    events = _activity_union(thread_ids)
    rows = session.execute(select(events.c.thread_id, func.max(events.c.ts)).group_by(events.c.thread_id))
    return {int(t): int(ts) for t, ts in rows}


def _summaries(gw: Gateway, session: Session, threads: Sequence[Thread]) -> list[dict[str, Any]]:
    """ThreadSummary dicts of `threads`, with their live prices (one RPC batch)."""
    ids = [t.thread_id for t in threads]
    activity = _last_activity(session, ids)
    prices = live.call_many(gw, [PRICE.call(gw.hub.address, i) for i in ids])
    bodies = content_store.bodies_of(gw.content_engine, [t.content_hash for t in threads])
    return [
        {
            **_summary(t, prices[n], activity.get(t.thread_id, t.created_timestamp)),
            "title": title_of(bodies.get(t.content_hash)),
        }
        for n, t in enumerate(threads)
    ]


TITLE_CHARS = 80


def title_of(body: str | None) -> str | None:
    """A thread's title: the opening words of its root message's first non-empty line, at most `TITLE_CHARS`
    characters, cut at a word and marked with an ellipsis when longer (null while the body is not stored)."""
    if body is None:
        return None
    line = next((x.strip() for x in body.splitlines() if x.strip()), "")
    if len(line) <= TITLE_CHARS:
        return line or None
    cut = line[: TITLE_CHARS - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,;:.-") + "…"


def _summary(t: Thread, price: int, last_activity: int) -> dict[str, Any]:
    return {
        "thread_id": t.thread_id,
        "address": t.address,
        "creator": t.creator,
        "content_hash": t.content_hash,
        "created_timestamp": t.created_timestamp,
        "message_count": t.message_count,
        "coauthor_count": t.coauthor_count,
        "total_shares": str(t.total_shares),
        "treasury": str(t.treasury),
        "locked": str(t.locked),
        "price": str(price),
        "last_price_round": t.last_price_round,
        "citations_received": t.citations_received,
        "governor": t.governor,
        "last_activity": max(last_activity, t.created_timestamp),
    }


def _effective_price(gw: Gateway) -> Any:
    """SQL for what `ChoirHub.price(thread)` answers now: the last price while fresher than the heartbeat,
    else the larger of the last price and the fallback price (the fallback price if never priced); the hub's
    parameters and the head's timestamp read live."""
    hub = gw.hub.address
    heartbeat, fallback, block = live.call_many(
        gw,
        [live.fn("ChoirHub", "heartbeat").call(hub), live.fn("ChoirHub", "fallbackPrice").call(hub), live.LATEST_BLOCK],
    )
    now = int(block["timestamp"], 16)
    fresh = and_(Thread.last_price_timestamp.is_not(None), Thread.last_price_timestamp >= now - heartbeat)
    floor = literal(int(fallback), Uint256())
    above = and_(Thread.last_price.is_not(None), Thread.last_price > floor)  # stale: never below the last price
    return type_coerce(case((fresh, Thread.last_price), (above, Thread.last_price), else_=floor), Uint256())


@router.get(
    "/threads",
    response_model=ThreadPage,
    responses=ERROR_RESPONSES,
    summary="Threads, sorted and paginated",
)
def list_threads(
    gw: GatewayDep,
    page: PageDep,
    sort: Annotated[
        ThreadSort,
        Query(description="`price` (live stake price), `activity` (last_activity) or `created` (creation order)."),
    ] = "created",
    order: Annotated[SortOrder, Query(description="Ascending or descending; ties go by thread id.")] = "asc",
) -> dict[str, Any]:
    """Every thread as a ThreadSummary. `sort=price` orders by the price `ChoirHub.price` answers now (the
    indexed last price while fresher than the hub's heartbeat at the head's time, else the larger of it and the
    fallback price: the hub's own rule, evaluated in SQL), `sort=activity` by the latest message, vote or settlement."""
    with Session(gw.engine) as session:
        total = int(session.scalar(select(func.count()).select_from(Thread)) or 0)
        query = select(Thread)
        if sort == "created":
            key: Any = Thread.thread_id  # ids are given in creation order; timestamps of two threads can tie
        elif sort == "price":
            key = _effective_price(gw)
        else:
            events = _activity_union()
            activity = (
                select(events.c.thread_id, func.max(events.c.ts).label("last")).group_by(events.c.thread_id).subquery()
            )
            query = query.outerjoin(activity, activity.c.thread_id == Thread.thread_id)
            key = func.coalesce(activity.c.last, Thread.created_timestamp)
        query = query.order_by(key.desc() if order == "desc" else key.asc(), Thread.thread_id.asc())
        rows = session.scalars(query.limit(page.limit).offset(page.offset)).all()
        return _page(_summaries(gw, session, rows), total, page)


@router.get("/threads/{thread_id}", response_model=ThreadDetail, responses=ERROR_RESPONSES, summary="One thread")
def get_thread(gw: GatewayDep, thread_id: ThreadId) -> dict[str, Any]:
    """A ThreadSummary with the thread's live approval window and its current co-authors (largest share
    first)."""
    with Session(gw.engine) as session:
        t = _thread(session, thread_id)
        price, window = live.call_many(
            gw, [PRICE.call(gw.hub.address, thread_id), live.fn("ThreadDAO", "approvalWindow").call(t.address)]
        )
        activity = _last_activity(session, [thread_id]).get(thread_id, t.created_timestamp)
        members = session.scalars(
            select(Coauthor).where(Coauthor.thread_id == thread_id, Coauthor.active.is_(True))
        ).all()
        ordered = sorted(members, key=lambda m: (-m.shares, m.joined_timestamp, m.account))
        coauthors = [
            {"account": m.account, "shares": str(m.shares), "joined_timestamp": m.joined_timestamp} for m in ordered
        ]
        title = title_of(content_store.body_of(gw.content_engine, t.content_hash))
        detail = {**_summary(t, price, activity), "title": title}
        return {**detail, "approval_window": int(window), "coauthors": coauthors}


@router.get(
    "/threads/{thread_id}/messages",
    response_model=MessagePage,
    responses=ERROR_RESPONSES,
    summary="A thread's messages, oldest first",
)
def list_messages(gw: GatewayDep, thread_id: ThreadId, page: PageDep) -> dict[str, Any]:
    """Every message index of the thread (its root, co-authors' posts and specs of any outcome), with the
    global ids it cites and its body once stored (`POST /content`), else null."""
    with Session(gw.engine) as session:
        _thread(session, thread_id)
        rows = session.scalars(
            select(Message)
            .where(Message.thread_id == thread_id)
            .order_by(Message.message_index)
            .limit(page.limit)
            .offset(page.offset)
        ).all()
        cited = _citations(session, thread_id, [m.message_index for m in rows])
        scores = novelty_and_rewards(session, (m.global_id for m in rows))
        total = int(
            session.scalar(select(func.count()).select_from(Message).where(Message.thread_id == thread_id)) or 0
        )
    bodies = content_store.bodies_of(gw.content_engine, (m.content_hash for m in rows))
    items = [
        {
            "index": m.message_index,
            "global_id": str(m.global_id),
            "author": m.author,
            "content_hash": m.content_hash,
            "kind": m.kind,
            "timestamp": m.timestamp,
            "citations": cited.get(m.message_index, []),
            "body": bodies.get(m.content_hash),
            "author_kind": m.author_kind,
            **scores[m.global_id],
        }
        for m in rows
    ]
    return _page(items, total, page)


def _citations(session: Session, thread_id: int, indexes: Iterable[int]) -> dict[int, list[str]]:
    """message index -> cited global ids, in the order given."""
    wanted = list(indexes)
    if not wanted:
        return {}
    rows = session.scalars(
        select(Citation)
        .where(Citation.thread_id == thread_id, Citation.message_index.in_(wanted))
        .order_by(Citation.message_index, Citation.position)
    )
    out: dict[int, list[str]] = defaultdict(list)
    for c in rows:
        out[c.message_index].append(str(c.cited_global_id))
    return out


@router.get(
    "/threads/{thread_id}/specs",
    response_model=SpecPage,
    responses=ERROR_RESPONSES,
    summary="A thread's specs, by status",
)
def list_specs(
    gw: GatewayDep,
    thread_id: ThreadId,
    page: PageDep,
    status: Annotated[SpecStatus | None, Query(description="Only specs in this state (default: all).")] = None,
) -> dict[str, Any]:
    """Specs in id order with their votes (in the order cast), the global ids they cite and `eligible` (the
    co-authors allowed to vote, read live from `ThreadDAO.getSpec`)."""
    with Session(gw.engine) as session:
        t = _thread(session, thread_id)
        where = [Spec.thread_id == thread_id] + ([Spec.status == status] if status else [])
        total = int(session.scalar(select(func.count()).select_from(Spec).where(*where)) or 0)
        specs = session.scalars(
            select(Spec).where(*where).order_by(Spec.spec_id).limit(page.limit).offset(page.offset)
        ).all()
        ids = [s.spec_id for s in specs]
        votes: dict[int, list[dict[str, Any]]] = defaultdict(list)
        if ids:
            for v in session.scalars(
                select(Vote)
                .where(Vote.thread_id == thread_id, Vote.spec_id.in_(ids))
                .order_by(Vote.block, Vote.log_index)
            ):
                votes[v.spec_id].append({"voter": v.voter, "approve": v.approve})
        cited = _citations(session, thread_id, ids)
        scores = novelty_and_rewards(session, (message_id(thread_id, i) for i in ids))
    get_spec = live.fn("ThreadDAO", "getSpec")
    onchain = live.call_many(gw, [get_spec.call(t.address, i) for i in ids])
    items = [
        {
            "spec_id": s.spec_id,
            "author": s.author,
            "stake": str(s.stake),
            "price": str(s.price),
            "deadline": s.deadline,
            "status": s.status,
            "approvals": s.approvals,
            "denials": s.denials,
            "eligible": int(onchain[n][5]),
            "votes": votes.get(s.spec_id, []),
            "citations": cited.get(s.spec_id, []),
            "author_kind": s.author_kind,
            **scores[message_id(thread_id, s.spec_id)],
        }
        for n, s in enumerate(specs)
    ]
    return _page(items, total, page)


@router.get(
    "/threads/{thread_id}/prices",
    response_model=PricePointPage,
    responses=ERROR_RESPONSES,
    summary="A thread's price history, oldest first",
)
def list_prices(gw: GatewayDep, thread_id: ThreadId, page: PageDep) -> dict[str, Any]:
    """Every price the pricer pushed for the thread, with its round, block and block timestamp."""
    with Session(gw.engine) as session:
        _thread(session, thread_id)
        total = int(session.scalar(select(func.count()).select_from(Price).where(Price.thread_id == thread_id)) or 0)
        rows = session.execute(
            select(Price.round, Price.price, PriceRound.timestamp, PriceRound.block)
            .join(PriceRound, PriceRound.round == Price.round)
            .where(Price.thread_id == thread_id)
            .order_by(Price.round)
            .limit(page.limit)
            .offset(page.offset)
        ).all()
    items = [{"round": r, "price": str(p), "timestamp": ts, "block": b} for r, p, ts, b in rows]
    return _page(items, total, page)


@router.get(
    "/threads/{thread_id}/proposals",
    response_model=ProposalPage,
    responses=ERROR_RESPONSES,
    summary="A thread's governance proposals, oldest first (live)",
)
def list_proposals(gw: GatewayDep, thread_id: ThreadId, page: PageDep) -> dict[str, Any]:
    """Proposals from the thread governor's `ProposalCreated` logs, with their live state (OpenZeppelin
    `ProposalState` name), votes and eta; an empty list when the thread has no governor."""
    with Session(gw.engine) as session:
        indexed = _thread(session, thread_id).governor
    governor = live.governor_of(gw, thread_id, indexed)
    found = live.proposals(gw, governor) if governor else []
    return _page(found[page.offset : page.offset + page.limit], len(found), page)


# ------------------------------------------------------------------------------------------------------------
# Accounts, prices, health, metrics
# ------------------------------------------------------------------------------------------------------------


@router.get("/accounts/{address}", response_model=AccountOut, responses=ERROR_RESPONSES, summary="One account")
def get_account(
    gw: GatewayDep,
    address: Annotated[str, PathParam(pattern=ADDRESS_PATTERN, description="An address, in any case.")],
) -> dict[str, Any]:
    """The account's live CHOIR balance, its equity in every thread it is a co-author of, the stakes of its
    pending specs and its votes on specs."""
    account = Web3.to_checksum_address(address.lower())
    (balance,) = live.call_many(gw, [live.fn("ChoirToken", "balanceOf").call(gw.token.address, account)])
    with Session(gw.engine) as session:
        equity = session.execute(
            select(Coauthor.thread_id, Coauthor.shares, Thread.total_shares)
            .join(Thread, Thread.thread_id == Coauthor.thread_id)
            .where(Coauthor.account == account, Coauthor.active.is_(True))
            .order_by(Coauthor.thread_id)
        ).all()
        stakes = session.execute(
            select(Spec.thread_id, Spec.spec_id, Spec.stake)
            .where(Spec.author == account, Spec.status == "pending")
            .order_by(Spec.thread_id, Spec.spec_id)
        ).all()
        votes = session.execute(
            select(Vote.thread_id, Vote.spec_id, Vote.approve)
            .where(Vote.voter == account)
            .order_by(Vote.thread_id, Vote.spec_id)
        ).all()
    return {
        "address": account,
        "balance": str(balance),
        "equity": [{"thread_id": t, "shares": str(s), "total_shares": str(total)} for t, s, total in equity],
        "open_stakes": [{"thread_id": t, "spec_id": s, "stake": str(stake)} for t, s, stake in stakes],
        "votes": [{"thread_id": t, "spec_id": s, "approve": a} for t, s, a in votes],
    }


@router.get("/prices", response_model=PriceList, responses=ERROR_RESPONSES, summary="Every thread's price (live)")
def list_live_prices(gw: GatewayDep) -> dict[str, Any]:
    """For every thread on chain (`ChoirHub.threadCount`, so threads the indexer has not reached yet too): the
    price `ChoirHub.price` answers now, and the round and time of the last pushed price (null if none)."""
    hub = gw.hub.address
    (count,) = live.call_many(gw, [live.fn("ChoirHub", "threadCount").call(hub)])
    ids = range(1, int(count) + 1)
    calls: list[Any] = []
    for i in ids:
        calls += [PRICE.call(hub, i), live.fn("ChoirHub", "pricePoint").call(hub, i)]
    answers = live.call_many(gw, calls)
    items = []
    for n, i in enumerate(ids):
        price, (_last, updated_at, round_) = answers[2 * n], answers[2 * n + 1]
        items.append(
            {
                "thread_id": i,
                "price": str(price),
                "last_round": int(round_) or None,
                "updated_at": int(updated_at) or None,
            }
        )
    return {"items": items}


@router.get("/health", response_model=HealthOut, summary="Chain, indexer and pricer status")
def health(gw: GatewayDep) -> dict[str, Any]:
    """Always 200: `degraded` (with nulls for what did not answer) when the chain or the database is down,
    the chain is not the manifest's, or the indexer trails the head by more than 20 blocks."""
    return metrics.status(gw).as_health()


METRICS_EXAMPLE = """# HELP choir_chain_head_block Latest block number of the chain
# TYPE choir_chain_head_block gauge
choir_chain_head_block 120.0
# HELP choir_gateway_requests_total HTTP requests answered, by method, route template and status
# TYPE choir_gateway_requests_total counter
choir_gateway_requests_total{method="GET",route="/threads",status="200"} 3.0
"""


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics",
    responses={
        200: {
            "description": "Prometheus text format 0.0.4",
            "content": {"text/plain": {"schema": {"type": "string"}, "example": METRICS_EXAMPLE}},
        }
    },
)
def prometheus_metrics(request: Request) -> Response:
    """Chain head, indexed block, indexer lag, pricer round, thread count (read at scrape time), and request
    counts and latencies per route."""
    registry: metrics.GatewayMetrics = request.app.state.metrics
    return Response(registry.render(), media_type=metrics.CONTENT_TYPE)


@router.get("/ping", response_model=Ping, summary="Liveness (touches nothing)")
async def ping() -> dict[str, bool]:
    """A trivial answer, the baseline of the gateway benchmark."""
    return {"ok": True}
