"""Unsigned transactions for the gateway's `POST /tx/{action}`: resolve the thread and its governor, encode the
call, and check on chain (`eth_call`, then `eth_estimateGas`, from the sender, at the latest block) that it would
succeed now. A revert becomes a 409 named after the contract's custom error (see `choir_chain.chain.revert`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests
from eth_utils import to_checksum_address
from web3.contract import Contract
from web3.exceptions import ContractLogicError, Web3RPCError

from api.errors import ApiError
from api.logs import proposal_created
from api.state import Gateway
from choir_chain.chain import revert
from choir_chain.chain.gas import gas_limit
from choir_chain.chain.rpc import RpcError
from choir_chain.protocol.governance import Proposal

ZERO_ADDRESS = "0x" + "00" * 20

ERROR_FIELDS: dict[str, tuple[str, ...]] = {
    "UnknownThread": ("thread_id",),
    "GovernorExists": ("thread_id",),
    "OnlyCoauthor": ("from",),
    "NotCoauthor": ("from",),
    "AlreadyCoauthor": ("from",),
    "AlreadyVoted": ("from",),
    "NotEligibleForSpec": ("from",),
    "ExitCooldown": ("from",),
    "GovernorAlreadyCastVote": ("from",),
    "GovernorInsufficientProposerVotes": ("from",),
    "UnknownSpec": ("spec_id",),
    "SpecNotPending": ("spec_id",),
    "VotingClosed": ("spec_id",),
    "SettleTooEarly": ("spec_id",),
    "NoCuratorReward": ("spec_ids",),
    "ZeroStake": ("stake",),
    "StakeTooLarge": ("stake",),
    "StakeBelowPrice": ("stake",),
    "PriceAboveMax": ("max_price",),
    "PendingSpecExists": ("from",),
    "ERC20InsufficientAllowance": ("stake", "amount"),
    "ERC20InsufficientBalance": ("stake", "amount"),
    "EmptyContent": ("content_hash",),
    "UnknownAuthorKind": ("author_kind",),
    "TooManyCitations": ("citations",),
    "UnknownMessage": ("citations",),
    "DuplicateCitation": ("citations",),
    "InvalidApprovalWindow": ("approval_window",),
    "InvalidApprovalThreshold": ("approval_threshold",),
    "InsufficientTreasury": ("transfers",),
    "ZeroAddress": ("transfers",),
    "GovernorNonexistentProposal": ("proposal_id",),
    "GovernorUnexpectedProposalState": ("proposal_id",),
    "GovernorAlreadyQueuedProposal": ("proposal_id",),
    "ExecutionTooEarly": ("proposal_id",),
    "GovernorInvalidVoteType": ("support",),
}
"""The request field a custom error is about (the first of these the request has)."""


@dataclass(frozen=True)
class UnsignedTx:
    sender: str
    to: str
    data: str
    chain_id: int
    gas: int


@contextlib.contextmanager
def node_errors() -> Iterator[None]:
    """An unreachable, failing or rate-limiting node is a 503 `node_unavailable`, not a stack trace."""
    try:
        yield
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise ApiError(503, "node_unavailable", f"the chain's node does not answer: {type(exc).__name__}") from exc
    except requests.HTTPError as exc:  # a provider's 429 (rate limit) or 5xx: say so, never guess an answer
        status = exc.response.status_code if exc.response is not None else "?"
        what = "rate-limits the gateway" if status == 429 else "failed"
        raise ApiError(503, "node_unavailable", f"the chain's node {what} (HTTP {status})") from exc
    except Web3RPCError as exc:  # an error answer no route expected (a rate limit said in JSON-RPC, ...)
        raise ApiError(503, "node_unavailable", f"the chain's node answered with an error: {node_error(exc)}") from exc


def node_error(exc: Web3RPCError) -> RpcError:
    """A web3 error answer as the chain layer's `RpcError` (rate limits recognised, reverts decoded)."""
    response: Any = exc.rpc_response or {}
    return RpcError("node", response.get("error") or {"message": str(exc)})


def refusal(data: str | None, fields: set[str] | frozenset[str] = frozenset()) -> ApiError:
    """The 409 for revert `data`, naming the request field the error is about when the request has it."""
    decoded = revert.decode(data)
    field = next((f for f in ERROR_FIELDS.get(decoded.code, ()) if f in fields), None)
    return ApiError(409, decoded.code, decoded.message, field)


def call_view(gw: Gateway, fn: Any) -> Any:
    """`fn.call()` at the latest block; a revert is a 409 with its decoded error."""
    with node_errors():
        try:
            return fn.call(block_identifier="latest")
        except ContractLogicError as exc:
            raise refusal(revert.revert_data(exc)) from exc


def thread_address(gw: Gateway, thread_id: int) -> str:
    """The thread's clone address, from the hub (404 `unknown_thread`)."""
    with node_errors():
        try:
            address: str = gw.hub.functions.threadAddress(thread_id).call(block_identifier="latest")
        except ContractLogicError as exc:
            decoded = revert.decode(revert.revert_data(exc))
            if decoded.code == "UnknownThread":
                raise ApiError(404, "unknown_thread", f"thread {thread_id} does not exist", "thread_id") from exc
            raise ApiError(409, decoded.code, decoded.message, "thread_id") from exc
    return to_checksum_address(address)


def thread_contract(gw: Gateway, thread_id: int) -> Contract:
    return gw.contract("ThreadDAO", thread_address(gw, thread_id))


def governor_contract(gw: Gateway, thread_id: int) -> Contract:
    """The thread's governor (404 `unknown_thread`, or 404 `no_governor` before `createGovernor`)."""
    thread_address(gw, thread_id)
    address = call_view(gw, gw.hub.functions.governorOf(thread_id))
    if int(address, 16) == 0:
        raise ApiError(
            404, "no_governor", f"thread {thread_id} has no governor yet (POST /tx/createGovernor)", "thread_id"
        )
    return gw.contract("ThreadGovernor", address)


def simulate(gw: Gateway, sender: str, to: str, data: str, fields: set[str]) -> UnsignedTx:
    """Check that `sender` calling `to` with `data` succeeds at the latest block; the unsigned transaction with the
    gas limit `choir_chain.chain.gas_limit` gives its estimate. A revert is a 409 named after its custom error."""
    tx: Any = {"from": sender, "to": to, "data": data, "value": 0}
    with node_errors():
        try:
            gw.w3.eth.call(tx, "latest")
            estimate = gw.w3.eth.estimate_gas(tx, "latest")
        except ContractLogicError as exc:
            raise refusal(revert.revert_data(exc), fields) from exc
        except Web3RPCError as exc:  # a refusal that is not a revert (e.g. the block gas limit)
            error = node_error(exc)
            if error.rate_limited:  # the node did not judge the transaction: not a 409
                message = f"the chain's node rate-limits the gateway: {error.message}"
                raise ApiError(503, "node_unavailable", message) from exc
            raise ApiError(409, "rejected_by_node", f"the node refuses the transaction: {error.message}") from exc
    return UnsignedTx(sender, to, data, gw.manifest.chain_id, gas_limit(estimate))


def preview_execution(
    gw: Gateway, governor: Contract, targets: list[str], values: list[int], calldatas: list[bytes]
) -> None:
    """Refuse to build an `execute` whose calls would revert now: the governor would record the failure and the
    proposal could never run again. The calls are tried as the governor makes them (`executeCalls`, called from the
    governor itself); a revert is a 409 named after the calls' error (`InsufficientTreasury`, ...)."""
    data = encode(governor.functions.executeCalls(targets, values, calldatas))
    tx: Any = {"from": governor.address, "to": governor.address, "data": data, "value": 0}
    with node_errors():
        try:
            gw.w3.eth.call(tx, "latest")
        except ContractLogicError as exc:
            decoded = revert.decode(revert.revert_data(exc))
            message = f"{decoded.message}; executed now, the proposal would fail for good (a failed execution is final)"
            raise ApiError(409, decoded.code, message, "proposal_id") from exc


def encode(fn: Any) -> str:
    """The calldata of a bound contract function."""
    data: str = fn._encode_transaction_data()
    return data


# ----------------------------------------------------------------------------------------------------------------
# Logs and proposals
# ----------------------------------------------------------------------------------------------------------------


_proposals: dict[tuple[str, int], Proposal] = {}
_proposals_lock = threading.Lock()


def find_proposal(gw: Gateway, governor: Contract, proposal_id: int) -> Proposal:
    """The proposal's targets, values, calldatas and description from the governor's `ProposalCreated` logs
    (404 `unknown_proposal`). A proposal id is the hash of its content, so a found proposal is cached."""
    key = (governor.address, proposal_id)
    with _proposals_lock:
        cached = _proposals.get(key)
    if cached is not None:
        return cached
    with node_errors():
        created = proposal_created(gw, governor.address)
    for args in created:
        if args["proposalId"] == proposal_id:
            proposal = Proposal(
                [to_checksum_address(t) for t in args["targets"]],
                [int(v) for v in args["values"]],
                [bytes.fromhex(c[2:]) for c in args["calldatas"]],
                str(args["description"]),
            )
            with _proposals_lock:
                _proposals[key] = proposal
            return proposal
    raise ApiError(404, "unknown_proposal", f"governor {governor.address} has no proposal {proposal_id}", "proposal_id")
