"""`choir_chain.pricer`: the service that pushes QAHO stake prices on chain (`choir pricer`).

`state.py` reads a thread's model inputs as of a block from the indexer's database, `triggers.py` finds the
blocks that change them, `compute.py` turns states into targets and steps the oracle accepts, `progress.py`
records the pricer's position in each round's calldata, `client.py` talks to the chain, `service.py` runs the
loop, `allocation.py` computes a closed epoch's reward allocation and `allocator.py` submits it, `cli.py` is the
command.

Names are imported on first use (PEP 562), so `choir` commands that do not price never load them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from choir_chain.pricer.errors import PricerError
    from choir_chain.pricer.service import Pricer, PricerConfig

_EXPORTS = {"PricerError": "errors", "Pricer": "service", "PricerConfig": "service"}

__all__ = ["Pricer", "PricerConfig", "PricerError"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
