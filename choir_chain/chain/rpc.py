"""A small JSON-RPC client for the indexer: retries with backoff, never gives up on a request silently.

Transport failures (connection refused, timeouts, HTTP errors, garbage answers) are logged and retried with
exponential backoff until they succeed or the stop event is set. An error *answer* (a JSON-RPC `error` object)
raises `RpcError` for the caller to decide: `eth_getLogs` callers shrink the block range (providers cap the
span or the number of logs), everything else retries like a transport failure.

A provider's rate limit (HTTP 429, or an error answer saying so) is waited out for as long as it asks
(`Retry-After`, or the `backoff_seconds` Infura puts in the error's data) when that is longer than the backoff,
and never counts as a refused log range. An error answer carrying revert data names the custom error
(`revert.decode`) instead of printing its raw bytes.
"""

from __future__ import annotations

import email.utils
import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests

log = logging.getLogger("choir_chain.indexer")


class Stopped(Exception):
    """The stop event was set while waiting to retry."""


MAX_RETRY_AFTER = 300.0
"""Seconds at most that a provider's `Retry-After` makes a client wait at once."""

_RATE_LIMITED = re.compile(r"rate limit|too many requests|request rate exceeded|exceeded .*capacity", re.IGNORECASE)


class RpcError(RuntimeError):
    """The node answered with a JSON-RPC error object. `data` is the error's revert data (0x-hex) when it carries
    some; `str()` then names the custom error and its arguments."""

    def __init__(self, method: str, error: Any) -> None:
        self.method = method
        self.error = error
        self.code = error.get("code") if isinstance(error, dict) else None
        self.message = str(error.get("message") if isinstance(error, dict) else error)
        self.data = _revert_data(error)
        super().__init__(f"{method}: {self.reason} (code {self.code})")

    @property
    def reason(self) -> str:
        """The node's message, with a revert's custom error decoded (`revert.decode`) instead of its raw bytes."""
        if self.data is None:
            return self.message
        from choir_chain.chain.revert import decode

        return f"execution reverted: {decode(self.data).message}"

    @property
    def rate_limited(self) -> bool:
        """The provider refused for load, not for the request: ask again later, unchanged (never a revert, whatever
        its reason says)."""
        return self.data is None and (self.code == 429 or bool(_RATE_LIMITED.search(self.message)))

    @property
    def retry_after(self) -> float | None:
        """Seconds the provider asks to wait (Infura: `data.backoff_seconds`), if it says."""
        data = self.error.get("data") if isinstance(self.error, dict) else None
        seconds = data.get("backoff_seconds") if isinstance(data, dict) else None
        return float(seconds) if isinstance(seconds, int | float) and seconds >= 0 else None


def _revert_data(error: Any) -> str | None:
    """The revert data of an error answer to `eth_call` / `eth_estimateGas` (anvil and geth: `data` is 0x-hex,
    some nodes nest it as `{"data": "0x..."}`), None for other errors."""
    if not isinstance(error, dict):
        return None
    data = error.get("data")
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and re.fullmatch(r"0x([0-9a-fA-F]{2})+", data) and len(data) >= 10:
        return data
    message = str(error.get("message", ""))
    if isinstance(data, str) and data == "0x" and "revert" in message.lower():
        return data
    return None


class TransportError(RuntimeError):
    """The request did not get a well-formed answer; `retry_after` is the wait a rate-limiting provider asked for
    (HTTP 429 `Retry-After`), in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None) -> float | None:
    """An HTTP `Retry-After` header in seconds: delay-seconds (fractions accepted) or an HTTP date."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


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
            response = err.response
            status = response.status_code if response is not None else "?"
            if status == 429:
                wait = retry_after_seconds(response.headers.get("Retry-After") if response is not None else None)
                raise TransportError("HTTP 429 (rate limited)", retry_after=wait) from err
            raise TransportError(f"HTTP {status}") from err
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
                if isinstance(err, RpcError) and not (retry_rpc_errors or err.rate_limited):
                    raise
                delay = next(delays, None)
                if delay is None:
                    raise
                asked = err.retry_after
                if asked is not None and asked > delay:
                    delay = min(asked, MAX_RETRY_AFTER)  # the provider knows when it will answer again
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
        `RpcError` (not retried, but for a rate limit: that says nothing about the range)."""
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
