"""Who wrote a message, as its submitter declares on chain (protocol section 7).

The contracts take the kind as a `uint8` (`IThreadDAO.AuthorKind`) and carry it in `MessagePosted` and
`SpecSubmitted`; the indexer, the gateway and the dataset export use the names below.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["AUTHOR_KIND_NAMES", "AuthorKind", "parse_author_kind"]


class AuthorKind(IntEnum):
    """The on-chain value of each kind; `label` is its name in Choir's vocabulary."""

    HUMAN = 0
    """A person wrote it (user-generated content, ugc)."""
    AI = 1
    """An AI wrote it on its own (AI-generated content, aigc)."""
    AI_PROMPTED = 2
    """An AI wrote it on a person's prompt (aiugc)."""

    @property
    def label(self) -> str:
        """`human`, `ai` or `ai_prompted`: the name used by the indexer, the gateway and the export."""
        return self.name.lower()

    @property
    def content_class(self) -> str:
        """`ugc`, `aigc` or `aiugc`."""
        return ("ugc", "aigc", "aiugc")[self.value]


AUTHOR_KIND_NAMES: tuple[str, ...] = tuple(kind.label for kind in AuthorKind)
"""Every kind's name, in on-chain order: `("human", "ai", "ai_prompted")`."""


def parse_author_kind(value: str | int) -> AuthorKind:
    """The kind named `value` (`human`/`ai`/`ai_prompted`, `ugc`/`aigc`/`aiugc`, or its on-chain number).

    Raises `ValueError` naming the accepted values for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return AuthorKind(value)
        except ValueError:
            pass
    elif isinstance(value, str):
        text = value.strip().lower()
        for kind in AuthorKind:
            if text in (kind.label, kind.content_class, str(kind.value)):
                return kind
    accepted = ", ".join(f"{k.label} ({k.content_class}, {k.value})" for k in AuthorKind)
    raise ValueError(f"unknown author kind {value!r}; expected one of {accepted}")
