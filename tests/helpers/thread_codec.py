"""The stateful thread test's ABI codec: calls, results, custom errors and events of the project's contracts,
encoded and decoded with eth_abi on the compiled ABIs (no Ape contract objects: see
`tests/contracts/test_thread_invariants.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address


@dataclass(frozen=True)
class Event:
    name: str
    address: str
    args: dict[str, Any]


class Codec:
    """Encodes calls and decodes results, custom errors and events of the project's contracts."""

    def __init__(self, contract_types: dict[str, Any]):
        self.methods: dict[tuple[str, str], tuple[bytes, list[str], list[str]]] = {}
        self.errors: dict[bytes, tuple[str, list[str], list[str]]] = {}
        self.events: dict[bytes, tuple[str, list[tuple[str, str, bool]]]] = {}
        self._encoded: dict[tuple, bytes] = {}
        for key, contract_type in contract_types.items():
            for item in contract_type.abi:
                if item.type == "function":
                    selector = keccak(text=item.selector)[:4]
                    inputs = [i.canonical_type for i in item.inputs]
                    outputs = [o.canonical_type for o in item.outputs]
                    self.methods[(key, item.name)] = (selector, inputs, outputs)
                elif item.type == "error":
                    types = [i.canonical_type for i in item.inputs]
                    self.errors[keccak(text=item.selector)[:4]] = (
                        item.name,
                        types,
                        [i.name for i in item.inputs],
                    )
                elif item.type == "event":
                    inputs = [(i.name, i.canonical_type, bool(i.indexed)) for i in item.inputs]
                    self.events[keccak(text=item.selector)] = (item.name, inputs)

    def encode(self, contract: str, method: str, *args: Any) -> bytes:
        # the invariants read the same calls after every step: encode each once (eth_abi is slow)
        try:
            key = (contract, method, args)
            return self._encoded[key]
        except TypeError:  # unhashable arguments (lists)
            key = None
        except KeyError:
            pass
        selector, inputs, _ = self.methods[(contract, method)]
        encoded = selector + abi_encode(inputs, list(args))
        if key is not None:
            self._encoded[key] = encoded
        return encoded

    def decode(self, contract: str, method: str, data: bytes) -> Any:
        _, _, outputs = self.methods[(contract, method)]
        if len(outputs) == 1 and outputs[0].startswith("uint") and len(data) == 32:
            return int.from_bytes(data, "big")  # most reads: one unsigned integer
        values = abi_decode(outputs, data)
        return values[0] if len(values) == 1 else values

    def error(self, data: bytes) -> tuple[str, dict[str, Any]]:
        if len(data) < 4 or data[:4] not in self.errors:
            return (f"unknown revert 0x{data.hex()}", {})
        name, types, names = self.errors[data[:4]]
        return name, dict(zip(names, abi_decode(types, data[4:]), strict=True))

    def event(self, address: str, topics: list[bytes], data: bytes) -> Event | None:
        if not topics or topics[0] not in self.events:
            return None
        name, inputs = self.events[topics[0]]
        indexed = iter(topics[1:])
        plain = iter(abi_decode([t for _, t, ix in inputs if not ix], data))
        args = {n: (abi_decode([t], next(indexed))[0] if ix else next(plain)) for n, t, ix in inputs}
        args = {k: to_checksum_address(v) if isinstance(v, str) and v.startswith("0x") else v for k, v in args.items()}
        return Event(name, to_checksum_address(address), args)
