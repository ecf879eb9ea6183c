// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IChoirHub} from "../../../contracts/interfaces/IChoirHub.sol";
import {IChoirMintable, RewardsDistributor} from "../../../contracts/rewards/RewardsDistributor.sol";
import {DistributorHubStub, DistributorTokenStub} from "../utils/DistributorStubs.sol";

/// @dev The distributor itself, with a loop that evaluates its own `emissionCap` (an internal call: the code the
///      chain runs, without a call frame per second).
contract EmissionCapSweeper is RewardsDistributor {
    constructor(IChoirMintable token_, IChoirHub hub_) RewardsDistributor(token_, hub_, msg.sender, 0) {}

    /// @notice The first second t in (from, to] with F(t) < F(t - 1), or 0 if F never decreases there.
    /// @param from the first timestamp evaluated
    /// @param to the last timestamp evaluated
    function firstDecrease(uint256 from, uint256 to) external view returns (uint256) {
        uint256 previous = emissionCap(from);
        for (uint256 t = from + 1; t <= to; ++t) {
            uint256 cap = emissionCap(t);
            if (cap < previous) return t;
            previous = cap;
        }
        return 0;
    }
}

/// @notice Monotonicity of the emission curve `F(t) = emissionCap(t)` inside (launch, launch + T), where the Halmos
///         proof (forge/test/prove/EmissionCap.t.sol) gives no verdict: F rests there on Solady's `lnWad`. The
///         interior is finite (126,143,999 seconds), so it is checked by evaluating the contract's own code at every
///         second: `F(t - 1) <= F(t)` for every t with launch < t - 1 < t < launch + T, in 16 parts that forge runs
///         in parallel (`make verify-emission`, CHOIR_EMISSION_SWEEP=full). Together with the Halmos proof of every
///         pair not both inside, this makes F monotone on all of uint256. Without the variable (`make test-forge`),
///         each part checks a window of 20,000 seconds at the start of its stretch, and the windows around the
///         points where `lnWad`'s range reduction changes its power of two (x crossing 2**60, 2**61 and 2**62),
///         where a rational approximation would most likely step back, are checked in full.
contract EmissionSweep is Test {
    uint256 internal constant PARTS = 16;
    uint256 internal constant SAMPLE = 20_000;

    EmissionCapSweeper internal sweeper;
    uint256 internal launch;
    uint256 internal span;
    bool internal full;

    function setUp() public {
        vm.warp(1_800_000_000);
        sweeper = new EmissionCapSweeper(
            IChoirMintable(address(new DistributorTokenStub())), IChoirHub(address(new DistributorHubStub()))
        );
        launch = sweeper.launchTime();
        span = sweeper.EMISSION_YEARS() * sweeper.YEAR();
        full = keccak256(bytes(vm.envOr("CHOIR_EMISSION_SWEEP", string("")))) == keccak256("full");
    }

    /// @dev Part `part` of the interior's seconds launch + 1 .. launch + T - 1 (each part's first second is the
    ///      previous part's last, so every consecutive pair is compared once).
    function _sweepPart(uint256 part) internal view {
        uint256 first = 1 + (span - 2) * part / PARTS;
        uint256 last = 1 + (span - 2) * (part + 1) / PARTS;
        if (!full) last = first + SAMPLE;
        uint256 decrease = sweeper.firstDecrease(launch + first, launch + last);
        assertEq(decrease, 0, "the emission curve decreases at this timestamp");
    }

    /// @notice The seconds around each power of two that x = 1 + k t (WAD) crosses inside the interior.
    function test_emissionCapIsMonotoneWhereLnWadChangesScale() public view {
        uint256 k = sweeper.EMISSION_K();
        uint256 year = sweeper.YEAR();
        for (uint256 power = 60; power <= 62; ++power) {
            // the first elapsed second at which x = 1e18 + k * elapsed * 1e18 / YEAR reaches 2**power
            uint256 crossing = ((uint256(1) << power) - 1e18) * year / (k * 1e18);
            assertGt(crossing, SAMPLE, "the crossing lies outside the interior");
            assertLt(crossing + SAMPLE, span, "the crossing lies outside the interior");
            uint256 decrease = sweeper.firstDecrease(launch + crossing - SAMPLE, launch + crossing + SAMPLE);
            assertEq(decrease, 0, "the emission curve decreases at this timestamp");
        }
    }

    function test_sweep00() public view {
        _sweepPart(0);
    }

    function test_sweep01() public view {
        _sweepPart(1);
    }

    function test_sweep02() public view {
        _sweepPart(2);
    }

    function test_sweep03() public view {
        _sweepPart(3);
    }

    function test_sweep04() public view {
        _sweepPart(4);
    }

    function test_sweep05() public view {
        _sweepPart(5);
    }

    function test_sweep06() public view {
        _sweepPart(6);
    }

    function test_sweep07() public view {
        _sweepPart(7);
    }

    function test_sweep08() public view {
        _sweepPart(8);
    }

    function test_sweep09() public view {
        _sweepPart(9);
    }

    function test_sweep10() public view {
        _sweepPart(10);
    }

    function test_sweep11() public view {
        _sweepPart(11);
    }

    function test_sweep12() public view {
        _sweepPart(12);
    }

    function test_sweep13() public view {
        _sweepPart(13);
    }

    function test_sweep14() public view {
        _sweepPart(14);
    }

    function test_sweep15() public view {
        _sweepPart(15);
    }
}
