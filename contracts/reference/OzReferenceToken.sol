// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title Plain OpenZeppelin ERC-20, the gas reference for `oz.transfer` (benchmarks only, never deployed live)
contract OzReferenceToken is ERC20 {
    /// @param holder receives the whole supply
    constructor(address holder) ERC20("Reference", "REF") {
        _mint(holder, 1e27);
    }
}
