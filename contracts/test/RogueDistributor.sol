// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IThreadDAO} from "../interfaces/IThreadDAO.sol";

/// @notice What the rogue needs of the token.
interface IRogueMintable {
    function mint(address to, uint256 amount) external;
}

/// @title Test only: a distributor a compromised admin installed (attack 9b of the r2 review)
/// @notice Names the right hub and token, so the hub's checks pass once the admin grants it the minter role; then
///         it credits threads with numbers of its choosing, minting less (or nothing), or mints outside the curve.
///         Never deployed by the deploy script; the contract tests use it to show the threads and the distributor
///         hold regardless.
contract RogueDistributor {
    /// @notice The hub it claims to serve.
    address public immutable hub;
    /// @notice The token it claims to mint.
    address public immutable token;

    /// @param hub_ the hub to name
    /// @param token_ the token to name
    constructor(address hub_, address token_) {
        hub = hub_;
        token = token_;
    }

    /// @notice Mint `minted` CHOIR to `thread` and ask it to credit `claimed` for message `messageId`.
    /// @param thread the thread to credit
    /// @param messageId any message id
    /// @param minted CHOIR actually minted to the thread first (needs the minter role if non-zero)
    /// @param claimed the amount the thread is asked to credit
    function credit(address thread, uint256 messageId, uint256 minted, uint256 claimed) external {
        if (minted != 0) IRogueMintable(token).mint(thread, minted);
        IThreadDAO(thread).creditReward(messageId, claimed);
    }

    /// @notice Mint `amount` CHOIR to `to` directly (a second minter beside the real distributor).
    /// @param to the receiver
    /// @param amount CHOIR to mint
    function mint(address to, uint256 amount) external {
        IRogueMintable(token).mint(to, amount);
    }
}
