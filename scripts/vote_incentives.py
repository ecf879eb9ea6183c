"""Figures of docs/economics.md section 6 (incentives of the vote): `python scripts/vote_incentives.py`.

Writes to docs/figures/:

- vote_payoffs.csv, vote_expected.csv, vote_payoffs.png: a co-author's payoff of approving and of denying,
  pivotal (every other vote approves) and not (one other denies), against thread size, without and with an epoch
  reward; the expected payoffs against the author's quality at four sizes, under today's rule and the proposed
  threshold;
- vote_rules.csv / vote_rules.png: the agent simulation (200 threads, 2,000 agents, 365 days, seed 1) under both
  rules: each outcome's share of settlements by thread size, and mean co-authors per thread over the year.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from choir_chain.deploy import CHOIR
from choir_chain.simulation.incentives import PROPOSED_THRESHOLD_BPS, VoteCase, compare_rules, expected_payoffs, payoff
from choir_chain.simulation.model_ledger import UNANIMOUS
from choir_chain.simulation.params import SimParams

FIGURES = Path(__file__).resolve().parent.parent / "docs" / "figures"
PRICE = 21 * CHOIR
"""The ladder's ground rung (n = 0), where 55% of the model's thread-days sit."""
STAKE = 31 * CHOIR
"""An author of quality 0.5 overstakes by half (`price * (1 + q)`)."""
TREASURY = 2_300 * CHOIR
"""The model's mean treasury at the end of the year (468,000 CHOIR over 200 threads)."""
REWARD = 260_000 * CHOIR
"""One approval's share of a day's budget about day 30 (5.35 million CHOIR) among the model's ~19 approvals a day,
at equal weights."""
SIZES = list(range(1, 21))


def payoff_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for rule in (UNANIMOUS, PROPOSED_THRESHOLD_BPS):
        for reward in (0, REWARD):
            for n in SIZES:
                cases = {"pivotal": (n - 1, 0), "not pivotal": (max(n - 2, 0), 1 if n > 1 else 0)}
                for label, (yes, no) in cases.items():
                    case = VoteCase(n, STAKE, PRICE, TREASURY, yes, no, reward, rule)
                    rows.append(
                        {
                            "rule_bps": rule,
                            "reward_choir": reward // CHOIR,
                            "coauthors": n,
                            "case": label,
                            "approve_choir": payoff(case, True) / CHOIR,
                            "deny_choir": payoff(case, False) / CHOIR,
                        }
                    )
    return rows


def expected_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for rule in (UNANIMOUS, PROPOSED_THRESHOLD_BPS):
        for n in (2, 5, 8, 12):
            for q in [i / 20 for i in range(21)]:
                e = expected_payoffs(n, q, stake=STAKE, price=PRICE, treasury=TREASURY, threshold_bps=rule)
                rows.append(
                    {
                        "rule_bps": rule,
                        "coauthors": n,
                        "quality": q,
                        "approve_choir": e.approve / CHOIR,
                        "deny_choir": e.deny / CHOIR,
                        "pivotal": e.pivotal,
                    }
                )
    return rows


def write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def plot_payoffs(rows: list[dict[str, object]], expected: list[dict[str, object]]) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(13.0, 3.8), dpi=80)
    for ax, reward in zip(axes[:2], (0, REWARD // CHOIR), strict=True):
        for label, style in (("pivotal", "-"), ("not pivotal", "--")):
            sel = [r for r in rows if r["rule_bps"] == UNANIMOUS and r["reward_choir"] == reward and r["case"] == label]
            ax.plot(SIZES, [r["approve_choir"] for r in sel], style, color="tab:green", label=f"approve, {label}")
            ax.plot(SIZES, [r["deny_choir"] for r in sel], style, color="tab:red", label=f"deny, {label}")
        ax.set_yscale("symlog", linthresh=1)
        ax.set_xlabel("co-authors N")
        ax.set_ylabel("payoff (CHOIR)")
        ax.set_title(f"today's rule, reward {reward:,} CHOIR", fontsize=9)
        ax.legend(fontsize=7)
    ax = axes[2]
    for n, colour in ((2, "tab:blue"), (5, "tab:orange"), (8, "tab:purple"), (12, "tab:brown")):
        for rule, style in ((UNANIMOUS, "-"), (PROPOSED_THRESHOLD_BPS, ":")):
            sel = [r for r in expected if r["coauthors"] == n and r["rule_bps"] == rule]
            ax.plot(
                [r["quality"] for r in sel],
                [float(r["approve_choir"]) - float(r["deny_choir"]) for r in sel],  # type: ignore[arg-type]
                style,
                color=colour,
                label=f"N={n}" + (" (2/3 rule)" if rule != UNANIMOUS else ""),
            )
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("author quality q")
    ax.set_ylabel("E[approve] - E[deny] (CHOIR)")
    ax.set_title("expected advantage of approving, no reward", fontsize=9)
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(FIGURES / "vote_payoffs.png")
    plt.close(fig)


def rule_rows(runs: dict[str, dict[str, object]]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for rule, run in runs.items():
        by_size: dict[int, dict[str, int]] = run["by_size"]  # type: ignore[assignment]
        for n, counts in sorted(by_size.items()):
            total = sum(counts.values())
            rows.append(
                {
                    "rule_bps": rule,
                    "coauthors": n,
                    "settled": total,
                    **{o: counts[o] / total if total else 0.0 for o in counts},
                }
            )
    return rows


def plot_rules(runs: dict[str, dict[str, object]]) -> None:
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(13.0, 3.8), dpi=80)
    for ax, rule in ((left, str(UNANIMOUS)), (middle, str(PROPOSED_THRESHOLD_BPS))):
        by_size: dict[int, dict[str, int]] = runs[rule]["by_size"]  # type: ignore[assignment]
        sizes = sorted(by_size)
        bottom = [0.0] * len(sizes)
        for outcome in ("approved", "split", "denied", "expired"):
            shares = [by_size[n][outcome] / max(1, sum(by_size[n].values())) for n in sizes]
            ax.bar(sizes, shares, bottom=bottom, label=outcome)
            bottom = [b + s for b, s in zip(bottom, shares, strict=True)]
        ax.set_xlabel("co-authors N (16: 16 or more)")
        ax.set_ylabel("share of settlements")
        ax.set_title(
            "today's rule (unanimity)" if rule == str(UNANIMOUS) else "proposed: 2/3 of votes cast", fontsize=9
        )
        ax.legend(fontsize=7)
    for rule, label in ((str(UNANIMOUS), "unanimity"), (str(PROPOSED_THRESHOLD_BPS), "2/3 threshold")):
        right.plot(runs[rule]["mean_coauthors"], label=label)  # type: ignore[arg-type]
    right.set_xlabel("day")
    right.set_ylabel("mean co-authors per thread")
    right.set_title("thread growth", fontsize=9)
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(FIGURES / "vote_rules.png")
    plt.close(fig)


def main() -> None:
    FIGURES.mkdir(parents=True, exist_ok=True)
    rows, expected = payoff_rows(), expected_rows()
    write_csv(FIGURES / "vote_payoffs.csv", rows)
    write_csv(FIGURES / "vote_expected.csv", expected)
    plot_payoffs(rows, expected)
    runs = compare_rules(SimParams(threads=200, agents=2000, days=365, seed=1))
    write_csv(FIGURES / "vote_rules.csv", rule_rows(runs))
    plot_rules(runs)
    summary = {
        rule: {
            "settled": run["settled"],
            "final_coauthors": run["final_coauthors"],
            "mean_coauthors_day_364": run["mean_coauthors"][-1],
        }
        for rule, run in runs.items()
    }
    print(json.dumps(summary, indent=2))
    for r in rows:
        if r["coauthors"] in (1, 2, 5, 8, 12, 20):
            print(r)


if __name__ == "__main__":
    main()
