"""A thread's title: what a person reads in the thread list instead of an address."""

from __future__ import annotations

TITLE_CHARS = 80


def title_of(body: str | None) -> str | None:
    """The opening words of the root message's first non-empty line, at most `TITLE_CHARS` characters, cut at a
    word and marked with an ellipsis when longer (null while the body is not stored)."""
    if body is None:
        return None
    line = next((x.strip() for x in body.splitlines() if x.strip()), "")
    if len(line) <= TITLE_CHARS:
        return line or None
    cut = line[: TITLE_CHARS - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,;:.-") + "…"
