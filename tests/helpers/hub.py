"""The hub tests' building blocks (import as `from helpers.hub import ...`): the hub fixture's parameters, a
strict `reverts` that checks every argument of a custom error, pricer batches (`push`), threads without a price
(`create_threads`) and reads of the hub's price points and parameters.

Used by the test_choir_hub_*.py modules (ChoirHub and its StakePriceOracle).
"""

from __future__ import annotations

from contextlib import contextmanager

import ape
from ape.exceptions import CustomError
from eth_abi import decode as abi_decode
from eth_utils import keccak

from helpers.contracts import HUMAN, content

# The hub fixture's parameters (HUB_DEFAULTS of helpers.contracts), stated again here so that the first test of
# test_choir_hub_parameters.py checks that the hub fixture really has these parameters.
CHOIR = 10**18
HOUR = 3600
DAY = 24 * HOUR
HUB_DEFAULTS = {
    "minPrice": 1 * CHOIR,
    "maxPrice": 1_000_000 * CHOIR,
    "fallbackPrice": 30 * CHOIR,
    "maxDeviationBps": 5_000,
    "heartbeat": DAY,
    "deviationWindow": HOUR,
    "approvalWindow": 7 * DAY,
}
ZERO_ADDRESS = "0x" + "00" * 20
DEFAULT_ADMIN_ROLE = b"\x00" * 32
UINT64_MAX = 2**64 - 1
PRICE_LIMIT = 2**80 - 1  # prices are packed into 80 bits
MIN_PRICE = HUB_DEFAULTS["minPrice"]
MAX_PRICE = HUB_DEFAULTS["maxPrice"]
FALLBACK = HUB_DEFAULTS["fallbackPrice"]
MAX_DEVIATION_BPS = HUB_DEFAULTS["maxDeviationBps"]
HEARTBEAT = HUB_DEFAULTS["heartbeat"]
DEVIATION_WINDOW = HUB_DEFAULTS["deviationWindow"]
WINDOW = HUB_DEFAULTS["approvalWindow"]
# What `parameters(hub)` reads on the hub fixture before any test changes it.
FRESH_PARAMETERS = {
    "minPrice": MIN_PRICE,
    "maxPrice": MAX_PRICE,
    "fallbackPrice": FALLBACK,
    "maxDeviationBps": MAX_DEVIATION_BPS,
    "heartbeat": HEARTBEAT,
    "deviationWindow": DEVIATION_WINDOW,
    "defaultApprovalWindow": WINDOW,
    "lastRound": 0,
    "threadCount": 0,
}


def raised_arguments(error, exc) -> dict | None:
    """The arguments of `error` if `exc` is that custom error, else None.

    Ape decodes no custom error for a reverted deployment (there is no contract address yet): it raises a bare
    ContractLogicError whose message is the raw revert data, decoded here.
    """
    if isinstance(exc, CustomError):  # decoded by Ape, though not always into `error`'s own class
        return dict(exc.inputs) if exc.abi.selector == error.abi.selector else None
    abi = error.abi
    try:
        data = bytes.fromhex(str(exc.revert_message).removeprefix("0x"))
    except ValueError:
        return None
    if data[:4] != keccak(text=abi.selector)[:4]:
        return None
    values = abi_decode([arg.canonical_type for arg in abi.inputs], data[4:])
    return {arg.name: value for arg, value in zip(abi.inputs, values, strict=True)}


@contextmanager
def reverts(error, **arguments):
    """Expect a revert with custom error `error` whose arguments are exactly `arguments` (every one of them).

    `ape.reverts(error, name=value)` passes on any revert it cannot decode and ignores names the error does
    not have; this helper insists on the error and on all of its arguments.
    """
    with ape.reverts() as info:
        yield info
    actual = raised_arguments(error, info.value)
    assert actual is not None, f"expected {error.__name__}, got {info.value!r}"
    assert actual == arguments


def call_as_transaction(contract, method: str, *args, sender):
    """Run a view as a transaction, to check how it reverts.

    Against anvil, Ape 0.8 turns a custom error raised by an `eth_call` into a bare ContractLogicError whose
    message is "custom error 0x<selector>: <data as text>" (lossy, not decoded). A reverting transaction's
    custom error is decoded on both networks.
    """
    return getattr(contract, method).transact(*args, sender=sender)


def push(hub, pricer, thread_ids, prices, round_):
    """Submit one pricer batch."""
    return hub.updatePrices(list(thread_ids), list(prices), round_, sender=pricer)


def create_threads(hub, creator, count: int) -> list[int]:
    """Create `count` threads and return their ids."""
    first = hub.threadCount() + 1
    for i in range(count):
        hub.createThread(content(f"thread {first + i}"), HUMAN, sender=creator)
    return list(range(first, first + count))


def points(hub, thread_ids) -> dict[int, tuple]:
    """Each thread's stored price point and served price."""
    return {i: (tuple(hub.pricePoint(i)), hub.price(i)) for i in thread_ids}


def parameters(hub) -> dict[str, int]:
    return {
        "minPrice": hub.minPrice(),
        "maxPrice": hub.maxPrice(),
        "fallbackPrice": hub.fallbackPrice(),
        "maxDeviationBps": hub.maxDeviationBps(),
        "heartbeat": hub.heartbeat(),
        "deviationWindow": hub.deviationWindow(),
        "defaultApprovalWindow": hub.defaultApprovalWindow(),
        "lastRound": hub.lastRound(),
        "threadCount": hub.threadCount(),
    }
