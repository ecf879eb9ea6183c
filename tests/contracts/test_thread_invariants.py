"""Stateful property test: random sequences of thread operations checked against a pure-Python model.

A Hypothesis `RuleBasedStateMachine` drives thread creation, staked specs (some below the price or zero, some a
second pending spec of the same author), votes (some by non-co-authors, twice, late), settlements (some too early;
some with `settleWithDepartures`, its list now and then short, out of order or naming an account that did not
depart), exits (some in the cooldown, some by the last co-author with specs pending), curator claims, posts and
specs with citations (some unknown, duplicated, too many), price rounds of the pricer (some replayed, some moving
too far), novelty scores and allocations of closed epochs by the oracle (some over the budget, paying a message
twice, for an epoch still open, for a message approved in another epoch, by someone else) and the passage of time.
A model written from protocol sections 2, 3, 5, 6 and 7 (revision 2) predicts, for the block timestamp each
transaction lands in, either the new state or the set of custom errors the protocol may answer with. After every
step the invariants compare the whole chain state with the model:

1. every settlement conserves value to the wei (`SpecSettled`: treasury gain + payout per denier * deniers +
   the stake sent back to the author == stake; only `Refunded` sends it back, with gain and payouts 0) and matches
   the model's outcome and division; `Refunded` (r2) when nobody voted and no eligible co-author is left (the
   thread has none, or `settleWithDepartures` shows they all left); only an approved spec keeps its
   `specCitations`;
2. the token balances of every account and every thread sum to `totalSupply`; each account holds what the
   model says;
3. each thread: `balanceOf(thread) == treasury() + lockedBalance()`, both equal to the model;
4. each thread: the co-authors' `sharesOf` sum to `totalShares()`, every account's shares and
   `coauthorCount()` equal the model; an approval adds `total * e / (1 - e)` shares with
   `e = min(sqrt(s / P0) / (N + 1), 1/2, s / (T + s))` (r2: the NAV floor, `T` the treasury before the stake),
   1e18 into a thread nobody holds shares in, never past `MAX_TOTAL_SHARES`;
5. every spec (status, votes, stake, price, snapshot, deadline, eligible voters) equals the model; an author
   has at most one pending spec per thread (r2: a second one is refused with `PendingSpecExists`);
6. the NAV floor (protocol 5, r2): right after joining a thread that had shareholders, no joiner's pro-rata claim
   on the treasury exceeds its stake;
7. exits never block a decision (protocol 3, r2): every pending spec whose outcome is decided (every eligible
   co-author voted or left, no co-author left at all, or its window ended) settles without a revert, checked as a
   call of `settleWithDepartures` on the latest state; so a thread without co-authors (the last one may leave,
   pending specs or not) holds only specs that settle at once;
8. rewards (protocol 1 and 7, r2): settlement never mints; the distributor never minted more than the emission
   curve allows now (`minted() <= emissionCap(now)`), `minted()` equals the model's, and `totalSupply` is the
   genesis supply plus exactly what the model minted; every epoch's allocations stay within its budget
   `F(end) - F(start)` (the contract's `emissionCap` being the oracle for `F`, tested elsewhere against Python)
   and equal the model's; an allocation pays only specs whose approval became certain in that epoch (the last
   vote when every eligible co-author approved, else the deadline), scored with a weight, at most once, of which
   every distinct other cited thread that has co-authors gets `amount * 10% / n` (rounded down) and the citing
   thread the rest;
9. citations (protocol 7, r2): `hub.citationsReceived(thread)` equals the model's count of distinct other
   threads citing it (by a co-author's post or by a spec when it is approved): `CitingThreadCounted` the first
   time a thread cites another, `CitationRecorded` for every cited message;
10. prices (protocol section 6, r2): each thread's price point and deviation window (`priceWindow`: anchor price
   and start) equal the model's; a round is refused exactly when a price leaves the band of its window's anchor
   (a new window, anchored at the current price, starts at the first update `deviationWindow` after the last
   one started); every spec records `price()`, a stale price being `max(last price, fallbackPrice)`.

Rewards start at a random point of an example (mostly with the first thread's joins, else later by a rule):
the machine deploys a fresh `RewardsDistributor` (the curve starting at its deployment, a little earlier, or
two seconds before an epoch boundary or the end of the curve), then in one block or second wires it and settles
the specs that are ready (minting nothing). `settle_ready_together` settles several specs in one block later on
too. eth-tester mines such a batch as one block; anvil pins every transaction of it to the same second. The
`allocate` rule scores the approved specs of a closed epoch and pays them a drawn share of the epoch's budget.

On anvil one rule puts a membership change and a new spec in the same second (`evm_setNextBlockTimestamp`),
where the eligibility snapshot (co-authors one second before submission) is most delicate.

Transport: the machine sends its transactions and reads as plain JSON-RPC (anvil) or straight to eth-tester,
not through Ape's contract objects. Ape fetches and renders a call trace for every reverted transaction on
anvil (about a second each), and a random walk reverts often; here a revert costs a few milliseconds. Every
call is still a real, mined transaction, and its custom error is taken from the chain (anvil's
`trace_transaction`, or eth-tester replaying it on the block it failed in). Since a failed transaction is
mined too, the model judges every outcome at the exact timestamp of its block, including anvil's many
transactions within one second. On eth-tester the reads of a step run on one EVM state of the latest block
(`InProcessTransport.call_many`), three times faster than one `eth_call` each. Ape provides the fixtures, the
ABIs, snapshots and `chain.mine`.

Draws have a fixed shape (`pick`: an index modulo the model's current list), because the model's lists follow
block timestamps, which differ from run to run; Hypothesis needs the same choices to draw the same way.

Each Hypothesis example starts from a chain snapshot taken in the machine's constructor and restores it in
`teardown`, so examples are independent although they share one pytest test.

Layout: this module composes the machine and runs it; its parts live in `tests/helpers/`: the model's numbers
and arithmetic (`thread_model_arithmetic`) and data types (`thread_model`), the ABI codec (`thread_codec`), the
transports (`thread_transport`), the machine's base and plumbing (`thread_machine_base`, `thread_machine_draws`),
its actions (`thread_machine_actions`, `thread_machine_reward_actions`), its rules by concern (`thread_rules_*`:
messages, votes, membership, prices, rewards) and its invariants (`thread_machine_invariants`).
"""

from __future__ import annotations

import time

from helpers.thread_codec import Codec
from helpers.thread_machine_base import Context
from helpers.thread_machine_invariants import ThreadInvariants
from helpers.thread_rules_membership import MembershipRules
from helpers.thread_rules_messages import MessageRules
from helpers.thread_rules_prices import PriceRules
from helpers.thread_rules_rewards import RewardRules
from helpers.thread_rules_votes import VoteRules
from helpers.thread_transport import AnvilTransport, InProcessTransport
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

# Budget per network (a step with its invariant reads: about 20 ms on anvil, 200 ms on eth-tester): a passing
# run of this file takes about 60-75 s on anvil and 50-70 s on eth-tester on an idle machine.
RUN_SETTINGS = {
    "foundry": {"max_examples": 30, "stateful_step_count": 60},
    "test": {"max_examples": 12, "stateful_step_count": 20},
}


class ThreadMachine(MessageRules, VoteRules, MembershipRules, PriceRules, RewardRules, ThreadInvariants):
    """The state machine: every rule and invariant of the mixins over one model (Hypothesis collects the rules
    and invariants of the whole class, inherited ones included, in the order of their names)."""


def test_thread_protocol_state_machine(chain, project, accounts, token, hub, admin, pricer, coauthors, outsiders):
    codec = Codec(
        {
            "token": project.ChoirToken.contract_type,
            "hub": project.ChoirHub.contract_type,
            "thread": project.ThreadDAO.contract_type,
            "distributor": project.RewardsDistributor.contract_type,
        }
    )
    distributor_type = project.RewardsDistributor.contract_type
    network = chain.provider.name
    if network == "test":
        transport: AnvilTransport | InProcessTransport = InProcessTransport(
            chain.provider.tester.ethereum_tester, codec, admin.address
        )
    else:
        transport = AnvilTransport(chain.provider.web3.provider.endpoint_uri, codec)
    ctx = Context(
        chain=chain,
        codec=codec,
        transport=transport,
        token=token.address,
        hub=hub.address,
        implementation=hub.threadImplementation(),
        admin=admin.address,
        pricer=pricer.address,
        actors=[a.address for a in [*coauthors, *outsiders]],
        distributor_code=bytes.fromhex(distributor_type.deployment_bytecode.bytecode.removeprefix("0x")),
        distributor_args=[i.canonical_type for i in distributor_type.constructor.inputs],
    )
    budget = RUN_SETTINGS.get(network, RUN_SETTINGS["foundry"])
    run_settings = settings(
        **budget,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    start = time.perf_counter()
    run_state_machine_as_test(lambda: ThreadMachine(ctx), settings=run_settings)
    elapsed = time.perf_counter() - start
    stats = ctx.stats
    print(
        f"\n{network}: {elapsed:.1f} s, {stats['examples']} examples, {stats['transactions']} transactions, "
        f"{stats['advance time'] + stats['advance to a boundary']} time jumps"
    )
    print(
        f"rewards: {stats['reward: rewarded messages']} rewarded messages, "
        f"{stats['reward: citation credits']} citation credits; "
        f"{stats['citations recorded at the hub']} citations recorded at the hub, "
        f"{stats['citing threads counted at the hub']} citing threads counted"
    )
    for key, count in sorted(ctx.stats.items()):
        print(f"  {key}: {count}")
