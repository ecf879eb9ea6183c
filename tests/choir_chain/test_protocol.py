"""The shared protocol types agree with the contracts and pack message ids exactly as `ThreadDAO.messageId` does."""

from __future__ import annotations

import re

import pytest

from choir_chain.paths import PROJECT_ROOT
from choir_chain.protocol import SPEC_OUTCOMES, SpecStatus, message_id, message_ids, split_message_id


def solidity_enum(name: str) -> list[str]:
    source = (PROJECT_ROOT / "contracts" / "interfaces" / "IThreadDAO.sol").read_text()
    match = re.search(rf"enum {name}\s*\{{([^}}]*)\}}", source)
    assert match is not None, f"enum {name} not found in IThreadDAO.sol"
    body = re.sub(r"//[^\n]*", "", match.group(1))  # drop comments
    return [part.strip() for part in body.split(",") if part.strip()]


def test_spec_status_follows_the_solidity_enum_in_order() -> None:
    assert [status.name for status in SpecStatus] == [m.upper() for m in solidity_enum("SpecStatus")]
    assert SPEC_OUTCOMES == ("approved", "denied", "split", "expired", "refunded")


@pytest.mark.parametrize("thread_id, index", [(1, 0), (7, 3), (2**64, 2**64 - 1), (0, 5)])
def test_message_ids_round_trip(thread_id: int, index: int) -> None:
    packed = message_id(thread_id, index)
    assert packed == thread_id * 2**64 + index
    assert split_message_id(packed) == (thread_id, index)


def test_message_ids_of_pairs_keep_their_order() -> None:
    assert message_ids([(2, 1), (1, 0)]) == [2 * 2**64 + 1, 2**64]


@pytest.mark.parametrize("thread_id, index", [(1, 2**64), (1, -1), (-1, 0)])
def test_an_index_outside_64_bits_or_a_negative_part_is_refused(thread_id: int, index: int) -> None:
    with pytest.raises(ValueError, match="no message id"):
        message_id(thread_id, index)


def test_a_negative_id_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        split_message_id(-1)
