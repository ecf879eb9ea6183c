"""The indexer's database: an engine from a URL, with SQLite set up for one writer and many readers.

The default is an SQLite file in the run folder; a plain file path stands for that SQLite file. A `postgresql://`
URL (driver psycopg 3) serves deployments that outgrow one machine; a plain `postgresql://` or `postgres://` URL is
read as `postgresql+psycopg://`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL

from choir_chain.indexer.models import Base
from choir_chain.paths import run_root

SQLITE_BUSY_TIMEOUT_MS = 30_000


def default_url() -> str:
    """`sqlite:///<run folder>/choir.db`."""
    return f"sqlite:///{run_root() / 'choir.db'}"


def as_url(value: str) -> str:
    """`value` as a database URL: a URL as it is, a plain file path (no `://`) as that SQLite file's URL."""
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def normalize_url(url: str) -> URL:
    """Parse `url` (or an SQLite file's path, see `as_url`), choosing psycopg 3 for PostgreSQL URLs that name no
    driver."""
    url = as_url(url)
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | None = None, *, echo: bool = False) -> Engine:
    """An engine for `url` (default: `default_url()`); the SQLite file's folder is created if missing."""
    parsed = normalize_url(url or default_url())
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, echo=echo, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, echo=echo)
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    """WAL (readers never block the writer), foreign keys on, and real transactions.

    Python's sqlite3 driver (before 3.12's `autocommit`) begins transactions lazily and never for SELECT; the
    recipe from SQLAlchemy's SQLite documentation hands BEGIN to SQLAlchemy so a block range is one
    transaction. `synchronous=NORMAL` in WAL mode survives any crash of the process; a power loss may drop the
    last commits, which only means re-indexing their ranges (the cursor is in the same transactions).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


def create_schema(engine: Engine) -> None:
    """Create every missing table (existing tables are left as they are)."""
    Base.metadata.create_all(engine)


def drop_schema(engine: Engine) -> None:
    """Drop every indexer table (for `--reset`)."""
    Base.metadata.drop_all(engine)
