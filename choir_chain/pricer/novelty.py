"""Novelty scores on chain: each message's highest cosine similarity to the messages before it, submitted to the
RewardsDistributor in round-numbered batches (`setNoveltyScores`) by the pricer's account (ORACLE_ROLE).

**What is scored.** Every indexed message (root, post or spec) whose body is in `content_bodies` (it arrived
through the gateway's `POST /content`) and that has no novelty score yet: neither a row in the indexer's
`novelty_scores` table nor `isScored` on chain (the chain is asked too, because a round this process just sent
is not indexed yet). Messages are scored in chain order (block, log index), `batch_size` per round.

**The score.** `maxSim` is the highest cosine similarity of the message's embedding to the embeddings of the
messages *before it in chain order* whose bodies are stored when it is scored (`semantics.ChainIndex`). A
message with no such earlier message gets 0.0 (nothing to repeat, so the highest reward). A score is final: a
body of an earlier message stored after the later message was scored does not change the later score.
The raw similarity is mapped onto the reward curve's scale (`semantics.calibration`, in WAD integers) and goes on
chain in [-1e18, 1e18], with the embedding model's name and the calibration version (`CALIBRATION_VERSION`) of
the round, so every reward traces to the scorer that weighed it. A body the spam policy flags
(`semantics.spam`) gets 1e18 instead: weight 0, its score withheld; so does a message that is not its thread's root
and relates to no earlier message of its thread (`semantics.relevance`: off-topic). A non-root message waits for its
thread's root body before it is scored, so that its relevance can be judged.

**Never a round twice.** Like the price rounds: a round is sent only when nothing of the account is in flight
(the service checks), with round number `lastNoveltyRound() + 1` read from the chain and the mined nonce; a
second transaction for the same round would need the same nonce. After a crash between sending and
confirming, the next start waits for the transaction in flight, and its messages then read `isScored`.

**Failures never hold prices up.** A rejected or reverted round, or an RPC error, is reported
(`novelty_failed`) and tried again after `RETRY_AFTER` seconds while price rounds go on. A model that cannot be
loaded disables scoring (`novelty_disabled`), and so does a deployment without the functions the scorer calls.

Embeddings are cached in `content_embeddings` (`semantics.store`), so a restart encodes nothing twice; the
index itself is rebuilt in memory from the cached vectors at start.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from choir_chain import content_store
from choir_chain.chain.rpc import RpcError
from choir_chain.indexer.models import Message, NoveltyScore
from choir_chain.pricer.client import Contract
from choir_chain.pricer.distributor import OracleJob, find_distributor, holds_role
from choir_chain.pricer.errors import PricerError, RoundRejected, RoundReverted
from choir_chain.pricing.novelty import novelty_reward
from choir_chain.protocol import ids as protocol_ids
from choir_chain.protocol.units import WAD
from choir_chain.semantics.calibration import CALIBRATION_VERSION, calibrate
from choir_chain.semantics.calibration import to_wad as to_wad  # re-exported: the WAD form of a similarity
from choir_chain.semantics.embedder import Embedder, EmbedderError
from choir_chain.semantics.index import ChainIndex, position_key
from choir_chain.semantics.relevance import OFF_TOPIC, off_topic
from choir_chain.semantics.spam import spam_reason
from choir_chain.semantics.store import create_schema, ensure_embeddings, vectors_of

REQUIRED_FUNCTIONS = ("ORACLE_ROLE", "hasRole", "lastNoveltyRound", "isScored", "setNoveltyScores")
"""What the scorer calls on the RewardsDistributor."""
RETRY_AFTER = 60.0
"""Seconds before a failed novelty round is tried again (prices go on meanwhile)."""
DEFAULT_BATCH_SIZE = 64
"""Messages per `setNoveltyScores` round."""
LOOKUP_CHUNK = 500
"""Ids per `IN (...)` query of the score table."""

EmbedderSource = Callable[[], Embedder | None]
"""Gives the embedder, or None while it is still loading; raises `EmbedderError` if it cannot be loaded."""


@dataclass(frozen=True)
class Candidate:
    """An indexed message with a stored body, not known to be scored."""

    message_id: int
    thread_id: int
    message_index: int
    position: int
    vector: npt.NDArray[np.float32]
    content_hash: str


class NoveltyScorer:
    """Scores newly stored message bodies and submits the scores; one `step` sends at most one round."""

    def __init__(
        self,
        distributor: Contract,
        job: OracleJob,
        content_engine: Engine,
        embedder: EmbedderSource,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"the novelty batch size must be at least 1, got {batch_size}")
        self.distributor = distributor
        self.job = job
        self.content_engine = content_engine
        self.embedder_source = embedder
        self.batch_size = batch_size
        self.disabled = False
        self.index = ChainIndex()
        self._retry_at = 0.0
        self._schema_ready = False
        self._seen_block = -1
        """Messages of blocks up to this one have been read from the database."""
        self._waiting: dict[str, list[tuple[int, int, int, int]]] = {}
        """Content hash -> (message id, thread id, index, position) of messages whose body is not stored yet."""
        self._bodies_seen = -1
        """`content_bodies` row count at the last look for bodies."""
        self._unscored: dict[int, Candidate] = {}
        self._hash_of: dict[int, str] = {}
        """Message id -> content hash, for the messages in the index (the spam policy reads their bodies)."""
        self._refreshed = False

    @classmethod
    def from_manifest(
        cls, job: OracleJob, content_engine: Engine, embedder: EmbedderSource, *, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> NoveltyScorer:
        """The scorer of the manifest's RewardsDistributor; `PricerError` if the deployment has none, or one
        without the novelty functions (scoring was asked for explicitly, so this stops the start)."""
        found = find_distributor(job.manifest, job.rpc, REQUIRED_FUNCTIONS)
        if found.absent:
            raise PricerError("novelty scoring needs a RewardsDistributor, and the manifest has none")
        if found.contract is None:
            raise PricerError(f"novelty scoring: the RewardsDistributor has no {', '.join(found.missing)}")
        return cls(found.contract, job, content_engine, embedder, batch_size=batch_size)

    def forget(self) -> None:
        """After a reorg: messages may be gone and scores sent on the replaced blocks dropped, so the messages
        are read again from the index; `isScored` and the index's `novelty_scores` keep any message from being
        scored twice."""
        self.index = ChainIndex()
        self._seen_block = -1
        self._waiting = {}
        self._bodies_seen = -1
        self._unscored = {}
        self._refreshed = False
        self._retry_at = 0.0

    def check_role(self) -> None:
        if not holds_role(self.distributor, "ORACLE_ROLE", self.job.sender.address):
            raise PricerError(
                f"account {self.job.sender.address} lacks ORACLE_ROLE on RewardsDistributor {self.distributor.address} "
                "(needed for novelty scores: grant it, or turn scoring off with --no-novelty)"
            )

    @property
    def idle(self) -> bool:
        """Nothing left to score as far as this process knows (or scoring is off): the scores are final."""
        return self.disabled or (self._refreshed and not self._unscored)

    @property
    def pending(self) -> int:
        """Messages with a stored body that are waiting for a score (as far as this process knows)."""
        return len(self._unscored)

    # --------------------------------------------------------------------------------------------------------

    def step(self, nonce: int) -> bool:
        """Score and submit the next batch (sent with `nonce`; nothing of the account may be in flight). False
        when nothing was done: nothing to score, the model still loading, or waiting to retry."""
        if self.disabled or time.monotonic() < self._retry_at:
            return False
        try:
            embedder = self.embedder_source()
        except EmbedderError as err:
            self.disabled = True
            self.job.emit({"event": "novelty_disabled", "reason": str(err)})
            return False
        if embedder is None:
            return False  # still loading
        try:
            self.refresh(embedder)
            self._refreshed = True
            return self._step(nonce, embedder.name)
        except (RpcError, RoundRejected, RoundReverted) as err:
            self._retry_at = time.monotonic() + RETRY_AFTER
            self.job.emit({"event": "novelty_failed", "error": str(err), "retry_in": RETRY_AFTER})
            return False

    def refresh(self, embedder: Embedder) -> int:
        """Read newly indexed messages and newly stored bodies into the index; how many messages were added."""
        if not self._schema_ready:
            create_schema(self.content_engine)
            self._schema_ready = True
        new_messages = self._read_messages()
        stored = content_store.count(self.content_engine)
        if not new_messages and stored == self._bodies_seen:
            return 0
        self._bodies_seen = stored
        if not self._waiting:
            return 0
        ensure_embeddings(self.content_engine, embedder)
        found = vectors_of(self.content_engine, self._waiting)
        ids: list[int] = []
        positions: list[int] = []
        vectors: list[npt.NDArray[np.float32]] = []
        for content_hash in sorted(found):
            vector = found[content_hash]
            for message_id, thread_id, index, position in self._waiting.pop(content_hash):
                ids.append(message_id)
                positions.append(position)
                vectors.append(vector)
                self._unscored[message_id] = Candidate(message_id, thread_id, index, position, vector, content_hash)
                self._hash_of[message_id] = content_hash
        if not ids:
            return 0
        self.index.add(ids, positions, np.stack(vectors))
        self._drop_indexed_scores(ids)
        return len(ids)

    def _read_messages(self) -> int:
        """Messages of blocks after `_seen_block` (the indexer commits whole blocks, so none is half-read)."""
        m = Message
        with Session(self.job.engine) as session:
            rows = session.execute(
                select(m.global_id, m.thread_id, m.message_index, m.content_hash, m.block, m.log_index)
                .where(m.block > self._seen_block)
                .order_by(m.block, m.log_index)
            ).all()
        for global_id, thread_id, index, content_hash, block, log_index in rows:
            entry = (int(global_id), int(thread_id), int(index), position_key(int(block), int(log_index)))
            self._waiting.setdefault(str(content_hash), []).append(entry)
            self._seen_block = max(self._seen_block, int(block))
        return len(rows)

    def _drop_indexed_scores(self, ids: list[int]) -> None:
        """Forget candidates the indexer has a score for (scored by an earlier run or another oracle)."""
        with Session(self.job.engine) as session:
            for start in range(0, len(ids), LOOKUP_CHUNK):
                chunk = ids[start : start + LOOKUP_CHUNK]
                scored = session.scalars(select(NoveltyScore.message_id).where(NoveltyScore.message_id.in_(chunk)))
                for message_id in scored:
                    self._unscored.pop(int(message_id), None)

    def _step(self, nonce: int, model_id: str) -> bool:
        if not self._unscored:
            return False
        # A non-root message waits for its thread's root body: its relevance is judged against its thread.
        ready = [c for c in self._unscored.values() if c.message_index == 0 or self._root_known(c)]
        ordered = sorted(ready, key=lambda c: c.position)[: self.batch_size]
        if not ordered:
            return False
        on_chain = self.distributor.call_many([("isScored", (c.message_id,)) for c in ordered])
        batch = []
        for candidate, (scored,) in zip(ordered, on_chain, strict=True):
            if scored:
                self._unscored.pop(candidate.message_id)
            else:
                batch.append(candidate)
        if not batch:
            return True  # the chain had them all; the next step takes the next ones
        similarities, nearest = self.index.nearest(np.stack([c.vector for c in batch]), [c.position for c in batch])
        ids = [c.message_id for c in batch]
        relevance = self.index.thread_similarities(
            np.stack([c.vector for c in batch]), [c.position for c in batch], [c.thread_id for c in batch]
        )
        reasons = [
            spam or (OFF_TOPIC if off_topic(c.message_index == 0, r) else None)
            for c, r, spam in zip(batch, relevance, self._spam_reasons(batch, nearest), strict=True)
        ]
        wads = [WAD if reason else calibrate(float(s)) for s, reason in zip(similarities, reasons, strict=True)]
        (last,) = self.distributor.call("lastNoveltyRound")
        round_ = int(last) + 1
        data = self.distributor.calldata("setNoveltyScores", round_, model_id, CALIBRATION_VERSION, ids, wads)
        what = f"novelty round {round_}"
        sent = self.job.sender.submit(self.distributor.address, data, nonce, what)
        receipt = self.job.sender.confirm(sent, self.job.receipt_timeout, self.job.stop, what)
        if receipt is None:
            return True  # in flight; the next step waits for it, then finds these messages scored
        for message_id in ids:
            self._unscored.pop(message_id, None)
        self.job.emit(
            {
                "event": "novelty",
                "round": round_,
                "model": model_id,
                "calibration": CALIBRATION_VERSION,
                "messages": [str(i) for i in ids],
                "threads": [c.thread_id for c in batch],
                "indexes": [c.message_index for c in batch],
                "raw_similarities": [round(float(s), 6) for s in similarities],
                "max_similarities": [round(w / WAD, 6) for w in wads],
                "withheld": {str(i): r for i, r in zip(ids, reasons, strict=True) if r},
                "relevance": [None if r is None else round(r, 6) for r in relevance],
                "weights": [round(novelty_reward(w / WAD), 6) for w in wads],
                "remaining": len(self._unscored),
                "tx": sent.tx_hash,
                "block": int(receipt["blockNumber"], 16),
                "gas": int(receipt["gasUsed"], 16),
            }
        )
        return True

    def _root_known(self, candidate: Candidate) -> bool:
        """Whether the root of the candidate's thread is in the index (its body stored and read)."""
        return protocol_ids.message_id(candidate.thread_id, 0) in self.index

    def _spam_reasons(self, batch: list[Candidate], nearest: list[int | None]) -> list[str | None]:
        """The spam policy's verdict on each candidate's body, given the body of its nearest earlier message."""
        wanted = {c.content_hash for c in batch} | {self._hash_of[n] for n in nearest if n is not None}
        bodies = content_store.bodies_of(self.content_engine, wanted)
        return [
            spam_reason(bodies.get(c.content_hash, ""), None if n is None else bodies.get(self._hash_of[n]))
            for c, n in zip(batch, nearest, strict=True)
        ]
