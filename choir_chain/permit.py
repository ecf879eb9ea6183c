"""EIP-2612 permits of CHOIR: the EIP-712 typed data a holder signs so that `submitSpecWithPermit` takes the stake
without a prior `approve` transaction (OpenZeppelin `ERC20Permit`, domain version "1")."""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount

TOKEN_NAME = "Choir"
"""`ChoirToken`'s EIP-712 domain name (its ERC-20 name)."""

PERMIT_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Permit": [
        {"name": "owner", "type": "address"},
        {"name": "spender", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
}


def permit_typed_data(
    token: str,
    chain_id: int,
    owner: str,
    spender: str,
    value: int,
    nonce: int,
    deadline: int,
    *,
    token_name: str = TOKEN_NAME,
) -> dict[str, Any]:
    """The typed data of `owner`'s permit of `value` to `spender` on the token at `token`; `nonce` is the
    token's `nonces(owner)` now (each permit uses one up)."""
    return {
        "types": PERMIT_TYPES,
        "primaryType": "Permit",
        "domain": {"name": token_name, "version": "1", "chainId": chain_id, "verifyingContract": token},
        "message": {"owner": owner, "spender": spender, "value": value, "nonce": nonce, "deadline": deadline},
    }


def sign_permit(
    owner: LocalAccount,
    token: str,
    chain_id: int,
    spender: str,
    value: int,
    nonce: int,
    deadline: int,
    *,
    token_name: str = TOKEN_NAME,
) -> tuple[int, bytes, bytes]:
    """`owner`'s permit signature as the `(v, r, s)` that `permit` and `submitSpecWithPermit` take."""
    data = permit_typed_data(token, chain_id, owner.address, spender, value, nonce, deadline, token_name=token_name)
    signed = owner.sign_typed_data(full_message=data)
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")
