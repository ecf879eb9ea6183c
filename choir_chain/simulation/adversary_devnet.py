"""The adversarial strategies of the security review played on a devnet (docs/economics.md section 7): the smaller,
on-chain counterpart of the pure model (`simulation.adversary`).

anvil runs the real contracts (`deploy`, with the model's stake price of 21 CHOIR as the fallback price, and a
12-hour vote so that a governance raid fits in two epochs; the execution delay stays one day, the exit cooldown,
which is the rule that protects a minority). A small honest background plays every measured epoch: a few honest
threads whose co-authors approve a few on-topic specs a day (Poisson, seeded; raw similarity 0.40-0.55,
calibrated), each by a fresh author. Then each strategy's agent (`simulation.adversary_agents`) plays, alone with
that background, from the same chain snapshot, over `epochs` daily epochs from day `start_day` of the emission;
the pricer's account scores every spec (`setNoveltyScores`, the calibrated similarity the pure model assumes for
its text) and, once each epoch has closed, sends its allocation (`pricer.allocation.compute_allocation`: the
pro-rata split by on-chain weight), except for the compromised pricer, which pays its accomplice all of `B_e`.

Measured on chain, per strategy: its gain (the CHOIR its keys hold at the end plus what their equity would pay on
exit, minus the same at the start: its capital), per epoch over its capital; and the part of each epoch's minted
budget paid for its messages. The citation ring and settlement timing are measured against a second run without
the ring's citations, or with the vote cast at once, as the model measures them. Beside each, the pure model's
function for the same strategy on the same epochs (the devnet's budgets and honest weights) and **honest
participation with the same capital by the model's formula** (`adversary.honest_gains`: the model's
approval probability and mean honest weight, the devnet's budgets, honest weights and price).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from eth_account.signers.local import LocalAccount

from choir_chain.chain import Chain, dev_accounts
from choir_chain.deploy import CHOIR, HOUR, GovernanceParameters, HubParameters, deploy
from choir_chain.devnet import DEV_MNEMONIC, Devnet
from choir_chain.protocol import message_id as global_message_id
from choir_chain.protocol.units import WAD
from choir_chain.semantics.calibration import calibrate
from choir_chain.simulation import adversary as model
from choir_chain.simulation.adversary_agents import (
    AT_FLOOR,
    ON_TOPIC,
    WITHHELD,
    Agent,
    CitationRing,
    CompromisedPricer,
    MajorityRaid,
    PassiveDilution,
    SelfDealing,
    SettlementTiming,
    base,
)
from choir_chain.simulation.devnet_world import Paid, World

PRICE = 21 * CHOIR
"""The pure model's stake price (`adversary.Market.price`), the devnet's fallback price: nobody updates it."""
HUB = HubParameters(fallback_price=PRICE)
GOVERNANCE = GovernanceParameters(voting_period=12 * HOUR)
PRELUDE_DAYS = 7
"""Days before the measured epochs in which a 7-day window can start and end inside them."""


@dataclass(frozen=True)
class DevnetConfig:
    epochs: int = 3
    start_day: int = 30
    honest_threads: int = 8
    honest_joiners: int = 2
    """Co-authors each honest thread gains before the measured epochs, besides its creator."""
    honest_per_epoch: float = 19.0
    """Honest approvals a day (Poisson mean): the pure model's 19 (`adversary.Market.honest_per_epoch`)."""
    keys: int = 3
    ring: int = 4
    seed: int = 1


@dataclass
class Honest:
    """The honest background: its threads, their co-authors (who approve every spec) and its daily plan."""

    plan: list[list[tuple[int, float]]]
    """Per measured day: (index of the honest thread, raw similarity of the spec)."""
    threads: list[int] = field(default_factory=list)
    coauthors: list[list[LocalAccount]] = field(default_factory=list)
    messages: list[list[int]] = field(default_factory=list)

    @classmethod
    def setup(cls, world: World, config: DevnetConfig) -> Honest:
        rng = np.random.default_rng(config.seed)
        plan = []
        for _ in range(config.epochs):
            count = max(1, int(rng.poisson(config.honest_per_epoch)))
            plan.append(
                [(int(rng.integers(config.honest_threads)), float(rng.uniform(0.40, 0.55))) for _ in range(count)]
            )
        honest = cls(plan)
        world.at(world.epoch_start(config.start_day - PRELUDE_DAYS - 2) + base(0))
        for i in range(config.honest_threads):
            creator = world.key()
            honest.threads.append(world.create_thread(creator, f"honest thread {i}"))
            honest.coauthors.append([creator])
        start = world.now()
        world.at(start + 1)  # a spec needs co-authors from an earlier second
        joining = []
        for thread, members in zip(honest.threads, honest.coauthors, strict=True):
            for _ in range(config.honest_joiners):
                author = world.key(PRICE)
                joining.append((world.submit(thread, author, ON_TOPIC), members, author))
        world.at(start + 2)
        for spec, members, _ in joining:
            world.vote(spec, members[0])
            world.settle(spec, members[0])
        for _, members, author in joining:
            members.append(author)
        return honest

    def copy(self) -> Honest:
        return Honest(self.plan, list(self.threads), [list(c) for c in self.coauthors], [])

    def day(self, world: World, d: int, first_epoch: int) -> None:
        start = world.epoch_start(first_epoch + d) + base(d)
        world.at(start)
        specs = []
        for index, raw in self.plan[d]:
            author = world.key(PRICE)
            specs.append((world.submit(self.threads[index], author, calibrate(raw)), index, author))
        world.at(start + 60)
        for spec, index, _ in specs:
            for voter in self.coauthors[index]:
                world.vote(spec, voter)
        world.at(start + 120)
        for spec, index, author in specs:
            world.settle(spec, author)
            self.coauthors[index].append(author)
        self.messages.append([spec.message_id for spec, _, _ in specs])


@dataclass
class Run:
    """One strategy's run on the devnet."""

    agent: Agent
    capital: int
    gain: int
    paid: list[Paid]
    weights: dict[int, int]
    """The on-chain weight (WAD) of each of the agent's messages."""
    honest_weights: list[list[int]]
    """The on-chain weights (WAD) of each measured epoch's honest approvals."""

    @property
    def shares(self) -> list[float]:
        return [self.agent.share(p) for p in self.paid]


def play(world: World, config: DevnetConfig, honest0: Honest, agent: Agent) -> Run:
    """Revert to the snapshot and play `agent` with the honest background."""
    world.revert()
    honest = honest0.copy()
    first = config.start_day
    agent.epoch0 = first
    world.at(world.epoch_start(first - PRELUDE_DAYS - 1) + base(0))
    agent.setup(world)
    capital = agent.value(world)
    for i in range(PRELUDE_DAYS):
        agent.prelude(world, i)
    paid = []
    for d in range(config.epochs):
        epoch = first + d
        honest.day(world, d, first)
        agent.day(world, d)
        end = world.epoch_start(epoch + 1)
        if world.now() >= end:
            raise RuntimeError(f"day {d}'s steps ran past the end of epoch {epoch}")
        world.at(end + 30)
        world.score_pending()
        fair = world.fair_allocation(epoch)
        amounts = agent.allocation(world, epoch, dict(zip(fair.message_ids, fair.amounts, strict=True)))
        paid.append(world.allocate(epoch, amounts))
    agent.finish(world)
    weights = {m: world.weight(m) for m in agent.messages}
    honest_weights = [[world.weight(m) for m in day] for day in honest.messages]
    return Run(agent, capital, agent.value(world) - capital, paid, weights, honest_weights)


@dataclass(frozen=True)
class DevnetOutcome:
    strategy: str
    capital: int
    gain: int
    """CHOIR (wei) gained over the run, on chain."""
    epochs: int
    """The epochs the gain is spread over (1 for settlement timing: one spec, as the model counts it)."""
    shares: list[float]
    """Its share of each epoch's budget, on chain."""
    model: model.Outcome
    """The pure model's function for the same strategy on the same epochs."""
    honest_gains: list[float]
    note: str

    @property
    def roi(self) -> float:
        return self.gain / self.epochs / self.capital

    @property
    def honest_roi(self) -> float:
        return float(np.mean(self.honest_gains)) / self.capital

    @property
    def mean_share(self) -> float:
        return float(np.mean(self.shares)) if self.shares else 0.0


@dataclass
class DevnetReport:
    config: DevnetConfig
    epochs: model.Epochs
    """The devnet's budgets and honest weights (on-chain scores, in units of 1)."""
    outcomes: list[DevnetOutcome]
    runs: dict[str, Run]


def model_market(config: DevnetConfig, **changes: float | int) -> model.Market:
    return model.Market(epochs=config.epochs, start_day=config.start_day, price=PRICE, **changes)  # type: ignore[arg-type]


Builder = Callable[[], Agent]


def run_all(config: DevnetConfig, run_dir: Path) -> DevnetReport:
    """Start a devnet in `run_dir`, deploy, set up the honest background and play every strategy."""
    if not 2 <= config.epochs <= PRELUDE_DAYS:
        raise ValueError("epochs: 2 (a raid needs two) to 7 (one approval window)")
    with Devnet(run_dir) as devnet:
        admin, pricer = dev_accounts(DEV_MNEMONIC, 2)
        chain = Chain.connect(devnet.rpc_url)
        deployment = deploy(chain, admin, pricer=pricer.address, parameters=HUB, governance=GOVERNANCE)
        world = World(devnet.rpc_url, deployment, admin, pricer)
        honest0 = Honest.setup(world, config)
        world.snapshot()
        return _play_all(world, config, honest0)


def _play_all(world: World, config: DevnetConfig, honest0: Honest) -> DevnetReport:
    runs: dict[str, Run] = {}

    def run(key: str, agent: Agent) -> Run:
        runs[key] = play(world, config, honest0, agent)
        return runs[key]

    k = config.keys
    floor = run("floor", SelfDealing(f"self-dealing, {k} keys, text at the relevance floor", "", n_keys=k))
    on_topic = run("on-topic", SelfDealing(f"self-dealing, {k} keys, on-topic", "", n_keys=k, similarity=ON_TOPIC))
    off_topic = run("off-topic", SelfDealing(f"self-dealing, {k} keys, off-topic", "", n_keys=k, similarity=WITHHELD))
    ring = run("ring", CitationRing(f"citation ring, {config.ring} threads", "", rings=config.ring))
    no_ring = run("no-ring", CitationRing("the same threads, not citing", "", rings=config.ring, cite=False))
    budgets = [world.budget(config.start_day + d) for d in range(config.epochs)]
    honest_weights = [np.array(day) / WAD for day in floor.honest_weights]
    epochs = model.Epochs(budgets, honest_weights)
    w_on = max(on_topic.weights.values()) / WAD
    best = _best_day(budgets, honest_weights, w_on)
    timed = run("timing", SettlementTiming("settlement timing", "", vote_day=best, last_day=config.epochs - 1))
    at_once = run("at-once", SettlementTiming("approved at once", "", vote_day=0, last_day=0))
    alert = run("raid-alert", MajorityRaid("majority raid, the minority exits first", ""))
    passive = run("raid-passive", MajorityRaid("majority raid, passive minority (30%)", "", alert=False))
    root = global_message_id(honest0.threads[0], 0)
    dilution = run(
        "dilution", PassiveDilution("passive-thread dilution, 2nd keys", "", epochs=config.epochs, cited=root)
    )
    oracle = run("oracle", CompromisedPricer("compromised pricer (within bounds)", "", n_keys=2, similarity=ON_TOPIC))
    spam = run("spam", SelfDealing(f"spam, {k} keys", "", n_keys=k, similarity=WITHHELD))

    market = model_market(config)
    w_floor = max(floor.weights.values()) / WAD
    ring_ids = set(ring.agent.threads)

    def ring_share(a: Paid, b: Paid) -> float:
        return sum(a.to_threads.get(t, 0) - b.to_threads.get(t, 0) for t in ring_ids) / a.budget

    timed_epoch = [p for p in timed.paid if any(m in timed.agent.messages for m in p.amounts)]
    rows = [
        (floor, floor.gain, floor.shares, model.self_dealing(market, epochs, k, w_floor),
         f"text at the relevance floor (raw 0.25): weight {w_floor:.2f} each, {k - 1} approvals a day"),
        (on_topic, on_topic.gain, on_topic.shares, model.self_dealing(market, epochs, k, w_on),
         f"on-topic text (raw 0.45): weight {w_on:.2f} each"),
        (off_topic, off_topic.gain, off_topic.shares, model.self_dealing_off_topic(market, epochs, k),
         "off-topic text: score withheld by the relevance rule (weight 0); stakes cycle through its own treasury"),
        (ring, ring.gain - no_ring.gain, [ring_share(a, b) for a, b in zip(ring.paid, no_ring.paid, strict=True)],
         model.citation_ring(market, epochs, config.ring),
         "gain and share over the same threads not citing: the 10% shares stay inside the ring"),
        (timed, timed.gain - at_once.gain, [timed.agent.share(p) for p in timed_epoch],
         model.settlement_timing(model_market(config, honest_weight_median=w_on),
                                 model.Epochs([*budgets, 0], [*honest_weights, np.array([])]), config.epochs),
         f"the last vote on day {best + 1} of {config.epochs}, the best (over voting at once, on day 1); "
         "settled on the last day: paid in the vote's epoch"),
        (alert, alert.gain, alert.shares, model.majority_raid(model_market(config, treasury=1_000 * CHOIR), epochs),
         "treasury 1,000 CHOIR (70/30); the minority exits a minute before, the execution fails for want of funds"),
        (passive, passive.gain, passive.shares,
         model.majority_raid(model_market(config, treasury=1_000 * CHOIR), epochs, alert=False),
         "the proposal pays the attacker the whole treasury: the minority's 30% with it"),
        (dilution, dilution.gain, dilution.shares,
         model.passive_dilution(model_market(config, treasury=2_400 * CHOIR, honest_weight_median=w_on), epochs),
         "one second key a day, approved by the owner alone when its window ends; the key's equity at NAV"),
        (oracle, oracle.gain, oracle.shares, model.compromised_oracle(market, epochs),
         "allocate() checks epoch, approval, weight > 0, sum <= B_e: not the split"),
        (spam, spam.gain, spam.shares, model.spam(market, epochs, k), "score withheld (weight 0)"),
    ]  # fmt: skip
    outcomes = [
        DevnetOutcome(
            r.agent.name,
            r.capital,
            gain,
            1 if r is timed else config.epochs,
            shares,
            m,
            model.honest_gains(r.capital, market, epochs),
            note,
        )
        for r, gain, shares, m, note in rows
    ]  # fmt: skip  (timing: one spec, whose gain the model counts per day of submission)
    return DevnetReport(config, epochs, outcomes, runs)


def _best_day(budgets: list[int], honest_weights: list[np.ndarray], w: float) -> int:
    """The day whose epoch pays a spec of weight `w` the most, knowing the honest weights (the model's hindsight)."""
    rewards = [b * w / (float(h.sum()) + w) for b, h in zip(budgets, honest_weights, strict=True)]
    return int(np.argmax(rewards))


__all__ = ["AT_FLOOR", "DevnetConfig", "DevnetOutcome", "DevnetReport", "Honest", "Run", "play", "run_all"]
