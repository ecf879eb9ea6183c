// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @dev What RewardsDistributor's constructor reads of the token, nothing more: for tests of its pure curve.
contract DistributorTokenStub {
    function GENESIS_SUPPLY() external pure returns (uint256) {
        return 7_500_000_000e18;
    }
}

/// @dev What RewardsDistributor's constructor reads of the hub, nothing more: for tests of its pure curve.
contract DistributorHubStub {
    function threadImplementation() external pure returns (address) {
        return address(0xBEEF);
    }
}
