"""What the gateway is connected to, and its limits: explicit values, else `CHOIR_GATEWAY_<FIELD>` variables (e.g.
`CHOIR_GATEWAY_DATABASE_URL`, `CHOIR_GATEWAY_RPC_URL`, `CHOIR_GATEWAY_MANIFEST_PATH`), else the defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "CHOIR_GATEWAY_"


class GatewaySettings(BaseSettings):
    """Connections and limits of one gateway process."""

    model_config = SettingsConfigDict(frozen=True, env_prefix=ENV_PREFIX)

    database_url: str = Field(description="The indexer's database (SQLAlchemy URL), read only by the gateway.")
    rpc_url: str = Field(description="JSON-RPC endpoint of the chain, for live values, estimates and relaying.")
    manifest_path: Path = Field(description="The deployment manifest (deployments/<chainId>.json).")
    content_url: str | None = Field(
        default=None, description="Database of message bodies (SQLAlchemy URL); default: the indexer's database."
    )
    max_content_bytes: int = Field(default=64 * 1024, gt=0, description="Largest message body accepted.")
    page_size_limit: int = Field(default=100, gt=0, description="Largest page a list endpoint returns.")
    read_cache_size: int = Field(
        default=4096,
        ge=0,
        description="Answers kept per process for the indexer's current block (`api.blockview`); 0 disables "
        "the cache (every read is computed).",
    )
    health_ttl: float = Field(
        default=0.5, ge=0, description="Seconds one `/health` status is shared by every request (0: each asks)."
    )
    search_enabled: bool = Field(
        default=True,
        description="Serve `GET /search` (semantic search; loads the ~90 MB embedding model on the first search, "
        "about 10 s). When false the route answers 503 `search_disabled`.",
    )
    search_preload: bool = Field(
        default=False,
        description="Load the embedding model in a background thread at start-up, so the first search does not "
        "wait for it (only with `search_enabled`).",
    )
    relayer_key: SecretStr | None = Field(
        default=None,
        description="Private key (0x hex) of a funded account that sends signed governance votes "
        "(`POST /tx/relayVote`, `castVoteBySig`) so voters pay no gas. Unset: the route answers 503 "
        "`relay_disabled`.",
    )
