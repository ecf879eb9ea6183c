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


def gateway(request: Request) -> Gateway:
    """The app's `Gateway` (built once at start-up)."""
    state: Gateway = request.app.state.gateway
    return state


GatewayDep = Annotated[Gateway, Depends(gateway)]


@dataclass(frozen=True)
class Pagination:
    limit: int
    offset: int


def pagination(
    gw: GatewayDep,
    limit: Annotated[
        int | None,
        Query(ge=1, description=f"Page size: default {DEFAULT_LIMIT}, at most the gateway's `page_size_limit`."),
    ] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_INT, description="Items to skip.")] = 0,
) -> Pagination:
    """`limit` and `offset`; a limit above `page_size_limit` is refused (422 naming `limit`)."""
    most = gw.settings.page_size_limit
    if limit is None:
        limit = min(DEFAULT_LIMIT, most)
    elif limit > most:
        raise ApiError(422, "invalid_request", f"limit must be at most {most}", "limit")
    return Pagination(limit, offset)


PageDep = Annotated[Pagination, Depends(pagination)]
