"""The content store's schema when several gateway workers start at once (`api.serve`, `uvicorn --workers`)."""

from __future__ import annotations

from multiprocessing import get_context
from pathlib import Path

from choir_chain import content_store
from choir_chain.indexer.db import make_engine


def _create(url: str) -> None:
    engine = make_engine(url)
    content_store.create_schema(engine)
    engine.dispose()


def test_workers_creating_the_schema_together_all_start(tmp_path: Path) -> None:
    """Before the retry, about one process in four failed here ("database is locked" or "table already
    exists")."""
    spawn = get_context("fork")
    for n in range(6):
        url = f"sqlite:///{tmp_path / f'content-{n}.db'}"
        workers = [spawn.Process(target=_create, args=(url,)) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        assert [w.exitcode for w in workers] == [0, 0, 0, 0]
        engine = make_engine(url)
        with engine.connect() as conn:
            assert conn.exec_driver_sql(content_store.VERSION_SQL).scalar_one() == 0
        engine.dispose()
