"""The scenario helper (`choir_chain.scenario`) on a devnet: the batched `Community`'s steps do what the contracts
say (thread ids and addresses from their receipts, a denied spec's claim, a price round within its gas, a donation,
a governor's proposal from creation to execution), a reverting step fails naming its label and its decoded custom
error, a reverted snapshot rewinds the sender's nonces, and `SignedCommunity` returns what each step created."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from choir_chain import artifacts
from choir_chain.chain import Chain, dev_accounts
from choir_chain.deploy import CHOIR, Deployment, GovernanceParameters, deploy
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

    with pytest.raises(BatchError, match=r"late vote vote reverted: .*SpecNotPending\(specId=1\)"):  # settled
        c.run([c.vote(1, creators[0], spec_id, True, "late vote")])
    sender.close()


def test_governor_steps_and_a_donation_with_automine_and_a_snapshot(
    devnet: tuple[str, Deployment, list[str]],
) -> None:
    rpc_url, deployment, (funder, _pricer) = devnet
    sender = BatchSender(rpc_url, timeout=5.0)
    c = Community(deployment, sender)
    creator = keyless_address("scenario governance creator")
    sender.prepare([creator], automine=True)
    (created,) = c.run([c.create_thread(creator, b"\x01" * 32, HUMAN)])
    thread_id = c.created_thread(created)
    thread = deployment.thread(thread_id)
    c.run([c.transfer(funder, creator, 100 * CHOIR)])
    c.run(c.donate(thread_id, creator, 100 * CHOIR))
    assert thread.functions.treasury().call() == 100 * CHOIR

    (made,) = c.run([c.create_governor(thread_id, creator)])
    governor = c.created_governor(made)
    assert governor == deployment.hub.functions.governorOf(thread_id).call()
    bound = deployment.chain.contract(artifacts.load("ThreadGovernor"), governor)
    proposal = c.treasury_transfer(thread_id, creator, 40 * CHOIR, "Pay the creator")
    settings = GovernanceParameters()

    def wait(seconds: int) -> None:
        sender.call("evm_increaseTime", [seconds])
        sender.mine_empty()

    wait(2)  # shares held one second before the proposal
    proposal_id = c.proposal_id(c.run([c.propose(governor, creator, proposal)])[0])
    p = proposal
    assert proposal_id == bound.functions.hashProposal(p.targets, p.values, p.calldatas, p.description_hash).call()
    wait(settings.voting_delay + 1)
    c.run([c.cast_vote(governor, creator, proposal_id)])
    wait(settings.voting_period + 1)
    c.run([c.queue(governor, creator, proposal)])
    wait(settings.execution_delay + 1)
    c.run([c.execute(governor, creator, proposal)])
    assert not bound.functions.executionFailed(proposal_id).call()
    assert thread.functions.treasury().call() == 60 * CHOIR
    assert deployment.token.functions.balanceOf(creator).call() == 40 * CHOIR

    snapshot = sender.snapshot()  # the next transfer uses the creator's next nonce ...
    c.run([c.transfer(creator, funder, CHOIR)])
    sender.revert(snapshot)  # ... which the revert gives back: without a recount the next would wait for ever
    c.run([c.transfer(creator, funder, 2 * CHOIR)])
    assert deployment.token.functions.balanceOf(creator).call() == 38 * CHOIR
    with pytest.raises(BatchError, match=r"overdraw transfer reverted: .*ERC20InsufficientBalance\("):
        c.run([c.transfer(creator, funder, 1_000 * CHOIR, "overdraw transfer")])
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
