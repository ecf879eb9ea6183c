"""Raw `eth_getLogs` entries to typed events, by topic0, from the contracts' compiled ABIs.

The decoder reads the ABIs at run time (ChoirHub for the hub, ThreadDAO for every thread clone), so an event
added to a contract is decodable as soon as the contracts are compiled; a log whose topic0 the ABI does not
know is skipped (`decode` returns None). Values are normalised once here: addresses EIP-55 checksummed, bytes
`0x` hex, integers `int`, arrays lists. The shapes the protocol's events use are decoded by slicing ABI words
directly (over ten times faster than eth_abi, which matters at tens of thousands of logs a second); any other
shape goes through `eth_abi`, what web3's `get_event_data` uses underneath.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import to_checksum_address
from eth_utils.abi import collapse_if_tuple, event_abi_to_log_topic

Converter = Callable[[Any], Any]
WordDecoder = Callable[[bytes], Any]


@dataclass(frozen=True, slots=True)
class Event:
    """A decoded log, with where it sits in the chain.

    `thread_id` is set for logs of thread clones (the indexer knows each clone's id), None for the hub's.
    """

    source: str
    name: str
    args: dict[str, Any]
    address: str
    block: int
    tx_index: int
    log_index: int
    tx_hash: str
    timestamp: int | None
    thread_id: int | None = None


@lru_cache(maxsize=1 << 16)
def checksum(address: str) -> str:
    """EIP-55 form of an address (cached: the same few accounts recur in every block)."""
    return to_checksum_address(address)


def _converter(abi_type: str) -> Converter:
    """How to normalise one value of `abi_type` as eth_abi decodes it."""
    if abi_type.endswith("]"):
        inner = _converter(abi_type[: abi_type.rindex("[")])
        return lambda values: [inner(v) for v in values]
    if abi_type.startswith("("):
        return lambda value: list(value)
    if abi_type == "address":
        return checksum
    if abi_type.startswith("bytes"):
        return lambda value: "0x" + bytes(value).hex()
    return lambda value: value


def _word_decoder(abi_type: str) -> WordDecoder | None:
    """A decoder of one 32-byte word holding an elementary static value; None for any other type."""
    if re.fullmatch(r"uint\d*", abi_type):
        return lambda word: int.from_bytes(word, "big")
    if re.fullmatch(r"int\d*", abi_type):
        return lambda word: int.from_bytes(word, "big", signed=True)
    if abi_type == "address":
        return lambda word: checksum("0x" + word[12:].hex())
    if abi_type == "bool":
        return lambda word: word != _ZERO_WORD
    sized = re.fullmatch(r"bytes(\d+)", abi_type)
    if sized:
        size = int(sized.group(1))
        return lambda word: "0x" + word[:size].hex()
    return None


_ZERO_WORD = bytes(32)


def _is_hashed_when_indexed(abi_type: str) -> bool:
    """Indexed values of these types are stored as their keccak256 hash in the topic."""
    return abi_type in ("string", "bytes") or abi_type.endswith("]") or abi_type.startswith("(")


STRING = "string"
"""The fast path's marker of a dynamic UTF-8 string value (e.g. the scorer's model id of `NoveltyScoresSet`)."""


def _fast_layout(types: tuple[str, ...]) -> tuple[tuple[WordDecoder, bool | str], ...] | None:
    """(word decoder, is a dynamic array, or `STRING`) per value, when every value is an elementary static word,
    a dynamic array of them or a string (all the protocol's events); None sends the event to eth_abi."""
    layout: list[tuple[WordDecoder, bool | str]] = []
    for abi_type in types:
        if abi_type == "string":
            layout.append((_word_decoder("uint256"), STRING))  # type: ignore[arg-type]
            continue
        is_array = abi_type.endswith("[]")
        word = _word_decoder(abi_type[:-2] if is_array else abi_type)
        if word is None:
            return None
        layout.append((word, is_array))
    return tuple(layout)


@dataclass(frozen=True)
class EventType:
    """One event of one contract ABI, ready to decode.

    Events made of elementary words and dynamic arrays of them are decoded by slicing words directly, over
    ten times faster than eth_abi's general decoder; any other shape (strings, tuples, fixed arrays) goes
    through eth_abi. `decode_args_reference` always uses eth_abi, to check the fast path against it.
    """

    source: str
    name: str
    topic0: str
    indexed: tuple[tuple[str, str, WordDecoder | None, bool], ...]
    """(name, abi type, word decoder or None, hashed): hashed values are kept as the raw topic."""
    data_names: tuple[str, ...]
    data_types: tuple[str, ...]
    data_converters: tuple[Converter, ...]
    fast: tuple[tuple[WordDecoder, bool | str], ...] | None

    @classmethod
    def from_abi(cls, source: str, abi: Mapping[str, Any]) -> EventType:
        indexed = []
        data_names, data_types = [], []
        for item in abi["inputs"]:
            abi_type = collapse_if_tuple(dict(item))
            if item.get("indexed"):
                hashed = _is_hashed_when_indexed(abi_type)
                indexed.append((item["name"], abi_type, None if hashed else _word_decoder(abi_type), hashed))
            else:
                data_names.append(item["name"])
                data_types.append(abi_type)
        return cls(
            source=source,
            name=abi["name"],
            topic0="0x" + event_abi_to_log_topic(dict(abi)).hex(),  # type: ignore[arg-type]
            indexed=tuple(indexed),
            data_names=tuple(data_names),
            data_types=tuple(data_types),
            data_converters=tuple(_converter(t) for t in data_types),
            fast=_fast_layout(tuple(data_types)),
        )

    def _check_topics(self, topics: list[str]) -> None:
        if len(topics) != len(self.indexed) + 1:
            raise ValueError(f"{self.name}: {len(topics) - 1} indexed topics, the ABI has {len(self.indexed)}")

    def decode_args(self, topics: list[str], data: str) -> dict[str, Any]:
        self._check_topics(topics)
        args: dict[str, Any] = {}
        for (name, abi_type, word, hashed), topic in zip(self.indexed, topics[1:], strict=True):
            if hashed:
                args[name] = topic.lower()
            elif word is not None:
                args[name] = word(bytes.fromhex(topic[2:]))
            else:
                args[name] = _converter(abi_type)(abi_decode([abi_type], bytes.fromhex(topic[2:]))[0])
        if not self.data_types:
            return args
        raw = bytes.fromhex(data[2:])
        if self.fast is None:
            values = abi_decode(self.data_types, raw)
            for name, convert, value in zip(self.data_names, self.data_converters, values, strict=True):
                args[name] = convert(value)
            return args
        if len(raw) < 32 * len(self.fast):
            raise ValueError(f"{self.name}: {len(raw)} bytes of data, the ABI needs {32 * len(self.fast)}")
        for i, (name, (word, is_array)) in enumerate(zip(self.data_names, self.fast, strict=True)):
            head = raw[32 * i : 32 * i + 32]
            if not is_array:
                args[name] = word(head)
                continue
            offset = int.from_bytes(head, "big")
            length = int.from_bytes(raw[offset : offset + 32], "big")
            if is_array == STRING:
                if offset + 32 + length > len(raw):
                    raise ValueError(f"{self.name}: string {name} runs past the data")
                args[name] = raw[offset + 32 : offset + 32 + length].decode("utf-8", errors="replace")
                continue
            start, end = offset + 32, offset + 32 + 32 * length
            if end > len(raw):
                raise ValueError(f"{self.name}: array {name} runs past the data")
            args[name] = [word(raw[p : p + 32]) for p in range(start, end, 32)]
        return args

    def decode_args_reference(self, topics: list[str], data: str) -> dict[str, Any]:
        """`decode_args` through eth_abi only (slow; for tests of the fast path)."""
        self._check_topics(topics)
        args: dict[str, Any] = {}
        for (name, abi_type, _word, hashed), topic in zip(self.indexed, topics[1:], strict=True):
            value = abi_decode([abi_type], bytes.fromhex(topic[2:]))[0] if not hashed else None
            args[name] = topic.lower() if hashed else _converter(abi_type)(value)
        values = abi_decode(self.data_types, bytes.fromhex(data[2:])) if self.data_types else ()
        for name, convert, value in zip(self.data_names, self.data_converters, values, strict=True):
            args[name] = convert(value)
        return args


class EventDecoder:
    """topic0 -> event type, per source (`hub`, `thread`, ...), built from contract ABIs."""

    def __init__(self, abis: Mapping[str, Iterable[Mapping[str, Any]]]) -> None:
        self._types: dict[str, dict[str, EventType]] = {}
        for source, abi in abis.items():
            # anonymous events have no topic0 to recognise them by; the protocol's contracts declare none
            events = [item for item in abi if item.get("type") == "event" and not item.get("anonymous")]
            self._types[source] = {e.topic0: e for e in (EventType.from_abi(source, item) for item in events)}

    def event_types(self, source: str) -> list[EventType]:
        return list(self._types.get(source, {}).values())

    def topics(self, source: str, names: Iterable[str]) -> list[str]:
        """topic0 of each named event of `source` that its ABI has (names it lacks are ignored)."""
        wanted = set(names)
        return sorted(t.topic0 for t in self.event_types(source) if t.name in wanted)

    def decode(
        self,
        source: str,
        log: Mapping[str, Any],
        *,
        thread_id: int | None = None,
        timestamp: int | None = None,
    ) -> Event | None:
        """The event of a raw JSON-RPC log entry; None when `source`'s ABI has no event with its topic0."""
        topics = log["topics"]
        if not topics:
            return None
        event_type = self._types.get(source, {}).get(topics[0].lower())
        if event_type is None:
            return None
        if timestamp is None and log.get("blockTimestamp") is not None:
            timestamp = int(log["blockTimestamp"], 16)
        return Event(
            source=source,
            name=event_type.name,
            args=event_type.decode_args(topics, log["data"]),
            address=checksum(log["address"]),
            block=int(log["blockNumber"], 16),
            tx_index=int(log["transactionIndex"], 16),
            log_index=int(log["logIndex"], 16),
            tx_hash=log["transactionHash"].lower(),
            timestamp=timestamp,
            thread_id=thread_id,
        )
