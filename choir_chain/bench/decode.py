"""Event decoding alone (`python -m choir_chain.bench.decode`): events per second of the chain layer's fast path
beside web3.py's `get_event_data` and `contract.events.X().process_log`, no node and no database.

The logs are synthetic: for each event of the hub, thread and rewards distributor ABIs (the indexer's sources)
one log with random argument values (arrays of up to 4 items), decoded round-robin, so every event shape counts
equally. Each way's result is checked against the fast path's on every log before timing, so a fast but wrong
decoder fails the benchmark instead of flattering it. The figure is the reason the fast path exists
(`choir_chain.chain.events`).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from eth_abi import encode
from eth_utils.abi import collapse_if_tuple
from hexbytes import HexBytes
from web3 import Web3

from choir_chain import artifacts
from choir_chain.chain.events import EventDecoder, EventType, normalise

SOURCES = {"hub": "ChoirHub", "thread": "ThreadDAO", "rewards": "RewardsDistributor"}
DEFAULT_EVENTS = 10_000


def _value(rng: random.Random, abi_type: str) -> Any:
    if abi_type.endswith("[]"):
        return [_value(rng, abi_type[:-2]) for _ in range(rng.randint(0, 4))]
    if abi_type.startswith("uint"):
        return rng.getrandbits(int(abi_type[4:] or 256))
    if abi_type.startswith("int"):
        bits = int(abi_type[3:] or 256)
        return rng.getrandbits(bits) - (1 << (bits - 1))
    if abi_type == "address":
        return "0x" + rng.randbytes(20).hex()
    if abi_type == "bool":
        return rng.random() < 0.5
    if abi_type == "string":
        return f"model-{rng.random()}"
    if abi_type.startswith("bytes"):
        return rng.randbytes(int(abi_type[5:]))
    raise ValueError(f"no value for {abi_type}")


def synthetic_log(rng: random.Random, event: EventType) -> dict[str, Any]:
    """A JSON-RPC log entry of `event` with random arguments."""
    topics = [event.topic0]
    types, values = [], []
    for item in event.abi["inputs"]:
        abi_type = collapse_if_tuple(dict(item))
        if item.get("indexed"):
            topics.append("0x" + encode([abi_type], [_value(rng, abi_type)]).hex())
        else:
            types.append(abi_type)
            values.append(_value(rng, abi_type))
    return {
        "address": "0x" + rng.randbytes(20).hex(),
        "topics": topics,
        "data": "0x" + encode(types, values).hex(),
        "blockNumber": "0x10",
        "blockHash": "0x" + rng.randbytes(32).hex(),
        "transactionIndex": "0x1",
        "logIndex": "0x2",
        "transactionHash": "0x" + rng.randbytes(32).hex(),
        "removed": False,
    }


def _web3_log(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A log in the shape web3.py's receipts have (what `process_log` is given)."""
    return {
        **entry,
        "topics": [HexBytes(t) for t in entry["topics"]],
        "data": HexBytes(entry["data"]),
        "blockNumber": int(entry["blockNumber"], 16),
        "transactionIndex": int(entry["transactionIndex"], 16),
        "logIndex": int(entry["logIndex"], 16),
    }


def _process_log(contracts: Mapping[str, Any], source: str, event: EventType, log: Any) -> dict[str, Any]:
    args = contracts[source].events[event.name]().process_log(log)["args"]
    return {i["name"]: normalise(collapse_if_tuple(dict(i)), args[i["name"]]) for i in event.abi["inputs"]}


def _timed(count: int, decode: Callable[[int], Any]) -> dict[str, float]:
    start = time.perf_counter()
    for i in range(count):
        decode(i)
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 3), "events_per_second": round(count / seconds, 1)}


def run(count: int = DEFAULT_EVENTS, seed: int = 1) -> dict[str, Any]:
    abis = {source: artifacts.load(name).abi for source, name in SOURCES.items()}
    decoder = EventDecoder(abis)
    rng = random.Random(seed)
    cases = [(s, t, synthetic_log(rng, t)) for s in SOURCES for t in decoder.event_types(s)]
    w3 = Web3()
    contracts = {source: w3.eth.contract(abi=abi) for source, abi in abis.items()}
    web3_logs = [_web3_log(log) for _, _, log in cases]
    for (source, event, log), web3_log in zip(cases, web3_logs, strict=True):
        fast = decoder.decode(source, log)
        assert fast is not None
        if fast.args != event.decode_args_web3(log["topics"], log["data"]):
            raise AssertionError(f"{event.name}: the fast path and get_event_data differ")
        hashed = {t.name for t in event.topics if t.hashed}
        processed = {k: v for k, v in _process_log(contracts, source, event, web3_log).items() if k not in hashed}
        if processed != {k: v for k, v in fast.args.items() if k not in hashed}:
            raise AssertionError(f"{event.name}: the fast path and process_log differ")
    n = len(cases)

    def fast_path(i: int) -> Any:
        source, _, log = cases[i % n]
        return decoder.decode(source, log)

    def get_event_data(i: int) -> Any:
        _, event, log = cases[i % n]
        return event.decode_args_web3(log["topics"], log["data"])

    def process_log(i: int) -> Any:
        source, event, _ = cases[i % n]
        return contracts[source].events[event.name]().process_log(web3_logs[i % n])

    return {
        "bench": "decode",
        "events": count,
        "event_types": n,
        "fast_path": _timed(count, fast_path),
        "web3_get_event_data": _timed(count, get_event_data),
        "web3_process_log": _timed(count // 4, process_log),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS, help="logs decoded by each way")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.events)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
