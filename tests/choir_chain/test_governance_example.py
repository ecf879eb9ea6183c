"""examples/governance.py runs end to end against a devnet the test starts; its balances are the chain's."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from choir_chain import artifacts
from choir_chain.chain import Chain
from choir_chain.deploy import CHOIR
from choir_chain.devnet import Devnet
from choir_chain.paths import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "examples" / "governance.py"
FINAL = re.compile(
    r"^final balances: recipient (?P<recipient>[\d.]+) CHOIR, treasury (?P<treasury>[\d.]+) CHOIR, "
    r"thread holds (?P<thread>[\d.]+) CHOIR$",
    re.M,
)
ADDRESSES = re.compile(
    r"^addresses: thread (?P<thread>0x[0-9a-fA-F]{40}), governor (?P<governor>0x[0-9a-fA-F]{40}), "
    r"recipient (?P<recipient>0x[0-9a-fA-F]{40})$",
    re.M,
)
EXECUTED = 7


def test_governance_example_pays_the_recipient_from_the_treasury(tmp_path: Path) -> None:
    with Devnet(tmp_path / "run") as node:
        result = subprocess.run(
            [sys.executable, str(EXAMPLE), "--rpc-url", node.rpc_url],
            capture_output=True, text=True, timeout=120, check=False, cwd=PROJECT_ROOT,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        out = result.stdout
        final = FINAL.search(out)
        assert final is not None, out
        # stakes 30 + 120 and a donation of 50 made a treasury of 200; the proposal paid 120 of it
        assert {k: float(v) for k, v in final.groupdict().items()} == {
            "recipient": 120.0,
            "treasury": 80.0,
            "thread": 80.0,
        }
        # every step the example narrates happened, in order
        steps = [
            "Dave (not a co-author) asking is refused: OnlyCoauthor",
            "state Pending",
            "refused: GovernorInsufficientProposerVotes",
            "state Active",
            "refused: GovernorInvalidSignature",
            "votes: for 3e18, against 1e18, abstain 0",
            "state Succeeded",
            "state Queued",
            "refused: ExecutionTooEarly",
            "Alice, outvoted, could still exit with her share first",
            "state Executed",
            "executing again is refused: GovernorUnexpectedProposalState",
        ]
        positions = [out.find(step) for step in steps]
        assert -1 not in positions and positions == sorted(positions), out

        # the printed balances are the chain's
        addresses = ADDRESSES.search(out)
        assert addresses is not None, out
        chain = Chain.connect(node.rpc_url)
        thread = chain.contract(artifacts.load("ThreadDAO"), addresses["thread"])
        governor = chain.contract(artifacts.load("ThreadGovernor"), addresses["governor"])
        token = chain.contract(artifacts.load("ChoirToken"), thread.functions.token().call())
        assert token.functions.balanceOf(addresses["recipient"]).call() == 120 * CHOIR
        assert thread.functions.treasury().call() == 80 * CHOIR
        assert token.functions.balanceOf(thread.address).call() == 80 * CHOIR
        assert thread.functions.governor().call() == governor.address
        proposal = re.search(r"proposal id (\d+)", out)
        assert proposal is not None
        proposal_id = int(proposal[1])
        assert governor.functions.state(proposal_id).call() == EXECUTED
        assert governor.functions.proposalVotes(proposal_id).call() == [CHOIR, 3 * CHOIR, 0]
