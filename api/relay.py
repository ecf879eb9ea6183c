"""`POST /tx/relay`: decode a signed raw transaction, check it is for this chain and a contract of this deployment,
and broadcast it. Anything refused is never sent to the node."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account._utils.legacy_transactions import Transaction
from eth_account.typed_transactions import TypedTransaction
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from web3.types import RPCEndpoint

from api import deployment
from api.errors import ApiError
from api.state import Gateway
from api.txbuilder import node_errors
from choir_chain.chain.rpc import RpcError

log = logging.getLogger("choir.gateway")

SUPPORTED_TYPES = (0, 1, 2)
"""Legacy (EIP-155), access-list (EIP-2930) and dynamic-fee (EIP-1559) transactions; blob and set-code
transactions are refused (no user action of the protocol needs them)."""

MAX_RAW_BYTES = 128 * 1024
"""The node's own limit on a transaction's size."""


@dataclass(frozen=True)
class SignedTx:
    tx_type: int
    sender: str
    to: str | None
    chain_id: int | None
    nonce: int
    tx_hash: str


def _malformed(reason: str) -> ApiError:
    return ApiError(400, "malformed_transaction", f"not a signed transaction: {reason}", "raw")


def decode(raw: bytes) -> SignedTx:
    """The fields of signed transaction `raw` that the relay checks (400 `malformed_transaction`, 422
    `unsupported_transaction_type`)."""
    if not raw:
        raise _malformed("empty")
    first = raw[0]
    chain_id: int | None
    try:
        if first <= 0x7F:
            if first not in SUPPORTED_TYPES:
                raise ApiError(
                    422,
                    "unsupported_transaction_type",
                    f"transaction type {first} is not relayed (only types 0, 1 and 2 are)",
                    "raw",
                )
            fields: dict[str, Any] = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
            tx_type, chain_id, to = first, int(fields["chainId"]), bytes(fields.get("to") or b"")
        elif first >= 0xC0:
            legacy = Transaction.from_bytes(raw)
            tx_type, to = 0, bytes(legacy.to)
            chain_id = (legacy.v - 35) // 2 if legacy.v >= 35 else None  # EIP-155; 27/28: no chain id
            fields = legacy.as_dict()
        else:
            raise _malformed("neither an RLP list nor a typed transaction envelope")
        sender = Account.recover_transaction(raw)
    except ApiError:
        raise
    except Exception as exc:  # rlp, eth_keys and eth_account raise many types for bad input
        raise _malformed(f"{type(exc).__name__}: {exc}") from exc
    if to and len(to) != 20:
        raise _malformed("the recipient is not 20 bytes")
    return SignedTx(
        tx_type=tx_type,
        sender=to_checksum_address(sender),
        to=to_checksum_address(to) if to else None,
        chain_id=chain_id,
        nonce=int(fields["nonce"]),
        tx_hash="0x" + keccak(raw).hex(),
    )


def check(gw: Gateway, tx: SignedTx) -> str:
    """Refuse a transaction for another chain (422 `wrong_chain`) or to an address outside the deployment (422
    `unknown_target`); the target's source (`hub`, `token`, `distributor`, `thread`, `governor`) otherwise."""
    expected = gw.manifest.chain_id
    if tx.chain_id is None:
        raise ApiError(
            422, "wrong_chain", f"the transaction has no chain id (pre-EIP-155); chain {expected} expected", "raw"
        )
    if tx.chain_id != expected:
        raise ApiError(422, "wrong_chain", f"the transaction is for chain {tx.chain_id}, not {expected}", "raw")
    if tx.to is None:
        raise ApiError(422, "unknown_target", "contract creations are not relayed", "raw")
    with node_errors():
        found = deployment.classify(gw, tx.to)
    if found is None:
        raise ApiError(
            422,
            "unknown_target",
            f"{tx.to} is not a contract of this deployment (token, hub, distributor, a thread or a thread governor)",
            "raw",
        )
    return found[0]


def _node_code(message: str) -> str:
    lowered = message.lower()
    for needle, code in (
        ("nonce too low", "nonce_too_low"),
        ("nonce too high", "nonce_too_high"),
        ("insufficient funds", "insufficient_funds"),
        ("already known", "already_known"),
        ("replacement transaction underpriced", "replacement_underpriced"),
        ("underpriced", "fee_too_low"),
        ("max fee per gas less than block base fee", "fee_too_low"),
        ("intrinsic gas too low", "gas_too_low"),
        ("exceeds block gas limit", "gas_too_high"),
    ):
        if needle in lowered:
            return code
    return "rejected_by_node"


def broadcast(gw: Gateway, raw: bytes) -> str:
    """`eth_sendRawTransaction`; a refusal by the node is a 409 with the node's message."""
    with node_errors():
        reply: Any = gw.w3.provider.make_request(RPCEndpoint("eth_sendRawTransaction"), ["0x" + raw.hex()])
    if "error" in reply:
        refusal = RpcError("eth_sendRawTransaction", reply["error"])
        message = refusal.reason  # a revert's custom error by name (`choir_chain.chain.revert`), never raw bytes
        log.warning("relay: the node refused transaction 0x%s: %s", keccak(raw).hex(), message)
        raise ApiError(409, _node_code(message), f"the node refused the transaction: {message}", "raw")
    return str(reply["result"]).lower()
