"""ChoirHub's parameters (protocol sections 6 and 9): the hub fixture's defaults, the admin setters (edge values,
invalid values, the admin role, their effect on prices and new threads) and the constructor's checks.
"""

from __future__ import annotations

import pytest
from eth_utils import keccak
from helpers.hub import (
    CHOIR,
    DAY,
    DEFAULT_ADMIN_ROLE,
    FALLBACK,
    FRESH_PARAMETERS,
    HOUR,
    HUB_DEFAULTS,
    MAX_PRICE,
    MIN_PRICE,
    PRICE_LIMIT,
    WINDOW,
    ZERO_ADDRESS,
    parameters,
    push,
    reverts,
)

pytestmark = pytest.mark.usefixtures("quiet_reverts")  # many expected reverts: see conftest.py


def deploy_hub(project, deployer, choir, **overrides):
    """Deploy a ChoirHub for token `choir` with HUB_DEFAULTS and `deployer` as admin; any field overridden."""
    config = {"token": choir, "admin": deployer, **HUB_DEFAULTS, **overrides}
    fields = (
        "admin",
        "minPrice",
        "maxPrice",
        "fallbackPrice",
        "maxDeviationBps",
        "heartbeat",
        "deviationWindow",
        "approvalWindow",
    )
    return deployer.deploy(project.ChoirHub, config["token"], tuple(config[f] for f in fields))


def test_hub_fixture_starts_with_the_default_parameters(hub, admin, pricer):
    assert parameters(hub) == FRESH_PARAMETERS
    assert hub.PRICE_LIMIT() == PRICE_LIMIT
    assert hub.MIN_APPROVAL_WINDOW() == HOUR
    assert hub.MAX_APPROVAL_WINDOW() == 365 * DAY
    assert hub.hasRole(DEFAULT_ADMIN_ROLE, admin)
    assert hub.hasRole(hub.PRICER_ROLE(), pricer)
    assert hub.PRICER_ROLE() == keccak(text="PRICER_ROLE")


# ----------------------------------------------------------------------------------------------------------
# Admin parameters (protocol sections 6 and 9)
# ----------------------------------------------------------------------------------------------------------

# setter, arguments, the event with its fields. Each field is also the getter that reads the new value, but
# for the approval window (getter `defaultApprovalWindow`).
VALID_SETTINGS = [
    (
        "setPriceBounds",
        (30 * CHOIR, 30 * CHOIR),
        "PriceBoundsSet",
        {"minPrice": 30 * CHOIR, "maxPrice": 30 * CHOIR},
    ),
    ("setPriceBounds", (1, PRICE_LIMIT), "PriceBoundsSet", {"minPrice": 1, "maxPrice": PRICE_LIMIT}),
    ("setMaxDeviationBps", (1,), "MaxDeviationSet", {"maxDeviationBps": 1}),
    ("setMaxDeviationBps", (10_000,), "MaxDeviationSet", {"maxDeviationBps": 10_000}),
    ("setHeartbeat", (60,), "HeartbeatSet", {"heartbeat": 60}),
    ("setHeartbeat", (30 * DAY,), "HeartbeatSet", {"heartbeat": 30 * DAY}),
    ("setDeviationWindow", (60,), "DeviationWindowSet", {"deviationWindow": 60}),
    ("setDeviationWindow", (7 * DAY,), "DeviationWindowSet", {"deviationWindow": 7 * DAY}),
    ("setFallbackPrice", (MIN_PRICE,), "FallbackPriceSet", {"fallbackPrice": MIN_PRICE}),
    ("setFallbackPrice", (MAX_PRICE,), "FallbackPriceSet", {"fallbackPrice": MAX_PRICE}),
    ("setDefaultApprovalWindow", (HOUR,), "DefaultApprovalWindowSet", {"approvalWindow": HOUR}),
    ("setDefaultApprovalWindow", (365 * DAY,), "DefaultApprovalWindowSet", {"approvalWindow": 365 * DAY}),
]


@pytest.mark.parametrize("setter, args, event, fields", VALID_SETTINGS, ids=[f"{s[0]}{s[1]}" for s in VALID_SETTINGS])
def test_admin_setter_accepts_edge_values_and_emits_event(hub, admin, setter, args, event, fields):
    receipt = getattr(hub, setter)(*args, sender=admin)
    [log] = receipt.decode_logs(getattr(hub, event))
    assert {name: getattr(log, name) for name in fields} == fields
    getters = {"approvalWindow": "defaultApprovalWindow"}
    changed = {getters.get(name, name): value for name, value in fields.items()}
    assert parameters(hub) == {**FRESH_PARAMETERS, **changed}


@pytest.mark.parametrize("setter, args", [(s[0], s[1]) for s in VALID_SETTINGS[::2]], ids=lambda v: str(v))
def test_admin_setters_require_admin_role(hub, pricer, outsiders, setter, args):
    for caller in (pricer, outsiders[0]):
        with reverts(hub.AccessControlUnauthorizedAccount, account=caller.address, neededRole=DEFAULT_ADMIN_ROLE):
            getattr(hub, setter)(*args, sender=caller)
    assert parameters(hub) == FRESH_PARAMETERS


def test_admin_role_can_be_handed_over(hub, admin, outsiders):
    successor = outsiders[0]
    hub.grantRole(DEFAULT_ADMIN_ROLE, successor, sender=admin)
    hub.renounceRole(DEFAULT_ADMIN_ROLE, admin, sender=admin)
    with reverts(hub.AccessControlUnauthorizedAccount, account=admin.address, neededRole=DEFAULT_ADMIN_ROLE):
        hub.setHeartbeat(2 * DAY, sender=admin)
    hub.setHeartbeat(2 * DAY, sender=successor)
    assert hub.heartbeat() == 2 * DAY


INVALID_SETTINGS = [
    ("setPriceBounds", (0, 100 * CHOIR), "minPrice"),
    ("setPriceBounds", (10 * CHOIR, 10 * CHOIR - 1), "maxPrice"),
    ("setPriceBounds", (MIN_PRICE, PRICE_LIMIT + 1), "maxPrice"),
    ("setPriceBounds", (FALLBACK + 1, 100 * CHOIR), "fallbackPrice"),  # would leave the fallback below min
    ("setPriceBounds", (MIN_PRICE, FALLBACK - 1), "fallbackPrice"),  # would leave the fallback above max
    ("setMaxDeviationBps", (0,), "maxDeviationBps"),
    ("setMaxDeviationBps", (10_001,), "maxDeviationBps"),
    ("setHeartbeat", (59,), "heartbeat"),
    ("setHeartbeat", (30 * DAY + 1,), "heartbeat"),
    ("setDeviationWindow", (0,), "deviationWindow"),
    ("setDeviationWindow", (59,), "deviationWindow"),
    ("setDeviationWindow", (7 * DAY + 1,), "deviationWindow"),
    ("setDeviationWindow", (2**48 + HOUR,), "deviationWindow"),  # would wrap to an hour in a uint48
    ("setFallbackPrice", (0,), "fallbackPrice"),
    ("setFallbackPrice", (MIN_PRICE - 1,), "fallbackPrice"),
    ("setFallbackPrice", (MAX_PRICE + 1,), "fallbackPrice"),
    ("setDefaultApprovalWindow", (HOUR - 1,), "approvalWindow"),
    ("setDefaultApprovalWindow", (365 * DAY + 1,), "approvalWindow"),
    ("setDefaultApprovalWindow", (2**32 + 7 * DAY,), "approvalWindow"),  # would wrap to 7 days in a uint32
]


@pytest.mark.parametrize("setter, args, name", INVALID_SETTINGS, ids=[f"{s[0]}{s[1]}" for s in INVALID_SETTINGS])
def test_admin_setter_rejects_invalid_value(hub, admin, setter, args, name):
    with reverts(hub.InvalidParameter, parameter=name):
        getattr(hub, setter)(*args, sender=admin)
    assert parameters(hub) == FRESH_PARAMETERS


def test_new_price_bounds_take_effect(hub, admin, pricer, ids):
    hub.setPriceBounds(10 * CHOIR, 100 * CHOIR, sender=admin)
    for bad in (10 * CHOIR - 1, 100 * CHOIR + 1):
        with reverts(hub.PriceOutOfBounds, threadId=ids[0], price=bad, minPrice=10 * CHOIR, maxPrice=100 * CHOIR):
            push(hub, pricer, [ids[0]], [bad], 1)
    push(hub, pricer, ids[:2], [10 * CHOIR, 100 * CHOIR], 1)
    assert [hub.price(i) for i in ids[:2]] == [10 * CHOIR, 100 * CHOIR]


def test_tighter_deviation_bound_rejects_a_move_accepted_before(hub, admin, pricer, ids):
    push(hub, pricer, ids[:2], [100 * CHOIR, 100 * CHOIR], 1)
    push(hub, pricer, [ids[0]], [140 * CHOIR], 2)  # +40% under the default 50%
    hub.setMaxDeviationBps(3_000, sender=admin)
    with reverts(
        hub.PriceDeviationTooLarge,
        threadId=ids[1],
        anchorPrice=100 * CHOIR,
        price=140 * CHOIR,
        maxDeviationBps=3_000,
    ):
        push(hub, pricer, [ids[1]], [140 * CHOIR], 3)
    push(hub, pricer, [ids[1]], [130 * CHOIR], 3)  # exactly +30%
    assert hub.price(ids[1]) == 130 * CHOIR


def test_looser_deviation_bound_allows_a_larger_move(hub, admin, pricer, ids):
    push(hub, pricer, [ids[0]], [100 * CHOIR], 1)
    with reverts(
        hub.PriceDeviationTooLarge,
        threadId=ids[0],
        anchorPrice=100 * CHOIR,
        price=200 * CHOIR,
        maxDeviationBps=5_000,
    ):
        push(hub, pricer, [ids[0]], [200 * CHOIR], 2)
    hub.setMaxDeviationBps(10_000, sender=admin)
    push(hub, pricer, [ids[0]], [200 * CHOIR], 2)  # exactly +100%
    assert hub.price(ids[0]) == 200 * CHOIR


def test_new_heartbeat_takes_effect(chain, hub, admin, pricer, ids):
    updated = push(hub, pricer, [ids[0]], [20 * CHOIR], 1).timestamp  # below the fallback (30 CHOIR)
    chain.mine(timestamp=updated + 2 * HOUR)
    assert hub.price(ids[0]) == 20 * CHOIR
    hub.setHeartbeat(HOUR, sender=admin)
    assert hub.price(ids[0]) == FALLBACK
    hub.setHeartbeat(3 * HOUR, sender=admin)
    assert hub.price(ids[0]) == 20 * CHOIR


def test_new_fallback_price_takes_effect(hub, admin, pricer, ids):
    push(hub, pricer, [ids[0]], [50 * CHOIR], 1)
    hub.setFallbackPrice(45 * CHOIR, sender=admin)
    assert [hub.price(i) for i in ids] == [50 * CHOIR, 45 * CHOIR]


def test_fallback_price_must_stay_within_bounds_set_later(hub, admin):
    hub.setPriceBounds(10 * CHOIR, 100 * CHOIR, sender=admin)
    for bad in (10 * CHOIR - 1, 100 * CHOIR + 1):
        with reverts(hub.InvalidParameter, parameter="fallbackPrice"):
            hub.setFallbackPrice(bad, sender=admin)
    hub.setFallbackPrice(100 * CHOIR, sender=admin)
    with reverts(hub.InvalidParameter, parameter="fallbackPrice"):
        hub.setPriceBounds(10 * CHOIR, 99 * CHOIR, sender=admin)
    assert hub.fallbackPrice() == 100 * CHOIR


def test_new_default_window_applies_to_new_threads_only(chain, threads, hub, admin, creator, outsiders):
    old = threads.create(creator, "before")
    hub.setDefaultApprovalWindow(2 * DAY, sender=admin)
    new = threads.create(creator, "after")
    assert old.approvalWindow() == WINDOW
    assert new.approvalWindow() == 2 * DAY
    for thread, window in ((old, WINDOW), (new, 2 * DAY)):  # a spec's voting deadline follows its thread's
        spec_id = threads.submit(thread, outsiders[0], text=f"spec {window}")
        assert thread.getSpec(spec_id).deadline == chain.blocks.head.timestamp + window


# ----------------------------------------------------------------------------------------------------------
# Constructor
# ----------------------------------------------------------------------------------------------------------

INVALID_CONFIGS = [
    ({"token": ZERO_ADDRESS}, "token"),
    ({"admin": ZERO_ADDRESS}, "admin"),
    ({"minPrice": 0}, "minPrice"),
    ({"maxPrice": MIN_PRICE - 1}, "maxPrice"),
    ({"maxPrice": PRICE_LIMIT + 1}, "maxPrice"),
    ({"fallbackPrice": 0}, "fallbackPrice"),
    ({"fallbackPrice": MIN_PRICE - 1}, "fallbackPrice"),
    ({"fallbackPrice": MAX_PRICE + 1}, "fallbackPrice"),
    ({"maxDeviationBps": 0}, "maxDeviationBps"),
    ({"maxDeviationBps": 10_001}, "maxDeviationBps"),
    ({"heartbeat": 59}, "heartbeat"),
    ({"heartbeat": 30 * DAY + 1}, "heartbeat"),
    ({"deviationWindow": 0}, "deviationWindow"),
    ({"deviationWindow": 59}, "deviationWindow"),
    ({"deviationWindow": 7 * DAY + 1}, "deviationWindow"),
    ({"approvalWindow": HOUR - 1}, "approvalWindow"),
    ({"approvalWindow": 365 * DAY + 1}, "approvalWindow"),
]


@pytest.mark.parametrize("overrides, name", INVALID_CONFIGS, ids=[f"{o}" for o, _ in INVALID_CONFIGS])
def test_constructor_rejects_invalid_config(project, admin, token, overrides, name):
    with reverts(project.ChoirHub.InvalidParameter, parameter=name):
        deploy_hub(project, admin, token, **overrides)


def test_constructor_accepts_edge_config(project, admin, token, outsiders):
    owner = outsiders[0]
    config = {
        "admin": owner,
        "minPrice": 5 * CHOIR,
        "maxPrice": 5 * CHOIR,
        "fallbackPrice": 5 * CHOIR,
        "maxDeviationBps": 10_000,
        "heartbeat": 60,
        "deviationWindow": 7 * DAY,
        "approvalWindow": 365 * DAY,
    }
    hub = deploy_hub(project, admin, token, **config)
    assert parameters(hub) == {
        "minPrice": 5 * CHOIR,
        "maxPrice": 5 * CHOIR,
        "fallbackPrice": 5 * CHOIR,
        "maxDeviationBps": 10_000,
        "heartbeat": 60,
        "deviationWindow": 7 * DAY,
        "defaultApprovalWindow": 365 * DAY,
        "lastRound": 0,
        "threadCount": 0,
    }
    assert hub.token() == token.address
    assert hub.hasRole(DEFAULT_ADMIN_ROLE, owner)
    assert not hub.hasRole(DEFAULT_ADMIN_ROLE, admin)  # the deployer gets nothing
    assert not hub.hasRole(hub.PRICER_ROLE(), admin)
    implementation = project.ThreadDAO.at(hub.threadImplementation())
    assert implementation.hub() == hub.address
    assert implementation.token() == token.address
