"""Fit and plot the novelty calibration (docs/novelty.md): `python scripts/calibrate_novelty.py`.

Encodes the calibration corpus (`choir_chain.semantics.corpus`) and the demo's messages with all-MiniLM-L6-v2
(offline), fits the affine map, and writes:

- docs/figures/novelty_calibration.png: raw against calibrated similarity for every pair, the fitted line, the
  curve's landmarks (cap at 0.75, zero at 0.95), and the demo's messages before and after;
- docs/figures/novelty_calibration.csv: one row per pair and per demo message (set, class, raw, calibrated,
  residual, weight before, weight after).

It prints the fit, the residuals per class and the demo's figures. The module's constants are the rounded fit; the
script says if they no longer match.
"""

from __future__ import annotations

import csv
import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from choir_chain.pricing.novelty import MAX_NOVELTY_REWARD, novelty_reward
from choir_chain.protocol.units import WAD
from choir_chain.semantics import earlier_max_similarities, load_embedder
from choir_chain.semantics.calibration import INTERCEPT_WAD, SLOPE_WAD, calibrate, fit
from choir_chain.semantics.corpus import CLASSES
from choir_chain.semantics.demo import demo_messages

FIGURES = Path(__file__).resolve().parent.parent / "docs" / "figures"
COLOURS = {"paraphrase": "tab:red", "same topic": "tab:orange", "unrelated": "tab:blue"}


def main() -> None:
    embedder = load_embedder()
    rows: list[dict[str, object]] = []
    raw_all: list[float] = []
    targets: list[float] = []
    per_class: dict[str, list[float]] = {}
    for name, pairs, target in CLASSES:
        first = embedder.encode([a for a, _ in pairs])
        second = embedder.encode([b for _, b in pairs])
        sims = [float(x) for x in (first * second).sum(axis=1)]
        per_class[name] = sims
        raw_all += sims
        targets += [target] * len(sims)
    result = fit(raw_all, targets)
    slope, intercept = result.rounded()
    print(f"fit: calibrated = {result.intercept:.4f} + {result.slope:.4f} * raw; rms residual {result.rms:.4f}")
    if (slope, intercept) != (SLOPE_WAD, INTERCEPT_WAD):
        print("note: the rounded fit differs from the module's constants (SLOPE_WAD, INTERCEPT_WAD)")
    at = 0
    for name, _pairs, target in CLASSES:
        sims = per_class[name]
        residuals = result.residuals[at : at + len(sims)]
        at += len(sims)
        weights = [novelty_reward(calibrate(s) / WAD) for s in sims]
        print(
            f"{name:10} n={len(sims)} raw {min(sims):.3f}..{max(sims):.3f} (median {statistics.median(sims):.3f}) "
            f"target {target}; residual mean {residuals.mean():+.4f} max |r| {abs(residuals).max():.4f}; "
            f"weight median {statistics.median(weights):.3g} range {min(weights):.3g}..{max(weights):.3g}"
        )
        for s, r, w in zip(sims, residuals, weights, strict=True):
            rows.append(
                {
                    "set": "corpus",
                    "class": name,
                    "raw": s,
                    "calibrated": calibrate(s) / WAD,
                    "residual": float(r),
                    "weight_before": novelty_reward(min(s, 1.0)),
                    "weight_after": w,
                }
            )
    messages = demo_messages()
    demo_raw = [float(s) for s in earlier_max_similarities(embedder.encode([m.body for m in messages]))]
    before = [novelty_reward(min(s, 1.0)) for s in demo_raw]
    after = [novelty_reward(calibrate(s) / WAD) for s in demo_raw]
    for m, s, b, a in zip(messages, demo_raw, before, after, strict=True):
        rows.append(
            {
                "set": "demo",
                "class": f"{m.kind} {m.thread_id}.{m.index}",
                "raw": s,
                "calibrated": calibrate(s) / WAD,
                "residual": "",
                "weight_before": b,
                "weight_after": a,
            }
        )
        print(f"demo {m.thread_id}.{m.index} {m.kind:4} raw {s:.3f} -> {calibrate(s) / WAD:.3f} weight {a:.3g}")
    capped_share = sum(w for w in after if w == MAX_NOVELTY_REWARD) / sum(after)
    print(
        f"demo: {before.count(MAX_NOVELTY_REWARD)} of {len(before)} at the cap before, "
        f"{after.count(MAX_NOVELTY_REWARD)} after; median weight {statistics.median(after):.3g}; "
        f"share of the total weight taken by the capped: {capped_share:.2f}"
    )
    FIGURES.mkdir(parents=True, exist_ok=True)
    with (FIGURES / "novelty_calibration.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(per_class, demo_raw, result.intercept, result.slope)


def plot(per_class: dict[str, list[float]], demo_raw: list[float], intercept: float, slope: float) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.0, 4.0), dpi=80)
    xs = [-0.2, 1.0]
    left.plot(xs, [intercept + slope * x for x in xs], color="black", lw=1, label="fitted map")
    for name, sims in per_class.items():
        target = {n: t for n, _p, t in CLASSES}[name]
        left.scatter(sims, [target] * len(sims), s=14, color=COLOURS[name], label=f"{name} (target {target})")
    left.axhline(0.75, color="grey", ls=":", lw=1)
    left.axhline(0.95, color="grey", ls="--", lw=1)
    left.text(-0.18, 0.755, "cap (w = 100) below", fontsize=7)
    left.text(-0.18, 0.955, "w = 0 above", fontsize=7)
    left.set_xlabel("raw MiniLM cosine")
    left.set_ylabel("similarity on the curve's scale")
    left.set_title("calibration corpus: targets and fit", fontsize=9)
    left.legend(fontsize=7, loc="lower right")
    order = range(len(demo_raw))
    right.bar([i - 0.2 for i in order], [novelty_reward(min(s, 1.0)) for s in demo_raw], width=0.4, label="raw")
    right.bar(
        [i + 0.2 for i in order],
        [novelty_reward(calibrate(s) / WAD) for s in demo_raw],
        width=0.4,
        label="calibrated (v1)",
    )
    right.set_yscale("symlog", linthresh=0.01)
    right.set_xlabel("demo message (chain order)")
    right.set_ylabel("novelty weight")
    right.set_title("the demo's weights, before and after", fontsize=9)
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(FIGURES / "novelty_calibration.png")
    plt.close(fig)


if __name__ == "__main__":
    main()
