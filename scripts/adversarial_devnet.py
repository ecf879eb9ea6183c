"""The devnet table of docs/economics.md section 7: `python scripts/adversarial_devnet.py [--epochs N] [--honest X]`.

Plays every strategy of `choir_chain.simulation.adversary_devnet` on a fresh anvil devnet (the real contracts,
3 daily epochs from day 30 of the emission by default, a seeded honest background) and writes
docs/figures/adversarial_devnet.csv: per strategy its capital, its gain on chain, its return per epoch on capital
and its share of each epoch's budget (mean, min, max), beside the pure model's figures for the same epochs and
honest participation with the same capital (the model's formula on the devnet's epochs). Prints the same table.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

from choir_chain.deploy import CHOIR
from choir_chain.simulation.adversary_devnet import DevnetConfig, DevnetReport, run_all

FIGURES = Path(__file__).resolve().parent.parent / "docs" / "figures"
HEADER = [
    "strategy",
    "capital_choir",
    "gain_choir",
    "gain_wei",
    "epochs",
    "roi_per_epoch",
    "model_roi_per_epoch",
    "honest_roi_per_epoch",
    "budget_share_mean",
    "budget_share_min",
    "budget_share_max",
    "model_budget_share_mean",
    "note",
]


def write(report: DevnetReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for o in report.outcomes:
            shares = o.shares or [0.0]
            writer.writerow(
                [
                    o.strategy,
                    f"{o.capital / CHOIR:.2f}",
                    f"{o.gain / CHOIR:.6f}",
                    o.gain,
                    o.epochs,
                    f"{o.roi:.4f}",
                    f"{o.model.roi:.4f}",
                    f"{o.honest_roi:.4f}",
                    f"{o.mean_share:.4f}",
                    f"{min(shares):.4f}",
                    f"{max(shares):.4f}",
                    f"{o.model.mean_share:.4f}",
                    o.note,
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=DevnetConfig.epochs)
    parser.add_argument("--honest", type=float, default=DevnetConfig.honest_per_epoch, help="honest approvals a day")
    parser.add_argument("--threads", type=int, default=DevnetConfig.honest_threads, help="honest threads")
    parser.add_argument("--out", type=Path, default=FIGURES / "adversarial_devnet.csv")
    args = parser.parse_args()
    config = DevnetConfig(epochs=args.epochs, honest_per_epoch=args.honest, honest_threads=args.threads)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="choir-adversarial-") as run_dir:
        report = run_all(config, Path(run_dir))
    elapsed = time.monotonic() - started
    write(report, args.out)
    budgets = ", ".join(f"{b / CHOIR / 1e6:.3f}M" for b in report.epochs.budgets)
    honest = ", ".join(f"{len(w)} ({w.sum():.2f})" for w in report.epochs.honest_weights)
    print(f"{config.epochs} epochs from day {config.start_day}: budgets {budgets} CHOIR")
    print(f"honest approvals a day (their total weight): {honest}")
    for o in report.outcomes:
        shares = o.shares or [0.0]
        print(
            f"{o.strategy:52} capital {o.capital / CHOIR:7.0f} gain {o.gain / CHOIR:14.2f} "
            f"roi {o.roi:11.2f} (model {o.model.roi:11.2f}) honest {o.honest_roi:8.2f} "
            f"share {o.mean_share:.3f} ({min(shares):.3f}..{max(shares):.3f}; model {o.model.mean_share:.3f})"
        )
    print(f"played in {elapsed:.0f} s; written to {args.out}")


if __name__ == "__main__":
    main()
