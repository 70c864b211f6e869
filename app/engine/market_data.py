"""Per-symbol market data the engine shares between trades: broker rules, recent bars, ATR, spreads.

Bars are fetched once per symbol and timeframe when a new bar has closed (never once per trade), so the
fast cycle stays at one positions_get plus one tick per symbol.
"""

from __future__ import annotations

import logging
import math
import statistics
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from app.engine.broker import SymbolRules
from app.engine.indicators import atr as atr_series
from app.errors import RejectedError, TemporaryError
from app.terminal import constants as mt5
from app.terminal.replies import Reply, require

logger = logging.getLogger(__name__)

M5_SECONDS = 300
M15_SECONDS = 900


class BarsGateway(Protocol):
    async def symbol_select(self, symbol: str) -> bool: ...
    async def symbol_info(self, symbol: str) -> Any: ...
    async def rates_many(self, asked: Sequence[tuple[str, int, int, int]]) -> list[Reply]: ...


@dataclass(slots=True)
class SymbolData:
    rules: SymbolRules
    m5: np.ndarray | None = None
    m15: np.ndarray | None = None
    atr_m15: float | None = None
    spreads: deque[float] = field(default_factory=lambda: deque(maxlen=300))
    bid: float = 0.0
    ask: float = 0.0
    tick_time: float = 0.0
    #: when the last tick was noted (``time.monotonic()``; 0.0 never)
    noted_at: float = 0.0

    @property
    def last_m5_time(self) -> int:
        return int(self.m5["time"][-1]) if self.m5 is not None and len(self.m5) else 0

    @property
    def last_m15_time(self) -> int:
        return int(self.m15["time"][-1]) if self.m15 is not None and len(self.m15) else 0

    def spread_median(self) -> float | None:
        return statistics.median(self.spreads) if len(self.spreads) >= 10 else None


class MarketData:
    def __init__(
        self, gateway: BarsGateway, *, atr_period: int = 14, m5_count: int = 600, m15_count: int = 300
    ) -> None:
        self._gateway = gateway
        self._atr_period = atr_period
        self._m5_count = m5_count
        self._m15_count = m15_count
        self._symbols: dict[str, SymbolData] = {}
        #: rules of symbols only shown, never managed in this run (a closed trade's after a restart)
        self._shown: dict[str, SymbolRules] = {}

    def get(self, symbol: str) -> SymbolData | None:
        return self._symbols.get(symbol)

    def symbols(self) -> list[str]:
        return list(self._symbols)

    def rules(self, symbol: str) -> SymbolRules | None:
        """The symbol's rules: a managed symbol's, or those ``learn`` read (None before either)."""
        data = self._symbols.get(symbol)
        return data.rules if data is not None else self._shown.get(symbol)

    def digits(self, symbol: str) -> int | None:
        """The symbol's price digits (None before its rules are read)."""
        rules = self.rules(symbol)
        return rules.digits if rules is not None else None

    async def learn(self, symbol: str) -> SymbolRules | None:
        """The rules of a symbol that is only shown: read once from the terminal (no Market Watch, no bars) and
        kept; None while the terminal cannot say (not connected, no such symbol)."""
        rules = self.rules(symbol)
        if rules is None:
            try:
                rules = SymbolRules.from_symbol_info(await self._gateway.symbol_info(symbol))
            except (TemporaryError, RejectedError) as error:
                logger.debug("rules of %s not read: %s", symbol, error)
                return None
            self._shown[symbol] = rules
        return rules

    async def ensure(self, symbol: str) -> SymbolData:
        """Rules and a bar backfill for a symbol, fetched the first time it is needed. The symbol is put in
        Market Watch first: outside it the terminal has no tick for it."""
        data = self._symbols.get(symbol)
        if data is None:
            await self._gateway.symbol_select(symbol)
            info = await self._gateway.symbol_info(symbol)
            data = SymbolData(rules=SymbolRules.from_symbol_info(info))
            self._symbols[symbol] = data
            self._shown.pop(symbol, None)
            await self.refresh_bars(symbol, force=True)
        return data

    async def reselect(self, symbol: str) -> None:
        """Put the symbol back in Market Watch (the trader may have removed it, or the terminal restarted)."""
        await self._gateway.symbol_select(symbol)

    async def refresh_rules(self, symbol: str) -> None:
        data = self._symbols.get(symbol)
        if data is not None:
            data.rules = SymbolRules.from_symbol_info(await self._gateway.symbol_info(symbol))

    def note_tick(self, symbol: str, tick: Any) -> None:
        data = self._symbols.get(symbol)
        if data is None:
            return
        data.bid, data.ask = float(tick.bid), float(tick.ask)
        data.tick_time = float(tick.time_msc) / 1000.0 if getattr(tick, "time_msc", 0) else float(tick.time)
        data.spreads.append(data.ask - data.bid)
        data.noted_at = time.monotonic()

    def bars_stale(self, symbol: str) -> bool:
        """True once the bar that was forming at the last fetch has closed."""
        data = self._symbols[symbol]
        return data.tick_time >= data.last_m5_time + M5_SECONDS

    async def refresh_bars(self, symbol: str, *, force: bool = False) -> bool:
        """Fetch M5 and M15 bars if a bar has closed since the last fetch; returns True if refreshed."""
        found = (await self.refresh_bars_many([symbol], force=force))[symbol]
        if isinstance(found, Exception):
            raise found
        return found

    async def refresh_bars_many(
        self, symbols: Sequence[str], *, force: bool = False
    ) -> dict[str, bool | TemporaryError | RejectedError]:
        """M5 and M15 bars of each symbol whose bar closed since its last fetch (every one with ``force``), all in
        one round trip to the terminal's worker. Per symbol: True once refreshed, False when none was due, or the
        error that kept its bars as they were (both series or neither). A lost terminal raises."""
        found: dict[str, bool | TemporaryError | RejectedError] = dict.fromkeys(symbols, False)
        due = [symbol for symbol in symbols if force or self.bars_stale(symbol)]
        if not due:
            return found
        series = ((mt5.TIMEFRAME_M5, self._m5_count), (mt5.TIMEFRAME_M15, self._m15_count))
        replies = iter(
            await self._gateway.rates_many([(symbol, frame, 0, count) for symbol in due for frame, count in series])
        )
        for symbol in due:
            m5_reply, m15_reply = next(replies), next(replies)
            try:
                m5, m15 = require("copy_rates_from_pos", m5_reply), require("copy_rates_from_pos", m15_reply)
            except (TemporaryError, RejectedError) as error:
                found[symbol] = error
                continue
            data = self._symbols[symbol]
            data.m5, data.m15 = m5, m15
            data.atr_m15 = self._atr(m15)
            found[symbol] = True
        return found

    def _atr(self, bars: np.ndarray | None) -> float | None:
        if bars is None or len(bars) <= self._atr_period + 1:
            return None
        # the last row is the forming bar: ATR is taken over closed bars
        closed = bars[:-1]
        values = atr_series(closed["high"], closed["low"], closed["close"], self._atr_period)
        value = float(values[-1])
        return value if math.isfinite(value) and value > 0 else None
