"""ChoirHub and its StakePriceOracle: thread creation, price updates, price reads, admin parameters.

Mirrors contracts/ChoirHub.sol and contracts/hub/StakePriceOracle.sol (protocol sections 2, 6 and 9).
"""

from __future__ import annotations

from contextlib import contextmanager

import ape
import pytest
from ape.exceptions import CustomError
from ape_ethereum import trace as ape_trace
from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address
from helpers.contracts import HUMAN

# Mirrors tests/contracts/conftest.py (conftest modules are not importable); the first test checks that the
# hub fixture really has these parameters.
CHOIR = 10**18
HOUR = 3600
DAY = 24 * HOUR
HUB_DEFAULTS = {
    "minPrice": 1 * CHOIR,
    "maxPrice": 1_000_000 * CHOIR,
    "fallbackPrice": 30 * CHOIR,
    "maxDeviationBps": 5_000,
    "heartbeat": DAY,
    "deviationWindow": HOUR,
    "approvalWindow": 7 * DAY,
}
ZERO_ADDRESS = "0x" + "00" * 20
DEFAULT_ADMIN_ROLE = b"\x00" * 32
UINT64_MAX = 2**64 - 1
PRICE_LIMIT = 2**80 - 1  # prices are packed into 80 bits
MIN_PRICE = HUB_DEFAULTS["minPrice"]
MAX_PRICE = HUB_DEFAULTS["maxPrice"]
FALLBACK = HUB_DEFAULTS["fallbackPrice"]
MAX_DEVIATION_BPS = HUB_DEFAULTS["maxDeviationBps"]
HEARTBEAT = HUB_DEFAULTS["heartbeat"]
DEVIATION_WINDOW = HUB_DEFAULTS["deviationWindow"]
WINDOW = HUB_DEFAULTS["approvalWindow"]
# What `parameters(hub)` reads on the hub fixture before any test changes it.
FRESH_PARAMETERS = {
    "minPrice": MIN_PRICE,
    "maxPrice": MAX_PRICE,
    "fallbackPrice": FALLBACK,
    "maxDeviationBps": MAX_DEVIATION_BPS,
    "heartbeat": HEARTBEAT,
    "deviationWindow": DEVIATION_WINDOW,
    "defaultApprovalWindow": WINDOW,
    "lastRound": 0,
    "threadCount": 0,
}

# EIP-1167 minimal proxy: creation prefix, runtime code around the implementation address.
CLONE_INIT_PREFIX = bytes.fromhex("3d602d80600a3d3981f3")
CLONE_RUNTIME_HEAD = bytes.fromhex("363d3d373d3d3d363d73")
CLONE_RUNTIME_TAIL = bytes.fromhex("5af43d82803e903d91602b57fd5bf3")


# ----------------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------------


def content(text: str) -> bytes:
    return keccak(text=text)


def raised_arguments(error, exc) -> dict | None:
    """The arguments of `error` if `exc` is that custom error, else None.

    Ape decodes no custom error for a reverted deployment (there is no contract address yet): it raises a bare
    ContractLogicError whose message is the raw revert data, decoded here.
    """
    if isinstance(exc, CustomError):  # decoded by Ape, though not always into `error`'s own class
        return dict(exc.inputs) if exc.abi.selector == error.abi.selector else None
    abi = error.abi
    try:
        data = bytes.fromhex(str(exc.revert_message).removeprefix("0x"))
    except ValueError:
        return None
    if data[:4] != keccak(text=abi.selector)[:4]:
        return None
    values = abi_decode([arg.canonical_type for arg in abi.inputs], data[4:])
    return {arg.name: value for arg, value in zip(abi.inputs, values, strict=True)}


@contextmanager
def reverts(error, **arguments):
    """Expect a revert with custom error `error` whose arguments are exactly `arguments` (every one of them).

    `ape.reverts(error, name=value)` passes on any revert it cannot decode and ignores names the error does
    not have; this helper insists on the error and on all of its arguments.
    """
    with ape.reverts() as info:
        yield info
    actual = raised_arguments(error, info.value)
    assert actual is not None, f"expected {error.__name__}, got {info.value!r}"
    assert actual == arguments


def call_as_transaction(contract, method: str, *args, sender):
    """Run a view as a transaction, to check how it reverts.

    Against anvil, Ape 0.8 turns a custom error raised by an `eth_call` into a bare ContractLogicError whose
    message is "custom error 0x<selector>: <data as text>" (lossy, not decoded). A reverting transaction's
    custom error is decoded on both networks.
    """
    return getattr(contract, method).transact(*args, sender=sender)


def push(hub, pricer, thread_ids, prices, round_):
    """Submit one pricer batch."""
    return hub.updatePrices(list(thread_ids), list(prices), round_, sender=pricer)


def create_threads(hub, creator, count: int) -> list[int]:
    """Create `count` threads and return their ids."""
    first = hub.threadCount() + 1
    for i in range(count):
        hub.createThread(content(f"thread {first + i}"), HUMAN, sender=creator)
    return list(range(first, first + count))


def points(hub, thread_ids) -> dict[int, tuple]:
    """Each thread's stored price point and served price."""
    return {i: (tuple(hub.pricePoint(i)), hub.price(i)) for i in thread_ids}


def parameters(hub) -> dict[str, int]:
    return {
        "minPrice": hub.minPrice(),
        "maxPrice": hub.maxPrice(),
        "fallbackPrice": hub.fallbackPrice(),
        "maxDeviationBps": hub.maxDeviationBps(),
        "heartbeat": hub.heartbeat(),
        "deviationWindow": hub.deviationWindow(),
        "defaultApprovalWindow": hub.defaultApprovalWindow(),
        "lastRound": hub.lastRound(),
        "threadCount": hub.threadCount(),
    }


def predicted_clone(hub, thread_id: int) -> str:
    """CREATE2 address of the clone the hub deploys for `thread_id` (salt = the id)."""
    implementation = bytes.fromhex(hub.threadImplementation()[2:])
    init_code = CLONE_INIT_PREFIX + CLONE_RUNTIME_HEAD + implementation + CLONE_RUNTIME_TAIL
    salt = thread_id.to_bytes(32, "big")
    digest = keccak(b"\xff" + bytes.fromhex(hub.address[2:]) + salt + keccak(init_code))
    return to_checksum_address(digest[12:])


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


@pytest.fixture(scope="module", autouse=True)
def _no_revert_trace_printing():
    """Skip printing a call trace for every revert.

    ape-foundry renders and prints the full call trace of each reverted transaction (about 0.3 s each, most of
    this module's run time on anvil). Printing only: what reverts, and how, is checked all the same.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ape_trace.Trace, "show", lambda self, *args, **kwargs: None)
        yield


@pytest.fixture
def ids(hub, creator):
    """Two threads, ids 1 and 2, with no price yet."""
    return create_threads(hub, creator, 2)


# ----------------------------------------------------------------------------------------------------------
# createThread and the thread registry (protocol section 2)
# ----------------------------------------------------------------------------------------------------------


def test_hub_fixture_starts_with_the_default_parameters(hub, admin, pricer):
    assert parameters(hub) == FRESH_PARAMETERS
    assert hub.PRICE_LIMIT() == PRICE_LIMIT
    assert hub.MIN_APPROVAL_WINDOW() == HOUR
    assert hub.MAX_APPROVAL_WINDOW() == 365 * DAY
    assert hub.hasRole(DEFAULT_ADMIN_ROLE, admin)
    assert hub.hasRole(hub.PRICER_ROLE(), pricer)
    assert hub.PRICER_ROLE() == keccak(text="PRICER_ROLE")


def test_create_thread_assigns_ids_from_one_and_emits_event(project, hub, creator, outsiders):
    assert hub.threadCount() == 0
    created = []
    for number, author in enumerate([creator, outsiders[0]], start=1):
        hash_ = content(f"root {number}")
        expected_id, expected_address = hub.createThread.call(hash_, HUMAN, sender=author)
        receipt = hub.createThread(hash_, HUMAN, sender=author)
        [log] = receipt.decode_logs(hub.ThreadCreated)
        assert log.threadId == expected_id == number
        assert log.thread == expected_address == hub.threadAddress(number)
        assert log.creator == author.address
        assert log.contentHash == hash_
        assert hub.threadCount() == number
        created.append(log.thread)
    assert created[0] != created[1]
    for number, address in enumerate(created, start=1):
        assert project.ThreadDAO.at(address).threadId() == number


def test_thread_is_an_eip1167_clone_at_its_create2_address(project, chain, hub, creator):
    implementation = hub.threadImplementation()
    [first, second] = create_threads(hub, creator, 2)
    for thread_id in (first, second):
        address = hub.threadAddress(thread_id)
        assert address == predicted_clone(hub, thread_id)
        code = bytes(chain.provider.get_code(address))
        assert code == CLONE_RUNTIME_HEAD + bytes.fromhex(implementation[2:]) + CLONE_RUNTIME_TAIL
        thread = project.ThreadDAO.at(address)
        assert thread.threadId() == thread_id
        assert thread.hub() == hub.address


def test_creator_is_first_coauthor_with_initial_shares(project, hub, token, creator, outsiders):
    receipt = hub.createThread(content("root"), HUMAN, sender=creator)
    thread = project.ThreadDAO.at(hub.threadAddress(1))
    assert thread.sharesOf(creator) == 10**18
    assert thread.totalShares() == 10**18
    assert thread.isCoauthor(creator)
    assert not thread.isCoauthor(outsiders[0])
    assert thread.sharesOf(outsiders[0]) == 0
    assert thread.coauthorCount() == 1
    assert thread.messageCount() == 1
    assert thread.approvalWindow() == WINDOW
    assert thread.token() == token.address
    assert hub.token() == token.address
    [root] = receipt.decode_logs(thread.MessagePosted)
    assert (root.index, root.author, root.contentHash) == (0, creator.address, content("root"))


def test_create_thread_rejects_empty_content(hub, creator):
    with reverts(hub.EmptyContent):
        hub.createThread(b"\x00" * 32, HUMAN, sender=creator)
    assert hub.threadCount() == 0


def test_thread_address_of_unknown_id_reverts(hub, ids, outsiders):
    assert hub.threadAddress(ids[-1]) == predicted_clone(hub, ids[-1])
    for unknown in (0, len(ids) + 1, 2**64):
        with reverts(hub.UnknownThread, threadId=unknown):
            call_as_transaction(hub, "threadAddress", unknown, sender=outsiders[0])


def test_implementation_can_never_be_initialised(project, hub, token, creator, admin):
    implementation = project.ThreadDAO.at(hub.threadImplementation())
    assert implementation.hub() == hub.address
    assert implementation.threadId() == UINT64_MAX  # the sentinel that blocks initialize
    for caller in (creator, admin):
        with reverts(implementation.OnlyHub):
            implementation.initialize(1, caller, content("x"), WINDOW, HUMAN, sender=caller)
    # Only the hub passes the OnlyHub check, and the hub never calls its implementation. A ThreadDAO deployed
    # by an account has that account as its hub: even its hub cannot initialise it.
    standalone = admin.deploy(project.ThreadDAO, token)
    assert standalone.hub() == admin.address
    with reverts(standalone.AlreadyInitialized):
        standalone.initialize(1, admin, content("x"), WINDOW, HUMAN, sender=admin)
    assert standalone.threadId() == UINT64_MAX
    assert standalone.coauthorCount() == 0


def test_clone_initialize_is_hub_only(project, hub, creator, admin, outsiders):
    thread = project.ThreadDAO.at(hub.threadAddress(create_threads(hub, creator, 1)[0]))
    for caller in (creator, admin, outsiders[0]):
        with reverts(thread.OnlyHub):
            thread.initialize(7, caller, content("hijack"), HOUR, HUMAN, sender=caller)
    assert thread.threadId() == 1
    assert not thread.isCoauthor(outsiders[0])
    assert thread.approvalWindow() == WINDOW


# ----------------------------------------------------------------------------------------------------------
# updatePrices (protocol section 6)
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller_index", [0, 2, 6], ids=["admin", "creator", "outsider"])
def test_update_prices_requires_pricer_role(hub, accounts, ids, caller_index):
    caller = accounts[caller_index]
    with reverts(hub.AccessControlUnauthorizedAccount, account=caller.address, neededRole=hub.PRICER_ROLE()):
        push(hub, caller, [ids[0]], [10 * CHOIR], 1)
    assert hub.lastRound() == 0
    assert hub.pricePoint(ids[0]) == (0, 0, 0)


def test_pricer_role_is_granted_and_revoked_by_admin(hub, admin, pricer, outsiders, ids):
    newcomer = outsiders[0]
    hub.revokeRole(hub.PRICER_ROLE(), pricer, sender=admin)
    with reverts(hub.AccessControlUnauthorizedAccount, account=pricer.address, neededRole=hub.PRICER_ROLE()):
        push(hub, pricer, [ids[0]], [10 * CHOIR], 1)
    hub.grantRole(hub.PRICER_ROLE(), newcomer, sender=admin)
    push(hub, newcomer, [ids[0]], [10 * CHOIR], 1)
    assert hub.price(ids[0]) == 10 * CHOIR


def test_empty_batch_reverts(hub, pricer, ids):
    with reverts(hub.EmptyBatch):
        push(hub, pricer, [], [], 1)
    assert hub.lastRound() == 0


@pytest.mark.parametrize("n_ids, n_prices", [(2, 1), (1, 2)])
def test_length_mismatch_reverts(hub, pricer, ids, n_ids, n_prices):
    with reverts(hub.LengthMismatch, threadIds=n_ids, prices=n_prices):
        push(hub, pricer, ids[:n_ids], [10 * CHOIR] * n_prices, 1)
    assert hub.lastRound() == 0


def test_round_zero_is_stale_on_a_fresh_hub(hub, pricer, ids):
    with reverts(hub.StaleRound, round=0, lastRound=0):
        push(hub, pricer, [ids[0]], [10 * CHOIR], 0)


def test_stale_rounds_and_replays_revert(hub, pricer, ids):
    batch = ([ids[0], ids[1]], [10 * CHOIR, 20 * CHOIR])
    push(hub, pricer, *batch, 5)
    before = points(hub, ids)
    with reverts(hub.StaleRound, round=5, lastRound=5):  # the accepted batch, replayed
        push(hub, pricer, *batch, 5)
    with reverts(hub.StaleRound, round=5, lastRound=5):  # same round, other prices
        push(hub, pricer, [ids[1]], [12 * CHOIR], 5)
    with reverts(hub.StaleRound, round=4, lastRound=5):  # an older batch delivered late
        push(hub, pricer, [ids[0]], [11 * CHOIR], 4)
    with reverts(hub.StaleRound, round=1, lastRound=5):
        push(hub, pricer, [ids[0]], [11 * CHOIR], 1)
    assert hub.lastRound() == 5
    assert points(hub, ids) == before


def test_rounds_strictly_increase_with_gaps_allowed(hub, pricer, ids):
    price = 10 * CHOIR
    for round_ in (1, 2, 7, 1_000, 2**40):
        price += CHOIR
        push(hub, pricer, [ids[0]], [price], round_)
        assert hub.lastRound() == round_
        assert hub.pricePoint(ids[0])[2] == round_
        assert hub.price(ids[0]) == price


@pytest.mark.parametrize(
    "unknown, position", [(0, 0), (3, 2), (2**64 + 1, 1)], ids=["zero-first", "count+1-last", "huge-middle"]
)
def test_unknown_thread_in_batch_reverts(hub, pricer, ids, unknown, position):
    batch = [ids[0], ids[1]]
    batch.insert(position, unknown)
    with reverts(hub.UnknownThread, threadId=unknown):
        push(hub, pricer, batch, [10 * CHOIR] * 3, 1)
    assert hub.lastRound() == 0
    assert all(hub.pricePoint(i) == (0, 0, 0) for i in ids)


@pytest.mark.parametrize("bad_price", [0, MIN_PRICE - 1, MAX_PRICE + 1, 2**256 - 1])
def test_price_out_of_bounds_reverts(hub, pricer, ids, bad_price):
    with reverts(hub.PriceOutOfBounds, threadId=ids[1], price=bad_price, minPrice=MIN_PRICE, maxPrice=MAX_PRICE):
        push(hub, pricer, ids[:2], [10 * CHOIR, bad_price], 1)
    assert hub.lastRound() == 0
    assert hub.price(ids[0]) == FALLBACK


def test_first_price_is_bounded_only_by_min_and_max(hub, pricer, ids):
    # The fallback (30 CHOIR) is no "previous price": a thread's first price may sit anywhere in the range.
    receipt = push(hub, pricer, ids[:2], [MIN_PRICE, MAX_PRICE], 1)
    assert hub.price(ids[0]) == MIN_PRICE
    assert hub.price(ids[1]) == MAX_PRICE
    assert hub.pricePoint(ids[0]) == (MIN_PRICE, receipt.timestamp, 1)
    assert hub.pricePoint(ids[1]) == (MAX_PRICE, receipt.timestamp, 1)


PREVIOUS = 100 * CHOIR


@pytest.mark.parametrize(
    "new_price, accepted",
    [
        (PREVIOUS, True),  # no move
        (PREVIOUS * 3 // 2, True),  # exactly +50%
        (PREVIOUS * 3 // 2 + 1, False),  # +50% + 1 wei
        (PREVIOUS // 2, True),  # exactly -50%
        (PREVIOUS // 2 - 1, False),  # -50% - 1 wei
        (MIN_PRICE, False),
    ],
    ids=["same", "+50%", "+50%+1wei", "-50%", "-50%-1wei", "to-min"],
)
def test_price_deviation_bound(hub, pricer, ids, new_price, accepted):
    push(hub, pricer, [ids[0]], [PREVIOUS], 1)
    before = points(hub, ids)
    if accepted:
        receipt = push(hub, pricer, [ids[0]], [new_price], 2)
        assert hub.pricePoint(ids[0]) == (new_price, receipt.timestamp, 2)
        assert hub.price(ids[0]) == new_price
        assert hub.lastRound() == 2
    else:
        with reverts(
            hub.PriceDeviationTooLarge,
            threadId=ids[0],
            anchorPrice=PREVIOUS,
            price=new_price,
            maxDeviationBps=MAX_DEVIATION_BPS,
        ):
            push(hub, pricer, [ids[0]], [new_price], 2)
        assert points(hub, ids) == before
        assert hub.lastRound() == 1


def test_deviation_is_measured_per_window_not_per_round(chain, hub, pricer, ids):
    # Four rounds of +50% each, a deviation window apart: every step is within the bound of its own window
    # although the total move is 5x. (Within one window the second step would be refused: test_price_window.py.)
    price = 16 * CHOIR
    push(hub, pricer, [ids[0]], [price], 1)
    for round_ in range(2, 6):
        price = price * 3 // 2
        push(hub, pricer, [ids[0]], [price], round_)
        chain.mine(deltatime=DEVIATION_WINDOW)
    assert hub.pricePoint(ids[0])[0] == 81 * CHOIR
    # A thread priced for the first time in a later round is still free within the bounds.
    push(hub, pricer, [ids[1]], [MAX_PRICE], 6)
    assert hub.price(ids[1]) == MAX_PRICE


@pytest.mark.parametrize("batch", [[1, 1], [1, 2, 1], [1, 2, 2]], ids=["adjacent", "apart", "at-end"])
def test_duplicate_thread_in_round_reverts(hub, pricer, ids, batch):
    duplicate = next(i for i in batch if batch.count(i) > 1)
    with reverts(hub.DuplicateThreadInRound, threadId=duplicate):
        push(hub, pricer, batch, [10 * CHOIR] * len(batch), 1)
    assert hub.lastRound() == 0
    assert all(hub.pricePoint(i) == (0, 0, 0) for i in ids)


def test_duplicate_thread_reverts_even_after_an_earlier_round(hub, pricer, ids):
    push(hub, pricer, [ids[0]], [10 * CHOIR], 1)
    with reverts(hub.DuplicateThreadInRound, threadId=ids[0]):
        push(hub, pricer, [ids[0], ids[0]], [11 * CHOIR, 12 * CHOIR], 2)
    push(hub, pricer, [ids[0]], [12 * CHOIR], 2)  # once per round is fine
    assert hub.price(ids[0]) == 12 * CHOIR


def test_update_records_price_points_last_round_and_event(chain, hub, pricer, creator, ids):
    assert hub.lastRound() == 0
    assert all(hub.pricePoint(i) == (0, 0, 0) for i in ids)
    prices = [10 * CHOIR, 20 * CHOIR]
    receipt = push(hub, pricer, ids[:2], prices, 3)
    [log] = receipt.decode_logs(hub.PricesUpdated)
    assert (log.round, list(log.threadIds), list(log.prices)) == (3, ids[:2], prices)
    assert hub.lastRound() == 3
    assert hub.pricePoint(ids[0]) == (prices[0], receipt.timestamp, 3)
    assert hub.pricePoint(ids[1]) == (prices[1], receipt.timestamp, 3)
    third = create_threads(hub, creator, 1)[0]
    assert hub.pricePoint(third) == (0, 0, 0)
    assert [hub.price(i) for i in (*ids, third)] == [*prices, FALLBACK]

    chain.mine(deltatime=60)
    receipt2 = push(hub, pricer, [ids[1]], [25 * CHOIR], 4)
    assert receipt2.timestamp > receipt.timestamp
    assert hub.pricePoint(ids[0]) == (prices[0], receipt.timestamp, 3)  # untouched by round 4
    assert hub.pricePoint(ids[1]) == (25 * CHOIR, receipt2.timestamp, 4)
    assert hub.lastRound() == 4


@pytest.mark.parametrize(
    "tail, price, error, arguments",
    [
        (4, 100 * CHOIR, "UnknownThread", {"threadId": 4}),
        (
            3,
            MAX_PRICE + 1,
            "PriceOutOfBounds",
            {"threadId": 3, "price": MAX_PRICE + 1, "minPrice": MIN_PRICE, "maxPrice": MAX_PRICE},
        ),
        (
            3,
            151 * CHOIR,
            "PriceDeviationTooLarge",
            {"threadId": 3, "anchorPrice": 100 * CHOIR, "price": 151 * CHOIR, "maxDeviationBps": 5_000},
        ),
        (1, 110 * CHOIR, "DuplicateThreadInRound", {"threadId": 1}),
    ],
    ids=["unknown-thread", "out-of-bounds", "deviation", "duplicate"],
)
def test_rejected_batch_changes_nothing(chain, hub, pricer, creator, ids, tail, price, error, arguments):
    all_ids = [*ids, *create_threads(hub, creator, 1)]
    push(hub, pricer, all_ids, [100 * CHOIR] * 3, 1)
    chain.mine(deltatime=10)
    before = points(hub, all_ids)
    # The first two entries are valid moves; the last one fails, so the whole batch must be refused.
    with reverts(getattr(hub, error), **arguments):
        push(hub, pricer, [1, 2, tail], [120 * CHOIR, 80 * CHOIR, price], 2)
    assert hub.lastRound() == 1
    assert points(hub, all_ids) == before
    push(hub, pricer, [1, 2], [120 * CHOIR, 80 * CHOIR], 2)  # the valid part alone is accepted
    assert [hub.price(i) for i in all_ids] == [120 * CHOIR, 80 * CHOIR, 100 * CHOIR]


# ----------------------------------------------------------------------------------------------------------
# price(): freshness and fallback (protocol section 6)
# ----------------------------------------------------------------------------------------------------------


def test_unset_price_is_the_fallback(hub, ids):
    assert [hub.price(i) for i in ids] == [FALLBACK] * 2


def test_price_is_fresh_until_exactly_heartbeat_then_falls_back(chain, hub, pricer, ids):
    receipt = push(hub, pricer, [ids[0]], [50 * CHOIR], 1)
    updated = receipt.timestamp
    assert hub.price(ids[0]) == 50 * CHOIR
    chain.mine(timestamp=updated + HEARTBEAT - 1)
    assert hub.price(ids[0]) == 50 * CHOIR
    chain.mine(timestamp=updated + HEARTBEAT)
    assert chain.blocks.head.timestamp == updated + HEARTBEAT
    assert hub.price(ids[0]) == 50 * CHOIR  # age == heartbeat: still fresh
    chain.mine(timestamp=updated + HEARTBEAT + 1)
    assert hub.price(ids[0]) == 50 * CHOIR  # one second later: stale, served as max(last price, fallback)
    assert hub.pricePoint(ids[0]) == (50 * CHOIR, updated, 1)  # the stored point is kept
    # A new round refreshes it. The deviation bound still applies from the stored (stale) price: the new
    # deviation window is anchored at it.
    with reverts(
        hub.PriceDeviationTooLarge,
        threadId=ids[0],
        anchorPrice=50 * CHOIR,
        price=FALLBACK * 3,
        maxDeviationBps=MAX_DEVIATION_BPS,
    ):
        push(hub, pricer, [ids[0]], [FALLBACK * 3], 2)
    push(hub, pricer, [ids[0]], [60 * CHOIR], 2)
    assert hub.price(ids[0]) == 60 * CHOIR


def test_price_of_unknown_thread_reverts(hub, ids, outsiders):
    for unknown in (0, len(ids) + 1):
        with reverts(hub.UnknownThread, threadId=unknown):
            call_as_transaction(hub, "price", unknown, sender=outsiders[0])


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
