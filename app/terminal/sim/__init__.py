"""The simulated MetaTrader 5 terminal: a broker, a market and the module's surface over them.

``SimulatedTerminal`` is imported on first use, so that a module of the package (the fault kinds the HTTP
endpoint documents) can be imported without the whole simulator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.terminal.sim.terminal import SimulatedTerminal

__all__ = ["SimulatedTerminal"]


def __getattr__(name: str) -> Any:
    if name == "SimulatedTerminal":
        from app.terminal.sim.terminal import SimulatedTerminal

        return SimulatedTerminal
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
