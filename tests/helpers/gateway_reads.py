"""What the gateway read-route tests share: the one error body, answers without their block and cursor, a
page's thread ids, a block's timestamp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from api.errors import ErrorBody

if TYPE_CHECKING:
    from conftest import World


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """`response` is `status` with the one error body, this `code` and (if given) this `field`."""
    assert response.status_code == status, response.text
    body = response.json()
    ErrorBody.model_validate(body)
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}
    assert body["error"]["code"] == code, body
    if field is not None:
        assert body["error"]["field"] == field, body
    return dict(body["error"])


def plain(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer without the block it reflects and the next page's cursor (checked by their own tests)."""
    return {k: v for k, v in answer.items() if k not in ("meta", "next_cursor")}


def thread_ids(page: dict[str, Any]) -> list[int]:
    return [t["thread_id"] for t in page["items"]]


def block_time(world: World, block: int) -> int:
    return int(world.run.chain.w3.eth.get_block(block)["timestamp"])
