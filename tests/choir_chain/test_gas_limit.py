"""The one gas-margin rule (`choir_chain.chain.gas_limit`): estimate + 20% (rounded up) + 10,000."""

from __future__ import annotations

import pytest

from choir_chain.chain import gas_limit


@pytest.mark.parametrize(("estimate", "limit"), [(100_000, 130_000), (21_000, 35_200), (1, 10_002), (0, 10_000)])
def test_the_margin_is_a_fifth_rounded_up_plus_ten_thousand(estimate: int, limit: int) -> None:
    assert gas_limit(estimate) == limit


def test_every_sender_uses_the_one_rule() -> None:
    """No module computes its own margin (the services, the deployer, the gateway's unsigned transactions)."""
    from choir_chain.paths import PROJECT_ROOT

    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for package in ("choir_chain", "api", "scripts")
        for path in (PROJECT_ROOT / package).rglob("*.py")
        if "bench" not in path.parts and path.name != "gas.py" and "* 1.2" in path.read_text()
    ]
    assert offenders == []
