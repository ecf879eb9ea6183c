"""A provider that misbehaves like public RPC providers do (`choir_chain.devtools.faulty_rpc`, issue 17): log ranges
capped with the providers' own error messages, HTTP 429 with `Retry-After`, delays and dropped connections. The
indexer loses nothing and ends equal to a fresh index; clients wait as long as a rate limit asks; a refused
transaction's custom error is named, never printed as raw bytes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_abi import encode
from eth_utils import keccak
from helpers.world import ChainRun, chain_run, dump

from choir_chain import artifacts
from choir_chain.chain.revert import decode
from choir_chain.chain.rpc import RetryPolicy, RpcClient, RpcError, TransportError, retry_after_seconds
from choir_chain.devtools.faulty_rpc import Faults, FaultyRpc
from choir_chain.indexer import Indexer, make_engine
from choir_chain.pricer.client import Contract, Sender
from choir_chain.pricer.errors import RoundRejected, RoundReverted

FAST_RETRY = RetryPolicy(initial=0.001, maximum=0.01)
PROVIDER = Faults(
    max_span=8, rate_limited=0.08, retry_after=0.02, delayed=0.1, max_delay=0.005, dropped=0.05, seed=20_261_206
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChainRun]:
    with chain_run(tmp_path_factory.mktemp("devnet")) as chain:
        yield chain


class Waits(threading.Event):
    """A stop event that records the waits asked of it and returns at once (no sleeping in tests)."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.asked.append(float(timeout or 0.0))
        return self.is_set()


def index(rpc_url: str, run: ChainRun, db: Path, **options: object) -> dict[str, list[tuple[object, ...]]]:
    engine = make_engine(f"sqlite:///{db}")
    with Indexer(rpc_url, run.deployment.manifest, engine, **options) as indexer:  # type: ignore[arg-type]
        indexer.sync()
    rows = dump(engine)
    engine.dispose()
    return rows


def test_the_index_through_a_faulty_provider_equals_a_fresh_one(run: ChainRun, tmp_path: Path) -> None:
    with FaultyRpc(run.rpc_url, PROVIDER) as proxy:
        through = index(proxy.url, run, tmp_path / "faulty.db", batch_blocks=100, retry=FAST_RETRY)
    counts = proxy.counts
    assert counts["range_refused"] > 0 and counts["rate_limited"] > 0 and counts["delayed"] > 0
    assert counts["dropped_before"] + counts["dropped_after"] > 0
    assert through == index(run.rpc_url, run, tmp_path / "direct.db")
    assert through["messages"] and through["votes"]  # the workload is there, not two empty indexes


def test_a_result_cap_is_split_like_a_span_cap(run: ChainRun, tmp_path: Path) -> None:
    """A provider that caps the logs of one answer (not the blocks) refuses dense ranges only."""
    with FaultyRpc(run.rpc_url, Faults(max_span=None, max_results=3, seed=3)) as proxy:
        through = index(proxy.url, run, tmp_path / "capped.db", retry=FAST_RETRY)
    assert proxy.counts["results_refused"] > 0
    assert through == index(run.rpc_url, run, tmp_path / "direct.db")


def test_a_rate_limited_client_waits_as_long_as_the_provider_asks(run: ChainRun) -> None:
    waits = Waits()
    with FaultyRpc(run.rpc_url, Faults(max_span=None, rate_limited=1.0, retry_after=2.5)) as proxy:
        client = RpcClient(proxy.url, retry=RetryPolicy(initial=0.001, maximum=0.01, attempts=4), stop=waits)
        with pytest.raises(TransportError, match="429"):
            client.block_number()
        client.close()
    assert waits.asked == [2.5, 2.5, 2.5]
    assert proxy.counts["rate_limited"] == 4


def test_retry_after_and_rate_limit_answers() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("0.25") == 0.25
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: at once
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
    assert retry_after_seconds("100000") == 300.0  # capped
    infura = RpcError(
        "eth_getLogs",
        {"code": -32005, "message": "project ID request rate exceeded", "data": {"backoff_seconds": 30}},
    )
    assert infura.rate_limited and infura.retry_after == 30.0
    too_wide = RpcError("eth_getLogs", {"code": -32005, "message": "query returned more than 10000 results"})
    assert not too_wide.rate_limited and too_wide.retry_after is None
    reason = "0x08c379a0" + encode(["string"], ["rate limit exceeded"]).hex()  # a contract's Error(string)
    reverted = RpcError("eth_call", {"code": 3, "message": "execution reverted: rate limit exceeded", "data": reason})
    assert not reverted.rate_limited  # a revert is an answer about the call, raised, not waited out


def _hub_error(name: str, *args: int) -> str:
    [error] = [e for e in artifacts.load("ChoirHub").abi if e.get("type") == "error" and e["name"] == name]
    types = [i["type"] for i in error["inputs"]]
    return "0x" + (keccak(text=f"{name}({','.join(types)})")[:4] + encode(types, list(args))).hex()


def test_an_error_answer_names_the_custom_error() -> None:
    data = _hub_error("StaleRound", 3, 7)
    err = RpcError(
        "eth_estimateGas", {"code": 3, "message": f"execution reverted: custom error {data[:10]}", "data": data}
    )
    assert str(err).startswith("eth_estimateGas: execution reverted: The round is not above the last accepted")
    assert str(err).endswith(" StaleRound(round=3, lastRound=7) (code 3)")
    assert data[2:] not in str(err)  # no raw bytes
    assert decode(err.data).code == "StaleRound"
    assert err.data == data
    nested = RpcError("eth_call", {"code": -32000, "message": "execution reverted", "data": {"data": data}})
    assert "StaleRound(round=3, lastRound=7)" in str(nested)
    panic = RpcError("eth_call", {"code": 3, "message": "execution reverted", "data": "0x4e487b71" + "00" * 31 + "11"})
    assert "arithmetic overflow or underflow" in str(panic)
    bare = RpcError("eth_estimateGas", {"code": 3, "message": "execution reverted", "data": "0x"})
    assert str(bare) == "eth_estimateGas: execution reverted: the transaction reverted without a reason (code 3)"
    plain = RpcError("eth_call", {"code": -32000, "message": "header not found"})
    assert plain.data is None and str(plain) == "eth_call: header not found (code -32000)"


def test_a_refused_round_names_the_custom_error(run: ChainRun) -> None:
    """The pricer's round the chain refuses: the log says `StaleRound(round=.., lastRound=..)`, not raw bytes."""
    hub = run.deployment.hub
    rpc = RpcClient(run.rpc_url, retry=FAST_RETRY)
    try:
        oracle = Contract(rpc, hub.address, artifacts.load("ChoirHub").abi)
        last = hub.functions.lastRound().call()
        price = hub.functions.pricePoint(1).call()[0]
        data = oracle.calldata("updatePrices", [1], [price], last)  # a round number already used
        sender = Sender(rpc, run.actors.pricer, run.chain.chain_id)
        with pytest.raises(RoundRejected, match=rf"StaleRound\(round={last}, lastRound={last}\)"):
            sender.submit(hub.address, data, sender.nonces()[1], f"round {last}")
    finally:
        rpc.close()


def test_a_mined_round_that_reverted_names_the_custom_error(run: ChainRun) -> None:
    """A round mined and reverted (sent without estimation): `RoundReverted` names the error the replay meets."""
    hub = run.deployment.hub
    rpc = RpcClient(run.rpc_url, retry=FAST_RETRY)
    try:
        oracle = Contract(rpc, hub.address, artifacts.load("ChoirHub").abi)
        last = hub.functions.lastRound().call()
        price = hub.functions.pricePoint(1).call()[0]
        data = oracle.calldata("updatePrices", [1], [price], last)
        sender = Sender(rpc, run.actors.pricer, run.chain.chain_id)
        sent = sender.send(hub.address, data, sender.nonces()[1], 200_000)
        with pytest.raises(RoundReverted, match=rf"reverted in transaction {sent.tx_hash}: .*StaleRound\(round={last}"):
            sender.confirm(sent, 30, threading.Event(), f"round {last}")
    finally:
        rpc.close()
