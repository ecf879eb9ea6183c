"""Bad input to the read routes: unknown threads are 404, malformed ids, pagination and sort are 422, in the one
error body.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from helpers.gateway_reads import assert_error

# ------------------------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/messages", "/specs", "/prices", "/proposals"])
def test_unknown_thread_is_404(client: TestClient, suffix: str) -> None:
    for thread_id in (0, 3, 2**63 - 1):
        error = assert_error(client.get(f"/threads/{thread_id}{suffix}"), 404, "unknown_thread", "thread_id")
        assert str(thread_id) in error["message"]


@pytest.mark.parametrize("bad", ["-1", "abc", "1.5", str(2**63), str(2**256)])
def test_bad_thread_id_is_422(client: TestClient, bad: str) -> None:
    assert_error(client.get(f"/threads/{bad}"), 422, "invalid_request", "thread_id")


def test_bad_pagination_and_sort(client: TestClient) -> None:
    error = assert_error(client.get("/threads?limit=101"), 422, "invalid_request", "limit")
    assert "100" in error["message"]
    assert client.get("/threads?limit=100").status_code == 200
    assert_error(client.get("/threads/1/messages?limit=1000"), 422, "invalid_request", "limit")
    assert_error(client.get("/threads?limit=0"), 422, "invalid_request", "limit")
    assert_error(client.get("/threads?limit=x"), 422, "invalid_request", "limit")
    assert_error(client.get("/threads?offset=-1"), 422, "invalid_request", "offset")
    assert_error(client.get(f"/threads?offset={2**64}"), 422, "invalid_request", "offset")
    assert_error(client.get("/threads?sort=size"), 422, "invalid_request", "sort")
    assert_error(client.get("/threads?order=up"), 422, "invalid_request", "order")
    assert_error(client.get("/no/such/route"), 404, "not_found")
