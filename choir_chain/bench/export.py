"""Dataset export speed: records per second into JSON Lines and Parquet (`python -m choir_chain.bench.export`).

A synthetic indexer database (no chain: rows inserted directly, SQLite in a temporary folder) of `MESSAGES`
messages over `THREADS` threads, with a body stored for every message but one in `MISSING_EVERY`: roots, posts
and specs of every outcome, citations, novelty scores and approval rewards, all from a seeded generator. Then
`choir_chain.dataset.export` writes it as JSON Lines and as Parquet, each timed from the call to the finished
folder (reading the database, building contexts and pairs, writing, the card). One JSON line: records, pairs,
seconds and records per second per format, plus how long building the database took.

The exported record count is checked against the database before the figures are reported, so a fast but
incomplete export fails the benchmark rather than flattering it.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_utils import keccak
from sqlalchemy import Engine, insert

from choir_chain import content_store
from choir_chain.dataset.export import export
from choir_chain.indexer.db import create_schema, make_engine
from choir_chain.indexer.models import (
    SCHEMA_VERSION,
    Base,
    Citation,
    Cursor,
    Message,
    MessageReward,
    NoveltyScore,
    Settlement,
    Spec,
    Thread,
)
from choir_chain.protocol import UNANIMOUS_BPS, message_id, split_message_id

MESSAGES = 20_000
THREADS = 200
SEED = 8
MISSING_EVERY = 97
"""One message body in this many is never stored (exercises the missing-body path)."""
WORDS = [
    "stake",
    "curator",
    "thread",
    "novelty",
    "citation",
    "approve",
    "deny",
    "settle",
    "treasury",
    "oracle",
    "price",
    "signal",
    "proof",
    "consensus",
    "market",
    "quorum",
    "dialogue",
    "argument",
    "evidence",
    "claim",
    "source",
    "revision",
    "summary",
    "question",
    "answer",
    "context",
    "model",
    "reward",
    "emission",
    "ledger",
    "block",
    "chain",
    "epoch",
    "vote",
    "share",
    "equity",
    "exit",
    "donation",
    "governance",
    "proposal",
]
OUTCOMES = (("approved", 45), ("denied", 25), ("split", 8), ("expired", 12), ("pending", 10))
AUTHOR_KINDS = ("human", "ai", "ai_prompted")
GENESIS_TIME = 1_700_000_000
HUB = "0x" + "11" * 20


def _address(n: int) -> str:
    return "0x" + f"{n:040x}"


def _body(rng: random.Random, thread_id: int, index: int) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 160))
    return f"[{thread_id}/{index}] " + " ".join(words).capitalize() + "."


def build_database(
    engine: Engine, content_engine: Engine, messages: int = MESSAGES, threads: int = THREADS, seed: int = SEED
) -> dict[str, int]:
    """Insert a synthetic indexed chain of `messages` messages over `threads` threads; returns what it built
    (`records` is the number of messages the export must write)."""
    create_schema(engine)
    content_store.create_schema(content_engine)
    rng = random.Random(seed)
    per_thread = [messages // threads + (1 if t < messages % threads else 0) for t in range(threads)]
    rows: dict[type[Base], list[dict[str, Any]]] = {
        model: [] for model in (Thread, Message, Spec, Settlement, Citation, NoveltyScore, MessageReward)
    }
    bodies: list[dict[str, Any]] = []
    block, records, missing = 1, 0, 0
    global_ids: list[int] = []
    for t, count in enumerate(per_thread, start=1):
        created = block
        for index in range(count):
            block += 1
            body = _body(rng, t, index)
            content_hash = "0x" + keccak(text=body).hex()
            global_id = message_id(t, index)
            kind = "root" if index == 0 else rng.choice(("post", "spec", "spec"))
            author = _address(rng.randint(1, 500))
            timestamp = GENESIS_TIME + 12 * block
            message = {
                "thread_id": t,
                "message_index": index,
                "global_id": global_id,
                "author": author,
                "content_hash": content_hash,
                "kind": kind,
                "author_kind": rng.choice(AUTHOR_KINDS),
                "block": block,
                "tx_hash": "0x" + keccak(text=f"tx{block}").hex(),
                "log_index": 0,
                "timestamp": timestamp,
            }
            rows[Message].append(message)
            outcome = "posted"
            if kind == "spec":
                outcome = rng.choices([o for o, _ in OUTCOMES], weights=[w for _, w in OUTCOMES])[0]
                votes_for, votes_against = {
                    "approved": (2, 0),
                    "denied": (0, 2),
                    "split": (1, 1),
                    "expired": (0, 0),
                    "pending": (0, 0),
                }[outcome]
                stake = rng.randint(10, 90) * 10**18 + rng.randint(0, 10**6)
                settled = block + rng.randint(1, 6) if outcome != "pending" else None
                rows[Spec].append(
                    {
                        "thread_id": t,
                        "spec_id": index,
                        "author": author,
                        "content_hash": content_hash,
                        "author_kind": message["author_kind"],
                        "stake": stake,
                        "price": stake - rng.randint(0, 10**18),
                        "deadline": timestamp + 7 * 86_400,
                        "status": outcome,
                        "approvals": votes_for,
                        "denials": votes_against,
                        "submitted_block": block,
                        "submitted_timestamp": timestamp,
                        "settled_block": settled,
                        "settled_timestamp": None if settled is None else GENESIS_TIME + 12 * settled,
                    }
                )
                if settled is not None:
                    rows[Settlement].append(
                        {
                            "thread_id": t,
                            "spec_id": index,
                            "outcome": outcome,
                            "treasury_gain": stake if outcome == "approved" else 0,
                            "payout_per_denier": 0 if outcome == "approved" else stake // max(votes_against, 1),
                            "approvals": votes_for,
                            "denials": votes_against,
                            "block": settled,
                            "tx_hash": "0x" + keccak(text=f"settle{t}/{index}").hex(),
                            "log_index": 1 + index,  # unique within the block
                            "timestamp": GENESIS_TIME + 12 * settled,
                        }
                    )
                if outcome == "approved":
                    rows[MessageReward].append(
                        {
                            "message_id": global_id,
                            "thread_id": t,
                            "message_index": index,
                            "epoch": 0,
                            "amount": 10**18,
                            "to_thread": 9 * 10**17,
                            "score_round": 1,
                            "block": settled,
                            "tx_hash": "0x" + keccak(text=f"settle{t}/{index}").hex(),
                            "log_index": 0,
                            "timestamp": GENESIS_TIME + 12 * (settled or block),
                        }
                    )
            for position, cited in enumerate(rng.sample(global_ids, k=min(len(global_ids), rng.randint(0, 3)))):
                rows[Citation].append(
                    {
                        "thread_id": t,
                        "message_index": index,
                        "position": position,
                        "cited_global_id": cited,
                        "cited_thread_id": split_message_id(cited)[0],
                        "cited_index": split_message_id(cited)[1],
                    }
                )
            if rng.random() < 0.5:
                rows[NoveltyScore].append(
                    {
                        "message_id": global_id,
                        "thread_id": t,
                        "message_index": index,
                        "max_similarity": round(rng.uniform(0.2, 0.99), 6),
                        "round": 1 + index // 50,
                        "model_id": "all-MiniLM-L6-v2",
                        "calibration_version": 1,
                        "block": block,
                        "tx_hash": "0x" + keccak(text=f"score{block}").hex(),
                        "log_index": 2,
                    }
                )
            global_ids.append(global_id)
            if rng.randrange(MISSING_EVERY) == 0:
                missing += 1
            else:
                size = len(body.encode())
                bodies.append({"content_hash": content_hash, "body": body, "size": size, "stored_at": 0})
                records += outcome != "pending"
        rows[Thread].append(
            {
                "thread_id": t,
                "address": _address(10_000 + t),
                "creator": rows[Message][-count]["author"],
                "content_hash": rows[Message][-count]["content_hash"],
                "created_block": created + 1,
                "created_tx_hash": rows[Message][-count]["tx_hash"],
                "created_timestamp": rows[Message][-count]["timestamp"],
                "message_count": count,
                "coauthor_count": 1,
                "total_shares": 10**18,
                "treasury": 0,
                "locked": 0,
                "last_price": None,
                "last_price_round": None,
                "last_price_timestamp": None,
                "citations_received": 0,
                "governor": None,
                "approval_window": None,
                "approval_threshold": UNANIMOUS_BPS,
            }
        )
        block += 10  # settlements land in the gap before the next thread
    cursor = {
        "id": 1,
        "schema_version": SCHEMA_VERSION,
        "chain_id": 31337,
        "hub": HUB,
        "deploy_block": 1,
        "last_block": block,
        "last_block_hash": "0x" + keccak(text=f"block{block}").hex(),
    }
    with engine.begin() as conn:
        conn.execute(insert(Cursor), [cursor])
        for model in (Thread, Message, Spec, Settlement, Citation, NoveltyScore, MessageReward):
            if rows[model]:
                conn.execute(insert(Base.metadata.tables[model.__tablename__]), rows[model])
    with content_engine.begin() as conn:
        conn.execute(insert(content_store.content_bodies), bodies)
    return {"messages": messages, "threads": threads, "records": records, "missing_bodies": missing}


def run(messages: int = MESSAGES, threads: int = THREADS, seed: int = SEED) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="choir-bench-export-"))
    try:
        engine = make_engine(f"sqlite:///{folder / 'choir.db'}")
        start = time.perf_counter()
        built = build_database(engine, engine, messages, threads, seed)
        build_seconds = time.perf_counter() - start
        line: dict[str, Any] = {"bench": "export", **built, "build_seconds": round(build_seconds, 3)}
        for fmt in ("jsonl", "parquet"):
            start = time.perf_counter()
            result = export(engine, folder / f"out-{fmt}", fmt=fmt)
            seconds = time.perf_counter() - start
            if result.stats.records != built["records"] or len(result.stats.missing) == 0:
                raise RuntimeError(
                    f"{fmt}: exported {result.stats.records} records, the database has {built['records']}"
                )
            size = sum(p.stat().st_size for p in result.out.iterdir())
            line[fmt] = {
                "seconds": round(seconds, 3),
                "records_per_s": round(result.stats.records / seconds),
                "pairs": result.stats.pairs,
                "bytes": size,
            }
        line["records_exported"] = built["records"]
        engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="dataset export speed on a synthetic indexer database")
    parser.add_argument("--messages", type=int, default=MESSAGES)
    parser.add_argument("--threads", type=int, default=THREADS)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.messages, args.threads)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
