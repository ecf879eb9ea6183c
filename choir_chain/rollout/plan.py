"""The fixed list of steps (`plan`) and the read-back check of every role and parameter (`check`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_utils import to_checksum_address

from choir_chain import timelock
from choir_chain.rollout.config import (
    DEFAULT_ADMIN_ROLE,
    MINTER_ROLE,
    ORACLE_ROLE,
    PRICER_ROLE,
    ROLE_NAMES,
    DeployConfig,
)
from choir_chain.rollout.steps import Reader, Step


def plan(config: DeployConfig, reader: Reader) -> list[Step]:
    """Every step of the deployment, in order."""
    c, h, g = config, config.hub, config.governance

    def governance(a: dict[str, str]) -> tuple[Any, ...]:
        return (a["ThreadGovernor"], g.voting_delay, g.voting_period, g.quorum_bps, g.execution_delay)

    def governance_set(a: dict[str, str]) -> bool:
        settings = reader.call("ChoirHub", a["ChoirHub"], "governanceSettings")
        return _normalized(settings) == _normalized(governance(a))

    def distributor_set(a: dict[str, str]) -> bool:
        return _same(reader.call("ChoirHub", a["ChoirHub"], "rewardsDistributor"), a["RewardsDistributor"])

    def grant(name: str, contract: str, role: bytes, holder: Callable[[dict[str, str]], str], who: str) -> Step:
        return Step(
            name=name,
            contract=contract,
            function="grantRole",
            args=lambda a: (role, holder(a)),
            done=lambda a: reader.has_role(contract, a[contract], role, holder(a)),
            summary=f"{contract}.grantRole({ROLE_NAMES[role]}, {who})",
        )

    def renounce(name: str, contract: str) -> Step:
        return Step(
            name=name,
            contract=contract,
            function="renounceRole",
            args=lambda a: (DEFAULT_ADMIN_ROLE, c.deployer),
            done=lambda a: not reader.has_role(contract, a[contract], DEFAULT_ADMIN_ROLE, c.deployer),
            summary=f"{contract}.renounceRole(DEFAULT_ADMIN_ROLE, deployer)",
        )

    def hub_config(a: dict[str, str]) -> tuple[Any, ...]:
        config = (c.deployer, h.min_price, h.max_price, h.fallback_price, h.max_deviation_bps, h.heartbeat,
                  h.deviation_window, h.approval_window)  # fmt: skip
        return (a["ChoirToken"], config)

    pricer = c.pricer
    steps = [
        Step("deploy-token", "ChoirToken", None, lambda a: (c.deployer, c.genesis_recipient),
             f"deploy ChoirToken (genesis supply to {c.genesis_recipient})"),
        Step("deploy-hub", "ChoirHub", None, hub_config, "deploy ChoirHub (it deploys the ThreadDAO implementation)"),
        Step("deploy-governor", "ThreadGovernor", None, lambda a: (), "deploy the ThreadGovernor implementation"),
        Step("set-governance", "ChoirHub", "setGovernance", lambda a: (governance(a),),
             "ChoirHub.setGovernance(governor implementation, voting delay, voting period, quorum, execution delay)",
             done=governance_set),
    ]  # fmt: skip
    if c.rewards:
        steps += [
            Step("deploy-distributor", "RewardsDistributor", None,
                 lambda a: (a["ChoirToken"], a["ChoirHub"], c.deployer, 0),
                 "deploy RewardsDistributor (its emission curve starts at this block)"),
            grant("grant-minter", "ChoirToken", MINTER_ROLE, lambda a: a["RewardsDistributor"], "distributor"),
            Step("set-distributor", "ChoirHub", "setRewardsDistributor", lambda a: (a["RewardsDistributor"],),
                 "ChoirHub.setRewardsDistributor(distributor)", done=distributor_set),
        ]  # fmt: skip
    if pricer is not None:
        steps.append(grant("grant-pricer-hub", "ChoirHub", PRICER_ROLE, lambda a: pricer, "pricer"))
    if pricer is not None and c.rewards:
        steps.append(grant("grant-oracle-distributor", "RewardsDistributor", ORACLE_ROLE, lambda a: pricer, "pricer"))
    if config.timelock_delay is not None:
        steps += timelock.handover_steps(config, reader)
    elif config.hands_over:
        steps += [grant(f"grant-admin-{s}", n, DEFAULT_ADMIN_ROLE, lambda a: c.admin, "admin") for s, n in c.admined]
        steps += [renounce(f"renounce-admin-{s}", n) for s, n in c.admined]
    return steps


def check(config: DeployConfig, addresses: dict[str, str], reader: Reader, *, final: bool) -> list[str]:
    """Every mismatch between the chain and `config` (empty when all is as deployed). Before the deployer
    renounces (`final=False`) its own admin roles are not checked."""
    c, h, g = config, config.hub, config.governance
    missing = [name for name in c.deployed.values() if name not in addresses]
    if missing:
        return [f"not deployed: {', '.join(missing)}"]
    out = [f"{name}: no code at {address}" for name, address in addresses.items() if not reader.has_code(address)]
    if out:
        return out
    token, hub, governor = (addresses[n] for n in ("ChoirToken", "ChoirHub", "ThreadGovernor"))
    distributor = addresses.get("RewardsDistributor")  # None: deployed without rewards

    def expect(label: str, actual: Any, wanted: Any) -> None:
        if _normalized(actual) != _normalized(wanted):
            out.append(f"{label}: expected {_show(wanted)}, found {_show(actual)}")

    def role(contract: str, role_id: bytes, holder: str, who: str, held: bool) -> None:
        if reader.has_role(contract, addresses[contract], role_id, holder) != held:
            verb = "lacks" if held else "holds"
            out.append(f"{contract}: {who} {to_checksum_address(holder)} {verb} {ROLE_NAMES[role_id]}")

    for contract, name, role_id in (
        ("ChoirToken", "MINTER_ROLE", MINTER_ROLE),
        ("ChoirHub", "PRICER_ROLE", PRICER_ROLE),
        ("RewardsDistributor", "ORACLE_ROLE", ORACLE_ROLE),
    ):
        if contract in addresses:
            expect(f"{contract}.{name}()", bytes(reader.call(contract, addresses[contract], name)), role_id)
    # Administration: the timelock (or else the admin) on all three contracts; the deployer on none once it has
    # handed over.
    if c.timelock_delay is not None:
        out += timelock.check_timelock(c, addresses, reader, final=final)
    for _, contract in c.admined if c.timelock_delay is None else ():
        role(contract, DEFAULT_ADMIN_ROLE, c.admin, "admin", True)
        if final and c.hands_over:
            role(contract, DEFAULT_ADMIN_ROLE, c.deployer, "deployer", False)
    # Minting: the distributor only.
    if distributor is not None:
        role("ChoirToken", MINTER_ROLE, distributor, "distributor", True)
    for who, holder in (("deployer", c.deployer), ("admin", c.admin), ("pricer", c.pricer)):
        if holder is not None:
            role("ChoirToken", MINTER_ROLE, holder, who, False)
    # Pricing, novelty scores and epoch allocations: the pricer (no one without one).
    for contract, role_id in (("ChoirHub", PRICER_ROLE), ("RewardsDistributor", ORACLE_ROLE)):
        if contract not in addresses:
            continue
        if c.pricer is not None:
            role(contract, role_id, c.pricer, "pricer", True)
        if c.pricer != c.deployer:
            role(contract, role_id, c.deployer, "deployer", False)
    # Wiring.
    expect("ChoirHub.token()", reader.call("ChoirHub", hub, "token"), token)
    wired = distributor if distributor is not None else "0x" + "00" * 20
    expect("ChoirHub.rewardsDistributor()", reader.call("ChoirHub", hub, "rewardsDistributor"), wired)
    if distributor is not None:
        expect("RewardsDistributor.token()", reader.call("RewardsDistributor", distributor, "token"), token)
        expect("RewardsDistributor.hub()", reader.call("RewardsDistributor", distributor, "hub"), hub)
    thread = reader.call("ChoirHub", hub, "threadImplementation")
    if not reader.has_code(thread):
        out.append(f"ChoirHub.threadImplementation(): no code at {thread}")
    # Parameters.
    for label, function, wanted in (
        ("min_price", "minPrice", h.min_price),
        ("max_price", "maxPrice", h.max_price),
        ("fallback_price", "fallbackPrice", h.fallback_price),
        ("max_deviation_bps", "maxDeviationBps", h.max_deviation_bps),
        ("heartbeat", "heartbeat", h.heartbeat),
        ("deviation_window", "deviationWindow", h.deviation_window),
        ("approval_window", "defaultApprovalWindow", h.approval_window),
    ):
        expect(f"ChoirHub.{function}() ({label})", reader.call("ChoirHub", hub, function), wanted)
    settings = reader.call("ChoirHub", hub, "governanceSettings")
    wanted_settings = (governor, g.voting_delay, g.voting_period, g.quorum_bps, g.execution_delay)
    labels = ("implementation", "voting_delay", "voting_period", "quorum_bps", "execution_delay")
    for label, actual, setting in zip(labels, settings, wanted_settings, strict=True):
        expect(f"ChoirHub.governanceSettings().{label}", actual, setting)
    return out


def _same(a: Any, b: Any) -> bool:
    return _normalized(a) == _normalized(b)


def _normalized(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return tuple(_normalized(v) for v in value)
    if isinstance(value, str) and value.startswith("0x"):
        return value.lower()
    return value


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)
