"""Event decoding for every module that reads logs: raw `eth_getLogs` / receipt entries to named arguments, by
topic0, from the contracts' compiled ABIs.

web3.py's event machinery (`web3._utils.events.get_event_data`) is the decoder of record: it decodes every
event shape the fast path does not cover (the governor's proposals, the timelock's calls) and is the reference
the fast path is held to; values come out normalised once here (addresses EIP-55 checksummed, bytes `0x` hex,
integers `int`, arrays lists). The hot events (the shapes of `event_words.layout`: elementary words, dynamic
arrays of them, strings; every event the indexer handles) have one fast path built from the same ABI, which
slices words directly; `tests/choir_chain/test_event_decoding.py` decodes a log of every event of every
contract both ways (and Hypothesis draws their argument values) and requires equal results.

Why two paths (measured 2026-12-07 on 2 cores shared with other jobs, load 7-9, so identical runs vary up to 2x;
the table and commands are in docs/architecture.md, "Event decoding"):

- decoding alone (`python -m choir_chain.bench.decode`, every event of the hub, thread and distributor ABIs in
  turn): the fast path 27,000-42,000 events/s, web3.py's `get_event_data` 650-940 and
  `contract.events.X().process_log` 700-760, some 40 times slower;
- the indexer rebuilding the tables from the raw-log cache (`cache.rebuild`, the `indexer.rebuild` line of
  `python -m choir_chain.bench.indexer`, over its default workload's 13,755 logs): 3,440 logs/s with
  the fast path (median of 5; the indexer's former hand-written decoder 3,410), 1,030 with web3.py decoding every
  event; the cold ingest (`python -m choir_chain.bench.indexer --events 3000`): 1,840-2,530 events/s against
  540-550. web3.py alone would cost 70-80% of the throughput, far past the 25% a single decoder was allowed.

`EventDecoder` reads the ABIs at run time (per source: `hub`, `thread`, `rewards`, `governor`, ...), so an event
added to a contract is decodable as soon as the contracts are compiled; a log whose topic0 the ABI does not know
is skipped (`decode` returns None).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import decoding, encoding
from eth_abi.codec import ABICodec
from eth_abi.registry import BaseEquals
from eth_utils.abi import collapse_if_tuple, event_abi_to_log_topic
from hexbytes import HexBytes
from web3._utils.abi import build_strict_registry
from web3._utils.events import get_event_data

from choir_chain.chain.event_words import Slot, WordDecoder, checksum, decode_data, layout, word_decoder

__all__ = ["Event", "EventDecoder", "EventType", "checksum", "normalise"]


class _LenientString(decoding.StringDecoder):  # type: ignore[misc]
    """eth_abi's string decoder, replacing invalid UTF-8 with U+FFFD instead of refusing the log: a contract
    takes any bytes as a `string` (the scorer's model id of `NoveltyScoresSet`), and the index must not stall on
    one log it cannot store."""

    def __init__(self) -> None:
        super().__init__(handle_string_errors="replace")


def _codec() -> ABICodec:
    """web3.py's codec (`Web3().codec`, the strict registry) with `_LenientString` for strings."""
    registry = build_strict_registry()
    registry.unregister("string")
    registry.register(BaseEquals("string"), encoding.TextStringEncoder, _LenientString, label="string")
    return ABICodec(registry)


_CODEC = _codec()


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


def normalise(abi_type: str, value: Any) -> Any:
    """A value of `abi_type` as web3.py decodes it, in the form every reader of events uses: bytes as `0x` hex,
    arrays and tuples as lists, addresses checksummed."""
    if abi_type.endswith("]"):
        inner = abi_type[: abi_type.rindex("[")]
        return [normalise(inner, v) for v in value]
    if abi_type.startswith("("):
        return list(value)
    if abi_type == "address":
        return checksum(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return value


def _hashed_when_indexed(abi_type: str) -> bool:
    """Indexed values of these types are stored as their keccak256 hash in the topic."""
    return abi_type in ("string", "bytes") or abi_type.endswith("]") or abi_type.startswith("(")


@dataclass(frozen=True, slots=True)
class Topic:
    """One indexed value: its topic word is decoded by `word`, or kept as the raw topic when `hashed`."""

    name: str
    abi_type: str
    word: WordDecoder | None
    hashed: bool


@dataclass(frozen=True)
class EventType:
    """One event of one contract ABI, ready to decode (see the module docstring for the two paths)."""

    source: str
    name: str
    topic0: str
    abi: Mapping[str, Any]
    topics: tuple[Topic, ...]
    data_names: tuple[str, ...]
    data_types: tuple[str, ...]
    fast: tuple[Slot, ...] | None
    """The fast path's slots; None when web3.py decodes every log of this event."""
    _fast_topics: tuple[tuple[str, WordDecoder], ...] = field(default=(), repr=False)
    """`topics` as (name, word decoder) pairs, a hashed value's decoder giving the topic back (the fast path's
    loop reads them)."""

    @classmethod
    def from_abi(cls, source: str, abi: Mapping[str, Any]) -> EventType:
        topics, data_names, data_types = [], [], []
        for item in abi["inputs"]:
            abi_type = collapse_if_tuple(dict(item))
            if item.get("indexed"):
                hashed = _hashed_when_indexed(abi_type)
                topics.append(Topic(item["name"], abi_type, None if hashed else word_decoder(abi_type), hashed))
            else:
                data_names.append(item["name"])
                data_types.append(abi_type)
        fast = layout(tuple(data_names), tuple(data_types))
        fast_topics: list[tuple[str, WordDecoder]] = []
        for topic in topics:
            decoder = _as_hex if topic.hashed else topic.word
            if decoder is None:  # an indexed type with no word form: web3.py decodes the event
                fast = None
                break
            fast_topics.append((topic.name, decoder))
        return cls(
            source=source,
            name=abi["name"],
            topic0="0x" + event_abi_to_log_topic(dict(abi)).hex(),  # type: ignore[arg-type]
            abi=abi,
            topics=tuple(topics),
            data_names=tuple(data_names),
            data_types=tuple(data_types),
            fast=fast,
            _fast_topics=tuple(fast_topics),
        )

    @classmethod
    def named(cls, abi: Iterable[Mapping[str, Any]], name: str, source: str = "") -> EventType:
        """Event `name` of a contract `abi`; `KeyError` when the ABI has no such event."""
        for item in abi:
            if item.get("type") == "event" and item.get("name") == name and not item.get("anonymous"):
                return cls.from_abi(source, item)
        raise KeyError(f"the ABI has no event {name}")

    def matches(self, log: Mapping[str, Any]) -> bool:
        """Whether `log` (a JSON-RPC log entry) carries this event's topic0 (its emitter is not checked)."""
        topics = log.get("topics") or []
        return bool(topics) and _hex(topics[0]).lower() == self.topic0

    def args_of(self, logs: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The decoded arguments of each log of `logs` that carries this event's topic0, in order."""
        return [self.decode_args(log["topics"], log["data"]) for log in logs if self.matches(log)]

    def decode_args(self, topics: Sequence[Any], data: Any) -> dict[str, Any]:
        """The named arguments of a log of this event (topics and data as `0x` hex or bytes); raises
        `ValueError` (or web3.py's errors) for a log the ABI cannot describe."""
        fast = self.fast
        if fast is None:
            return self.decode_args_web3(topics, data)
        if len(topics) != len(self._fast_topics) + 1:
            raise ValueError(f"{self.name}: {len(topics) - 1} indexed topics, the ABI has {len(self._fast_topics)}")
        args: dict[str, Any] = {}
        for (name, word), value in zip(self._fast_topics, topics[1:], strict=True):
            args[name] = word(bytes.fromhex((value if type(value) is str else _hex(value))[2:]))
        if fast:
            decode_data(self.name, fast, bytes.fromhex((data if type(data) is str else _hex(data))[2:]), args)
        return args

    def decode_args_web3(self, topics: Sequence[Any], data: Any) -> dict[str, Any]:
        """`decode_args` through web3.py's `get_event_data` (the reference the fast path is tested against)."""
        entry = {
            "topics": [HexBytes(t) for t in topics],
            "data": HexBytes(data),
            "address": None,
            "blockHash": None,
            "blockNumber": None,
            "logIndex": None,
            "transactionHash": None,
            "transactionIndex": None,
        }
        decoded = get_event_data(_CODEC, self.abi, entry)  # type: ignore[arg-type]
        values = decoded["args"]
        args: dict[str, Any] = {}
        for topic in self.topics:
            args[topic.name] = normalise("bytes32" if topic.hashed else topic.abi_type, values[topic.name])
        for name, abi_type in zip(self.data_names, self.data_types, strict=True):
            args[name] = normalise(abi_type, values[name])
        return args


def _as_hex(word: bytes) -> str:
    return "0x" + word.hex()


def _hex(value: Any) -> str:
    """A topic or data field as `0x` hex (JSON-RPC gives text; web3.py's receipts give bytes)."""
    return value if isinstance(value, str) else "0x" + bytes(value).hex()


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
