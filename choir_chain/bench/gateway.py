"""Gateway read throughput with wrk: requests/s and latency of thread reads, a list page, a filtered query and
`/health` beside the trivial `/ping` of the same app, uvicorn with 1 and 2 worker processes, on SQLite and on
PostgreSQL, and the cold path (read cache off) (`python -m choir_chain.bench.gateway`).

Set-up, all by the benchmark: a fresh devnet, the protocol deployed, the `CommunityWorkload` (100 threads with
posts, specs, votes, settlements and price rounds), indexed into a new SQLite database and into a PostgreSQL
database on a throw-away server (`choir_chain.pgserver`). The gateway runs as
`uvicorn --factory api.app:app_from_env` on a free loopback port. The load comes from wrk (Debian's package,
installed by `make setup`; a separate native process, so the load generator is not what is measured, as a
Python client on the same two cores was): `CONNECTIONS` connections on one wrk thread for `DURATION` seconds
per endpoint after a warm-up, cycling through the endpoint's paths (a Lua script). Every path is fetched once
first and its answer checked; wrk counts any answer that is not 2xx as an error.

Each endpoint is reported with requests/s, p50 and p99 latency, and its ratio to `/ping` in the same
configuration: `rps_ratio` (endpoint rps / ping rps). Targets (issue 18): thread and page reads and `/health`
at >= 0.5x `/ping` with p99 <= 25 ms at 16 connections on 1 worker.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from choir_chain.bench.workload import CommunityWorkload, WorkloadResult
from choir_chain.chain import Chain, dev_accounts
from choir_chain.deploy import deploy
from choir_chain.devnet import DEV_MNEMONIC, Devnet, free_port
from choir_chain.indexer.db import make_engine
from choir_chain.indexer.indexer import Indexer
from choir_chain.paths import PROJECT_ROOT, run_root
from choir_chain.pgserver import PostgresServer
from choir_chain.scenario.batch import BatchSender

THREADS = 100
TARGET_EVENTS = 2_000
CONNECTIONS = 16
DURATION = 8.0
WARMUP = 1.0
PAGE = 20
START_TIMEOUT = 60.0
TARGET_RATIO = 0.5
TARGET_P99_MS = 25.0
WRK = "wrk"


LUA = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * UNITS[unit]


def parse_wrk(output: str) -> dict[str, Any]:
    """Requests/s, p50 and p99 latency (ms) and errors from `wrk --latency` output."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(bad.group(1)) if bad else 0) + (sum(int(g) for g in sockets.groups()) if sockets else 0)
    return {
        "requests": requests,
        "errors": errors,
        "rps": round(rps, 1),
        "p50_ms": round(p50, 2),
        "p99_ms": round(p99, 2),
    }


def wrk(base_url: str, paths: list[str], duration: float, connections: int, script_dir: Path) -> dict[str, Any]:
    """wrk with `connections` connections on one thread for `duration` s, cycling through `paths`."""
    script = script_dir / "paths.lua"
    script.write_text(LUA % ", ".join(json.dumps(p) for p in paths))
    command = [
        WRK,
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--latency",
        "-s",
        str(script),
        base_url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return parse_wrk(done.stdout)


@dataclass(frozen=True)
class Endpoint:
    paths: list[str]
    check: Callable[[Any], bool]


def endpoints(threads: int, median_price: int) -> dict[str, Endpoint]:
    pages = max(1, threads // PAGE)
    return {
        "ping": Endpoint(["/ping"], lambda body: body == {"ok": True}),
        "thread": Endpoint(
            [f"/threads/{n + 1}" for n in range(threads)],
            lambda body: "approval_window" in body and body["price"].isdigit(),
        ),
        "threads_page": Endpoint(
            [f"/threads?limit={PAGE}&offset={n * PAGE}" for n in range(pages)],
            lambda body: len(body["items"]) == PAGE and body["total"] == threads,
        ),
        "filtered": Endpoint(
            [f"/threads?sort=price&order=desc&min_price={median_price}&limit={PAGE}"],
            lambda body: 0 < len(body["items"]) <= PAGE and all(int(t["price"]) >= median_price for t in body["items"]),
        ),
        "health": Endpoint(["/health"], lambda body: body["status"] == "ok"),
    }


def measure(
    base_url: str, points: dict[str, Endpoint], duration: float, connections: int, work: Path
) -> dict[str, Any]:
    """Every endpoint in turn (each path checked, a warm-up, then `duration` seconds of load), with ratios to
    `/ping`."""
    out: dict[str, Any] = {}
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        for endpoint in points.values():
            for path in endpoint.paths:
                answer = client.get(path)
                if answer.status_code != 200 or not endpoint.check(answer.json()):
                    raise RuntimeError(f"GET {path} answered {answer.status_code}: {answer.text[:300]}")
    for name, endpoint in points.items():
        wrk(base_url, endpoint.paths, WARMUP, connections, work)
        out[name] = wrk(base_url, endpoint.paths, duration, connections, work)
    ping = out["ping"]
    for name, figures in out.items():
        if name != "ping":
            figures["rps_ratio"] = round(figures["rps"] / ping["rps"], 3) if ping["rps"] else None
    return out


def _memory_mb(pid: int) -> dict[str, float]:
    """Resident (`rss`), proportional (`pss`: shared pages split between their users) and private memory of a
    process, from /proc/<pid>/smaps_rollup: libraries mapped by several workers count once in `pss` summed."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss", "Private_Clean", "Private_Dirty"):
            fields[name] = int(rest.split()[0]) / 1024
    return {
        "rss": round(fields.get("Rss", 0.0), 1),
        "pss": round(fields.get("Pss", 0.0), 1),
        "private": round(fields.get("Private_Clean", 0.0) + fields.get("Private_Dirty", 0.0), 1),
    }


class Server:
    """The gateway with `workers` processes on a free loopback port: `uvicorn --factory api.app:app_from_env`, or
    `python -m api.serve` (`prefork`: the workers forked after loading the embedding model once)."""

    def worker_memory_mb(self) -> list[dict[str, float]]:
        """Memory of each worker process (the server process itself with one worker)."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        workers = [
            int(c) for c in children if b"resource_tracker" not in Path(f"/proc/{c}/cmdline").read_bytes()
        ]  # multiprocessing's resource tracker is a child too
        return [_memory_mb(pid) for pid in workers or [self.process.pid]]

    def search_memory(self, searches: int = 8) -> dict[str, Any]:
        """Worker memory before and after semantic searches: under uvicorn every worker that answers one loads
        the embedding model; under `api.serve` they share the one their parent loaded."""
        before = self.worker_memory_mb()
        for n in range(searches):  # a connection each, so the workers share them
            httpx.get(f"{self.url}/search", params={"q": f"what the treasury pays {n}"}, timeout=120.0)
        return {"worker_mb_before_search": before, "worker_mb_after_search": self.worker_memory_mb()}

    def __init__(self, env: dict[str, str], workers: int, log: Path, prefork: bool = False) -> None:
        self.prefork = prefork
        self.port = free_port()
        self.workers = workers
        self.log_path = log
        self.env = {**os.environ, **env}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        served = ["api.serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers)]
        command = [sys.executable, "-m", *served] if self.prefork else [
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
        ]  # fmt: skip
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


def _index(rpc_url: str, workload_manifest: Any, database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with Indexer(rpc_url, workload_manifest, engine) as indexer:
            indexer.sync()
    finally:
        engine.dispose()


def _set_up(
    run_dir: Path, devnet: Devnet, postgres_url: str
) -> tuple[dict[str, dict[str, str]], WorkloadResult, float]:
    """The chain and both databases; the gateway's environment per database."""
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
    manifest_path = deployment.manifest.write(run_dir / "deployments")
    envs = {}
    for name, url in (("sqlite", f"sqlite:///{run_dir / 'choir.db'}"), ("postgresql", postgres_url)):
        _index(devnet.rpc_url, deployment.manifest, url)
        envs[name] = {
            "CHOIR_GATEWAY_DATABASE_URL": url,
            "CHOIR_GATEWAY_RPC_URL": devnet.rpc_url,
            "CHOIR_GATEWAY_MANIFEST_PATH": str(manifest_path),
        }
    return envs, workload, time.perf_counter() - start


CONFIGURATIONS: list[tuple[str, int, bool]] = [
    ("sqlite", 1, True),
    ("sqlite", 2, True),
    ("postgresql", 1, True),
    ("postgresql", 2, True),
    ("sqlite", 1, False),  # the cold path: every read computed
]
"""(database, uvicorn workers, read cache on)."""


def _shared_model_memory(env: dict[str, str], run_dir: Path, workers: int = 2) -> dict[str, Any]:
    """Worker memory around semantic searches, `workers` uvicorn workers (each loads the model) beside
    `python -m api.serve` (the model loaded once, before the fork)."""
    line: dict[str, Any] = {"bench": "gateway.memory", "workers": workers}
    for launcher, prefork in (("uvicorn", False), ("prefork", True)):
        with Server(env, workers, run_dir / f"memory-{launcher}.log", prefork=prefork) as server:
            line[launcher] = server.search_memory()
    after = {k: line[k]["worker_mb_after_search"] for k in ("uvicorn", "prefork")}
    line["private_mb_per_worker"] = {k: round(sum(w["private"] for w in v) / len(v), 1) for k, v in after.items()}
    line["pss_mb_all_workers"] = {k: round(sum(w["pss"] for w in v), 1) for k, v in after.items()}
    return line


def _median_price(base_url: str) -> int:
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        prices = sorted(int(t["price"]) for t in client.get(f"/threads?limit={THREADS}").json()["items"])
    return prices[len(prices) // 2]


def run(
    duration: float = DURATION,
    connections: int = CONNECTIONS,
    configurations: list[tuple[str, int, bool]] | None = None,
) -> list[dict[str, Any]]:
    if shutil.which(WRK) is None:
        raise RuntimeError("wrk not found: run `make setup` (tools/wrk/ensure.sh installs Debian's wrk package)")
    run_dir = run_root() / f"bench-gateway-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    lines: list[dict[str, Any]] = []
    postgres = PostgresServer.start()
    try:
        with Devnet(run_dir) as devnet:
            envs, workload, set_up = _set_up(run_dir, devnet, postgres.url)
            for database, workers, cached in configurations or CONFIGURATIONS:
                env = {**envs[database], "CHOIR_GATEWAY_READ_CACHE_SIZE": "4096" if cached else "0"}
                if not cached:
                    env["CHOIR_GATEWAY_HEALTH_TTL"] = "0"
                log = run_dir / f"uvicorn-{database}-{workers}-{cached}.log"
                with Server(env, workers, log) as server:
                    points = endpoints(workload.threads, _median_price(server.url))
                    results = measure(server.url, points, duration, connections, run_dir)
                    if cached:
                        results["memory"] = server.search_memory()
                line: dict[str, Any] = {
                    "bench": "gateway",
                    "database": database,
                    "workers": workers,
                    "read_cache": cached,
                    "connections": connections,
                    "duration_s": duration,
                    "cpus": os.cpu_count(),
                    "threads": workload.threads,
                    "messages": workload.messages,
                    "page": PAGE,
                    **results,
                    "set_up_seconds": round(set_up, 1),
                }
                if workers == 1 and cached:
                    line["targets_met"] = all(
                        results[name]["rps_ratio"] >= TARGET_RATIO and results[name]["p99_ms"] <= TARGET_P99_MS
                        for name in ("thread", "threads_page", "health")
                    )
                lines.append(line)
            lines.append(_shared_model_memory(envs["sqlite"], run_dir))
    except Exception:
        print(f"bench gateway failed; the devnet folder is kept: {run_dir}", file=sys.stderr)
        raise
    finally:
        postgres.stop()
    shutil.rmtree(run_dir, ignore_errors=True)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=DURATION, help="seconds of load per endpoint")
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help="wrk connections")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="DATABASE:WORKERS:CACHE",
        help="configurations to run, e.g. sqlite:1:on postgresql:2:on sqlite:1:off (default: all five)",
    )
    args = parser.parse_args(argv)
    chosen = None
    if args.only:
        chosen = [(d, int(w), c == "on") for d, w, c in (item.split(":") for item in args.only)]
    for line in run(args.duration, args.connections, chosen):
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
