"""Route: an account's position in a thread (`GET /threads/{id}/positions/{address}`), what the dashboard shows
before a co-author exits or claims."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam
from sqlalchemy import select
from sqlalchemy.orm import Session
from web3 import Web3

from api import live
from api.deps import MAX_INT, GatewayDep
from api.errors import ERROR_RESPONSES, ApiError
from api.schemas.positions import ClaimableOut, PositionOut
from choir_chain.indexer.models import Spec, Thread, Vote

router = APIRouter(tags=["reads"])

ADDRESS_PATTERN = r"^0x[0-9a-fA-F]{40}$"
CLAIMABLE_STATUSES = ("denied", "split")
"""Outcomes that leave deniers a share (protocol section 3)."""


@router.get(
    "/threads/{thread_id}/positions/{address}",
    response_model=PositionOut,
    responses=ERROR_RESPONSES,
    summary="An account's equity, exit payout and claimable curator rewards in a thread",
)
def get_position(
    gw: GatewayDep,
    thread_id: Annotated[int, PathParam(ge=0, le=MAX_INT, description="Thread id (decimal).")],
    address: Annotated[str, PathParam(pattern=ADDRESS_PATTERN, description="An address, in any case.")],
) -> PositionOut:
    """The account's shares and what `exit()` would pay now (`treasury * shares / total`, the contract's own
    rounding), the first time `exit()` succeeds (joined + `EXIT_COOLDOWN`), and the denied or split specs whose
    denier share it may still claim (`curatorRewardOf` > 0)."""
    account = Web3.to_checksum_address(address.lower())
    with Session(gw.engine) as session:
        thread = session.get(Thread, thread_id)
        if thread is None:
            raise ApiError(404, "unknown_thread", f"no thread {thread_id}", "thread_id")
        denied = session.scalars(
            select(Vote.spec_id)
            .join(Spec, (Spec.thread_id == Vote.thread_id) & (Spec.spec_id == Vote.spec_id))
            .where(
                Vote.thread_id == thread_id,
                Vote.voter == account,
                Vote.approve.is_(False),
                Spec.status.in_(CLAIMABLE_STATUSES),
            )
            .order_by(Vote.spec_id)
        ).all()
        at = thread.address
    dao = "ThreadDAO"
    reads: list[Any] = [
        live.fn(dao, "sharesOf").call(at, account),
        live.fn(dao, "totalShares").call(at),
        live.fn(dao, "treasury").call(at),
        live.fn(dao, "joinedAt").call(at, account),
        live.fn(dao, "EXIT_COOLDOWN").call(at),
        live.LATEST_BLOCK,
    ]
    reads += [live.fn(dao, "curatorRewardOf").call(at, spec_id, account) for spec_id in denied]
    shares, total, treasury, joined, cooldown, block, *rewards = live.call_many(gw, reads)
    member = shares > 0
    return PositionOut(
        thread_id=thread_id,
        account=account,
        shares=str(shares),
        total_shares=str(total),
        treasury=str(treasury),
        exit_payout=str(treasury * shares // total if member and total else 0),
        joined_at=int(joined) if member else None,
        exit_cooldown=int(cooldown),
        exit_available_at=int(joined) + int(cooldown) if member else None,
        now=int(block["timestamp"], 16),
        claimable=[
            ClaimableOut(spec_id=spec_id, amount=str(amount))
            for spec_id, amount in zip(denied, rewards, strict=True)
            if amount > 0
        ],
    )
