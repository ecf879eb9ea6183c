"""Signed ThreadGovernor votes (EIP-712 ballots): `castVoteBySig` and `castVoteBySigWithDeadline` count once and
refuse replays, other keys, other terms, other governors and expired deadlines; a fresh key joins and votes by
signature through a relayer.
"""

from __future__ import annotations

import ape
import pytest
from eth_account import Account
from eth_utils import to_checksum_address
from helpers.contracts import CHOIR, DAY, HUMAN, content
from helpers.governor import AGAINST, FOR, create_governor, key_of, open_vote, propose, sign_ballot

pytestmark = pytest.mark.usefixtures("quiet_reverts")  # dozens of expected reverts: see conftest.py


def test_cast_vote_by_sig_counts_once(chain, dao, outsiders):
    governor, thread = dao.governor, dao.thread
    third = dao.members[2]
    relayer = outsiders[0]
    proposal = propose(governor, dao.members[0], [(thread, thread.setApprovalWindow.encode_input(DAY))], "sig")
    open_vote(chain, proposal)
    assert governor.nonces(third) == 0
    signature = sign_ballot(key_of(third), governor, chain.chain_id, proposal.id, FOR, third.address, 0)
    receipt = governor.castVoteBySig(proposal.id, FOR, third, signature, sender=relayer)
    event = receipt.decode_logs(governor.VoteCast)[0]
    assert (event.voter, event.support, event.weight) == (third.address, FOR, 2 * CHOIR)
    assert governor.nonces(third) == 1
    assert proposal.votes() == (0, 2 * CHOIR, 0)
    # replay: the nonce moved, so the same signature now recovers to someone else
    with ape.reverts(governor.GovernorInvalidSignature, voter=third.address):
        governor.castVoteBySig(proposal.id, FOR, third, signature, sender=relayer)
    # a fresh signature with the next nonce is valid but the voter has voted
    again = sign_ballot(key_of(third), governor, chain.chain_id, proposal.id, AGAINST, third.address, 1)
    with ape.reverts(governor.GovernorAlreadyCastVote, voter=third.address):
        governor.castVoteBySig(proposal.id, AGAINST, third, again, sender=relayer)
    # a signature by another key than the voter's, and one for other terms, are refused
    second = dao.members[1]
    forged = sign_ballot(Account.create().key, governor, chain.chain_id, proposal.id, FOR, second.address, 0)
    with ape.reverts(governor.GovernorInvalidSignature, voter=second.address):
        governor.castVoteBySig(proposal.id, FOR, second, forged, sender=relayer)
    honest = sign_ballot(key_of(second), governor, chain.chain_id, proposal.id, AGAINST, second.address, 0)
    with ape.reverts(governor.GovernorInvalidSignature, voter=second.address):
        governor.castVoteBySig(proposal.id, FOR, second, honest, sender=relayer)  # support changed
    assert proposal.votes() == (0, 2 * CHOIR, 0)
    assert not governor.hasVoted(proposal.id, second) and governor.nonces(second) == 0


def test_cast_vote_by_sig_with_deadline(chain, threads, project, hub, dao, outsiders):
    governor, thread = dao.governor, dao.thread
    second, third = dao.members[1], dao.members[2]
    relayer = outsiders[0]
    proposal = propose(governor, dao.members[0], [(thread, thread.setApprovalWindow.encode_input(DAY))], "sig")
    open_vote(chain, proposal)
    start = chain.pending_timestamp
    deadline = start + 3600
    signature = sign_ballot(key_of(second), governor, chain.chain_id, proposal.id, AGAINST, second.address, 0, deadline)
    receipt = governor.castVoteBySigWithDeadline(proposal.id, AGAINST, second, deadline, signature, sender=relayer)
    event = receipt.decode_logs(governor.VoteCast)[0]
    assert (event.voter, event.support, event.weight) == (second.address, AGAINST, CHOIR)
    assert governor.nonces(second) == 1
    with ape.reverts(governor.GovernorInvalidSignature, voter=second.address):  # replay
        governor.castVoteBySigWithDeadline(proposal.id, AGAINST, second, deadline, signature, sender=relayer)
    with ape.reverts(governor.GovernorInvalidSignature, voter=second.address):  # as a plain Ballot
        governor.castVoteBySig(proposal.id, AGAINST, second, signature, sender=relayer)

    key = key_of(third)
    # a later deadline than signed, a signature by another key, one for another governor: all refused
    signed = sign_ballot(key, governor, chain.chain_id, proposal.id, FOR, third.address, 0, deadline)
    with ape.reverts(governor.GovernorInvalidSignature, voter=third.address):
        governor.castVoteBySigWithDeadline(proposal.id, FOR, third, deadline + 1, signed, sender=relayer)
    forged = sign_ballot(Account.create().key, governor, chain.chain_id, proposal.id, FOR, third.address, 0,
                         deadline)  # fmt: skip
    with ape.reverts(governor.GovernorInvalidSignature, voter=third.address):
        governor.castVoteBySigWithDeadline(proposal.id, FOR, third, deadline, forged, sender=relayer)
    other = create_governor(project, hub, threads.create(outsiders[1], "other"), outsiders[1])
    elsewhere = sign_ballot(key, other, chain.chain_id, proposal.id, FOR, third.address, 0, deadline)
    with ape.reverts(governor.GovernorInvalidSignature, voter=third.address):
        governor.castVoteBySigWithDeadline(proposal.id, FOR, third, deadline, elsewhere, sender=relayer)

    # expiry: valid through the deadline second, refused after it
    late = chain.pending_timestamp + 10
    expiring = sign_ballot(key, governor, chain.chain_id, proposal.id, FOR, third.address, 0, late)
    chain.pending_timestamp = late + 1
    with ape.reverts(governor.SignatureExpired, deadline=late):
        governor.castVoteBySigWithDeadline(proposal.id, FOR, third, late, expiring, sender=relayer)
    assert governor.nonces(third) == 0 and not governor.hasVoted(proposal.id, third)
    on_time = chain.pending_timestamp + 5
    signed = sign_ballot(key, governor, chain.chain_id, proposal.id, FOR, third.address, 0, on_time)
    chain.pending_timestamp = on_time
    governor.castVoteBySigWithDeadline(proposal.id, FOR, third, on_time, signed, sender=relayer)
    assert proposal.votes() == (CHOIR, 2 * CHOIR, 0)


def test_a_fresh_key_joins_and_votes_by_signature(chain, threads, hub, token, admin, dao):
    """The spec flow end to end for a key the test holds: funded, it stakes with its own transaction, is
    approved, and a relayer carries its signed vote on a later proposal."""
    governor, thread = dao.governor, dao.thread
    signer = Account.create()
    price = hub.price(thread.threadId())
    token.transfer(signer.address, 2 * price, sender=admin)
    admin.transfer(signer.address, 10**18)  # ether for gas
    w3 = chain.provider.web3
    abis = {
        name: [abi.model_dump(by_alias=True, mode="json") for abi in contract.contract_type.abi]
        for name, contract in (("token", token), ("thread", thread))
    }
    for name, address, call in (
        ("token", token.address, lambda c: c.functions.approve(thread.address, 2 * price)),
        ("thread", thread.address, lambda c: c.functions.submitSpec(content("fresh key"), [], 2 * price, HUMAN)),
    ):
        contract = w3.eth.contract(address=to_checksum_address(address), abi=abis[name])
        tx = call(contract).build_transaction(
            {
                "from": signer.address,
                "nonce": w3.eth.get_transaction_count(signer.address),
                "chainId": chain.chain_id,
            }
        )
        tx_hash = w3.eth.send_raw_transaction(signer.sign_transaction(tx).raw_transaction)
        assert w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1
    spec_id = thread.messageCount() - 1
    assert thread.getSpec(spec_id).author == signer.address
    for member in dao.members:
        thread.vote(spec_id, True, sender=member)
    thread.settle(spec_id, sender=admin)
    threads.tick()
    assert thread.isCoauthor(signer.address)

    proposal = propose(governor, dao.members[0], [(thread, thread.setApprovalWindow.encode_input(DAY))], "fresh")
    open_vote(chain, proposal)
    signature = sign_ballot(signer.key, governor, chain.chain_id, proposal.id, FOR, signer.address, 0)
    receipt = governor.castVoteBySig(proposal.id, FOR, signer.address, signature, sender=admin)
    assert receipt.decode_logs(governor.VoteCast)[0].weight == thread.sharesOf(signer.address) > 0
    assert proposal.votes() == (0, thread.sharesOf(signer.address), 0)
