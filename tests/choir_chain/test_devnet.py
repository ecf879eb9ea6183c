"""The devnet launcher and `choir devnet`: anvil starts, answers, keeps its files in its run folder, stops."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from choir_chain.devnet import Devnet, DevnetError, rpc_call
from choir_chain.manifest import Manifest

CHOIR = [sys.executable, "-m", "choir_chain.cli"]


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _tree(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")} if path.exists() else set()


def test_devnet_answers_and_stops(tmp_path):
    with Devnet(tmp_path / "run") as node:
        assert int(str(rpc_call(node.rpc_url, "eth_chainId")), 16) == 31337
        accounts = rpc_call(node.rpc_url, "eth_accounts")
        assert isinstance(accounts, list) and len(accounts) == 10
        port = node.port
        assert port is not None and _port_open(port)
    assert not node.running
    assert not _port_open(port)


def test_devnet_writes_nothing_outside_its_run_folder(tmp_path):
    """Past a few hundred blocks anvil would write snapshots under $HOME/.foundry; it must not."""
    home_foundry = Path.home() / ".foundry"
    before = _tree(home_foundry)
    with Devnet(tmp_path / "run") as node:
        sender = rpc_call(node.rpc_url, "eth_accounts")[0]  # type: ignore[index]
        for _ in range(20):
            rpc_call(node.rpc_url, "eth_sendTransaction", [{"from": sender, "to": sender, "value": "0x1"}])
        rpc_call(node.rpc_url, "anvil_mine", ["0x7d0"], timeout=60)  # 2,000 blocks
        assert int(str(rpc_call(node.rpc_url, "eth_blockNumber")), 16) >= 2_000
    assert _tree(home_foundry) == before
    assert (tmp_path / "run" / "anvil.log").is_file()


def test_devnet_reports_a_port_in_use(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(DevnetError, match="anvil"):
            Devnet(tmp_path / "run", port=port, start_timeout=5).start()


def test_choir_devnet_runs_a_command_against_the_deployment(tmp_path):
    probe = (
        "import json, os; from choir_chain.manifest import Manifest; "
        "m = Manifest.read(__import__('pathlib').Path(os.environ['CHOIR_MANIFEST'])); "
        "print(json.dumps({'rpc': os.environ['CHOIR_RPC_URL'], 'ape': os.environ['APE_FOUNDRY_HOST'], "
        "'chain': m.chain_id, 'contracts': sorted(m.contracts)}))"
    )
    run_dir = tmp_path / "devnet"
    result = subprocess.run(
        [*CHOIR, "devnet", "--run-dir", str(run_dir), "--", sys.executable, "-c", probe],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["chain"] == 31337
    assert seen["rpc"] == seen["ape"]
    assert seen["contracts"] == ["ChoirHub", "ChoirToken", "RewardsDistributor", "ThreadDAO", "ThreadGovernor"]
    manifest = Manifest.read(run_dir / "deployments" / "31337.json")
    assert manifest.deploy_block >= 1
    assert set(manifest.roles) == {"admin", "pricer", "minter", "genesis"}  # the same manifest as a testnet run
    assert manifest.roles["minter"] == manifest.contracts["RewardsDistributor"].address
    assert all(entry.abi_hash.startswith("0x") and len(entry.abi_hash) == 66 for entry in manifest.contracts.values())
    # the command's exit status is the devnet's, and anvil is gone afterwards
    failing = subprocess.run(
        [*CHOIR, "devnet", "--run-dir", str(run_dir), "--no-deploy", "--", sys.executable, "-c", "raise SystemExit(3)"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert failing.returncode == 3


def test_choir_devnet_stops_cleanly_on_ctrl_c(tmp_path):
    run_dir = tmp_path / "devnet"
    manifest_path = run_dir / "deployments" / "31337.json"
    process = subprocess.Popen(
        [*CHOIR, "devnet", "--run-dir", str(run_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not manifest_path.exists() and time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.1)
        rpc = json.loads(manifest_path.read_text())
        assert rpc["chain_id"] == 31337
        time.sleep(0.5)  # let it print its table and wait
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "devnet stopped" in err
    assert "Traceback" not in err
    log = (run_dir / "anvil.log").read_text()
    port = int(log.split("Listening on 127.0.0.1:")[1].split()[0])
    assert not _port_open(port)


def test_cli_errors_are_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [*CHOIR, "devnet", "--run-dir", str(tmp_path / "d"), "--port", str(port)],
            capture_output=True, text=True, timeout=60, check=False, env={**os.environ, "COLUMNS": "200"},
        )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error:")
