"""The one deployment engine of the Choir protocol: staged and resumable, run by the Ape script `scripts/deploy.py`
on a persistent chain (a testnet or mainnet, progress file on disk) and by `choir_chain.deploy` on the devnet (the
same plan and engine with a local key, `KeySender`, no timelock, progress in memory only).

By concern: `config` (what to deploy, roles, errors), `progress` (the progress file), `steps` (a step and the
contract reader), `senders` (sending transactions), `plan` (the steps and the read-back check), `engine` (the run).

The deployment is a fixed list of steps (`plan`): deploy the token, the hub (which deploys the thread
implementation), the thread governor implementation, `hub.setGovernance`, the rewards distributor; grant the
token's `MINTER_ROLE` to the distributor, point the hub at it (the hub checks it can mint); grant the pricer the
hub's `PRICER_ROLE` and the distributor's `ORACLE_ROLE` (scores and epoch allocations). A devnet may go without the
distributor (`DeployConfig.rewards`) or without a pricer. With a timelock delay
(`DeployConfig.timelock_delay`, what `scripts/deploy.py` always sets) deploy a `ProtocolTimelock` whose proposer
and executor is the admin, grant it `DEFAULT_ADMIN_ROLE` on the three contracts, check everything, and renounce
the deployer's admin roles (`choir_chain.timelock`); without one, when the admin is not the deployer, the same with
the admin in the timelock's place. Then every role and parameter is read back (`verify`) and the manifest
`deployments/<chainId>.json` is built. A dry run is `choir_chain.dry_run`.

**Resuming.** Each step is recorded in the progress file `deployments/<chainId>.progress.json` twice: as `sent`
(with the deployer's nonce and the head block) just before its transaction goes out, and as `done` (with its
transaction, block and gas) once mined. A re-run skips `done` steps; a step left `sent` by a crash is *adopted*
if it happened on chain (a deployment: the deployer's nonce moved past the recorded one and there is code at the
address that nonce creates; a call: its effect is visible, e.g. the role is held) and sent again otherwise. So a
deployment that stopped anywhere resumes without deploying anything twice. A chain with a manifest but no
progress file (e.g. written by `choir_chain.deploy`) resumes from the manifest's contracts.

**Failure injection.** `CHOIR_DEPLOY_FAIL_AFTER=<step>` makes the run stop (`SimulatedFailure`) right after that
step is recorded as done; `<step>:unrecorded` stops after its transaction is mined but before it is recorded (a
crash at the worst moment). Only honoured when set; the tests use it to check resuming.
"""

from choir_chain.rollout.config import (
    ALL_DEPLOYED,
    DEFAULT_ADMIN_ROLE,
    MINTER_ROLE,
    ORACLE_ROLE,
    PRICER_ROLE,
    DeployConfig,
    DeployError,
    SimulatedFailure,
    VerificationError,
    parameters_from,
)
from choir_chain.rollout.engine import Outcome, Report, Rollout
from choir_chain.rollout.plan import check, plan
from choir_chain.rollout.progress import Progress, StepRecord, load_progress
from choir_chain.rollout.senders import ImpersonatingSender, KeySender, Sender, Sent
from choir_chain.rollout.steps import Reader, Step

__all__ = [
    "ALL_DEPLOYED",
    "DEFAULT_ADMIN_ROLE",
    "MINTER_ROLE",
    "ORACLE_ROLE",
    "PRICER_ROLE",
    "DeployConfig",
    "DeployError",
    "ImpersonatingSender",
    "KeySender",
    "Outcome",
    "Progress",
    "Reader",
    "Report",
    "Rollout",
    "Sender",
    "Sent",
    "SimulatedFailure",
    "Step",
    "StepRecord",
    "VerificationError",
    "check",
    "load_progress",
    "parameters_from",
    "plan",
]
