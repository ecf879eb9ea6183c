"""Revert data to a readable refusal: the custom error's name, its decoded arguments and its NatSpec notice.

One decoder for everything that meets a refused transaction: the gateway's 409 bodies and relay, the pricer's
rounds, novelty scores and allocations (through `RpcError`, whose message carries the decoded error).

Every error of every deployed contract (hub, token, thread, governor, distributor) is known by its 4-byte selector,
so an error bubbled up from another contract (the token's `ERC20InsufficientAllowance` behind a thread's
`submitSpec`, a thread's `InsufficientTreasury` behind a governor's `execute`) still decodes. `Error(string)` and
`Panic(uint256)` decode too; anything else keeps its raw data in the message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from eth_utils.abi import collapse_if_tuple

from choir_chain import artifacts
from choir_chain.paths import build_manifest

CONTRACTS = ("ChoirHub", "ThreadDAO", "ThreadGovernor", "RewardsDistributor", "ChoirToken")
"""Contracts whose errors Choir can meet (in this order of precedence for their NatSpec)."""

PROPOSAL_STATES = ("Pending", "Active", "Canceled", "Defeated", "Succeeded", "Queued", "Expired", "Executed")
"""OpenZeppelin `IGovernor.ProposalState`, by value."""

PANIC_REASONS = {
    0x00: "generic compiler panic",
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "invalid storage byte array",
    0x31: "pop on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to an uninitialised function",
}

_ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string)
_PANIC = bytes.fromhex("4e487b71")  # Panic(uint256)

EXECUTION_REVERTED = "execution_reverted"
"""The code of a revert without a recognisable error (no data, `Error(string)`, an unknown selector)."""


@dataclass(frozen=True)
class ErrorType:
    name: str
    signature: str
    names: tuple[str, ...]
    types: tuple[str, ...]
    notice: str | None


@dataclass(frozen=True)
class Revert:
    """A decoded revert: `code` is the custom error's name (`Panic`, or `execution_reverted`)."""

    code: str
    message: str
    args: dict[str, Any]


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return match.group(1) if match else text


def _notices(entry: Mapping[str, Any]) -> dict[str, str]:
    """error signature -> its NatSpec notice (userdoc), else the first sentence of its dev details."""
    found: dict[str, str] = {}
    for doc, key in (("devdoc", "details"), ("userdoc", "notice")):  # userdoc wins
        for signature, items in (entry.get(doc) or {}).get("errors", {}).items():
            for item in items:
                if item.get(key):
                    found[signature] = _first_sentence(str(item[key]))
    return found


@cache
def _contract_docs() -> dict[str, Mapping[str, Any]]:
    try:
        types: dict[str, Mapping[str, Any]] = json.loads(build_manifest().read_text())["contractTypes"]
    except (OSError, ValueError, KeyError):
        return {}
    return types


@cache
def error_types() -> dict[bytes, ErrorType]:
    """selector -> error, over the ABIs of every contract of the deployment."""
    docs = _contract_docs()
    found: dict[bytes, ErrorType] = {}
    for contract in CONTRACTS:
        notices = _notices(docs.get(contract, {}))
        for item in artifacts.load(contract).abi:
            if item.get("type") != "error":
                continue
            types = tuple(collapse_if_tuple(dict(i)) for i in item.get("inputs", []))
            signature = f"{item['name']}({','.join(types)})"
            selector = function_signature_to_4byte_selector(signature)
            previous = found.get(selector)
            if previous is not None and previous.notice:
                continue
            names = tuple(i.get("name") or f"arg{n}" for n, i in enumerate(item.get("inputs", [])))
            found[selector] = ErrorType(item["name"], signature, names, types, notices.get(signature))
    return found


def _plain(value: Any, abi_type: str) -> Any:
    """A decoded value as JSON-friendly text: integers in decimal, bytes in hex, addresses checksummed."""
    if isinstance(value, list | tuple):
        inner = abi_type[: abi_type.rindex("[")] if abi_type.endswith("]") else ""
        return [_plain(v, inner) for v in value]
    if abi_type == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def _describe(error: ErrorType, args: dict[str, Any]) -> str:
    shown = dict(args)
    if error.name == "GovernorUnexpectedProposalState":
        current = int(args.get("current", -1))
        if 0 <= current < len(PROPOSAL_STATES):
            shown["current"] = PROPOSAL_STATES[current]
        bitmap = int(str(args.get("expectedStates", "0x0")), 16)
        expected = [state for i, state in enumerate(PROPOSAL_STATES) if bitmap >> i & 1]
        shown["expectedStates"] = "|".join(expected) or "none (the proposal already exists)"
    rendered = ", ".join(f"{name}={value}" for name, value in shown.items())
    call = f"{error.name}({rendered})"
    return f"{error.notice} {call}" if error.notice else call


def _is_dynamic(abi_type: str) -> bool:
    return abi_type in ("bytes", "string") or abi_type.endswith("[]") or abi_type.startswith("(")


def _fits(types: tuple[str, ...], body: bytes) -> bool:
    """Whether `body` has the size of an ABI encoding of `types` (exact when they are all static words)."""
    if len(body) % 32:
        return False
    if any(_is_dynamic(t) or "[" in t for t in types):
        return len(body) >= 32 * len(types)
    return len(body) == 32 * len(types)


def decode(data: bytes | str | None) -> Revert:
    """The refusal carried by revert `data` (bytes or 0x-hex; None or empty for a bare revert)."""
    raw = bytes.fromhex(data[2:] if data.startswith("0x") else data) if isinstance(data, str) else (data or b"")
    if len(raw) < 4:
        return Revert(EXECUTION_REVERTED, "the transaction reverted without a reason", {})
    selector, body = raw[:4], raw[4:]
    try:
        if selector == _ERROR_STRING:
            (reason,) = abi_decode(["string"], body)
            return Revert(EXECUTION_REVERTED, f"the transaction reverted: {reason}", {"reason": reason})
        if selector == _PANIC:
            (code,) = abi_decode(["uint256"], body)
            reason = PANIC_REASONS.get(code, "unknown panic code")
            return Revert("Panic", f"the contract panicked: {reason} (Panic(0x{code:02x}))", {"code": code})
        error = error_types().get(selector)
        if error is not None and _fits(error.types, body):
            values = abi_decode(list(error.types), body)
            args = {n: _plain(v, t) for n, v, t in zip(error.names, values, error.types, strict=True)}
            return Revert(error.name, _describe(error, args), args)
    except Exception:  # malformed arguments: report the raw data below
        pass
    return Revert(EXECUTION_REVERTED, f"the transaction reverted with unknown error data 0x{raw.hex()}", {})


def revert_data(exc: BaseException) -> str | None:
    """The revert data web3 attached to a `ContractLogicError` (or an RPC error's `data`), if any."""
    data: Any = getattr(exc, "data", None)
    if isinstance(data, Mapping):  # some nodes nest it: {"data": "0x..."} or {"<tx hash>": {"return": ...}}
        data = data.get("data") or next((v.get("return") for v in data.values() if isinstance(v, Mapping)), None)
    if isinstance(data, bytes):
        return "0x" + data.hex()
    if isinstance(data, str) and re.fullmatch(r"0x([0-9a-fA-F]{2})*", data):
        return data
    return None
