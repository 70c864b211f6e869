"""Deep checks (DTMS_SPEC.md §2.3): score each trade and run the defensive state machine.

A trade is checked at an M5 bar close, at most every ``deep_min_spacing_s`` (15 min), or earlier when the
fast cycle's signal asks for it (price far from entry, VWAP slope with price on the wrong side), with a
``forced_cooldown_s`` (10 min) after a forced check, and never twice on the same closed bars. The bars are
the engine's shared per-symbol arrays (refreshed at bar close by the fast cycle); the indicators are
computed once per symbol and bar and every trade on the symbol is scored from that one analysis.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from app.engine.defense import decayed_warnings, decide
from app.engine.defense_actions import PENDING_PREFIX, DefenseActions
from app.engine.market_data import M5_SECONDS, MarketData, SymbolData
from app.engine.model import Trade
from app.engine.rails import SafetyRails
from app.engine.recorder import Recorder
from app.engine.registry import DTMS
from app.engine.scoring import SymbolAnalysis, early_check_wanted, score_trade_with
from app.engine.settings import EngineSettings
from app.errors import TemporaryError
from app.terminal import constants as mt5

logger = logging.getLogger(__name__)


class AccountGateway(Protocol):
    async def account_info(self) -> Any: ...


class DefenseDeepCheck:
    """The engine's ``DeepCheck``: plugged into ``FastCycle.deep_check``."""

    def __init__(
        self,
        *,
        gateway: AccountGateway,
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
        self.analyses_computed = 0  # how many symbol analyses were computed (shared between trades)
        self.checks = 0  # how many trade checks ran

    async def after_fast_cycle(self, trades: list[Trade], positions: dict[int, Any], now: float) -> int:
        calls = 0
        by_symbol: dict[str, list[Trade]] = {}
        for trade in trades:
            if trade.ticket not in positions or (trade.pending_action or "").startswith(PENDING_PREFIX):
                continue  # gone (archived at the next cycle), or a transition to settle first (reconciliation)
            by_symbol.setdefault(trade.symbol, []).append(trade)
        unchanged: list[Trade] = []
        for symbol, group in sorted(by_symbol.items()):
            data = self._market.get(symbol)
            if data is None or data.m5 is None or data.m15 is None or not len(data.m5) or not data.bid:
                continue
            bar = int(now // M5_SECONDS)
            bar_closed = self._bar_seen.get(symbol) != bar
            self._bar_seen[symbol] = bar
            for trade in group:
                try:
                    calls += await self._check(trade, data, now, bar_closed, unchanged)
                except TemporaryError:
                    raise
                except Exception:
                    logger.exception("deep check of ticket %s failed", trade.ticket)
        await self._recorder.save_many(unchanged)
        return calls

    async def settle(self, trade: Trade, positions: dict[int, Any]) -> bool:
        return await self._actions.settle(trade, positions)

    def analysis(self, symbol: str, data: SymbolData, now: float) -> SymbolAnalysis:
        """The symbol's analysis at its last closed bars, computed once per symbol and bar."""
        key = (data.last_m5_time, data.last_m15_time, int(now // M5_SECONDS))
        scoring = self._settings().scoring
        cached = self._analyses.get(symbol)
        if cached is not None and cached[0] == key and cached[1].settings is scoring:
            return cached[1]
        analysis = SymbolAnalysis.compute(data.m5, data.m15, None, symbol, now, scoring, False)
        self._analyses[symbol] = (key, analysis)
        self.analyses_computed += 1
        return analysis

    async def _check(self, trade: Trade, data: SymbolData, now: float, bar_closed: bool,
                     unchanged: list[Trade]) -> int:
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
            vwap = self.analysis(trade.symbol, data, now).vwap
            forced = early_check_wanted(trade.direction, trade.entry, trade.closing_price(data.bid, data.ask), vwap,
                                        self._settings().scoring)
            if not forced:
                return 0
        analysis = self.analysis(trade.symbol, data, now)
        score = score_trade_with(analysis, trade.direction, bid=data.bid, ask=data.ask)
        self.checks += 1
        trade.score, trade.score_explanation = score.total, score.explanation
        trade.last_deep_check_at = trade.last_evaluated_at = now
        if forced:
            trade.last_forced_check_at = now
        trade.warnings, trade.last_warning_at = decayed_warnings(trade, now, self._settings().defense)
        if trade.managed_by != DTMS:
            unchanged.append(trade)  # watched and scored, never acted on
            return 0
        calls = 0
        if self._hedging is None:
            account = await self._gateway.account_info()
            calls += 1
            self._hedging = int(account.margin_mode) == mt5.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING
        allowed, rail = self._rails.risk_allowed(trade.symbol)
        atr = analysis.atr if analysis.atr == analysis.atr else data.atr_m15
        decision = decide(trade, score, now, self._settings().defense, hedging_account=self._hedging, atr=atr,
                          risk_block="" if allowed else rail)
        if decision is None:
            unchanged.append(trade)
            return calls
        logger.info("ticket %s: %s -> %s (%s)", trade.ticket, decision.from_state, decision.to_state, decision.reason)
        return calls + await self._actions.carry_out(trade, decision, rules=data.rules, bid=data.bid, ask=data.ask,
                                                     hedging_account=self._hedging)


def _bar_start(at: float) -> float:
    return at - at % M5_SECONDS
