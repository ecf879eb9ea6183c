"""Helpers of the reward tests (the test_rewards_*.py modules): the distributor's constants, WAD decimals and
relative comparison with the Python curves, scoring rounds, epochs, allocations, and the arming of the flat reward
of the old contracts (c9dd7b7), so that the attack tests show the old behaviour when run against them."""

from __future__ import annotations

from decimal import Decimal

from helpers.contracts import CHOIR, DAY

WAD = 10**18
MODEL = "all-MiniLM-L6-v2"
CALIBRATION = 1
APPROVED = 2
YEAR = 365 * DAY
REWARD_POOL = 2_500_000_000 * CHOIR
MAX_WEIGHT = 100 * CHOIR
CITATION_SHARE_BPS = 1_000
REL = 1e-9


def rel_close(actual: int, expected: float, rel: float = REL) -> bool:
    return abs(actual - expected) <= rel * abs(expected)


def wad(value: str) -> int:
    """A decimal string in WAD, exactly."""
    return int(Decimal(value) * WAD)


def logs_of(receipt, event, address=None):
    """Logs of `event` in `receipt`, only those emitted by `address` if given (decode_logs ignores emitters)."""
    logs = receipt.decode_logs(event)
    if address is None:
        return list(logs)
    return [log for log in logs if log.contract_address == str(address)]


def is_old_distributor(distributor) -> bool:
    """The flat-rate distributor of c9dd7b7 (rewards minted at settlement)."""
    return hasattr(distributor, "setRewardPerMessage")


def arm_old_flat_reward(distributor, admin, pricer, reward: int = 100 * CHOIR) -> None:
    """On the old contracts only: set the current epoch's flat reward so that `settle` mints (the attacks' setting).
    The new distributor has no flat rate: nothing to arm."""
    if is_old_distributor(distributor):
        role = distributor.PRICER_ROLE()
        if not distributor.hasRole(role, pricer):
            distributor.grantRole(role, pricer, sender=admin)
        epoch = distributor.currentEpoch()
        if not distributor.rewardEpoch(epoch):
            distributor.setRewardPerMessage(epoch, reward, sender=pricer)


def score(distributor, oracle, message_ids, similarities) -> int:
    """One scoring round (the next round number) by the test scorer; returns the round."""
    round_ = distributor.lastNoveltyRound() + 1
    distributor.setNoveltyScores(round_, MODEL, CALIBRATION, list(message_ids), list(similarities), sender=oracle)
    return round_


def epoch_at(distributor, timestamp: int) -> int:
    return (timestamp - distributor.launchTime()) // DAY


def close_epoch(chain, distributor, epoch: int) -> None:
    """Mine a block at the first second after `epoch` (or now, if that is past)."""
    end = distributor.epochStart(epoch + 1)
    if chain.pending_timestamp < end:
        chain.pending_timestamp = end
    chain.mine()


def score_and_close(chain, distributor, oracle, message_id: int, similarity: int, certain: int) -> int:
    """Score one message, then close the epoch its approval became certain in (at `certain`); returns the epoch."""
    score(distributor, oracle, [message_id], [similarity])
    epoch = epoch_at(distributor, certain)
    close_epoch(chain, distributor, epoch)
    return epoch


def approve_all(thread, spec_id, voters) -> int:
    """Every voter approves spec `spec_id`; returns the timestamp of the last vote."""
    receipt = None
    for voter in voters:
        receipt = thread.vote(spec_id, True, sender=voter)
    assert receipt is not None
    return receipt.timestamp
