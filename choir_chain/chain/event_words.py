"""The fast path of event decoding: ABI words sliced directly, for the shapes the protocol's hot events use.

`events.EventType` decodes every event through web3.py's machinery (`get_event_data`) unless its non-indexed
values all have a `layout` here: elementary static words (`uintN`, `intN`, `address`, `bool`, `bytesN`),
dynamic arrays of them, and strings. Those are decoded by slicing 32-byte words, about 40 times faster than
web3.py (measured figures in `events`' docstring). A word web3.py would refuse (a `uint64` above 2**64, an
address with non-zero padding, a bool other than 0 or 1, a `bytesN` with non-zero padding) is refused here too,
so the fast path answers what web3.py answers or raises; the tests decode every event of every contract both ways.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from eth_utils import to_checksum_address

WordDecoder = Callable[[bytes], Any]
"""Decodes one 32-byte word; raises `ValueError` for a word the ABI type cannot hold."""

ZERO_WORD = bytes(32)
_ONE_WORD = (1).to_bytes(32, "big")
_ADDRESS_PADDING = bytes(12)


@lru_cache(maxsize=1 << 16)
def checksum(address: str) -> str:
    """EIP-55 form of an address (cached: the same few accounts recur in every block)."""
    return to_checksum_address(address)


def _uint(bits: int) -> WordDecoder:
    if bits == 256:
        return lambda word: int.from_bytes(word, "big")
    limit = 1 << bits

    def decode(word: bytes) -> int:
        value = int.from_bytes(word, "big")
        if value >= limit:
            raise ValueError(f"uint{bits} word out of range: {word.hex()}")
        return value

    return decode


def _int(bits: int) -> WordDecoder:
    if bits == 256:
        return lambda word: int.from_bytes(word, "big", signed=True)
    low, high = -(1 << (bits - 1)), 1 << (bits - 1)

    def decode(word: bytes) -> int:
        value = int.from_bytes(word, "big", signed=True)
        if not low <= value < high:
            raise ValueError(f"int{bits} word out of range: {word.hex()}")
        return value

    return decode


def _address(word: bytes) -> str:
    if word[:12] != _ADDRESS_PADDING:
        raise ValueError(f"address word with non-zero padding: {word.hex()}")
    return checksum("0x" + word[12:].hex())


def _bool(word: bytes) -> bool:
    if word == ZERO_WORD:
        return False
    if word == _ONE_WORD:
        return True
    raise ValueError(f"bool word neither 0 nor 1: {word.hex()}")


def _fixed_bytes(size: int) -> WordDecoder:
    padding = bytes(32 - size)

    def decode(word: bytes) -> str:
        if word[size:] != padding:
            raise ValueError(f"bytes{size} word with non-zero padding: {word.hex()}")
        return "0x" + word[:size].hex()

    return decode


def word_decoder(abi_type: str) -> WordDecoder | None:
    """The decoder of one word holding an elementary static `abi_type`; None for any other type."""
    if match := re.fullmatch(r"uint(\d*)", abi_type):
        return _uint(int(match.group(1) or 256))
    if match := re.fullmatch(r"int(\d*)", abi_type):
        return _int(int(match.group(1) or 256))
    if abi_type == "address":
        return _address
    if abi_type == "bool":
        return _bool
    if match := re.fullmatch(r"bytes(\d+)", abi_type):
        return _fixed_bytes(int(match.group(1)))
    return None


WORD, ARRAY, STRING = 0, 1, 2
"""Slot kinds: the head word is the value; a dynamic array of words; a UTF-8 string."""

Slot = tuple[str, WordDecoder, int]
"""How one non-indexed value is read: (its name, the decoder of its words, its kind)."""


def layout(names: tuple[str, ...], types: tuple[str, ...]) -> tuple[Slot, ...] | None:
    """The slots of an event's non-indexed values, or None when one of them has no fast form (web3.py then
    decodes the event)."""
    slots: list[Slot] = []
    for name, abi_type in zip(names, types, strict=True):
        if abi_type == "string":
            slots.append((name, _uint(256), STRING))
            continue
        is_array = abi_type.endswith("[]")
        word = word_decoder(abi_type[:-2] if is_array else abi_type)
        if word is None:
            return None
        slots.append((name, word, ARRAY if is_array else WORD))
    return tuple(slots)


def decode_data(event: str, slots: tuple[Slot, ...], raw: bytes, args: dict[str, Any]) -> None:
    """Add the non-indexed values of event `event` to `args`, read from its log's data `raw` by `slots`.

    Invalid UTF-8 in a string is replaced with U+FFFD, as the chain layer's web3.py codec does (`events`)."""
    size = len(raw)
    if size < 32 * len(slots):
        raise ValueError(f"{event}: {size} bytes of data, the ABI needs {32 * len(slots)}")
    for i, (name, word, kind) in enumerate(slots):
        head = raw[32 * i : 32 * i + 32]
        if kind == WORD:
            args[name] = word(head)
            continue
        offset = int.from_bytes(head, "big")
        if offset + 32 > size:
            raise ValueError(f"{event}: {name}'s offset {offset} runs past the data")
        start = offset + 32
        length = int.from_bytes(raw[offset:start], "big")
        if kind == STRING:
            if start + length > size:
                raise ValueError(f"{event}: string {name} runs past the data")
            args[name] = raw[start : start + length].decode("utf-8", errors="replace")
            continue
        end = start + 32 * length
        if end > size:
            raise ValueError(f"{event}: array {name} runs past the data")
        args[name] = [word(raw[p : p + 32]) for p in range(start, end, 32)]
