"""`create_app(settings)`: the gateway's FastAPI application (run it with `choir gateway` or `choir up`)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import errors, metrics
from api.routes import content, events, knowledge, reads, tx
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
    metrics.install(app)
    for module in (reads, knowledge, content, tx, events):
        app.include_router(module.router)
    if STATIC.is_dir():
        app.mount("/", StaticFiles(directory=STATIC, html=True), name="dashboard")
    return app


ENV_PREFIX = "CHOIR_GATEWAY_"


def settings_from_env(environ: Mapping[str, str] | None = None) -> GatewaySettings:
    """`GatewaySettings` from `CHOIR_GATEWAY_<FIELD>` variables (e.g. `CHOIR_GATEWAY_DATABASE_URL`,
    `CHOIR_GATEWAY_RPC_URL`, `CHOIR_GATEWAY_MANIFEST_PATH`); unset fields keep their defaults."""
    env = os.environ if environ is None else environ
    values = {
        name: env[ENV_PREFIX + name.upper()]
        for name in GatewaySettings.model_fields
        if ENV_PREFIX + name.upper() in env
    }
    return GatewaySettings.model_validate(values)


def app_from_env() -> FastAPI:
    """App factory for an ASGI server started by import string, e.g. with several worker processes:
    `uvicorn --factory api.app:app_from_env --workers 2` (settings from `settings_from_env`)."""
    return create_app(settings_from_env())
