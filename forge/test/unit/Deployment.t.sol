// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ProtocolTimelock} from "../../../contracts/governance/ProtocolTimelock.sol";
import {Deployer} from "../utils/Deployer.sol";

/// @notice The fixture deploys what `choir_chain.deploy` deploys, wired the same way, and hands over to a timelock
///         as `choir_chain.rollout` does.
contract DeploymentTest is Deployer {
    address internal constant MULTISIG = address(0xA11CE);

    function setUp() public {
        vm.warp(1_780_000_000);
        _deploySystem(makeAddr("pricer"));
    }

    function test_rolesAndParametersAsTheDevnetDeploys() public view {
        assertEq(token.balanceOf(address(this)), token.GENESIS_SUPPLY(), "genesis");
        assertTrue(token.hasRole(token.MINTER_ROLE(), address(distributor)), "distributor mints");
        assertTrue(hub.hasRole(hub.PRICER_ROLE(), pricer), "pricer");
        assertTrue(distributor.hasRole(distributor.ORACLE_ROLE(), pricer), "oracle");
        assertEq(hub.rewardsDistributor(), address(distributor), "hub's distributor");
        assertEq(hub.governanceSettings().implementation, address(governorImplementation), "governor implementation");
        assertEq(hub.governanceSettings().executionDelay, EXECUTION_DELAY, "execution delay");
        assertEq(hub.fallbackPrice(), FALLBACK_PRICE, "fallback price");
        assertEq(hub.deviationWindow(), DEVIATION_WINDOW, "deviation window");
        assertEq(hub.defaultApprovalWindow(), APPROVAL_WINDOW, "approval window");
        assertEq(distributor.launchTime(), block.timestamp, "launch");
    }

    function test_timelockHandOverMakesAdminActionsSlow() public {
        ProtocolTimelock timelock = _handOverToTimelock(2 days, MULTISIG);
        bytes32 adminRole = hub.DEFAULT_ADMIN_ROLE();
        assertFalse(hub.hasRole(adminRole, address(this)), "deployer kept the hub");
        assertFalse(token.hasRole(adminRole, address(this)), "deployer kept the token");
        assertFalse(distributor.hasRole(adminRole, address(this)), "deployer kept the distributor");
        assertTrue(hub.hasRole(adminRole, address(timelock)), "timelock admin");
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, MULTISIG, adminRole)
        );
        vm.prank(MULTISIG);
        hub.setDefaultApprovalWindow(2 days);

        bytes memory call = abi.encodeCall(hub.setDefaultApprovalWindow, (2 days));
        vm.prank(MULTISIG);
        timelock.schedule(address(hub), 0, call, bytes32(0), bytes32(0), 2 days);
        vm.warp(block.timestamp + 2 days - 1);
        vm.expectRevert();
        vm.prank(MULTISIG);
        timelock.execute(address(hub), 0, call, bytes32(0), bytes32(0));
        vm.warp(block.timestamp + 1);
        vm.prank(MULTISIG);
        timelock.execute(address(hub), 0, call, bytes32(0), bytes32(0));
        assertEq(hub.defaultApprovalWindow(), 2 days, "the scheduled change after the delay");
    }
}
