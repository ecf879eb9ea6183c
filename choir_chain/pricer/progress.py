"""Where the pricer is, recorded on chain in each round's own transaction.

The pricer works through trigger blocks in order; its position is the trigger block it is pricing (and
whether that is a full reconciliation of every thread rather than of the threads the block changed). Each
`updatePrices` transaction carries that position as a 13-byte tag appended to its calldata::

    magic (4 bytes) | trigger block (uint64, big-endian) | mode (1 byte: 0 changes, 1 every thread)

Solidity's ABI decoder ignores calldata past the arguments (ERC-2771 forwarders rely on the same rule to
append the sender), so the contract is unaffected; the tag costs under 200 gas of calldata.

Why on chain rather than in a progress table: the round number and the position then come from ONE atomic
write, the mined transaction, and the chain alone says where to resume. A table in the database would be a
second write that a crash can separate from the first (a round mined but not recorded, or recorded but never
mined), and a lost or re-created database would lose the position. With the tag, a restart reads
`lastRound()`, finds that round's transaction and resumes at its trigger block; pricing a trigger block is
idempotent (only threads still away from their target get a step), so resuming there is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import keccak

MAGIC = keccak(text="choir.pricer.round.v1")[:4]
TAG_LENGTH = len(MAGIC) + 8 + 1


@dataclass(frozen=True, slots=True)
class Position:
    """The trigger block being priced; `full` when every thread is reconciled as of it."""

    block: int
    full: bool = False

    @property
    def mode(self) -> str:
        return "full" if self.full else "changes"


def encode_tag(position: Position) -> bytes:
    """The calldata suffix recording `position`."""
    return MAGIC + position.block.to_bytes(8, "big") + (b"\x01" if position.full else b"\x00")


def decode_tag(calldata: bytes) -> Position | None:
    """The position recorded at the end of `calldata`, None if it carries no pricer tag."""
    if len(calldata) < 4 + TAG_LENGTH:
        return None
    tag = calldata[-TAG_LENGTH:]
    if tag[:4] != MAGIC or tag[12] not in (0, 1):
        return None
    return Position(block=int.from_bytes(tag[4:12], "big"), full=tag[12] == 1)
