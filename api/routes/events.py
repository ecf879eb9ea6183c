"""Routes: `GET /events`, the deployment's events as Server-Sent Events.

Each event is `id: <block>-<log index>`, `event: <EventName>` and one `data:` line of JSON (see CONTRACT.md). The
stream starts after the current head, or at `?from_block=`; a client reconnecting with `Last-Event-ID` resumes
after the last event it saw. A comment line is sent every `HEARTBEAT_SECONDS` so proxies keep the connection open,
and the stream ends when the client goes away.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api import eventstream
from api.deps import GatewayDep
from api.errors import ERROR_RESPONSES, ApiError
from api.eventstream import Watcher
from api.txbuilder import node_errors

log = logging.getLogger("choir.gateway.events")

router = APIRouter(tags=["events"])

_EVENT_ID = re.compile(r"([0-9]{1,12})-([0-9]{1,9})")
RETRY_MS = 2_000
"""How long a client waits before reconnecting (the `retry:` field)."""


def _start(watcher: Watcher, from_block: int | None) -> int:
    head = watcher.head()
    watcher.prepare(head)
    return head + 1 if from_block is None else max(from_block, watcher.gw.manifest.deploy_block)


async def _stream(
    request: Request, watcher: Watcher, next_block: int, after: tuple[int, int] | None
) -> AsyncIterator[str]:
    eventstream.stream_opened(1)
    try:
        yield f"retry: {RETRY_MS}\n: streaming events from block {next_block}\n\n"
        last_sent = time.monotonic()
        while not await request.is_disconnected():
            try:
                events, next_block, caught_up = await anyio.to_thread.run_sync(watcher.poll, next_block)
            except Exception as exc:  # a node outage or a bad answer: keep the stream, try again shortly
                log.warning("event stream: polling failed (%s: %s); retrying", type(exc).__name__, exc)
                yield f": node unavailable ({type(exc).__name__}), retrying\n\n"
                last_sent = time.monotonic()
                await anyio.sleep(1.0)
                continue
            for event, origin in events:
                if after is not None and (event.block, event.log_index) <= after:
                    continue
                data = json.dumps(eventstream.as_json(event, origin), separators=(",", ":"))
                yield f"id: {event.block}-{event.log_index}\nevent: {event.name}\ndata: {data}\n\n"
                last_sent = time.monotonic()
            if time.monotonic() - last_sent >= eventstream.HEARTBEAT_SECONDS:
                yield ": heartbeat\n\n"
                last_sent = time.monotonic()
            if caught_up:
                await anyio.sleep(eventstream.POLL_SECONDS)
    finally:
        eventstream.stream_opened(-1)


@router.get(
    "/events",
    summary="The deployment's events as they are mined (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "`event: <EventName>` / `data: {json}` blocks"},
        **ERROR_RESPONSES,
    },
)
async def events(
    request: Request,
    gw: GatewayDep,
    from_block: Annotated[
        int | None, Query(ge=0, description="Replay from this block (default: the next block mined).")
    ] = None,
    last_event_id: Annotated[str | None, Header(description="Resume after this event id (`block-logIndex`).")] = None,
) -> StreamingResponse:
    after: tuple[int, int] | None = None
    if last_event_id and from_block is None:
        match = _EVENT_ID.fullmatch(last_event_id.strip())
        if match is None:
            raise ApiError(422, "invalid_request", "Last-Event-ID must be <block>-<log index>", "Last-Event-ID")
        after = (int(match.group(1)), int(match.group(2)))
        from_block = after[0]
    watcher = Watcher(gw)
    with node_errors():
        next_block = await run_in_threadpool(_start, watcher, from_block)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        _stream(request, watcher, next_block, after), media_type="text/event-stream", headers=headers
    )
