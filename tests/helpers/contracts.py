"""Constants and helpers shared by the contract tests (import as `from helpers.contracts import ...`)."""

from __future__ import annotations

import ast
from contextlib import contextmanager

import ape
from ape.exceptions import CustomError
from eth_abi import decode as abi_decode
from eth_utils import keccak

from choir_chain.protocol.author_kind import AuthorKind

CHOIR = 10**18
DAY = 24 * 3600
HUB_DEFAULTS = {
    "minPrice": 1 * CHOIR,
    "maxPrice": 1_000_000 * CHOIR,
    "fallbackPrice": 30 * CHOIR,  # S0 * 3 with S0 = 10 CHOIR
    "maxDeviationBps": 5_000,
    "heartbeat": DAY,
    "deviationWindow": 3600,
    "approvalWindow": 7 * DAY,
}

# The `uint8` author kinds of `post`, `submitSpec`, `submitSpecWithPermit` and `createThread` (IThreadDAO.AuthorKind).
HUMAN, AI, AI_PROMPTED = (int(kind) for kind in AuthorKind)

GOVERNANCE_DEFAULTS = {
    "votingDelay": 1,  # the snapshot is one second after the proposal
    "votingPeriod": 3 * DAY,
    "quorumBps": 5_000,  # half of all shares must vote for or abstain
    "executionDelay": DAY,
}


def content(text: str) -> bytes:
    """The on-chain content hash of a message body."""
    return keccak(text=text)


def raised_arguments(error, exc) -> dict | None:
    """The arguments of custom error `error` if `exc` is that error, else None.

    Ape decodes no custom error for a reverted deployment (there is no contract address yet), nor on eth-tester
    for some calls: it raises a bare ContractLogicError whose message is the raw revert data, decoded here.
    """
    if isinstance(exc, CustomError):
        return dict(exc.inputs) if exc.abi.selector == error.abi.selector else None
    message = exc.revert_message
    try:
        if isinstance(message, bytes):
            data = message
        elif str(message).startswith(("b'", 'b"')):  # eth-tester sometimes hands over the bytes' repr
            data = ast.literal_eval(str(message))
        else:
            data = bytes.fromhex(str(message).removeprefix("0x"))
    except (ValueError, SyntaxError):
        return None
    if data[:4] != keccak(text=error.abi.selector)[:4]:
        return None
    values = abi_decode([arg.canonical_type for arg in error.abi.inputs], data[4:])
    return {arg.name: value for arg, value in zip(error.abi.inputs, values, strict=True)}


@contextmanager
def reverts(error, **arguments):
    """`ape.reverts(error)`, but strict: the revert must be `error` itself (ape.reverts lets any undecoded revert
    pass) and every named argument must exist and match (ape.reverts ignores unknown names)."""
    with ape.reverts(error) as info:
        yield info
    actual = raised_arguments(error, info.value)
    assert actual is not None, f"expected {error.__name__}, got {info.value!r}"
    for name, value in arguments.items():
        assert name in actual, f"{error.__name__} has no argument {name!r}: {actual}"
        got = actual[name]
        if isinstance(value, str) and isinstance(got, str):
            value, got = value.lower(), got.lower()
        assert got == value, f"{error.__name__}.{name}: expected {value!r}, got {got!r}"
