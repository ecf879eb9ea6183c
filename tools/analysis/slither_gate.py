"""Gate on Slither's JSON output: fail on any High or Medium finding that the triage file does not explain.

A triage entry names the detector, the contract and the function (or state variable, or contract) the finding is
about, never Slither's `id` hash, which changes whenever the code around the finding moves. Low, Informational and
Optimization findings are counted, never fatal. Usage: `slither_gate.py FINDINGS.json TRIAGE.json`.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GATED = ("High", "Medium")


@dataclass(frozen=True)
class Finding:
    """One Slither result, reduced to what the triage matches on and what a reader needs."""

    detector: str
    impact: str
    contract: str
    element: str
    location: str
    description: str


@dataclass(frozen=True)
class TriageEntry:
    """A reviewed finding: every result of `detector` whose primary element is `contract.element`."""

    detector: str
    contract: str
    element: str
    reason: str

    def matches(self, finding: Finding) -> bool:
        return (self.detector, self.contract, self.element) == (finding.detector, finding.contract, finding.element)


def _owner(element: dict[str, Any]) -> tuple[str, str]:
    """The (contract, element) a Slither element belongs to: `function`, `function.local`, or a state variable.

    A node (a statement) is named by its function; the chain of parents is walked up to the contract.
    """
    names: list[str] = []
    current: dict[str, Any] = element
    while current:
        if current.get("type") == "contract":
            return str(current.get("name", "")), ".".join(reversed(names)) or str(current.get("name", ""))
        if current.get("type") != "node":
            names.append(str(current.get("name", "")))
        current = current.get("type_specific_fields", {}).get("parent", {})
    return "", ".".join(reversed(names))


def _location(element: dict[str, Any]) -> str:
    mapping = element.get("source_mapping", {})
    lines = mapping.get("lines") or [0]
    return f"{mapping.get('filename_relative', '?')}:{lines[0]}"


def load_findings(path: Path) -> list[Finding]:
    """Read Slither's `--json` output; exit 2 when Slither itself failed."""
    data = json.loads(path.read_text())
    if not data.get("success", False):
        sys.exit(f"slither failed: {data.get('error')}")
    findings = []
    for result in data.get("results", {}).get("detectors", []):
        elements = result.get("elements") or [{}]
        contract, element = _owner(elements[0])
        findings.append(
            Finding(
                detector=str(result["check"]),
                impact=str(result["impact"]),
                contract=contract,
                element=element,
                location=_location(elements[0]),
                description=str(result.get("description", "")).strip(),
            )
        )
    return findings


def load_triage(path: Path) -> list[TriageEntry]:
    """Read the triage file: a JSON list of {detector, contract, element, reason}, each reason non-empty."""
    entries = [TriageEntry(**entry) for entry in json.loads(path.read_text())["findings"]]
    for entry in entries:
        if not entry.reason.strip():
            sys.exit(f"triage entry without a reason: {entry}")
    return entries


def gate(findings: list[Finding], triage: list[TriageEntry]) -> int:
    """Print the summary and every untriaged High/Medium finding; return the process exit code."""
    counts = Counter(finding.impact for finding in findings)
    summary = ", ".join(f"{impact} {counts[impact]}" for impact in (*GATED, "Low", "Informational", "Optimization"))
    print(f"slither: {len(findings)} findings in our contracts ({summary})")
    gated = [finding for finding in findings if finding.impact in GATED]
    untriaged = [finding for finding in gated if not any(entry.matches(finding) for entry in triage)]
    for entry in triage:
        if not any(entry.matches(finding) for finding in gated):
            print(f"warning: stale triage entry, no finding matches: {entry.detector} {entry.contract}.{entry.element}")
    print(f"slither: {len(gated) - len(untriaged)} High/Medium findings triaged, {len(untriaged)} untriaged")
    for finding in untriaged:
        print(f"\n{finding.impact} {finding.detector} in {finding.contract}.{finding.element} ({finding.location})")
        print(finding.description)
    if untriaged:
        print("\nFix each, or triage it with a reason in tools/analysis/slither-triage.json (docs/static-analysis.md)")
        return 1
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__)
        return 2
    return gate(load_findings(Path(argv[1])), load_triage(Path(argv[2])))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
