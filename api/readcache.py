"""The cache of read answers, and the middleware that serves cached answers before routing.

A cached answer belongs to one block (number and hash), one content version (message bodies arrive without a
block) and one URL (path and query string, byte for byte). `CachedReads` answers a GET whose answer for the
indexer's current block is cached without routing, dependency resolution or parameter validation (the URL was
validated when the answer was computed), so a hit costs the cursor read and a dictionary lookup. Anything else
goes to the app, which computes and caches (`api.blockview.answer`).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import ApiError

if TYPE_CHECKING:
    from api.blockview import ReadBlock

BLOCK_HEADER = "X-Choir-Block"
BLOCK_HASH_HEADER = "X-Choir-Block-Hash"
JSON = "application/json"
SCOPE_BLOCK = "choir_read_block"
"""Where `CachedReads` leaves the block it read in the request's state, so the route does not read it again."""


@dataclass(frozen=True)
class CachedAnswer:
    body: bytes
    etag: str
    route: Any = None
    """The matched route (for the metrics' route label of answers served before routing)."""


def cache_key(block: ReadBlock, scope: Scope) -> tuple[Any, ...]:
    return (block.number, block.hash, block.content, scope["path"], scope["query_string"])


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


def respond(found: CachedAnswer, block: ReadBlock, if_none_match: str | None) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of a cached answer: 304 without a body when `If-None-Match` names its ETag."""
    headers = {
        "ETag": found.etag,
        "Cache-Control": "no-cache",  # may be stored, but revalidated (If-None-Match) before each use
        BLOCK_HEADER: str(block.number),
        BLOCK_HASH_HEADER: block.hash or "",
    }
    if _matches(if_none_match, found.etag):
        return 304, headers, b""
    return 200, {**headers, "content-type": JSON}, found.body


class ReadCache:
    """A thread-safe LRU of serialised answers; size 0 keeps nothing."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Any, ...], CachedAnswer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> CachedAnswer | None:
        if self.size == 0:
            return None
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], answer: CachedAnswer) -> None:
        if self.size == 0:
            return
        with self._lock:
            self._entries[key] = answer
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


class CachedReads:
    """ASGI middleware: a GET answered from the cache before routing (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        cache: ReadCache | None = getattr(state, "read_cache", None)
        gateway = getattr(state, "gateway", None)
        if cache is None or cache.size == 0 or gateway is None:
            await self.app(scope, receive, send)
            return
        try:
            block = gateway.cursor_reader.read()
        except ApiError:
            await self.app(scope, receive, send)  # the route reports the database
            return
        found = cache.get(cache_key(block, scope))
        if found is None:
            scope.setdefault("state", {})[SCOPE_BLOCK] = block
            await self.app(scope, receive, send)
            return
        if found.route is not None:
            scope["route"] = found.route
        if_none_match = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"if-none-match"), None)
        status, headers, body = respond(found, block, if_none_match)
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        if status != 304:
            raw.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})
