"""Message bodies by content hash (`content_bodies`): the store behind the gateway's `POST /content`, read by the
novelty scorer, the search and the dataset export; kept in its own SQLAlchemy metadata.

The table lives in `settings.content_url` (default: the indexer's database) and is created at the gateway's
start-up; nothing here reads or writes the indexer's tables. A body is only stored after the route checked that
`keccak256(utf8(body))` is the content hash of an indexed message, and a row is written in one statement that
does nothing when the hash is already stored, so concurrent or repeated stores of the same body are idempotent
and a failed request leaves nothing behind.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.sql.expression import Executable

metadata = MetaData()

content_bodies = Table(
    "content_bodies",
    metadata,
    Column("content_hash", String(66), primary_key=True, comment="keccak256 of the body's UTF-8 bytes, 0x hex"),
    Column("body", Text, nullable=False),
    Column("size", Integer, nullable=False, comment="bytes of the UTF-8 body"),
    Column("stored_at", BigInteger, nullable=False, comment="unix seconds of the first store"),
)

content_version = Table(
    "content_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False, comment="bodies stored through `store` so far"),
)
"""One row that `store` bumps in the transaction of each new body: readers that cache answers including bodies
(the gateway's read cache) know from one primary-key read whether any body arrived."""


SCHEMA_ATTEMPTS = 5


def create_schema(engine: Engine) -> None:
    """Create the content tables and the version row if missing (never touches any other table).

    Several gateway workers start at once (`api.serve`, `uvicorn --workers`): one may create a table or the row
    between another's check and its write, and SQLite refuses a write whose read snapshot another commit made
    stale ("database is locked"). Each such refusal is followed by a fresh check, a few times."""
    for attempt in range(SCHEMA_ATTEMPTS):
        try:
            metadata.create_all(engine, tables=[content_bodies, content_version])
            with engine.begin() as conn:
                if conn.execute(select(content_version.c.id)).first() is None:
                    conn.execute(insert(content_version).values(id=1, version=0))
            return
        except (IntegrityError, OperationalError, ProgrammingError):
            if attempt == SCHEMA_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def store(engine: Engine, content_hash: str, body: str, size: int) -> bool:
    """Store `body` under `content_hash` unless already there; True if this call inserted it."""
    values = {"content_hash": content_hash, "body": body, "size": size, "stored_at": int(time.time())}
    with engine.begin() as conn:
        inserted = _insert_ignore(conn, values)
        if inserted:
            conn.execute(
                update(content_version).where(content_version.c.id == 1).values(version=content_version.c.version + 1)
            )
        return inserted


VERSION_SQL = "SELECT version FROM content_version WHERE id = 1"
"""`content_version`'s value, as plain SQL for readers on a raw DBAPI connection."""


def _insert_ignore(conn: Connection, values: dict[str, object]) -> bool:
    dialect = conn.dialect.name
    stmt: Executable
    if dialect == "sqlite":
        stmt = sqlite.insert(content_bodies).values(values).on_conflict_do_nothing(index_elements=["content_hash"])
    elif dialect == "postgresql":
        stmt = postgresql.insert(content_bodies).values(values).on_conflict_do_nothing(index_elements=["content_hash"])
    else:  # another backend: check, then insert, in the same transaction
        found = conn.execute(
            select(content_bodies.c.content_hash).where(content_bodies.c.content_hash == values["content_hash"])
        )
        if found.first() is not None:
            return False
        conn.execute(insert(content_bodies).values(values))
        return True
    return bool(conn.execute(stmt).rowcount == 1)


def body_of(engine: Engine, content_hash: str) -> str | None:
    with engine.connect() as conn:
        found = conn.execute(select(content_bodies.c.body).where(content_bodies.c.content_hash == content_hash))
        row = found.first()
        return None if row is None else str(row[0])


def bodies_of(engine: Engine, content_hashes: Iterable[str]) -> dict[str, str]:
    """The stored bodies among `content_hashes`."""
    wanted = sorted(set(content_hashes))
    if not wanted:
        return {}
    table = content_bodies.c
    with engine.connect() as conn:
        rows = conn.execute(select(table.content_hash, table.body).where(table.content_hash.in_(wanted)))
        return {str(h): str(b) for h, b in rows}


def count(engine: Engine) -> int:
    """Rows stored (for tests and metrics)."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(content_bodies)).scalar_one())
