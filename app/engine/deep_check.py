"""Deep checks (DTMS_SPEC.md §2.3): score each trade and run the defensive state machine.

A trade is checked at an M5 bar close, at most every ``deep_min_spacing_s`` (15 min), or earlier when the
fast cycle's signal asks for it (price far from entry, VWAP slope with price on the wrong side), with a
``forced_cooldown_s`` (10 min) after a forced check, and never twice on the same closed bars. The bars are
the engine's shared per-symbol arrays (refreshed at bar close by the fast cycle); the indicators are
computed once per symbol and bar and every trade on the symbol is scored from that one analysis.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from app.engine.defense.actions import PENDING_PREFIX, DefenseActions, Plan
from app.engine.defense.rules import decayed_warnings, decide
from app.engine.market_data import M5_SECONDS, MarketData, SymbolData
from app.engine.model import Direction, Trade
from app.engine.quiet import EDGE_R, INF, Quiet, QuietTrades
from app.engine.rails import SafetyRails
from app.engine.recorder import CommitBatch, Recorder
from app.engine.registry import DTMS, SymbolGroup
from app.engine.scoring.analysis import VwapState
from app.engine.scoring.score import Score, ScoringSettings, SymbolAnalysis, early_check_wanted, score_trade_with
from app.engine.settings import CycleSettings, EngineSettings
from app.errors import TemporaryError
from app.terminal import constants as mt5

logger = logging.getLogger(__name__)

DEEP_CHECK_BUDGET_S = 0.03
DEEP_CHECK_MIN_PER_CYCLE = 5
#: the bounds of the running average of what a pass spends after its checks per unit of what they decided
AFTER_LEAST_S = 0.0005
AFTER_MOST_S = 0.05


class _Spent:
    """A cycle's budget for checks: over once ``budget_s`` has passed and at least ``least`` trades were looked
    at (checked, or found not due)."""

    def __init__(self, started: float, budget_s: float, least: int) -> None:
        self._ends = started + budget_s
        self._least = least
        self.looked = 0

    def over(self, reserved_s: float = 0.0) -> bool:
        """``reserved_s``: time the pass will still need after its checks (the sends of what they decided)."""
        return self.looked >= self._least and time.perf_counter() + reserved_s > self._ends


@dataclass(frozen=True, slots=True, kw_only=True)
class _Decided:
    """A transition with actions decided by a check, to be marked and sent after the pass's checks."""

    plan: Plan
    checked_before: tuple[float | None, float | None, float | None]  # the trade's check times before this check


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
        self._scored: list[int] = []  # tickets scored since the last ``take_scored``
        self.tick_fetches = 0  # how many times trade ticks were fetched for the order flow
        #: wall time a cycle's deep checks may take; the rest of the trades due wait for the next cycle
        self.budget_s = DEEP_CHECK_BUDGET_S
        self.min_checks = DEEP_CHECK_MIN_PER_CYCLE  # checked whatever the time (a few trades never wait)
        #: what a pass spends after its checks per unit of what they decided (a transition, an order to send), in
        #: sends and in its two commits (a running average): its checks leave that much room in the budget
        self.after_s = AFTER_LEAST_S * 4
        #: tickets (and their symbols) whose bar closed and whose check did not fit a cycle yet, oldest first
        self._deferred: OrderedDict[int, str] = OrderedDict()
        #: between bar closes, where no early check can be due (looked at again when that may have changed)
        self._quiet = QuietTrades()
        self._quiet_settings: object = None
        recorder.on_commit.append(self.forget)

    async def after_fast_cycle(
        self, groups: Mapping[str, SymbolGroup], positions: Mapping[int, Any], now: float, budget_s: float = INF
    ) -> int:
        """Checks run until the cycle's ``budget_s`` (and this object's own) is spent; trades whose bar closed
        wait in line (oldest bar close first) and are checked first in the next cycles, so a bar close with many
        trades never holds up the next cycle's profit protection. Between bar closes only the trades whose
        early-check signal may have turned are looked at. A cycle's own work follows the checks it runs, not the
        trades waiting.

        A pass commits its decisions in two transactions whatever their number: first the marks of the transitions
        with actions (nothing is sent before), then, once their actions were sent, every transition of the pass with
        its journal and events (the changes of state alone wait for it too). A trade takes its transition, and its
        events are told, only once that is committed; a crash between the two is settled from the terminal at the
        next start (the marks say what was under way), as after a crash during one transition.
        """
        batch = self._recorder.batch()
        decided: list[_Decided] = []
        try:
            calls = await self._pass(groups, positions, now, budget_s, batch, decided)
        except TemporaryError:
            self._put_back(decided)  # nothing of them was marked or sent: checked again once the terminal is back
            await self._commit(batch, now)
            raise
        units = _units(decided, batch)
        started = time.perf_counter()
        try:
            calls += await self._send(decided, batch)
        finally:
            await self._commit(batch, now)
        if units:
            per_unit = (time.perf_counter() - started) / units
            self.after_s = min(max(0.8 * self.after_s + 0.2 * per_unit, AFTER_LEAST_S), AFTER_MOST_S)
        return calls

    async def _send(self, decided: list[_Decided], batch: CommitBatch) -> int:
        """The marks of the pass's transitions with actions in one transaction, then their actions; each
        transition is staged in ``batch``."""
        # a trade released or paused while the others were checked is left alone
        decided = [each for each in decided if _still_ours(each.plan.stage.live)]
        if not decided:
            return 0
        marks = self._recorder.batch()
        for each in decided:
            marks.add(each.plan.stage)
        try:
            await self._recorder.commit_batch(marks)
        except TemporaryError:
            raise
        except Exception:
            # as a single mark's failure: nothing sent, every trade as it was; their next checks decide again
            logger.exception("the marks of %d transitions could not be committed; nothing was sent", len(decided))
            return 0
        calls = 0
        for each in decided:
            trade = each.plan.stage.live
            try:
                calls += await self._actions.send(each.plan, batch)
            except TemporaryError:
                # the transitions marked and not sent yet are settled from the terminal at the reconnection
                raise
            except Exception:
                logger.exception("transition of ticket %s failed", trade.ticket)
        return calls

    def _put_back(self, decided: list[_Decided]) -> None:
        for each in reversed(decided):
            trade = each.plan.stage.live
            trade.last_deep_check_at, trade.last_evaluated_at, trade.last_forced_check_at = each.checked_before
            self._deferred[trade.ticket] = trade.symbol
            self._deferred.move_to_end(trade.ticket, last=False)

    async def _commit(self, batch: CommitBatch, now: float) -> None:
        if not batch:
            return
        trades = batch.trades()
        try:
            await self._recorder.commit_batch(batch)
        except Exception:
            # as a single commit's failure: the trades stay as they were (a transition whose actions were sent
            # keeps its committed mark and is settled from the terminal); the others' next checks decide again
            logger.exception("the deep checks' %d transitions could not be committed", len(trades))
            return
        for trade in trades:  # forgotten on commit: how long each stays quiet follows its new state
            data = self._market.get(trade.symbol)
            if data is not None and data.bid:
                self._quiet.quiet(trade, self._early_quiet(trade, data, now))

    async def _pass(
        self,
        groups: Mapping[str, SymbolGroup],
        positions: Mapping[int, Any],
        now: float,
        budget_s: float,
        batch: CommitBatch,
        decided: list[_Decided],
    ) -> int:
        self._calls = 0
        started = time.perf_counter()
        settings = self._settings()
        if settings is not self._quiet_settings:
            self._quiet.clear()
            self._quiet_settings = settings
        bar = int(now // M5_SECONDS)
        waiting = self._deferred
        ready: dict[str, SymbolData] = {}
        quiet_symbols: list[str] = []
        for symbol, group in sorted(groups.items()):
            data = self._market.get(symbol)
            if data is None or data.m5 is None or data.m15 is None or not len(data.m5) or not data.bid:
                continue
            ready[symbol] = data
            self._quiet.track(symbol, group)  # what the checks below find is kept for the trades as they are
            if self._bar_seen.get(symbol) != bar:
                self._bar_seen[symbol] = bar
                for ticket in group.trades:
                    waiting.setdefault(ticket, symbol)  # one check per trade however many closes it waited
            else:
                quiet_symbols.append(symbol)
        unchanged: list[Trade] = []
        spent = _Spent(started, min(self.budget_s, budget_s), self.min_checks)

        def over() -> bool:  # the sends and commits follow the checks: the budget keeps room for them
            return spent.over(self.after_s * _units(decided, batch))

        calls = 0
        while waiting and not over():
            ticket, symbol = waiting.popitem(last=False)
            trade = self._checkable(groups, positions, ticket, symbol)
            data = ready.get(symbol)
            if trade is None or data is None:
                continue  # gone, settling a transition, or its symbol failing this cycle: next bar close then
            spent.looked += 1
            try:
                calls += await self._check(trade, data, now, True, unchanged, batch, decided)
            except TemporaryError:
                waiting[ticket] = symbol  # a trade already checked is not checked twice on the same bars
                waiting.move_to_end(ticket, last=False)
                raise
            except Exception:
                logger.exception("deep check of ticket %s failed", trade.ticket)
            else:
                self._quiet.quiet(trade, self._early_quiet(trade, data, now))
        for symbol in quiet_symbols:
            if over():
                break
            data, group = ready[symbol], groups[symbol]
            for trade in self._quiet.due(symbol, group, data.bid, data.ask, now):
                if over():
                    break  # still due at the next cycle: its range was not renewed
                if trade.ticket in waiting or trade.ticket in batch:
                    continue
                if any(each.plan.stage.live is trade for each in decided):
                    continue
                if self._checkable(groups, positions, trade.ticket, symbol) is None:
                    continue
                spent.looked += 1
                try:
                    calls += await self._check(trade, data, now, False, unchanged, batch, decided)
                except Exception as error:
                    if isinstance(error, TemporaryError):
                        raise
                    logger.exception("deep check of ticket %s failed", trade.ticket)
                else:
                    self._quiet.quiet(trade, self._early_quiet(trade, data, now))
        for trade in unchanged:
            # a score, check times and decayed warnings the next check recomputes: written with the trade's next write
            self._recorder.touch(trade, figures=True)
        return calls + self._calls

    @staticmethod
    def _checkable(
        groups: Mapping[str, SymbolGroup], positions: Mapping[int, Any], ticket: int, symbol: str
    ) -> Trade | None:
        group = groups.get(symbol)
        trade = group.trades.get(ticket) if group is not None else None
        if trade is None or ticket not in positions or (trade.pending_action or "").startswith(PENDING_PREFIX):
            return None  # gone (archived at the next cycle), or a transition to settle first (reconciliation)
        return trade

    def take_scored(self) -> list[int]:
        scored, self._scored = self._scored, []
        return scored

    def forget(self, trade: Trade) -> None:
        """A decision changed the trade: its early-check signal is looked at again."""
        self._quiet.forget(trade.ticket, trade.symbol)

    def _early_quiet(self, trade: Trade, data: SymbolData, now: float) -> Quiet | None:
        """How long, between bar closes, no early check can be due for the trade (None: look again)."""
        cached = self._analyses.get(trade.symbol)
        key = (data.last_m5_time, data.last_m15_time, int(now // M5_SECONDS))
        vwap = cached[1].vwap if cached is not None and cached[0] == key else None
        settings = self._settings()
        price = trade.closing_price(data.bid, data.ask)
        return early_check_quiet(trade, price, vwap, now, settings.cycle, settings.scoring)

    @property
    def waiting(self) -> int:
        """Trades whose bar closed and whose check waits for a later cycle."""
        return len(self._deferred)

    async def settle(self, trade: Trade, positions: Mapping[int, Any]) -> bool:
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

    async def _check(
        self,
        trade: Trade,
        data: SymbolData,
        now: float,
        bar_closed: bool,
        unchanged: list[Trade],
        batch: CommitBatch,
        decided: list[_Decided],
    ) -> int:
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
        self._scored.append(trade.ticket)
        checked_before = (trade.last_deep_check_at, trade.last_evaluated_at, trade.last_forced_check_at)
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
        plan = self._actions.plan(
            trade, decision, rules=data.rules, bid=data.bid, ask=data.ask, hedging_account=self._hedging
        )
        if decision.actions:
            decided.append(_Decided(plan=plan, checked_before=checked_before))  # marked and sent after the checks
            return calls
        return calls + await self._actions.send(plan, batch)  # a change of state alone: staged in the batch


def _units(decided: list[_Decided], batch: CommitBatch) -> int:
    """What a pass's checks decided, in the units ``after_s`` is counted in: each transition (staged alone or
    decided with actions) and each action to send."""
    return len(batch) + sum(1 + len(each.plan.decision.actions) for each in decided)


def _still_ours(trade: Trade) -> bool:
    return trade.active and trade.managed_by == DTMS and not trade.dtms_paused


def _bar_start(at: float) -> float:
    return at - at % M5_SECONDS


def early_check_quiet(
    trade: Trade, price: float, vwap: VwapState | None, now: float, cycle: CycleSettings, scoring: ScoringSettings
) -> Quiet | None:
    """How long, between bar closes, ``_check`` cannot run an early check for the trade as it is at ``price``
    (``vwap``: the symbol's state at this bar; None when not analysed yet). None: look again next cycle."""
    cooled_at = trade.last_forced_check_at + cycle.forced_cooldown_s if trade.last_forced_check_at is not None else -INF
    checked = trade.last_deep_check_at
    new_bars_at = _bar_start(checked) + M5_SECONDS if checked is not None else -INF
    if max(cooled_at, new_bars_at) > now:
        return Quiet(wake=max(cooled_at, new_bars_at))
    if trade.r <= 0 or trade.entry <= 0 or vwap is None:
        return None
    if early_check_wanted(trade.direction, trade.entry, price, vwap, scoring):
        return None
    sign = 1.0 if trade.direction is Direction.BUY else -1.0
    move_r = trade.entry * scoring.early_check_move_pct / 100.0 / trade.r - EDGE_R
    low, high = -move_r, move_r
    if not (math.isnan(vwap.slope) or math.isnan(vwap.vwap)) and abs(vwap.slope) >= vwap.threshold:
        earlier = scoring.vwap.slope_bars - 1
        sides = list(vwap.recent_sides[-earlier:] if earlier > 0 else ())
        wrong = -1 if trade.direction is Direction.BUY else 1
        if sum(1 for side in sides if side == wrong) + 1 >= scoring.vwap.wrong_side_min:
            # one more wrong side would ask for a check: the price must stay on the right side of VWAP
            low = max(low, sign * (vwap.vwap - trade.entry) / trade.r + EDGE_R)
    return Quiet(low=low, high=high, wake=_bar_start(now) + M5_SECONDS)
