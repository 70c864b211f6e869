"""The broker's rules for one symbol, applied before anything is sent (DTMS_SPEC.md §4, MT5_API.md §8)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from app.engine.model import Direction
from app.terminal import constants as mt5

_FILLING_FOK_FLAG = 1
_FILLING_IOC_FLAG = 2
_FOREX_MODES = frozenset({mt5.SYMBOL_CALC_MODE_FOREX, mt5.SYMBOL_CALC_MODE_FOREX_NO_LEVERAGE})
#: three-letter codes that quote like currencies in a symbol's name but are metals or crypto-currencies
_NOT_CURRENCIES = frozenset({"XAU", "XAG", "XPT", "XPD", "BTC", "ETH", "LTC", "XRP"})


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolRules:
    symbol: str
    digits: int
    point: float
    tick_size: float
    stops_level: int  # points
    freeze_level: int  # points
    volume_min: float
    volume_max: float
    volume_step: float
    filling_mode: int  # SYMBOL_FILLING_* bitmask
    tick_value: float = 0.0  # account money per tick_size move of one lot (0: unknown)
    exemode: int = mt5.SYMBOL_TRADE_EXECUTION_MARKET  # SYMBOL_TRADE_EXECUTION_*
    calc_mode: int | None = None  # SYMBOL_CALC_MODE_* (None: the terminal did not say)

    @classmethod
    def from_symbol_info(cls, info: Any) -> SymbolRules:
        tick_size = float(info.trade_tick_size) or float(info.point)
        return cls(
            symbol=str(info.name),
            digits=int(info.digits),
            point=float(info.point),
            tick_size=tick_size,
            stops_level=int(info.trade_stops_level),
            freeze_level=int(info.trade_freeze_level),
            volume_min=float(info.volume_min),
            volume_max=float(info.volume_max),
            volume_step=float(info.volume_step),
            filling_mode=int(info.filling_mode),
            tick_value=float(getattr(info, "trade_tick_value", 0.0) or 0.0),
            exemode=int(info.trade_exemode),
            calc_mode=None if (mode := getattr(info, "trade_calc_mode", None)) is None else int(mode),
        )

    @property
    def forex(self) -> bool:
        """A currency pair, whose distances traders count in pips. MT5's calculation mode says so; where it is
        unknown, a 3- or 5-digit quote named by two currency codes (a broker's suffix may follow) looks like one."""
        if self.calc_mode is not None:
            return self.calc_mode in _FOREX_MODES
        pair, suffix = self.symbol[:6], self.symbol[6:7]
        return (
            self.digits in (3, 5)
            and len(pair) == 6
            and pair.isalpha()
            and pair.isupper()
            and not suffix.isupper()
            and pair[:3] not in _NOT_CURRENCIES
            and pair[3:] not in _NOT_CURRENCIES
        )

    @property
    def pip(self) -> float:
        """A pip of a currency pair as traders count it: ten points on 3- and 5-digit quotes, one point
        otherwise (other symbols' distances are read in price, see ``forex``)."""
        return self.point * 10 if self.digits in (3, 5) else self.point

    def money(self, distance: float, volume: float) -> float | None:
        """Account money of a price ``distance`` on ``volume`` lots (None when the tick value is unknown)."""
        if self.tick_value <= 0 or self.tick_size <= 0:
            return None
        return distance / self.tick_size * self.tick_value * volume

    @property
    def stops_distance(self) -> float:
        return self.stops_level * self.point

    @property
    def freeze_distance(self) -> float:
        return self.freeze_level * self.point

    def round_price(self, price: float) -> float:
        """Nearest multiple of the tick size, at the symbol's digits."""
        ticks = round(price / self.tick_size)
        return round(ticks * self.tick_size, self.digits)

    def round_volume_down(self, volume: float) -> float:
        """Down to a multiple of volume_step (never up: a partial close must not exceed what was meant)."""
        steps = math.floor(volume / self.volume_step + 1e-9)
        decimals = max(0, -int(math.floor(math.log10(self.volume_step)))) if self.volume_step < 1 else 0
        return round(steps * self.volume_step, decimals + 2)

    def type_filling(self) -> int:
        """The filling policy for a market deal, as MetaQuotes' CTrade chooses it: instant and request execution
        take only FOK; otherwise FOK where the symbol allows it (all or nothing: a close or a hedge is never
        left half done by the policy itself), else IOC, and RETURN only under exchange execution."""
        if self.exemode in (mt5.SYMBOL_TRADE_EXECUTION_REQUEST, mt5.SYMBOL_TRADE_EXECUTION_INSTANT):
            return mt5.ORDER_FILLING_FOK
        if self.filling_mode & _FILLING_FOK_FLAG:
            return mt5.ORDER_FILLING_FOK
        if self.filling_mode & _FILLING_IOC_FLAG:
            return mt5.ORDER_FILLING_IOC
        if self.exemode == mt5.SYMBOL_TRADE_EXECUTION_EXCHANGE:
            return mt5.ORDER_FILLING_RETURN
        return mt5.ORDER_FILLING_FOK  # the symbol names no policy: FOK is what the server assumes by default

    def sl_allowed(self, direction: Direction, sl: float, bid: float, ask: float) -> bool:
        """An SL the server accepts now: on the right side of the closing price and outside the stops level."""
        if sl == 0.0:
            return True
        if direction is Direction.BUY:
            return sl <= bid - self.stops_distance and sl < bid
        return sl >= ask + self.stops_distance and sl > ask

    def clamp_sl(self, direction: Direction, sl: float, bid: float, ask: float) -> float:
        """The SL nearest to the wanted one that the stops level allows now (moved away from price if needed)."""
        gap = max(self.stops_distance, self.tick_size)
        if direction is Direction.BUY:
            return self._round_to_tick(min(sl, bid - gap), math.floor)
        return self._round_to_tick(max(sl, ask + gap), math.ceil)

    def _round_to_tick(self, price: float, how: Any) -> float:
        return round(
            how(price / self.tick_size - 1e-9 if how is math.ceil else price / self.tick_size + 1e-9) * self.tick_size,
            self.digits,
        )

    def frozen(self, direction: Direction, sl: float, tp: float, bid: float, ask: float) -> bool:
        """Inside the freeze level of the current SL or TP: the position cannot be modified or closed."""
        if self.freeze_level <= 0:
            return False
        price = bid if direction is Direction.BUY else ask
        distance = self.freeze_distance
        return any(level and abs(price - level) <= distance for level in (sl, tp))
