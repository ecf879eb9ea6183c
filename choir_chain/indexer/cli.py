"""`choir index`: run the indexer against a node and a deployment manifest, until Ctrl-C (or once).

The indexer itself (SQLAlchemy's ORM, the decoder) is imported when the command runs, not when `choir` starts.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from choir_chain.artifacts import ArtifactError
from choir_chain.cli_options import (
    Confirmations,
    DatabaseUrl,
    ManifestPath,
    RpcUrl,
    default_confirmations,
    logging_to_stderr,
    one_line,
    read_target,
    stopping_on_signals,
)
from choir_chain.indexer.errors import IndexerError

console = Console(stderr=True)


def index(
    rpc: RpcUrl = None,
    manifest: ManifestPath = None,
    db: DatabaseUrl = None,
    confirmations: Confirmations = None,
    batch_blocks: Annotated[int, typer.Option(min=1, help="Most blocks per eth_getLogs range.")] = 1000,
    poll_interval: Annotated[float, typer.Option(min=0.01, help="Seconds between polls when up to date.")] = 1.0,
    once: Annotated[bool, typer.Option("--once", help="Index what is due, then exit.")] = False,
    reset: Annotated[
        bool, typer.Option("--reset", help="Drop the indexer's tables and re-index from scratch.")
    ] = False,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="Re-derive every table from the raw-log cache in the database (after a schema change or a "
            "handler fix), without the node; then index on.",
        ),
    ] = False,
    max_reorg_depth: Annotated[
        int, typer.Option(min=0, help="Deepest reorg rolled back (blocks); a deeper one stops the indexer.")
    ] = 64,
) -> None:
    """Index the hub's and every thread's events into a database (SQLite in the run folder by default).

    Follows the chain until Ctrl-C; each block range is committed whole, so a stop or a crash loses nothing
    and a restart resumes after the last committed block. A reorg up to --max-reorg-depth blocks is rolled back
    from the raw-log cache and re-indexed.
    """
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with logging_to_stderr("choir_chain.indexer", logging.INFO):
            options = _Options(confirmations, batch_blocks, poll_interval, once, reset, rebuild, max_reorg_depth)
            _run(rpc, manifest, db, options)
    except (IndexerError, ArtifactError, OSError, ValidationError, SQLAlchemyError) as err:
        console.print(f"[red]error:[/red] {escape(one_line(err))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


@dataclass(frozen=True)
class _Options:
    confirmations: int | None
    batch_blocks: int
    poll_interval: float
    once: bool
    reset: bool
    rebuild: bool
    max_reorg_depth: int


def _run(rpc: str | None, manifest_path: Path | None, db: str | None, options: _Options) -> None:
    from choir_chain.indexer.cache import rebuild
    from choir_chain.indexer.db import default_url, make_engine, normalize_url
    from choir_chain.indexer.indexer import Indexer

    if options.reset and options.rebuild:
        raise IndexerError("--reset and --rebuild exclude each other (--reset drops the raw-log cache)")
    rpc, manifest = read_target(rpc, manifest_path, IndexerError)
    confirmations = options.confirmations
    if confirmations is None:
        confirmations = default_confirmations(manifest.chain_id)
    url = db or default_url()
    shown = normalize_url(url).render_as_string(hide_password=True)
    if options.rebuild:
        engine = make_engine(url)
        try:
            start = time.perf_counter()
            last = rebuild(engine, manifest)
        finally:
            engine.dispose()
        seconds = time.perf_counter() - start
        console.print(f"rebuilt {shown} from its raw-log cache up to block {last} in {seconds:.2f}s", highlight=False)
    stop = threading.Event()
    with Indexer(
        rpc,
        manifest,
        url,
        confirmations=confirmations,
        batch_blocks=options.batch_blocks,
        poll_interval=options.poll_interval,
        stop=stop,
        reset=options.reset,
        max_reorg_depth=options.max_reorg_depth,
    ) as indexer:
        console.print(
            f"indexing chain {manifest.chain_id} from block {indexer.last_block + 1} into {shown} "
            f"({confirmations} confirmations)",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        if options.once:
            indexer.sync()
            console.print(f"indexed up to block {indexer.last_block}", highlight=False)
            return
        with stopping_on_signals(stop):
            indexer.follow()
        console.print(f"indexer stopped at block {indexer.last_block}", highlight=False)
