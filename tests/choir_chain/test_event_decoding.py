"""The chain layer's event decoding (`choir_chain.chain.events`): the fast path equals web3.py's `get_event_data`
for every event of every contract the indexer, the gateway and the services read, on argument values Hypothesis
draws, and both equal the values that were encoded; a word web3.py refuses is refused by the fast path too."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from eth_abi import encode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address
from eth_utils.abi import collapse_if_tuple
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from choir_chain import artifacts
from choir_chain.chain.events import EventDecoder, EventType
from choir_chain.indexer.handlers import HANDLERS

CONTRACTS = (
    "ChoirHub",
    "ThreadDAO",
    "RewardsDistributor",
    "ChoirToken",
    "ThreadGovernor",
    "StakePriceOracle",
    "ProtocolTimelock",
)
"""Every deployed contract whose logs are read: the indexer's sources, the gateway's `/events` and governor reads."""
INDEXER_SOURCES = {"hub": "ChoirHub", "thread": "ThreadDAO", "rewards": "RewardsDistributor"}


def all_events() -> list[tuple[str, EventType]]:
    return [
        (name, EventType.from_abi(name, item))
        for name in CONTRACTS
        for item in artifacts.load(name).abi
        if item.get("type") == "event"
    ]


EVENTS = all_events()


def values(abi_type: str) -> st.SearchStrategy[Any]:
    """Any value of `abi_type` as eth_abi encodes it."""
    if abi_type.endswith("[]"):
        return st.lists(values(abi_type[:-2]), max_size=5)
    if abi_type.startswith("uint"):
        return st.integers(0, 2 ** int(abi_type[4:] or 256) - 1)
    if abi_type.startswith("int"):
        bits = int(abi_type[3:] or 256)
        return st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if abi_type == "address":
        return st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
    if abi_type == "bool":
        return st.booleans()
    if abi_type == "string":
        return st.text(max_size=40)
    if abi_type == "bytes":
        return st.binary(max_size=100)
    if abi_type.startswith("bytes"):
        size = int(abi_type[5:])
        return st.binary(min_size=size, max_size=size)
    raise AssertionError(f"no strategy for {abi_type}")


def expected(abi_type: str, value: Any) -> Any:
    """What a decoder must give back for an encoded `value` (checksummed addresses, `0x` hex bytes, lists)."""
    if abi_type.endswith("[]"):
        return [expected(abi_type[:-2], v) for v in value]
    if abi_type == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


def draw_log(draw: st.DrawFn, event: Mapping[str, Any], topic0: str) -> tuple[list[str], str, dict[str, Any]]:
    """A log of `event` with drawn argument values: (topics, data, the arguments a decoder must give)."""
    topics, args = [topic0], {}
    data_types, data_values = [], []
    for item in event["inputs"]:
        abi_type = collapse_if_tuple(dict(item))
        value = draw(values(abi_type))
        if item.get("indexed"):
            if abi_type in ("string", "bytes") or abi_type.endswith("]"):
                # a dynamic indexed value is stored as the hash of its encoding: decoders give the topic back
                word = keccak(value.encode() if isinstance(value, str) else encode([abi_type], [value]))
                topics.append("0x" + word.hex())
                args[item["name"]] = "0x" + word.hex()
            else:
                topics.append("0x" + encode([abi_type], [value]).hex())
                args[item["name"]] = expected(abi_type, value)
        else:
            data_types.append(abi_type)
            data_values.append(value)
            args[item["name"]] = expected(abi_type, value)
    return topics, "0x" + encode(data_types, data_values).hex(), args


@st.composite
def logs_of(draw: st.DrawFn, event: EventType) -> tuple[list[str], str, dict[str, Any]]:
    return draw_log(draw, event.abi, event.topic0)


@pytest.mark.parametrize(("contract", "event"), EVENTS, ids=[f"{c}.{e.name}" for c, e in EVENTS])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_both_paths_decode_every_event_to_its_values(contract: str, event: EventType, data: st.DataObject) -> None:
    topics, raw, args = data.draw(logs_of(event))
    assert event.decode_args_web3(topics, raw) == args, f"{contract}.{event.name} (web3.py)"
    assert event.decode_args(topics, raw) == args, f"{contract}.{event.name} (the path the decoder takes)"
    # bytes in, as web3.py's receipts give them, decode the same
    assert event.decode_args([bytes.fromhex(t[2:]) for t in topics], bytes.fromhex(raw[2:])) == args


def test_every_event_the_indexer_handles_takes_the_fast_path() -> None:
    decoder = EventDecoder({source: artifacts.load(name).abi for source, name in INDEXER_SOURCES.items()})
    handled = {(t.source, t.name): t for source in INDEXER_SOURCES for t in decoder.event_types(source)}
    for key in HANDLERS:
        assert key in handled, key
        assert handled[key].fast is not None, key
    # and the general shapes (the governor's proposals, the timelock's calls) go through web3.py
    shapes = {f"{c}.{e.name}": e.fast is None for c, e in EVENTS}
    assert shapes["ThreadGovernor.ProposalCreated"] and shapes["ProtocolTimelock.CallScheduled"]


def _event(contract: str, name: str) -> EventType:
    return EventType.named(artifacts.load(contract).abi, name, contract)


BAD_WORDS = [
    ("RewardsDistributor", "MessageRewarded", 2, (1 << 64).to_bytes(32, "big")),  # uint64 above its range
    ("RewardsDistributor", "NoveltyScoresSet", 1, (1 << 32).to_bytes(32, "big")),  # uint32 above its range
    ("ThreadDAO", "VoteCast", 0, (2).to_bytes(32, "big")),  # a bool of 2
    ("ThreadDAO", "MessagePosted", 2, (256).to_bytes(32, "big")),  # uint8 above its range
    ("ChoirHub", "GovernanceSet", 0, b"\x01" + bytes(31)),  # an address with non-zero padding
]


@pytest.mark.parametrize(("contract", "name", "slot", "word"), BAD_WORDS, ids=[f"{c}.{n}" for c, n, _, _ in BAD_WORDS])
def test_a_word_web3_refuses_is_refused(contract: str, name: str, slot: int, word: bytes) -> None:
    event = _event(contract, name)
    assert event.fast is not None
    topics = [event.topic0] + ["0x" + bytes(32).hex()] * len(event.topics)
    data = bytearray(bytes(32 * len(event.data_types)))
    for i, abi_type in enumerate(event.data_types):  # empty dynamic values where the slot is not the bad one
        if abi_type.endswith("[]") or abi_type == "string":
            data[32 * i : 32 * i + 32] = len(data).to_bytes(32, "big")
            data += bytes(32)
    data[32 * slot : 32 * slot + 32] = word
    raw = "0x" + bytes(data).hex()
    with pytest.raises(DecodingError):
        event.decode_args_web3(topics, raw)
    with pytest.raises(ValueError):
        event.decode_args(topics, raw)


def test_truncated_data_and_wrong_topic_counts_are_refused() -> None:
    event = _event("ThreadDAO", "MessagePosted")
    topics = [event.topic0, "0x" + "00" * 31 + "07", "0x" + "00" * 12 + "11" * 20]
    data = "0x" + encode(["bytes32", "uint256[]", "uint8"], [b"\x01" * 32, [1, 2, 3], 1]).hex()
    assert event.decode_args(topics, data) == event.decode_args_web3(topics, data)
    with pytest.raises(ValueError):
        event.decode_args(topics, data[:-64])  # the array runs past the data
    with pytest.raises(ValueError):
        event.decode_args(topics[:2], data)
    with pytest.raises(ValueError):
        event.decode_args(topics, "0x" + "00" * 64)


def test_invalid_utf8_is_replaced_both_ways() -> None:
    """A contract takes any bytes as a string: both paths replace invalid UTF-8 rather than stall the index."""
    event = _event("RewardsDistributor", "NoveltyScoresSet")
    topics = [event.topic0, "0x" + "00" * 31 + "01"]
    good = encode(["string", "uint32", "uint256[]", "int256[]"], ["model", 3, [1], [-1]])
    bad = good.replace(b"model", b"mod\xffl")
    assert event.decode_args(topics, good) == event.decode_args_web3(topics, good)
    assert event.decode_args(topics, good)["modelId"] == "model"
    assert event.decode_args(topics, bad) == event.decode_args_web3(topics, bad)
    assert event.decode_args(topics, bad)["modelId"] == "mod\ufffdl"


def test_args_of_picks_the_event_among_a_receipts_logs() -> None:
    created = _event("ChoirHub", "ThreadCreated")
    other = _event("ChoirHub", "CitationRecorded")
    thread, creator = "0x" + "22" * 20, "0x" + "33" * 20
    logs = [
        {"topics": [other.topic0, "0x" + "00" * 32, "0x" + "00" * 32], "data": "0x" + "00" * 32},
        {
            "topics": [
                created.topic0.upper().replace("0X", "0x"),
                "0x" + (5).to_bytes(32, "big").hex(),
                "0x" + bytes(12).hex() + thread[2:],
                "0x" + bytes(12).hex() + creator[2:],
            ],
            "data": "0x" + "ab" * 32,
        },
        {"topics": [], "data": "0x"},
    ]
    assert created.args_of(logs) == [
        {
            "threadId": 5,
            "thread": to_checksum_address(thread),
            "creator": to_checksum_address(creator),
            "contentHash": "0x" + "ab" * 32,
        }
    ]
    with pytest.raises(KeyError):
        EventType.named(artifacts.load("ChoirHub").abi, "NoSuchEvent")
