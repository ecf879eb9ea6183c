"""What the test suites share, one module per concern, importable from any test as `helpers.<module>` (the
suites' common `tests/conftest.py` puts `tests/` on the path):

- `world`: a devnet with the protocol deployed and the indexer workload applied (`chain_run`, `ChainRun`, actors),
  table dumps and chain checks for comparing an index with the chain or with a fresh index;
- `dataset`: a small indexed community with stored bodies, for the training-data export;
- `contracts`: Ape fixtures' building blocks for the contract tests (deploy, fund, thread actions, time travel);
- `rewards`: the rewards distributor's epoch and scoring helpers for the contract tests;
- `governor`: the thread governor's proposals, votes, signed ballots and a governed thread (`Dao`);
- `hub`: the hub's parameters, pricer batches and a strict `reverts` for the hub tests;
- `dashboard`: the browser (Playwright on Debian's Chromium) and the injected EIP-1193 wallet of the dashboard tests.
"""
