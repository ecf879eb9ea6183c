"""The gateway's connections, built once per app and handed to routes by `Depends(gateway)`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from fastapi import Request
from sqlalchemy import Engine
from web3 import Web3
from web3.contract import Contract

from api.settings import GatewaySettings
from choir_chain import artifacts
from choir_chain.indexer.db import make_engine
from choir_chain.manifest import Manifest


@dataclass
class Gateway:
    """Database engines, the chain and the deployment, shared by every request of one app."""

    settings: GatewaySettings
    engine: Engine
    content_engine: Engine
    w3: Web3
    manifest: Manifest

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
    def hub(self) -> Contract:
        return self.contract("ChoirHub")

    @cached_property
    def token(self) -> Contract:
        return self.contract("ChoirToken")

    def close(self) -> None:
        self.engine.dispose()
        if self.content_engine is not self.engine:
            self.content_engine.dispose()


def gateway(request: Request) -> Gateway:
    """FastAPI dependency: the app's `Gateway`."""
    state: Gateway = request.app.state.gateway
    return state
