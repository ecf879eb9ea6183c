"""Route: one account at the indexer's block (`api.blockview`): balance, equity, open stakes, votes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from web3 import Web3

from api import blockview, live
from api.blockview import ReadBlock
from api.deps import GatewayDep
from api.errors import ERROR_RESPONSES
from api.routes.lookup import ADDRESS_PATTERN
from api.schemas import AccountOut
from choir_chain.indexer.models import Coauthor, Spec, Thread, Vote

router = APIRouter(tags=["reads"])


@router.get("/accounts/{address}", response_model=AccountOut, responses=ERROR_RESPONSES, summary="One account")
async def get_account(
    request: Request,
    gw: GatewayDep,
    address: Annotated[str, PathParam(pattern=ADDRESS_PATTERN, description="An address, in any case.")],
) -> Response:
    """The account's CHOIR balance, its equity in every thread it is a co-author of, the stakes of its pending
    specs and its votes on specs."""
    account = Web3.to_checksum_address(address.lower())

    def compute(block: ReadBlock) -> AccountOut:
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
        return AccountOut.model_validate(
            {
                "address": account,
                "balance": str(balance),
                "equity": [{"thread_id": t, "shares": str(s), "total_shares": str(n)} for t, s, n in equity],
                "open_stakes": [{"thread_id": t, "spec_id": s, "stake": str(stake)} for t, s, stake in stakes],
                "votes": [{"thread_id": t, "spec_id": s, "approve": a} for t, s, a in votes],
                "meta": block.meta(),
            }
        )

    return await blockview.answer(request, gw, compute)
