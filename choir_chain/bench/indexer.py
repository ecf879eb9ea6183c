"""Indexer ingest speed: a fresh index of >= 10,000 events on anvil (`python -m choir_chain.bench.indexer`).

A fresh devnet gets the `CommunityWorkload` (threads, posts with citations, specs, votes, settlements of every
kind, curator claims, price rounds); then a new `Indexer` indexes it from the deploy block into a new SQLite
database, timed from constructing the indexer (schema creation included) to the last committed range. The
result is one JSON line: events, blocks, seconds, events per second, plus how long generating took.

The database is checked against the workload before the figure is reported (votes, messages, specs and
claims all present), so a fast but wrong index would fail the benchmark rather than flatter it. Extra
database URLs (`--db postgresql://...`) are indexed and timed the same way, after a reset of their tables.

A last line indexes the same chain through `choir_chain.devtools.faulty_rpc` with a public provider's limits
(`PROVIDER_LIMITS`: `eth_getLogs` capped at 1,000 blocks and refused in the providers' words, some 429s with
`Retry-After`, delays and dropped connections, seeded): events per second through the proxy, with what it did.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from choir_chain.bench.batch import BatchSender
from choir_chain.bench.workload import CommunityWorkload, WorkloadResult
from choir_chain.chain import Chain, dev_accounts
from choir_chain.deploy import deploy
from choir_chain.devnet import DEV_MNEMONIC, Devnet
from choir_chain.devtools.faulty_rpc import Faults, FaultyRpc
from choir_chain.indexer.db import make_engine
from choir_chain.indexer.indexer import Indexer
from choir_chain.indexer.models import CuratorClaim, Message, Spec, Vote
from choir_chain.manifest import Manifest
from choir_chain.paths import run_root

TARGET_EVENTS = 10_000
PROVIDER_LIMITS = Faults(
    max_span=1000,
    max_results=1000,
    rate_limited=0.05,
    retry_after=0.2,
    delayed=0.1,
    max_delay=0.02,
    dropped=0.02,
    seed=17,
)
"""The faulty-RPC variant: `eth_getLogs` capped at 1,000 blocks (the low end of providers' 1k-10k) and 1,000 logs
per answer (providers cap 10,000, but the benchmark's blocks are ~40 times denser than a real chain's), refused in
the providers' words; 5% of requests answered 429 asking 0.2 s, 10% delayed up to 20 ms, 2% dropped."""


class IndexMismatch(RuntimeError):
    """The database does not hold what the workload put on the chain."""


def time_index(rpc_url: str, manifest: Manifest, db_url: str, *, reset: bool = False) -> dict[str, Any]:
    """Index the whole chain into `db_url`; seconds, events and blocks."""
    engine = make_engine(db_url)
    try:
        start = time.perf_counter()
        events = 0
        with Indexer(rpc_url, manifest, engine, reset=reset) as indexer:
            while (indexed := indexer.step()) is not None:
                events += indexed.events
            last = indexer.last_block
        seconds = time.perf_counter() - start
        counts = _row_counts(engine)
    finally:
        engine.dispose()
    return {
        "events": events,
        "blocks": last - manifest.deploy_block + 1,
        "seconds": round(seconds, 3),
        "events_per_second": round(events / seconds, 1),
        "rows": counts,
    }


def _row_counts(engine: Any) -> dict[str, int]:
    with Session(engine) as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in (
                ("messages", Message),
                ("specs", Spec),
                ("votes", Vote),
                ("claims", CuratorClaim),
            )
        }


def check(rows: dict[str, int], workload: WorkloadResult) -> None:
    expected = {
        "messages": workload.messages,
        "specs": workload.specs,
        "votes": workload.votes,
        "claims": workload.claims,
    }
    if rows != expected:
        raise IndexMismatch(f"indexed rows {rows} differ from the workload's {expected}")


def run(target_events: int = TARGET_EVENTS, extra_dbs: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    run_dir = run_root() / f"bench-indexer-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    lines: list[dict[str, Any]] = []
    try:
        with Devnet(run_dir) as devnet:
            chain = Chain.connect(devnet.rpc_url)
            deployer, pricer = dev_accounts(DEV_MNEMONIC, 2)
            deployment = deploy(chain, deployer, pricer=pricer.address)
            sender = BatchSender(devnet.rpc_url)
            sender.call("anvil_setBlockTimestampInterval", [1])
            start = time.perf_counter()
            workload = CommunityWorkload(deployment, sender, pricer=pricer.address).run(deployer.address, target_events)
            generated = time.perf_counter() - start
            sender.close()
            urls = [("sqlite", f"sqlite:///{run_dir / 'bench.db'}", False)]
            urls += [(url.split(":", 1)[0], url, True) for url in extra_dbs]
            for backend, url, reset in urls:
                result = time_index(devnet.rpc_url, deployment.manifest, url, reset=reset)
                check(result.pop("rows"), workload)
                lines.append(
                    {
                        "bench": "indexer.ingest",
                        "db": backend,
                        **result,
                        "events_per_block": round(result["events"] / result["blocks"], 1),
                        "workload_events": workload.events,
                        "transactions": workload.transactions,
                        "workload": {
                            "threads": workload.threads,
                            "rounds": workload.rounds,
                            "messages": workload.messages,
                            "specs": workload.specs,
                            "votes": workload.votes,
                            "claims": workload.claims,
                        },
                        "generate_seconds": round(generated, 1),
                    }
                )
            lines.append(
                through_proxy(devnet.rpc_url, deployment.manifest, f"sqlite:///{run_dir / 'faulty.db'}", workload)
            )
    except Exception:
        print(f"bench indexer failed; the devnet folder is kept: {run_dir}", file=sys.stderr)
        raise
    shutil.rmtree(run_dir, ignore_errors=True)
    return lines


def through_proxy(rpc_url: str, manifest: Manifest, db_url: str, workload: WorkloadResult) -> dict[str, Any]:
    """The ingest figure through the faulty proxy (`PROVIDER_LIMITS`), checked like the direct one."""
    with FaultyRpc(rpc_url, PROVIDER_LIMITS) as proxy:
        result = time_index(proxy.url, manifest, db_url)
    check(result.pop("rows"), workload)
    return {
        "bench": "indexer.ingest",
        "db": "sqlite",
        "rpc": "faulty proxy",
        **result,
        "limits": {k: v for k, v in vars(PROVIDER_LIMITS).items() if v},
        "proxy": dict(sorted(proxy.counts.items())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=TARGET_EVENTS, help="least events to generate")
    parser.add_argument("--db", action="append", default=[], help="also index into this database URL")
    args = parser.parse_args(argv)
    for line in run(args.events, tuple(args.db)):
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
