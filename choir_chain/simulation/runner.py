"""One simulation run end to end: the engine on the pure model or on a fresh devnet, then its files.

Writes into `out`: `prices.png`, `k0_refusal.png`, `treasury.png`, `equity.png` (see `plots.py`),
`threads.csv` (one row per thread per day, see `history.py`; optional) and `summary.json` (parameters,
totals, the final state and the accounting check). A devnet run keeps its anvil folder only if it fails.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from choir_chain.protocol.approval import is_valid_threshold
from choir_chain.simulation.engine import Simulation, SimulationResult
from choir_chain.simulation.ledger import LedgerView
from choir_chain.simulation.model_ledger import ModelLedger
from choir_chain.simulation.params import SimParams
from choir_chain.simulation.plots import write_figures

ENGINES = ("model", "devnet")


class AccountingError(RuntimeError):
    """Value was created or lost: the ledger broke protocol section 3's conservation."""


def conservation_gap(view: LedgerView, params: SimParams) -> int:
    """What the ledger holds minus what entered it (endowments and minted rewards); 0 when value is
    conserved: every wei is in a wallet, a treasury or a thread's locked funds."""
    held = sum(view.wallets) + sum(view.treasury.values()) + sum(view.locked.values())
    return held - (params.agents * params.endowment + view.minted)


def run_model(params: SimParams, on_day: Callable[[int], None] | None = None) -> SimulationResult:
    return Simulation(params, ModelLedger(params), on_day).run()


def run_devnet(
    params: SimParams, folder: Path, on_day: Callable[[int], None] | None = None
) -> tuple[SimulationResult, dict[int, int]]:
    """Run on a fresh devnet in `folder`; also returns each thread's token balance at the end."""
    from choir_chain.chain import Chain, dev_accounts
    from choir_chain.deploy import deploy
    from choir_chain.devnet import DEV_MNEMONIC, Devnet
    from choir_chain.simulation.chain_ledger import ChainLedger

    with Devnet(folder) as devnet:
        chain = Chain.connect(devnet.rpc_url)
        deployer, pricer = dev_accounts(DEV_MNEMONIC, 2)
        deployment = deploy(chain, deployer, pricer=pricer.address, parameters=params.hub)
        ledger = ChainLedger(params, devnet.rpc_url, deployment, funder=deployer.address, pricer=pricer.address)
        try:
            result = Simulation(params, ledger, on_day).run()
            balances = {t: ledger.balance_of(t) for t in result.final.treasury}
        finally:
            ledger.close()
    return result, balances


def simulate(
    params: SimParams,
    engine: str,
    out: Path,
    *,
    csv: bool = True,
    on_day: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Run, check the accounting, write the files; returns the summary (also written as summary.json)."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine != "model" and not is_valid_threshold(params.approval_threshold_bps):
        raise ValueError(
            "the contracts accept an approval threshold of 5001 to 10000 basis points (a strict majority to "
            f"unanimity); {params.approval_threshold_bps} runs on the pure model only (--model)"
        )
    out.mkdir(parents=True, exist_ok=True)
    balances: dict[int, int] | None = None
    if engine == "model":
        result = run_model(params, on_day)
    else:
        folder = out / "devnet"
        result, balances = run_devnet(params, folder, on_day)
        shutil.rmtree(folder, ignore_errors=True)
    gap = conservation_gap(result.final, params)
    if gap:
        raise AccountingError(f"the ledger holds {gap} wei more than entered it")
    if balances is not None:
        for thread, balance in balances.items():
            if balance != result.final.treasury[thread] + result.final.locked[thread]:
                raise AccountingError(f"thread {thread} holds {balance} wei, not its treasury + locked funds")
    files = [p.name for p in write_figures(result.history, params, out)]
    if csv:
        files.append(result.history.write_csv(out / "threads.csv").name)
    summary = _summary(result, engine, files)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _summary(result: SimulationResult, engine: str, files: list[str]) -> dict[str, Any]:
    p, final, totals = result.params, result.final, result.totals
    wad = 10**18
    return {
        "engine": engine,
        "parameters": {k: v for k, v in asdict(p).items() if k not in ("qaho", "hub")},
        "qaho": asdict(p.qaho),
        "hub": p.hub.as_dict(),
        "settled": totals.settled,
        "staked_choir": totals.staked / wad,
        "treasury_gain_choir": totals.treasury_gain / wad,
        "curator_rewards_choir": totals.claimed / wad,
        "exit_payouts_choir": totals.exited / wad,
        "final": {
            "treasuries_choir": sum(final.treasury.values()) / wad,
            "locked_choir": sum(final.locked.values()) / wad,
            "coauthors": sum(len(s) for s in final.shares.values()),
            "minted_choir": final.minted / wad,
        },
        "value_conserved": True,
        "files": files,
    }
