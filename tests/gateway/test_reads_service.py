"""The gateway as a service: `/health` (and degraded health with the chain down), `/metrics`, `/ping`, and its
settings (the page size limit, the environment).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from helpers.gateway_reads import assert_error, thread_ids
from sqlalchemy.orm import Session

from api.app import create_app
from api.settings import GatewaySettings
from choir_chain.devnet import free_port, rpc_call
from choir_chain.indexer.db import make_engine
from choir_chain.indexer.models import Cursor

if TYPE_CHECKING:
    from conftest import World


# ------------------------------------------------------------------------------------------------------------
# Health, metrics
# ------------------------------------------------------------------------------------------------------------


def test_health(world: World, client: TestClient) -> None:
    rpc = world.run.rpc_url
    health = client.get("/health").json()
    engine = make_engine(world.database_url)
    with Session(engine) as session:
        cursor = session.get(Cursor, 1)
        assert cursor is not None
        indexed = cursor.last_block
    engine.dispose()
    head = int(str(rpc_call(rpc, "eth_blockNumber")), 16)
    assert health == {
        "status": "ok",
        "chain_id": 31337,
        "chain_head": head,
        "indexed_block": indexed,
        "indexer_lag": head - indexed,
        "pricer_round": world.run.deployment.hub.functions.lastRound().call(),
    }
    assert health["indexer_lag"] == 0 and health["pricer_round"] == 2


def test_chain_down_is_degraded_health_and_503_in_the_error_model(world: World) -> None:
    settings = world.settings.model_copy(update={"rpc_url": f"http://127.0.0.1:{free_port()}"})
    with TestClient(create_app(settings)) as down:
        health = down.get("/health")
        assert health.status_code == 200
        assert health.json()["status"] == "degraded"
        assert health.json()["chain_head"] is None and health.json()["indexed_block"] is not None
        assert_error(down.get("/threads/1"), 503, "chain_unavailable")
        assert_error(down.get("/threads"), 503, "chain_unavailable")
        # what needs no chain still answers
        assert down.get("/threads/1/prices").status_code == 200
        assert_error(down.get("/threads/7/prices"), 404, "unknown_thread", "thread_id")


def test_metrics(world: World, client: TestClient) -> None:
    client.get("/threads/1")
    client.get("/threads/999")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    head = int(str(rpc_call(world.run.rpc_url, "eth_blockNumber")), 16)
    assert f"choir_chain_head_block {float(head)}" in text
    assert "choir_indexer_lag_blocks 0.0" in text
    assert "choir_pricer_round 2.0" in text
    assert "choir_threads 2.0" in text
    assert "choir_gateway_healthy 1.0" in text
    assert 'choir_gateway_requests_total{method="GET",route="/threads/{thread_id}",status="200"}' in text
    assert 'choir_gateway_requests_total{method="GET",route="/threads/{thread_id}",status="404"}' in text
    assert "choir_gateway_request_duration_seconds_bucket" in text
    # each app has its own registry: a new app has counted nothing yet
    with TestClient(create_app(world.settings)) as other:
        fresh = other.get("/metrics").text
        assert 'route="/threads/{thread_id}"' not in fresh


def test_ping(client: TestClient) -> None:
    assert client.get("/ping").json() == {"ok": True}


# ------------------------------------------------------------------------------------------------------------
# Settings
# ------------------------------------------------------------------------------------------------------------


def test_page_size_limit_is_a_setting(world: World) -> None:
    settings = world.settings.model_copy(update={"page_size_limit": 1})
    with TestClient(create_app(settings)) as small:
        assert thread_ids(small.get("/threads?limit=1").json()) == [1]
        assert_error(small.get("/threads?limit=2"), 422, "invalid_request", "limit")
        assert small.get("/threads").json()["limit"] == 1  # the default page shrinks to the limit


def test_settings_from_env(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "CHOIR_GATEWAY_DATABASE_URL": world.database_url,
        "CHOIR_GATEWAY_RPC_URL": world.run.rpc_url,
        "CHOIR_GATEWAY_MANIFEST_PATH": str(world.manifest_path),
        "CHOIR_GATEWAY_PAGE_SIZE_LIMIT": "7",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = GatewaySettings()  # type: ignore[call-arg]  # the required fields come from the environment
    assert settings.page_size_limit == 7 and settings.manifest_path == world.manifest_path
    assert settings.max_content_bytes == 64 * 1024
