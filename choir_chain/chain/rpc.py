"""A small JSON-RPC client for the indexer: retries with backoff, never gives up on a request silently.

Transport failures (connection refused, timeouts, HTTP errors, garbage answers) are logged and retried with
exponential backoff until they succeed or the stop event is set. An error *answer* (a JSON-RPC `error` object)
raises `RpcError` for the caller to decide: `eth_getLogs` callers shrink the block range (providers cap the
span or the number of logs), everything else retries like a transport failure.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests

log = logging.getLogger("choir_chain.indexer")


class Stopped(Exception):
    """The stop event was set while waiting to retry."""


class RpcError(RuntimeError):
    """The node answered with a JSON-RPC error object."""

    def __init__(self, method: str, error: Any) -> None:
        self.method = method
        self.code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message") if isinstance(error, dict) else error
        super().__init__(f"{method}: {message} (code {self.code})")


class TransportError(RuntimeError):
    """The request did not get a well-formed answer."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: `initial`, doubling up to `maximum` seconds; `attempts` None retries forever."""

    initial: float = 0.5
    maximum: float = 30.0
    attempts: int | None = None

    def delays(self) -> Iterator[float]:
        """The waits between attempts, in order (ends after `attempts - 1` waits when `attempts` is set)."""
        delay, tried = self.initial, 0
        while self.attempts is None or tried < self.attempts - 1:
            yield delay
            delay, tried = min(delay * 2, self.maximum), tried + 1


class RpcClient:
    """JSON-RPC over HTTP with one pooled connection."""

    def __init__(
        self,
        url: str,
        *,
        retry: RetryPolicy | None = None,
        stop: threading.Event | None = None,
        timeout: float = 30.0,
        log_retries: bool = True,
    ) -> None:
        self.url = url
        self.log_retries = log_retries
        self.retry = retry or RetryPolicy()
        self.stop = stop or threading.Event()
        self.timeout = timeout
        self._session = requests.Session()
        self._next_id = 0

    def close(self) -> None:
        self._session.close()

    def _post(self, payload: Any) -> Any:
        try:
            response = self._session.post(self.url, json=payload, timeout=self.timeout)
            response.raise_for_status()
            return response.json()
        except requests.HTTPError as err:
            raise TransportError(f"HTTP {err.response.status_code if err.response is not None else '?'}") from err
        except requests.Timeout as err:
            raise TransportError(f"no answer within {self.timeout}s") from err
        except requests.ConnectionError as err:
            raise TransportError("connection failed") from err
        except (requests.RequestException, ValueError) as err:
            raise TransportError(f"{type(err).__name__}: {err}") from err

    def _with_retries(self, what: str, attempt: Any, *, retry_rpc_errors: bool) -> Any:
        delays = self.retry.delays()
        while True:
            try:
                return attempt()
            except (TransportError, RpcError) as err:
                if isinstance(err, RpcError) and not retry_rpc_errors:
                    raise
                delay = next(delays, None)
                if delay is None:
                    raise
                if self.log_retries:
                    log.warning("%s to %s failed (%s); retrying in %.2fs", what, self.url, err, delay)
                if self.stop.wait(delay):
                    raise Stopped from err

    def _single(self, method: str, params: list[Any]) -> Any:
        self._next_id += 1
        reply = self._post({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        if not isinstance(reply, dict):
            raise TransportError(f"{method}: answer is not a JSON-RPC object")
        if "error" in reply:
            raise RpcError(method, reply["error"])
        if "result" not in reply:
            raise TransportError(f"{method}: answer has neither result nor error")
        return reply["result"]

    def call(self, method: str, params: list[Any], *, retry_rpc_errors: bool = True) -> Any:
        """The result of `method`; transport failures (and error answers, unless told not to) are retried."""
        return self._with_retries(method, lambda: self._single(method, params), retry_rpc_errors=retry_rpc_errors)

    def batch(self, method: str, params_list: list[list[Any]]) -> list[Any]:
        """Results of one method called with each params, in one HTTP request (a JSON-RPC batch)."""
        if not params_list:
            return []

        def attempt() -> list[Any]:
            first = self._next_id + 1
            self._next_id += len(params_list)
            payload = [
                {"jsonrpc": "2.0", "id": first + i, "method": method, "params": p} for i, p in enumerate(params_list)
            ]
            replies = self._post(payload)
            if not isinstance(replies, list):
                raise TransportError(f"{method} batch: answer is not a list")
            by_id = {r.get("id"): r for r in replies if isinstance(r, dict)}
            results = []
            for i in range(len(params_list)):
                reply = by_id.get(first + i)
                if reply is None:
                    raise TransportError(f"{method} batch: answer {i} missing")
                if "error" in reply:
                    raise RpcError(method, reply["error"])
                results.append(reply.get("result"))
            return results

        return self._with_retries(f"{method} batch", attempt, retry_rpc_errors=True)

    def chain_id(self) -> int:
        return int(self.call("eth_chainId", []), 16)

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber", []), 16)

    def block(self, number: int) -> dict[str, Any] | None:
        """The header of block `number` (without transactions), None if the chain has no such block."""
        result = self.call("eth_getBlockByNumber", [hex(number), False])
        return result if isinstance(result, dict) else None

    def blocks(self, numbers: list[int]) -> list[dict[str, Any] | None]:
        results = self.batch("eth_getBlockByNumber", [[hex(n), False] for n in numbers])
        return [r if isinstance(r, dict) else None for r in results]

    def get_logs(
        self, first: int, last: int, *, address: str | list[str] | None = None, topics: Any = None
    ) -> list[Any]:
        """`eth_getLogs` over blocks `first..last` (of one address or any of a list); an error answer raises
        `RpcError` (not retried)."""
        flt: dict[str, Any] = {"fromBlock": hex(first), "toBlock": hex(last)}
        if address is not None:
            flt["address"] = address
        if topics is not None:
            flt["topics"] = topics

        def attempt() -> list[Any]:
            result = self._single("eth_getLogs", [flt])
            if not isinstance(result, list):
                raise TransportError("eth_getLogs: result is not a list")
            return result

        return self._with_retries("eth_getLogs", attempt, retry_rpc_errors=False)  # type: ignore[no-any-return]
