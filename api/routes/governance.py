"""Route: a thread's governance proposals, at the indexer's block (`api.blockview`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api import blockview, live
from api.blockview import ReadBlock
from api.deps import GatewayDep, PageDep
from api.errors import ERROR_RESPONSES
from api.routes.lookup import ThreadId, page_of, thread_or_404
from api.routes.messages import after_index, next_cursor
from api.schemas import ProposalPage

router = APIRouter(tags=["reads"])


@router.get(
    "/threads/{thread_id}/proposals",
    response_model=ProposalPage,
    responses=ERROR_RESPONSES,
    summary="A thread's governance proposals, oldest first (at the chain's head)",
)
async def list_proposals(request: Request, gw: GatewayDep, thread_id: ThreadId, page: PageDep) -> Response:
    """Proposals from the thread governor's `ProposalCreated` logs up to the chain's head block (the governor's
    events are not indexed), with their state there (OpenZeppelin `ProposalState` name), votes and eta; an empty
    list when the thread has no governor."""

    def compute(block: ReadBlock) -> ProposalPage:
        with Session(gw.engine) as session:
            indexed = thread_or_404(session, thread_id).governor
        governor = live.governor_of(gw, thread_id, indexed)
        found = live.proposals(gw, governor) if governor else []
        last = after_index(page, "proposals")  # a proposal's position: proposals are only ever appended
        start = page.offset if last is None else last + 1
        items = found[start : start + page.limit]
        more = start + page.limit < len(found)
        following = next_cursor("proposals", [start + len(items) - 1] if items else [], more)
        return ProposalPage.model_validate(
            {**page_of(items, len(found), page), "next_cursor": following, "meta": block.meta()}
        )

    return await blockview.answer(request, gw, compute, at_head=True)
