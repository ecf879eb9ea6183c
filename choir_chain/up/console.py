"""What `choir up` prints: one line per start-up step, the pricer's rounds, and the panel once everything runs."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from choir_chain.protocol.units import CHOIR

if TYPE_CHECKING:
    from choir_chain.seed import SeedResult

PRICER_WARNINGS = ("retry", "stuck", "allocation_failed", "novelty_failed", "novelty_disabled", "rewards_disabled")
"""Pricer events printed in yellow with their details."""


def choir_amount(wei: int | str, places: int = 4) -> str:
    """An amount in wei as CHOIR, rounded to `places` decimals, without trailing zeros."""
    text = format(round(Decimal(int(wei)) / Decimal(CHOIR), places), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def shown_path(path: Path) -> str:
    """`path` relative to the working folder when inside it (shorter in the panel)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def seed_summary(seeded: SeedResult) -> str:
    specs = seeded.specs()
    by_status: dict[str, int] = {}
    for spec in specs:
        by_status[spec.status or "?"] = by_status.get(spec.status or "?", 0) + 1
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(by_status.items()))
    proposal = 1 if seeded.proposal is not None else 0
    return (
        f"{len(seeded.threads)} threads, {len(seeded.messages)} messages, {len(specs)} specs ({statuses}), "
        f"{proposal} open proposal"
    )


@dataclass(frozen=True)
class PanelRows:
    """What the closing panel shows."""

    url: str
    rpc_url: str
    chain_id: int
    devnet: bool
    manifest_path: Path
    database_path: Path
    logs: list[str]
    log_folder: Path
    seeded: str | None
    pricer: str | None


@dataclass
class UpConsole:
    console: Console

    def step(self, label: str, text: str, started: float | None = None) -> None:
        took = f" [dim]({time.monotonic() - started:.1f} s)[/dim]" if started is not None else ""
        self.console.print(f"  [bold]{label:<8}[/bold] {escape(text)}{took}", highlight=False, soft_wrap=True)

    def line(self, text: str) -> None:
        self.console.print(text, highlight=False, soft_wrap=True)

    def indexer_warning(self, text: str) -> None:
        """A warning of the indexer a person watching must see (a reorg rolled back)."""
        self.line(f"[yellow]indexer  {escape(text)}[/yellow]")

    def pricer_event(self, event: dict[str, Any], log: IO[str]) -> None:
        """Log the pricer's event (JSON line) and print the ones a person watching wants to see."""
        log.write(json.dumps(event, separators=(",", ":")) + "\n")
        log.flush()
        kind = event.get("event")
        if kind == "round":
            prices = ", ".join(
                f"thread {t} {choir_amount(p)} CHOIR" for t, p in zip(event["threads"], event["prices"], strict=True)
            )
            self.line(f"[dim]pricer   round {event['round']} (block {event['block']}): {prices}[/dim]")
        elif kind == "allocation":
            self.line(
                f"[dim]pricer   epoch {event['epoch']} closed: {choir_amount(event['total'])} of its "
                f"{choir_amount(event['budget'])} CHOIR budget minted to {len(event['messages'])} approved "
                f"message(s) (block {event['block']})[/dim]"
            )
        elif kind == "novelty":
            scored = len(event["messages"])
            most = max(event["weights"]) if event["weights"] else 0.0
            self.line(
                f"[dim]pricer   novelty round {event['round']} (block {event['block']}): {scored} messages scored, "
                f"weights up to {most:g}, {event['remaining']} waiting[/dim]"
            )
        elif kind in PRICER_WARNINGS:
            detail = escape(json.dumps({k: v for k, v in event.items() if k != "event"}))
            self.line(f"[yellow]pricer   {kind}[/yellow] {detail}")

    def panel(self, rows: PanelRows) -> None:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        table.add_row("dashboard", f"[link={rows.url}/]{rows.url}/[/link]")
        table.add_row("API docs", f"{rows.url}/docs")
        chain = f"chain {rows.chain_id}" + (", anvil" if rows.devnet else "")
        table.add_row("RPC", f"{rows.rpc_url} ({chain})")
        table.add_row("manifest", shown_path(rows.manifest_path))
        table.add_row("database", shown_path(rows.database_path))
        table.add_row("logs", shown_path(rows.log_folder / f"{{{','.join(rows.logs)}}}.log"))
        if rows.seeded is not None:
            table.add_row("seeded", rows.seeded)
        if rows.pricer is not None:
            table.add_row("pricer", rows.pricer)
        if rows.devnet:
            table.add_row("accounts", "development accounts 0-9 ('test test ... junk'), 0 admin, 1 pricer")
        self.console.print(
            Panel(
                table,
                title="[bold]Choir is up[/bold]",
                title_align="left",
                subtitle="Ctrl-C stops everything",
                subtitle_align="left",
                expand=False,
            )
        )
