"""Live reads from the chain for the read routes: batched `eth_call`s, and a thread governor's proposals.

Values that must be current (stake prices, balances, approval windows, proposal states) are read from the node
rather than the indexer. Many calls go out as one JSON-RPC batch, so a page of 100 threads costs one round
trip. Calls are encoded and decoded with `eth_abi` from the contracts' ABIs, once per function (`fn`), not
through web3's `Contract` objects, whose construction per request (one per thread clone) cost more than the
rest of a request. A node that does not answer, or fails a call, is a 503 `chain_unavailable`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

import requests
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector
from eth_utils.abi import collapse_if_tuple
from web3 import Web3
from web3.exceptions import Web3Exception
from web3.types import RPCEndpoint

from api.blockview import current_block
from api.errors import ApiError
from api.logs import proposal_created
from api.state import Gateway
from choir_chain import artifacts

BATCH = 200
"""Requests per JSON-RPC batch."""

PROPOSAL_STATES = ("Pending", "Active", "Canceled", "Defeated", "Succeeded", "Queued", "Expired", "Executed")
"""OpenZeppelin `IGovernor.ProposalState`, by value. The gateway reports an `Executed` proposal whose calls reverted
(`ThreadGovernor.executionFailed`: nothing moved, and it can never run again) as `Failed`."""


@contextmanager
def chain_errors() -> Iterator[None]:
    """Turn a node that fails or does not answer into a 503 in the error model."""
    try:
        yield
    except ApiError:
        raise
    except (requests.RequestException, Web3Exception, OSError) as err:
        raise ApiError(503, "chain_unavailable", f"the chain node did not answer: {type(err).__name__}") from err


@dataclass(frozen=True)
class Fn:
    """A view function of a contract: its selector and its argument and result types."""

    signature: str
    selector: bytes
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    def call(self, to: str, *args: Any) -> Call:
        return Call(self, to, args)


@dataclass(frozen=True)
class Call:
    fn: Fn
    to: str
    args: tuple[Any, ...]

    def params(self) -> list[Any]:
        data = self.fn.selector + encode(list(self.fn.inputs), list(self.args))
        return [{"to": self.to, "data": "0x" + data.hex()}, block_tag()]


@cache
def fn(contract: str, name: str) -> Fn:
    """The function `name` of contract `contract` (its only overload), from the compiled ABI."""
    (entry,) = [e for e in artifacts.load(contract).abi if e.get("type") == "function" and e.get("name") == name]
    inputs = tuple(collapse_if_tuple(i) for i in entry["inputs"])
    outputs = tuple(collapse_if_tuple(o) for o in entry["outputs"])
    signature = f"{name}({','.join(inputs)})"
    return Fn(signature, function_signature_to_4byte_selector(signature), inputs, outputs)


LATEST_BLOCK = object()
"""Stands for `eth_getBlockByNumber` of the read's block in `call_many` (answers the block as a dict of hex fields)."""


def block_tag() -> str:
    """The block chain reads are made at: the indexed block a cached read answers for (`api.blockview`), so an
    answer never mixes two blocks; `latest` outside such a read (live routes, transaction building)."""
    block = current_block()
    return "latest" if block is None or block.hash is None else hex(block.number)


def call_many(gw: Gateway, calls: Sequence[Call | object]) -> list[Any]:
    """The results of `calls`, in order, in JSON-RPC batches of `BATCH`: a single output is returned as is
    (a struct as its tuple), several as a tuple."""
    results: list[Any] = []
    with chain_errors():
        for start in range(0, len(calls), BATCH):
            chunk = calls[start : start + BATCH]
            batch: list[tuple[RPCEndpoint, Any]] = []
            for c in chunk:
                if isinstance(c, Call):
                    batch.append((RPCEndpoint("eth_call"), c.params()))
                else:
                    batch.append((RPCEndpoint("eth_getBlockByNumber"), [block_tag(), False]))
            provider: Any = gw.w3.provider  # an HTTPProvider (`Gateway.connect`), which batches
            answers = provider.make_batch_request(batch)
            if not isinstance(answers, list) or len(answers) != len(chunk):
                raise ApiError(503, "chain_unavailable", "the chain node answered the batch with an error")
            for c, answer in zip(chunk, sorted(answers, key=lambda a: int(a.get("id", 0))), strict=True):
                if answer.get("error") is not None or "result" not in answer:
                    what = c.fn.signature if isinstance(c, Call) else "eth_getBlockByNumber"
                    raise ApiError(503, "chain_unavailable", f"the chain node failed {what}: {answer.get('error')}")
                if isinstance(c, Call):
                    values = decode(list(c.fn.outputs), bytes.fromhex(answer["result"][2:]))
                    results.append(values[0] if len(values) == 1 else values)
                else:
                    results.append(answer["result"])
    return results


def governor_of(gw: Gateway, thread_id: int, indexed: str | None) -> str | None:
    """The thread's governor: the indexed one, else the hub's answer (the indexer may lag behind)."""
    if indexed:
        return indexed
    (found,) = call_many(gw, [fn("ChoirHub", "governorOf").call(gw.hub.address, thread_id)])
    return None if int(found, 16) == 0 else Web3.to_checksum_address(found)


def proposals(gw: Gateway, governor_address: str) -> list[dict[str, Any]]:
    """Every proposal of the governor, oldest first: its `ProposalCreated` log with the live state (`Failed` for
    an execution whose calls reverted), votes and eta (`eta` None until queued)."""
    address = Web3.to_checksum_address(governor_address)
    with chain_errors():
        created = proposal_created(gw, address)
    names = ("state", "proposalVotes", "proposalEta", "executionFailed")
    reads = [fn("ThreadGovernor", n) for n in names]
    calls: list[Call | object] = []
    for args in created:
        calls += [read.call(address, args["proposalId"]) for read in reads]
    live = call_many(gw, calls)
    out: list[dict[str, Any]] = []
    for n, args in enumerate(created):
        now, (against, for_, abstain), when, failed = live[4 * n : 4 * n + 4]
        out.append(
            {
                "proposal_id": str(args["proposalId"]),
                "proposer": Web3.to_checksum_address(args["proposer"]),
                "description": args["description"],
                "state": "Failed" if failed else PROPOSAL_STATES[now],
                "votes_for": str(for_),
                "votes_against": str(against),
                "votes_abstain": str(abstain),
                "snapshot": int(args["voteStart"]),
                "deadline": int(args["voteEnd"]),
                "eta": int(when) or None,
                "targets": [Web3.to_checksum_address(t) for t in args["targets"]],
                "values": [str(v) for v in args["values"]],
                "calldatas": list(args["calldatas"]),
            }
        )
    return out


@dataclass(frozen=True)
class HubValues:
    """The hub's price rule inputs at one block, and that block's timestamp."""

    heartbeat: int
    fallback_price: int
    timestamp: int


_LOCK = threading.Lock()


def hub_values(gw: Gateway) -> HubValues:
    """The hub's heartbeat and fallback price and the timestamp of the read's block: one JSON-RPC batch per block,
    shared by every request answered for that block (a read outside a pinned block asks each time)."""
    block = current_block()
    key = None if block is None or block.hash is None else (block.number, block.hash)
    cached = gw.per_block.get(key) if key is not None else None
    if isinstance(cached, HubValues):
        return cached
    hub = gw.hub.address
    heartbeat, fallback, header = call_many(
        gw, [fn("ChoirHub", "heartbeat").call(hub), fn("ChoirHub", "fallbackPrice").call(hub), LATEST_BLOCK]
    )
    values = HubValues(int(heartbeat), int(fallback), int(header["timestamp"], 16))
    if key is not None:
        with _LOCK:
            if len(gw.per_block) > 64:  # recent blocks only
                gw.per_block.clear()
            gw.per_block[key] = values
    return values


def initial_approval_window(gw: Gateway, thread: str, created_tx: str) -> int:
    """The approval window a thread was created with (the hub's default then), read once: it changes only through
    governance, which the index records (`threads.approval_window`)."""
    key = (thread, created_tx)
    if key not in gw.per_thread:
        (window,) = call_many(gw, [fn("ThreadDAO", "approvalWindow").call(thread)])
        gw.per_thread[key] = int(window)
    return gw.per_thread[key]
