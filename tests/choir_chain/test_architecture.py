"""The layering the architecture promises (docs/architecture.md), checked on the source: the library never
imports the gateway, and no module outside the benchmarks (the tests' own included) grows past 500 lines."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from choir_chain.paths import PROJECT_ROOT

MAX_LINES = 500


def modules(package: str) -> list[Path]:
    return sorted((PROJECT_ROOT / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            names.add(node.module)
    return names


def test_the_library_never_imports_the_gateway() -> None:
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): sorted(n for n in imported(path) if n == "api" or n.startswith("api."))
        for path in modules("choir_chain")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_no_module_outside_the_benchmarks_is_over_500_lines() -> None:
    long = {
        str(path.relative_to(PROJECT_ROOT)): lines
        for package in ("choir_chain", "api", "scripts", "examples", "tests", "tools")
        for path in modules(package)
        if "bench" not in path.relative_to(PROJECT_ROOT).parts
        and (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


EVENT_DECODING = re.compile(
    r"get_event_data|process_log|process_receipt|event_abi_to_log_topic|keccak\(text=\"[A-Z]\w*\("
)
"""Signs of decoding events by hand: web3.py's event machinery called directly, or an event signature hashed."""


def test_events_are_decoded_only_by_the_chain_layer() -> None:
    """Every module reads logs through `choir_chain.chain.events` (issue 15: one chain layer, the copies go)."""
    layer = PROJECT_ROOT / "choir_chain" / "chain"
    timing_web3 = PROJECT_ROOT / "choir_chain" / "bench" / "decode.py"  # the decode benchmark times web3.py itself
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): sorted(set(found))
        for package in ("choir_chain", "api", "scripts", "examples")
        for path in modules(package)
        if layer not in path.parents and path != timing_web3 and (found := EVENT_DECODING.findall(path.read_text()))
    }
    assert offenders == {}
