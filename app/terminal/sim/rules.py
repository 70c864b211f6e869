"""The broker's trade rules, each a small check that answers 0 (allowed) or the retcode that refuses.

Distances are in points (``trade_stops_level``, ``trade_freeze_level``, ``deviation``) times the symbol's
``point``. Comparisons allow a thousandth of a point for float noise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.terminal import constants as c
from app.terminal.sim.records import PendingOrder, Position

if TYPE_CHECKING:
    from app.terminal.sim.symbols import SymbolSpec

OK = 0
_BUY_TYPES = frozenset({c.ORDER_TYPE_BUY, c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_BUY_STOP, c.ORDER_TYPE_BUY_STOP_LIMIT})
PENDING_TYPES = frozenset(range(c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_SELL_STOP_LIMIT + 1))
STOP_LIMIT_TYPES = frozenset({c.ORDER_TYPE_BUY_STOP_LIMIT, c.ORDER_TYPE_SELL_STOP_LIMIT})
FILLING_TYPES = frozenset({c.ORDER_FILLING_FOK, c.ORDER_FILLING_IOC, c.ORDER_FILLING_RETURN, c.ORDER_FILLING_BOC})


def is_buy(order_type: int) -> bool:
    return order_type in _BUY_TYPES


def _eps(spec: SymbolSpec) -> float:
    return spec.point * 1e-3


def on_grid(value: float, step: float) -> bool:
    """True when ``value`` is a whole multiple of ``step`` (up to float noise)."""
    if step <= 0:
        return True
    ratio = value / step
    return abs(ratio - round(ratio)) < 1e-6


def volume_error(spec: SymbolSpec, volume: float) -> int:
    tolerance = spec.volume_step * 1e-6
    if volume < spec.volume_min - tolerance or volume > spec.volume_max + tolerance:
        return c.TRADE_RETCODE_INVALID_VOLUME
    if not on_grid(volume, spec.volume_step):
        return c.TRADE_RETCODE_INVALID_VOLUME
    return OK


def trade_mode_error(spec: SymbolSpec, order_type: int, *, opening: bool) -> int:
    mode = spec.trade_mode
    if mode == c.SYMBOL_TRADE_MODE_DISABLED:
        return c.TRADE_RETCODE_TRADE_DISABLED
    if not opening:
        return OK
    if mode == c.SYMBOL_TRADE_MODE_CLOSEONLY:
        return c.TRADE_RETCODE_CLOSE_ONLY
    if mode == c.SYMBOL_TRADE_MODE_LONGONLY and not is_buy(order_type):
        return c.TRADE_RETCODE_LONG_ONLY
    if mode == c.SYMBOL_TRADE_MODE_SHORTONLY and is_buy(order_type):
        return c.TRADE_RETCODE_SHORT_ONLY
    return OK


def filling_error(spec: SymbolSpec, type_filling: int, *, market: bool) -> int:
    """FOK/IOC/BOC need their bit in ``filling_mode``; RETURN is for pending orders (and exchange execution).

    Instant and request execution fill market orders Fill-or-Kill only.
    """
    allowed = spec.filling_mode
    exemode = spec.trade_exemode
    if type_filling not in FILLING_TYPES:
        return c.TRADE_RETCODE_INVALID_FILL
    if market and exemode in (c.SYMBOL_TRADE_EXECUTION_REQUEST, c.SYMBOL_TRADE_EXECUTION_INSTANT):
        ok = type_filling == c.ORDER_FILLING_FOK
    elif type_filling == c.ORDER_FILLING_FOK:
        ok = bool(allowed & c.SYMBOL_FILLING_FOK)
    elif type_filling == c.ORDER_FILLING_IOC:
        ok = bool(allowed & c.SYMBOL_FILLING_IOC)
    elif type_filling == c.ORDER_FILLING_BOC:
        ok = not market and bool(allowed & c.SYMBOL_FILLING_BOC)
    else:
        ok = not market or exemode == c.SYMBOL_TRADE_EXECUTION_EXCHANGE
    return OK if ok else c.TRADE_RETCODE_INVALID_FILL


def stops_error(spec: SymbolSpec, buy: bool, sl: float, tp: float, reference: float) -> int:
    """SL/TP against the price they are measured from: at least ``trade_stops_level`` away, right side.

    For positions the reference is the closing price (bid for BUY, ask for SELL); for pending orders it is
    the order's own price.
    """
    for level in (sl, tp):
        if level < 0 or not on_grid(level, spec.trade_tick_size):
            return c.TRADE_RETCODE_INVALID_STOPS
    distance = spec.trade_stops_level * spec.point - _eps(spec)
    if buy:
        bad_sl = sl > 0 and sl > reference - distance
        bad_tp = tp > 0 and tp < reference + distance
    else:
        bad_sl = sl > 0 and sl < reference + distance
        bad_tp = tp > 0 and tp > reference - distance
    return c.TRADE_RETCODE_INVALID_STOPS if bad_sl or bad_tp else OK


def pending_price_error(
    spec: SymbolSpec, order_type: int, price: float, stoplimit: float, bid: float, ask: float
) -> int:
    """Where a pending order may sit: limits below/above the market, stops beyond it, at least the stops
    level away (one point when the level is 0, so it cannot fill on placement)."""
    if price <= 0 or not on_grid(price, spec.trade_tick_size):
        return c.TRADE_RETCODE_INVALID_PRICE
    distance = max(spec.trade_stops_level, 1) * spec.point - _eps(spec)
    if order_type == c.ORDER_TYPE_BUY_LIMIT:
        ok = ask - price >= distance
    elif order_type == c.ORDER_TYPE_SELL_LIMIT:
        ok = price - bid >= distance
    elif order_type in (c.ORDER_TYPE_BUY_STOP, c.ORDER_TYPE_BUY_STOP_LIMIT):
        ok = price - ask >= distance
    else:
        ok = bid - price >= distance
    if ok and order_type in STOP_LIMIT_TYPES:
        if stoplimit <= 0 or not on_grid(stoplimit, spec.trade_tick_size):
            return c.TRADE_RETCODE_INVALID_PRICE
        ok = (price - stoplimit if order_type == c.ORDER_TYPE_BUY_STOP_LIMIT else stoplimit - price) >= distance
    return OK if ok else c.TRADE_RETCODE_INVALID_PRICE


def entry_price(order_type: int, price: float, stoplimit: float) -> float:
    """The price a pending order opens at (a stop-limit opens at its limit price)."""
    return stoplimit if order_type in STOP_LIMIT_TYPES else price


def position_frozen(spec: SymbolSpec, position: Position, bid: float, ask: float) -> bool:
    """Closing price within the freeze level of the position's SL or TP: no modifying, no closing."""
    freeze = spec.trade_freeze_level * spec.point
    if freeze <= 0:
        return False
    close = bid if position.type == c.POSITION_TYPE_BUY else ask
    return any(level > 0 and abs(close - level) <= freeze + _eps(spec) for level in (position.sl, position.tp))


def order_frozen(spec: SymbolSpec, order: PendingOrder, bid: float, ask: float) -> bool:
    """Market within the freeze level of a pending order's price: no modifying, no deleting."""
    freeze = spec.trade_freeze_level * spec.point
    if freeze <= 0:
        return False
    market = ask if is_buy(order.type) else bid
    return abs(market - order.price_open) <= freeze + _eps(spec)


def expiration_error(type_time: int, expiration: int, now: float) -> int:
    if type_time in (c.ORDER_TIME_GTC, c.ORDER_TIME_DAY):
        return OK
    if type_time == c.ORDER_TIME_SPECIFIED:
        return OK if expiration > now else c.TRADE_RETCODE_INVALID_EXPIRATION
    if type_time == c.ORDER_TIME_SPECIFIED_DAY:
        return (
            OK
            if expiration > 0 and expiration // 86_400 >= int(now) // 86_400
            else (c.TRADE_RETCODE_INVALID_EXPIRATION)
        )
    return c.TRADE_RETCODE_INVALID_EXPIRATION


def deviation_exceeded(spec: SymbolSpec, requested: float, market: float, deviation: int) -> bool:
    """A market order priced off the market by more than ``deviation`` points is requoted (0 = market)."""
    if requested == 0.0:
        return False
    return abs(requested - market) > deviation * spec.point + _eps(spec)
