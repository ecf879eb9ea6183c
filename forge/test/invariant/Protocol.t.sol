// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {console} from "forge-std/console.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ChoirHub} from "../../../contracts/ChoirHub.sol";
import {ThreadDAO} from "../../../contracts/thread/ThreadDAO.sol";
import {IThreadDAO} from "../../../contracts/interfaces/IThreadDAO.sol";
import {Deployer} from "../utils/Deployer.sol";
import {HandlerBase} from "./handlers/HandlerBase.sol";
import {ThreadHandler} from "./handlers/ThreadHandler.sol";
import {GovernanceHandler} from "./handlers/GovernanceHandler.sol";
import {MarketHandler} from "./handlers/MarketHandler.sol";

/// @notice The money invariants of docs/invariants.md over random sequences of the whole protocol, deployed as the
///         devnet deploys it: eight funded actors create threads, post, submit, vote, settle, exit, claim, donate,
///         govern treasuries; the pricer moves prices and allocates rewards; time passes. Only the handlers are
///         fuzzing targets.
contract ProtocolInvariants is Deployer {
    uint256 internal constant ACTORS = 8;
    uint256 internal constant FUNDS = 1_000_000e18;

    ThreadHandler internal threadHandler;
    GovernanceHandler internal governanceHandler;
    MarketHandler internal marketHandler;
    address[] internal actors;

    function setUp() public {
        vm.warp(1_780_000_000); // a 2026 timestamp: deviation windows and epochs start from a realistic clock
        uint256[] memory keys = new uint256[](ACTORS);
        for (uint256 i; i < ACTORS; ++i) {
            (address a, uint256 key) = makeAddrAndKey(string.concat("actor", vm.toString(i)));
            actors.push(a);
            keys[i] = key;
        }
        _deploySystem(makeAddr("pricer"));
        for (uint256 i; i < ACTORS; ++i) {
            token.transfer(actors[i], FUNDS);
        }
        threadHandler = new ThreadHandler(token, hub, actors, keys);
        governanceHandler = new GovernanceHandler(token, hub, threadHandler, actors, keys);
        marketHandler = new MarketHandler(token, hub, distributor, threadHandler, pricer, actors, keys);
        token.grantRole(token.MINTER_ROLE(), address(marketHandler)); // a second minter, bound by the same curve
        // Two threads of three co-authors each (the creator approves two specs), so that governance has a minority.
        threadHandler.createThread(0, 0);
        threadHandler.createThread(1, 1);
        vm.warp(block.timestamp + 1); // the creators hold shares at the specs' snapshot
        for (uint256 t; t < 2; ++t) {
            for (uint256 j; j < 2; ++j) {
                threadHandler.submitSpec(t, 2 + 2 * t + j, 0, 0, 0);
                threadHandler.vote(t, 0, t, 1);
                threadHandler.settle(t, 0, 0);
            }
            require(threadHandler.threads(t).coauthorCount() == 3, "set-up: three co-authors");
        }
        require(threadHandler.violations() == 0, threadHandler.firstViolation());
        // Thread 0's governor has the deployed settings (a 3-day vote); every later governor the fastest settings the
        // hub accepts (1-second delay, 1-hour vote, execution delay = the 1-day exit cooldown), where the exit window
        // of G4 is tightest.
        uint256 firstThread = threadHandler.threadIds(0);
        vm.prank(actors[0]);
        hub.createGovernor(firstThread);
        hub.setGovernance(
            ChoirHub.GovernanceSettings({
                implementation: address(governorImplementation),
                votingDelay: 1,
                votingPeriod: 1 hours,
                quorumBps: QUORUM_BPS,
                executionDelay: 1 days // ThreadDAO.EXIT_COOLDOWN, the least the hub accepts
            })
        );
        threadHandler.resetCounts();

        // A selector listed k times is called k times as often: weights that let specs get decided and proposals
        // reach their execution within a run of 100 calls.
        bytes4[] memory threadSelectors = new bytes4[](17);
        threadSelectors[0] = ThreadHandler.createThread.selector;
        threadSelectors[1] = ThreadHandler.post.selector;
        threadSelectors[2] = ThreadHandler.submitSpec.selector;
        threadSelectors[3] = ThreadHandler.submitSpec.selector;
        threadSelectors[4] = ThreadHandler.submitSpec.selector;
        threadSelectors[5] = ThreadHandler.vote.selector;
        threadSelectors[6] = ThreadHandler.vote.selector;
        threadSelectors[7] = ThreadHandler.vote.selector;
        threadSelectors[8] = ThreadHandler.vote.selector;
        threadSelectors[9] = ThreadHandler.settle.selector;
        threadSelectors[10] = ThreadHandler.settle.selector;
        threadSelectors[11] = ThreadHandler.settle.selector;
        threadSelectors[12] = ThreadHandler.exit.selector;
        threadSelectors[13] = ThreadHandler.claim.selector;
        threadSelectors[14] = ThreadHandler.donate.selector;
        threadSelectors[15] = ThreadHandler.absorbDonations.selector;
        threadSelectors[16] = ThreadHandler.submitSpec.selector;
        targetSelector(FuzzSelector({addr: address(threadHandler), selectors: threadSelectors}));

        bytes4[] memory governanceSelectors = new bytes4[](7);
        governanceSelectors[0] = GovernanceHandler.propose.selector;
        governanceSelectors[1] = GovernanceHandler.castVote.selector;
        governanceSelectors[2] = GovernanceHandler.castVote.selector;
        governanceSelectors[3] = GovernanceHandler.queue.selector;
        governanceSelectors[4] = GovernanceHandler.queue.selector;
        governanceSelectors[5] = GovernanceHandler.execute.selector;
        governanceSelectors[6] = GovernanceHandler.execute.selector;
        targetSelector(FuzzSelector({addr: address(governanceHandler), selectors: governanceSelectors}));

        bytes4[] memory marketSelectors = new bytes4[](7);
        marketSelectors[0] = MarketHandler.warp.selector;
        marketSelectors[1] = MarketHandler.warp.selector;
        marketSelectors[2] = MarketHandler.warp.selector;
        marketSelectors[3] = MarketHandler.updatePrices.selector;
        marketSelectors[4] = MarketHandler.allocate.selector;
        marketSelectors[5] = MarketHandler.allocate.selector;
        marketSelectors[6] = MarketHandler.otherMint.selector;
        targetSelector(FuzzSelector({addr: address(marketHandler), selectors: marketSelectors}));

        targetContract(address(threadHandler));
        targetContract(address(governanceHandler));
        targetContract(address(marketHandler));
    }

    /// @notice Every invariant below, after every call of every run: one campaign checks them all (a campaign per
    ///         invariant would repeat the same random sequences once per property, at ten times the cost).
    function invariant_protocol() public {
        _checkThreadBalanceIsTreasuryPlusLockedPlusDonations();
        _checkLockedIsEscrowPlusUnclaimedCuratorShares();
        _checkSupplyIsTheSumOfAllBalances();
        _checkEmissionNeverExceedsTheCurve();
        _checkSharesOfHoldersSumToTotalShares();
        _checkNoJoinerClaimAboveItsStake();
        _checkDecidedSpecsSettle();
        _checkDissentersCanExitBeforeExecution();
        _checkPricesStayInTheirWindowBand();
        _checkHandlersSawNoViolation();
    }

    // ------------------------------------------------------------------------------------------------------------
    // T1: value conservation
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Per thread: `balanceOf(thread) == treasury + locked + unabsorbed donations`, exactly (donations are
    ///         the tokens actors sent outside the protocol since the last `absorbDonations`), hence
    ///         `balanceOf(thread) >= treasury + locked` at all times.
    function _checkThreadBalanceIsTreasuryPlusLockedPlusDonations() internal view {
        uint256 n = threadHandler.threadCount();
        for (uint256 t; t < n; ++t) {
            ThreadDAO thread = threadHandler.threads(t);
            assertEq(
                token.balanceOf(address(thread)),
                thread.treasury() + thread.lockedBalance() + threadHandler.unabsorbed(address(thread)),
                "balance != treasury + locked + unabsorbed"
            );
        }
    }

    /// @notice Per thread: `locked` is exactly the escrowed stakes of pending specs plus the deniers' unclaimed
    ///         shares of denied and split specs.
    function _checkLockedIsEscrowPlusUnclaimedCuratorShares() internal view {
        uint256 n = threadHandler.threadCount();
        for (uint256 t; t < n; ++t) {
            ThreadDAO thread = threadHandler.threads(t);
            uint256[] memory specs = threadHandler.specsOf(t);
            uint256 expected;
            for (uint256 i; i < specs.length; ++i) {
                IThreadDAO.Spec memory s = thread.getSpec(specs[i]);
                if (s.status == IThreadDAO.SpecStatus.Pending) {
                    expected += s.stake;
                } else if (s.status == IThreadDAO.SpecStatus.Denied || s.status == IThreadDAO.SpecStatus.Split) {
                    for (uint256 j; j < ACTORS; ++j) {
                        expected += thread.curatorRewardOf(specs[i], actors[j]);
                    }
                }
            }
            assertEq(thread.lockedBalance(), expected, "locked != escrow + unclaimed curator shares");
        }
    }

    /// @notice The sum of every balance equals the total supply (holders: the deployer, the actors, the threads).
    function _checkSupplyIsTheSumOfAllBalances() internal view {
        uint256 sum = token.balanceOf(address(this)) + token.balanceOf(pricer) + token.balanceOf(address(distributor));
        for (uint256 i; i < ACTORS; ++i) {
            sum += token.balanceOf(actors[i]);
        }
        uint256 n = threadHandler.threadCount();
        for (uint256 t; t < n; ++t) {
            sum += token.balanceOf(address(threadHandler.threads(t)));
        }
        assertEq(sum, token.totalSupply(), "sum of balances != totalSupply");
    }

    // ------------------------------------------------------------------------------------------------------------
    // Emission
    // ------------------------------------------------------------------------------------------------------------

    /// @notice `totalSupply - genesis <= F(now)` across every minter (the distributor and a second minter), and no
    ///         epoch allocated more than its budget `F(end) - F(start)`.
    function _checkEmissionNeverExceedsTheCurve() internal view {
        uint256 minted = token.totalSupply() - token.GENESIS_SUPPLY();
        assertLe(minted, distributor.emissionCap(block.timestamp), "totalSupply - genesis > F(now)");
        assertLe(minted, token.REWARD_POOL(), "minted beyond the reward pool");
        assertEq(minted, marketHandler.rewarded() + marketHandler.otherMinted(), "mints not accounted");
        uint256 n = marketHandler.epochsAllocatedCount();
        for (uint256 i; i < n; ++i) {
            uint256 epoch = marketHandler.epochsAllocated(i);
            assertLe(distributor.allocated(epoch), distributor.epochBudget(epoch), "epoch over budget");
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Equity
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Per thread: the holders' shares sum to `totalShares`, and the co-author count is the number of holders.
    function _checkSharesOfHoldersSumToTotalShares() internal view {
        uint256 n = threadHandler.threadCount();
        for (uint256 t; t < n; ++t) {
            ThreadDAO thread = threadHandler.threads(t);
            uint256 sum;
            uint256 holders;
            for (uint256 i; i < ACTORS; ++i) {
                uint256 shares = thread.sharesOf(actors[i]);
                sum += shares;
                if (shares != 0) ++holders;
            }
            assertEq(sum, thread.totalShares(), "sum of shares != totalShares");
            assertEq(holders, thread.coauthorCount(), "coauthorCount != holders");
            assertLe(sum, thread.MAX_TOTAL_SHARES(), "shares above MAX_TOTAL_SHARES");
        }
    }

    /// @notice T7: right after an approval into a thread with shareholders, the joiner's pro-rata claim
    ///         `treasury * sharesAdded / totalShares` never exceeded its stake (checked by the handler at every
    ///         approval; a thread every co-author had left is open finding 1 and counted apart).
    function _checkNoJoinerClaimAboveItsStake() internal view {
        assertEq(threadHandler.navFloorViolations(), 0, threadHandler.firstViolation());
    }

    // ------------------------------------------------------------------------------------------------------------
    // Settlement and exits
    // ------------------------------------------------------------------------------------------------------------

    /// @notice S4: every decided pending spec settles without a revert: the handler's settlements of decided specs
    ///         never reverted, and here every pending spec that is decided is settled in turn (alternately by
    ///         `settle` and by `settleWithDepartures` with the departed listed), each of which must succeed. Forge
    ///         discards what an invariant function changes, so these settlements do not alter the run.
    function _checkDecidedSpecsSettle() internal {
        assertEq(threadHandler.decidedSettleReverts(), 0, threadHandler.firstViolation());
        uint256 n = threadHandler.threadCount();
        uint256 k;
        for (uint256 t; t < n; ++t) {
            ThreadDAO thread = threadHandler.threads(t);
            uint256[] memory pending = threadHandler.pendingOf(t);
            for (uint256 i; i < pending.length; ++i) {
                if (!threadHandler.isDecided(t, pending[i])) continue;
                bytes memory call = ++k % 2 == 0
                    ? abi.encodeCall(ThreadDAO.settle, (pending[i]))
                    : abi.encodeCall(ThreadDAO.settleWithDepartures, (pending[i], threadHandler.departedOf(t, pending[i])));
                (bool ok, bytes memory reason) = address(thread).call(call);
                assertTrue(ok, string.concat("settling a decided spec reverted: ", vm.toString(reason)));
            }
        }
    }

    /// @notice G4: a co-author who voted against a treasury proposal could always exit before it executed (its
    ///         cooldown ended by the execution time, and a dissenter that exited right before the execution got its
    ///         pro-rata share).
    function _checkDissentersCanExitBeforeExecution() internal view {
        assertEq(governanceHandler.dissentersLockedIn(), 0, governanceHandler.firstViolation());
    }

    /// @notice O1: every thread's price lies within `maxDeviationBps` of its deviation window's anchor.
    function _checkPricesStayInTheirWindowBand() internal view {
        uint256 n = threadHandler.threadCount();
        for (uint256 t; t < n; ++t) {
            uint256 id = threadHandler.threadIds(t);
            (uint256 anchor, uint256 start) = hub.priceWindow(id);
            if (start == 0) continue;
            (uint256 last,,) = hub.pricePoint(id);
            uint256 move = last > anchor ? last - anchor : anchor - last;
            assertLe(move * 10_000, anchor * hub.maxDeviationBps(), "price outside its window's band");
        }
    }

    /// @notice Every check the handlers make on the spot (settlement conservation T2, outcomes, refunds, exits paying
    ///         the pro-rata treasury T8, curators' claims, one pending spec per author T5, refusals of bad input T4,
    ///         O1, G5, allocations) held, and no call the handlers expected to succeed reverted.
    function _checkHandlersSawNoViolation() internal view {
        assertEq(threadHandler.violations(), 0, threadHandler.firstViolation());
        assertEq(governanceHandler.violations(), 0, governanceHandler.firstViolation());
        assertEq(marketHandler.violations(), 0, marketHandler.firstViolation());
    }

    /// @notice What the run did: the calls of each kind that did real work (printed with -vv; with
    ///         CHOIR_INVARIANT_LOG=1 also appended to .forge/invariant-work.log, which `make fuzz` sums over the runs).
    function afterInvariant() public {
        bool toFile = vm.envOr("CHOIR_INVARIANT_LOG", false);
        _log(threadHandler, toFile);
        _log(governanceHandler, toFile);
        _log(marketHandler, toFile);
        _line("check.navFloor", threadHandler.navChecks(), toFile);
        _line("check.navOpenFinding", threadHandler.navOpenFinding(), toFile);
        _line("check.dissenter", governanceHandler.dissenterChecks(), toFile);
        _line("runs", 1, toFile);
    }

    function _log(HandlerBase handler, bool toFile) internal {
        uint256 n = handler.doneKeyCount();
        for (uint256 i; i < n; ++i) {
            bytes32 key = handler.doneKeyAt(i);
            _line(string(abi.encodePacked(key)), handler.done(key), toFile);
        }
    }

    function _line(string memory key, uint256 value, bool toFile) internal {
        // bytes32 keys are right-padded with zero bytes: cut them.
        bytes memory raw = bytes(key);
        uint256 length = raw.length;
        while (length != 0 && raw[length - 1] == 0) --length;
        assembly ("memory-safe") {
            mstore(raw, length)
        }
        console.log(key, value);
        if (toFile) vm.writeLine(".forge/invariant-work.log", string.concat(key, " ", vm.toString(value)));
    }
}
