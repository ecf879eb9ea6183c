// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title CHOIR, the token of Choir chain
/// @notice ERC-20 with EIP-2612 permit and a hard cap of 10,000,000,000 CHOIR. The genesis allocation (cap minus
///         the 2,500,000,000 CHOIR reward pool) is minted at deployment; after that only holders of
///         `MINTER_ROLE` (the rewards distributor, which enforces the emission curve) can mint.
contract ChoirToken is ERC20, ERC20Permit, ERC20Capped, AccessControl {
    /// @notice Role allowed to mint after genesis; reserved for the rewards distributor.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @notice Hard cap on the total supply: 10 billion CHOIR.
    uint256 public constant MAX_SUPPLY = 10_000_000_000 ether;

    /// @notice The reward pool `R_total`, emitted over four years after genesis.
    uint256 public constant REWARD_POOL = 2_500_000_000 ether;

    /// @notice Minted once, at deployment, to the genesis recipient.
    uint256 public constant GENESIS_SUPPLY = MAX_SUPPLY - REWARD_POOL;

    /// @notice A constructor argument was the zero address.
    error ZeroAddress(string field);

    /// @param admin receives `DEFAULT_ADMIN_ROLE` (a timelock or multisig outside a devnet)
    /// @param genesisRecipient receives the genesis allocation
    constructor(address admin, address genesisRecipient)
        ERC20("Choir", "CHOIR")
        ERC20Permit("Choir")
        ERC20Capped(MAX_SUPPLY)
    {
        if (admin == address(0)) revert ZeroAddress("admin");
        if (genesisRecipient == address(0)) revert ZeroAddress("genesisRecipient");
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _mint(genesisRecipient, GENESIS_SUPPLY);
    }

    /// @notice Mint `amount` CHOIR to `to`; only `MINTER_ROLE`, never beyond the cap.
    /// @param to the receiver
    /// @param amount the amount in wei-like units (1 CHOIR = 1e18)
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }

    /// @dev Both ERC20 and ERC20Capped define `_update`; the capped one checks the cap on mint.
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Capped) {
        super._update(from, to, value);
    }
}
