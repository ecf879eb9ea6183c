"""Routes: a thread's messages and its specs, filtered, by offset or cursor, at the indexer's block
(`api.blockview`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session
from web3 import Web3

from api import blockview, cursors, live
from api.blockview import ReadBlock
from api.deps import GatewayDep, PageDep, Pagination
from api.errors import ERROR_RESPONSES, ApiError
from api.message_extras import novelty_and_rewards
from api.routes.lookup import ADDRESS_PATTERN, ThreadId, citations_of, page_of, thread_or_404
from api.schemas import AuthorKindName, MessagePage, SpecPage, SpecStatus
from choir_chain import content_store
from choir_chain.indexer.models import Message, Spec, Vote
from choir_chain.protocol import message_id

router = APIRouter(tags=["reads"])

Row = TypeVar("Row", Message, Spec)

AuthorKindFilter = Annotated[
    AuthorKindName | None, Query(description="Only what this kind of author wrote (default: all).")
]


def after_index(page: Pagination, kind: str) -> int | None:
    """The last index of the previous page, from the page's cursor (None: from the start)."""
    if page.cursor is None:
        return None
    (last,) = cursors.decode(page.cursor, kind, 1)
    if not isinstance(last, int):
        raise ApiError(422, "invalid_request", "cursor is not a cursor this gateway issued", "cursor")
    return last


def next_cursor(kind: str, indexes: list[int], more: bool) -> str | None:
    return cursors.encode(kind, [indexes[-1]]) if more and indexes else None


def keyed_page(
    session: Session, model: type[Row], key: Any, where: list[ColumnElement[bool]], page: Pagination, kind: str
) -> tuple[Sequence[Row], int, bool]:
    """The rows of `model` matching `where` on `page`, in `key` order (after the page's cursor, if any), how many
    match in all, and whether more follow."""
    total = int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)
    last = after_index(page, kind)
    keyed = [*where, key > last] if last is not None else where
    rows = session.scalars(select(model).where(*keyed).order_by(key).limit(page.limit + 1).offset(page.offset)).all()
    return rows[: page.limit], total, len(rows) > page.limit


@router.get(
    "/threads/{thread_id}/messages",
    response_model=MessagePage,
    responses=ERROR_RESPONSES,
    summary="A thread's messages, oldest first",
)
async def list_messages(
    request: Request, gw: GatewayDep, thread_id: ThreadId, page: PageDep, author_kind: AuthorKindFilter = None
) -> Response:
    """Every message index of the thread (its root, co-authors' posts and specs of any outcome), with the
    global ids it cites and its body once stored (`POST /content`), else null."""

    def compute(block: ReadBlock) -> MessagePage:
        kind = "messages"
        with Session(gw.engine) as session:
            thread_or_404(session, thread_id)
            where: list[ColumnElement[bool]] = [Message.thread_id == thread_id]
            if author_kind is not None:
                where.append(Message.author_kind == author_kind)
            rows, total, more = keyed_page(session, Message, Message.message_index, where, page, kind)
            cited = citations_of(session, thread_id, [m.message_index for m in rows])
            scores = novelty_and_rewards(session, (m.global_id for m in rows))
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
        following = next_cursor(kind, [m.message_index for m in rows], more)
        return MessagePage.model_validate(
            {**page_of(items, total, page), "next_cursor": following, "meta": block.meta()}
        )

    return await blockview.answer(request, gw, compute)


@router.get(
    "/threads/{thread_id}/specs",
    response_model=SpecPage,
    responses=ERROR_RESPONSES,
    summary="A thread's specs, filtered",
)
async def list_specs(
    request: Request,
    gw: GatewayDep,
    thread_id: ThreadId,
    page: PageDep,
    status: Annotated[SpecStatus | None, Query(description="Only specs in this state (default: all).")] = None,
    author: Annotated[
        str | None, Query(pattern=ADDRESS_PATTERN, description="Only specs of this author (any case).")
    ] = None,
    author_kind: AuthorKindFilter = None,
) -> Response:
    """Specs in id order with their votes (in the order cast), the global ids they cite and `eligible` (the
    co-authors allowed to vote, from `ThreadDAO.getSpec` at the answer's block)."""

    def compute(block: ReadBlock) -> SpecPage:
        kind = "specs"
        with Session(gw.engine) as session:
            t = thread_or_404(session, thread_id)
            where: list[ColumnElement[bool]] = [Spec.thread_id == thread_id]
            if status is not None:
                where.append(Spec.status == status)
            if author is not None:
                where.append(Spec.author == Web3.to_checksum_address(author.lower()))
            if author_kind is not None:
                where.append(Spec.author_kind == author_kind)
            specs, total, more = keyed_page(session, Spec, Spec.spec_id, where, page, kind)
            ids = [s.spec_id for s in specs]
            votes: dict[int, list[dict[str, Any]]] = defaultdict(list)
            if ids:
                for v in session.scalars(
                    select(Vote)
                    .where(Vote.thread_id == thread_id, Vote.spec_id.in_(ids))
                    .order_by(Vote.block, Vote.log_index)
                ):
                    votes[v.spec_id].append({"voter": v.voter, "approve": v.approve})
            cited = citations_of(session, thread_id, ids)
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
        following = next_cursor(kind, ids, more)
        return SpecPage.model_validate({**page_of(items, total, page), "next_cursor": following, "meta": block.meta()})

    return await blockview.answer(request, gw, compute)
