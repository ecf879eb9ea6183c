"""`Uint256`: an exact, numerically ordered column type for EVM amounts on SQLite and PostgreSQL.

Amounts reach about 1e28 and ids (`threadId << 64 | index`) reach 2**128: far beyond 64-bit integer columns.
PostgreSQL stores them as `NUMERIC(78, 0)` (78 digits hold 2**256 - 1 exactly), so SQL arithmetic (`SUM`,
comparisons) works there. Other databases (SQLite) get a 78-character zero-padded decimal string: exact, and
with the default binary collation its order is the numeric order, so `ORDER BY` and range filters stay
correct. Python sees plain `int` either way.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

DIGITS = 78
"""Decimal digits of 2**256 - 1."""
MAX_UINT256 = 2**256 - 1


class Uint256(TypeDecorator[int]):
    """A non-negative integer below 2**256, exact and sortable on every backend."""

    impl = String(DIGITS)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(DIGITS, 0))
        return dialect.type_descriptor(String(DIGITS))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> str | Decimal | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_UINT256:
            raise ValueError(f"not a uint256: {value!r}")
        if dialect.name == "postgresql":
            return Decimal(value)
        return f"{value:0{DIGITS}d}"

    def process_result_value(self, value: str | Decimal | None, dialect: Dialect) -> int | None:
        return None if value is None else int(value)
