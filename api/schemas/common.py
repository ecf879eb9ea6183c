"""Types and example values shared by every resource's models; `Page` of any item."""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Wei = Annotated[
    str, Field(pattern=r"^[0-9]+$", description="A uint256 as a decimal string.", examples=["30000000000000000000"])
]
GlobalId = Annotated[
    str,
    Field(
        pattern=r"^[0-9]+$",
        description="A global message id `threadId << 64 | index`, as a decimal string.",
        examples=["18446744073709551616"],
    ),
]
Address = Annotated[
    str,
    Field(
        pattern=r"^0x[0-9a-fA-F]{40}$",
        description="An EIP-55 checksummed address.",
        examples=["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"],
    ),
]
Hash32 = Annotated[
    str,
    Field(
        pattern=r"^0x[0-9a-f]{64}$",
        description="A 32-byte hash, lowercase 0x hex.",
        examples=["0x9c22ff5f21f0b81b113e63f7db6da94fedef11b2119b4088b89664fb9a3cb658"],
    ),
]
Count = Annotated[int, Field(ge=0)]

ThreadSort = Literal["price", "activity", "created"]
SortOrder = Literal["asc", "desc"]
SpecStatus = Literal["pending", "approved", "denied", "split", "expired", "refunded"]
MessageKind = Literal["root", "post", "spec"]
AuthorKindName = Literal["human", "ai", "ai_prompted"]
"""`choir_chain.protocol.AuthorKind.label`: a person (ugc), an AI (aigc), an AI on a person's prompt (aiugc)."""
ProposalState = Literal[
    "Pending", "Active", "Canceled", "Defeated", "Succeeded", "Queued", "Expired", "Executed", "Failed"
]

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
THREAD_1 = "0x8464135c8F25Da09e49BC8782676a84730C318bC"
GOVERNOR_1 = "0xC322C66b850c77e2EE8D832f5296856572E5CB8C"
HASH = "0x9c22ff5f21f0b81b113e63f7db6da94fedef11b2119b4088b89664fb9a3cb658"


def examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class BlockRef(BaseModel):
    """A block: its number and hash (null before the indexer applied its first block)."""

    number: Count
    hash: Hash32 | None


class Meta(BaseModel):
    """Which block an answer reflects: the indexer's last applied block; chain values are read at that block."""

    model_config = examples({"block": {"number": 120, "hash": HASH}})

    block: BlockRef


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: `items`, how many there are in all, the page's `limit` and `offset`, the cursor of the
    next page (null on the last) and the block the answer reflects."""

    items: list[T]
    total: Count
    limit: Count
    offset: Count
    next_cursor: str | None = Field(
        default=None,
        description="Pass as `cursor` for the next page (keyset pagination: stable when rows are added); null "
        "when this page is the last.",
    )
    meta: Meta | None = Field(default=None, description="The block this answer reflects.")
