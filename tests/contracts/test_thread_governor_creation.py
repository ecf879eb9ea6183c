"""ThreadGovernor's creation and settings (protocol sections 5 and 8): the `dao` fixture, the governor's views (an
EIP-1167 clone of the implementation carrying its settings as immutable arguments), the hub's governance settings
(`setGovernance`) and `createGovernor`, at most once per thread.

Every thread gets at most one governor, created by a co-author; the attacks of the security review (protocol r2)
have their own module, test_governance_attacks.py. The helpers are in `helpers.governor`.
"""

from __future__ import annotations

import ape
import pytest
from eth_utils import keccak
from helpers.contracts import CHOIR, DAY, GOVERNANCE_DEFAULTS, HUB_DEFAULTS, HUMAN, content
from helpers.governor import ZERO_ADDRESS, create_governor

EIP1167_PREFIX = bytes.fromhex("363d3d373d3d3d363d73")
EIP1167_SUFFIX = bytes.fromhex("5af43d82803e903d91602b57fd5bf3")

pytestmark = pytest.mark.usefixtures("quiet_reverts")  # dozens of expected reverts: see conftest.py


def test_dao_fixture_has_unequal_shares_and_a_funded_treasury(dao, hub, token):
    creator, second, third, fourth = (dao.shares(m) for m in dao.members)
    assert (creator, second, third) == (CHOIR, CHOIR, 2 * CHOIR)
    assert fourth == 4 * CHOIR // 3  # a quarter of the new total: 4e18 * (1/4) / (3/4)
    assert dao.thread.totalShares() == creator + second + third + fourth
    price = hub.price(dao.thread.threadId())
    assert dao.thread.treasury() == 20 * price // 3 == 200 * CHOIR
    assert dao.thread.lockedBalance() == 0
    assert token.balanceOf(dao.thread) == dao.thread.treasury()


def test_governor_views(dao, hub, governor_implementation, chain):
    governor, thread = dao.governor, dao.thread
    assert governor.thread() == thread.address
    assert governor.quorumBps() == GOVERNANCE_DEFAULTS["quorumBps"]
    assert governor.executionDelay() == GOVERNANCE_DEFAULTS["executionDelay"]
    assert governor.votingDelay() == GOVERNANCE_DEFAULTS["votingDelay"]
    assert governor.votingPeriod() == GOVERNANCE_DEFAULTS["votingPeriod"]
    assert governor.name() == "ThreadGovernor"
    assert governor.version() == "1"
    assert governor.CLOCK_MODE() == "mode=timestamp"
    assert governor.COUNTING_MODE() == "support=bravo&quorum=for,abstain"
    assert governor.proposalThreshold() == 1
    ballot_type = "BallotWithDeadline(uint256 proposalId,uint8 support,address voter,uint256 nonce,uint256 deadline)"
    assert governor.BALLOT_WITH_DEADLINE_TYPEHASH() == keccak(text=ballot_type)
    domain = governor.eip712Domain()
    assert (domain[1], domain[2], domain[3]) == ("ThreadGovernor", "1", chain.chain_id)
    assert domain[4] == governor.address
    # the thread and the hub know it; it is a clone of the implementation carrying the settings as arguments
    assert thread.governor() == governor.address
    assert hub.governorOf(thread.threadId()) == governor.address
    code = bytes(chain.provider.get_code(governor.address))
    args = (
        bytes.fromhex(thread.address[2:])
        + GOVERNANCE_DEFAULTS["votingDelay"].to_bytes(4, "big")
        + GOVERNANCE_DEFAULTS["votingPeriod"].to_bytes(4, "big")
        + GOVERNANCE_DEFAULTS["quorumBps"].to_bytes(2, "big")
        + GOVERNANCE_DEFAULTS["executionDelay"].to_bytes(4, "big")
    )
    implementation = bytes.fromhex(governor_implementation.address[2:])
    assert code == EIP1167_PREFIX + implementation + EIP1167_SUFFIX + args
    # quorum: half of all shares at a past timepoint
    past = chain.blocks.head.timestamp - 1
    assert governor.quorum(past) == thread.getPastTotalSupply(past) * 5_000 // 10_000
    assert governor.getVotes(dao.members[2], past) == dao.shares(dao.members[2])


def test_hub_governance_settings(hub, governor_implementation):
    settings = hub.governanceSettings()
    assert settings.implementation == governor_implementation.address
    assert (
        settings.votingDelay,
        settings.votingPeriod,
        settings.quorumBps,
        settings.executionDelay,
    ) == tuple(GOVERNANCE_DEFAULTS.values())


def test_create_governor_once_per_existing_thread(threads, thread, hub, project, creator, outsiders):
    thread_id = thread.threadId()
    assert thread.governor() == ZERO_ADDRESS and hub.governorOf(thread_id) == ZERO_ADDRESS
    receipt = hub.createGovernor(thread_id, sender=creator)  # a co-author (test_governance_attacks: only one)
    governor = receipt.decode_logs(hub.GovernorCreated)[0].governor
    assert receipt.decode_logs(thread.GovernorSet)[0].governor == governor
    assert thread.governor() == governor == hub.governorOf(thread_id)
    with ape.reverts(hub.GovernorExists, threadId=thread_id, governor=governor):
        hub.createGovernor(thread_id, sender=creator)
    with ape.reverts(hub.UnknownThread, threadId=hub.threadCount() + 1):
        hub.createGovernor(hub.threadCount() + 1, sender=creator)
    assert outsiders[0] != creator
    with ape.reverts(hub.UnknownThread, threadId=0):
        hub.createGovernor(0, sender=creator)
    assert thread.governor() == governor


def test_create_governor_needs_governance_settings(project, admin, token, creator):
    bare = admin.deploy(project.ChoirHub, token, (admin, *HUB_DEFAULTS.values()))
    receipt = bare.createThread(content("no governance yet"), HUMAN, sender=creator)
    thread_id = receipt.decode_logs(bare.ThreadCreated)[0].threadId
    with ape.reverts(bare.GovernanceNotSet):
        bare.createGovernor(thread_id, sender=creator)
    assert bare.governorOf(thread_id) == ZERO_ADDRESS


def test_set_governance_is_admin_only(hub, governor_implementation, pricer, outsiders):
    settings = (governor_implementation, *GOVERNANCE_DEFAULTS.values())
    for caller in (pricer, outsiders[0]):
        with ape.reverts(hub.AccessControlUnauthorizedAccount, account=caller.address):
            hub.setGovernance(settings, sender=caller)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("implementation", None),  # an account without code
        ("votingDelay", 0),  # shares changed in the proposal's own second would count
        ("votingDelay", 30 * DAY + 1),
        ("votingPeriod", 3600 - 1),
        ("votingPeriod", 90 * DAY + 1),
        ("quorumBps", 0),
        ("quorumBps", 10_001),
        ("executionDelay", 30 * DAY + 1),
    ],
)
def test_set_governance_rejects_invalid_values(hub, admin, governor_implementation, outsiders, field, value):
    settings = {"implementation": governor_implementation.address, **GOVERNANCE_DEFAULTS}
    settings[field] = value if value is not None else outsiders[0].address
    before = hub.governanceSettings()
    with ape.reverts(hub.InvalidParameter, parameter=field):
        hub.setGovernance(tuple(settings.values()), sender=admin)
    assert hub.governanceSettings() == before


def test_set_governance_accepts_edges_and_applies_to_new_governors_only(
    threads, project, hub, admin, governor_implementation, coauthors
):
    first = threads.create(coauthors[0], "first")
    old = create_governor(project, hub, first, coauthors[0])
    for edges in ((1, 3600, 1, DAY), (30 * DAY, 90 * DAY, 10_000, 30 * DAY)):
        receipt = hub.setGovernance((governor_implementation, *edges), sender=admin)
        event = receipt.decode_logs(hub.GovernanceSet)[0]
        assert (event.votingDelay, event.votingPeriod, event.quorumBps, event.executionDelay) == edges
    second = threads.create(coauthors[1], "second")
    new = create_governor(project, hub, second, coauthors[1])
    assert (new.votingDelay(), new.votingPeriod(), new.quorumBps(), new.executionDelay()) == (
        30 * DAY, 90 * DAY, 10_000, 30 * DAY,
    )  # fmt: skip
    assert (old.votingDelay(), old.votingPeriod(), old.quorumBps(), old.executionDelay()) == tuple(
        GOVERNANCE_DEFAULTS.values()
    )
    assert new.thread() == second.address and old.thread() == first.address
