"""Settlement-to-price latency of the pricer service (`python -m choir_chain.bench.latency`).

A fresh devnet gets the protocol and a few threads; `choir pricer` runs against it as a subprocess, in follow
mode, exactly as an operator starts it (`--rpc`, `--manifest`, `--db`; its own SQLite database). Then 100
specs are settled one after the other, each in its own block. For each, the clock starts when the `settle`
receipt is in hand and stops when a `PricesUpdated` log in a later block lists the settled thread (the
receipt of the `updatePrices` transaction that covers it, since a log exists only in a mined block). The
JSON line gives the median, p95 and maximum over the settlements.

Every settlement must move its thread's model price, or the pricer rightly sends nothing: each thread's specs
alternate approved (a co-author joins: ``N`` and ``a`` move) and denied (the refusal ratio moves). The chain's
clock moves one second a block, so a co-author who joined is eligible for the thread's next spec. The
benchmark's own transactions come from impersonated addresses with explicit gas (the scenario helper's
`Community` over `BatchSender`, automine on), so its overhead between settlements is small. The pricer's poll
interval is a parameter of the run and is reported with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
from web3.contract import Contract
from web3.exceptions import Web3RPCError

from choir_chain import artifacts
from choir_chain.bench.workload import address, content
from choir_chain.chain import Chain, dev_accounts
from choir_chain.chain.events import EventType
from choir_chain.deploy import CHOIR, Deployment, HubParameters, deploy
from choir_chain.devnet import DEV_MNEMONIC, Devnet, DevnetError, rpc_call
from choir_chain.paths import run_root
from choir_chain.protocol.author_kind import AuthorKind
from choir_chain.scenario.batch import BatchSender
from choir_chain.scenario.community import Community

SETTLEMENTS = 100
THREADS = 10
POLL_INTERVAL = 0.25
DEVIATION_WINDOW = 60
"""The hub's shortest deviation window (r2: a thread's price moves at most `maxDeviationBps` per window). The
chain's clock jumps one window before each settlement, outside the measured time, so every settlement's new price
is allowed at once and the figure is the pricer's latency, not the window's wait."""
"""Seconds between the pricer's looks at the chain when idle (its `--poll-interval`)."""
LOG_POLL = 0.005
"""Seconds between this benchmark's looks for the covering round."""
COVER_TIMEOUT = 30.0
START_TIMEOUT = 90.0
PRUNED_RETRIES = 5


T = TypeVar("T")


class LatencyError(RuntimeError):
    """The pricer did not start, died, or never covered a settlement."""


def _retry_pruned(fn: Callable[[], T]) -> T:
    """`fn()`, again if anvil answered BlockOutOfRangeError.

    The devnet runs anvil with `--prune-history`, which keeps no past state: a call or gas estimate against
    "latest" that races a block mined by the pricer (another process) can find that state already gone. Only
    reads and estimates fail this way, never a sent transaction, so trying again is safe.
    """
    for attempt in range(PRUNED_RETRIES):
        try:
            return fn()
        except (Web3RPCError, DevnetError) as err:
            if "BlockOutOfRange" not in str(err) or attempt == PRUNED_RETRIES - 1:
                raise
            time.sleep(0.01)
    raise AssertionError("unreachable")


class PricerProcess:
    """`choir pricer` in follow mode as a child process, its output in files of the run folder."""

    def __init__(self, rpc_url: str, manifest: Path, db_url: str, folder: Path, poll_interval: float) -> None:
        self.stdout = folder / "pricer.out"
        self.stderr = folder / "pricer.err"
        command = [
            sys.executable, "-m", "choir_chain.cli", "pricer",
            "--rpc", rpc_url, "--manifest", str(manifest), "--db", db_url,
            "--poll-interval", str(poll_interval),
        ]  # fmt: skip
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.process = subprocess.Popen(command, stdout=out, stderr=err, start_new_session=True)

    def check(self) -> None:
        if self.process.poll() is not None:
            tail = self.stderr.read_text(errors="replace").strip().splitlines()[-5:]
            raise LatencyError(f"the pricer exited with status {self.process.returncode}: {' | '.join(tail)}")

    def last_warning(self) -> str:
        warnings = [line for line in self.stderr.read_text(errors="replace").splitlines() if "WARNING" in line]
        return warnings[-1] if warnings else "none"

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class Scenario:
    """Threads, stakers and the settlements whose latency is measured.

    Transactions go through the scenario helper (`Community` over `BatchSender`) from impersonated addresses
    with automine on: each is mined as it arrives (the pricer's too), and gas limits are explicit, so nothing is
    estimated.
    """

    def __init__(self, sender: BatchSender, deployment: Deployment, threads: int, stakers: int) -> None:
        self.sender = sender
        self.community = Community(deployment, sender)
        self.deployment = deployment
        self.hub: Contract = deployment.hub
        self.creators = [address(f"latency creator {i}") for i in range(threads)]
        self.stakers = [address(f"latency staker {i}") for i in range(stakers)]
        self.members: dict[int, list[str]] = {}
        self.specs: dict[int, int] = {}
        self.thread_ids: list[int] = []

    def setup(self, funder: str) -> None:
        c = self.community
        self.sender.prepare([*self.creators, *self.stakers], automine=True)
        c.run([c.transfer(funder, a, 10_000 * CHOIR) for a in self.stakers])
        receipts = c.run(
            [
                c.create_thread(creator, content(f"root {i}"), AuthorKind.HUMAN)
                for i, creator in enumerate(self.creators)
            ]
        )
        for creator, receipt in zip(self.creators, receipts, strict=True):
            thread_id = c.created_thread(receipt)
            self.thread_ids.append(thread_id)
            self.members[thread_id] = [creator]
            self.specs[thread_id] = 0

    def settle_one(self, thread_id: int, staker: str) -> int:
        """Submit a spec, vote it through (even count: approved) or down (odd: denied), settle it; returns
        the block of the settlement."""
        c = self.community
        stake = int(_retry_pruned(self.hub.functions.price(thread_id).call))
        approve = self.specs[thread_id] % 2 == 0
        self.specs[thread_id] += 1
        spec = c.stake_spec(thread_id, staker, content(f"spec {thread_id} {staker}"), [], stake, AuthorKind.HUMAN)
        spec_id = c.spec_id(c.run(spec)[1])
        c.run([c.vote(thread_id, m, spec_id, approve) for m in self.members[thread_id]])
        (receipt,) = c.run([c.settle(thread_id, staker, spec_id)])
        if approve:
            self.members[thread_id].append(staker)
        return int(receipt["blockNumber"], 16)


def wait_for_cover(rpc_url: str, hub: str, thread_id: int, after_block: int, pricer: PricerProcess) -> int:
    """Poll for a PricesUpdated log after `after_block` listing `thread_id`; returns its block."""
    deadline = time.perf_counter() + COVER_TIMEOUT
    seen = after_block
    prices_updated = EventType.named(artifacts.load("ChoirHub").abi, "PricesUpdated")
    while time.perf_counter() < deadline:
        head = int(str(rpc_call(rpc_url, "eth_blockNumber")), 16)
        if head > seen:
            query = {
                "fromBlock": hex(seen + 1),
                "toBlock": hex(head),
                "address": hub,
                "topics": [prices_updated.topic0],
            }
            logs = cast(list[dict[str, Any]], rpc_call(rpc_url, "eth_getLogs", [query]))
            for entry in logs:
                if thread_id in prices_updated.decode_args(entry["topics"], entry["data"])["threadIds"]:
                    return int(entry["blockNumber"], 16)
            seen = head
        pricer.check()
        time.sleep(LOG_POLL)
    raise LatencyError(
        f"no price round covered the settlement of thread {thread_id} in block {after_block} within "
        f"{COVER_TIMEOUT:.0f}s; the pricer's last warning: {pricer.last_warning()}"
    )


def _wait_priced(scenario: Scenario, pricer: PricerProcess) -> float:
    """Wait until the pricer has priced every new thread (it is up and caught up); returns the seconds."""
    start = time.perf_counter()
    while time.perf_counter() - start < START_TIMEOUT:
        pricer.check()
        if all(_retry_pruned(scenario.hub.functions.pricePoint(t).call)[2] != 0 for t in scenario.thread_ids):
            return time.perf_counter() - start
        time.sleep(0.1)
    raise LatencyError(f"the pricer priced no new thread within {START_TIMEOUT}s; see {pricer.stderr}")


def run(settlements: int = SETTLEMENTS, threads: int = THREADS, poll_interval: float = POLL_INTERVAL) -> dict[str, Any]:
    run_dir = run_root() / f"bench-latency-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    pricer: PricerProcess | None = None
    try:
        with Devnet(run_dir) as devnet:
            chain = Chain.connect(devnet.rpc_url)
            deployer, pricer_account = dev_accounts(DEV_MNEMONIC, 2)
            parameters = HubParameters(deviation_window=DEVIATION_WINDOW)
            deployment = deploy(chain, deployer, pricer=pricer_account.address, parameters=parameters)
            manifest = deployment.manifest.write(run_dir / "deployments")
            rpc_call(devnet.rpc_url, "anvil_setBlockTimestampInterval", [1])
            sender = BatchSender(devnet.rpc_url)
            scenario = Scenario(sender, deployment, threads, settlements)
            scenario.setup(deployer.address)
            db_url = f"sqlite:///{run_dir / 'pricer.db'}"
            pricer = PricerProcess(devnet.rpc_url, manifest, db_url, run_dir, poll_interval)
            startup = _wait_priced(scenario, pricer)

            latencies, blocks_to_cover = [], []
            for i in range(settlements):
                thread_id = scenario.thread_ids[i % threads]
                # a new window for every thread (the block interval is fixed at 1 s, so the next block is set)
                now = int(chain.w3.eth.get_block("latest")["timestamp"])
                rpc_call(devnet.rpc_url, "evm_setNextBlockTimestamp", [now + DEVIATION_WINDOW])
                block = scenario.settle_one(thread_id, scenario.stakers[i])
                start = time.perf_counter()
                covered = wait_for_cover(devnet.rpc_url, deployment.hub.address, thread_id, block, pricer)
                latencies.append(time.perf_counter() - start)
                blocks_to_cover.append(covered - block)
            sender.close()
            pricer.stop()
    except Exception:
        print(f"bench latency failed; the devnet folder is kept: {run_dir}", file=sys.stderr)
        raise
    finally:
        if pricer is not None:
            pricer.stop()
    shutil.rmtree(run_dir, ignore_errors=True)
    ms = np.array(latencies) * 1000.0
    return {
        "bench": "pricer.latency",
        "settlements": settlements,
        "threads": threads,
        "median_ms": round(statistics.median(ms.tolist()), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "max_ms": round(float(ms.max()), 1),
        "min_ms": round(float(ms.min()), 1),
        "blocks_to_cover_max": max(blocks_to_cover),
        "pricer_poll_interval_s": poll_interval,
        "pricer_startup_s": round(startup, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="settle receipt -> covering updatePrices receipt latency")
    parser.add_argument("--settlements", type=int, default=SETTLEMENTS)
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--poll-interval", type=float, default=POLL_INTERVAL)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.settlements, args.threads, args.poll_interval)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
