"""`choir up` (`make run`): a devnet, the deployment, a seeded demo community, and the indexer, the pricer and the
gateway running together until Ctrl-C; or, with `--rpc` and `--manifest`, the same services over an existing chain.

One process runs everything but anvil: the gateway (uvicorn) in the main thread, the indexer and the pricer each
in a thread of their own, all three over one SQLite database in the run folder. Ctrl-C or SIGTERM stops the
gateway, then the pricer and the indexer (they finish their current step), then anvil, and leaves nothing
running. Every file goes into the run folder (`run_folder`).

The pricer also scores the novelty of every stored message body (`choir_chain.pricer.novelty`) unless
`--no-novelty`: the embedding model (about 10 s to load) is warmed in a background thread from the start, while
the devnet is deployed and seeded, and the pricer's first novelty round goes out as soon as it is ready.

A service that fails for good (e.g. the pricer giving up after repeated rejected rounds) stops the whole stack
with a one-line error and exit status 1, rather than leaving a dashboard over a stale chain.

By concern: `options` (configuration and errors), `run_folder` (files and `up.json`), `bootstrap` (devnet,
deployment and seed, or an existing chain), `supervise` (the service threads), `gateway` (socket, URL and the
gateway app, found through an entry point so the library never imports the gateway), `console` (what is
printed), `logs`, and `stack` (the order of it all).
"""

from choir_chain.up.options import DEFAULT_HOST, DEFAULT_PORT, UpError, UpOptions
from choir_chain.up.stack import up

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "UpError", "UpOptions", "up"]
