"""What the rest of DTMS Desk may assume about a terminal: the MetaTrader5 module's own function surface.

Both the real ``MetaTrader5`` module and ``SimulatedTerminal`` satisfy ``Terminal``. Only the gateway's
worker process ever holds one; the engine talks to the gateway.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

#: The 32 functions of MetaTrader5 5.0.6231, by name.
TERMINAL_FUNCTIONS: tuple[str, ...] = (
    "initialize",
    "login",
    "shutdown",
    "version",
    "last_error",
    "account_info",
    "terminal_info",
    "symbols_total",
    "symbols_get",
    "symbol_info",
    "symbol_info_tick",
    "symbol_select",
    "market_book_add",
    "market_book_get",
    "market_book_release",
    "copy_rates_from",
    "copy_rates_from_pos",
    "copy_rates_range",
    "copy_ticks_from",
    "copy_ticks_range",
    "orders_total",
    "orders_get",
    "order_calc_margin",
    "order_calc_profit",
    "order_check",
    "order_send",
    "positions_total",
    "positions_get",
    "history_orders_total",
    "history_orders_get",
    "history_deals_total",
    "history_deals_get",
)


@runtime_checkable
class Terminal(Protocol):
    """The subset of the module surface DTMS Desk calls; the full surface is ``TERMINAL_FUNCTIONS``."""

    def initialize(self, *args: Any, **kwargs: Any) -> bool: ...
    def shutdown(self) -> Any: ...
    def last_error(self) -> tuple[int, str]: ...
    def account_info(self) -> Any: ...
    def terminal_info(self) -> Any: ...
    def symbol_info(self, symbol: str, /) -> Any: ...
    def symbol_info_tick(self, symbol: str, /) -> Any: ...
    def copy_rates_from_pos(self, symbol: str, timeframe: int, start: int, count: int, /) -> Any: ...
    def positions_get(self, **filters: Any) -> Any: ...
    def history_deals_get(self, *args: Any, **kwargs: Any) -> Any: ...
    def order_send(self, *args: Any, **kwargs: Any) -> Any: ...
