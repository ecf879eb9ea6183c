"""The scenario helper: one way to drive a community on a devnet, for the benchmarks, the demo seed, the
simulation's devnet engine, the adversarial strategies' devnet and the tests' world (docs/architecture.md,
"Scenarios").

- `batch`: `BatchSender`, JSON-RPC batches of unsigned transactions from impersonated addresses, mined on demand,
  every receipt checked.
- `gas`: the gas limits of batched steps (nothing is estimated against a state not mined yet).
- `receipts`: events decoded out of raw receipts (thread ids, spec ids, outcomes).
- `community`: `Community`, one method per protocol step as a batched transaction.
- `governance`: `Proposal`, a governor proposal as both communities build it.
- `signed`: `SignedCommunity`, the same steps signed by development accounts, one transaction each.
"""
