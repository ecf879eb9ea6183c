"""ChoirToken: supply, cap, minter role, permit (protocol section 1)."""

from __future__ import annotations

import ape
import pytest
from eth_account import Account

from choir_chain.permit import sign_permit

CHOIR = 10**18


def test_genesis_mints_cap_minus_reward_pool(token, admin):
    assert token.MAX_SUPPLY() == 10_000_000_000 * CHOIR
    assert token.REWARD_POOL() == 2_500_000_000 * CHOIR
    assert token.totalSupply() == 7_500_000_000 * CHOIR
    assert token.cap() == token.MAX_SUPPLY()
    assert token.decimals() == 18
    assert token.symbol() == "CHOIR"


def test_only_minter_role_mints(token, admin, outsiders):
    with ape.reverts(token.AccessControlUnauthorizedAccount):
        token.mint(outsiders[0], CHOIR, sender=outsiders[0])
    with ape.reverts(token.AccessControlUnauthorizedAccount):
        token.mint(outsiders[0], CHOIR, sender=admin)  # the admin is not a minter either
    token.grantRole(token.MINTER_ROLE(), outsiders[1], sender=admin)
    before = token.balanceOf(outsiders[0])
    token.mint(outsiders[0], 5 * CHOIR, sender=outsiders[1])
    assert token.balanceOf(outsiders[0]) == before + 5 * CHOIR


def test_cap_holds(token, admin, outsiders):
    token.grantRole(token.MINTER_ROLE(), admin, sender=admin)
    room = token.cap() - token.totalSupply()
    with ape.reverts(token.ERC20ExceededCap):
        token.mint(outsiders[0], room + 1, sender=admin)
    token.mint(outsiders[0], room, sender=admin)
    assert token.totalSupply() == token.cap()


def test_constructor_rejects_zero_addresses(project, admin):
    zero = "0x" + "00" * 20
    with ape.reverts(project.ChoirToken.ZeroAddress):
        admin.deploy(project.ChoirToken, zero, admin)
    with ape.reverts(project.ChoirToken.ZeroAddress):
        admin.deploy(project.ChoirToken, admin, zero)


@pytest.fixture
def signer():
    return Account.create()


def test_permit_sets_allowance_and_rejects_replay(token, chain, signer, outsiders):
    deadline = chain.pending_timestamp + 3600
    v, r, s = sign_permit(signer, token.address, chain.chain_id, outsiders[0].address, 7 * CHOIR, 0, deadline)
    token.permit(signer.address, outsiders[0], 7 * CHOIR, deadline, v, r, s, sender=outsiders[0])
    assert token.allowance(signer.address, outsiders[0]) == 7 * CHOIR
    assert token.nonces(signer.address) == 1
    with ape.reverts(token.ERC2612InvalidSigner):
        token.permit(signer.address, outsiders[0], 7 * CHOIR, deadline, v, r, s, sender=outsiders[0])
