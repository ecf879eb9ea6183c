"""Routes: a thread's price history (indexed, at the indexer's block) and every thread's price now (live)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api import blockview, live
from api.blockview import ReadBlock
from api.deps import GatewayDep, PageDep
from api.errors import ERROR_RESPONSES
from api.routes.lookup import ThreadId, page_of, thread_or_404
from api.routes.messages import after_index, next_cursor
from api.schemas import PriceList, PricePointPage
from choir_chain.indexer.models import Price, PriceRound

router = APIRouter(tags=["reads"])

PRICE = live.fn("ChoirHub", "price")


@router.get(
    "/threads/{thread_id}/prices",
    response_model=PricePointPage,
    responses=ERROR_RESPONSES,
    summary="A thread's price history, oldest first",
)
async def list_prices(request: Request, gw: GatewayDep, thread_id: ThreadId, page: PageDep) -> Response:
    """Every price the pricer pushed for the thread, with its round, block and block timestamp."""

    def compute(block: ReadBlock) -> PricePointPage:
        kind = "prices"
        with Session(gw.engine) as session:
            thread_or_404(session, thread_id)
            total = int(
                session.scalar(select(func.count()).select_from(Price).where(Price.thread_id == thread_id)) or 0
            )
            query = (
                select(Price.round, Price.price, PriceRound.timestamp, PriceRound.block)
                .join(PriceRound, PriceRound.round == Price.round)
                .where(Price.thread_id == thread_id)
            )
            last = after_index(page, kind)
            if last is not None:
                query = query.where(Price.round > last)
            rows = session.execute(query.order_by(Price.round).limit(page.limit + 1).offset(page.offset)).all()
        more, rows = len(rows) > page.limit, rows[: page.limit]
        items = [{"round": r, "price": str(p), "timestamp": ts, "block": b} for r, p, ts, b in rows]
        following = next_cursor(kind, [int(r) for r, *_ in rows], more)
        return PricePointPage.model_validate(
            {**page_of(items, total, page), "next_cursor": following, "meta": block.meta()}
        )

    return await blockview.answer(request, gw, compute)


@router.get("/prices", response_model=PriceList, responses=ERROR_RESPONSES, summary="Every thread's price (live)")
def list_live_prices(gw: GatewayDep) -> PriceList:
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
    return PriceList.model_validate({"items": items})
