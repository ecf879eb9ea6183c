// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ChoirToken} from "../../../../contracts/ChoirToken.sol";
import {ChoirHub} from "../../../../contracts/ChoirHub.sol";
import {ThreadDAO} from "../../../../contracts/thread/ThreadDAO.sol";
import {IThreadDAO} from "../../../../contracts/interfaces/IThreadDAO.sol";
import {HandlerBase} from "./HandlerBase.sol";

/// @notice Drives threads: create, post, submit (plain, with a maximum price, with a permit), vote, settle (plain
///         and with the departed named), exit, claim curators' shares, donate and absorb. Each call picks a
///         candidate for which the call should succeed (bounded inputs), predicts the outcome from the rules of
///         docs/protocol.md and records a violation when the contract disagrees: a settlement that does not conserve
///         the stake, a decided spec whose `settle` reverts, a joiner whose claim exceeds its stake, an exit that does
///         not pay the pro-rata treasury, any unexpected revert. Threads are created under unanimity or an approval
///         threshold of 6,666 or 5,001 basis points (see `createThread`), so both settlement rules are exercised.
contract ThreadHandler is HandlerBase {
    uint256 internal constant MAX_THREADS = 3;
    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;

    ChoirToken public immutable token;
    ChoirHub public immutable hub;

    uint256[] public threadIds;
    ThreadDAO[] public threads;
    /// @dev Every spec of a thread (by index in `threads`), and those still pending.
    mapping(uint256 => uint256[]) internal _specs;
    mapping(uint256 => uint256[]) internal _pending;
    /// @dev Tokens sent to a thread outside the protocol and not absorbed yet.
    mapping(address => uint256) public unabsorbed;
    /// @dev Approved specs (global message ids), for the rewards handler.
    uint256[] public approvedMessages;

    /// @notice Approvals after which the joiner's pro-rata claim exceeded its stake (T7).
    uint256 public navFloorViolations;
    /// @notice Settlements of decided specs that reverted (S4).
    uint256 public decidedSettleReverts;
    uint256 public navChecks;
    uint256 public navOpenFinding; // approvals into a thread without shareholders (open finding 1, not checked)
    uint256 internal _nonce;

    constructor(ChoirToken token_, ChoirHub hub_, address[] memory actors_, uint256[] memory keys)
        HandlerBase(actors_, keys)
    {
        token = token_;
        hub = hub_;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Views for the invariants and the other handlers
    // ------------------------------------------------------------------------------------------------------------

    function threadCount() external view returns (uint256) {
        return threads.length;
    }

    function specsOf(uint256 t) external view returns (uint256[] memory) {
        return _specs[t];
    }

    function pendingOf(uint256 t) external view returns (uint256[] memory) {
        return _pending[t];
    }

    function approvedCount() external view returns (uint256) {
        return approvedMessages.length;
    }

    /// @notice Eligible co-authors of `specId` who hold no shares now and never voted on it, in increasing order.
    function departedOf(uint256 t, uint256 specId) public view returns (address[] memory list) {
        ThreadDAO thread = threads[t];
        uint256 snapshot = thread.getSpec(specId).snapshot;
        address[] memory found = new address[](actors.length);
        uint256 n;
        for (uint256 i; i < actors.length; ++i) {
            address a = actors[i];
            if (
                thread.sharesOf(a) == 0 && thread.ballotOf(specId, a) == IThreadDAO.Ballot.None
                    && thread.getPastVotes(a, snapshot) != 0
            ) found[n++] = a;
        }
        list = new address[](n);
        for (uint256 i; i < n; ++i) {
            list[i] = found[i];
        }
        // insertion sort, a handful of entries
        for (uint256 i = 1; i < n; ++i) {
            address x = list[i];
            uint256 j = i;
            while (j != 0 && list[j - 1] > x) {
                list[j] = list[j - 1];
                --j;
            }
            list[j] = x;
        }
    }

    /// @notice Whether the outcome of pending `specId` is certain (protocol section 3, r2): the thread has no
    ///         co-author, or every eligible co-author voted or left, or the window is over.
    function isDecided(uint256 t, uint256 specId) public view returns (bool) {
        ThreadDAO thread = threads[t];
        IThreadDAO.Spec memory s = thread.getSpec(specId);
        uint256 votes = uint256(s.approvals) + s.denials;
        return thread.coauthorCount() == 0 || votes + departedOf(t, specId).length >= s.eligible
            || block.timestamp > s.deadline;
    }

    function resetCounts() external override {
        for (uint256 i; i < doneKeys.length; ++i) {
            delete done[doneKeys[i]];
        }
        delete doneKeys;
        navChecks = 0;
        navOpenFinding = 0;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Actions
    // ------------------------------------------------------------------------------------------------------------

    /// @dev Give a new thread an approval threshold by its index: unanimity (kept), two thirds, a bare majority, so
    ///      every run with three threads has all three rules. It stands in for the governor's `setApprovalThreshold`
    ///      (a thread here has no governor until the governance handler creates one) by writing the threshold's 16
    ///      bits at the top of `ThreadState`, storage slot 0, and checks that the contract reads it back.
    function _setThreshold(ThreadDAO thread, uint256 seed) internal {
        uint256 bps = [BPS, 6666, 5001][seed % 3];
        if (bps == BPS) return;
        bytes32 word = vm.load(address(thread), bytes32(0));
        vm.store(address(thread), bytes32(0), bytes32((uint256(word) & type(uint240).max) | bps << 240));
        if (thread.approvalThreshold() != bps) _violation("threshold not at the top of slot 0");
        _count("threshold.set");
    }

    function createThread(uint256 actorSeed, uint8 kind) public {
        if (threads.length >= MAX_THREADS) return;
        address creator = _actor(actorSeed);
        vm.prank(creator);
        try hub.createThread(keccak256(abi.encode("thread", ++_nonce)), kind % 3) returns (uint256 id, address t) {
            threadIds.push(id);
            threads.push(ThreadDAO(t));
            if (ThreadDAO(t).sharesOf(creator) != 1e18 || ThreadDAO(t).totalShares() != 1e18) {
                _violation("creator does not hold the initial shares");
            }
            if (ThreadDAO(t).approvalThreshold() != BPS) _violation("a new thread's threshold is not unanimity");
            _setThreshold(ThreadDAO(t), threads.length - 1);
            _count("createThread");
        } catch (bytes memory reason) {
            _unexpected("createThread", reason);
        }
    }

    function post(uint256 threadSeed, uint256 actorSeed, uint256 citeSeed) external {
        if (threads.length == 0) return;
        uint256 t = threadSeed % threads.length;
        ThreadDAO thread = threads[t];
        address author = _coauthor(thread, actorSeed);
        if (author == address(0)) return;
        uint256[] memory cites = _citations(t, citeSeed);
        uint256 before = thread.messageCount();
        vm.prank(author);
        try thread.post(keccak256(abi.encode("post", ++_nonce)), cites, uint8(citeSeed % 3)) returns (uint256 index) {
            if (index != before || thread.messageCount() != before + 1) _violation("post index");
            _count("post");
        } catch (bytes memory reason) {
            _unexpected("post", reason);
        }
    }

    /// @dev One submission: who, where, what.
    struct Submission {
        ThreadDAO thread;
        address author;
        uint256 price;
        uint256 stake;
        uint256[] cites;
        bytes32 content;
        uint8 kind;
        uint8 mode;
        uint256 maxPrice;
    }

    /// @param mode 0 submitSpec, 1 submitSpecWithMaxPrice at or above the price, 2 with a maximum below the price
    ///        (must revert PriceAboveMax), 3 submitSpecWithPermit
    function submitSpec(uint256 threadSeed, uint256 actorSeed, uint256 stakeSeed, uint256 citeSeed, uint8 mode)
        external
    {
        if (threads.length == 0) return;
        uint256 t = threadSeed % threads.length;
        Submission memory sub;
        sub.thread = threads[t];
        if (sub.thread.coauthorCount() == 0) return; // takes no spec (NoEligibleVoters)
        sub.author = _outsider(t, actorSeed);
        if (sub.author == address(0)) return;
        sub.price = hub.price(threadIds[t]);
        uint256 balance = token.balanceOf(sub.author);
        if (balance < sub.price) return;
        sub.stake = _bound(stakeSeed, sub.price, Math.min(balance, sub.price * 8));
        sub.cites = _citations(t, citeSeed);
        sub.content = keccak256(abi.encode("spec", ++_nonce));
        sub.kind = uint8(stakeSeed % 3);
        sub.mode = mode % 4;
        sub.maxPrice = sub.mode == 1 ? _bound(stakeSeed >> 128, sub.price, sub.price * 2) : sub.price - 1;
        uint256 lockedBefore = sub.thread.lockedBalance();
        uint256 expectedId = sub.thread.messageCount();
        (bool ok, uint256 specId, bytes memory reason) = _submit(sub);
        if (sub.mode == 2) {
            if (ok) _violation("submitSpecWithMaxPrice accepted a price above the maximum");
            else if (_selector(reason) != IThreadDAO.PriceAboveMax.selector) _unexpected("maxPrice refusal", reason);
            else _count("submitSpec.priceAboveMax");
            return;
        }
        if (!ok) {
            // The last co-author left earlier in this same second: nobody at the snapshot could vote.
            if (_selector(reason) == IThreadDAO.NoEligibleVoters.selector) _count("submitSpec.noEligibleVoters");
            else _unexpected("submitSpec", reason);
            return;
        }
        if (specId != expectedId) _violation("spec id");
        if (sub.thread.lockedBalance() != lockedBefore + sub.stake) _violation("stake not locked");
        IThreadDAO.Spec memory spec = sub.thread.getSpec(specId);
        if (spec.price != sub.price || spec.stake != sub.stake || spec.author != sub.author) _violation("spec record");
        _specs[t].push(specId);
        _pending[t].push(specId);
        // One pending spec per author per thread (r2): a second one is refused.
        vm.prank(sub.author);
        try sub.thread.submitSpec(sub.content, sub.cites, sub.stake, sub.kind) {
            _violation("second pending spec accepted");
        } catch (bytes memory err) {
            if (_selector(err) != IThreadDAO.PendingSpecExists.selector) _unexpected("second spec refusal", err);
        }
        _count(
            sub.mode == 0
                ? bytes32("submitSpec")
                : sub.mode == 1 ? bytes32("submitSpecWithMaxPrice") : bytes32("submitSpecWithPermit")
        );
    }

    function _submit(Submission memory sub) internal returns (bool ok, uint256 specId, bytes memory reason) {
        if (sub.mode == 3) {
            (uint8 v, bytes32 r, bytes32 s) = _permit(sub.author, address(sub.thread), sub.stake);
            vm.prank(sub.author);
            try sub.thread.submitSpecWithPermit(sub.content, sub.cites, sub.stake, sub.kind, block.timestamp, v, r, s)
            returns (uint256 id) {
                return (true, id, "");
            } catch (bytes memory err) {
                return (false, 0, err);
            }
        }
        vm.prank(sub.author);
        token.approve(address(sub.thread), sub.stake);
        vm.prank(sub.author);
        if (sub.mode == 0) {
            try sub.thread.submitSpec(sub.content, sub.cites, sub.stake, sub.kind) returns (uint256 id) {
                (ok, specId) = (true, id);
            } catch (bytes memory err) {
                reason = err;
            }
        } else {
            try sub.thread.submitSpecWithMaxPrice(sub.content, sub.cites, sub.stake, sub.kind, sub.maxPrice) returns (
                uint256 id
            ) {
                (ok, specId) = (true, id);
            } catch (bytes memory err) {
                reason = err;
            }
        }
        if (!ok) {
            vm.prank(sub.author);
            token.approve(address(sub.thread), 0);
        }
    }

    /// @param choice approve unless `choice % 3 == 0` (approvals twice as likely as denials: co-authors accumulate)
    function vote(uint256 threadSeed, uint256 specSeed, uint256 actorSeed, uint8 choice) external {
        bool approve = choice % 3 != 0;
        (bool found, uint256 t, uint256 specId) = _pendingSpec(threadSeed, specSeed);
        if (!found) return;
        ThreadDAO thread = threads[t];
        IThreadDAO.Spec memory spec = thread.getSpec(specId);
        if (block.timestamp > spec.deadline) return;
        address voter;
        for (uint256 i; i < actors.length; ++i) {
            address a = actors[(actorSeed % actors.length + i) % actors.length];
            if (
                thread.sharesOf(a) != 0 && thread.ballotOf(specId, a) == IThreadDAO.Ballot.None
                    && thread.getPastVotes(a, spec.snapshot) != 0
            ) {
                voter = a;
                break;
            }
        }
        if (voter == address(0)) return;
        vm.prank(voter);
        try thread.vote(specId, approve) {
            _count(approve ? bytes32("vote.approve") : bytes32("vote.deny"));
            _checkCertainty(thread, specId, spec, approve);
        } catch (bytes memory reason) {
            _unexpected("vote", reason);
        }
    }

    /// @param mode 0 settle, 1 settleWithDepartures with the exact list, 2 with a list naming a co-author (refused)
    function settle(uint256 threadSeed, uint256 specSeed, uint8 mode) external {
        (bool found, uint256 t, uint256 specId) = _pendingSpec(threadSeed, specSeed);
        if (!found) return;
        mode = mode % 3;
        ThreadDAO thread = threads[t];
        address[] memory departed = departedOf(t, specId);
        if (mode == 2) {
            address member = _coauthor(thread, specSeed);
            if (member == address(0)) return;
            address[] memory bad = new address[](departed.length + 1);
            for (uint256 i; i < departed.length; ++i) {
                bad[i] = departed[i];
            }
            bad[departed.length] = member;
            try thread.settleWithDepartures(specId, bad) {
                _violation("settleWithDepartures accepted a co-author as departed");
            } catch (bytes memory reason) {
                bytes4 sel = _selector(reason);
                if (sel != IThreadDAO.NotDeparted.selector && sel != IThreadDAO.DeparturesNotSorted.selector) {
                    _unexpected("bad departure list", reason);
                } else {
                    _count("settleWithDepartures.refused");
                }
            }
            return;
        }
        _settleAndCheck(t, specId, mode == 1, departed);
    }

    function exit(uint256 threadSeed, uint256 actorSeed) external {
        if (threads.length == 0) return;
        ThreadDAO thread = threads[threadSeed % threads.length];
        address member;
        for (uint256 i; i < actors.length; ++i) {
            address a = actors[(actorSeed % actors.length + i) % actors.length];
            if (thread.sharesOf(a) != 0 && block.timestamp >= thread.joinedAt(a) + thread.EXIT_COOLDOWN()) {
                member = a;
                break;
            }
        }
        if (member == address(0)) return;
        _exitAndCheck(thread, member, "exit");
    }

    /// @notice Exit `member` of thread `t` and check the payout; for the governance handler (a dissenter leaving
    ///         before a proposal executes). Not a fuzzing target. Returns whether the exit succeeded.
    function checkedExit(uint256 t, address member) external returns (bool) {
        return _exitAndCheck(threads[t], member, "exit.dissenter");
    }

    function _exitAndCheck(ThreadDAO thread, address member, bytes32 key) internal returns (bool ok) {
        uint256 shares = thread.sharesOf(member);
        uint256 total = thread.totalShares();
        uint256 treasury = thread.treasury();
        uint256 expected = Math.mulDiv(treasury, shares, total);
        uint256 balance = token.balanceOf(member);
        vm.prank(member);
        try thread.exit() returns (uint256 payout) {
            if (
                payout != expected || token.balanceOf(member) != balance + expected
                    || thread.treasury() != treasury - expected || thread.totalShares() != total - shares
                    || thread.sharesOf(member) != 0
            ) _violation("exit does not pay the pro-rata treasury");
            _count(key);
            ok = true;
        } catch (bytes memory reason) {
            _unexpected("exit", reason);
        }
    }

    function claim(uint256 threadSeed, uint256 seed, bool twice) external {
        if (threads.length == 0) return;
        uint256 t = threadSeed % threads.length;
        ThreadDAO thread = threads[t];
        uint256[] storage specs = _specs[t];
        if (specs.length == 0) return;
        for (uint256 i; i < specs.length; ++i) {
            uint256 specId = specs[(seed % specs.length + i) % specs.length];
            IThreadDAO.Spec memory s = thread.getSpec(specId);
            if (s.status == IThreadDAO.SpecStatus.Approved && s.denials != 0) {
                _claimRefused(thread, specId, seed);
                continue;
            }
            if (s.status != IThreadDAO.SpecStatus.Denied && s.status != IThreadDAO.SpecStatus.Split) continue;
            for (uint256 j; j < actors.length; ++j) {
                address a = actors[(seed % actors.length + j) % actors.length];
                if (thread.ballotOf(specId, a) != IThreadDAO.Ballot.Deny) continue;
                uint256 expected = _perDenier(s);
                uint256 locked = thread.lockedBalance();
                uint256 balance = token.balanceOf(a);
                uint256[] memory ids = new uint256[](1);
                ids[0] = specId;
                vm.prank(a);
                try thread.claimCuratorRewards(ids) returns (uint256 amount) {
                    if (
                        amount != expected || token.balanceOf(a) != balance + expected
                            || thread.lockedBalance() != locked - expected
                    ) _violation("curator claim amount");
                    _count("claimCuratorRewards");
                } catch (bytes memory reason) {
                    _unexpected("claimCuratorRewards", reason);
                }
                if (twice) {
                    vm.prank(a);
                    try thread.claimCuratorRewards(ids) {
                        _violation("curator share claimed twice");
                    } catch (bytes memory reason) {
                        if (_selector(reason) != IThreadDAO.NoCuratorReward.selector) _unexpected("claim twice", reason);
                    }
                }
                return;
            }
        }
    }

    /// @dev A denier of a spec approved over its denials (a threshold below unanimity) has nothing to claim.
    function _claimRefused(ThreadDAO thread, uint256 specId, uint256 seed) internal {
        for (uint256 j; j < actors.length; ++j) {
            address a = actors[(seed % actors.length + j) % actors.length];
            if (thread.ballotOf(specId, a) != IThreadDAO.Ballot.Deny) continue;
            uint256[] memory ids = new uint256[](1);
            ids[0] = specId;
            vm.prank(a);
            try thread.claimCuratorRewards(ids) {
                _violation("a denier claimed from an approved spec");
            } catch (bytes memory reason) {
                if (_selector(reason) != IThreadDAO.NoCuratorReward.selector) _unexpected("claim approved", reason);
                else _count("claim.approvedRefused");
            }
            return;
        }
    }

    function donate(uint256 threadSeed, uint256 actorSeed, uint256 amount) external {
        if (threads.length == 0) return;
        ThreadDAO thread = threads[threadSeed % threads.length];
        address from = _actor(actorSeed);
        uint256 balance = token.balanceOf(from);
        if (balance == 0) return;
        amount = _bound(amount, 1, Math.min(balance, 1_000e18));
        vm.prank(from);
        token.transfer(address(thread), amount);
        unabsorbed[address(thread)] += amount;
        _count("donate");
    }

    function absorbDonations(uint256 threadSeed) external {
        if (threads.length == 0) return;
        ThreadDAO thread = threads[threadSeed % threads.length];
        uint256 expected = unabsorbed[address(thread)];
        uint256 treasury = thread.treasury();
        try thread.absorbDonations() returns (uint256 amount) {
            if (amount != expected || thread.treasury() != treasury + expected) _violation("absorbDonations amount");
            unabsorbed[address(thread)] = 0;
            _count("absorbDonations");
        } catch (bytes memory reason) {
            if (expected != 0 || _selector(reason) != IThreadDAO.NoDonation.selector) {
                _unexpected("absorbDonations", reason);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Settlement and its checks
    // ------------------------------------------------------------------------------------------------------------

    /// @dev The thread before a settlement.
    struct Before {
        uint256 treasury;
        uint256 locked;
        uint256 total;
        uint256 authorBalance;
        bool decided;
        bool refund;
    }

    function _settleAndCheck(uint256 t, uint256 specId, bool withDepartures, address[] memory departed) internal {
        ThreadDAO thread = threads[t];
        IThreadDAO.Spec memory s = thread.getSpec(specId);
        Before memory b = Before({
            treasury: thread.treasury(),
            locked: thread.lockedBalance(),
            total: thread.totalShares(),
            authorBalance: token.balanceOf(s.author),
            decided: isDecided(t, specId),
            refund: s.approvals == 0 && s.denials == 0
                && (thread.coauthorCount() == 0 || departed.length >= s.eligible)
        });
        bool ok;
        bytes memory reason;
        if (withDepartures) {
            try thread.settleWithDepartures(specId, departed) {
                ok = true;
            } catch (bytes memory err) {
                reason = err;
            }
        } else {
            try thread.settle(specId) {
                ok = true;
            } catch (bytes memory err) {
                reason = err;
            }
        }
        if (!ok) {
            if (b.decided) {
                decidedSettleReverts += 1;
                _unexpected("settle of a decided spec", reason);
            } else if (_selector(reason) != IThreadDAO.SettleTooEarly.selector) {
                _unexpected("early settle", reason);
            } else {
                _count("settle.tooEarly");
            }
            return;
        }
        if (!b.decided) {
            _violation("settle succeeded before the spec was decided");
            return;
        }
        _removePending(t, specId);
        _checkSettlement(thread, specId, s, b);
    }

    /// @dev R5 under a threshold: the vote that brings the approvals to the threshold of the eligible count makes the
    ///      approval certain in its second (`deadline` moves there, `approvalCertainAt` reports it); no other vote
    ///      moves the deadline.
    function _checkCertainty(ThreadDAO thread, uint256 specId, IThreadDAO.Spec memory before, bool approve) internal {
        IThreadDAO.Spec memory s = thread.getSpec(specId);
        uint256 needed = thread.approvalThreshold() * s.eligible;
        bool crossed = approve && uint256(s.approvals) * BPS >= needed && uint256(before.approvals) * BPS < needed;
        if (crossed) {
            if (s.deadline != block.timestamp || thread.approvalCertainAt(specId) != block.timestamp) {
                _violation("approval certain but not recorded at this second");
            }
            _count("vote.certain");
        } else if (s.deadline != before.deadline) {
            _violation("a vote that did not make the approval certain moved the deadline");
        }
    }

    /// @dev The rule of docs/protocol.md section 3 with the thread's threshold `t` read before the settlement.
    function _expectedOutcome(IThreadDAO.Spec memory s, bool refund, uint256 t)
        internal
        pure
        returns (IThreadDAO.SpecStatus)
    {
        if (refund) return IThreadDAO.SpecStatus.Refunded;
        if (s.denials == 0) return s.approvals == 0 ? IThreadDAO.SpecStatus.Expired : IThreadDAO.SpecStatus.Approved;
        if (s.approvals == 0) return IThreadDAO.SpecStatus.Denied;
        if (uint256(s.approvals) * BPS >= t * (uint256(s.approvals) + s.denials)) return IThreadDAO.SpecStatus.Approved;
        return IThreadDAO.SpecStatus.Split;
    }

    function _checkSettlement(ThreadDAO thread, uint256 specId, IThreadDAO.Spec memory s, Before memory b) internal {
        IThreadDAO.SpecStatus outcome = thread.getSpec(specId).status;
        if (outcome != _expectedOutcome(s, b.refund, thread.approvalThreshold())) _violation("settlement outcome");
        _count(_outcomeKey(outcome));
        if (outcome == IThreadDAO.SpecStatus.Refunded) {
            if (
                token.balanceOf(s.author) != b.authorBalance + s.stake || thread.treasury() != b.treasury
                    || thread.lockedBalance() != b.locked - s.stake
            ) _violation("refund does not return exactly the stake");
            return;
        }
        uint256 gain = thread.treasury() - b.treasury;
        // T2: treasuryGain + payoutPerDenier * denials == stake, and the payouts stay locked for the deniers; an
        // approved spec (with denials only under a threshold) pays its deniers nothing.
        uint256 perDenier = outcome == IThreadDAO.SpecStatus.Approved ? 0 : _perDenier(s);
        if (gain + perDenier * s.denials != s.stake || thread.lockedBalance() != b.locked - gain) {
            _violation("settlement does not conserve the stake");
        }
        if (outcome != IThreadDAO.SpecStatus.Approved) return;
        if (s.denials != 0) _count("settle.approvedOverDenials");
        approvedMessages.push(thread.messageId(specId));
        uint256 added = thread.sharesOf(s.author);
        if (added == 0 || thread.totalShares() != b.total + added) _violation("approved author's shares");
        if (b.total == 0) {
            navOpenFinding += 1; // a thread every co-author left: the author restarts it (open finding 1)
            return;
        }
        // T7, the NAV floor: right after joining, the newcomer's pro-rata claim is at most its stake.
        navChecks += 1;
        uint256 claimNow = Math.mulDiv(thread.treasury(), added, b.total + added);
        if (claimNow > s.stake) {
            navFloorViolations += 1;
            _violation(
                string.concat(
                    "NAV floor: claim ", vm.toString(claimNow), " above stake ", vm.toString(uint256(s.stake))
                )
            );
        }
    }

    function _perDenier(IThreadDAO.Spec memory s) internal pure returns (uint256) {
        if (s.denials == 0) return 0;
        if (s.approvals == 0) return s.stake / s.denials;
        return (uint256(s.stake) * s.denials / (uint256(s.approvals) + s.denials)) / s.denials;
    }

    function _outcomeKey(IThreadDAO.SpecStatus outcome) internal pure returns (bytes32) {
        if (outcome == IThreadDAO.SpecStatus.Approved) return "settle.approved";
        if (outcome == IThreadDAO.SpecStatus.Denied) return "settle.denied";
        if (outcome == IThreadDAO.SpecStatus.Split) return "settle.split";
        if (outcome == IThreadDAO.SpecStatus.Expired) return "settle.expired";
        return "settle.refunded";
    }

    // ------------------------------------------------------------------------------------------------------------
    // Picking candidates
    // ------------------------------------------------------------------------------------------------------------

    function _coauthor(ThreadDAO thread, uint256 seed) internal view returns (address) {
        for (uint256 i; i < actors.length; ++i) {
            address a = actors[(seed % actors.length + i) % actors.length];
            if (thread.sharesOf(a) != 0) return a;
        }
        return address(0);
    }

    /// @dev An actor that is not a co-author of thread `t` and has no spec pending there.
    function _outsider(uint256 t, uint256 seed) internal view returns (address) {
        ThreadDAO thread = threads[t];
        uint256[] storage pending = _pending[t];
        for (uint256 i; i < actors.length; ++i) {
            address a = actors[(seed % actors.length + i) % actors.length];
            if (thread.sharesOf(a) != 0) continue;
            bool busy;
            for (uint256 j; j < pending.length && !busy; ++j) {
                busy = thread.getSpec(pending[j]).author == a;
            }
            if (!busy) return a;
        }
        return address(0);
    }

    function _pendingSpec(uint256 threadSeed, uint256 specSeed) internal view returns (bool, uint256, uint256) {
        uint256 n = threads.length;
        for (uint256 i; i < n; ++i) {
            uint256 t = (threadSeed % n + i) % n;
            uint256[] storage pending = _pending[t];
            if (pending.length != 0) return (true, t, pending[specSeed % pending.length]);
        }
        return (false, 0, 0);
    }

    function _removePending(uint256 t, uint256 specId) internal {
        uint256[] storage pending = _pending[t];
        for (uint256 i; i < pending.length; ++i) {
            if (pending[i] == specId) {
                pending[i] = pending[pending.length - 1];
                pending.pop();
                return;
            }
        }
    }

    /// @dev None, one or two citations of existing messages (of this or another thread), distinct.
    function _citations(uint256 t, uint256 seed) internal view returns (uint256[] memory cites) {
        uint256 count = seed % 3;
        cites = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            uint256 other = (t + (seed >> (8 + i * 8))) % threads.length;
            ThreadDAO cited = threads[other];
            uint256 index = (seed >> (64 + i * 32)) % cited.messageCount();
            cites[i] = cited.messageId(index);
        }
        if (count == 2 && cites[0] == cites[1]) {
            assembly ("memory-safe") {
                mstore(cites, 1)
            }
        }
    }

    function _permit(address owner, address spender, uint256 value) internal view returns (uint8, bytes32, bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                owner,
                spender,
                value,
                token.nonces(owner),
                block.timestamp
            )
        );
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
        return vm.sign(keyOf[owner], digest);
    }
}
