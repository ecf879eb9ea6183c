"""The gateway's FastAPI dependencies: the app's connections (`GatewayDep`) and a list route's page
(`PageDep`). Routes take them as annotated parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request

from api.errors import ApiError
from api.state import Gateway

MAX_INT = 2**63 - 1
"""Largest id or offset a query may carry (the database's 64-bit integers)."""
DEFAULT_LIMIT = 20


async def gateway(request: Request) -> Gateway:
    """The app's `Gateway` (built once at start-up). Dependencies are `async` when they never block: FastAPI
    would run a plain `def` in its thread pool, a hop that costs more than a cached read itself."""
    state: Gateway = request.app.state.gateway
    return state


GatewayDep = Annotated[Gateway, Depends(gateway)]


@dataclass(frozen=True)
class Pagination:
    limit: int
    offset: int
    cursor: str | None = None
    """Keyset position (`api.cursors`) from a previous page's `next_cursor`; excludes a non-zero offset."""


async def pagination(
    gw: GatewayDep,
    limit: Annotated[
        int | None,
        Query(ge=1, description=f"Page size: default {DEFAULT_LIMIT}, at most the gateway's `page_size_limit`."),
    ] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_INT, description="Items to skip.")] = 0,
    cursor: Annotated[
        str | None,
        Query(
            max_length=512,
            description="A previous page's `next_cursor`: the page after it, stable when rows are added "
            "(keyset pagination). Not with a non-zero `offset`.",
        ),
    ] = None,
) -> Pagination:
    """`limit`, `offset` and `cursor`; a limit above `page_size_limit` is refused (422 naming `limit`), as is a
    cursor with a non-zero offset (422 naming `offset`)."""
    most = gw.settings.page_size_limit
    if limit is None:
        limit = min(DEFAULT_LIMIT, most)
    elif limit > most:
        raise ApiError(422, "invalid_request", f"limit must be at most {most}", "limit")
    if cursor is not None and offset != 0:
        raise ApiError(422, "invalid_request", "give either a cursor or an offset, not both", "offset")
    return Pagination(limit, offset, cursor)


PageDep = Annotated[Pagination, Depends(pagination)]
