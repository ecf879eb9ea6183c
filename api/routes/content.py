"""Routes: message bodies by content hash.

`POST /content` stores a body only if `keccak256(utf8(body))` is the content hash of a message the indexer has
seen (a thread root, a post or a spec), or of a message that the transaction named by `tx_hash` created on chain
(mined, not yet indexed: `api.content_tx` checks its receipt), so a client never waits for the indexer. The
request is checked in full before anything is written, and the write is one idempotent statement
(`choir_chain.content_store`), so a refused or failed request leaves the table as it was, and the same body
posted many times, even concurrently, is stored once.

The body is read and parsed here rather than by FastAPI, so that every bad input gets its own error in the
error model: a body larger than the limit (checked while reading, before parsing) 413 `too_large`; bytes that
are not UTF-8 400 `invalid_utf8`; malformed JSON (a lone UTF-16 surrogate escape, NaN, nesting deeper than
pydantic-core's limit of 200 included) 422 `invalid_json`; a JSON document of the wrong shape 422
`invalid_request` naming the field; a media type other than JSON 415. The parser is pydantic-core's (Rust, with
its own depth limit), not `json`: `json` recurses once per nesting level and, in a process whose recursion limit
was raised (Ape's test runner sets 100,000), overflows the C stack on `[[[[...` instead of raising.
"""

from __future__ import annotations

from typing import Annotated, Any

import pydantic_core
from eth_utils import keccak
from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.content_tx import messages_in_transaction
from api.deps import GatewayDep
from api.errors import ERROR_RESPONSES, ApiError, ErrorBody
from api.schemas import ContentIn, ContentOut, ContentStored
from api.state import Gateway
from choir_chain import content_store
from choir_chain.indexer.models import Message

router = APIRouter(tags=["content"])

HASH_PATTERN = r"^0x[0-9a-fA-F]{64}$"
JSON_ESCAPE_FACTOR = 6
"""A byte of body may take up to 6 bytes of JSON (`\\u0001`): the cap on the raw request is this many times
`max_content_bytes`, plus `REQUEST_SLACK` for the braces, the key and whitespace."""
REQUEST_SLACK = 1024

POST_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    422: {
        "model": ErrorBody,
        "description": "Invalid request; or the transaction `tx_hash` created no message of this deployment with this "
        "content hash (`content_not_in_transaction`)",
    },
    404: {
        "model": ErrorBody,
        "description": "No indexed message has this content hash (`unknown_content`), or `tx_hash` is not a mined "
        "transaction (`unknown_transaction`)",
    },
    413: {"model": ErrorBody, "description": "The body is larger than `max_content_bytes` (`too_large`)"},
    415: {"model": ErrorBody, "description": "The request is not `application/json`"},
}


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large", f"the body is larger than {limit} bytes", "body")


async def _read_capped(request: Request, cap: int, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(raw: bytes, limit: int) -> tuple[ContentIn, bytes]:
    """The request and its body's UTF-8 bytes, or the error for what is wrong with the request."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ApiError(400, "invalid_utf8", f"the request is not valid UTF-8 (byte {err.start})", "body") from err
    try:
        document = pydantic_core.from_json(raw, allow_inf_nan=False)
    except ValueError as err:
        raise ApiError(422, "invalid_json", f"the request is not valid JSON: {err}"[:200], "body") from err
    try:
        content = ContentIn.model_validate(document)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise ApiError(422, "invalid_request", str(first["msg"]), field) from err
    try:
        encoded = content.body.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ApiError(400, "invalid_utf8", "the body holds a lone UTF-16 surrogate (not UTF-8 text)", "body") from err
    if len(encoded) > limit:
        raise _too_large(limit)
    return content, encoded


def _store(gw: Gateway, content_hash: str, body: str, size: int, tx_hash: str | None) -> ContentStored:
    with Session(gw.engine) as session:
        ids = list(
            session.scalars(
                select(Message.global_id).where(Message.content_hash == content_hash).order_by(Message.global_id)
            ).all()
        )
    if not ids and tx_hash is not None:
        ids = messages_in_transaction(gw, tx_hash.lower(), content_hash)  # 404 / 422 when it proves nothing
    if not ids:
        raise ApiError(404, "unknown_content", f"no indexed message has content hash {content_hash}", "body")
    content_store.store(gw.content_engine, content_hash, body, size)
    return ContentStored(content_hash=content_hash, messages=[str(i) for i in ids])


@router.post(
    "/content",
    status_code=201,
    response_model=ContentStored,
    responses=POST_RESPONSES,
    summary="Store a message body",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ContentIn.model_json_schema()}},
        }
    },
)
async def post_content(request: Request, gw: GatewayDep) -> ContentStored:
    """Store `body` if `keccak256(utf8(body))` is the content hash of an indexed message, or of a message created
    by the mined transaction `tx_hash` (checked on chain: pass it right after the receipt, before the indexer has
    seen the message); answers that hash and the global ids of the messages that carry it. Storing the same body
    again answers the same (idempotent)."""
    if not _is_json(request.headers.get("content-type")):
        raise ApiError(415, "unsupported_media_type", "send the body as application/json", "content-type")
    limit = gw.settings.max_content_bytes
    raw = await _read_capped(request, limit * JSON_ESCAPE_FACTOR + REQUEST_SLACK, limit)
    content, encoded = _parse(raw, limit)
    content_hash = "0x" + keccak(encoded).hex()
    return await run_in_threadpool(_store, gw, content_hash, content.body, len(encoded), content.tx_hash)


@router.get(
    "/content/{content_hash}",
    response_model=ContentOut,
    responses=ERROR_RESPONSES,
    summary="A stored message body",
)
def get_content(
    gw: GatewayDep,
    content_hash: Annotated[str, PathParam(pattern=HASH_PATTERN, description="0x and 64 hex digits, any case.")],
) -> ContentOut:
    """The body stored under the hash (404 `unknown_content` if none is stored)."""
    wanted = content_hash.lower()
    body = content_store.body_of(gw.content_engine, wanted)
    if body is None:
        raise ApiError(404, "unknown_content", f"no body stored for {wanted}", "content_hash")
    return ContentOut(content_hash=wanted, body=body)
