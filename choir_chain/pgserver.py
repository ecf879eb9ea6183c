"""A throw-away PostgreSQL server for tests and benchmarks: Debian's server binaries, started on a free loopback
port with its data in a temporary folder, stopped and removed by `stop()`. `make setup` installs the binaries
(tools/postgres/ensure.sh)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

from choir_chain.devnet import free_port


class PostgresMissing(RuntimeError):
    pass


def postgres_bin_dir() -> Path:
    """Debian's newest PostgreSQL server binaries, or whatever `initdb` is on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise PostgresMissing(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: run `make setup` "
        "(tools/postgres/ensure.sh installs Debian's `postgresql` package)"
    )


@dataclass
class PostgresServer:
    """A PostgreSQL server on a free loopback port, its data in a temporary folder, stopped and removed by
    `stop()`. PostgreSQL refuses to run as root, so as root it runs as the `postgres` OS user."""

    base: Path
    port: int
    bin_dir: Path
    as_user: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/choir"

    @classmethod
    def start(cls) -> PostgresServer:
        bin_dir = postgres_bin_dir()
        base = Path(tempfile.mkdtemp(prefix="choir-pg-"))
        as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                shutil.chown(base, "postgres", "postgres")
            except LookupError as err:
                shutil.rmtree(base)
                raise PostgresMissing(
                    "PostgreSQL refuses to run as root and there is no `postgres` OS user to run it as: "
                    "run `make setup` (Debian's `postgresql` package creates it)"
                ) from err
            as_user = ["runuser", "-u", "postgres", "--"]
        server = cls(base=base, port=free_port(), bin_dir=bin_dir, as_user=as_user)
        data, log = str(base / "data"), str(base / "server.log")
        options = f"-c listen_addresses=127.0.0.1 -p {server.port} -k {base} -c fsync=off"
        try:
            server._run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
            server._run("pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", "30", "start")
            admin = f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres"
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute("CREATE DATABASE choir")
        except BaseException:
            server.stop()
            raise
        return server

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run(
            [*self.as_user, str(self.bin_dir / tool), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            log = self.base / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr.strip()}\n{tail}")

    def stop(self) -> None:
        if (self.base / "data" / "postmaster.pid").exists():
            pg_ctl = [*self.as_user, str(self.bin_dir / "pg_ctl")]
            stop = [*pg_ctl, "-D", str(self.base / "data"), "-m", "immediate", "-w", "stop"]
            subprocess.run(stop, capture_output=True, timeout=60, check=False)
        shutil.rmtree(self.base, ignore_errors=True)


def create_database(server: PostgresServer, name: str) -> str:
    """A new empty database on the server; its SQLAlchemy URL."""
    with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return server.url.rsplit("/", 1)[0] + f"/{name}"
