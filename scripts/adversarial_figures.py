"""Figures of docs/economics.md section 7 (adversarial simulation): `python scripts/adversarial_figures.py`.

Runs every strategy of `choir_chain.simulation.adversary` on the default market (30 daily epochs from day 30 of
the emission, seed 1) and writes to docs/figures/:

- adversarial.csv: per strategy, its capital, return per epoch on capital, honest participation's with the
  same capital, and its share of the epochs' budgets (mean, min, max);
- adversarial_shares.csv: each strategy's share of each epoch's budget; self-dealing's mean share for 2 to 10
  keys, text at the relevance floor and on-topic;
- adversarial.png: the returns (log scale) and the budget shares.
"""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from choir_chain.deploy import CHOIR
from choir_chain.simulation.adversary import Market, draw_epochs, run_all, self_dealing

FIGURES = Path(__file__).resolve().parent.parent / "docs" / "figures"
KEYS = list(range(2, 11))


def main() -> None:
    market = Market()
    outcomes = run_all(market)
    epochs = draw_epochs(market)
    FIGURES.mkdir(parents=True, exist_ok=True)
    with (FIGURES / "adversarial.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "strategy",
                "capital_choir",
                "roi_per_epoch",
                "honest_roi_per_epoch",
                "budget_share_mean",
                "budget_share_min",
                "budget_share_max",
                "note",
            ]
        )
        for o in outcomes:
            writer.writerow(
                [
                    o.strategy,
                    o.capital / CHOIR,
                    f"{o.roi:.4f}",
                    f"{o.honest_roi:.4f}",
                    f"{o.mean_share:.4f}",
                    f"{min(o.shares):.4f}",
                    f"{max(o.shares):.4f}",
                    o.note,
                ]
            )
            print(
                f"{o.strategy:38} capital {o.capital / CHOIR:7.0f} roi {o.roi:12.2f} honest {o.honest_roi:8.2f} "
                f"share {o.mean_share:.3f} ({min(o.shares):.3f}..{max(o.shares):.3f})"
            )
    keyed = {k: self_dealing(market, epochs, k) for k in KEYS}
    on_topic = {k: self_dealing(market, epochs, k, market.honest_weight_median) for k in KEYS}
    with (FIGURES / "adversarial_shares.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["epoch", *[o.strategy for o in outcomes]])
        for e in range(market.epochs):
            writer.writerow([e, *[f"{o.shares[e]:.4f}" if e < len(o.shares) else "" for o in outcomes]])
        writer.writerow([])
        writer.writerow(["keys", "self-dealing at the relevance floor mean share", "self-dealing on-topic mean share"])
        for k in KEYS:
            writer.writerow([k, f"{keyed[k].mean_share:.4f}", f"{on_topic[k].mean_share:.4f}"])
            print(
                f"self-dealing {k} keys: at the floor {keyed[k].mean_share:.3f}, on-topic {on_topic[k].mean_share:.3f}"
            )

    fig, (left, right) = plt.subplots(1, 2, figsize=(13.0, 4.2), dpi=80)
    names = [o.strategy for o in outcomes]
    ys = range(len(outcomes))
    left.barh([y - 0.2 for y in ys], [max(o.roi, 1e-3) for o in outcomes], height=0.4, label="strategy")
    left.barh(
        [y + 0.2 for y in ys], [max(o.honest_roi, 1e-3) for o in outcomes], height=0.4, label="honest, same capital"
    )
    left.set_yticks(list(ys), names, fontsize=7)
    left.set_xscale("log")
    left.set_xlabel("gain per epoch / capital (0 shown at 1e-3)")
    left.set_title("return on capital, 30 epochs from day 30", fontsize=9)
    left.legend(fontsize=7)
    right.plot(
        KEYS, [keyed[k].mean_share for k in KEYS], "o-", label="self-dealing, text at the relevance floor (weight 13)"
    )
    right.plot(KEYS, [on_topic[k].mean_share for k in KEYS], "o-", label="self-dealing, on-topic (weight 0.9)")
    right.set_xlabel("keys (approvals a day = keys - 1)")
    right.set_ylabel("mean share of the epoch's budget")
    right.set_ylim(0, 1)
    right.set_title("budget captured by self-dealing against 19 honest approvals a day", fontsize=9)
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(FIGURES / "adversarial.png")
    plt.close(fig)


if __name__ == "__main__":
    main()
