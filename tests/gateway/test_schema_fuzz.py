"""Property-based tests of the whole API from its own OpenAPI schema (schemathesis 4).

Every GET route (`GET /search` with the real embedding model, loaded once per process), `POST /content` and every
`POST /tx/...` route the schema lists gets generated requests, valid
and invalid (schemathesis' positive and negative modes), against the devnet of `conftest.py`. Checks: no 5xx,
an answer that matches the documented schema and media type for its status, and every 4xx body in the one
error model `{"error": {"code", "message", "field"}}`. Bounded: `MAX_EXAMPLES` per operation, no shrinking
beyond Hypothesis' default budget, the event stream cut after `STREAM_SECONDS`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from api.app import create_app
from api.errors import ErrorBody

if TYPE_CHECKING:
    from conftest import World

    from choir_chain.semantics.embedder import Embedder

MAX_EXAMPLES = 25
STREAM_SECONDS = 0.5
"""How long one request to the (endless) event stream is read before it is cut."""


@pytest.fixture(scope="module")
def fuzz_app(world: World, tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[FastAPI]:
    """An app of its own (its own content database), whose lifespan schemathesis starts on first use. `embedder`
    loads the model beforehand: its ~10 s load would otherwise fall into the first `/search` request's timeout."""
    content_db = tmp_path_factory.mktemp("fuzz") / "content.db"
    app = create_app(world.settings.model_copy(update={"content_url": f"sqlite:///{Path(content_db)}"}))
    yield app
    asgi.shutdown_lifespans()


@pytest.fixture
def api_schema(fuzz_app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


def error_model(ctx: Any, response: Any, case: Any) -> bool | None:
    """A check: every 4xx and 5xx answer is the error model, nothing else in it."""
    if response.status_code >= 400:
        body = response.json()
        ErrorBody.model_validate(body)
        assert set(body) == {"error"}, body
        assert set(body["error"]) == {"code", "message", "field"}, body
        assert body["error"]["code"] and body["error"]["message"], body
    return None


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, error_model]


def _fuzzed(ctx: Any) -> bool:
    """GET routes, `POST /content` and the transaction routes; the event stream has a test of its own."""
    operation = ctx.operation
    if operation.path == "/events":
        return False
    return bool(operation.method.upper() == "GET" or operation.path == "/content" or operation.path.startswith("/tx"))


lazy_schema = schemathesis.pytest.from_fixture("api_schema")
BOUNDED = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


@lazy_schema.include(_fuzzed).parametrize()
@BOUNDED
def test_api(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)


@lazy_schema.include(path="/events").parametrize()
@settings(BOUNDED, max_examples=3, phases=[Phase.generate])
def test_event_stream(case: Any) -> None:
    case.call_and_validate(checks=CHECKS, timeout=STREAM_SECONDS)


def test_schema_lists_the_routes(fuzz_app: FastAPI) -> None:
    """The routes this file fuzzes are in the schema, each with an example and the error model documented."""
    schema = fuzz_app.openapi()
    paths = schema["paths"]
    for path in (
        "/threads",
        "/threads/{thread_id}",
        "/threads/{thread_id}/messages",
        "/threads/{thread_id}/specs",
        "/threads/{thread_id}/prices",
        "/threads/{thread_id}/proposals",
        "/accounts/{address}",
        "/prices",
        "/health",
        "/metrics",
        "/ping",
        "/content/{content_hash}",
        "/search",
        "/graph",
        "/threads/{thread_id}/graph",
    ):
        assert "get" in paths[path], path
    assert "post" in paths["/content"] and "post" in paths["/tx/createThread"]
    components = schema["components"]["schemas"]
    for name in (
        "ThreadSummary",
        "ThreadDetail",
        "MessageOut",
        "SpecOut",
        "ProposalOut",
        "AccountOut",
        "HealthOut",
        "SearchResult",
        "NetworkGraph",
        "ThreadGraph",
    ):
        assert components[name].get("examples"), name
    kinds = components["PostRequest"]["properties"]["author_kind"]
    assert kinds["enum"] == ["human", "ai", "ai_prompted"] and kinds["default"] == "human"
    assert paths["/threads/{thread_id}"]["get"]["responses"]["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
