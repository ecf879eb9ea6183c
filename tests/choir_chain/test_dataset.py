"""`choir dataset export` against a devnet community: the records and preference pairs, loaded with Hugging Face
`datasets` from JSON Lines and Parquet, equal what the contracts' views say; the card and the missing-body report
count right; the same database gives the same bytes; bad input fails in one line with nothing left behind."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ["HF_DATASETS_OFFLINE"] = "1"  # before `datasets` reads its configuration
os.environ["HF_HUB_OFFLINE"] = "1"

import pytest
from datasets import load_dataset
from helpers.dataset import WAD, Community, gid, indexed_community
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from choir_chain.cli import app
from choir_chain.dataset.export import export
from choir_chain.dataset.records import Item, contexts
from choir_chain.indexer import make_engine
from choir_chain.pricing.novelty import novelty_reward

STATUS = {1: "pending", 2: "approved", 3: "denied", 4: "split", 5: "expired"}


@pytest.fixture(scope="module")
def community(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Community, str]]:
    folder = tmp_path_factory.mktemp("dataset")
    db = f"sqlite:///{folder / 'choir.db'}"
    with indexed_community(folder / "devnet", db) as c:
        yield c, db


def _export(db: str, out: Path, fmt: str, *extra: str) -> Any:
    result = CliRunner().invoke(app, ["dataset", "export", "--db", db, "--out", str(out), "--format", fmt, *extra])
    assert result.exit_code == 0, result.output + result.stderr
    return result


def _load(path: Path, cache: Path) -> list[dict[str, Any]]:
    builder = "json" if path.suffix == ".jsonl" else "parquet"
    dataset = load_dataset(builder, data_files=str(path), split="train", cache_dir=str(cache))
    return [dict(row) for row in dataset]


def _expected_records(c: Community) -> list[tuple[int, int]]:
    """(thread, index) of every message that must be a record, from the contracts' views alone."""
    keys = []
    hub = c.deployment.hub
    for thread_id in range(1, hub.functions.threadCount().call() + 1):
        dao = c.deployment.thread(thread_id)
        for index in range(dao.functions.messageCount().call()):
            status = dao.functions.getSpec(index).call()[8]  # 0: not a spec (root or post)
            if status == 0 or STATUS[status] != "pending":
                keys.append((thread_id, index))
    return keys


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_records_match_the_chain(community: tuple[Community, str], tmp_path: Path, fmt: str) -> None:
    c, db = community
    if fmt == "parquet":
        db = db.removeprefix("sqlite:///")  # --db takes an SQLite file's plain path too
    result = _export(db, tmp_path / "out", fmt)
    assert "exported 11 records and 2 preference pairs" in result.stderr
    assert "1 message bodies were never stored" in result.stderr
    rows = _load(tmp_path / "out" / f"records.{fmt}", tmp_path / "hf")

    expected = [key for key in _expected_records(c) if key != c.never_stored]
    assert [(r["thread_id"], r["message_index"]) for r in rows] == expected  # ordered by (thread, index)
    assert len(expected) == 11 and c.never_stored in _expected_records(c)
    distributor = c.deployment.distributor
    assert distributor is not None
    for r in rows:
        key = (r["thread_id"], r["message_index"])
        dao = c.deployment.thread(key[0])
        assert r["message_id"] == str(dao.functions.messageId(key[1]).call())
        assert r["body"] == c.bodies[key] and r["author_kind"] == c.author_kinds[key]
        assert r["citations"] == [str(g) for g in c.citations[key]]
        author, stake, price, _snap, _deadline, _eligible, approvals, denials, status = dao.functions.getSpec(
            key[1]
        ).call()
        if status == 0:
            assert r["kind"] == ("root" if key[1] == 0 else "post") and r["outcome"] == "posted"
            assert (r["stake"], r["stake_wei"], r["votes_for"], r["votes_against"]) == (None, None, None, None)
        else:
            assert (r["kind"], r["outcome"], r["author"]) == ("spec", STATUS[status], author)
            assert r["outcome"] == c.outcomes[key]
            assert (r["stake_wei"], r["price_at_submission_wei"]) == (str(stake), str(price))
            assert r["stake"] == f"{stake // 10**18}.{stake % 10**18:018d}".rstrip("0").rstrip(".")
            assert (r["votes_for"], r["votes_against"]) == (approvals, denials)
        message_id = int(r["message_id"])
        if distributor.functions.isScored(message_id).call():
            wad = c.scores[message_id]
            assert r["max_similarity"] == wad / WAD and math.isclose(r["novelty"], 1 - wad / WAD)
            onchain = distributor.functions.noveltyWeight(wad).call() / WAD
            assert r["novelty_reward"] == novelty_reward(wad / WAD)
            assert math.isclose(r["novelty_reward"], onchain, rel_tol=1e-9, abs_tol=1e-12)
            assert (r["novelty_model"], r["novelty_calibration"]) == c.scorers[message_id]
        else:
            assert (r["max_similarity"], r["novelty"], r["novelty_reward"]) == (None, None, None)
            assert (r["novelty_model"], r["novelty_calibration"]) == (None, None)
        minted = c.approval_rewards.get(key) if r["outcome"] == "approved" else None
        assert r["reward_wei"] == (None if minted is None else str(minted))
        block = c.deployment.chain.w3.eth.get_block(r["block"])
        assert r["timestamp"] == block["timestamp"]
        if isinstance(r["time"], datetime):  # the JSON loader (pyarrow) reads ISO 8601 strings as timestamps
            assert r["time"].replace(tzinfo=UTC).timestamp() == r["timestamp"]
        else:
            assert r["time"] == datetime.fromtimestamp(r["timestamp"], tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    by_key = {(r["thread_id"], r["message_index"]): r for r in rows}
    assert by_key[(1, 2)]["max_similarity"] == 0.8 and by_key[(1, 2)]["novelty"] == 0.2  # round 2 re-scored it
    assert by_key[(1, 2)]["novelty_calibration"] == 1  # and the record names round 2's scorer
    assert by_key[(1, 2)]["reward"] == "10.000000000000000001"  # its epoch's allocation, once the epoch closed
    assert by_key[(1, 4)]["novelty_reward"] == 0.0  # above 0.95
    # what alice saw when she summed up: the root, her post, the two approved specs (one body never stored)
    summary = by_key[(1, 7)]
    assert [m["message_index"] for m in summary["context"]] == [0, 1, 2]
    assert summary["context"][2] == {"message_index": 2, "author": by_key[(1, 2)]["author"], "body": c.bodies[(1, 2)]}
    assert (summary["context_missing"], summary["context_omitted"]) == ([5], 0)
    # a spec approved after a message was submitted is not in its context
    assert [m["message_index"] for m in by_key[(1, 3)]["context"]] == [0, 1, 2]
    assert [m["message_index"] for m in by_key[(1, 2)]["context"]] == [0, 1]
    assert {r["author_kind"] for r in rows} == {"human", "ai", "ai_prompted"}


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_preference_pairs(community: tuple[Community, str], tmp_path: Path, fmt: str) -> None:
    c, db = community
    _export(db, tmp_path / "out", fmt)
    pairs = _load(tmp_path / "out" / f"preferences.{fmt}", tmp_path / "hf")
    # thread 1: denied 3 and 6 each meet the nearest approved spec with a stored body (2; 5's body is missing);
    # thread 2 has a denied spec but nothing approved
    assert [(p["thread_id"], p["chosen_message_index"], p["rejected_message_index"]) for p in pairs] == [
        (1, 2, 3),
        (1, 2, 6),
    ]
    for p in pairs:
        assert p["chosen"] == c.bodies[(1, 2)] and p["chosen_message_id"] == str(gid(1, 2))
        assert p["rejected"] == c.bodies[(1, p["rejected_message_index"])]
        assert [m["message_index"] for m in p["context"]] == [0, 1]  # spec 2's context, the earlier of the two
        assert (p["chosen_votes_for"], p["rejected_votes_against"]) == (1, 2 if p["rejected_message_index"] == 3 else 3)
    assert pairs[0]["rejected_author_kind"] == "ai" and pairs[1]["rejected_author_kind"] == "human"
    for p in pairs:
        for side in ("chosen", "rejected"):
            message_id = int(p[f"{side}_message_id"])
            scored = message_id in c.scores
            weight = novelty_reward(c.scores[message_id] / WAD) if scored else None
            assert p[f"{side}_novelty_weight"] == weight
            scorer = c.scorers.get(message_id, (None, None))
            assert (p[f"{side}_novelty_model"], p[f"{side}_novelty_calibration"]) == scorer

    _export(db, tmp_path / "bounded", fmt, "--max-pairs-per-thread", "1")
    bounded = _load(tmp_path / "bounded" / f"preferences.{fmt}", tmp_path / "hf2")
    assert [(p["chosen_message_index"], p["rejected_message_index"]) for p in bounded] == [(2, 3)]


def test_card_and_missing_bodies(community: tuple[Community, str], tmp_path: Path) -> None:
    c, db = community
    _export(db, tmp_path / "out", "jsonl")
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        "missing_bodies.json",
        "preferences.jsonl",
        "records.jsonl",
        "unpaired.jsonl",
    ]
    missing = json.loads((out / "missing_bodies.json").read_text())
    assert missing["count"] == 1
    assert missing["messages"][0]["message_id"] == str(gid(*c.never_stored))
    assert missing["messages"][0]["outcome"] == "approved"

    card = (out / "README.md").read_text()
    chain_id = c.deployment.manifest.chain_id
    assert f"- chain id: {chain_id}" in card and c.deployment.hub.address in card
    assert f"blocks exported: {c.deployment.manifest.deploy_block} (deployment)" in card
    assert "`records.jsonl`: 11 records from 2 threads" in card
    assert "`preferences.jsonl`: 2 preference pairs from 1 thread" in card
    for line in (
        "| posted | 5 | 45.5% |",
        "| approved | 1 | 9.1% |",
        "| denied | 3 | 27.3% |",
        "| split | 1 | 9.1% |",
        "| expired | 1 | 9.1% |",
        "| root | 2 |",
        "| post | 3 |",
        "| spec | 6 |",
    ):
        assert line in card, line
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    for kind in ("human", "ai", "ai_prompted"):
        count = sum(r["author_kind"] == kind for r in records)
        assert f"| {kind} | " in card and f"| {count} | {100 * count / 11:.1f}% |" in card
    lengths = sorted(len(r["body"]) for r in records)
    assert f"| {lengths[0]} | " in card and f" | {lengths[-1]} |" in card
    assert f"`{gid(*c.never_stored)}` (1/5, spec, approved)" in card
    assert "Records with a novelty score: 4" in card
    assert "`unpaired.jsonl`: 4 unpaired examples (1 approved, 3 denied)" in card
    assert "config_name: unpaired" in card and "Calibration version 1 (all-MiniLM-L6-v2)" in card
    assert "`s = clamp(0.7291 + 0.2606 * raw cosine, -1, 1)`" in card
    scored = [r for r in records if r["novelty_model"] is not None]
    by_calibration = [sum(r["novelty_calibration"] == v for r in scored) for v in (0, 1)]
    assert all(by_calibration) and f"| model | 0 | {by_calibration[0]} |" in card
    assert f"| model | 1 | {by_calibration[1]} |" in card


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_unpaired_examples_in_trl_format(community: tuple[Community, str], tmp_path: Path, fmt: str) -> None:
    c, db = community
    _export(db, tmp_path / "out", fmt)
    rows = _load(tmp_path / "out" / f"unpaired.{fmt}", tmp_path / "hf")
    records = {r["message_id"]: r for r in _load(tmp_path / "out" / f"records.{fmt}", tmp_path / "hf-records")}
    # every approved or denied spec with a stored body, by (thread, index); split, expired and posts never
    expected = [
        key for key in sorted(c.outcomes) if c.outcomes[key] in ("approved", "denied") and key != c.never_stored
    ]
    assert [(r["thread_id"], r["message_index"]) for r in rows] == expected
    assert [r["label"] for r in rows] == [c.outcomes[key] == "approved" for key in expected]
    for r in rows:
        record = records[r["message_id"]]
        assert r["completion"] == record["body"] == c.bodies[(r["thread_id"], r["message_index"])]
        assert r["prompt"] == "\n\n".join(f"{m['author']}: {m['body']}" for m in record["context"])
        assert r["novelty_weight"] == record["novelty_reward"]
        assert (r["novelty_model"], r["novelty_calibration"]) == (
            record["novelty_model"],
            record["novelty_calibration"],
        )
        assert (r["votes_for"], r["votes_against"]) == (record["votes_for"], record["votes_against"])
    assert {type(r["label"]) for r in rows} == {bool}


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_same_database_same_bytes(community: tuple[Community, str], tmp_path: Path, fmt: str) -> None:
    _c, db = community
    _export(db, tmp_path / "a", fmt)
    _export(db, tmp_path / "b", fmt)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_context_limit_keeps_the_most_recent_whole_messages(community: tuple[Community, str], tmp_path: Path) -> None:
    c, db = community
    limit = len(c.bodies[(1, 2)]) + len(c.bodies[(1, 1)]) - 1  # room for spec 2 but not also post 1
    _export(db, tmp_path / "out", "jsonl", "--context-limit", str(limit))
    rows = {
        (r["thread_id"], r["message_index"]): r
        for r in map(json.loads, (tmp_path / "out" / "records.jsonl").read_text().splitlines())
    }
    summary = rows[(1, 7)]
    assert [m["message_index"] for m in summary["context"]] == [2]
    assert (summary["context_omitted"], summary["context_missing"]) == (2, [5])
    assert all(sum(len(m["body"]) for m in r["context"]) <= limit for r in rows.values())


def test_contexts_follow_acceptance_not_index() -> None:
    """A spec approved after a later post was submitted is in the contexts of messages submitted after its
    approval only; the limit drops the oldest whole messages."""

    def item(index: int, block: int, outcome: str, accepted: int | None, body: str | None) -> Item:
        return Item(
            thread_id=1,
            index=index,
            global_id=gid(1, index),
            kind="root" if index == 0 else ("post" if outcome == "posted" else "spec"),
            author="0x" + "00" * 20,
            author_kind="human",
            content_hash="0x",
            block=block,
            log_index=0,
            timestamp=block,
            outcome=outcome,
            accepted_at=None if accepted is None else (accepted, 1),
            body=body,
        )

    items = [
        item(0, 1, "posted", 1, "aa"),
        item(1, 2, "approved", 5, "bbb"),  # approved at block 5
        item(2, 3, "posted", 3, None),  # body never stored
        item(3, 4, "denied", None, "dd"),
        item(4, 6, "posted", 6, "eeee"),
    ]
    items[0].accepted_at, items[2].accepted_at, items[4].accepted_at = (1, 0), (3, 0), (6, 0)
    found = contexts(items, limit=100)
    assert [[m["message_index"] for m in ctx.messages] for ctx in found] == [[], [0], [0], [0], [0, 1]]
    assert [ctx.missing for ctx in found] == [[], [], [], [2], [2]]
    tight = contexts(items, limit=4)
    assert [m["message_index"] for m in tight[4].messages] == [1] and tight[4].omitted == 1


# ------------------------------------------------------------------------------------------------------------
# Bad input: one line on stderr, exit status 2, no output folder
# ------------------------------------------------------------------------------------------------------------


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("format", "unknown format 'csv'"),
        ("no-schema", "no indexer schema"),
        ("no-db", "no database at"),
        ("not-empty", "exists and is not empty"),
        ("unwritable", "does not exist"),
        ("negative-limit", "context limit must be >= 0"),
        ("bad-url", "nosuchdb"),
    ],
)
def test_cli_errors_are_one_line(community: tuple[Community, str], tmp_path: Path, case: str, message: str) -> None:
    _c, db = community
    out = tmp_path / "out"
    args = ["--db", db, "--out", str(out), "--format", "jsonl"]
    if case == "format":
        args[-1] = "csv"
    elif case == "no-schema":
        other = create_engine(f"sqlite:///{tmp_path / 'other.db'}")
        with other.begin() as conn:
            conn.execute(text("CREATE TABLE unrelated (x INTEGER)"))
        other.dispose()
        args[1] = f"sqlite:///{tmp_path / 'other.db'}"
    elif case == "no-db":
        args[1] = f"sqlite:///{tmp_path / 'absent.db'}"
    elif case == "not-empty":
        out.mkdir()
        (out / "keep.txt").write_text("mine")
    elif case == "unwritable":
        (tmp_path / "file").write_text("not a folder")
        out = tmp_path / "file" / "out"
        args[3] = str(out)
    elif case == "negative-limit":
        args += ["--context-limit", "-1"]
    elif case == "bad-url":
        args[1] = "nosuchdb://x"
    result = CliRunner().invoke(app, ["dataset", "export", *args])
    assert result.exit_code == 2, result.output + result.stderr
    assert result.stderr.startswith("error:") and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr, result.stderr
    if case == "not-empty":
        assert [p.name for p in out.iterdir()] == ["keep.txt"]
    else:
        assert not out.exists()
    assert _leftovers(tmp_path) == []
    assert not (tmp_path / "absent.db").exists()


def test_a_failed_export_leaves_nothing_and_overwrite_replaces(
    community: tuple[Community, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _c, db = community
    engine = make_engine(db)
    out = tmp_path / "out"

    def broken(*_args: object, **_kwargs: object) -> str:
        raise RuntimeError("disk full")

    monkeypatch.setattr("choir_chain.dataset.card.render", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        export(engine, out)
    assert not out.exists() and _leftovers(tmp_path) == []
    monkeypatch.undo()

    out.mkdir()
    (out / "old.txt").write_text("previous export")
    result = export(engine, out, overwrite=True)
    assert sorted(result.files) == sorted(p.name for p in out.iterdir()) and not (out / "old.txt").exists()
    assert _leftovers(tmp_path) == []
    engine.dispose()
