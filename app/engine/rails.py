"""Safety rails (DTMS_SPEC.md §5): while one is tripped DTMS adds no risk (no hedge, no re-add) but keeps
protecting (SL moves and closes go on). Deposits and withdrawals are not losses."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from app.engine.settings import RailSettings
from app.terminal import constants as mt5

_TRADE_DEALS = (mt5.DEAL_TYPE_BUY, mt5.DEAL_TYPE_SELL)
_EXITS = (mt5.DEAL_ENTRY_OUT, mt5.DEAL_ENTRY_INOUT, mt5.DEAL_ENTRY_OUT_BY)


class Rail(StrEnum):
    DAILY_LOSS = "daily_loss"
    HOURLY_LOSS = "hourly_loss"
    STOP_OUTS = "consecutive_stop_outs"
    SPREAD = "spread"
    STALE_BARS = "stale_bars"
    BLACKOUT = "blackout"
    #: the terminal or the broker does not let DTMS trade (Algo Trading off, expert trading disabled)
    TRADING_PERMISSION = "trading_permission"
    #: the terminal is up but has lost its broker's server: no prices, every order would answer 10031
    BROKER_LINK = "broker_link"


#: Rails under which nothing at all is sent: the terminal would refuse every request.
SENDING_RAILS = frozenset({Rail.TRADING_PERMISSION, Rail.BROKER_LINK})


@dataclass(frozen=True, slots=True, kw_only=True)
class RailStatus:
    rail: Rail
    tripped: bool
    detail: str
    symbol: str | None = None

    def payload(self) -> dict[str, Any]:
        """The RAIL event telling of this status."""
        return {"rail": self.rail.value, "symbol": self.symbol, "tripped": self.tripped, "detail": self.detail}


def realized_profit(deals: Iterable[Any], since: float) -> float:
    """Profit of closing trade deals since ``since``; balance operations (deposits, withdrawals) excluded."""
    total = 0.0
    for deal in deals:
        if int(deal.type) in _TRADE_DEALS and int(deal.entry) in _EXITS and float(deal.time) >= since:
            total += float(deal.profit) + float(deal.swap) + float(deal.commission) + float(deal.fee)
    return total


def consecutive_stop_outs(deals: Iterable[Any]) -> int:
    """How many of the latest closing deals in a row were losing stop-loss exits."""
    exits = sorted(
        (d for d in deals if int(d.type) in _TRADE_DEALS and int(d.entry) in _EXITS),
        key=lambda d: (int(d.time_msc), int(d.ticket)),
        reverse=True,
    )
    count = 0
    for deal in exits:
        if int(deal.reason) == mt5.DEAL_REASON_SL and float(deal.profit) < 0:
            count += 1
        else:
            break
    return count


class SafetyRails:
    def __init__(self, settings: RailSettings) -> None:
        self._settings = settings
        self._status: dict[tuple[Rail, str | None], RailStatus] = {}

    @property
    def settings(self) -> RailSettings:
        return self._settings

    def update_settings(self, settings: RailSettings) -> None:
        self._settings = settings

    def evaluate_account(
        self, *, balance: float, floating: float, deals: Iterable[Any], now: float
    ) -> list[RailStatus]:
        """Loss and stop-out rails from the day's deals; returns the rails whose state changed."""
        deals = list(deals)
        day_start = now - now % 86400
        changes = []
        for rail, since, limit in (
            (Rail.DAILY_LOSS, day_start, self._settings.daily_loss_pct),
            (Rail.HOURLY_LOSS, now - 3600, self._settings.hourly_loss_pct),
        ):
            loss = -(realized_profit(deals, since) + min(floating, 0.0))
            pct = 100.0 * loss / balance if balance > 0 else 0.0
            changes += self._set(rail, None, pct >= limit, f"loss {max(pct, 0):.2f} % of balance (limit {limit:g} %)")
        stop_outs = consecutive_stop_outs(deals)
        limit_n = self._settings.max_consecutive_stopouts
        changes += self._set(
            Rail.STOP_OUTS, None, stop_outs >= limit_n, f"{stop_outs} losing stop-outs in a row (limit {limit_n})"
        )
        in_blackout = any(start <= now < end for start, end in self._settings.blackouts)
        changes += self._set(Rail.BLACKOUT, None, in_blackout, "manual blackout window" if in_blackout else "")
        return changes

    def evaluate_symbol(
        self, symbol: str, *, spread: float, spread_median: float | None, bar_age_s: float | None
    ) -> list[RailStatus]:
        changes = []
        wide = (
            spread_median is not None
            and spread_median > 0
            and spread > self._settings.spread_median_multiple * spread_median
        )
        detail = f"spread {spread:.6g} vs median {spread_median:.6g}" if spread_median else "spread normal"
        changes += self._set(Rail.SPREAD, symbol, wide, detail)
        stale = bar_age_s is not None and bar_age_s > self._settings.max_bar_age_s
        changes += self._set(
            Rail.STALE_BARS, symbol, stale, f"last bar {bar_age_s:.0f} s old" if bar_age_s is not None else "no bars"
        )
        return changes

    def forget_symbols(self, kept: Collection[str]) -> list[RailStatus]:
        """Drop the rails of every symbol not in ``kept`` (its last trade is gone, so nothing reads them any
        more); one still tripped comes back cleared, so the trader is not told of it for ever."""
        cleared = []
        for key in [key for key in self._status if key[1] is not None and key[1] not in kept]:
            status = self._status.pop(key)
            if status.tripped:
                cleared.append(replace(status, tripped=False, detail=f"no trade on {status.symbol} left"))
        return cleared

    def evaluate_terminal(self, rail: Rail, problem: str) -> list[RailStatus]:
        """A terminal rail (permission, broker link) from what the terminal shows: tripped while ``problem``."""
        return self._set(rail, None, bool(problem), problem or "fine")

    def sending_blocked(self) -> str:
        """Why nothing can be sent now ("" when orders can go out)."""
        for rail in SENDING_RAILS:
            status = self._status.get((rail, None))
            if status is not None and status.tripped:
                return status.detail
        return ""

    def risk_allowed(self, symbol: str) -> tuple[bool, str]:
        """May DTMS add risk on ``symbol`` now? If not, which rail says no."""
        for (rail, rail_symbol), status in self._status.items():
            if status.tripped and rail_symbol in (None, symbol):
                return False, f"{rail.value}: {status.detail}"
        return True, ""

    def snapshot(self) -> list[RailStatus]:
        return list(self._status.values())

    def _set(self, rail: Rail, symbol: str | None, tripped: bool, detail: str) -> list[RailStatus]:
        key = (rail, symbol)
        previous = self._status.get(key)
        status = RailStatus(rail=rail, tripped=tripped, detail=detail, symbol=symbol)
        self._status[key] = status
        return [status] if previous is None and tripped or previous is not None and previous.tripped != tripped else []
