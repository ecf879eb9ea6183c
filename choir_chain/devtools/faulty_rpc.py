"""A loopback JSON-RPC proxy that behaves like a public RPC provider under load, for tests and benchmarks.

It forwards requests to a real node (anvil) and, from a seeded random generator, adds what providers do:

- `eth_getLogs` over more than `max_span` blocks is refused with one of the messages real providers use
  (Infura's "query returned more than 10000 results", the "block range is too wide" of geth-based providers,
  Alchemy's "Log response size exceeded ... this block range should work: [0x.., 0x..]", which names a range
  the provider accepts); `max_results` refuses an answer with more logs than that the same way;
- HTTP 429 with a `Retry-After` header (seconds) for a share `rate_limited` of requests;
- a random delay (up to `max_delay` seconds) for a share `delayed` of requests;
- a dropped connection (closed without an answer) for a share `dropped` of requests, half of them before the
  request reaches the node and half after (the node acted, the answer is lost: a sent transaction stays sent).

`python -m choir_chain.devtools.faulty_rpc UPSTREAM --port N` runs one in the foreground, e.g. between a
`choir up --rpc` and its chain.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

RANGE_MESSAGES = ("infura", "geth", "alchemy")
"""The styles of range refusal the proxy picks from (at random, per refusal)."""


@dataclass(frozen=True)
class Faults:
    """What the proxy does wrong, and how often (shares are probabilities per HTTP request)."""

    max_span: int | None = 1000
    """Blocks an `eth_getLogs` may cover; None for no limit."""
    max_results: int | None = None
    """Logs an `eth_getLogs` answer over more than one block may hold; None for no limit."""
    rate_limited: float = 0.0
    retry_after: float = 1.0
    """Seconds the 429 answers ask to wait (`Retry-After`)."""
    rate_limit_in_body: bool = False
    """Say the rate limit as Infura does (HTTP 200, a JSON-RPC error with `data.backoff_seconds`), not with 429."""
    delayed: float = 0.0
    max_delay: float = 0.05
    dropped: float = 0.0
    fail_every: int | None = None
    """Answer every `fail_every`-th HTTP request with 503 (an overloaded node), deterministically; None: never."""
    strip_timestamps: bool = False
    """Drop `blockTimestamp` from logs, as nodes that predate it do."""
    seed: int = 17


@dataclass
class FaultyRpc:
    """The proxy (a context manager): `url` is where clients connect; `counts` what it did, by kind (HTTP
    `requests`, JSON-RPC `calls.<method>` that reached it, and each fault)."""

    upstream: str
    faults: Faults = field(default_factory=Faults)
    host: str = "127.0.0.1"
    port: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    _server: ThreadingHTTPServer | None = None
    _rng: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _local: threading.local = field(default_factory=threading.local)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.faults.seed)

    @property
    def url(self) -> str:
        assert self._server is not None, "the proxy is not running"
        return f"http://{self.host}:{self._server.server_address[1]}"

    # --- decisions ------------------------------------------------------------------------------------------

    def _roll(self, share: float) -> bool:
        if share <= 0:
            return False
        with self._lock:
            return self._rng.random() < share

    def _pick(self, choices: tuple[str, ...]) -> str:
        with self._lock:
            return self._rng.choice(choices)

    def _count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

    # --- the eth_getLogs limits -----------------------------------------------------------------------------

    def _range_error(self, first: int, last: int, found: int | None = None) -> dict[str, Any]:
        """A refusal of `eth_getLogs` over `first..last` in a real provider's words."""
        span = self.faults.max_span or max(1, (last - first + 1) // 2)
        style = self._pick(RANGE_MESSAGES)
        if style == "infura":
            limit = self.faults.max_results or 10_000
            return {"code": -32005, "message": f"query returned more than {limit} results"}
        if style == "geth":
            return {"code": -32000, "message": f"block range is too wide (maximum {span} blocks)"}
        end = min(last, first + span - 1) if found is None else first + max(0, (last - first) // 2)
        return {
            "code": -32602,
            "message": (
                "Log response size exceeded. You can make eth_getLogs requests with up to a "
                f"{span} block range and no limit on the response size, or you can request any block range with a "
                f"cap of 10K logs in the response. Based on your parameters, this block range should work: "
                f"[{hex(first)}, {hex(end)}]"
            ),
        }

    def _refused_range(self, request: Any) -> dict[str, Any] | None:
        """The error for an `eth_getLogs` request wider than `max_span`, None for any other request."""
        if not isinstance(request, dict) or request.get("method") != "eth_getLogs" or self.faults.max_span is None:
            return None
        try:
            flt = request["params"][0]
            first, last = int(flt["fromBlock"], 16), int(flt["toBlock"], 16)
        except (KeyError, IndexError, TypeError, ValueError):
            return None  # tags ("latest"): left to the node
        if last - first + 1 <= self.faults.max_span:
            return None
        self._count("range_refused")
        return self._range_error(first, last)

    def _too_many_results(self, request: Any, reply: Any) -> dict[str, Any] | None:
        limit = self.faults.max_results
        if limit is None or not isinstance(request, dict) or request.get("method") != "eth_getLogs":
            return None
        result = reply.get("result") if isinstance(reply, dict) else None
        if not isinstance(result, list) or len(result) <= limit:
            return None
        flt = request["params"][0]
        first, last = int(flt["fromBlock"], 16), int(flt["toBlock"], 16)
        if first == last:
            return None  # providers answer one block whatever it holds: a cap is on what a range adds up to
        self._count("results_refused")
        return self._range_error(first, last, found=len(result))

    def _rate_limit_answer(self, body: bytes) -> bytes:
        """Infura's refusal under load, for each request of `body` (a batch gets one per request)."""
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        error = {
            "code": -32005,
            "message": "project ID request rate exceeded",
            "data": {"see": "https://infura.io/dashboard", "backoff_seconds": self.faults.retry_after},
        }
        ids = [r.get("id") if isinstance(r, dict) else None for r in payload] if isinstance(payload, list) else None
        if ids is not None:
            return json.dumps([{"jsonrpc": "2.0", "id": i, "error": error} for i in ids]).encode()
        request_id = payload.get("id") if isinstance(payload, dict) else None
        return json.dumps({"jsonrpc": "2.0", "id": request_id, "error": error}).encode()

    # --- forwarding -----------------------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _forward(self, payload: Any) -> Any:
        reply = self._session().post(self.upstream, json=payload, timeout=60)
        return reply.json()

    def answer(self, body: bytes) -> tuple[int, dict[str, str], bytes] | None:
        """Status, headers and body for one HTTP request; None to drop the connection without an answer."""
        self._count("requests")
        if self.faults.fail_every and self.counts["requests"] % self.faults.fail_every == 0:
            self._count("overloaded")
            return 503, {}, b"overloaded"
        if self._roll(self.faults.delayed):
            self._count("delayed")
            with self._lock:
                pause = self._rng.uniform(0, self.faults.max_delay)
            time.sleep(pause)
        if self._roll(self.faults.rate_limited):
            self._count("rate_limited")
            if self.faults.rate_limit_in_body:
                return 200, {}, self._rate_limit_answer(body)
            headers = {"Retry-After": f"{self.faults.retry_after:g}"}
            return 429, headers, b'{"jsonrpc":"2.0","error":{"code":429,"message":"Too Many Requests"}}'
        drop = self._roll(self.faults.dropped)
        if drop and self._roll(0.5):
            self._count("dropped_before")
            return None
        try:
            payload = json.loads(body)
        except ValueError:
            return 400, {}, b'{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}'
        requests_ = payload if isinstance(payload, list) else [payload]
        for request in requests_:
            self._count(f"calls.{request.get('method') if isinstance(request, dict) else '?'}")
        refused = {i: err for i, r in enumerate(requests_) if (err := self._refused_range(r)) is not None}
        forwarded = [r for i, r in enumerate(requests_) if i not in refused]
        replies: list[Any] = []
        if forwarded:
            answered = self._forward(forwarded if isinstance(payload, list) else forwarded[0])
            replies = answered if isinstance(answered, list) else [answered]
        out: list[Any] = []
        upstream = iter(zip(forwarded, replies, strict=False))
        for i, request in enumerate(requests_):
            request_id = request.get("id") if isinstance(request, dict) else None
            if i in refused:
                out.append({"jsonrpc": "2.0", "id": request_id, "error": refused[i]})
                continue
            sent, reply = next(upstream, (request, None))
            error = self._too_many_results(sent, reply)
            if self.faults.strip_timestamps and isinstance(sent, dict) and sent.get("method") == "eth_getLogs":
                for entry in (reply or {}).get("result") or []:
                    entry.pop("blockTimestamp", None)
            out.append({"jsonrpc": "2.0", "id": request_id, "error": error} if error is not None else reply)
        if drop:
            self._count("dropped_after")
            return None
        answer = out if isinstance(payload, list) else out[0]
        return 200, {}, json.dumps(answer).encode()

    # --- the server -----------------------------------------------------------------------------------------

    def __enter__(self) -> FaultyRpc:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as providers serve it: a drop cuts a reused connection

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    answered = proxy.answer(body)
                except requests.RequestException:
                    answered = 502, {}, b'{"jsonrpc":"2.0","error":{"code":-32603,"message":"upstream failed"}}'
                if answered is None:
                    self.close_connection = True
                    return
                status, headers, content = answered
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="faulty-rpc", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("upstream", help="the node's JSON-RPC URL, e.g. http://127.0.0.1:8545")
    parser.add_argument("--port", type=int, default=8546)
    parser.add_argument("--max-span", type=int, default=1000)
    parser.add_argument("--rate-limited", type=float, default=0.05)
    parser.add_argument("--retry-after", type=float, default=1.0)
    parser.add_argument("--delayed", type=float, default=0.1)
    parser.add_argument("--dropped", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    faults = Faults(
        max_span=args.max_span,
        rate_limited=args.rate_limited,
        retry_after=args.retry_after,
        delayed=args.delayed,
        dropped=args.dropped,
        seed=args.seed,
    )
    with FaultyRpc(args.upstream, faults, port=args.port) as proxy:
        print(f"faulty RPC proxy on {proxy.url} -> {args.upstream} ({faults})", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
        print(dict(proxy.counts), flush=True)


if __name__ == "__main__":
    main()
