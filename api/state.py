"""The gateway's connections, built once per app and handed to routes by `api.deps.GatewayDep`."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from web3 import Web3
from web3.contract import Contract

from api.settings import GatewaySettings
from choir_chain import artifacts, content_store
from choir_chain.indexer.db import make_engine
from choir_chain.manifest import Manifest

if TYPE_CHECKING:
    from api.blockview import CursorReader
    from choir_chain.semantics.search import SemanticSearch


@dataclass
class Gateway:
    """Database engines, the chain and the deployment, shared by every request of one app."""

    settings: GatewaySettings
    engine: Engine
    content_engine: Engine
    w3: Web3
    manifest: Manifest
    _search: SemanticSearch | None = field(default=None, init=False, repr=False)
    _search_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _bodies_indexed: int = field(default=-1, init=False, repr=False)
    per_block: dict[tuple[int, str], Any] = field(default_factory=dict, init=False, repr=False)
    """Chain values read once per indexed block and shared by that block's reads (`api.live.hub_values`)."""
    per_thread: dict[tuple[str, str], int] = field(default_factory=dict, init=False, repr=False)
    """Immutable per-thread chain values, read once (`api.live.initial_approval_window`)."""

    @classmethod
    def connect(cls, settings: GatewaySettings) -> Gateway:
        engine = make_engine(settings.database_url)
        content_engine = make_engine(settings.content_url) if settings.content_url else engine
        w3 = Web3(Web3.HTTPProvider(settings.rpc_url, request_kwargs={"timeout": 10}))
        return cls(settings, engine, content_engine, w3, Manifest.read(settings.manifest_path))

    def contract(self, name: str, address: str | None = None) -> Contract:
        """Contract `name` of the deployment (or the clone at `address`, e.g. a ThreadDAO)."""
        target = address or self.manifest.contracts[name].address
        return self.w3.eth.contract(address=Web3.to_checksum_address(target), abi=artifacts.load(name).abi)

    @cached_property
    def cursor_reader(self) -> CursorReader:
        """The indexer's cursor, read per request (`api.blockview`)."""
        from api.blockview import CursorReader

        return CursorReader(self)

    @cached_property
    def hub(self) -> Contract:
        return self.contract("ChoirHub")

    @cached_property
    def token(self) -> Contract:
        return self.contract("ChoirToken")

    def semantic_search(self) -> SemanticSearch:
        """The app's semantic search over the content database's bodies, up to date with them.

        Made on first use, which loads the process-wide embedding model (`load_embedder()`, ~10 s, once per
        process); later calls return the same index, refreshed (bodies stored since encoded and added) whenever
        the number of stored bodies changed: bodies are only ever added, so an unchanged count means nothing new
        and a search costs no scan of the embeddings table. Raises `choir_chain.semantics.embedder.EmbedderError`
        if the model cannot be loaded."""
        with self._search_lock:
            if self._search is None:
                from choir_chain.semantics.embedder import load_embedder
                from choir_chain.semantics.search import SemanticSearch

                self._search = SemanticSearch(self.content_engine, load_embedder())
            stored = content_store.count(self.content_engine)
            if stored != self._bodies_indexed:
                self._search.refresh()
                self._bodies_indexed = stored
            return self._search

    def close(self) -> None:
        self.engine.dispose()
        if self.content_engine is not self.engine:
            self.content_engine.dispose()
