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

import contextlib
import threading
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import Engine

from api.errors import ApiError
from api.readcache import SCOPE_BLOCK, CachedAnswer, ReadCache, cache_key, etag_of, respond
from api.schemas.common import BlockRef, Meta
from choir_chain import content_store

if TYPE_CHECKING:
    from api.state import Gateway


@dataclass(frozen=True)
class ReadBlock:
    """The block an answer reflects: the indexer's last fully applied block (hash None before the first), or the
    chain's head for an answer read from the chain alone."""

    number: int
    hash: str | None
    content: int | None = None
    """The content store's version (`content_store.content_version`): answers include stored bodies."""

    def meta(self) -> Meta:
        return Meta(block=BlockRef(number=self.number, hash=self.hash))


READ_BLOCK: ContextVar[ReadBlock | None] = ContextVar("choir_read_block", default=None)
"""The block the current read is computed for; `api.live` pins its `eth_call`s to it."""


class _RowReader:
    """One SQL query over a DBAPI connection of its own per thread, kept open (autocommit, so every read sees the
    latest commit): a fraction of the cost of a pooled SQLAlchemy connection per request. A failed read drops
    the connection (the next read opens another) and is a 503."""

    def __init__(self, engine: Engine, sql: str) -> None:
        self.engine, self.sql = engine, sql
        self._local = threading.local()

    def read(self) -> tuple[Any, ...]:
        conn = getattr(self._local, "conn", None)
        try:
            if conn is None:
                conn = self.engine.raw_connection()
                if self.engine.dialect.name == "postgresql":
                    conn.driver_connection.autocommit = True  # type: ignore[union-attr]
                self._local.conn = conn
            cursor = conn.cursor()
            try:
                cursor.execute(self.sql)
                row = cursor.fetchone() or ()
            finally:
                cursor.close()
        except Exception as err:
            self._local.conn = None
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.invalidate()
            raise ApiError(503, "database_unavailable", f"the database did not answer: {err}") from err
        return tuple(row)


class CursorReader:
    """The block (the indexer's cursor) and the content version (`content_store.content_version`) a read answers
    for: one query per request when the bodies live in the index's database, two otherwise."""

    def __init__(self, gw: Gateway) -> None:
        self.gw = gw
        cursor = "(SELECT last_block FROM cursor WHERE id = 1), (SELECT last_block_hash FROM cursor WHERE id = 1)"
        version = f"({content_store.VERSION_SQL})"
        if gw.content_engine is gw.engine:
            self._readers = [_RowReader(gw.engine, f"SELECT {cursor}, {version}")]
        else:
            self._readers = [
                _RowReader(gw.engine, f"SELECT {cursor}"),
                _RowReader(gw.content_engine, f"SELECT {version}"),
            ]

    def read(self) -> ReadBlock:
        row = tuple(value for reader in self._readers for value in reader.read())
        number, block_hash, version = row
        if number is None:
            return ReadBlock(self.gw.manifest.deploy_block - 1, None, version)
        return ReadBlock(int(number), block_hash, version)


def indexed_block(gw: Gateway) -> ReadBlock:
    """The indexer's cursor and the content version."""
    return gw.cursor_reader.read()


def head_block(gw: Gateway) -> ReadBlock:
    """The chain's latest block (one JSON-RPC call); a node that does not answer is a 503."""
    from api.live import chain_errors

    with chain_errors():
        block = gw.w3.eth.get_block("latest")
    return ReadBlock(int(block["number"]), "0x" + bytes(block["hash"]).hex(), None)


def current_block() -> ReadBlock | None:
    return READ_BLOCK.get()


async def answer(
    request: Request,
    gw: Gateway,
    compute: Callable[[ReadBlock], BaseModel],
    *,
    at_head: bool = False,
) -> Response:
    """The answer of a read route for the indexer's current block: from the cache, else `compute(block)` (run in
    the thread pool with the chain reads pinned to `block`) serialised and cached; stored message bodies change
    without a block (`POST /content`), so the content version is part of the key. `at_head`: an answer read from
    the chain alone (a governor's proposals, which the index does not hold) is for the chain's head block instead,
    so it shows a vote or a queue as soon as it is mined."""
    if at_head:
        block = await run_in_threadpool(head_block, gw)
    else:  # read by `CachedReads` for this request already, unless the cache is off
        block = request.scope.get("state", {}).get(SCOPE_BLOCK) or indexed_block(gw)
    key = cache_key(block, request.scope)
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
        found = CachedAnswer(body, etag_of(body), request.scope.get("route"))
        cache.put(key, found)
    status, headers, body = respond(found, block, request.headers.get("if-none-match"))
    return Response(body, status_code=status, headers=headers)
