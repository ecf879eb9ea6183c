"""Routes: health (shared by all requests for `health_ttl` seconds), Prometheus metrics, and a trivial ping."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api import metrics
from api.deps import GatewayDep
from api.schemas import HealthOut, Ping

router = APIRouter(tags=["reads"])


@router.get("/health", response_model=HealthOut, summary="Chain, indexer and pricer status")
async def health(request: Request, gw: GatewayDep) -> HealthOut:
    """Always 200: `degraded` (with nulls for what did not answer) when the chain or the database is down,
    the chain is not the manifest's, or the indexer trails the head by more than 20 blocks. One status is
    shared by every request for `health_ttl` seconds (a setting), so a load of health checks costs the node and
    the database one read each per interval."""
    cached: tuple[float, HealthOut] | None = getattr(request.app.state, "health", None)
    now = time.monotonic()
    if cached is not None and now - cached[0] < gw.settings.health_ttl:
        return cached[1]
    answer = HealthOut.model_validate((await run_in_threadpool(metrics.status, gw)).as_health())
    request.app.state.health = (now, answer)
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
