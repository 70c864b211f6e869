"""The simulated MetaTrader 5 terminal: a broker, a market and the module's surface over them."""

from app.terminal.sim.terminal import SimulatedTerminal

__all__ = ["SimulatedTerminal"]
