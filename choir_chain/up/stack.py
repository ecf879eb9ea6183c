"""`up()`: start the stack in order, serve the gateway in the main thread until SIGINT/SIGTERM or a failed
service, then stop everything in reverse order (gateway, pricer and indexer, anvil)."""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from choir_chain.cli_options import one_line
from choir_chain.up import bootstrap
from choir_chain.up.bootstrap import ChainSide
from choir_chain.up.console import PanelRows, UpConsole, seed_summary, shown_path
from choir_chain.up.gateway import base_url, gateway_app, listen_socket
from choir_chain.up.logs import log_to, uvicorn_log_config
from choir_chain.up.options import GRACEFUL_SHUTDOWN_SECONDS, UpError, UpOptions, known_errors
from choir_chain.up.run_folder import RunFolder, default_run_dir
from choir_chain.up.supervise import Services

if TYPE_CHECKING:
    import uvicorn


@dataclass
class Stack:
    """Everything `choir up` started, and how to stop it."""

    options: UpOptions
    out: UpConsole
    chain: ChainSide = field(default_factory=ChainSide)
    folder: RunFolder = field(init=False)
    services: Services = field(init=False)
    server: uvicorn.Server | None = None
    failure: str | None = None
    signalled: int | None = None
    stopping: bool = False

    def __post_init__(self) -> None:
        self.folder = RunFolder(default_run_dir(self.options.run_dir, None))
        self.services = Services(self.options, self.chain, self.folder.database_url, self.out, self.stop_gateway)

    @property
    def url(self) -> str:
        return base_url(self.options.host, self.options.port)

    def use_folder(self, folder: RunFolder) -> None:
        self.folder = folder
        self.services.database_url = folder.database_url

    # --- signals and failures -------------------------------------------------------------------------------

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        """Before the gateway runs: stop starting (KeyboardInterrupt unwinds what started). Afterwards: ask the
        gateway to stop (uvicorn's own handlers take SIGINT/SIGTERM while it serves; this covers the moments
        around them)."""
        self.signalled = signum
        if self.server is not None:
            self.server.should_exit = True
        elif not self.stopping:
            raise KeyboardInterrupt

    def stop_gateway(self) -> None:
        if self.server is not None:
            self.server.should_exit = True

    def write_state(self, **extra: Any) -> None:
        """`up.json`: what runs and where."""
        self.folder.write_state(
            {
                "anvil_pid": self.chain.anvil_pid,
                "rpc_url": self.chain.rpc_url or None,
                "dashboard": f"{self.url}/",
                "api_docs": f"{self.url}/docs",
                "manifest": str(self.chain.manifest_path) if self.chain.manifest_path else None,
                "database": self.folder.database_url,
                "seeded": self.chain.seeded is not None,
                **extra,
            }
        )

    # --- start-up -------------------------------------------------------------------------------------------

    def start_chain(self, resources: contextlib.ExitStack) -> None:
        """The run folder, then a devnet (deployed and seeded) or an existing chain's manifest and pricer key."""
        if self.options.existing_chain:
            bootstrap.read_manifest(self.chain, self.options)
            self.use_folder(RunFolder(default_run_dir(self.options.run_dir, self.chain.chain_id)))
        self.folder.prepare(keep=self.options.existing_chain)
        self.write_state(status="starting")
        self.services.warm_up_model()
        self.out.line(f"[bold]choir up[/bold]: run folder {escape(shown_path(self.folder.path))}")
        if self.options.existing_chain:
            assert self.chain.manifest_path is not None
            self.out.step(
                "chain",
                f"{self.chain.rpc_url}, chain {self.chain.chain_id}, manifest {shown_path(self.chain.manifest_path)}",
            )
            bootstrap.load_pricer_account(self.chain, self.options)
        else:
            bootstrap.start_devnet(
                self.chain,
                self.folder,
                self.out,
                resources,
                seed=self.options.seed,
                on_start=lambda: self.write_state(status="starting"),
            )

    def start_indexer(self) -> None:
        started = time.monotonic()
        services = self.services
        services.indexer = services.new_indexer(reset=self.options.reset)
        if not self.options.existing_chain:
            # A devnet's few hundred blocks take a moment: the dashboard is full from its first load.
            last = services.indexer.sync()
            self.out.step("index", f"up to block {last} into {shown_path(self.folder.database_path)}", started)
        else:
            self.out.step(
                "index", f"following from block {services.indexer.last_block + 1}, {services.confirmations} conf."
            )

    def start_pricer(self) -> None:
        if not self.options.pricer:
            return
        assert self.chain.pricer_account is not None
        self.services.pricer = self.services.new_pricer()
        self.services.pricer.check_role()
        self.out.step("pricer", f"as {self.chain.pricer_account.address}")

    # --- running --------------------------------------------------------------------------------------------

    def serve(self, sock: socket.socket) -> None:
        """Run the gateway in this (the main) thread until a signal or a failed service stops it; the indexer and
        the pricer start once it answers."""
        import uvicorn

        assert self.chain.manifest_path is not None
        gateway_log = self.folder.log_path("gateway")
        config = uvicorn.Config(
            gateway_app(self.folder.database_url, self.chain.rpc_url, self.chain.manifest_path),
            host=self.options.host,
            port=self.options.port,
            log_config=uvicorn_log_config(gateway_log),
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        self.server = uvicorn.Server(config)
        watcher = threading.Thread(target=self.watch, name="watch", daemon=True)
        watcher.start()
        try:
            self.server.run(sockets=[sock])
        except SystemExit as err:  # uvicorn exits the process when the app's start-up fails
            if self.failure is None and self.services.failure is None:
                self.failure = f"the gateway did not start (exit {err.code}); see {gateway_log}"
        finally:
            self.services.stop.set()
        watcher.join(timeout=5)
        if not self.server.started and self.failure is None and self.services.failure is None and not self.signalled:
            self.failure = f"the gateway did not start; see {gateway_log}"

    def watch(self) -> None:
        """Once the gateway answers: start the services and print the panel."""
        server = self.server
        assert server is not None
        while not server.started:
            if server.should_exit or self.services.stop.is_set():
                return
            time.sleep(0.02)
        self.services.start_threads()
        self.write_state(status="running")
        self.out.panel(self.panel_rows())

    def panel_rows(self) -> PanelRows:
        assert self.chain.manifest_path is not None
        devnet = not self.options.existing_chain
        logs = ["indexer", "pricer", "gateway"] if self.options.pricer else ["indexer", "gateway"]
        if devnet:
            logs.insert(0, "anvil")
        account = self.chain.pricer_account
        return PanelRows(
            url=self.url,
            rpc_url=self.chain.rpc_url,
            chain_id=self.chain.chain_id,
            devnet=devnet,
            manifest_path=self.chain.manifest_path,
            database_path=self.folder.database_path,
            logs=logs,
            log_folder=self.folder.path,
            seeded=seed_summary(self.chain.seeded) if self.chain.seeded is not None else None,
            pricer=account.address if account is not None else None,
        )

    def shut_down(self) -> list[str]:
        """Stop the services (the gateway has stopped); what stopped, for the last line."""
        self.stopping = True
        stopped = ["gateway"] if self.server is not None and self.server.started else []
        stopped += self.services.shut_down()
        self.failure = self.failure or self.services.failure
        return stopped


def up(options: UpOptions, console: Console) -> int:
    """Start the stack, serve until SIGINT/SIGTERM, stop everything; the exit status is 0. Raises `UpError` (one
    line) when it cannot start or when a service failed (after stopping everything)."""
    if (options.rpc_url is None) != (options.manifest is None):
        raise UpError("--rpc and --manifest go together: the chain to use and its deployment manifest")
    stack = Stack(options, UpConsole(console))
    previous = {sig: signal.signal(sig, stack.on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    errors = known_errors()
    stopped: list[str] = []
    try:
        with contextlib.ExitStack() as resources:
            try:
                sock = listen_socket(options.host, options.port)
                resources.callback(sock.close)
                stack.start_chain(resources)
                indexer_log = stack.folder.log_path("indexer")
                resources.enter_context(log_to("choir_chain.indexer", indexer_log, echo=stack.out.indexer_warning))
                stack.start_indexer()
                stack.services.pricer_log = resources.enter_context(stack.folder.log_path("pricer").open("a"))
                stack.start_pricer()
                stack.out.step("gateway", f"{stack.url}/")
                stack.serve(sock)
            except KeyboardInterrupt:
                pass
            except errors as err:
                if isinstance(err, UpError):
                    raise
                raise UpError(one_line(err)) from None
            finally:
                stopped = stack.shut_down()  # from here on a signal is only recorded
                if stack.chain.anvil_pid is not None:
                    stopped.append("devnet")
        # Every resource is released here: anvil stopped, the socket and the logs closed.
        if stack.folder.has_state:
            stack.write_state(status="stopped", stopped=stopped)
        if stack.failure is not None:
            raise UpError(stack.failure)
        what = ", ".join(stopped) if stopped else "nothing was running"
        stack.out.line(f"stopped: {escape(what)}; files in {escape(shown_path(stack.folder.path))}")
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
