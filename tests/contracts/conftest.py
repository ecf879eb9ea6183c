"""Fixtures for the contract tests: a deployed token and hub, funded accounts, thread helpers, a governed thread
(`dao`), the hub tests' unpriced threads (`ids`) and the quieting of revert printouts (`quiet_reverts`).

Ape isolates every test (chain snapshot and revert), so module-scoped deployments are cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from ape_ethereum import trace as ape_trace
from helpers.contracts import CHOIR, DAY, GOVERNANCE_DEFAULTS, HUB_DEFAULTS, HUMAN, content  # noqa: F401 (re-exported)
from helpers.governor import Builder, new_dao
from helpers.hub import create_threads


@pytest.fixture(scope="module")
def quiet_reverts():
    """Skip printing a call trace for every revert; modules that expect many reverts use it
    (`pytestmark = pytest.mark.usefixtures("quiet_reverts")`).

    Ape's foundry provider renders and prints the enriched call trace of each reverted transaction, which takes
    a good part of a second each, most of such a module's run time on anvil. Printing only: what reverts, and
    how, is checked all the same.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ape_trace.Trace, "show", lambda self, *args, **kwargs: None)
        yield


@pytest.fixture(scope="module")
def admin(accounts):
    return accounts[0]


@pytest.fixture(scope="module")
def pricer(accounts):
    return accounts[1]


@pytest.fixture(scope="module")
def creator(accounts):
    return accounts[2]


@pytest.fixture(scope="module")
def coauthors(accounts):
    """Accounts 2-5: the creator first."""
    return [accounts[i] for i in range(2, 6)]


@pytest.fixture(scope="module")
def outsiders(accounts):
    """Accounts 6-9: stakers who are not co-authors."""
    return [accounts[i] for i in range(6, 10)]


@pytest.fixture(scope="module")
def token(project, admin, accounts):
    token = admin.deploy(project.ChoirToken, admin, admin)
    for account in list(accounts)[2:10]:
        token.transfer(account, 1_000_000 * CHOIR, sender=admin)
    return token


@pytest.fixture(scope="module")
def governor_implementation(project, admin):
    return admin.deploy(project.ThreadGovernor)


@pytest.fixture(scope="module")
def hub(project, admin, pricer, token, governor_implementation):
    """The hub with the pricer role granted and governance configured (`createGovernor` works); no rewards."""
    config = (admin, *HUB_DEFAULTS.values())
    hub = admin.deploy(project.ChoirHub, token, config)
    hub.grantRole(hub.PRICER_ROLE(), pricer, sender=admin)
    hub.setGovernance((governor_implementation, *GOVERNANCE_DEFAULTS.values()), sender=admin)
    return hub


@pytest.fixture(scope="module")
def distributor(project, admin, pricer, token, hub):
    """Rewards switched on for the module: the distributor mints and the pricer holds its ORACLE_ROLE (it scores
    and allocates closed epochs). Nothing is scored or allocated yet."""
    distributor = admin.deploy(project.RewardsDistributor, token, hub, admin, 0)
    token.grantRole(token.MINTER_ROLE(), distributor, sender=admin)
    distributor.grantRole(distributor.ORACLE_ROLE(), pricer, sender=admin)
    hub.setRewardsDistributor(distributor, sender=admin)
    return distributor


@dataclass
class Threads:
    """Creates threads and drives them through the usual steps."""

    project: Any
    chain: Any
    hub: Any
    token: Any

    def create(self, creator, text: str = "root", kind: int = HUMAN):
        receipt = self.hub.createThread(content(text), kind, sender=creator)
        thread_id = receipt.decode_logs(self.hub.ThreadCreated)[0].threadId
        thread = self.project.ThreadDAO.at(self.hub.threadAddress(thread_id))
        self.tick()
        return thread

    def tick(self, seconds: int = 1) -> None:
        """Mine a block `seconds` later (votes need shares one second before a spec's submission)."""
        self.chain.mine(deltatime=seconds)

    def submit(self, thread, author, stake: int | None = None, text: str = "spec", citations=(), kind: int = HUMAN):
        stake = stake if stake is not None else self.hub.price(thread.threadId())
        self.token.approve(thread, stake, sender=author)
        receipt = thread.submitSpec(content(text), list(citations), stake, kind, sender=author)
        return receipt.decode_logs(thread.SpecSubmitted)[0].specId

    def join(self, thread, author, approvers, stake: int | None = None, text: str = "join"):
        """Make `author` a co-author: stake, every approver approves, settle."""
        spec_id = self.submit(thread, author, stake, text)
        for voter in approvers:
            thread.vote(spec_id, True, sender=voter)
        thread.settle(spec_id, sender=author)
        self.tick()
        return spec_id


@pytest.fixture
def threads(project, chain, hub, token):
    return Threads(project, chain, hub, token)


@pytest.fixture
def thread(threads, creator):
    return threads.create(creator)


@pytest.fixture
def ids(hub, creator):
    """Two threads, ids 1 and 2, with no price yet (the hub tests)."""
    return create_threads(hub, creator, 2)


@pytest.fixture(scope="module")
def builder(project, chain, hub, token):
    """Threads and co-authors for module fixtures (the governor tests)."""
    return Builder(project, chain, hub, token)


@pytest.fixture(scope="module")
def dao(builder, project, hub, coauthors):
    """A thread of four co-authors with unequal shares, a treasury of 200 CHOIR and its governor (`new_dao`).
    Built once per module: Ape reverts the chain to this state after every test."""
    return new_dao(builder, project, hub, coauthors)
