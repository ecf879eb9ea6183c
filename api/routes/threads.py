"""Routes: the thread list (filters, sorts, offset or cursor pages) and one thread.

Both read the index's read model (`threads` with its running totals, `last_activity` and last price) at the
indexer's block (`api.blockview`); the stake price `ChoirHub.price` answers is evaluated in SQL from the indexed
last price and the hub's heartbeat and fallback price, read once per block (`api.live.hub_values`). A list page is
two indexed queries (the count and the page), a thread three (thread, co-authors, nothing live but the window of a
thread governance changed, which is indexed too).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, type_coerce
from sqlalchemy.orm import Session
from web3 import Web3

from api import blockview, cursors, live
from api.blockview import ReadBlock
from api.deps import MAX_INT, GatewayDep, PageDep
from api.errors import ERROR_RESPONSES, ApiError
from api.routes.lookup import ADDRESS_PATTERN, ThreadId, page_of, thread_or_404
from api.schemas import SortOrder, ThreadDetail, ThreadPage, ThreadSort
from api.schemas.threads import CoauthorOut, ThreadSummary
from api.state import Gateway
from api.titles import title_of
from choir_chain import content_store
from choir_chain.indexer.models import Coauthor, Thread
from choir_chain.indexer.uint import MAX_UINT256, Uint256

router = APIRouter(tags=["reads"])

Account = Annotated[str | None, Query(pattern=ADDRESS_PATTERN, description="An address, in any case.")]
Amount = Annotated[
    int | None, Query(ge=0, le=MAX_UINT256, description="An amount in wei (decimal).", examples=[10**19])
]


def effective_price(gw: Gateway) -> ColumnElement[Any]:
    """SQL for what `ChoirHub.price(thread)` answers at the read's block: the last price while fresher than the
    heartbeat, else the larger of the last price and the fallback price (the fallback price if never priced)."""
    values = live.hub_values(gw)
    fresh = and_(
        Thread.last_price_timestamp.is_not(None), Thread.last_price_timestamp >= values.timestamp - values.heartbeat
    )
    floor = literal(values.fallback_price, Uint256())
    above = and_(Thread.last_price.is_not(None), Thread.last_price > floor)  # stale: never below the last price
    return type_coerce(case((fresh, Thread.last_price), (above, Thread.last_price), else_=floor), Uint256())


def summary(t: Thread, price: int, body: str | None) -> dict[str, Any]:
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
        "last_activity": max(t.last_activity, t.created_timestamp),
        "title": title_of(body),
    }


def _checksum(address: str | None) -> str | None:
    return None if address is None else Web3.to_checksum_address(address.lower())


@router.get(
    "/threads",
    response_model=ThreadPage,
    responses=ERROR_RESPONSES,
    summary="Threads: filtered, sorted, paginated by offset or cursor",
)
async def list_threads(
    request: Request,
    gw: GatewayDep,
    page: PageDep,
    sort: Annotated[
        ThreadSort,
        Query(description="`price` (the stake price now), `activity` (last_activity) or `created` (creation order)."),
    ] = "created",
    order: Annotated[SortOrder, Query(description="Ascending or descending; ties go by thread id.")] = "asc",
    creator: Account = None,
    coauthor: Annotated[
        str | None, Query(pattern=ADDRESS_PATTERN, description="Only threads this address is a co-author of.")
    ] = None,
    min_price: Amount = None,
    max_price: Amount = None,
    active_since: Annotated[
        int | None,
        Query(ge=0, le=MAX_INT, description="Only threads with a message, vote or settlement at or after this time."),
    ] = None,
) -> Response:
    """Every thread matching the filters as a ThreadSummary. `sort=price` orders by the price `ChoirHub.price`
    answers at the answer's block (the hub's own rule, evaluated in SQL), `sort=activity` by the latest message,
    vote or settlement. Follow `next_cursor` for pages that stay stable while threads are added."""

    def compute(block: ReadBlock) -> ThreadPage:
        with Session(gw.engine) as session:
            price = effective_price(gw)
            where: list[ColumnElement[bool]] = []
            if creator is not None:
                where.append(Thread.creator == _checksum(creator))
            if coauthor is not None:
                members = select(Coauthor.thread_id).where(
                    Coauthor.account == _checksum(coauthor), Coauthor.active.is_(True)
                )
                where.append(Thread.thread_id.in_(members))
            if min_price is not None:
                where.append(price >= literal(min_price, Uint256()))
            if max_price is not None:
                where.append(price <= literal(max_price, Uint256()))
            if active_since is not None:
                where.append(Thread.last_activity >= active_since)
            total = int(session.scalar(select(func.count()).select_from(Thread).where(*where)) or 0)
            key: Any = {
                "created": Thread.thread_id,  # ids are given in creation order; timestamps of two threads can tie
                "price": price,
                "activity": Thread.last_activity,
            }[sort]
            kind = f"threads:{sort}:{order}"
            if page.cursor is not None:
                where.append(_after(key, sort, order, cursors.decode(page.cursor, kind, 2)))
            query = (
                select(Thread, price)
                .where(*where)
                .order_by(key.desc() if order == "desc" else key.asc(), Thread.thread_id.asc())
                .limit(page.limit + 1)
                .offset(page.offset)
            )
            rows = session.execute(query).all()
        more = len(rows) > page.limit
        rows = rows[: page.limit]
        bodies = content_store.bodies_of(gw.content_engine, [t.content_hash for t, _ in rows])
        items = [ThreadSummary.model_validate(summary(t, p, bodies.get(t.content_hash))) for t, p in rows]
        following = None
        if more and rows:
            last, last_price = rows[-1]
            value = {"created": last.thread_id, "price": str(last_price), "activity": last.last_activity}[sort]
            following = cursors.encode(kind, [value, last.thread_id])
        return ThreadPage(**page_of(items, total, page), next_cursor=following, meta=block.meta())

    return await blockview.answer(request, gw, compute)


def _after(key: ColumnElement[Any], sort: str, order: str, position: list[Any]) -> ColumnElement[bool]:
    """Rows after `position` (the last row's sort value and thread id) in the list's order."""
    value, thread_id = position
    try:
        value = int(value)
        thread_id = int(thread_id)
    except ValueError as err:
        raise ApiError(422, "invalid_request", "cursor is not a cursor this gateway issued", "cursor") from err
    bound = literal(value, Uint256()) if sort == "price" else literal(value)
    beyond = key < bound if order == "desc" else key > bound
    return or_(beyond, and_(key == bound, Thread.thread_id > thread_id))


@router.get("/threads/{thread_id}", response_model=ThreadDetail, responses=ERROR_RESPONSES, summary="One thread")
async def get_thread(request: Request, gw: GatewayDep, thread_id: ThreadId) -> Response:
    """A ThreadSummary with the thread's approval window and threshold and its current co-authors (largest share
    first)."""

    def compute(block: ReadBlock) -> ThreadDetail:
        with Session(gw.engine) as session:
            t = thread_or_404(session, thread_id)
            price = session.scalar(select(effective_price(gw)).where(Thread.thread_id == thread_id))
            members = session.scalars(
                select(Coauthor).where(Coauthor.thread_id == thread_id, Coauthor.active.is_(True))
            ).all()
            window = t.approval_window
            threshold = t.approval_threshold
        if window is None:  # never changed by governance: the hub's default when the thread was created
            window = live.initial_approval_window(gw, t.address, t.created_tx_hash)
        ordered = sorted(members, key=lambda m: (-m.shares, m.joined_timestamp, m.account))
        coauthors = [
            CoauthorOut(account=m.account, shares=str(m.shares), joined_timestamp=m.joined_timestamp) for m in ordered
        ]
        body = content_store.body_of(gw.content_engine, t.content_hash)
        return ThreadDetail(
            **summary(t, int(price or 0), body),
            approval_window=int(window),
            approval_threshold=int(threshold),
            coauthors=coauthors,
            meta=block.meta(),
        )

    return await blockview.answer(request, gw, compute)
