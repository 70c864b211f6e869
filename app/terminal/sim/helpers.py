"""The module's small undocumented helpers ``Buy``, ``Sell`` and ``Close``, built on its own calls.

Market orders with deviation 10 and no filling type (so Fill-or-Kill); without a price they re-read the
quote and retry up to ten times while the server requotes or has no price.
"""

from __future__ import annotations

from typing import Any

from app.terminal import constants as c

_RETRIES = 10
_RETRY_ON = frozenset({c.TRADE_RETCODE_REQUOTE, c.TRADE_RETCODE_PRICE_OFF})
_DEVIATION = 10


def _market_order(
    terminal: Any, symbol: str, volume: Any, order_type: int, price: Any, comment: Any, ticket: Any
) -> Any:
    request: dict[str, Any] = {
        "action": c.TRADE_ACTION_DEAL, "symbol": symbol, "volume": volume, "type": order_type,
        "deviation": _DEVIATION,
    }  # fmt: skip
    if comment is not None:
        request["comment"] = comment
    if ticket is not None:
        request["position"] = ticket
    if price is not None:
        request["price"] = price
        return terminal.order_send(request)
    result = None
    for _ in range(_RETRIES):
        tick = terminal.symbol_info_tick(symbol)
        if tick is None:
            return None
        request["price"] = tick.ask if order_type == c.ORDER_TYPE_BUY else tick.bid
        result = terminal.order_send(request)
        if result is None or result.retcode not in _RETRY_ON:
            return result
    return result


def buy(terminal: Any, symbol: str, volume: Any, price: Any = None, *, comment: Any = None, ticket: Any = None) -> Any:
    return _market_order(terminal, symbol, volume, c.ORDER_TYPE_BUY, price, comment, ticket)


def sell(terminal: Any, symbol: str, volume: Any, price: Any = None, *, comment: Any = None, ticket: Any = None) -> Any:
    return _market_order(terminal, symbol, volume, c.ORDER_TYPE_SELL, price, comment, ticket)


def close(terminal: Any, symbol: str, *, comment: Any = None, ticket: Any = None) -> bool | str | None:
    """Close the position ``ticket`` (or every position on ``symbol``): True if all closed, "Partially" if
    some, False if none, None when a tick or order_send answered None."""
    positions = terminal.positions_get(ticket=ticket) if ticket is not None else terminal.positions_get(symbol=symbol)
    if positions is None:
        return None
    if not positions:
        return False
    closed = 0
    for position in positions:
        if position.type not in (c.POSITION_TYPE_BUY, c.POSITION_TYPE_SELL):
            continue
        order_type = c.ORDER_TYPE_SELL if position.type == c.POSITION_TYPE_BUY else c.ORDER_TYPE_BUY
        result = _market_order(terminal, position.symbol, position.volume, order_type, None, comment, position.ticket)
        if result is None:
            return None
        if result.retcode == c.TRADE_RETCODE_DONE:
            closed += 1
    if closed == len(positions):
        return True
    return "Partially" if closed else False
