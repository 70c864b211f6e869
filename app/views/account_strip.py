"""The account strip, always in view under the banner: balance, equity, floating P/L, margin level, the profit
realised today (every closing deal of the terminal's day), and what the protected trades can still lose: the
distance from the price to each trade's SL times its money value, in total and per symbol.

The account is read from the terminal every ``ACCOUNT_REFRESH_S`` and the day's deals and the symbols' money
values every ``SLOW_REFRESH_S``, on tasks of their own (never inside the engine's cycle); the open risk is
computed from the engine's trades and prices at each account refresh.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QWidget

from app.engine.model import Direction, Trade
from app.engine.rails import realized_profit
from app.tasks import TaskKeeper
from app.views.bridge import EngineBridge
from app.views.palette import money_colour

logger = logging.getLogger(__name__)

_SYMBOL, _SL, _VOLUME, _DIRECTION = (attrgetter(name) for name in ("symbol", "sl", "volume", "direction"))

ACCOUNT_REFRESH_S = 2.0
SLOW_REFRESH_S = 15.0
DAY_S = 86_400
#: symbols named in the strip itself (all of them in its tooltip)
SYMBOLS_SHOWN = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenRisk:
    """Money lost if every protected trade's SL were hit from the current price."""

    total: float
    by_symbol: dict[str, float]
    without_sl: int


def open_risk(
    trades: Iterable[Trade], prices: dict[str, tuple[float, float]], money_per_price: dict[str, float]
) -> OpenRisk:
    """``prices``: (bid, ask) per symbol; ``money_per_price``: account money per 1.0 price move of one lot.
    Summed per symbol in numpy, the trades' fields read in C: refreshed every ``ACCOUNT_REFRESH_S``, a loop
    in Python over 10,000 trades held the window about 10 ms each time."""
    trades = list(trades)
    count = len(trades)
    symbols = list(map(_SYMBOL, trades))
    names = list(dict.fromkeys(symbols))  # first seen first: equal risks keep that order
    code = np.fromiter(map({name: i for i, name in enumerate(names)}.__getitem__, symbols), dtype=np.int64, count=count)
    sl = np.fromiter(map(_SL, trades), dtype=float, count=count)
    volume = np.fromiter(map(_VOLUME, trades), dtype=float, count=count)
    buy = np.fromiter(map(Direction.BUY.__eq__, map(_DIRECTION, trades)), dtype=bool, count=count)
    has_sl = sl != 0
    by_symbol: dict[str, float] = {}
    for i, symbol in enumerate(names):
        quote, value = prices.get(symbol), money_per_price.get(symbol)
        mask = (code == i) & has_sl
        if quote is None or value is None or not mask.any():
            continue
        closing = np.where(buy[mask], quote[0], quote[1])  # a BUY closes at the bid, a SELL at the ask
        by_symbol[symbol] = float(np.abs(closing - sl[mask]) @ volume[mask]) * value
    return OpenRisk(
        total=sum(by_symbol.values()),
        by_symbol=dict(sorted(by_symbol.items(), key=lambda kv: -kv[1])),
        without_sl=int(count - np.count_nonzero(has_sl)),
    )


async def money_per_price(gateway: Any, symbol: str) -> float | None:
    """Account money per 1.0 price move of one lot of ``symbol`` (tick value / tick size)."""
    info = await gateway.symbol_info(symbol)
    if info is None or float(info.trade_tick_size) <= 0:
        return None
    return float(info.trade_tick_value) / float(info.trade_tick_size)


def money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


class AccountStrip(QFrame):
    """``gateway`` answers ``account_info()``, ``symbol_info(symbol)`` and ``history_deals(from, to)``."""

    NAMES = ("Balance", "Equity", "Floating", "Margin level", "Realised today", "Open risk")

    def __init__(self, bridge: EngineBridge, gateway: Any | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("accountStrip")
        self._engine = bridge.engine
        self._gateway = gateway
        self._tasks = TaskKeeper("account-strip")
        self._money_per_price: dict[str, float] = {}
        self._closed_today: float | None = None
        self._slow_at = 0.0
        self._busy = False
        self.currency = ""
        self.risk = OpenRisk(total=0.0, by_symbol={}, without_sl=0)
        self.values: dict[str, QLabel] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 8, 2)
        layout.setSpacing(6)
        tips = {
            "Floating": "Profit or loss of the open positions (equity - balance)",
            "Margin level": "Equity / used margin; the broker stops out below its limit",
            "Realised today": "Profit realised since the start of the terminal's day: every closing deal, partial "
            "closes of trades still open included (deposits and withdrawals left out)",
            "Open risk": "What the protected trades lose if every SL is hit from the current price "
            "(distance to SL x value per point x volume)",
        }
        for name in self.NAMES:
            title = QLabel(name)
            title.setObjectName("accountName")
            value = QLabel("-")
            value.setObjectName("accountValue")
            for label in (title, value):
                label.setToolTip(tips.get(name, ""))
            self.values[name] = value
            layout.addWidget(title)
            layout.addWidget(value, 1 if name == "Open risk" else 0)
            layout.addSpacing(10)
        # the per-symbol list gives way on a narrow window (all of it stays in the tooltip); the strip never
        # makes the window wider than the screen
        risk = self.values["Open risk"]
        risk.setMinimumWidth(0)
        risk.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._timer = QTimer(self)
        self._timer.setInterval(int(ACCOUNT_REFRESH_S * 1000))
        self._timer.timeout.connect(self.refresh)
        if gateway is not None:
            self._timer.start()

    def text(self, name: str) -> str:
        return self.values[name].text()

    def refresh(self) -> None:
        """Start a read of the account (skipped while one is running or the engine is not READY)."""
        if self._busy or not self._engine.ready or self._gateway is None:
            return
        self._busy = True
        self._tasks.spawn(self.load(), "account")

    async def load(self) -> None:
        """Read the account (and, every ``SLOW_REFRESH_S``, the day's deals and money values) and show them."""
        try:
            assert self._gateway is not None  # refresh() starts a load only with a gateway
            account = await self._gateway.account_info()
            if time.monotonic() - self._slow_at >= SLOW_REFRESH_S or self._missing_values():
                await self._load_slow()
        except Exception as error:  # a lost terminal shows in the banner; keep the last figures
            logger.debug("account strip: %s", error)
            return
        finally:
            self._busy = False
        self.show_account(account)

    def _symbols(self) -> set[str]:
        """The symbols of the managed trades (collected in C: a loop over 10,000 trades took milliseconds)."""
        return set(map(_SYMBOL, self._engine.trades()))

    def _missing_values(self) -> bool:
        return not self._symbols() <= self._money_per_price.keys()

    async def _load_slow(self) -> None:
        assert self._gateway is not None  # called from load() only
        self._slow_at = time.monotonic()
        now = self._engine.clock.now()
        day_start = now - now % DAY_S
        deals = await self._gateway.history_deals(int(day_start), int(now) + 60)
        self._closed_today = realized_profit(deals or (), day_start)
        for symbol in sorted(self._symbols()):
            value = await money_per_price(self._gateway, symbol)
            if value is not None:
                self._money_per_price[symbol] = value

    def show_account(self, account: Any) -> None:
        self.currency = str(getattr(account, "currency", ""))
        balance, equity = float(account.balance), float(account.equity)
        floating = equity - balance
        level = float(account.margin_level)
        self._set("Balance", f"{money(balance)} {self.currency}")
        self._set("Equity", money(equity))
        self._set("Floating", f"{floating:+z,.2f}", floating)
        self._set("Margin level", f"{level:,.0f} %" if float(account.margin) > 0 else "no margin used")
        self._set(
            "Realised today", "-" if self._closed_today is None else f"{self._closed_today:+z,.2f}", self._closed_today
        )
        prices = {}
        for symbol in self._symbols():
            data = self._engine.market.get(symbol)
            if data is not None and data.bid:
                prices[symbol] = (float(data.bid), float(data.ask))
        self.risk = open_risk(self._engine.trades(), prices, self._money_per_price)
        self._show_risk()

    def _show_risk(self) -> None:
        risk = self.risk
        parts = [f"{money(risk.total)}"]
        named = list(risk.by_symbol.items())
        if named:
            shown = ", ".join(f"{s} {money(v)}" for s, v in named[:SYMBOLS_SHOWN])
            parts.append(f"({shown}{', ...' if len(named) > SYMBOLS_SHOWN else ''})")
        if risk.without_sl:
            parts.append(f"+ {risk.without_sl} without SL")
        self.values["Open risk"].setText(" ".join(parts))
        self.values["Open risk"].setToolTip(
            "\n".join(
                ["Loss if every SL is hit from the current price:"]
                + [f"{s}: {money(v)} {self.currency}" for s, v in named]
                + ([f"{risk.without_sl} trades without SL (unlimited)"] if risk.without_sl else [])
            )
        )

    def _set(self, name: str, text: str, signed: float | None = None) -> None:
        label = self.values[name]
        label.setText(text)
        colour = money_colour(signed).name() if signed else ""
        label.setStyleSheet(f"color: {colour};" if colour else "")

    async def close_tasks(self) -> None:
        self._timer.stop()
        await self._tasks.cancel_all(timeout=1.0)
