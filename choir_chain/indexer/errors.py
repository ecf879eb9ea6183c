"""What the indexer refuses to do, each with a message that says what to do about it."""

from __future__ import annotations


class IndexerError(RuntimeError):
    """The indexer cannot go on: wrong chain, wrong database, or data that contradicts what it indexed."""


class ChainMismatch(IndexerError):
    """The RPC serves another chain than the manifest's, or the database follows another deployment."""


class ReorgDetected(IndexerError):
    """A block the database already holds is no longer on the chain (a reorg deeper than the confirmation
    depth, or a devnet restarted under the same database)."""


class InconsistentEvent(IndexerError):
    """An event refers to a row the database does not hold (a thread, spec or co-author never seen)."""


class ConcurrentWriter(IndexerError):
    """Another indexer advanced the same database's cursor while this one was applying a range."""
