"""`python -m choir_chain.bench` (`make bench`): every benchmark, one JSON object per line on stdout.

In order: `pricing` (vectorised `stake_price` against a plain loop, 1,000,000 threads), `decode` (event
decoding alone: the chain layer's fast path beside web3.py's own event machinery), `indexer` (fresh
index of >= 10,000 events on anvil, its rebuild from the raw-log cache, reorgs of 1, 5 and 30 blocks),
`latency` (settle receipt to the covering `updatePrices` receipt, 100 settlements, the pricer service running as
`choir pricer`), `gas` (`make bench-gas`'s lines) and `gateway`
(requests/s and latency of thread reads beside `/ping`, uvicorn with 1 and 2 workers), `novelty` (scoring
throughput with the real embedding model at 1,000 and 100,000 stored messages, NumPy beside faiss), `export`
(the training-data export's records/s, JSON Lines and Parquet) and `reprice` (a full reprice of 100,000 indexed
threads from the database: state loading, model, wei, rounds' calldata, against its 2-second target). A benchmark
that fails prints ``{"bench": name, "error": ...}`` and the others still run; the exit status is then 1.
Each devnet benchmark starts its own anvil and removes its folder when it succeeds.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

from choir_chain.bench import decode, export, gas, gateway, indexer, latency, novelty, pricing, reprice


def _pricing() -> None:
    _print(pricing.run())


def _decode() -> None:
    _print(decode.run())


def _indexer() -> None:
    for line in indexer.run():
        _print(line)


def _latency() -> None:
    _print(latency.run())


def _gas() -> None:
    gas.main()


def _gateway() -> None:
    for line in gateway.run():
        _print(line)


def _novelty() -> None:
    for line in novelty.run():
        _print(line)


def _export() -> None:
    _print(export.run())


def _reprice() -> None:
    _print(reprice.run())


BENCHMARKS: dict[str, Callable[[], None]] = {
    "pricing": _pricing,
    "decode": _decode,
    "indexer": _indexer,
    "latency": _latency,
    "gas": _gas,
    "gateway": _gateway,
    "novelty": _novelty,
    "export": _export,
    "reprice": _reprice,
}


def _print(line: dict[str, object]) -> None:
    print(json.dumps(line), flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks named in `argv` (default: all, in order)."""
    names = argv if argv else list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}", file=sys.stderr)
        return 2
    failed = False
    for name in names:
        start = time.perf_counter()
        try:
            BENCHMARKS[name]()
        except Exception as err:
            failed = True
            _print({"bench": name, "error": f"{type(err).__name__}: {err}"})
        print(f"bench {name}: {time.perf_counter() - start:.1f}s", file=sys.stderr, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
