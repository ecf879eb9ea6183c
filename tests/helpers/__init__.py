"""What the test suites share, one module per concern, importable from any test as `helpers.<module>` (the
suites' common `tests/conftest.py` puts `tests/` on the path):

- `world`: a devnet with the protocol deployed and the indexer workload applied (`chain_run`, `ChainRun`, actors),
  table dumps and chain checks for comparing an index with the chain or with a fresh index;
- `index_db`: indexing that chain into a SQLite file and dumping it, for the indexer's tests;
- `pricer_workload`: the pricer tests' scripted workload on a devnet and the prices it should give (`World`,
  `Expected`, `QuickSender`);
- `pricer_runs`: one `--once` pricer run beside an indexer and what the hub holds afterwards (`price_once`,
  `Outcome`, `pricer_statuses`);
- `dataset`: a small indexed community with stored bodies, for the training-data export;
- `contracts`: Ape fixtures' building blocks for the contract tests (deploy, fund, thread actions, time travel);
- `rewards`: the rewards distributor's epoch and scoring helpers for the contract tests;
- `governor`: the thread governor's proposals, votes, signed ballots and a governed thread (`Dao`);
- `hub`: the hub's parameters, pricer batches and a strict `reverts` for the hub tests;
- `dashboard`: the browser (Playwright on Debian's Chromium) and the injected EIP-1193 wallet of the dashboard tests;
- `gateway_tx`: build, sign, relay and refuse gateway transactions, and the chain reads the transaction tests
  check;
- `gateway_reads`: the read-route tests' error-body check and answer helpers;
- `thread_*`: the stateful test of `tests/contracts/test_thread_invariants.py`: its pure-Python model
  (`thread_model`, `thread_model_arithmetic`), ABI codec and transports (`thread_codec`, `thread_transport`), and
  the state machine's base, actions, rules and invariants (`thread_machine_*`, `thread_rules_*`).
"""
