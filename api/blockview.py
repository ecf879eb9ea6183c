"""Reads consistent per indexed block: every cached read answers for ONE block, says which, and carries an ETag.

A read route computes its answer for the indexer's last block `B` (number and hash from the cursor): index rows
as they are after `B`, and the few values the index cannot know read from the chain *at block `B`* (`eth_call`
with block `B`, never `latest`), so an answer never mixes two blocks. The answer is serialised once and kept in
an in-process LRU cache keyed by (block number, block hash, content version, URL): until the indexer moves on,
every request for the same URL gets the same bytes without a database query beyond the cursor's one row, and
no JSON-RPC call. A reorg changes the block hash, so nothing cached from a replaced block is ever served.

Each response says which block it reflects (headers `X-Choir-Block` and `X-Choir-Block-Hash`, and `meta` in
the body, like The Graph's `_meta`) and has a strong `ETag`; `If-None-Match` with it gives 304. The cache is per
process (a worker of its own per process is fine: the key is the block, not the process); size 0 disables it
(the cold path of the benchmark).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import text

from api.schemas.common import BlockRef, Meta
from choir_chain import content_store

if TYPE_CHECKING:
    from api.state import Gateway

BLOCK_HEADER = "X-Choir-Block"
BLOCK_HASH_HEADER = "X-Choir-Block-Hash"

CURSOR_SQL = text("SELECT last_block, last_block_hash FROM cursor WHERE id = 1")


@dataclass(frozen=True)
class ReadBlock:
    """The block an answer reflects: the indexer's last fully applied block (hash None before the first), or the
    chain's head for an answer read from the chain alone."""

    number: int
    hash: str | None

    def meta(self) -> Meta:
        return Meta(block=BlockRef(number=self.number, hash=self.hash))


READ_BLOCK: ContextVar[ReadBlock | None] = ContextVar("choir_read_block", default=None)
"""The block the current read is computed for; `api.live` pins its `eth_call`s to it."""


def indexed_block(gw: Gateway) -> ReadBlock:
    """The indexer's cursor: one row, one query."""
    with gw.engine.connect() as conn:
        row = conn.execute(CURSOR_SQL).first()
    if row is None:
        return ReadBlock(gw.manifest.deploy_block - 1, None)
    return ReadBlock(int(row[0]), row[1])


def head_block(gw: Gateway) -> ReadBlock:
    """The chain's latest block (one JSON-RPC call); a node that does not answer is a 503."""
    from api.live import chain_errors

    with chain_errors():
        block = gw.w3.eth.get_block("latest")
    return ReadBlock(int(block["number"]), "0x" + bytes(block["hash"]).hex())


def current_block() -> ReadBlock | None:
    return READ_BLOCK.get()


@dataclass(frozen=True)
class CachedAnswer:
    body: bytes
    etag: str


class ReadCache:
    """A thread-safe LRU of serialised answers."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Any, ...], CachedAnswer] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...]) -> CachedAnswer | None:
        if self.size == 0:
            return None
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: tuple[Any, ...], answer: CachedAnswer) -> None:
        if self.size == 0:
            return
        with self._lock:
            self._entries[key] = answer
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


async def answer(
    request: Request,
    gw: Gateway,
    compute: Callable[[ReadBlock], BaseModel],
    *,
    content: bool = False,
    at_head: bool = False,
) -> Response:
    """The answer of a read route for the indexer's current block: from the cache, else `compute(block)` (run in
    the thread pool with the chain reads pinned to `block`) serialised and cached. `content`: the answer includes
    stored message bodies, which change without a block (`POST /content`), so their count is part of the key.
    `at_head`: an answer read from the chain alone (a governor's proposals, which the index does not hold) is
    for the chain's head block instead, so it shows a vote or a queue as soon as it is mined."""
    block = await run_in_threadpool(head_block, gw) if at_head else indexed_block(gw)
    version = content_store.count(gw.content_engine) if content else None
    key = (block.number, block.hash, version, request.url.path, request.url.query)
    cache: ReadCache = request.app.state.read_cache
    found = cache.get(key)
    if found is None:

        def run() -> bytes:
            token = READ_BLOCK.set(block)
            try:
                return compute(block).model_dump_json().encode()
            finally:
                READ_BLOCK.reset(token)

        body = await run_in_threadpool(run)
        found = CachedAnswer(body, _etag(body))
        cache.put(key, found)
    headers = {
        "ETag": found.etag,
        "Cache-Control": "no-cache",  # may be stored, but revalidated (If-None-Match) before each use
        BLOCK_HEADER: str(block.number),
        BLOCK_HASH_HEADER: block.hash or "",
    }
    if _matches(request.headers.get("if-none-match"), found.etag):
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type="application/json", headers=headers)
