"""The one chain layer: every module that talks to a node goes through it.

- `rpc`: the JSON-RPC transport with one retry policy (`RetryPolicy`) that also waits out providers' rate limits
  (HTTP 429 `Retry-After`); an error answer (`RpcError`) names a revert's custom error.
- `logs`: `eth_getLogs` over ranges a provider accepts (the range its error suggests, else halves).
- `events`: logs to named event arguments for every reader (indexer, gateway, pricer, benchmarks): web3.py's
  `get_event_data` as the reference and for every shape, one fast path for the hot events (`event_words`).
- `revert`: revert data to the custom error's name, arguments and NatSpec notice (gateway and services alike).
- `client`: the web3.py client (`Chain`): contract bindings, local signing, receipts with a small poll latency.
- `gas`: the one gas-margin rule for every transaction Choir sends or builds.
"""

from choir_chain.chain.client import RECEIPT_POLL_SECONDS, Chain, TransactionFailed, dev_accounts
from choir_chain.chain.gas import gas_limit

__all__ = ["RECEIPT_POLL_SECONDS", "Chain", "TransactionFailed", "dev_accounts", "gas_limit"]
