"""Indexer speed on anvil (`python -m choir_chain.bench.indexer`): cold ingest, rebuild from the raw-log cache,
and the time from a reorg to a consistent index.

A fresh devnet gets the `CommunityWorkload` (threads, posts with citations, specs, votes, settlements of every
kind, curator claims, price rounds, >= 10,000 events); then:

- `indexer.ingest`: a new `Indexer` indexes it from the deploy block into a new SQLite database, timed from
  constructing the indexer (schema creation included) to the last committed range: events and blocks per
  second, the JSON-RPC requests per method, and Envio's vendor figure (15,076 events/s, HyperSync against a
  remote chain; not measured here) beside it as the anchor;
- `indexer.rebuild`: `choir index --rebuild`'s work (`cache.rebuild`): every derived table dropped and
  re-derived from the cached logs, no node involved;
- `indexer.reorg`: for reorgs of 1, 5 and 30 blocks (`evm_snapshot`, blocks with events, `evm_revert`, other
  blocks at those heights), the seconds from the new chain being there to the live index being consistent (the
  `sync` that finds the reorg, rolls back to the common ancestor by the undo records, and re-indexes the new
  blocks), and once more for 5 blocks after a rebuild, which rolls back by replaying the whole cache; the live
  tables are then compared with a fresh index's, table by table.

The database is checked against the workload before the figure is reported (votes, messages, specs and
claims all present), so a fast but wrong index would fail the benchmark rather than flatter it. Extra
database URLs (`--db postgresql://...`) are indexed and timed the same way, after a reset of their tables.

A last line indexes the same chain through `choir_chain.devtools.faulty_rpc` with a public provider's limits
(`PROVIDER_LIMITS`: `eth_getLogs` capped at 1,000 blocks and refused in the providers' words, some 429s with
`Retry-After`, delays and dropped connections, seeded): events per second through the proxy, with what it did.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from collections import Counter
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from choir_chain.bench.workload import CommunityWorkload, WorkloadResult
from choir_chain.chain import Chain, dev_accounts
from choir_chain.chain.rpc import RpcClient
from choir_chain.deploy import Deployment, deploy
from choir_chain.devnet import DEV_MNEMONIC, Devnet, rpc_call
from choir_chain.devtools.faulty_rpc import Faults, FaultyRpc
from choir_chain.indexer.cache import rebuild
from choir_chain.indexer.db import make_engine
from choir_chain.indexer.indexer import Indexer
from choir_chain.indexer.models import Base, CuratorClaim, Message, Spec, Vote
from choir_chain.manifest import Manifest
from choir_chain.paths import run_root
from choir_chain.protocol.author_kind import AuthorKind
from choir_chain.scenario.batch import BatchSender
from choir_chain.scenario.signed import SignedCommunity

TARGET_EVENTS = 10_000
ENVIO_EVENTS_PER_SECOND = 15_076
"""Envio's published HyperIndex figure (vendor benchmark), printed beside ours as an anchor, not re-measured."""
REORG_CASES = ((1, "undo"), (5, "undo"), (30, "undo"), (5, "replay"))
"""Reorg depths, and how the rollback goes: by the undo records, or (after a rebuild, which drops them) by
replaying the raw-log cache."""
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


def count_requests(rpc: RpcClient) -> Counter[str]:
    """Count the HTTP requests `rpc` makes from now on, by JSON-RPC method (`method xN` for a batch of N)."""
    counts: Counter[str] = Counter()
    post = rpc._post  # the benchmark observes the transport; the indexer does not know

    def counting(payload: Any) -> Any:
        if isinstance(payload, list):
            counts[f"{payload[0]['method']} (batches)"] += 1
            counts[f"{payload[0]['method']} (in batches)"] += len(payload)
        else:
            counts[payload["method"]] += 1
        return post(payload)

    setattr(rpc, "_post", counting)  # noqa: B010
    return counts


def time_index(rpc_url: str, manifest: Manifest, db_url: str, *, reset: bool = False) -> dict[str, Any]:
    """Index the whole chain into `db_url`; seconds, events, blocks and JSON-RPC requests."""
    engine = make_engine(db_url)
    try:
        start = time.perf_counter()
        events = 0
        with Indexer(rpc_url, manifest, engine, reset=reset) as indexer:
            requests = count_requests(indexer.rpc)
            while (indexed := indexer.step()) is not None:
                events += indexed.events
            last = indexer.last_block
        seconds = time.perf_counter() - start
        counts = _row_counts(engine)
    finally:
        engine.dispose()
    blocks = last - manifest.deploy_block + 1
    return {
        "events": events,
        "blocks": blocks,
        "seconds": round(seconds, 3),
        "events_per_second": round(events / seconds, 1),
        "blocks_per_second": round(blocks / seconds, 1),
        "rpc_requests": dict(sorted(requests.items())),
        "anchor_envio_events_per_second": ENVIO_EVENTS_PER_SECOND,
        "rows": counts,
    }


def time_rebuild(manifest: Manifest, db_url: str, events: int) -> dict[str, Any]:
    """Drop and re-derive every table of `db_url` from its raw-log cache; the tables must come out the same."""
    engine = make_engine(db_url)
    try:
        before = table_digests(engine)
        start = time.perf_counter()
        rebuild(engine, manifest)
        seconds = time.perf_counter() - start
        if table_digests(engine) != before:
            raise IndexMismatch("the rebuilt tables differ from the indexed ones")
    finally:
        engine.dispose()
    return {
        "bench": "indexer.rebuild",
        "db": "sqlite",
        "events": events,
        "seconds": round(seconds, 3),
        "events_per_second": round(events / seconds, 1),
        "rpc_requests": 0,
    }


def table_digests(engine: Engine) -> dict[str, tuple[int, str]]:
    """Per derived table: its row count and a digest of its sorted rows (the tables' comparison, as the tests'
    `dump` makes it)."""
    digests = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = sorted(repr(tuple(row)) for row in conn.execute(select(table)))
            digests[table.name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16])
    return digests


def _branch(deployment: Deployment, account: LocalAccount, tag: str, blocks: int) -> None:
    """`blocks` blocks with events: a new thread, then its creator's posts, one transaction a block."""
    steps = SignedCommunity(deployment)
    thread_id, _ = steps.create_thread(account, keccak(text=f"{tag} root"), AuthorKind.HUMAN)
    for i in range(blocks - 1):
        steps.post(thread_id, account, keccak(text=f"{tag} {i}"), [], AuthorKind.HUMAN)


def time_reorgs(
    rpc_url: str, deployment: Deployment, account: LocalAccount, db_url: str, fresh_url: str
) -> list[dict[str, Any]]:
    """Reorgs of `REORG_CASES` under a live index: seconds to a consistent index, checked against a
    fresh index of the same chain."""
    lines = []
    manifest = deployment.manifest
    rpc_call(rpc_url, "evm_setAutomine", [True])
    engine = make_engine(db_url)
    try:
        with Indexer(rpc_url, manifest, engine) as indexer:
            indexer.sync()
            for depth, path in REORG_CASES:
                snapshot = rpc_call(rpc_url, "evm_snapshot")
                _branch(deployment, account, f"old {depth} {path}", depth)
                indexer.sync()
                if path == "replay":
                    rebuild(engine, manifest)
                rpc_call(rpc_url, "evm_revert", [snapshot])
                _branch(deployment, account, f"new {depth} {path}", depth + 1)
                requests = count_requests(indexer.rpc)
                start = time.perf_counter()
                indexer.sync()
                seconds = time.perf_counter() - start
                fresh = make_engine(fresh_url)
                try:
                    with Indexer(rpc_url, manifest, fresh, reset=True) as reference:
                        reference.sync()
                    if table_digests(engine) != table_digests(fresh):
                        raise IndexMismatch(f"after a reorg of {depth} blocks the index differs from a fresh one")
                finally:
                    fresh.dispose()
                lines.append(
                    {
                        "bench": "indexer.reorg",
                        "db": "sqlite",
                        "depth": depth,
                        "rolled_back_by": path,
                        "seconds_to_consistent": round(seconds, 3),
                        "rpc_requests": dict(sorted(requests.items())),
                        "equals_fresh_index": True,
                    }
                )
    finally:
        engine.dispose()
    return lines


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
                if backend == "sqlite":
                    cold_events = result["events"]
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
            lines.append(time_rebuild(deployment.manifest, urls[0][1], cold_events))
            fresh = f"sqlite:///{run_dir / 'fresh.db'}"
            lines += time_reorgs(devnet.rpc_url, deployment, deployer, urls[0][1], fresh)
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
