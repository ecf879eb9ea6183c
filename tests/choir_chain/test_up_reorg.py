"""`choir up` through a reorg (issue 17): the services keep running, the index rolls back and follows the new
branch, and the gateway serves the new chain."""

from __future__ import annotations

from pathlib import Path

from eth_utils import keccak
from helpers.up import choir_up, wait_for

from choir_chain.chain import Chain, dev_accounts
from choir_chain.deploy import deploy
from choir_chain.devnet import DEV_MNEMONIC, Devnet, rpc_call


def test_up_stays_up_through_a_reorg_and_serves_the_new_branch(tmp_path: Path) -> None:
    with Devnet(tmp_path / "chain") as node:
        admin, pricer, alice, bob = dev_accounts(DEV_MNEMONIC, 4)
        chain = Chain.connect(node.rpc_url)
        deployment = deploy(chain, admin, pricer=pricer.address)
        manifest = deployment.manifest.write(tmp_path / "deployments")
        hub = deployment.hub
        with choir_up(tmp_path, "--rpc", node.rpc_url, "--manifest", str(manifest)) as up:
            wait_for("the indexer", lambda: up.get("/health")["indexer_lag"] == 0, up)
            fork_point = rpc_call(node.rpc_url, "evm_snapshot", [])
            chain.transact(hub.functions.createThread(keccak(text="the old branch"), 0), alice)
            chain.transact(hub.functions.createThread(keccak(text="also the old branch"), 0), alice)
            old = wait_for(
                "the old branch indexed", lambda: up.get("/threads")["total"] == 2 and up.get("/threads"), up
            )
            old_block = old["meta"]["block"]

            # The two blocks are replaced: a different thread at the same height, then blocks past the old head.
            rpc_call(node.rpc_url, "evm_revert", [fork_point])
            chain.transact(hub.functions.createThread(keccak(text="the new branch"), 0), bob)
            rpc_call(node.rpc_url, "anvil_mine", ["0xa"])

            def on_new_branch() -> bool:
                page = up.get("/threads")
                return page["total"] == 1 and page["items"][0]["creator"] == bob.address and page

            page = wait_for("the new branch indexed", on_new_branch, up, timeout=120)
            (thread,) = page["items"]
            assert thread["content_hash"] == "0x" + keccak(text="the new branch").hex()
            assert page["meta"]["block"]["hash"] != old_block["hash"]
            head = chain.w3.eth.get_block("latest")

            # `/health` is shared for its TTL (0.5 s): wait for a status taken after the new blocks.
            def caught_up() -> bool:
                health = up.get("/health")
                return health["chain_head"] >= head["number"] and health["indexer_lag"] == 0 and health

            assert wait_for("a caught-up index", caught_up, up)["status"] == "ok"
            assert up.process.poll() is None, "choir up stopped on a reorg"
            assert "Traceback" not in up.output()
            assert "rolled back" in (up.run_dir / "indexer.log").read_text()
            assert "indexer  reorg: blocks" in up.output()  # and on the console
