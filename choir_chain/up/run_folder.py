"""The run folder of `choir up`: every file a run writes (anvil's state and log, the manifest, the database, one log
per service, `seed.json`) and `up.json`, which says what runs and where and marks a folder `choir up` may wipe."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from choir_chain.paths import PROJECT_ROOT, run_root
from choir_chain.up.options import UpError

STATE_FILE = "up.json"
"""Written into the run folder; also marks a folder `choir up` may wipe on its next start."""


def default_run_dir(run_dir: Path | None, chain_id: int | None) -> Path:
    """The chosen folder; else `.run/up` for a devnet (wiped at each start) or `.run/up-<chain id>` for an
    existing chain (kept, so indexing resumes where it stopped)."""
    if run_dir is not None:
        return run_dir.resolve()
    return run_root() / ("up" if chain_id is None else f"up-{chain_id}")


@dataclass
class RunFolder:
    path: Path

    @property
    def database_path(self) -> Path:
        return self.path / "choir.db"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database_path}"

    def log_path(self, service: str) -> Path:
        return self.path / f"{service}.log"

    @property
    def has_state(self) -> bool:
        return self.path.is_dir() and (self.path / STATE_FILE).is_file()

    def prepare(self, keep: bool) -> None:
        """A devnet's run folder starts empty (its chain died with the last anvil); an existing chain's (`keep`)
        keeps its database so indexing resumes. Only a folder `choir up` made is ever wiped."""
        folder = self.path
        if not keep and folder.exists() and any(folder.iterdir()):
            if not (folder / STATE_FILE).is_file():
                raise UpError(
                    f"run folder {folder} is not empty and was not made by `choir up`: remove it or pass another "
                    "--run-dir"
                )
            shutil.rmtree(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if folder.resolve() == PROJECT_ROOT:
            raise UpError("the run folder cannot be the repository itself")

    def write_state(self, state: dict[str, Any]) -> None:
        """`up.json` (read by tests and tools), replaced atomically; the process id is always included."""
        path = self.path / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": os.getpid(), **state}, indent=2) + "\n")
        tmp.replace(path)
