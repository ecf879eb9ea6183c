"""The one chain layer: every module that talks to a node goes through it.

- `rpc`: the JSON-RPC transport with one retry policy (`RetryPolicy`), log fetching that shrinks refused ranges.
- `client`: the web3.py client (`Chain`): contract bindings, local signing, receipts with a small poll latency.
- `gas`: the one gas-margin rule for every transaction Choir sends or builds.
"""

from choir_chain.chain.client import RECEIPT_POLL_SECONDS, Chain, TransactionFailed, dev_accounts
from choir_chain.chain.gas import gas_limit

__all__ = ["RECEIPT_POLL_SECONDS", "Chain", "TransactionFailed", "dev_accounts", "gas_limit"]
