"""Message bodies stored by hash."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import (
    HASH,
    GlobalId,
    Hash32,
    examples,
)


class ContentIn(BaseModel):
    """A message body; its keccak256 (of the UTF-8 bytes) must be the content hash of an indexed message."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"body": "alice post"}]})

    body: str
    tx_hash: str | None = Field(
        default=None,
        pattern=r"^0x[0-9a-fA-F]{64}$",
        description=(
            "The hash of the transaction that created the message, for a message mined but not indexed yet: the "
            "gateway then checks the transaction's receipt on chain (a successful transaction whose logs hold a "
            "message of this deployment with this content hash) instead of waiting for the indexer."
        ),
    )


class ContentStored(BaseModel):
    model_config = examples({"content_hash": HASH, "messages": ["18446744073709551617"]})

    content_hash: Hash32
    messages: list[GlobalId] = Field(description="Global ids of the messages with this content hash.")


class ContentOut(BaseModel):
    model_config = examples({"content_hash": HASH, "body": "alice post"})

    content_hash: Hash32
    body: str
