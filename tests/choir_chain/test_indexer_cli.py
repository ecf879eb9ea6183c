"""`choir index` on the command line: `--once`, following new blocks until Ctrl-C, SIGKILL at arbitrary points
then a restart that loses nothing, one-line errors.

`run` (the devnet with the indexer's workload) is the fixture of conftest.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.index_db import index, sqlite_url
from helpers.world import ChainRun, content, cursor_block, dump, head
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from choir_chain.cli import app
from choir_chain.devnet import free_port
from choir_chain.indexer import make_engine
from choir_chain.indexer.models import Message
from choir_chain.protocol.author_kind import AuthorKind

CHOIR_CLI = [sys.executable, "-m", "choir_chain.cli"]


def _cli(run: ChainRun, tmp_path: Path, db: str, *extra: str) -> list[str]:
    manifest = run.deployment.manifest.write(tmp_path / "deployments")
    return [*CHOIR_CLI, "index", "--rpc", run.rpc_url, "--manifest", str(manifest), "--db", db, *extra]


def _wait_for(predicate: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def _cursor_or_none(engine: object) -> int | None:
    try:
        return cursor_block(engine)  # type: ignore[arg-type]
    except (OperationalError, AssertionError):
        return None  # the indexer has not created its tables yet


def test_cli_follows_new_blocks_and_stops_on_ctrl_c(run: ChainRun, tmp_path: Path) -> None:
    db = sqlite_url(tmp_path / "follow.db")
    engine = make_engine(db)
    process = subprocess.Popen(
        _cli(run, tmp_path, db, "--poll-interval", "0.05"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: _cursor_or_none(engine) == head(run.rpc_url))
        thread = run.deployment.thread(2)
        run.chain.transact(thread.functions.post(content("bob follows"), [], AuthorKind.AI), run.actors.bob)
        index_ = thread.functions.messageCount().call() - 1
        _wait_for(lambda: Session(engine).get(Message, (2, index_)) is not None)
        with Session(engine) as session:
            followed = session.get(Message, (2, index_))
            assert followed is not None and followed.author_kind == "ai"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert f"indexer stopped at block {head(run.rpc_url)}" in err
    assert "Traceback" not in err
    engine.dispose()


def test_sigkill_loses_nothing(run: ChainRun, tmp_path: Path) -> None:
    """Killed without warning at arbitrary points (one block per transaction), then `--once`: the database
    equals a fresh index."""
    db = sqlite_url(tmp_path / "killed.db")
    engine = make_engine(db)
    reached = -1
    for _ in range(2):
        process = subprocess.Popen(
            _cli(run, tmp_path, db, "--batch-blocks", "1", "--poll-interval", "0.05"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(lambda: (_cursor_or_none(engine) or -1) > reached + 2)  # noqa: B023 (read at once)
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        reached = cursor_block(engine)
    assert reached < head(run.rpc_url), "the kills should land before the end of the chain"
    result = subprocess.run(_cli(run, tmp_path, db, "--once"), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"from block {reached + 1}" in result.stderr
    assert f"indexed up to block {head(run.rpc_url)}" in result.stderr
    assert dump(engine) == index(run, sqlite_url(tmp_path / "fresh.db"))
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rpc", "http://127.0.0.1:{port}"], "cannot reach the node at http://127.0.0.1:"),
        (["--manifest", "{tmp}/missing.json"], "missing.json"),
        (["--db", "nosuchdb://x"], "nosuchdb"),
        (["--rpc", ""], "no node URL"),
        (["--db", "postgresql://nobody@127.0.0.1:{port}/x"], "connection"),
    ],
)
def test_cli_errors_are_one_line(run: ChainRun, tmp_path: Path, args: list[str], message: str) -> None:
    fill = {"port": str(free_port()), "tmp": str(tmp_path)}
    command = _cli(run, tmp_path, sqlite_url(tmp_path / "e.db"), "--once")[len(CHOIR_CLI) :]
    result = CliRunner().invoke(app, [*command, *(a.format(**fill) for a in args)])  # later options win
    assert result.exit_code == 1, result.output + result.stderr
    assert result.stderr.startswith("error:"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr
