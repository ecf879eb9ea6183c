"""RewardsDistributor's novelty scores: only the oracle sets them, in strictly increasing rounds, with a model id
and a calibration version; a rejected batch changes nothing and a later round rescores.
"""

from __future__ import annotations

import pytest
from helpers.contracts import CHOIR, reverts
from helpers.rewards import CALIBRATION, MAX_WEIGHT, MODEL, WAD, logs_of, rel_close, wad

pytestmark = pytest.mark.usefixtures("distributor")  # every test runs with the module's distributor minting


# ----------------------------------------------------------------------------------------------------------
# Novelty scores: rounds, model id and calibration version
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller_index", [0, 2, 6])  # admin, a co-author, an outsider
def test_only_the_oracle_sets_scores(distributor, accounts, caller_index):
    with reverts(distributor.AccessControlUnauthorizedAccount, account=accounts[caller_index].address):
        distributor.setNoveltyScores(1, MODEL, CALIBRATION, [5], [0], sender=accounts[caller_index])
    assert not distributor.isScored(5) and distributor.lastNoveltyRound() == 0


def test_scores_are_recorded_with_model_and_calibration(distributor, pricer):
    ids, sims = [11, 12, 13], [wad("0.85"), wad("0.99"), -WAD]
    receipt = distributor.setNoveltyScores(1, MODEL, 7, ids, sims, sender=pricer)
    event = logs_of(receipt, distributor.NoveltyScoresSet)[0]
    assert (event.round, event.modelId, event.calibrationVersion) == (1, MODEL, 7)
    assert list(event.messageIds) == ids and list(event.maxSimilarities) == sims
    assert distributor.lastNoveltyRound() == 1
    assert [distributor.isScored(i) for i in (11, 12, 13, 14)] == [True, True, True, False]
    weight, round_ = distributor.scoreOf(11)
    assert rel_close(weight, 1 * CHOIR) and round_ == 1
    assert distributor.scoreOf(12) == (0, 1)  # scored, too similar: no weight
    assert distributor.scoreOf(13) == (MAX_WEIGHT, 1)
    assert distributor.scoreOf(14) == (0, 0)


def test_model_id_is_required_and_bounded(distributor, pricer):
    for bad in ("", "m" * 65):
        with reverts(distributor.InvalidModelId):
            distributor.setNoveltyScores(1, bad, 1, [1], [0], sender=pricer)
    distributor.setNoveltyScores(1, "m" * 64, 0, [1], [0], sender=pricer)
    assert distributor.lastNoveltyRound() == 1


def test_stale_rounds_and_replays_revert(distributor, pricer):
    with reverts(distributor.StaleRound, round=0, lastRound=0):
        distributor.setNoveltyScores(0, MODEL, 1, [1], [0], sender=pricer)
    distributor.setNoveltyScores(1, MODEL, 1, [1], [wad("0.9")], sender=pricer)
    with reverts(distributor.StaleRound, round=1, lastRound=1):
        distributor.setNoveltyScores(1, MODEL, 1, [2], [0], sender=pricer)  # replay
    distributor.setNoveltyScores(5, MODEL, 1, [3], [0], sender=pricer)  # gaps allowed
    for stale in (4, 5):
        with reverts(distributor.StaleRound, round=stale, lastRound=5):
            distributor.setNoveltyScores(stale, MODEL, 1, [2], [0], sender=pricer)
    assert distributor.lastNoveltyRound() == 5 and not distributor.isScored(2)


def test_rejected_batches_change_nothing(distributor, pricer):
    distributor.setNoveltyScores(1, MODEL, 1, [1], [wad("0.9")], sender=pricer)
    with reverts(distributor.LengthMismatch, messageIds=2, values=1):
        distributor.setNoveltyScores(2, MODEL, 1, [2, 3], [0], sender=pricer)
    for bad in (WAD + 1, -WAD - 1):
        with reverts(distributor.SimilarityOutOfRange, messageId=3, maxSimilarity=bad):
            distributor.setNoveltyScores(2, MODEL, 1, [2, 3], [wad("0.5"), bad], sender=pricer)
    assert distributor.lastNoveltyRound() == 1
    assert not distributor.isScored(2) and not distributor.isScored(3)


def test_a_later_round_rescores(distributor, pricer):
    distributor.setNoveltyScores(1, MODEL, 1, [7], [wad("0.85")], sender=pricer)
    distributor.setNoveltyScores(2, MODEL, 2, [7], [wad("0.9")], sender=pricer)
    weight, round_ = distributor.scoreOf(7)
    assert rel_close(weight, 0.1 * CHOIR) and round_ == 2
