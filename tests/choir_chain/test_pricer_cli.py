"""`choir pricer` on the command line: one JSON line per round, following the chain until Ctrl-C, the key from
the environment (never the development mnemonic off the devnet), one-line errors.

The workload and the reference run are the fixtures of conftest.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account
from helpers.pricer_runs import Outcome
from helpers.pricer_workload import World
from typer.testing import CliRunner

from choir_chain.cli import app
from choir_chain.pricer import PricerError
from choir_chain.pricer.cli import load_account


def _args(world: World, tmp_path: Path, *extra: str) -> list[str]:
    manifest = world.deployment.manifest.write(tmp_path / "deployments")
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    return ["pricer", "--rpc", world.rpc_url, "--manifest", str(manifest), "--db", db, *extra]


def test_cli_prints_one_json_line_per_round(fresh: World, reference: Outcome, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, _args(fresh, tmp_path, "--once"), env={"CHOIR_PRICER_KEY": ""})
    assert result.exit_code == 0, result.output + result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    rounds = [line for line in lines if line["event"] == "round"]
    assert [r["round"] for r in rounds] == sorted(reference.rounds)
    for line in rounds:
        assert {
            "round",
            "trigger_block",
            "threads",
            "prices",
            "tx",
            "block",
            "gas",
            "latency_ms",
        } <= line.keys()
        assert line["gas"] > 0 and line["block"] > line["trigger_block"]
        assert [int(p) for p in line["prices"]] == reference.rounds[line["round"]][1]
    assert f"pricer stopped at round {len(reference.rounds)}" in result.stderr


def test_cli_follows_until_ctrl_c(fresh: World, reference: Outcome, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CHOIR_PRICER_KEY"}
    command = [sys.executable, "-m", "choir_chain.cli", *_args(fresh, tmp_path, "--poll-interval", "0.02")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        rounds = 0
        while rounds < len(reference.rounds):  # one JSON line per event, flushed as it happens
            line = process.stdout.readline()
            assert line, "the pricer stopped on its own"
            rounds += json.loads(line)["event"] == "round"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert f"pricer stopped at round {len(reference.rounds)}" in err and "Traceback" not in err
    assert fresh.deployment.hub.functions.lastRound().call() == len(reference.rounds)


def test_the_key_comes_from_the_environment(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    own = Account.create()
    monkeypatch.setenv("MY_KEY", "0x" + bytes(own.key).hex())
    assert load_account("MY_KEY", 11155111).address == own.address
    monkeypatch.setenv("MY_KEY", "0x" + bytes(world.pricer.key).hex())
    assert load_account("MY_KEY", 31337).address == world.pricer.address
    with pytest.raises(PricerError, match="development mnemonic"):  # anyone can sign for it
        load_account("MY_KEY", 11155111)
    monkeypatch.delenv("MY_KEY")
    assert load_account("MY_KEY", 31337).address == world.pricer.address  # devnet: development account 1
    with pytest.raises(PricerError, match="no pricer key: set MY_KEY"):
        load_account("MY_KEY", 11155111)


@pytest.mark.parametrize(
    ("extra", "env", "message"),
    [
        ([], {"CHOIR_PRICER_KEY": "0x" + "11" * 32}, "lacks PRICER_ROLE"),
        ([], {"CHOIR_PRICER_KEY": "not a key"}, "CHOIR_PRICER_KEY does not hold a valid private key"),
        (["--manifest", "{tmp}/missing.json"], {}, "missing.json"),
        (["--rpc", ""], {}, "no node URL"),
        (["--rpc", "http://127.0.0.1:9"], {}, "cannot reach the node"),
    ],
)
def test_cli_errors_are_one_line(
    fresh: World, tmp_path: Path, extra: list[str], env: dict[str, str], message: str
) -> None:
    args = [a.format(tmp=tmp_path) for a in _args(fresh, tmp_path, "--once", *extra)]
    result = CliRunner().invoke(app, args, env={"CHOIR_PRICER_KEY": "", **env})
    assert result.exit_code == 1, result.output + result.stderr
    assert result.stderr.startswith("error:"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert "11" * 32 not in result.stderr


def test_cli_needs_a_key_off_the_devnet(fresh: World, tmp_path: Path) -> None:
    manifest = fresh.deployment.manifest.model_copy(update={"chain_id": 11155111})
    path = manifest.write(tmp_path / "deployments")
    args = ["pricer", "--rpc", fresh.rpc_url, "--manifest", str(path), "--once"]
    result = CliRunner().invoke(app, args, env={"CHOIR_PRICER_KEY": ""})
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: no pricer key: set CHOIR_PRICER_KEY to the pricer's private key (hex), or pass --account with an "
        "Ape keystore account"
    )
