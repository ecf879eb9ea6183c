"""Where the project keeps things: the repository root, node_modules and the run folder."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The checkout this package was installed from (editable install)."""


def run_root() -> Path:
    """The run folder holding devnet state, logs and databases (`CHOIR_RUN_DIR`, default `<project>/.run`)."""
    return Path(os.environ.get("CHOIR_RUN_DIR", PROJECT_ROOT / ".run")).resolve()


def build_manifest() -> Path:
    """Ape's compiled package manifest (ABIs and bytecode of every contract)."""
    return PROJECT_ROOT / ".build" / "__local__.json"
