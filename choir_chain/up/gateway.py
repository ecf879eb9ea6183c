"""The gateway of `choir up`: its listening socket, its URL, and its app, found through an entry point.

The library never imports the gateway package (the gateway depends on `choir_chain`, not the reverse): the
gateway registers an app factory under the entry point group `choir_chain.gateway` (name `app`, see
`pyproject.toml`), called with the database URL, the RPC URL and the manifest path, and returning an ASGI app.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from choir_chain.up.options import UpError

ENTRY_POINT_GROUP = "choir_chain.gateway"
ENTRY_POINT_NAME = "app"

GatewayFactory = Callable[..., Any]
"""`factory(database_url=..., rpc_url=..., manifest_path=...)` -> an ASGI app."""


def gateway_factory() -> GatewayFactory:
    """The installed gateway's app factory; `UpError` if no gateway is installed."""
    found = entry_points(group=ENTRY_POINT_GROUP, name=ENTRY_POINT_NAME)
    for entry in found:
        factory: GatewayFactory = entry.load()
        return factory
    raise UpError(
        f"no gateway installed (entry point {ENTRY_POINT_GROUP}:{ENTRY_POINT_NAME}): run `make setup`, which "
        "installs the project with its gateway"
    )


def gateway_app(database_url: str, rpc_url: str, manifest_path: Path) -> Any:
    return gateway_factory()(database_url=database_url, rpc_url=rpc_url, manifest_path=manifest_path)


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket listening on `host:port`, taken before anything else starts so a busy port fails at once and no
    one can take it while the devnet starts; handed to uvicorn later."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as err:
        raise UpError(f"cannot listen on host {host!r}: {err.strerror}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no conflict
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as err:
        sock.close()
        if err.errno == 98:  # EADDRINUSE
            raise UpError(
                f"port {port} on {host} is in use: stop what listens there or pick another port with --port "
                f'(make run ARGS="--port {port + 1}")'
            ) from None
        raise UpError(f"cannot listen on {host}:{port}: {err.strerror}") from None
    sock.set_inheritable(False)
    return sock


def base_url(host: str, port: int) -> str:
    """The gateway's URL for a browser: a wildcard address is shown as loopback."""
    shown = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"
