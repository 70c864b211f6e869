"""Deep checks (DTMS_SPEC.md §2.3): score each trade and run the defensive state machine.

A trade is checked at an M5 bar close, at most every ``deep_min_spacing_s`` (15 min), or earlier when the
fast cycle's signal asks for it (price far from entry, VWAP slope with price on the wrong side), with a
``forced_cooldown_s`` (10 min) after a forced check, and never twice on the same closed bars. The bars are
the engine's shared per-symbol arrays (refreshed at bar close by the fast cycle); the indicators are
computed once per symbol and bar and every trade on the symbol is scored from that one analysis.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from app.engine.defense.actions import PENDING_PREFIX, DefenseActions
from app.engine.defense.rules import decayed_warnings, decide
from app.engine.market_data import M5_SECONDS, MarketData, SymbolData
from app.engine.model import Trade
from app.engine.rails import SafetyRails
from app.engine.recorder import Recorder
from app.engine.registry import DTMS
from app.engine.scoring.score import Score, ScoringSettings, SymbolAnalysis, early_check_wanted, score_trade_with
from app.engine.settings import EngineSettings
from app.errors import TemporaryError
from app.terminal import constants as mt5

logger = logging.getLogger(__name__)

DEEP_CHECK_BUDGET_S = 0.05
DEEP_CHECK_MIN_PER_CYCLE = 5


class DeepCheckGateway(Protocol):
    async def account_info(self) -> Any: ...
    async def symbol_info(self, symbol: str) -> Any: ...
    async def call(self, fn: str, *args: Any, **kwargs: Any) -> Any: ...


class DefenseDeepCheck:
    """The engine's ``DeepCheck``: plugged into ``FastCycle.deep_check``."""

    def __init__(
        self,
        *,
        gateway: DeepCheckGateway,
        market: MarketData,
        actions: DefenseActions,
        rails: SafetyRails,
        recorder: Recorder,
        settings: Callable[[], EngineSettings],
    ) -> None:
        self._gateway = gateway
        self._market = market
        self._actions = actions
        self._rails = rails
        self._recorder = recorder
        self._settings = settings
        self._analyses: dict[str, tuple[tuple[int, int, int], SymbolAnalysis]] = {}
        self._bar_seen: dict[str, int] = {}
        self._hedging: bool | None = None
        self._trade_flags: dict[str, bool] = {}
        self._calls = 0
        self.analyses_computed = 0  # how many symbol analyses were computed (shared between trades)
        self.checks = 0  # how many trade checks ran
        self.tick_fetches = 0  # how many times trade ticks were fetched for the order flow
        #: wall time a cycle's deep checks may take; the rest of the trades due wait for the next cycle
        self.budget_s = DEEP_CHECK_BUDGET_S
        self.min_checks = DEEP_CHECK_MIN_PER_CYCLE  # checked whatever the time (a few trades never wait)
        self._deferred: set[int] = set()  # tickets whose bar closed but whose check did not fit its cycle

    async def after_fast_cycle(self, trades: list[Trade], positions: dict[int, Any], now: float) -> int:
        """Checks run until ``budget_s`` is spent; trades whose bar closed but did not fit are checked first in
        the next cycles, so a bar close with many trades never holds up the next cycle's profit protection."""
        calls = self._calls = 0
        started = time.perf_counter()
        by_symbol: dict[str, list[Trade]] = {}
        for trade in trades:
            if trade.ticket not in positions or (trade.pending_action or "").startswith(PENDING_PREFIX):
                continue  # gone (archived at the next cycle), or a transition to settle first (reconciliation)
            by_symbol.setdefault(trade.symbol, []).append(trade)
        queue: list[tuple[Trade, SymbolData, bool]] = []
        for symbol, group in sorted(by_symbol.items()):
            data = self._market.get(symbol)
            if data is None or data.m5 is None or data.m15 is None or not len(data.m5) or not data.bid:
                continue
            bar = int(now // M5_SECONDS)
            bar_closed = self._bar_seen.get(symbol) != bar
            self._bar_seen[symbol] = bar
            queue += [(trade, data, bar_closed or trade.ticket in self._deferred) for trade in group]
        queue.sort(key=lambda item: item[0].ticket not in self._deferred)  # deferred first, order kept otherwise
        deferred: set[int] = set()
        unchanged: list[Trade] = []
        checked = 0
        for trade, data, bar_closed in queue:
            if checked >= self.min_checks and time.perf_counter() - started > self.budget_s:
                if bar_closed:
                    deferred.add(trade.ticket)
                continue
            before = self.checks
            try:
                calls += await self._check(trade, data, now, bar_closed, unchanged)
            except TemporaryError:
                # a trade already checked is not checked twice on the same bars: keeping them all due is safe
                self._deferred = {t.ticket for t, _, closed in queue if closed}
                raise
            except Exception:
                logger.exception("deep check of ticket %s failed", trade.ticket)
            checked += self.checks - before
        self._deferred = deferred
        for trade in unchanged:
            # a score, check times and decayed warnings the next check recomputes: written with the trade's next write
            self._recorder.touch(trade, figures=True)
        return calls + self._calls

    @property
    def waiting(self) -> int:
        """Trades whose bar closed and whose check waits for a later cycle."""
        return len(self._deferred)

    async def settle(self, trade: Trade, positions: dict[int, Any]) -> bool:
        return await self._actions.settle(trade, positions)

    async def analysis(self, symbol: str, data: SymbolData, now: float) -> SymbolAnalysis:
        """The symbol's analysis at its last closed bars, computed once per symbol and bar, with the trade
        ticks of those bars where the symbol has real trade flags (order flow)."""
        key = (data.last_m5_time, data.last_m15_time, int(now // M5_SECONDS))
        scoring = self._settings().scoring
        cached = self._analyses.get(symbol)
        if cached is not None and cached[0] == key and cached[1].settings is scoring:
            return cached[1]
        flags = await self._has_trade_flags(symbol)
        ticks = await self._trade_ticks(symbol, now, scoring) if flags else None
        # after_fast_cycle() checks only symbols with bars, and a fetch never takes them away again
        assert data.m5 is not None and data.m15 is not None
        analysis = SymbolAnalysis.compute(data.m5, data.m15, ticks, symbol, now, scoring, flags)
        self._analyses[symbol] = (key, analysis)
        self.analyses_computed += 1
        return analysis

    def last_score(self, trade: Trade) -> Score | None:
        """The trade scored on its symbol's last analysis (the one its last deep check used, or a newer one),
        with every component; None before the symbol was first analysed."""
        cached = self._analyses.get(trade.symbol)
        data = self._market.get(trade.symbol)
        if cached is None or data is None or not data.bid:
            return None
        return score_trade_with(cached[1], trade.direction, bid=data.bid, ask=data.ask)

    async def _has_trade_flags(self, symbol: str) -> bool:
        """Whether the symbol's ticks carry real buy/sell flags: it quotes a last trade price (exchange and
        crypto symbols do; most forex feeds quote bid and ask only). Asked once per symbol."""
        known = self._trade_flags.get(symbol)
        if known is None:
            info = await self._gateway.symbol_info(symbol)
            self._calls += 1
            known = float(info.last) > 0.0 or int(info.chart_mode) == mt5.SYMBOL_CHART_MODE_LAST
            self._trade_flags[symbol] = known
        return known

    async def _trade_ticks(self, symbol: str, now: float, scoring: ScoringSettings) -> np.ndarray | None:
        """The trade ticks of the closed M5 bars the order flow is read from; None when they cannot be had
        (the delta is then marked unavailable)."""
        bars = max(scoring.delta.lookback_bars, scoring.vwap.volume_window_bars)
        end = int(now) - int(now) % M5_SECONDS
        limit = self._settings().cycle.flow_ticks_max
        reply = await self._gateway.call(
            "copy_ticks_from", symbol, end - bars * M5_SECONDS, limit, mt5.COPY_TICKS_TRADE
        )
        self._calls += 1
        self.tick_fetches += 1
        if not reply.ok:
            logger.warning("%s: no trade ticks for the order flow: %s", symbol, reply.error)
            return None
        if len(reply.value) >= limit:
            logger.warning("%s: more than %d trade ticks in %d bars; order flow left out", symbol, limit, bars)
            return None
        return reply.value

    async def _check(self, trade: Trade, data: SymbolData, now: float, bar_closed: bool, unchanged: list[Trade]) -> int:
        cycle = self._settings().cycle
        regular = bar_closed and (
            trade.last_deep_check_at is None
            or _bar_start(now) - _bar_start(trade.last_deep_check_at) >= cycle.deep_min_spacing_s
        )
        forced = False
        if not regular:
            cooled = trade.last_forced_check_at is None or now - trade.last_forced_check_at >= cycle.forced_cooldown_s
            # a check on the bars the last one already scored would only repeat its score and take the state
            # machine a second step on the same evidence
            new_bars = trade.last_deep_check_at is None or _bar_start(now) > _bar_start(trade.last_deep_check_at)
            if not (cooled and new_bars):
                return 0
            vwap = (await self.analysis(trade.symbol, data, now)).vwap
            forced = early_check_wanted(
                trade.direction, trade.entry, trade.closing_price(data.bid, data.ask), vwap, self._settings().scoring
            )
            if not forced:
                return 0
        analysis = await self.analysis(trade.symbol, data, now)
        score = score_trade_with(analysis, trade.direction, bid=data.bid, ask=data.ask)
        self.checks += 1
        trade.score, trade.score_explanation = score.total, score.explanation
        trade.last_deep_check_at = trade.last_evaluated_at = now
        if forced:
            trade.last_forced_check_at = now
        trade.warnings, trade.last_warning_at = decayed_warnings(trade, now, self._settings().defense)
        if trade.managed_by != DTMS or trade.dtms_paused:
            unchanged.append(trade)  # watched and scored, never acted on
            return 0
        calls = 0
        if self._hedging is None:
            account = await self._gateway.account_info()
            calls += 1
            self._hedging = int(account.margin_mode) == mt5.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING
        allowed, rail = self._rails.risk_allowed(trade.symbol)
        atr = analysis.atr if analysis.atr == analysis.atr else data.atr_m15
        decision = decide(
            trade,
            score,
            now,
            self._settings().defense,
            hedging_account=self._hedging,
            atr=atr,
            risk_block="" if allowed else rail,
        )
        if decision is None:
            unchanged.append(trade)
            return calls
        logger.info("ticket %s: %s -> %s (%s)", trade.ticket, decision.from_state, decision.to_state, decision.reason)
        return calls + await self._actions.carry_out(
            trade, decision, rules=data.rules, bid=data.bid, ask=data.ask, hedging_account=self._hedging
        )


def _bar_start(at: float) -> float:
    return at - at % M5_SECONDS
