"""Routes: unsigned transactions for every user action (`POST /tx/{action}`) and the relay of signed ones
(`POST /tx/relay`).

An action's answer is checked on chain first: `eth_call` and `eth_estimateGas` from `from` at the latest block. A
revert is a 409 whose `code` is the contract's custom error (`StakeBelowPrice`, `AlreadyVoted`, ...) and whose
message has the error's notice and decoded arguments. Amounts and ids are accepted as decimal strings or JSON
integers; addresses in any case.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError
from web3 import Web3

from api import ballots, relay, txbuilder
from api.departures import departed_coauthors
from api.deps import GatewayDep
from api.errors import ERROR_RESPONSES, ApiError, ErrorBody
from api.schemas.ballot import TypedBallot
from api.state import Gateway
from api.txbuilder import UnsignedTx, encode, governor_contract, simulate, thread_address, thread_contract
from choir_chain.protocol.author_kind import parse_author_kind

router = APIRouter(prefix="/tx", tags=["transactions"])

UINT256_MAX = 2**256 - 1
_DECIMAL = re.compile(r"[0-9]{1,78}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_BYTES32 = re.compile(r"0x[0-9a-fA-F]{64}")


def _uint(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PydanticCustomError("uint", "must be a non-negative integer (a decimal string or a JSON integer)")
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value):
            raise PydanticCustomError("uint", 'must be a decimal integer string such as "1000000000000000000"')
        value = int(value)
    if not 0 <= value <= UINT256_MAX:
        raise PydanticCustomError("uint", "must be between 0 and 2**256 - 1")
    return value


def _address(value: Any) -> str:
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
        raise PydanticCustomError("address", "must be a 20-byte hex address (0x followed by 40 hex digits)")
    return Web3.to_checksum_address(value)


def _bytes32(value: Any) -> str:
    if not isinstance(value, str) or not _BYTES32.fullmatch(value):
        raise PydanticCustomError("bytes32", "must be 32 bytes of hex (0x followed by 64 hex digits)")
    return value.lower()


Uint256 = Annotated[
    int,
    BeforeValidator(_uint),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "pattern": "^[0-9]{1,78}$"}, {"type": "integer", "minimum": 0}]},
        mode="validation",
    ),
]
Address = Annotated[
    str, BeforeValidator(_address), WithJsonSchema({"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"})
]
Bytes32 = Annotated[
    str, BeforeValidator(_bytes32), WithJsonSchema({"type": "string", "pattern": "^0x[0-9a-fA-F]{64}$"})
]


# ----------------------------------------------------------------------------------------------------------------
# Requests and the answer
# ----------------------------------------------------------------------------------------------------------------


AUTHOR_KIND_DOC = (
    "Who wrote the message, declared on chain: `human` (a person, ugc), `ai` (an AI on its own, aigc) or "
    "`ai_prompted` (an AI on a person's prompt, aiugc)."
)
AuthorKindIn = Literal["human", "ai", "ai_prompted"]


class ActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    sender: Address = Field(alias="from", description="The account that will sign and send the transaction.")

    def fields(self) -> set[str]:
        """Names of the request's fields, as the client spells them."""
        return {"from", *(name for name in type(self).model_fields if name != "sender")}


class TxRequest(ActionRequest):
    thread_id: Uint256


class CreateThreadRequest(ActionRequest):
    content_hash: Bytes32 = Field(description="keccak256 of the root message's UTF-8 body.")
    author_kind: AuthorKindIn = Field(default="human", description=AUTHOR_KIND_DOC)


class ApproveRequest(TxRequest):
    amount: Uint256 = Field(description="CHOIR (wei) the thread may pull, e.g. a spec's stake.")


class SubmitSpecRequest(TxRequest):
    content_hash: Bytes32 = Field(description="keccak256 of the UTF-8 body.")
    citations: list[Uint256] = Field(default_factory=list, max_length=64, description="Global ids of cited messages.")
    stake: Uint256 = Field(description="CHOIR (wei) to escrow, at least the thread's price.")
    author_kind: AuthorKindIn = Field(default="human", description=AUTHOR_KIND_DOC)
    max_price: Uint256 | None = Field(
        default=None,
        description="The highest thread price (wei) the author accepts: the spec is refused (`PriceAboveMax`) if the "
        "price rose above it before the transaction lands. Omitted: any price up to the stake.",
    )


class PostRequest(TxRequest):
    content_hash: Bytes32
    citations: list[Uint256] = Field(default_factory=list, max_length=64)
    author_kind: AuthorKindIn = Field(default="human", description=AUTHOR_KIND_DOC)


class VoteRequest(TxRequest):
    spec_id: Uint256
    approve: StrictBool


class SpecRequest(TxRequest):
    spec_id: Uint256


class ThreadRequest(TxRequest):
    pass


class Transfer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Address
    amount: Uint256


class ProposeRequest(TxRequest):
    approval_window: Uint256 | None = Field(default=None, description="New approval window in seconds, if any.")
    approval_threshold: Uint256 | None = Field(
        default=None, description="New approval threshold in basis points of the votes cast (5001 to 10000), if any."
    )
    transfers: list[Transfer] = Field(
        default_factory=list, max_length=16, validate_default=True, description="Treasury transfers to make."
    )
    description: str = Field(min_length=1, max_length=10_000)

    @field_validator("transfers")
    @classmethod
    def _some_action(cls, transfers: list[Transfer], info: ValidationInfo) -> list[Transfer]:
        if not transfers and info.data.get("approval_window") is None and info.data.get("approval_threshold") is None:
            raise PydanticCustomError(
                "no_action", "a proposal needs at least one transfer, an approval_window or an approval_threshold"
            )
        return transfers


class CastVoteRequest(TxRequest):
    proposal_id: Uint256
    support: Literal[0, 1, 2] = Field(description="0 against, 1 for, 2 abstain.")


class ProposalRequest(TxRequest):
    proposal_id: Uint256


class ClaimRequest(TxRequest):
    spec_ids: list[Uint256] = Field(min_length=1, max_length=256)


class UnsignedTransaction(BaseModel):
    """A transaction to sign (the wallet adds nonce and fees) and send, e.g. through `POST /tx/relay`."""

    model_config = ConfigDict(populate_by_name=True)

    sender: str = Field(alias="from")
    to: str
    data: str
    value: str = "0"
    chainId: int  # the JSON-RPC spelling wallets expect
    gas: int = Field(description="The node's estimate plus 20%.")

    @classmethod
    def of(cls, tx: UnsignedTx) -> UnsignedTransaction:
        return cls.model_validate(
            {"from": tx.sender, "to": tx.to, "data": tx.data, "chainId": tx.chain_id, "gas": tx.gas}
        )


class BallotRequest(CastVoteRequest):
    """`from` is the voter: the account that signs the ballot."""


class RelayVoteRequest(CastVoteRequest):
    signature: str = Field(
        pattern=r"^0x[0-9a-fA-F]{130}$",
        description="The voter's EIP-712 signature of the ballot `POST /tx/ballot` answers (65 bytes, 0x-hex).",
    )


class RelayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    raw: str = Field(
        pattern=r"^0x([0-9a-fA-F]{2})+$",
        max_length=2 + 2 * relay.MAX_RAW_BYTES,
        description="The signed transaction, 0x-hex (what `eth_sendRawTransaction` takes).",
    )


class RelayAnswer(BaseModel):
    tx_hash: str


RESPONSES = {**ERROR_RESPONSES, 503: {"model": ErrorBody, "description": "The chain's node does not answer"}}
DOCS: dict[str, Any] = {"response_model_by_alias": True, "responses": RESPONSES}


def _checked(gw: Gateway, body: ActionRequest, to: str, data: str) -> UnsignedTransaction:
    return UnsignedTransaction.of(simulate(gw, body.sender, to, data, body.fields()))


def _kind(name: str) -> int:
    """The on-chain `uint8` of an author kind name (already validated by the request model)."""
    return int(parse_author_kind(name))


# ----------------------------------------------------------------------------------------------------------------
# Actions
# ----------------------------------------------------------------------------------------------------------------


@router.post("/createThread", summary="Create a thread with its root message", **DOCS)
def create_thread(body: CreateThreadRequest, gw: GatewayDep) -> UnsignedTransaction:
    call = gw.hub.functions.createThread(body.content_hash, _kind(body.author_kind))
    return _checked(gw, body, gw.hub.address, encode(call))


@router.post("/approve", summary="Allow a thread to pull CHOIR (a spec's stake)", **DOCS)
def approve(body: ApproveRequest, gw: GatewayDep) -> UnsignedTransaction:
    thread = thread_address(gw, body.thread_id)
    return _checked(gw, body, gw.token.address, encode(gw.token.functions.approve(thread, body.amount)))


@router.post("/submitSpec", summary="Submit a spec with a stake", **DOCS)
def submit_spec(body: SubmitSpecRequest, gw: GatewayDep) -> UnsignedTransaction:
    thread = thread_contract(gw, body.thread_id)
    kind = _kind(body.author_kind)
    if body.max_price is None:
        call = thread.functions.submitSpec(body.content_hash, body.citations, body.stake, kind)
    else:
        bounded = thread.functions.submitSpecWithMaxPrice
        call = bounded(body.content_hash, body.citations, body.stake, kind, body.max_price)
    return _checked(gw, body, thread.address, encode(call))


@router.post("/post", summary="Post as a co-author", **DOCS)
def post(body: PostRequest, gw: GatewayDep) -> UnsignedTransaction:
    thread = thread_contract(gw, body.thread_id)
    call = thread.functions.post(body.content_hash, body.citations, _kind(body.author_kind))
    return _checked(gw, body, thread.address, encode(call))


@router.post("/vote", summary="Approve or deny a spec", **DOCS)
def vote(body: VoteRequest, gw: GatewayDep) -> UnsignedTransaction:
    thread = thread_contract(gw, body.thread_id)
    return _checked(gw, body, thread.address, encode(thread.functions.vote(body.spec_id, body.approve)))


@router.post("/settle", summary="Settle a spec", **DOCS)
def settle(body: SpecRequest, gw: GatewayDep) -> UnsignedTransaction:
    """`settle`, or `settleWithDepartures` when eligible co-authors left without voting: exits never block a
    decision, and a spec every eligible co-author left unvoted is refunded (protocol section 3, r2)."""
    thread = thread_contract(gw, body.thread_id)
    departed = departed_coauthors(gw, thread, body.thread_id, body.spec_id)
    fn = (
        thread.functions.settleWithDepartures(body.spec_id, departed)
        if departed
        else thread.functions.settle(body.spec_id)
    )
    return _checked(gw, body, thread.address, encode(fn))


@router.post("/exit", summary="Leave a thread with a pro-rata share of its treasury", **DOCS)
def exit_thread(body: ThreadRequest, gw: GatewayDep) -> UnsignedTransaction:
    thread = thread_contract(gw, body.thread_id)
    return _checked(gw, body, thread.address, encode(thread.functions.exit()))


@router.post("/createGovernor", summary="Give a thread its governor", **DOCS)
def create_governor(body: ThreadRequest, gw: GatewayDep) -> UnsignedTransaction:
    thread_address(gw, body.thread_id)
    return _checked(gw, body, gw.hub.address, encode(gw.hub.functions.createGovernor(body.thread_id)))


@router.post("/propose", summary="Propose treasury transfers and/or a new approval window or threshold", **DOCS)
def propose(body: ProposeRequest, gw: GatewayDep) -> UnsignedTransaction:
    governor = governor_contract(gw, body.thread_id)
    thread = thread_contract(gw, body.thread_id)
    calldatas = [encode(thread.functions.transferTreasury(t.to, t.amount)) for t in body.transfers]
    if body.approval_window is not None:
        calldatas.append(encode(thread.functions.setApprovalWindow(body.approval_window)))
    if body.approval_threshold is not None:
        calldatas.append(encode(thread.functions.setApprovalThreshold(body.approval_threshold)))
    targets, values = [thread.address] * len(calldatas), [0] * len(calldatas)
    call = governor.functions.propose(targets, values, calldatas, body.description)
    return _checked(gw, body, governor.address, encode(call))


@router.post("/castVote", summary="Vote on a governance proposal", **DOCS)
def cast_vote(body: CastVoteRequest, gw: GatewayDep) -> UnsignedTransaction:
    governor = governor_contract(gw, body.thread_id)
    return _checked(gw, body, governor.address, encode(governor.functions.castVote(body.proposal_id, body.support)))


@router.post("/queue", summary="Queue a passed proposal", **DOCS)
def queue(body: ProposalRequest, gw: GatewayDep) -> UnsignedTransaction:
    governor = governor_contract(gw, body.thread_id)
    p = txbuilder.find_proposal(gw, governor, body.proposal_id)
    call = governor.functions.queue(p.targets, p.values, p.calldatas, p.description_hash)
    return _checked(gw, body, governor.address, encode(call))


@router.post(
    "/execute",
    summary="Execute a queued proposal after its delay",
    description="Refused (409, named after the calls' error) when the proposal's calls would revert now: a failed "
    "execution is final, so the gateway does not build one.",
    **DOCS,
)
def execute(body: ProposalRequest, gw: GatewayDep) -> UnsignedTransaction:
    governor = governor_contract(gw, body.thread_id)
    p = txbuilder.find_proposal(gw, governor, body.proposal_id)
    call = governor.functions.execute(p.targets, p.values, p.calldatas, p.description_hash)
    tx = _checked(gw, body, governor.address, encode(call))  # the proposal's state and eta
    txbuilder.preview_execution(gw, governor, p.targets, p.values, p.calldatas)
    return tx


@router.post("/claimCuratorRewards", summary="Claim a denier's shares of denied or split specs", **DOCS)
def claim_curator_rewards(body: ClaimRequest, gw: GatewayDep) -> UnsignedTransaction:
    thread = thread_contract(gw, body.thread_id)
    return _checked(gw, body, thread.address, encode(thread.functions.claimCuratorRewards(body.spec_ids)))


# ----------------------------------------------------------------------------------------------------------------
# Relay
# ----------------------------------------------------------------------------------------------------------------


@router.post(
    "/relay",
    status_code=202,
    summary="Broadcast a signed transaction to a contract of this deployment",
    responses=RESPONSES,
)
def relay_transaction(body: RelayRequest, gw: GatewayDep) -> RelayAnswer:
    raw = bytes.fromhex(body.raw[2:])
    tx = relay.decode(raw)
    relay.check(gw, tx)
    return RelayAnswer(tx_hash=relay.broadcast(gw, raw))


@router.post(
    "/ballot",
    summary="The EIP-712 ballot a voter signs for a gasless governance vote",
    description="The typed data to pass to the wallet's `eth_signTypedData_v4`: the governor's domain and the "
    "voter's next nonce. Send the signature to `POST /tx/relayVote`.",
    responses=RESPONSES,
)
def ballot(body: BallotRequest, gw: GatewayDep) -> TypedBallot:
    governor = governor_contract(gw, body.thread_id)
    return ballots.typed_ballot(gw, governor, body.proposal_id, body.support, body.sender)


@router.post(
    "/relayVote",
    status_code=202,
    summary="Cast a signed governance vote; the gateway's relayer pays the gas",
    description="Checks that `signature` is `from`'s signature of the ballot (422 `bad_signature`), simulates "
    "`castVoteBySig` (409 named after a revert) and sends it from the relayer account (503 `relay_disabled` when "
    "the gateway has none).",
    responses=RESPONSES,
)
def relay_vote(body: RelayVoteRequest, gw: GatewayDep) -> RelayAnswer:
    governor = governor_contract(gw, body.thread_id)
    signature = bytes.fromhex(body.signature[2:])
    tx_hash = ballots.relay_vote(gw, governor, body.proposal_id, body.support, body.sender, signature, body.fields())
    return RelayAnswer(tx_hash=tx_hash)


@router.post("/{action}", include_in_schema=False)
def unknown_action(action: str) -> None:
    raise ApiError(404, "unknown_action", f"no transaction action {action!r}", "action")
