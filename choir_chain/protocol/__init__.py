"""Protocol types every layer shares (contracts, indexer, pricer, gateway, export, simulation): pure, no I/O.

- `ids`: global message ids (`threadId << 64 | index`), the one place that packs and unpacks them.
- `spec_status`: a spec's status on chain (`IThreadDAO.SpecStatus`) and its names.
- `author_kind`: who wrote a message (`IThreadDAO.AuthorKind`).
- `units`: CHOIR's 18 decimals and the fixed-point one of on-chain fractions.
- `approval`: a thread's approval threshold (unanimity by default) and its bounds.
- `governance`: a governor proposal's actions and description (`Proposal`), and the vote `FOR`.
"""

from choir_chain.protocol.approval import MIN_APPROVAL_THRESHOLD_BPS, UNANIMOUS_BPS, is_valid_threshold
from choir_chain.protocol.author_kind import AUTHOR_KIND_NAMES, AuthorKind, parse_author_kind
from choir_chain.protocol.ids import INDEX_BITS, message_id, message_ids, split_message_id
from choir_chain.protocol.spec_status import SPEC_OUTCOMES, SpecStatus
from choir_chain.protocol.units import CHOIR, WAD

__all__ = [
    "AUTHOR_KIND_NAMES",
    "CHOIR",
    "INDEX_BITS",
    "MIN_APPROVAL_THRESHOLD_BPS",
    "SPEC_OUTCOMES",
    "UNANIMOUS_BPS",
    "WAD",
    "AuthorKind",
    "SpecStatus",
    "is_valid_threshold",
    "message_id",
    "message_ids",
    "parse_author_kind",
    "split_message_id",
]
