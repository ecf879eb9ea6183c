"""`create_app(settings)`: the gateway's FastAPI application (run it with `choir gateway` or `choir up`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import errors, metrics
from api.readcache import CachedReads, ReadCache
from api.routes import (
    accounts,
    content,
    events,
    governance,
    knowledge,
    messages,
    positions,
    prices,
    status,
    threads,
    tx,
)
from api.settings import GatewaySettings
from api.state import Gateway
from choir_chain import content_store

STATIC = Path(__file__).parent / "static"


def create_app(settings: GatewaySettings) -> FastAPI:
    """The gateway over `settings`' database, chain and manifest; connections open at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.gateway = Gateway.connect(settings)
        content_store.create_schema(app.state.gateway.content_engine)
        if settings.search_enabled and settings.search_preload:
            from choir_chain.semantics.embedder import warm_up

            warm_up()  # a daemon thread; a search meanwhile waits for the same load (a process-wide singleton)
        try:
            yield
        finally:
            app.state.gateway.close()

    app = FastAPI(
        title="Choir gateway",
        version="1.0.0",
        description="Threads, prices, specs and accounts of a Choir deployment; unsigned transactions for every "
        "user action; message bodies by hash; semantic search and the citation graph; a live event stream. "
        'Errors: `{"error": {code, message, field}}`.',
        lifespan=lifespan,
    )
    errors.install(app)
    app.add_middleware(CachedReads)  # inside the metrics middleware, which counts its answers too
    metrics.install(app)
    app.state.read_cache = ReadCache(settings.read_cache_size)
    routers = (threads, messages, prices, governance, accounts, positions, status, knowledge, content, tx, events)
    for module in routers:
        app.include_router(module.router)
    if STATIC.is_dir():
        app.mount("/", StaticFiles(directory=STATIC, html=True), name="dashboard")
    return app


def app_for(database_url: str, rpc_url: str, manifest_path: Path) -> FastAPI:
    """The gateway over one database, chain and manifest with default limits: the entry point `choir up` finds
    (group `choir_chain.gateway`, name `app`, in pyproject.toml)."""
    return create_app(GatewaySettings(database_url=database_url, rpc_url=rpc_url, manifest_path=manifest_path))


def app_from_env() -> FastAPI:
    """App factory for an ASGI server started by import string, e.g. with several worker processes:
    `uvicorn --factory api.app:app_from_env --workers 2` (settings from `CHOIR_GATEWAY_*` variables)."""
    return create_app(GatewaySettings())  # type: ignore[call-arg]  # required fields come from the environment
