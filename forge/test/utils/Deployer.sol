// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ChoirToken} from "../../../contracts/ChoirToken.sol";
import {ChoirHub} from "../../../contracts/ChoirHub.sol";
import {ThreadGovernor} from "../../../contracts/governance/ThreadGovernor.sol";
import {ProtocolTimelock} from "../../../contracts/governance/ProtocolTimelock.sol";
import {RewardsDistributor, IChoirMintable} from "../../../contracts/rewards/RewardsDistributor.sol";
import {IChoirHub} from "../../../contracts/interfaces/IChoirHub.sol";

/// @notice The protocol deployed as `choir_chain.deploy.deploy` deploys it on a devnet (and, with
///         `_handOverToTimelock`, as `choir_chain.rollout` hands it over on a persistent chain): token, hub (which
///         deploys the thread implementation), thread governor implementation and `setGovernance`, rewards
///         distributor with the token's `MINTER_ROLE` and set at the hub, the pricer holding the hub's `PRICER_ROLE`
///         and the distributor's `ORACLE_ROLE`. Parameters are the defaults of `HubParameters` and
///         `GovernanceParameters`. The deployer (this contract) is the admin, acting at once, and the genesis
///         recipient, as on the devnet.
abstract contract Deployer is Test {
    uint256 internal constant CHOIR = 1e18;

    // HubParameters defaults (choir_chain/deploy.py)
    uint256 internal constant MIN_PRICE = 1 * CHOIR;
    uint256 internal constant MAX_PRICE = 1_000_000 * CHOIR;
    uint256 internal constant FALLBACK_PRICE = 30 * CHOIR;
    uint256 internal constant MAX_DEVIATION_BPS = 5_000;
    uint256 internal constant HEARTBEAT = 1 days;
    uint256 internal constant DEVIATION_WINDOW = 1 hours;
    uint256 internal constant APPROVAL_WINDOW = 7 days;

    // GovernanceParameters defaults
    uint32 internal constant VOTING_DELAY = 1 hours;
    uint32 internal constant VOTING_PERIOD = 3 days;
    uint16 internal constant QUORUM_BPS = 5_000;
    uint32 internal constant EXECUTION_DELAY = 1 days;

    ChoirToken internal token;
    ChoirHub internal hub;
    ThreadGovernor internal governorImplementation;
    RewardsDistributor internal distributor;
    address internal pricer;

    /// @dev Deploy and wire everything; `pricer_` gets the hub's PRICER_ROLE and the distributor's ORACLE_ROLE.
    function _deploySystem(address pricer_) internal {
        pricer = pricer_;
        token = new ChoirToken(address(this), address(this));
        hub = new ChoirHub(
            IERC20(address(token)),
            ChoirHub.Config({
                admin: address(this),
                minPrice: MIN_PRICE,
                maxPrice: MAX_PRICE,
                fallbackPrice: FALLBACK_PRICE,
                maxDeviationBps: MAX_DEVIATION_BPS,
                heartbeat: HEARTBEAT,
                deviationWindow: DEVIATION_WINDOW,
                approvalWindow: APPROVAL_WINDOW
            })
        );
        governorImplementation = new ThreadGovernor();
        hub.setGovernance(
            ChoirHub.GovernanceSettings({
                implementation: address(governorImplementation),
                votingDelay: VOTING_DELAY,
                votingPeriod: VOTING_PERIOD,
                quorumBps: QUORUM_BPS,
                executionDelay: EXECUTION_DELAY
            })
        );
        hub.grantRole(hub.PRICER_ROLE(), pricer_);
        distributor = new RewardsDistributor(IChoirMintable(address(token)), IChoirHub(address(hub)), address(this), 0);
        // The minter role first: the hub accepts only a distributor that can mint.
        token.grantRole(token.MINTER_ROLE(), address(distributor));
        hub.setRewardsDistributor(address(distributor));
        distributor.grantRole(distributor.ORACLE_ROLE(), pricer_);
    }

    /// @dev As `choir_chain.rollout` does on a persistent chain: a `ProtocolTimelock` whose proposer and executor is
    ///      `admin` takes `DEFAULT_ADMIN_ROLE` on the token, the hub and the distributor; the deployer renounces its own.
    function _handOverToTimelock(uint256 delay, address admin) internal returns (ProtocolTimelock timelock) {
        address[] memory accounts = new address[](1);
        accounts[0] = admin;
        timelock = new ProtocolTimelock(delay, accounts, accounts, address(0));
        bytes32 adminRole = token.DEFAULT_ADMIN_ROLE();
        token.grantRole(adminRole, address(timelock));
        hub.grantRole(adminRole, address(timelock));
        distributor.grantRole(adminRole, address(timelock));
        token.renounceRole(adminRole, address(this));
        hub.renounceRole(adminRole, address(this));
        distributor.renounceRole(adminRole, address(this));
    }
}
