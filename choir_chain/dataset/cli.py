"""`choir dataset export`: the curated dataset of a Choir chain, from the indexer's database and the content store.

Bad input (an unknown format, an unwritable or non-empty output folder, a database without the indexer's
tables) prints one line and exits with status 2, leaving no output folder behind. pyarrow and SQLAlchemy are
imported when the command runs, not when `choir` starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from choir_chain.dataset.preferences import DEFAULT_MAX_PAIRS_PER_THREAD
from choir_chain.dataset.records import DEFAULT_CONTEXT_LIMIT

console = Console(stderr=True)

dataset = typer.Typer(help="Training-data export of the chain's curated messages.", no_args_is_help=True)

USAGE_ERROR = 2


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True, highlight=False)
    return typer.Exit(USAGE_ERROR)


@dataset.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="Folder to create with the dataset.")],
    fmt: Annotated[str, typer.Option("--format", help="jsonl or parquet.")] = "jsonl",
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="CHOIR_DB_URL",
            help="Indexer database: a URL, or an SQLite file's path (default: choir.db in the run folder).",
        ),
    ] = None,
    content_db: Annotated[
        str | None,
        typer.Option("--content-db", help="Database URL of the content store (default: the indexer's database)."),
    ] = None,
    context_limit: Annotated[
        int, typer.Option("--context-limit", help="Characters of thread context kept per record.")
    ] = DEFAULT_CONTEXT_LIMIT,
    max_pairs: Annotated[
        int, typer.Option("--max-pairs-per-thread", help="Most preference pairs taken from one thread.")
    ] = DEFAULT_MAX_PAIRS_PER_THREAD,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing non-empty --out folder.")] = False,
) -> None:
    """Write records, preference pairs, missing_bodies.json and a dataset card (README.md) into --out.

    One record per settled spec and per co-author post, in (thread, message index) order; the same database
    gives byte-identical files. Messages whose body was never stored are reported, not exported.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from sqlalchemy import Engine
    from sqlalchemy.exc import SQLAlchemyError

    from choir_chain.dataset.card import counted
    from choir_chain.dataset.export import export
    from choir_chain.dataset.records import DatasetError
    from choir_chain.dataset.writer import FORMATS
    from choir_chain.indexer.db import as_url, default_url, make_engine

    if fmt not in FORMATS:
        raise _fail(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    engines: list[Engine] = []
    bar = Progress(
        TextColumn("exporting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("messages"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    )
    task = bar.add_task("export", total=None)
    try:
        url = as_url(db) if db else default_url()
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
            raise DatasetError(f"no database at {url} (run `choir index`, or pass --db)")
        engines.append(make_engine(url))
        content_engine = make_engine(content_db) if content_db else engines[0]
        if content_db:
            engines.append(content_engine)
        with bar:
            result = export(
                engines[0],
                out,
                fmt=fmt,
                content_engine=content_engine,
                context_limit=context_limit,
                max_pairs_per_thread=max_pairs,
                overwrite=overwrite,
                progress=lambda n: bar.advance(task, n),
                on_total=lambda total: bar.update(task, total=total),
            )
    except DatasetError as err:
        raise _fail(str(err)) from None
    except (SQLAlchemyError, OSError) as err:
        lines = str(err).strip().splitlines()
        raise _fail(lines[0] if lines else type(err).__name__) from None
    finally:
        for engine in engines:
            engine.dispose()
    stats = result.stats
    if stats.missing:
        console.print(
            f"warning: {len(stats.missing)} message bodies were never stored; left out "
            f"(listed in {result.out / 'missing_bodies.json'})",
            soft_wrap=True,
            highlight=False,
            markup=False,
        )
    console.print(
        f"exported {counted(stats.records, 'record')} and {counted(stats.pairs, 'preference pair')} ({fmt}) "
        f"to {result.out}",
        soft_wrap=True,
        highlight=False,
        markup=False,
    )
