"""The fast cycle (DTMS_SPEC.md §2.3): one positions_get for everything and one tick per managed symbol.

Each cycle reconciles the trades with the terminal, refreshes bars only where a bar has closed, updates
the safety rails and applies profit protection. Deep checks hang off the ``DeepCheck`` seam.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from app.engine.clock import TerminalClock
from app.engine.events import EventKind
from app.engine.executor import ActionExecutor
from app.engine.market_data import MarketData
from app.engine.model import ActionKind, ActionOutcome, ActionRecord, Trade, TradeSource
from app.engine.protection import MarkBreakeven, MoveStop, SkipPartial, TakePartial, plan_protection, update_best_price
from app.engine.rails import SafetyRails
from app.engine.recorder import Recorder
from app.engine.reconcile import (
    HEDGE_PREFIX,
    READD_PREFIX,
    close_details_many,
    outside_changes,
    position_direction,
    should_adopt,
)
from app.engine.registry import DTMS, UNCONFIRMED, TradeRegistry
from app.engine.settings import EngineSettings

logger = logging.getLogger(__name__)

ACCOUNT_RAIL_INTERVAL_S = 60.0
#: Profit protection's SL moves: pending only when the terminal's answer was lost (outcome UNKNOWN).
_SL_MOVES = frozenset({ActionKind.BREAKEVEN.value, ActionKind.TRAIL.value})


class CycleGateway(Protocol):
    async def positions(self, **filters: Any) -> tuple[Any, ...]: ...
    async def tick(self, symbol: str) -> Any: ...
    async def account_info(self) -> Any: ...
    async def history_deals(self, *args: Any, **kwargs: Any) -> tuple[Any, ...]: ...


class DeepCheck(Protocol):
    """The seam for the defensive state machine: runs after profit protection in every fast cycle and
    decides itself whether a deep check is due (bar close, spacing, forced early checks)."""

    async def after_fast_cycle(self, trades: list[Trade], positions: dict[int, Any], now: float) -> int:
        """Returns the number of terminal calls it made."""
        ...

    async def settle(self, trade: Trade, positions: dict[int, Any]) -> bool:
        """Complete a defensive transition that was under way when the program stopped or lost the terminal,
        from what the terminal shows (nothing is sent); False if the trade had none."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CycleReport:
    at: float
    duration_s: float
    cpu_s: float
    trades: int
    symbols: int
    calls: int
    actions: int
    closed: int
    adopted: int


class _CountedHistory:
    """The gateway's deal history, each read counted as one of the cycle's terminal calls."""

    def __init__(self, cycle: FastCycle) -> None:
        self._cycle = cycle

    async def history_deals(self, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        return await self._cycle._call(self._cycle._gateway.history_deals(*args, **kwargs))


class FastCycle:
    def __init__(
        self,
        *,
        gateway: CycleGateway,
        registry: TradeRegistry,
        market: MarketData,
        executor: Callable[[], ActionExecutor],  # the engine replaces its executor when settings change
        recorder: Recorder,
        rails: SafetyRails,
        clock: TerminalClock,
        settings: Callable[[], EngineSettings],
        paused: Callable[[], bool],
    ) -> None:
        self._gateway = gateway
        self._registry = registry
        self._market = market
        self._executor = executor
        self._recorder = recorder
        self._rails = rails
        self._clock = clock
        self._settings = settings
        self._paused = paused
        self.deep_check: DeepCheck | None = None
        self.positions: dict[int, Any] = {}
        self._next_account_check = 0.0
        self._calls = 0

    async def run(self, *, protect: bool = True) -> CycleReport:
        """One cycle; with ``protect=False`` (recovery) it only reconciles and reads prices."""
        started, cpu_started = time.perf_counter(), time.process_time()
        self._calls = 0
        positions = await self._call(self._gateway.positions())
        self.positions = {int(p.ticket): p for p in positions}
        closed = await self._reconcile()
        adopted = await self._adopt(positions)
        await self._read_prices()
        now = self._clock.now()
        actions = 0
        if protect:
            await self._refresh_bars_and_rails(now)
        if protect and not self._paused():
            for trade in self._registry.active():
                if trade.managed_by == DTMS:
                    actions += await self._protect(trade, now)
            if self.deep_check is not None:
                self._calls += await self.deep_check.after_fast_cycle(self._registry.active(), self.positions, now)
        self._publish_prices()
        return CycleReport(
            at=now,
            duration_s=time.perf_counter() - started,
            cpu_s=time.process_time() - cpu_started,
            trades=len(self._registry),
            symbols=len(self._registry.symbols()),
            calls=self._calls,
            actions=actions,
            closed=closed,
            adopted=adopted,
        )

    async def _call(self, awaitable: Any) -> Any:
        self._calls += 1
        return await awaitable

    # --- reconciliation -------------------------------------------------------------------------------

    async def _reconcile(self) -> int:
        """Actions under way when the program stopped (or lost the terminal) are settled first, so a change
        DTMS made itself is never taken for a change made outside DTMS; then closed positions are archived and
        outside changes journaled."""
        gone: list[Trade] = []
        for trade in self._registry.active():
            position = self.positions.get(trade.ticket)
            if trade.pending_action is not None:
                await self._settle_pending(trade, position)
            if position is None:
                gone.append(trade)
                continue
            changes = outside_changes(trade.volume, trade.sl, trade.tp, position)
            if changes:
                await self._record_outside_change(trade, changes)
        if not gone:
            return 0
        # DTMS's own positions indexed once per cycle, not scanned per closed trade
        own: dict[str, list[Any]] = {}
        for p in self.positions.values():
            comment = str(p.comment)
            if comment.startswith((HEDGE_PREFIX, READD_PREFIX)):
                own.setdefault(comment, []).append(p)
        for trade in gone:
            await self._close_leftovers(trade, own)
        wanted = {t.ticket: (t.opened_at, t.pending_action == ActionKind.CLOSE.value) for t in gone}
        details = await close_details_many(_CountedHistory(self), wanted, self._clock.now())
        await self._registry.archive_many([(trade, details[trade.ticket]) for trade in gone])
        return len(gone)

    async def _close_leftovers(self, trade: Trade, own: dict[str, list[Any]]) -> None:
        """The trade's position is gone (stop hit, closed by hand): its hedge and re-added positions, which
        DTMS opened for it, must not stay open unmanaged. They are closed and journaled."""
        leftovers = own.get(f"{HEDGE_PREFIX}{trade.ticket}", []) + own.get(f"{READD_PREFIX}{trade.ticket}", [])
        hedge = self.positions.get(trade.hedge_ticket) if trade.hedge_ticket else None
        if hedge is not None and all(int(p.ticket) != int(hedge.ticket) for p in leftovers):
            leftovers.append(hedge)
        if not leftovers or trade.managed_by != DTMS:
            return
        data = await self._market.ensure(trade.symbol)
        for leftover in leftovers:
            result = await self._executor().close(trade, volume=float(leftover.volume), kind=ActionKind.CLOSE_HEDGE,
                                                rules=data.rules, position=int(leftover.ticket),
                                                direction=position_direction(leftover))
            if result.ok and int(leftover.ticket) == trade.hedge_ticket:
                trade.hedge_ticket = None
            await self._finish_action(trade, ActionKind.CLOSE_HEDGE, result.outcome, result.records,
                                      f"position {int(leftover.ticket)} ({leftover.comment}) closed with its trade; "
                                      f"{result.detail}")

    async def _settle_pending(self, trade: Trade, position: Any | None) -> None:
        """An action that was under way when the program stopped, or whose answer was lost: the terminal says
        whether it happened."""
        if self.deep_check is not None and await self.deep_check.settle(trade, self.positions):
            return
        if trade.pending_action in _SL_MOVES and position is not None:
            kind = ActionKind(trade.pending_action)
            done = abs(float(position.sl) - trade.sl) > 1e-12
            if done:
                trade.sl = float(position.sl)
                trade.last_sl_change_at = self._clock.now()
                trade.breakeven_triggered = trade.breakeven_triggered or kind is ActionKind.BREAKEVEN
            trade.pending_action = None
            detail = f"the SL move whose answer was lost {'was' if done else 'had not been'} done"
            record = self._note(trade, kind, ActionOutcome.SUCCESS if done else ActionOutcome.NOT_SENT, detail)
            await self._recorder.commit(trade, actions=[record])
        if trade.pending_action == ActionKind.PARTIAL_TAKE.value and position is not None:
            done = float(position.volume) < trade.volume - 1e-9
            if done:
                trade.partial_taken = True
                trade.volume = float(position.volume)
            detail = "partial take was done before the restart" if done else "partial take had not been done"
            trade.pending_action = None
            record = self._note(trade, ActionKind.PARTIAL_TAKE,
                                ActionOutcome.SUCCESS if done else ActionOutcome.NOT_SENT, detail)
            await self._recorder.commit(trade, actions=[record])

    async def _record_outside_change(self, trade: Trade, changes: dict[str, tuple[float, float]]) -> None:
        for name, (_, actual) in changes.items():
            setattr(trade, name, actual)
        detail = ", ".join(f"{name} {old:g} -> {new:g}" for name, (old, new) in changes.items())
        record = self._note(trade, ActionKind.EXTERNAL_CHANGE, ActionOutcome.SUCCESS, f"changed outside DTMS: {detail}")
        payload = {"ticket": trade.ticket, "changes": {k: list(v) for k, v in changes.items()}, "detail": detail}
        await self._recorder.commit(trade, actions=[record], events=[(EventKind.TRADE_CHANGED, payload)])

    async def _adopt(self, positions: tuple[Any, ...]) -> int:
        policy = self._settings().adoption
        known = {t.ticket for t in self._registry.active()} | self._registry.hedge_tickets()
        adopted = 0
        for position in positions:
            if int(position.ticket) not in known and should_adopt(position, policy):
                if await self._registry.adopt(position, TradeSource.ADOPTED) is not None:
                    adopted += 1
        return adopted

    async def rebuild(self) -> int:
        """After a corrupt database: every open position (but DTMS's own hedges) becomes a trade again. Who
        registered what is lost with the file, so a position the adoption policy would not take is only
        watched (owner "unconfirmed") until a bot registers it again; nothing changes it meanwhile."""
        policy = self._settings().adoption
        positions = await self._call(self._gateway.positions())
        rebuilt = 0
        for position in positions:
            owner = DTMS if should_adopt(position, policy) else UNCONFIRMED
            if await self._registry.adopt(position, TradeSource.REBUILT, managed_by=owner) is not None:
                rebuilt += 1
        return rebuilt

    # --- prices, bars, rails ---------------------------------------------------------------------------

    async def _read_prices(self) -> None:
        for symbol in sorted(self._registry.symbols()):
            await self._market.ensure(symbol)
            tick = await self._call(self._gateway.tick(symbol))
            self._market.note_tick(symbol, tick)
            data = self._market.get(symbol)
            if data is not None:
                self._clock.observe(data.tick_time)

    async def _refresh_bars_and_rails(self, now: float) -> None:
        for symbol in sorted(self._registry.symbols()):
            if await self._market.refresh_bars(symbol):
                self._calls += 2
            data = self._market.get(symbol)
            if data is None:
                continue
            age = now - data.last_m5_time - 300 if data.last_m5_time else None
            changes = self._rails.evaluate_symbol(symbol, spread=data.ask - data.bid,
                                                  spread_median=data.spread_median(), bar_age_s=age)
            for status in changes:
                await self._recorder.event(EventKind.RAIL, {"rail": status.rail.value, "symbol": symbol,
                                                            "tripped": status.tripped, "detail": status.detail})
        if now >= self._next_account_check:
            self._next_account_check = now + ACCOUNT_RAIL_INTERVAL_S
            account = await self._call(self._gateway.account_info())
            deals = await self._call(self._gateway.history_deals(int(now - now % 86400), int(now) + 60))
            floating = sum(float(p.profit) + float(p.swap) for p in self.positions.values())
            for status in self._rails.evaluate_account(balance=float(account.balance), floating=floating,
                                                       deals=deals, now=now):
                await self._recorder.event(EventKind.RAIL, {"rail": status.rail.value, "symbol": None,
                                                            "tripped": status.tripped, "detail": status.detail})

    # --- profit protection ----------------------------------------------------------------------------

    async def _protect(self, trade: Trade, now: float) -> int:
        data = self._market.get(trade.symbol)
        if data is None or not data.bid:
            return 0
        settings = self._settings().protection
        if update_best_price(trade, data.bid, data.ask):
            await self._recorder.save_many([trade])
        intents = plan_protection(trade, bid=data.bid, ask=data.ask, rules=data.rules, atr=data.atr_m15,
                                  now=now, settings=settings)
        sent = 0
        for intent in intents:
            if isinstance(intent, (MoveStop, TakePartial)) and self._cooling_down(trade, intent, now):
                continue
            match intent:
                case MarkBreakeven():
                    trade.breakeven_triggered = True
                    trade.best_price = trade.closing_price(data.bid, data.ask)
                    record = self._note(trade, ActionKind.BREAKEVEN, ActionOutcome.NOT_SENT, intent.reason)
                    await self._recorder.commit(trade, actions=[record])
                case MoveStop():
                    sent += 1
                    await self._move_stop(trade, intent, data.bid, data.ask, now)
                case TakePartial():
                    sent += 1
                    await self._take_partial(trade, intent, data.rules)
                case SkipPartial():
                    trade.partial_taken = True
                    record = self._note(trade, ActionKind.PARTIAL_TAKE, ActionOutcome.NOT_SENT, intent.reason)
                    await self._recorder.commit(trade, actions=[record])
        return sent

    def _cooling_down(self, trade: Trade, intent: MoveStop | TakePartial, now: float) -> bool:
        """A refused action is not resent unchanged at every cycle: it waits ``failed_retry_after_s``."""
        kind = intent.kind if isinstance(intent, MoveStop) else ActionKind.PARTIAL_TAKE
        failed = trade.last_action in (f"{kind.value} {ActionOutcome.FAILED.value}",
                                       f"{kind.value} {ActionOutcome.NOT_SENT.value}")
        wait = self._settings().execution.failed_retry_after_s
        return failed and trade.last_action_at is not None and now - trade.last_action_at < wait

    async def _move_stop(self, trade: Trade, intent: MoveStop, bid: float, ask: float, now: float) -> None:
        # marked before sending: if the program dies with the request in flight, the restart reads the SL the
        # terminal shows and books it as this move, not as a change made outside DTMS
        trade.pending_action = intent.kind.value
        await self._recorder.commit(trade)
        result = await self._executor().set_stops(trade, sl=intent.sl, tp=trade.tp, kind=intent.kind)
        if result.outcome is not ActionOutcome.UNKNOWN:  # a lost answer is settled from the terminal's SL
            trade.pending_action = None
        if result.ok:
            trade.sl = intent.sl
            trade.last_sl_change_at = now
            if intent.kind is ActionKind.BREAKEVEN:
                trade.breakeven_triggered = True
                trade.best_price = trade.closing_price(bid, ask)
        await self._finish_action(trade, intent.kind, result.outcome, result.records, f"{intent.reason}; {result.detail}")

    async def _take_partial(self, trade: Trade, intent: TakePartial, rules: Any) -> None:
        trade.pending_action = ActionKind.PARTIAL_TAKE.value
        await self._recorder.commit(trade)
        result = await self._executor().close(trade, volume=intent.volume, kind=ActionKind.PARTIAL_TAKE, rules=rules)
        if result.outcome is not ActionOutcome.UNKNOWN:  # a lost answer is settled from the terminal's positions
            trade.pending_action = None
        if result.ok:
            trade.partial_taken = True
            # what the server filled (10010 DONE_PARTIAL fills less); a verified lost answer reports no volume
            done = result.volume if 0 < result.volume <= intent.volume else intent.volume
            trade.volume = rules.round_volume_down(trade.volume - done + 1e-9)
        await self._finish_action(trade, ActionKind.PARTIAL_TAKE, result.outcome, result.records,
                                  f"{intent.reason}; {result.detail}")

    async def _finish_action(self, trade: Trade, kind: ActionKind, outcome: ActionOutcome,
                             records: tuple[ActionRecord, ...], detail: str) -> None:
        trade.last_action = f"{kind.value} {outcome.value}"
        trade.last_action_at = self._clock.now()
        last = records[-1] if records else None
        payload = {"ticket": trade.ticket, "symbol": trade.symbol, "kind": kind.value, "outcome": outcome.value,
                   "retcode": last.retcode if last else None, "detail": detail}
        await self._recorder.commit(trade, actions=records, events=[(EventKind.ACTION, payload)])

    def _note(self, trade: Trade, kind: ActionKind, outcome: ActionOutcome, detail: str) -> ActionRecord:
        return ActionRecord(ticket=trade.ticket, kind=kind, request={}, outcome=outcome, detail=detail,
                            at=self._clock.now(), wall_at=time.time())

    def _publish_prices(self) -> None:
        rows = []
        for trade in self._registry.active():
            position = self.positions.get(trade.ticket)
            data = self._market.get(trade.symbol)
            if position is None or data is None:
                continue
            rows.append({"ticket": trade.ticket, "price": float(position.price_current),
                         "profit": float(position.profit), "profit_r": trade.profit_in_r(data.bid, data.ask)})
        self._recorder.live(EventKind.TRADE_UPDATED, {"rows": rows})
