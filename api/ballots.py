"""Gasless governance votes: the EIP-712 `Ballot` a voter signs (`POST /tx/ballot`) and its relay
(`POST /tx/relayVote`), which sends `castVoteBySig` from the gateway's relayer account so the voter pays no gas.

The signature is recovered before anything is sent (a wrong one is a 422, never a transaction the relayer pays
for), and the call is simulated from the relayer first (a revert is a 409 named after its custom error)."""

from __future__ import annotations

import threading
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from api.errors import ApiError
from api.schemas.ballot import BallotDomain, BallotMessage, BallotTypes, TypedBallot, TypedField
from api.state import Gateway
from api.txbuilder import call_view, encode, node_errors, simulate

BALLOT_TYPES = BallotTypes(
    EIP712Domain=[
        TypedField(name="name", type="string"),
        TypedField(name="version", type="string"),
        TypedField(name="chainId", type="uint256"),
        TypedField(name="verifyingContract", type="address"),
    ],
    Ballot=[
        TypedField(name="proposalId", type="uint256"),
        TypedField(name="support", type="uint8"),
        TypedField(name="voter", type="address"),
        TypedField(name="nonce", type="uint256"),
    ],
)

_send_lock = threading.Lock()
"""One relayed transaction at a time: each takes the relayer's next nonce."""


def typed_ballot(gw: Gateway, governor: Contract, proposal_id: int, support: int, voter: str) -> TypedBallot:
    """The EIP-712 typed data of `voter`'s ballot (`eth_signTypedData_v4`'s argument): the governor's own domain
    (`eip712Domain()`) and the voter's next nonce at the governor."""
    _fields, name, version, chain_id, verifying, _salt, _ext = call_view(gw, governor.functions.eip712Domain())
    nonce = call_view(gw, governor.functions.nonces(voter))
    return TypedBallot(
        types=BALLOT_TYPES,
        primaryType="Ballot",
        domain=BallotDomain(name=name, version=version, chainId=int(chain_id), verifyingContract=verifying),
        message=BallotMessage(proposalId=str(proposal_id), support=support, voter=voter, nonce=str(nonce)),
    )


def signer_of(typed: TypedBallot, signature: bytes) -> str:
    """The address that signed `typed` (422 `bad_signature` if the signature cannot be recovered)."""
    message = typed.model_dump()
    for key in ("proposalId", "nonce"):
        message["message"][key] = int(message["message"][key])
    try:
        return str(Account.recover_message(encode_typed_data(full_message=message), signature=signature))
    except Exception as exc:  # eth_keys raises several types for a malformed signature
        raise ApiError(422, "bad_signature", f"not a signature of this ballot: {exc}", "signature") from exc


def relayer(gw: Gateway) -> LocalAccount:
    """The gateway's relayer account (503 `relay_disabled` when `relayer_key` is not set)."""
    key = gw.settings.relayer_key
    if key is None:
        raise ApiError(
            503, "relay_disabled", "this gateway relays no votes (CHOIR_GATEWAY_RELAYER_KEY is not set)", None
        )
    account: LocalAccount = Account.from_key(key.get_secret_value())
    return account


def _fees(gw: Gateway) -> dict[str, int]:
    """EIP-1559 fees (twice the base fee plus the node's tip, as wallets do), or the node's gas price on a chain
    without a base fee."""
    block: Any = gw.w3.eth.get_block("latest")
    base = block.get("baseFeePerGas")
    if base is None:
        return {"gasPrice": int(gw.w3.eth.gas_price)}
    tip = int(gw.w3.eth.max_priority_fee)
    return {"maxFeePerGas": 2 * int(base) + tip, "maxPriorityFeePerGas": tip}


def relay_vote(
    gw: Gateway, governor: Contract, proposal_id: int, support: int, voter: str, signature: bytes, fields: set[str]
) -> str:
    """Check that `signature` is `voter`'s ballot, then send `castVoteBySig` from the relayer; the tx hash."""
    typed = typed_ballot(gw, governor, proposal_id, support, voter)
    signer = signer_of(typed, signature)
    if signer.lower() != voter.lower():
        raise ApiError(422, "bad_signature", f"the ballot is signed by {signer}, not by the voter {voter}", "signature")
    sender = relayer(gw)
    data = encode(governor.functions.castVoteBySig(proposal_id, support, voter, signature))
    with _send_lock:
        unsigned = simulate(gw, sender.address, governor.address, data, fields)
        with node_errors():
            tx: dict[str, Any] = {
                "from": sender.address,
                "to": governor.address,
                "data": data,
                "value": 0,
                "gas": unsigned.gas,
                "chainId": unsigned.chain_id,
                "nonce": gw.w3.eth.get_transaction_count(sender.address, "pending"),
                **_fees(gw),
            }
            signed = sender.sign_transaction(tx)
            return "0x" + gw.w3.eth.send_raw_transaction(signed.raw_transaction).hex().removeprefix("0x")
