// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GasBase} from "./GasBase.sol";

/// @notice Gas of a price round: 100 threads priced once an hour earlier (so each starts a new deviation window),
///         each moving by about 5%, with realistic 18-digit wei prices.
contract PricesGasTest is GasBase {
    uint256 internal constant BATCH = 100;
    uint256[] internal ids;
    uint256[] internal prices;

    function setUp() public {
        _deploy();
        for (uint256 i; i < BATCH; ++i) {
            _create(alice, i);
        }
        _pushPrices(1, BATCH, 0);
        vm.warp(block.timestamp + 1 hours);
        for (uint256 i; i < BATCH; ++i) {
            ids.push(1 + i);
            prices.push(_price(i, 1));
        }
    }

    /// 100 threads in one batch.
    function test_updatePrices100() public {
        vm.prank(pricer);
        hub.updatePrices(ids, prices, 2);
    }
}
