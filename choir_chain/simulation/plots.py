"""The four figures of a run, as small PNGs (matplotlib, Agg backend: no display needed).

- `prices.png`: each thread's stake price over time (one line each for a few threads, a heat map of all of
  them, sorted by mean price, for many);
- `k0_refusal.png`: ``K0`` against the refusal ratio ``r`` for every thread-day, coloured by the mean
  strictness of the thread's co-authors, over the model's line ``K0 = clamp(K0_base * (1 + g1 r))``; beside
  it, each thread's ``r`` on the last day against its co-authors' mean strictness;
- `treasury.png`: all treasuries together, and the median thread's with its 10-90% band;
- `equity.png`: the spread of equity among co-authors (mean Gini and mean top share) and the mean number of
  co-authors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from choir_chain.simulation.history import History
from choir_chain.simulation.params import SimParams

FIGURES = ("prices.png", "k0_refusal.png", "treasury.png", "equity.png")
SIZE = (7.0, 3.6)
DPI = 80
MAX_LINES = 10
MAX_POINTS = 20_000


def _grid(history: History, name: str) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Days and a (days x threads) array of column `name`."""
    days = history.column("day").astype(np.int64)
    threads = history.column("thread").astype(np.int64)
    values = history.column(name).astype(np.float64)
    day_ids, day_index = np.unique(days, return_inverse=True)
    thread_ids, thread_index = np.unique(threads, return_inverse=True)
    grid = np.full((day_ids.size, thread_ids.size), np.nan)
    grid[day_index, thread_index] = values
    return day_ids, grid


def _band(ax: Any, days: NDArray[np.int64], grid: NDArray[np.float64], label: str, color: str) -> None:
    low, mid, high = np.nanpercentile(grid, [10, 50, 90], axis=1)
    ax.fill_between(days, low, high, color=color, alpha=0.2, linewidth=0, label=f"{label}: 10-90%")
    ax.plot(days, mid, color=color, linewidth=1.6, label=f"{label}: median")


def write_figures(history: History, params: SimParams, folder: Path) -> list[Path]:
    """Write the four PNGs into `folder`; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    plt.rcParams.update({"font.size": 8, "axes.titlesize": 9, "figure.dpi": DPI})
    paths = []
    for name, draw in zip(FIGURES, (_prices, _k0_refusal, _treasury, _equity), strict=True):
        fig = plt.figure(figsize=SIZE)
        draw(fig, history, params)
        fig.tight_layout()
        path = folder / name
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
        paths.append(path)
    return paths


def _prices(fig: Any, history: History, params: SimParams) -> None:
    ax = fig.add_subplot(1, 1, 1)
    days, grid = _grid(history, "price")
    threads = grid.shape[1]
    if threads <= MAX_LINES:
        for i in range(threads):
            ax.plot(days, grid[:, i], drawstyle="steps-post", linewidth=1.0, label=f"thread {i + 1}")
        ax.legend(loc="upper right", fontsize=6, ncol=2)
        ax.set_ylabel("price (CHOIR)")
    else:  # one row per thread, sorted by mean price, coloured by price
        order = np.argsort(np.nanmean(grid, axis=0))
        extent = (days[0] - 0.5, days[-1] + 0.5, 0.5, threads + 0.5)
        image = ax.imshow(
            grid[:, order].T,
            aspect="auto",
            origin="lower",
            extent=extent,
            cmap="magma",
            interpolation="nearest",
        )
        fig.colorbar(image, ax=ax, label="price (CHOIR)")
        ax.set_ylabel("thread (sorted by mean price)")
    ax.set_title(f"Stake price per thread ({threads} threads; S0 = {params.qaho.s0:g} CHOIR)")
    ax.set_xlabel("day")


def _k0_refusal(fig: Any, history: History, params: SimParams) -> None:
    ax = fig.add_subplot(1, 2, 1)
    r = history.column("refusal").astype(np.float64)
    k0 = history.column("k0").astype(np.float64)
    strict = history.column("mean_strictness").astype(np.float64)
    if r.size > MAX_POINTS:
        pick = np.random.default_rng(0).choice(r.size, MAX_POINTS, replace=False)
        r, k0, strict = r[pick], k0[pick], strict[pick]
    ax.scatter(r, k0, c=strict, s=6, cmap="viridis", vmin=0, vmax=1, alpha=0.6, linewidths=0)
    q = params.qaho
    line = np.linspace(0.0, 1.0, 50)
    ax.plot(
        line,
        np.clip(q.k0_base * (1 + q.g1 * line), q.k0_min, q.k0_max),
        color="crimson",
        linewidth=1,
        label=f"K0 = clamp({q.k0_base:g} (1 + {q.g1:g} r))",
    )
    ax.legend(loc="upper left", fontsize=7)
    ax.set_title(f"K0 against r (last {q.window} specs), thread-days")
    ax.set_xlabel("refusal ratio r")
    ax.set_ylabel("K0")

    last = history.column("day") == history.column("day").max()
    right = fig.add_subplot(1, 2, 2)
    points = right.scatter(
        history.column("mean_strictness")[last].astype(np.float64),
        history.column("refusal")[last].astype(np.float64),
        c=history.column("mean_strictness")[last].astype(np.float64),
        s=10,
        cmap="viridis",
        vmin=0,
        vmax=1,
        linewidths=0,
    )
    fig.colorbar(points, ax=right, label="mean co-author strictness")
    right.set_title("What drives r: strictness (last day, per thread)")
    right.set_xlabel("mean co-author strictness")
    right.set_ylabel("refusal ratio r")


def _treasury(fig: Any, history: History, params: SimParams) -> None:
    days, grid = _grid(history, "treasury")
    total = fig.add_subplot(1, 2, 1)
    total.plot(days, np.nansum(grid, axis=1), color="darkgreen", linewidth=1.4)
    total.set_title("All treasuries")
    total.set_xlabel("day")
    total.set_ylabel("CHOIR")
    each = fig.add_subplot(1, 2, 2)
    _band(each, days, grid, "per thread", "darkgreen")
    each.legend(loc="upper left", fontsize=7)
    each.set_title("Treasury of a thread")
    each.set_xlabel("day")


def _equity(fig: Any, history: History, params: SimParams) -> None:
    ax = fig.add_subplot(1, 1, 1)
    days, gini = _grid(history, "gini")
    _, top = _grid(history, "top_share")
    _, authors = _grid(history, "coauthors")
    ax.plot(days, np.nanmean(gini, axis=1), label="Gini of shares (mean over threads)", color="purple")
    ax.plot(days, np.nanmean(top, axis=1), label="largest holder's share (mean)", color="darkorange")
    ax.set_ylim(0, 1)
    ax.set_xlabel("day")
    ax.set_ylabel("spread")
    ax.legend(loc="upper left", fontsize=7)
    right = ax.twinx()
    right.plot(days, np.nanmean(authors, axis=1), color="grey", linestyle="--", linewidth=1)
    right.set_ylabel("co-authors per thread (mean, dashed)")
    ax.set_title("Equity spread among co-authors")
