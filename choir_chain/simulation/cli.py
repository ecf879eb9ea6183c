"""`choir simulate`: run an agent-based community and write its figures, CSV and summary.

The simulation modules (NumPy, matplotlib, web3) are imported when the command runs, not when `choir` starts.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console(stderr=True)

DEVNET_DEFAULTS = {"threads": 5, "days": 30, "agents": 50}
MODEL_DEFAULTS = {"threads": 200, "days": 365, "agents": 2000}


def simulate(
    model: Annotated[
        bool,
        typer.Option("--model", help="Run on the pure model (fast, for large runs) instead of a devnet."),
    ] = False,
    threads: Annotated[
        int | None, typer.Option(min=1, help="Threads (default: 5 on a devnet, 200 with --model).")
    ] = None,
    days: Annotated[int | None, typer.Option(min=1, help="Days (default: 30 on a devnet, 365 with --model).")] = None,
    agents: Annotated[
        int | None, typer.Option(min=2, help="Agents (default: 50 on a devnet, 2000 with --model).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of every random draw.")] = 1,
    spec_rate: Annotated[float, typer.Option(min=0.0, help="Mean specs per thread per day.")] = 1.0,
    exit_rate: Annotated[float, typer.Option(min=0.0, max=1.0, help="Chance per co-author per day of leaving.")] = 0.01,
    out: Annotated[
        Path | None,
        typer.Option(help="Output folder (default: simulation-<time> in the run folder)."),
    ] = None,
    csv: Annotated[bool, typer.Option("--csv/--no-csv", help="Write threads.csv (one row per thread per day).")] = True,
    approval_threshold_bps: Annotated[
        int,
        typer.Option(
            min=1,
            max=10_000,
            help="Vote rule: 10000 = today's (approved only when every vote approves); lower = approved at this "
            "share of the votes cast, deniers paid only when not approved. On a devnet 5001 to 10000 (the "
            "contracts' range, set through each thread's governor); any value with --model.",
        ),
    ] = 10_000,
) -> None:
    """Simulate a community of authors (varying quality) and co-authors (varying strictness).

    Writes prices.png, k0_refusal.png, treasury.png, equity.png, threads.csv and summary.json. Runs on a fresh
    devnet (the real contracts; needs `make compile`) unless --model is given.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from choir_chain.artifacts import ArtifactError
    from choir_chain.devnet import DevnetError
    from choir_chain.paths import run_root
    from choir_chain.scenario.batch import BatchError
    from choir_chain.simulation.params import SimParams
    from choir_chain.simulation.runner import AccountingError
    from choir_chain.simulation.runner import simulate as run

    defaults = MODEL_DEFAULTS if model else DEVNET_DEFAULTS
    engine = "model" if model else "devnet"
    folder = (out or run_root() / f"simulation-{time.strftime('%Y%m%d-%H%M%S')}").resolve()
    try:
        params = SimParams(
            threads=threads or defaults["threads"],
            days=days or defaults["days"],
            agents=agents or defaults["agents"],
            seed=seed,
            spec_rate=spec_rate,
            exit_rate=exit_rate,
            approval_threshold_bps=approval_threshold_bps,
        )
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(f"simulating ({engine}) day", total=params.days)
            summary = run(params, engine, folder, csv=csv, on_day=lambda _day: progress.advance(task))
    except (ValueError, ArtifactError, DevnetError, BatchError, AccountingError, OSError) as err:
        console.print(f"[red]error:[/red] {err}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    settled = ", ".join(f"{n} {k}" for k, n in summary["settled"].items())
    console.print(
        f"{params.threads} threads, {params.agents} agents, {params.days} days on the {engine}: {settled}; "
        f"treasuries {summary['final']['treasuries_choir']:,.0f} CHOIR; value conserved to the wei",
        highlight=False,
    )
    console.print(f"wrote {', '.join(summary['files'])} and summary.json to {folder}", highlight=False)
