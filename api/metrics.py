"""The gateway's health and its Prometheus metrics.

`status(gateway)` is what `GET /health` answers and what the scrape-time gauges report: the chain's id and
head, the indexer's last block and lag, the pricer's last round and the number of threads. Each app has its own
`CollectorRegistry` (two apps in one process, as in tests, never share counters), with a request counter and a
latency histogram per route template, filled by a pure ASGI middleware (so streaming answers, e.g. the event
stream, are counted when they start and never buffered).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.state import Gateway
from choir_chain.indexer.models import Cursor, Thread

MAX_HEALTHY_LAG = 20
"""Blocks the indexer may trail the chain's head before `/health` says `degraded`."""

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""Prometheus text format 0.0.4, which every Prometheus version scrapes."""


@dataclass(frozen=True)
class Status:
    chain_id: int | None
    chain_head: int | None
    indexed_block: int | None
    pricer_round: int | None
    threads: int | None
    chain_matches: bool

    @property
    def indexer_lag(self) -> int | None:
        if self.chain_head is None or self.indexed_block is None:
            return None
        return self.chain_head - self.indexed_block

    @property
    def ok(self) -> bool:
        lag = self.indexer_lag
        return self.chain_matches and lag is not None and lag <= MAX_HEALTHY_LAG and self.pricer_round is not None

    def as_health(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "degraded",
            "chain_id": self.chain_id,
            "chain_head": self.chain_head,
            "indexed_block": self.indexed_block,
            "indexer_lag": self.indexer_lag,
            "pricer_round": self.pricer_round,
        }


def status(gateway: Gateway) -> Status:
    """What the chain and the database say now; a part that does not answer is None (never an exception)."""
    chain_id = head = pricer_round = None
    try:  # one JSON-RPC batch
        provider: Any = gateway.w3.provider
        selector = "0x" + gateway.hub.functions.lastRound()._encode_transaction_data()[2:]
        answers = provider.make_batch_request(
            [
                ("eth_chainId", []),
                ("eth_blockNumber", []),
                ("eth_call", [{"to": gateway.hub.address, "data": selector}, "latest"]),
            ]
        )
        by_id = sorted(answers, key=lambda a: int(a.get("id", 0)))
        chain_id, head, pricer_round = (int(a["result"], 16) for a in by_id)
    except Exception:  # the node is down or answers garbage: degraded, not an error
        chain_id = head = pricer_round = None
    indexed = threads = None
    indexed_chain: int | None = None
    try:
        with Session(gateway.engine) as session:
            cursor = session.get(Cursor, 1)
            if cursor is not None:
                indexed, indexed_chain = cursor.last_block, cursor.chain_id
            threads = int(session.scalar(select(func.max(Thread.thread_id))) or 0)  # ids are 1, 2, 3, ...
    except SQLAlchemyError:
        pass
    expected = gateway.manifest.chain_id
    matches = chain_id == expected and indexed_chain in (None, expected)
    return Status(chain_id, head, indexed, pricer_round, threads, matches)


class _StatusCollector(Collector):
    """Gauges read at scrape time from `status(gateway)`; an unknown value is left out, not reported as 0."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterable[Metric]:
        gateway: Gateway | None = getattr(self.app.state, "gateway", None)
        if gateway is None:
            return []
        now = status(gateway)
        gauges = [
            ("choir_chain_head_block", "Latest block number of the chain", now.chain_head),
            ("choir_indexed_block", "Last block the indexer applied", now.indexed_block),
            ("choir_indexer_lag_blocks", "Blocks between the chain head and the indexer", now.indexer_lag),
            ("choir_pricer_round", "Last price round accepted by the hub", now.pricer_round),
            ("choir_threads", "Threads in the index", now.threads),
            ("choir_gateway_healthy", "1 if /health says ok, else 0", int(now.ok)),
        ]
        out: list[Metric] = []
        for name, doc, value in gauges:
            if value is not None:
                family = GaugeMetricFamily(name, doc)
                family.add_metric([], float(value))
                out.append(family)
        return out


class GatewayMetrics:
    """The registry of one app."""

    def __init__(self, app: FastAPI) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "choir_gateway_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "choir_gateway_request_duration_seconds",
            "Time to the start of the answer, by method and route template",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.registry.register(_StatusCollector(app))

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _route_label(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else "unmatched"


class _RequestMetrics:
    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        recorded = False

        def record(status: int) -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            method, route = scope["method"], _route_label(scope)
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - start)

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        except Exception:
            record(500)
            raise


def install(app: FastAPI) -> GatewayMetrics:
    """Give `app` its registry (`app.state.metrics`) and the request-counting middleware."""
    metrics = GatewayMetrics(app)
    app.state.metrics = metrics
    app.add_middleware(_RequestMetrics, metrics=metrics)
    return metrics
