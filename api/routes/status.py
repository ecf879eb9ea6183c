"""Routes: health (shared by all requests for `health_ttl` seconds), Prometheus metrics, and a trivial ping."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api import metrics
from api.deps import GatewayDep
from api.schemas import HealthOut, Ping
from api.state import Gateway

router = APIRouter(tags=["reads"])


STALE_FACTOR = 4
"""A status up to this many `health_ttl`s old is answered at once while one request refreshes it."""


@router.get("/health", response_model=HealthOut, summary="Chain, indexer and pricer status")
async def health(request: Request, gw: GatewayDep) -> HealthOut:
    """Always 200: `degraded` (with nulls for what did not answer) when the chain or the database is down,
    the chain is not the manifest's, or the indexer trails the head by more than 20 blocks. One status is
    shared by every request for `health_ttl` seconds (a setting); past that one refresh runs (never several at
    once) while the others get the last status, up to `STALE_FACTOR` times that age, so a load of health checks
    costs the node and the database one read each per interval and no request waits for it."""
    state = request.app.state
    ttl = gw.settings.health_ttl
    cached: tuple[float, HealthOut] | None = getattr(state, "health", None)
    age = time.monotonic() - cached[0] if cached is not None else None
    if cached is not None and age is not None and age < ttl:
        return cached[1]
    refresh: asyncio.Task[HealthOut] | None = getattr(state, "health_refresh", None)
    if refresh is None or refresh.done():
        refresh = state.health_refresh = asyncio.ensure_future(_refresh(state, gw))
    if cached is not None and age is not None and age < ttl * STALE_FACTOR:
        return cached[1]
    return await asyncio.shield(refresh)


async def _refresh(state: Any, gw: Gateway) -> HealthOut:
    started = time.monotonic()
    answer = HealthOut.model_validate((await run_in_threadpool(metrics.status, gw)).as_health())
    state.health = (started, answer)
    return answer


METRICS_EXAMPLE = """# HELP choir_chain_head_block Latest block number of the chain
# TYPE choir_chain_head_block gauge
choir_chain_head_block 120.0
# HELP choir_gateway_requests_total HTTP requests answered, by method, route template and status
# TYPE choir_gateway_requests_total counter
choir_gateway_requests_total{method="GET",route="/threads",status="200"} 3.0
"""


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics",
    responses={
        200: {
            "description": "Prometheus text format 0.0.4",
            "content": {"text/plain": {"schema": {"type": "string"}, "example": METRICS_EXAMPLE}},
        }
    },
)
def prometheus_metrics(request: Request) -> Response:
    """Chain head, indexed block, indexer lag, pricer round, thread count (read at scrape time), and request
    counts and latencies per route."""
    registry: metrics.GatewayMetrics = request.app.state.metrics
    return Response(registry.render(), media_type=metrics.CONTENT_TYPE)


@router.get("/ping", response_model=Ping, summary="Liveness (touches nothing)")
async def ping() -> Ping:
    """A trivial answer, the baseline of the gateway benchmark."""
    return Ping(ok=True)
