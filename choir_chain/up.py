"""`choir up` (`make run`): a devnet, the deployment, a seeded demo community, and the indexer, the pricer and the
gateway running together until Ctrl-C; or, with `--rpc` and `--manifest`, the same services over an existing chain.

One process runs everything but anvil: the gateway (uvicorn) in the main thread, the indexer and the pricer each
in a thread of their own, all three over one SQLite database in the run folder. Ctrl-C or SIGTERM stops the
gateway, then the pricer and the indexer (they finish their current step), then anvil, and leaves nothing
running. Every file goes into the run folder: anvil's state, log and `HOME`, the manifest, the database, one log
per service, `seed.json` (what the seed created) and `up.json` (addresses, paths and process ids of the running
stack).

The indexer and the pricer both bring the database up to the chain (the pricer indexes before it prices). When
one of them applies a block range the other just applied, the indexer refuses with `ConcurrentWriter`; each
service then reopens its cursor and goes on.

The pricer also scores the novelty of every stored message body (`choir_chain.pricer.novelty`) unless
`--no-novelty`: the embedding model (about 10 s to load) is warmed in a background thread from the start, while
the devnet is deployed and seeded, and the pricer's first novelty round goes out as soon as it is ready, so the
demo community's seeded messages are all scored within seconds of the dashboard opening.

A service that fails for good (e.g. the pricer giving up after repeated rejected rounds) stops the whole stack
with a one-line error and exit status 1, rather than leaving a dashboard over a stale chain.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from choir_chain.devnet import DEV_MNEMONIC, DEVNET_CHAIN_ID
from choir_chain.paths import PROJECT_ROOT, run_root
from choir_chain.protocol.units import CHOIR

if TYPE_CHECKING:
    import uvicorn
    from eth_account.signers.local import LocalAccount

    from choir_chain.chain import Chain
    from choir_chain.indexer import Indexer
    from choir_chain.manifest import Manifest
    from choir_chain.pricer.service import Pricer
    from choir_chain.seed import SeedResult
    from choir_chain.semantics.embedder import Embedder

DEFAULT_PORT = 8000
DEFAULT_HOST = "127.0.0.1"
STATE_FILE = "up.json"
"""Written into the run folder; also marks a folder `choir up` may wipe on its next start."""
DEVNET_PRICER_ACCOUNT = 1
DEVNET_POLL_INTERVAL = 0.5
"""Seconds between the services' looks at a devnet when idle."""
GRACEFUL_SHUTDOWN_SECONDS = 3
"""Open connections (e.g. a dashboard's event stream) get this long to finish once Ctrl-C is pressed."""
SERVICE_STOP_TIMEOUT = 15.0


class UpError(RuntimeError):
    """`choir up` cannot start or a service failed; the message is one line."""


@dataclass(frozen=True)
class UpOptions:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    seed: bool = True
    rpc_url: str | None = None
    manifest: Path | None = None
    run_dir: Path | None = None
    pricer: bool = True
    pricer_account: str | None = None
    """Ape keystore alias of the pricer on an existing chain (else `CHOIR_PRICER_KEY`)."""
    novelty: bool = True
    """The pricer scores stored message bodies and submits their novelty (loads the embedding model)."""
    reset: bool = False
    """Re-index an existing chain's database from scratch."""

    @property
    def existing_chain(self) -> bool:
        return self.rpc_url is not None


def one_line(err: BaseException) -> str:
    """The first line of an error's message (anvil's log tail or SQLAlchemy's link stay out)."""
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def known_errors() -> tuple[type[BaseException], ...]:
    """Failures reported as one line instead of a traceback (imported late: SQLAlchemy is heavy)."""
    from pydantic import ValidationError
    from requests import RequestException
    from sqlalchemy.exc import SQLAlchemyError

    from choir_chain.artifacts import ArtifactError
    from choir_chain.chain import TransactionFailed
    from choir_chain.devnet import DevnetError
    from choir_chain.indexer.errors import IndexerError
    from choir_chain.keys import SignerError
    from choir_chain.pricer.errors import PricerError
    from choir_chain.seed import SeedError

    return (
        UpError,
        DevnetError,
        ArtifactError,
        TransactionFailed,
        SeedError,
        IndexerError,
        PricerError,
        SignerError,
        ValidationError,
        SQLAlchemyError,
        RequestException,
        OSError,
    )


# ------------------------------------------------------------------------------------------------------------
# Small helpers
# ------------------------------------------------------------------------------------------------------------


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


def choir_amount(wei: int | str, places: int = 4) -> str:
    """An amount in wei as CHOIR, rounded to `places` decimals, without trailing zeros."""
    text = format(round(Decimal(int(wei)) / Decimal(CHOIR), places), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def shown_path(path: Path) -> str:
    """`path` relative to the working folder when inside it (shorter in the panel)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def connect(rpc_url: str) -> Chain:
    """A web3 client that asks the node its chain id once (web3 asks before every transaction otherwise)."""
    from web3 import Web3

    from choir_chain.chain import Chain

    provider = Web3.HTTPProvider(
        rpc_url, request_kwargs={"timeout": 30}, cache_allowed_requests=True, cacheable_requests={"eth_chainId"}
    )
    return Chain(Web3(provider))


@contextlib.contextmanager
def log_to(logger_name: str, path: Path, level: int = logging.INFO) -> Iterator[None]:
    """Send `logger_name`'s records to `path` only (not to the console) for the duration."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(message)s"))
    logger = logging.getLogger(logger_name)
    previous = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous[0])
        logger.propagate = previous[1]
        handler.close()


def uvicorn_log_config(path: Path) -> dict[str, Any]:
    """uvicorn's own and access logs into `path`, nothing on the console."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "default": {
                "()": "uvicorn.logging.DefaultFormatter",
                "fmt": "%(asctime)s %(levelprefix)s %(message)s",
                "use_colors": False,
            },
            "access": {
                "()": "uvicorn.logging.AccessFormatter",
                "fmt": '%(asctime)s %(levelprefix)s %(client_addr)s "%(request_line)s" %(status_code)s',
                "use_colors": False,
            },
        },
        "handlers": {
            "default": {"class": "logging.FileHandler", "filename": str(path), "formatter": "default"},
            "access": {"class": "logging.FileHandler", "filename": str(path), "formatter": "access"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }


# ------------------------------------------------------------------------------------------------------------
# Services in threads
# ------------------------------------------------------------------------------------------------------------


class ServiceThread(threading.Thread):
    """Runs `target` until it returns; an exception is kept in `error` and reported to `on_failure`."""

    def __init__(self, name: str, target: Callable[[], None], on_failure: Callable[[ServiceThread], None]) -> None:
        super().__init__(name=name, daemon=True)  # a service stuck in a call must not keep the process alive
        self._target_fn = target
        self._on_failure = on_failure
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._target_fn()
        except BaseException as err:
            self.error = err
            self._on_failure(self)


@dataclass
class Stack:
    """Everything `choir up` started, and how to stop it."""

    options: UpOptions
    console: Console
    run_dir: Path = field(init=False)
    stop: threading.Event = field(default_factory=threading.Event)
    rpc_url: str = ""
    anvil_pid: int | None = None
    manifest_path: Path | None = None
    manifest: Manifest | None = None
    seeded: SeedResult | None = None
    server: uvicorn.Server | None = None
    indexer: Indexer | None = None
    pricer: Pricer | None = None
    pricer_account: LocalAccount | None = None
    services: list[ServiceThread] = field(default_factory=list)
    pricer_log: IO[str] | None = None
    failure: str | None = None
    signalled: int | None = None
    stopping: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    model_loader: threading.Thread | None = None
    """Loads the embedding model in the background (`semantics.embedder.warm_up`) when novelty is on."""

    def __post_init__(self) -> None:
        self.run_dir = self.options.run_dir.resolve() if self.options.run_dir is not None else run_root() / "up"

    def default_run_dir(self) -> Path:
        """`.run/up` for a devnet (wiped at each start); `.run/up-<chain id>` for an existing chain (kept, so
        indexing resumes where it stopped)."""
        if self.options.run_dir is not None:
            return self.options.run_dir.resolve()
        if self.manifest is None:
            return run_root() / "up"
        return run_root() / f"up-{self.manifest.chain_id}"

    # --- paths ----------------------------------------------------------------------------------------------

    @property
    def database_path(self) -> Path:
        return self.run_dir / "choir.db"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database_path}"

    def log_path(self, service: str) -> Path:
        return self.run_dir / f"{service}.log"

    @property
    def url(self) -> str:
        return base_url(self.options.host, self.options.port)

    @property
    def confirmations(self) -> int:
        from choir_chain.indexer.cli import DEFAULT_CONFIRMATIONS, DEVNET_CONFIRMATIONS

        assert self.manifest is not None
        return DEVNET_CONFIRMATIONS if self.manifest.chain_id == DEVNET_CHAIN_ID else DEFAULT_CONFIRMATIONS

    @property
    def poll_interval(self) -> float:
        return DEVNET_POLL_INTERVAL if not self.options.existing_chain else 1.0

    # --- signals --------------------------------------------------------------------------------------------

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        """Before the gateway runs: stop starting (KeyboardInterrupt unwinds what started). Afterwards: ask the
        gateway to stop (uvicorn's own handlers take SIGINT/SIGTERM while it serves; this covers the moments
        around them)."""
        self.signalled = signum
        if self.server is not None:
            self.server.should_exit = True
        elif not self.stopping:
            raise KeyboardInterrupt

    def fail(self, service: ServiceThread) -> None:
        """A service stopped with an error: stop the whole stack."""
        with self._lock:
            if self.failure is None and not self.stop.is_set():
                self.failure = f"{service.name} stopped: {one_line(service.error or RuntimeError('unknown'))}"
        self.stop.set()
        if self.server is not None:
            self.server.should_exit = True

    # --- printing -------------------------------------------------------------------------------------------

    def step(self, label: str, text: str, started: float | None = None) -> None:
        took = f" [dim]({time.monotonic() - started:.1f} s)[/dim]" if started is not None else ""
        self.console.print(f"  [bold]{label:<8}[/bold] {escape(text)}{took}", highlight=False, soft_wrap=True)

    def on_pricer_event(self, event: dict[str, Any], log: Any) -> None:
        log.write(json.dumps(event, separators=(",", ":")) + "\n")
        log.flush()
        kind = event.get("event")
        if kind == "round":
            prices = ", ".join(
                f"thread {t} {choir_amount(p)} CHOIR" for t, p in zip(event["threads"], event["prices"], strict=True)
            )
            self.console.print(
                f"[dim]pricer   round {event['round']} (block {event['block']}): {prices}[/dim]",
                highlight=False,
                soft_wrap=True,
            )
        elif kind == "allocation":
            self.console.print(
                f"[dim]pricer   epoch {event['epoch']} closed: {choir_amount(event['total'])} of its "
                f"{choir_amount(event['budget'])} CHOIR budget minted to {len(event['messages'])} approved "
                f"message(s) (block {event['block']})[/dim]",
                highlight=False,
                soft_wrap=True,
            )
        elif kind == "novelty":
            scored = len(event["messages"])
            most = max(event["weights"]) if event["weights"] else 0.0
            self.console.print(
                f"[dim]pricer   novelty round {event['round']} (block {event['block']}): {scored} messages scored, "
                f"weights up to {most:g}, {event['remaining']} waiting[/dim]",
                highlight=False,
                soft_wrap=True,
            )
        elif kind in ("retry", "stuck", "allocation_failed", "novelty_failed", "novelty_disabled", "rewards_disabled"):
            detail = escape(json.dumps({k: v for k, v in event.items() if k != "event"}))
            self.console.print(f"[yellow]pricer   {kind}[/yellow] {detail}", highlight=False, soft_wrap=True)

    def panel(self) -> Panel:
        assert self.manifest is not None and self.manifest_path is not None
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        table.add_row("dashboard", f"[link={self.url}/]{self.url}/[/link]")
        table.add_row("API docs", f"{self.url}/docs")
        chain = f"chain {self.manifest.chain_id}" + ("" if self.options.existing_chain else ", anvil")
        table.add_row("RPC", f"{self.rpc_url} ({chain})")
        table.add_row("manifest", shown_path(self.manifest_path))
        table.add_row("database", shown_path(self.database_path))
        logs = ["indexer", "pricer", "gateway"] if self.options.pricer else ["indexer", "gateway"]
        if not self.options.existing_chain:
            logs.insert(0, "anvil")
        table.add_row("logs", shown_path(self.run_dir / f"{{{','.join(logs)}}}.log"))
        if self.seeded is not None:
            table.add_row("seeded", self.seed_summary(self.seeded))
        if self.pricer_account is not None:
            table.add_row("pricer", self.pricer_account.address)
        if not self.options.existing_chain:
            table.add_row("accounts", "development accounts 0-9 ('test test ... junk'), 0 admin, 1 pricer")
        return Panel(
            table,
            title="[bold]Choir is up[/bold]",
            title_align="left",
            subtitle="Ctrl-C stops everything",
            subtitle_align="left",
            expand=False,
        )

    @staticmethod
    def seed_summary(seeded: SeedResult) -> str:
        specs = seeded.specs()
        by_status: dict[str, int] = {}
        for spec in specs:
            by_status[spec.status or "?"] = by_status.get(spec.status or "?", 0) + 1
        statuses = ", ".join(f"{n} {status}" for status, n in sorted(by_status.items()))
        proposal = 1 if seeded.proposal is not None else 0
        return (
            f"{len(seeded.threads)} threads, {len(seeded.messages)} messages, {len(specs)} specs ({statuses}), "
            f"{proposal} open proposal"
        )

    def write_state(self, **extra: Any) -> None:
        """`up.json`: what runs and where (read by tests and tools; marks the folder as `choir up`'s)."""
        state: dict[str, Any] = {
            "pid": os.getpid(),
            "anvil_pid": self.anvil_pid,
            "rpc_url": self.rpc_url or None,
            "dashboard": f"{self.url}/",
            "api_docs": f"{self.url}/docs",
            "manifest": str(self.manifest_path) if self.manifest_path else None,
            "database": self.database_url,
            "seeded": self.seeded is not None,
            **extra,
        }
        path = self.run_dir / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        tmp.replace(path)

    # --- start-up -------------------------------------------------------------------------------------------

    def prepare_run_dir(self) -> None:
        """A devnet's run folder starts empty (its chain died with the last anvil); an existing chain's keeps its
        database so indexing resumes. Only a folder `choir up` made is ever wiped."""
        folder = self.run_dir
        if not self.options.existing_chain and folder.exists() and any(folder.iterdir()):
            if not (folder / STATE_FILE).is_file():
                raise UpError(
                    f"run folder {folder} is not empty and was not made by `choir up`: remove it or pass another "
                    "--run-dir"
                )
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if folder.resolve() == PROJECT_ROOT:
            raise UpError("the run folder cannot be the repository itself")
        self.write_state(status="starting")

    def start_devnet(self, stack: contextlib.ExitStack) -> None:
        from choir_chain.deploy import deploy
        from choir_chain.devnet import Devnet

        started = time.monotonic()
        node = Devnet(self.run_dir)
        stack.callback(node.stop)  # registered first: an interrupt while anvil starts still stops it
        node.start()
        process = node._process
        self.anvil_pid = process.pid if process is not None else None
        self.rpc_url = node.rpc_url
        self.write_state(status="starting")
        self.step("devnet", f"anvil on {node.rpc_url}, chain {node.chain_id}, pid {self.anvil_pid}", started)

        started = time.monotonic()
        chain = connect(node.rpc_url)
        from choir_chain.chain import dev_accounts

        accounts = dev_accounts(DEV_MNEMONIC, 10)
        deployment = deploy(chain, accounts[0], pricer=accounts[DEVNET_PRICER_ACCOUNT].address)
        self.manifest = deployment.manifest
        self.manifest_path = deployment.manifest.write(self.run_dir / "deployments")
        self.pricer_account = accounts[DEVNET_PRICER_ACCOUNT]
        self.step("deploy", f"{', '.join(self.manifest.contracts)} -> {shown_path(self.manifest_path)}", started)

        if self.options.seed:
            from choir_chain.seed import seed

            started = time.monotonic()
            self.seeded = seed(deployment, accounts)
            (self.run_dir / "seed.json").write_text(self.seeded.as_json())
            self.store_bodies(self.seeded.bodies())
            self.step("seed", self.seed_summary(self.seeded), started)

    def store_bodies(self, bodies: dict[str, str]) -> None:
        """The seeded messages' bodies into the gateway's content store (its table in the same database)."""
        from choir_chain import content_store
        from choir_chain.indexer.db import make_engine

        engine = make_engine(self.database_url)
        try:
            content_store.create_schema(engine)
            for content_hash, body in sorted(bodies.items()):
                content_store.store(engine, content_hash, body, len(body.encode("utf-8")))
        finally:
            engine.dispose()

    def read_manifest(self) -> None:
        """The existing chain's deployment (before the run folder: its default name has the chain id)."""
        from pydantic import ValidationError

        from choir_chain.manifest import Manifest

        assert self.options.rpc_url is not None and self.options.manifest is not None
        path = self.options.manifest.resolve()
        try:
            self.manifest = Manifest.read(path)
        except OSError as err:
            raise UpError(f"cannot read the manifest {path}: {err.strerror}") from None
        except ValidationError as err:
            raise UpError(f"{path} is not a deployment manifest: {one_line(err)}") from None
        self.manifest_path = path
        self.rpc_url = self.options.rpc_url
        self.run_dir = self.default_run_dir()

    def use_existing_chain(self) -> None:
        assert self.manifest is not None and self.manifest_path is not None
        self.step("chain", f"{self.rpc_url}, chain {self.manifest.chain_id}, manifest {shown_path(self.manifest_path)}")

    def new_indexer(self, reset: bool = False) -> Indexer:
        from choir_chain.indexer import Indexer

        assert self.manifest is not None
        return Indexer(
            self.rpc_url,
            self.manifest,
            self.database_url,
            confirmations=self.confirmations,
            poll_interval=self.poll_interval,
            stop=self.stop,
            reset=reset,
        )

    def new_pricer(self) -> Pricer:
        from choir_chain.pricer.service import Pricer, PricerConfig

        assert self.manifest is not None and self.pricer_account is not None
        novelty = self.model_loader is not None
        config = PricerConfig(confirmations=self.confirmations, poll_interval=self.poll_interval, novelty=novelty)
        log = self.pricer_log
        assert log is not None
        return Pricer(
            self.rpc_url,
            self.manifest,
            self.pricer_account,
            self.database_url,
            config=config,
            stop=self.stop,
            emit=lambda event: self.on_pricer_event(event, log),
            embedder=self.warm_embedder if novelty else None,
        )

    def warm_up_model(self) -> None:
        """Start loading the embedding model in the background, if the pricer will score novelty."""
        if self.options.pricer and self.options.novelty and self.model_loader is None:
            from choir_chain.semantics.embedder import warm_up

            self.model_loader = warm_up()

    def warm_embedder(self) -> Embedder | None:
        """The embedding model once the background load finished (None before); `EmbedderError` if it failed."""
        from choir_chain.semantics.embedder import EmbedderError, loaded_embedder

        embedder = loaded_embedder()
        if embedder is None and self.model_loader is not None and not self.model_loader.is_alive():
            error = getattr(self.model_loader, "error", None)
            raise EmbedderError(f"the embedding model did not load: {error}")
        return embedder

    def start_indexer(self) -> None:
        started = time.monotonic()
        self.indexer = self.new_indexer(reset=self.options.reset)
        if not self.options.existing_chain:
            # A devnet's few hundred blocks take a moment: the dashboard is full from its first load.
            last = self.indexer.sync()
            self.step("index", f"up to block {last} into {shown_path(self.database_path)}", started)
        else:
            self.step("index", f"following from block {self.indexer.last_block + 1}, {self.confirmations} conf.")

    def load_pricer_account(self) -> None:
        """The pricer's key on an existing chain (checked before anything starts); a devnet's is account 1."""
        from choir_chain.pricer.cli import DEFAULT_KEY_ENV, load_account

        assert self.manifest is not None
        if self.options.pricer and self.pricer_account is None:
            chain_id = self.manifest.chain_id
            alias = self.options.pricer_account
            if chain_id != DEVNET_CHAIN_ID and not alias and not os.environ.get(DEFAULT_KEY_ENV, "").strip():
                raise UpError(
                    f"no pricer key for chain {chain_id}: set {DEFAULT_KEY_ENV} to its private key (hex), pass "
                    "--pricer-account ALIAS (an Ape keystore account), or run without the pricer (--no-pricer)"
                )
            self.pricer_account = load_account(DEFAULT_KEY_ENV, chain_id, alias=alias)

    def start_pricer(self) -> None:
        if not self.options.pricer:
            return
        assert self.pricer_account is not None
        self.pricer = self.new_pricer()
        self.pricer.check_role()
        self.step("pricer", f"as {self.pricer_account.address}")

    # --- running --------------------------------------------------------------------------------------------

    def run_indexer(self) -> None:
        from choir_chain.indexer.errors import ConcurrentWriter

        while not self.stop.is_set():
            assert self.indexer is not None
            try:
                self.indexer.follow()
                return
            except ConcurrentWriter:  # the pricer indexed the range first: reload the cursor and go on
                logging.getLogger("choir_chain.indexer").info("the pricer indexed a range first; reloading")
                self.indexer.close()
                self.indexer = self.new_indexer()

    def run_pricer(self) -> None:
        from choir_chain.indexer.errors import ConcurrentWriter

        while not self.stop.is_set():
            assert self.pricer is not None
            try:
                self.pricer.run()
                return
            except ConcurrentWriter:  # the indexer raced it twice in a row: resume from the chain
                logging.getLogger("choir_chain.indexer").info("the indexer raced the pricer; restarting the pricer")
                self.pricer.close()
                self.pricer = self.new_pricer()

    def serve(self, sock: socket.socket) -> None:
        """Run the gateway in this (the main) thread until a signal or a failed service stops it; the indexer and
        the pricer start once it answers."""
        import uvicorn

        from api.app import create_app
        from api.settings import GatewaySettings

        assert self.manifest_path is not None
        settings = GatewaySettings(
            database_url=self.database_url, rpc_url=self.rpc_url, manifest_path=self.manifest_path
        )
        config = uvicorn.Config(
            create_app(settings),
            host=self.options.host,
            port=self.options.port,
            log_config=uvicorn_log_config(self.log_path("gateway")),
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        self.server = uvicorn.Server(config)
        watcher = threading.Thread(target=self.watch, name="watch", daemon=True)
        watcher.start()
        try:
            self.server.run(sockets=[sock])
        except SystemExit as err:  # uvicorn exits the process when the app's start-up fails
            if self.failure is None:
                self.failure = f"the gateway did not start (exit {err.code}); see {self.log_path('gateway')}"
        finally:
            self.stop.set()
        watcher.join(timeout=5)
        if not self.server.started and self.failure is None and self.signalled is None:
            self.failure = f"the gateway did not start; see {self.log_path('gateway')}"

    def watch(self) -> None:
        """Once the gateway answers: start the services and print the panel."""
        server = self.server
        assert server is not None
        while not server.started:
            if server.should_exit or self.stop.is_set():
                return
            time.sleep(0.02)
        self.services = [ServiceThread("indexer", self.run_indexer, self.fail)]
        if self.pricer is not None:
            self.services.append(ServiceThread("pricer", self.run_pricer, self.fail))
        for service in self.services:
            service.start()
        self.write_state(status="running")
        self.console.print(self.panel())

    def shut_down(self) -> list[str]:
        """Stop the services (the gateway has stopped); what stopped, for the last line."""
        self.stop.set()
        self.stopping = True
        stopped = ["gateway"] if self.server is not None and self.server.started else []
        for service in self.services:
            service.join(timeout=SERVICE_STOP_TIMEOUT)
            if service.is_alive():
                self.failure = self.failure or f"{service.name} did not stop within {SERVICE_STOP_TIMEOUT:.0f} s"
        if self.pricer is not None:
            with contextlib.suppress(Exception):
                (last_round,) = self.pricer.hub.call("lastRound")
                stopped.append(f"pricer (round {last_round})")
            self.pricer.close()
        if self.indexer is not None:
            stopped.append(f"indexer (block {self.indexer.last_block})")
            self.indexer.close()
        return stopped


def up(options: UpOptions, console: Console) -> int:
    """Start the stack, serve until SIGINT/SIGTERM, stop everything; the exit status is 0. Raises `UpError` (one
    line) when it cannot start or when a service failed (after stopping everything)."""
    if (options.rpc_url is None) != (options.manifest is None):
        raise UpError("--rpc and --manifest go together: the chain to use and its deployment manifest")
    stack = Stack(options, console)
    previous = {sig: signal.signal(sig, stack.on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    errors = known_errors()
    stopped: list[str] = []
    try:
        with contextlib.ExitStack() as resources:
            try:
                sock = listen_socket(options.host, options.port)
                resources.callback(sock.close)
                if options.existing_chain:
                    stack.read_manifest()
                stack.prepare_run_dir()
                stack.warm_up_model()
                console.print(f"[bold]choir up[/bold]: run folder {escape(shown_path(stack.run_dir))}", highlight=False)
                if options.existing_chain:
                    stack.use_existing_chain()
                    stack.load_pricer_account()
                else:
                    stack.start_devnet(resources)
                resources.enter_context(log_to("choir_chain.indexer", stack.log_path("indexer")))
                stack.start_indexer()
                stack.pricer_log = resources.enter_context(stack.log_path("pricer").open("a"))
                stack.start_pricer()
                stack.step("gateway", f"{stack.url}/")
                stack.serve(sock)
            except KeyboardInterrupt:
                pass
            except errors as err:
                if isinstance(err, UpError):
                    raise
                raise UpError(one_line(err)) from None
            finally:
                stopped = stack.shut_down()  # from here on a signal is only recorded
                if stack.anvil_pid is not None:
                    stopped.append("devnet")
        # Every resource is released here: anvil stopped, the socket and the logs closed.
        if stack.run_dir.is_dir() and (stack.run_dir / STATE_FILE).is_file():
            stack.write_state(status="stopped", stopped=stopped)
        if stack.failure is not None:
            raise UpError(stack.failure)
        what = ", ".join(stopped) if stopped else "nothing was running"
        console.print(
            f"stopped: {escape(what)}; files in {escape(shown_path(stack.run_dir))}", highlight=False, soft_wrap=True
        )
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
