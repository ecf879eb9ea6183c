"""What a deployment deploys and with which parameters, its roles, and its errors."""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_utils import keccak, to_checksum_address

from choir_chain import timelock
from choir_chain.parameters import GovernanceParameters, HubParameters

FAIL_AFTER_ENV = "CHOIR_DEPLOY_FAIL_AFTER"
"""Test hook: stop after the named step (`<step>` or `<step>:unrecorded`); see the module docstring."""

DEFAULT_ADMIN_ROLE = bytes(32)
MINTER_ROLE = keccak(text="MINTER_ROLE")
PRICER_ROLE = keccak(text="PRICER_ROLE")
ORACLE_ROLE = keccak(text="ORACLE_ROLE")
ROLE_NAMES = {
    DEFAULT_ADMIN_ROLE: "DEFAULT_ADMIN_ROLE",
    MINTER_ROLE: "MINTER_ROLE",
    PRICER_ROLE: "PRICER_ROLE",
    ORACLE_ROLE: "ORACLE_ROLE",
}

DEPLOYED = {
    "deploy-token": "ChoirToken",
    "deploy-hub": "ChoirHub",
    "deploy-governor": "ThreadGovernor",
    "deploy-distributor": "RewardsDistributor",
}
"""Deployment steps and the contract each deploys (also the manifest's contract names); with a timelock also
`timelock.DEPLOY_STEP`."""
ALL_DEPLOYED = {**DEPLOYED, timelock.DEPLOY_STEP: timelock.TIMELOCK}

RECEIPT_POLL_SECONDS = 0.002


class DeployError(RuntimeError):
    """The deployment cannot go on: inconsistent options, a failed transaction, pending transactions."""


class VerificationError(DeployError):
    """What the chain holds differs from what was deployed; `mismatches` names every difference."""

    def __init__(self, mismatches: list[str]) -> None:
        self.mismatches = mismatches
        super().__init__("verification failed:\n  " + "\n  ".join(mismatches))


class SimulatedFailure(DeployError):
    """Raised by the `CHOIR_DEPLOY_FAIL_AFTER` test hook."""


@dataclass(frozen=True)
class DeployConfig:
    """Who gets what, and the initial parameters."""

    deployer: str
    admin: str
    pricer: str | None
    """None: no one gets the pricer's roles (a devnet deployment for tests that price by hand)."""
    genesis_recipient: str
    hub: HubParameters = field(default_factory=HubParameters)
    governance: GovernanceParameters = field(default_factory=GovernanceParameters)
    timelock_delay: int | None = None
    """Seconds: the admin roles go to a `ProtocolTimelock` with this delay (see `choir_chain.timelock`); None: to
    `admin` directly (as the devnet does)."""
    rewards: bool = True
    """Whether to deploy the rewards distributor (and wire it); only a devnet goes without."""

    def __post_init__(self) -> None:
        for name in ("deployer", "admin", "pricer", "genesis_recipient"):
            if (value := getattr(self, name)) is not None:
                object.__setattr__(self, name, to_checksum_address(value))
        if self.timelock_delay is not None and (problem := timelock.delay_problem(self.timelock_delay)):
            raise DeployError(problem)
        if self.timelock_delay is not None and not self.rewards:
            raise DeployError("a deployment with a timelock includes the rewards distributor (its admin)")

    @property
    def deployed(self) -> dict[str, str]:
        """The deployment steps of this configuration and the contract each deploys."""
        deployed = ALL_DEPLOYED if self.timelock_delay is not None else DEPLOYED
        return deployed if self.rewards else {s: n for s, n in deployed.items() if n != "RewardsDistributor"}

    @property
    def admined(self) -> list[tuple[str, str]]:
        """The contracts with an admin role (step suffix, contract name)."""
        return [(s, n) for s, n in timelock.ADMINED if self.rewards or n != "RewardsDistributor"]

    @property
    def parameters(self) -> dict[str, int]:
        """In the manifest's naming: hub parameters, then `governance.*`."""
        return {**self.hub.as_dict(), **self.governance.as_dict()}

    @property
    def hands_over(self) -> bool:
        """Whether the deployer hands the admin roles to someone else at the end."""
        return self.admin != self.deployer


def parameters_from(values: dict[str, int]) -> tuple[HubParameters, GovernanceParameters]:
    """Hub and governance parameters from the manifest's naming (missing keys keep their defaults); raises
    DeployError on an unknown key."""
    hub_fields = set(HubParameters().as_dict())
    governance_fields = {k.removeprefix("governance.") for k in GovernanceParameters().as_dict()}
    hub: dict[str, int] = {}
    governance: dict[str, int] = {}
    for key, value in values.items():
        if key in hub_fields:
            hub[key] = int(value)
        elif key.startswith("governance.") and key.removeprefix("governance.") in governance_fields:
            governance[key.removeprefix("governance.")] = int(value)
        else:
            known = sorted(hub_fields) + sorted(f"governance.{k}" for k in governance_fields)
            raise DeployError(f"unknown parameter {key!r}; known: {', '.join(known)}")
    return HubParameters(**hub), GovernanceParameters(**governance)
