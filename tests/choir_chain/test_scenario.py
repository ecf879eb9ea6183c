"""The scenario helper (`choir_chain.scenario`) on a devnet: the batched `Community`'s steps do what the contracts
say (thread ids and addresses from their receipts, a denied spec's claim, a price round within its gas), a
reverting step fails naming its label, and `SignedCommunity` returns what each step created."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from choir_chain.chain import Chain, dev_accounts
from choir_chain.deploy import CHOIR, Deployment, deploy
from choir_chain.devnet import DEV_MNEMONIC, Devnet
from choir_chain.protocol import AuthorKind
from choir_chain.scenario.batch import BatchError, BatchSender
from choir_chain.scenario.community import Community, keyless_address
from choir_chain.scenario.receipts import single
from choir_chain.scenario.signed import SignedCommunity

HUMAN = AuthorKind.HUMAN


@pytest.fixture()
def devnet(tmp_path: Path) -> Iterator[tuple[str, Deployment, list[str]]]:
    with Devnet(tmp_path / "devnet") as net:
        deployer, pricer = dev_accounts(DEV_MNEMONIC, 2)
        deployment = deploy(Chain.connect(net.rpc_url), deployer, pricer=pricer.address)
        yield net.rpc_url, deployment, [deployer.address, pricer.address]


def test_batched_steps_follow_the_contracts(devnet: tuple[str, Deployment, list[str]]) -> None:
    rpc_url, deployment, (funder, pricer) = devnet
    sender = BatchSender(rpc_url)
    c = Community(deployment, sender)
    creators = [keyless_address(f"scenario test creator {i}") for i in range(2)]
    staker = keyless_address("scenario test staker")
    sender.prepare([*creators, staker])
    sender.call("anvil_setBlockTimestampInterval", [1])
    c.send([c.transfer(funder, staker, 1_000 * CHOIR)])
    c.send([c.create_thread(creator, f"0x{i + 1:064x}", HUMAN, f"root {i}") for i, creator in enumerate(creators)])
    receipts = c.mine()
    ids = sorted(c.created_thread(r) for r in receipts[1:])
    assert ids == [1, 2]
    assert c.threads == {t: deployment.thread(t).address for t in ids}

    stake = int(deployment.hub.functions.price(1).call())
    spec_id = c.spec_id(c.run(c.stake_spec(1, staker, b"\x07" * 32, [], stake, HUMAN, "spec"))[1])
    assert spec_id == 1
    c.run([c.vote(1, creators[0], spec_id, False)])
    (settled,) = c.run([c.settle(1, staker, spec_id)])
    assert single(settled, c.dao, "SpecSettled")["denials"] == 1
    (claimed,) = c.run([c.claim(1, creators[0], [spec_id])])
    assert single(claimed, c.dao, "CuratorRewardClaimed")["amount"] == stake  # the only denier
    assert c.run([]) == []

    c.run([c.update_prices(pricer, ids, [40 * CHOIR, 50 * CHOIR], 1)])
    assert [deployment.hub.functions.pricePoint(t).call()[2] for t in ids] == [1, 1]

    with pytest.raises(BatchError, match="late vote"):  # the spec is settled: the vote reverts
        c.run([c.vote(1, creators[0], spec_id, True, "late vote")])
    sender.close()


def test_signed_steps_return_what_they_created(tmp_path: Path) -> None:
    with Devnet(tmp_path / "devnet") as net:
        admin, pricer, alice, bob = dev_accounts(DEV_MNEMONIC, 4)
        deployment = deploy(Chain.connect(net.rpc_url), admin, pricer=pricer.address)
        c = SignedCommunity(deployment)
        c.transfer(admin, bob.address, 1_000 * CHOIR)
        thread_id, block = c.create_thread(alice, b"\x01" * 32, HUMAN)
        assert (thread_id, block) == (1, deployment.chain.w3.eth.block_number)
        c.advance(2)
        assert c.post(thread_id, alice, b"\x02" * 32, [], HUMAN)[0] == 1
        spec_id, _ = c.submit_spec(thread_id, bob, b"\x03" * 32, [], c.price(thread_id), HUMAN)
        assert spec_id == 2 and c.status(thread_id, spec_id) == "pending"
        c.vote(thread_id, alice, spec_id, True)
        c.settle(thread_id, bob, spec_id)
        assert c.status(thread_id, spec_id) == "approved"
        assert c.thread(thread_id).functions.isCoauthor(bob.address).call()
