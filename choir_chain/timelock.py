"""The protocol's admin on a persistent chain (protocol section 8, r2: admin powers are slow): the steps of
`choir_chain.rollout` that deploy a `ProtocolTimelock` (OpenZeppelin's `TimelockController`), give it
`DEFAULT_ADMIN_ROLE` on the token, the hub and the distributor, and renounce the deployer's admin roles; and the
read-back of that wiring.

The timelock's proposer, executor and canceller is the configured admin (a multisig on a testnet or mainnet); it
has no separate admin (`address(0)`), so only the timelock itself, through its own delay, changes its delay or
roles. Every admin call is then `schedule`d by the admin and can be `execute`d only `min_delay` seconds later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eth_utils import keccak, to_checksum_address

from choir_chain.parameters import DAY

if TYPE_CHECKING:
    from choir_chain.rollout import DeployConfig, Reader, Step

TIMELOCK = "ProtocolTimelock"
"""The contract (and its manifest name)."""
DEPLOY_STEP = "deploy-timelock"
DELAY_PARAMETER = "timelock.min_delay"
"""The delay's name among the manifest's parameters."""

MIN_DELAY = DAY
"""The shortest delay a deployment accepts: the threads' exit cooldown, so a co-author can exit with its share
between the moment an admin change is scheduled (public, on chain) and the moment it takes effect."""
MAX_DELAY = 30 * DAY
"""The longest: beyond it an urgent fix (say a broken distributor) waits too long; also catches a delay in ms."""
DEFAULT_DELAY = 2 * DAY

ADMIN_ROLE = bytes(32)
PROPOSER_ROLE = keccak(text="PROPOSER_ROLE")
EXECUTOR_ROLE = keccak(text="EXECUTOR_ROLE")
CANCELLER_ROLE = keccak(text="CANCELLER_ROLE")
TIMELOCK_ROLES = {PROPOSER_ROLE: "PROPOSER_ROLE", EXECUTOR_ROLE: "EXECUTOR_ROLE", CANCELLER_ROLE: "CANCELLER_ROLE"}
ADMINED = (("token", "ChoirToken"), ("hub", "ChoirHub"), ("distributor", "RewardsDistributor"))
"""The contracts whose `DEFAULT_ADMIN_ROLE` the timelock holds (step suffix, contract)."""


def delay_problem(delay: int) -> str | None:
    """Why `delay` (seconds) is not acceptable as the timelock's minimum delay, or None."""
    if delay < MIN_DELAY:
        return (
            f"timelock delay {delay} s is below the minimum of {MIN_DELAY} s (1 day, the threads' exit cooldown): "
            "users must be able to exit between an admin change being scheduled and taking effect"
        )
    if delay > MAX_DELAY:
        return f"timelock delay {delay} s is above the maximum of {MAX_DELAY} s (30 days); is it in seconds?"
    return None


def handover_steps(config: DeployConfig, reader: Reader) -> list[Step]:
    """Deploy the timelock, grant it `DEFAULT_ADMIN_ROLE` on the three contracts, renounce the deployer's."""
    from choir_chain.rollout import Step  # here: rollout imports this module

    c, delay = config, config.timelock_delay
    assert delay is not None

    def grant(suffix: str, contract: str) -> Step:
        return Step(
            name=f"grant-admin-{suffix}",
            contract=contract,
            function="grantRole",
            args=lambda a: (ADMIN_ROLE, a[TIMELOCK]),
            done=lambda a: reader.has_role(contract, a[contract], ADMIN_ROLE, a[TIMELOCK]),
            summary=f"{contract}.grantRole(DEFAULT_ADMIN_ROLE, timelock)",
        )

    def renounce(suffix: str, contract: str) -> Step:
        return Step(
            name=f"renounce-admin-{suffix}",
            contract=contract,
            function="renounceRole",
            args=lambda a: (ADMIN_ROLE, c.deployer),
            done=lambda a: not reader.has_role(contract, a[contract], ADMIN_ROLE, c.deployer),
            summary=f"{contract}.renounceRole(DEFAULT_ADMIN_ROLE, deployer)",
        )

    deploy = Step(
        DEPLOY_STEP,
        TIMELOCK,
        None,
        lambda a: (delay, [c.admin], [c.admin], "0x" + "00" * 20),
        f"deploy ProtocolTimelock (delay {delay} s; proposer, executor and canceller: admin)",
    )
    return [deploy, *(grant(s, n) for s, n in ADMINED), *(renounce(s, n) for s, n in ADMINED)]


def check_timelock(config: DeployConfig, addresses: dict[str, str], reader: Reader, *, final: bool) -> list[str]:
    """Mismatches of the timelock's wiring: its delay and roles, and that it (and, once `final`, no one else among
    the deployer and the admin) holds `DEFAULT_ADMIN_ROLE` on the three contracts."""
    c, out = config, list[str]()
    timelock = addresses[TIMELOCK]
    delay = int(reader.call(TIMELOCK, timelock, "getMinDelay"))
    if delay != c.timelock_delay:
        out.append(f"{TIMELOCK}.getMinDelay(): expected {c.timelock_delay}, found {delay}")

    def held(contract: str, address: str, role: bytes, holder: str, who: str, name: str, wanted: bool) -> None:
        if reader.has_role(contract, address, role, holder) != wanted:
            verb = "lacks" if wanted else "holds"
            out.append(f"{contract}: {who} {to_checksum_address(holder)} {verb} {name}")

    for role, name in TIMELOCK_ROLES.items():
        held(TIMELOCK, timelock, role, c.admin, "admin", name, True)
        if c.admin != c.deployer:
            held(TIMELOCK, timelock, role, c.deployer, "deployer", name, False)
    held(TIMELOCK, timelock, ADMIN_ROLE, timelock, "timelock", "DEFAULT_ADMIN_ROLE", True)
    for who, holder in (("deployer", c.deployer), ("admin", c.admin)):
        held(TIMELOCK, timelock, ADMIN_ROLE, holder, who, "DEFAULT_ADMIN_ROLE", False)
    for _, contract in ADMINED:
        address = addresses[contract]
        held(contract, address, ADMIN_ROLE, timelock, "timelock", "DEFAULT_ADMIN_ROLE", True)
        if c.admin != c.deployer:
            held(contract, address, ADMIN_ROLE, c.admin, "admin", "DEFAULT_ADMIN_ROLE", False)
        if final:
            held(contract, address, ADMIN_ROLE, c.deployer, "deployer", "DEFAULT_ADMIN_ROLE", False)
    return out


def manifest_parameters(config: DeployConfig) -> dict[str, Any]:
    """The timelock's entry among the manifest's parameters (none without a timelock)."""
    return {} if config.timelock_delay is None else {DELAY_PARAMETER: config.timelock_delay}
