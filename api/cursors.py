"""Opaque keyset cursors for the list routes: stable when rows are added, unlike offsets.

A cursor holds the sort key of a page's last item (and the sort it belongs to), base64url-encoded JSON. The next
page is the rows strictly after that key in the same order, so a row inserted before the cursor's position never
shifts what comes after it, and a row inserted after it shows up once. A cursor from another sort or order, or
one that does not decode, is a 422 naming `cursor`.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from api.errors import ApiError


def encode(kind: str, key: list[Any]) -> str:
    """The cursor after a row whose sort key is `key`, for the sort `kind` (e.g. `threads:price:desc`)."""
    raw = json.dumps({"k": kind, "v": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, kind: str, arity: int) -> list[Any]:
    """The sort key in `cursor`; 422 (`cursor`) if it is malformed or belongs to another sort."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError) as err:
        raise ApiError(422, "invalid_request", "cursor is not a cursor this gateway issued", "cursor") from err
    if not isinstance(data, dict) or data.get("k") != kind:
        raise ApiError(422, "invalid_request", f"cursor belongs to another list or sort (expected {kind})", "cursor")
    key = data.get("v")
    if not isinstance(key, list) or len(key) != arity or not all(isinstance(v, (int, str)) for v in key):
        raise ApiError(422, "invalid_request", "cursor is not a cursor this gateway issued", "cursor")
    return key
