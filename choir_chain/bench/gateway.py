"""Gateway read throughput: requests/s and latency of `GET /threads/{id}` and a `GET /threads` page beside the
trivial `GET /ping` of the same app, served by uvicorn with 1 and with 2 worker processes
(`python -m choir_chain.bench.gateway`).

Set-up, all by the benchmark: a fresh devnet, the protocol deployed, the `CommunityWorkload` (100 threads with
posts, specs, votes, settlements and price rounds), indexed into a new SQLite database. The gateway then runs as
`uvicorn --factory api.app:app_from_env` on a free loopback port, and a Python load generator (httpx, asyncio)
keeps `concurrency` requests in flight (over several clients of 8 connections) for `duration` seconds per
endpoint, after a short warm-up; the answers are checked (status 200, right shape) and any other answer is
counted as an error.

Each endpoint is reported with requests/s, p50 and p99 latency, and its ratio to `/ping` in the same run:
`rps_ratio` (endpoint rps / ping rps) and `p50_ratio` (endpoint p50 / ping p50). `/ping` touches neither the
database nor the chain, so it measures the HTTP stack and the load generator themselves; on a machine with few
cores, the load generator, uvicorn's workers and anvil share them (`cpus` is in the output).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from choir_chain.bench.batch import BatchSender
from choir_chain.bench.workload import CommunityWorkload, WorkloadResult
from choir_chain.chain import Chain, dev_accounts
from choir_chain.deploy import deploy
from choir_chain.devnet import DEV_MNEMONIC, Devnet, free_port
from choir_chain.indexer.db import make_engine
from choir_chain.indexer.indexer import Indexer
from choir_chain.paths import PROJECT_ROOT, run_root

THREADS = 100
TARGET_EVENTS = 2_000
CONCURRENCY = 32
PER_CLIENT = 8
DURATION = 5.0
WARMUP = 1.0
WORKERS = (1, 2)
PAGE = 20
START_TIMEOUT = 60.0


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


async def _load(
    base_url: str,
    paths: Callable[[int], str],
    check: Callable[[Any], bool],
    concurrency: int,
    duration: float,
) -> tuple[Sample, float]:
    """`concurrency` loops sending GET `paths(n)` for `duration` seconds; the sample and the elapsed time.

    The loops share `ceil(concurrency / PER_CLIENT)` clients of at most `PER_CLIENT` connections each: one httpx
    client with 32 connections is itself the bottleneck (its pool, measured here at under half the requests/s
    of four clients of eight), which would understate `/ping` and flatter every ratio to it."""
    sample = Sample()
    count = -(-concurrency // PER_CLIENT)
    limits = httpx.Limits(max_connections=PER_CLIENT, max_keepalive_connections=PER_CLIENT)
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30.0))
            for _ in range(count)
        ]
        deadline = time.perf_counter() + duration
        counter = iter(range(1 << 62))

        async def worker(client: httpx.AsyncClient) -> None:
            while time.perf_counter() < deadline:
                path = paths(next(counter))
                start = time.perf_counter()
                try:
                    response = await client.get(path)
                    ok = response.status_code == 200 and check(response.json())
                except httpx.HTTPError:
                    ok = False
                if ok:
                    sample.latencies.append(time.perf_counter() - start)
                else:
                    sample.errors += 1

        begin = time.perf_counter()
        await asyncio.gather(*(worker(clients[n % count]) for n in range(concurrency)))
        elapsed = time.perf_counter() - begin
    return sample, elapsed


def _figures(sample: Sample, elapsed: float) -> dict[str, Any]:
    ordered = sorted(sample.latencies)
    return {
        "requests": len(ordered),
        "errors": sample.errors,
        "rps": round(len(ordered) / elapsed, 1),
        "p50_ms": round(_percentile(ordered, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(ordered, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2) if ordered else None,
    }


def _endpoints(threads: int) -> dict[str, tuple[Callable[[int], str], Callable[[Any], bool]]]:
    pages = max(1, threads // PAGE)
    return {
        "ping": (lambda n: "/ping", lambda body: body == {"ok": True}),
        "thread": (
            lambda n: f"/threads/{n % threads + 1}",
            lambda body: "approval_window" in body and body["price"].isdigit(),
        ),
        "threads_page": (
            lambda n: f"/threads?limit={PAGE}&offset={(n % pages) * PAGE}",
            lambda body: len(body["items"]) == PAGE and body["total"] == threads,
        ),
    }


def measure(base_url: str, threads: int, concurrency: int, duration: float) -> dict[str, Any]:
    """Every endpoint in turn (warm-up, then `duration` seconds of load), with ratios to `/ping`."""
    out: dict[str, Any] = {}
    for name, (paths, check) in _endpoints(threads).items():
        asyncio.run(_load(base_url, paths, check, concurrency, WARMUP))
        out[name] = _figures(*asyncio.run(_load(base_url, paths, check, concurrency, duration)))
    ping = out["ping"]
    for name, figures in out.items():
        if name != "ping":
            figures["rps_ratio"] = round(figures["rps"] / ping["rps"], 3) if ping["rps"] else None
            figures["p50_ratio"] = round(figures["p50_ms"] / ping["p50_ms"], 1) if ping["p50_ms"] else None
    return out


class Server:
    """`uvicorn --factory api.app:app_from_env` with `workers` processes on a free loopback port."""

    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        self.port = free_port()
        self.workers = workers
        self.log_path = log
        self.env = {**os.environ, **env}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "api.app:app_from_env",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited ({self.process.returncode}); see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/ping", timeout=1.0).status_code == 200:
                    # with several workers, wait until each has had time to start (each answers /ping alone)
                    time.sleep(0.5 * (self.workers - 1))
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.__exit__()
        raise RuntimeError(f"uvicorn did not answer within {START_TIMEOUT} s; see {self.log_path}")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


def _set_up(run_dir: Path, devnet: Devnet) -> tuple[dict[str, str], WorkloadResult, float]:
    chain = Chain.connect(devnet.rpc_url)
    deployer, pricer = dev_accounts(DEV_MNEMONIC, 2)
    deployment = deploy(chain, deployer, pricer=pricer.address)
    sender = BatchSender(devnet.rpc_url)
    sender.call("anvil_setBlockTimestampInterval", [1])
    start = time.perf_counter()
    workload = CommunityWorkload(deployment, sender, pricer=pricer.address, threads=THREADS).run(
        deployer.address, TARGET_EVENTS
    )
    sender.close()
    database_url = f"sqlite:///{run_dir / 'choir.db'}"
    engine = make_engine(database_url)
    try:
        with Indexer(devnet.rpc_url, deployment.manifest, engine) as indexer:
            indexer.sync()
    finally:
        engine.dispose()
    manifest_path = deployment.manifest.write(run_dir / "deployments")
    env = {
        "CHOIR_GATEWAY_DATABASE_URL": database_url,
        "CHOIR_GATEWAY_RPC_URL": devnet.rpc_url,
        "CHOIR_GATEWAY_MANIFEST_PATH": str(manifest_path),
    }
    return env, workload, time.perf_counter() - start


def run(
    concurrency: int = CONCURRENCY, duration: float = DURATION, workers: tuple[int, ...] = WORKERS
) -> list[dict[str, Any]]:
    run_dir = run_root() / f"bench-gateway-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    lines: list[dict[str, Any]] = []
    try:
        with Devnet(run_dir) as devnet:
            env, workload, set_up = _set_up(run_dir, devnet)
            for count in workers:
                with Server(env, count, run_dir / f"uvicorn-{count}.log") as server:
                    results = measure(server.url, workload.threads, concurrency, duration)
                lines.append(
                    {
                        "bench": "gateway",
                        "workers": count,
                        "concurrency": concurrency,
                        "duration_s": duration,
                        "cpus": os.cpu_count(),
                        "threads": workload.threads,
                        "messages": workload.messages,
                        "page": PAGE,
                        **results,
                        "set_up_seconds": round(set_up, 1),
                    }
                )
    except Exception:
        print(f"bench gateway failed; the devnet folder is kept: {run_dir}", file=sys.stderr)
        raise
    shutil.rmtree(run_dir, ignore_errors=True)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="requests in flight")
    parser.add_argument("--duration", type=float, default=DURATION, help="seconds of load per endpoint")
    parser.add_argument("--workers", type=int, nargs="+", default=list(WORKERS), help="uvicorn worker counts")
    args = parser.parse_args(argv)
    for line in run(args.concurrency, args.duration, tuple(args.workers)):
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
