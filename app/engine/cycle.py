"""The fast cycle (DTMS_SPEC.md §2.3): one positions_get for everything and one tick per managed symbol.

Each cycle reconciles the trades with the terminal, refreshes bars only where a bar has closed, updates
the safety rails and applies profit protection. Deep checks hang off the ``DeepCheck`` seam.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from app.engine.clock import TerminalClock
from app.engine.events import EventKind
from app.engine.executor import ActionExecutor
from app.engine.facts import closing_facts
from app.engine.live_prices import LivePrices
from app.engine.market_data import MarketData
from app.engine.model import ActionKind, ActionOutcome, ActionRecord, Trade, TradeSource
from app.engine.position_book import PositionBook
from app.engine.protection import (
    MarkBreakeven,
    MoveStop,
    SkipPartial,
    TakePartial,
    plan_protection,
    protection_quiet,
    update_best_price,
)
from app.engine.quiet import FOR_GOOD, QuietTrades
from app.engine.rails import SafetyRails
from app.engine.reconcile import (
    HEDGE_PREFIX,
    READD_PREFIX,
    close_details_many,
    outside_changes,
    outside_changes_text,
    position_direction,
    should_adopt,
)
from app.engine.recorder import Recorder, Staged, staged
from app.engine.registry import DTMS, UNCONFIRMED, SymbolGroup, TradeRegistry
from app.engine.settings import EngineSettings
from app.engine.symbol_health import SymbolHealth
from app.engine.terminal_watch import TerminalWatch
from app.errors import RejectedError, TemporaryError, TerminalTimeout, TerminalUnavailable
from app.terminal.position_feed import Cursor, PositionChanges
from app.terminal.replies import Reply, require

logger = logging.getLogger(__name__)

ACCOUNT_RAIL_INTERVAL_S = 60.0
#: Trades whose positions ended archived in one cycle at most; more (a mass close) wait for the next cycles, so a
#: thousand positions closed at once take four cycles of 2.5-3 times a steady one at 10,000 trades instead of one
#: of about five times: the other trades' protection does not wait behind them, and each is still archived in a
#: batch. They stay listed, with nothing sent for them, until archived. Recovery archives every one at once.
CLOSES_PER_CYCLE = 250
#: Profit protection's SL moves: pending only when the terminal's answer was lost (outcome UNKNOWN).
_SL_MOVES = frozenset({ActionKind.BREAKEVEN.value, ActionKind.TRAIL.value})


class CycleGateway(Protocol):
    async def positions(self, **filters: Any) -> tuple[Any, ...]: ...
    async def position_changes(self, since: Cursor | None) -> PositionChanges: ...
    async def ticks(self, symbols: Sequence[str]) -> dict[str, Reply]: ...
    async def account_info(self) -> Any: ...
    async def history_deals(self, *args: Any, **kwargs: Any) -> tuple[Any, ...]: ...
    async def position_deals(self, date_from: int, date_to: int, positions: Collection[int]) -> tuple[Any, ...]: ...
    async def exit_deals(self, date_from: int, date_to: int) -> tuple[Any, ...]: ...


class DeepCheck(Protocol):
    """The seam for the defensive state machine: runs after profit protection in every fast cycle and
    decides itself whether a deep check is due (bar close, spacing, forced early checks)."""

    async def after_fast_cycle(
        self, groups: Mapping[str, SymbolGroup], positions: Mapping[int, Any], now: float, budget_s: float
    ) -> int:
        """Returns the number of terminal calls it made; its checks take about ``budget_s`` at most."""
        ...

    def take_scored(self) -> list[int]:
        """The tickets scored since the last call (their ``score`` may have changed), and forget them."""
        ...

    async def settle(self, trade: Trade, positions: Mapping[int, Any]) -> bool:
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
    #: tickets deep-checked in this cycle: the only trades whose score may have changed
    scored: tuple[int, ...] = ()


#: the bounds of the time a cycle that ran as usual gives its deep checks (``FastCycle._check_budget``)
CHECK_BUDGET_LEAST_S = 0.01
CHECK_BUDGET_MOST_S = 0.03


class _CountedHistory:
    """The gateway's deal history, each read counted as one of the cycle's terminal calls."""

    def __init__(self, cycle: FastCycle) -> None:
        self._cycle = cycle

    async def history_deals(self, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        return await self._cycle._call(self._cycle._gateway.history_deals(*args, **kwargs))

    async def position_deals(self, date_from: int, date_to: int, positions: Collection[int]) -> tuple[Any, ...]:
        return await self._cycle._call(self._cycle._gateway.position_deals(date_from, date_to, positions))


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
        #: per-symbol failures and their back-off; permissions and broker link (both set by the engine)
        self.symbols = SymbolHealth()
        self.watch: TerminalWatch | None = None
        self.positions = PositionBook()
        self._live = LivePrices()
        self._next_account_check = 0.0
        self._calls = 0
        self._work_s = 0.0  # running average of a cycle's cost before its deep checks
        #: where profit protection has nothing to do, per trade (looked at again when that may have changed)
        self._quiet = QuietTrades()
        self._quiet_atr: dict[str, float | None] = {}
        #: tickets whose trade a decision changed since the last reconciliation (compared with the terminal)
        self._recheck: set[int] = set()
        #: open positions not yet looked at by the adoption policy
        self._unseen: set[int] = set()
        self._adoption: object = None
        recorder.on_commit.append(self._decided)

    async def run(self, *, protect: bool = True) -> CycleReport:
        """One cycle; with ``protect=False`` (recovery) it only reconciles and reads prices."""
        started, cpu_started = time.perf_counter(), time.process_time()
        self._calls = 0
        await self._read_positions()
        closed = await self._reconcile(most=CLOSES_PER_CYCLE if protect else None)
        adopted = await self._adopt()
        ticks_moved = await self._read_prices(settle_symbols=not protect)
        if self.watch is not None and await self.watch.check_link_if_quiet(ticks_moved):
            self._calls += 1
        now = self._clock.now()
        actions = 0
        if protect:
            await self._refresh_bars_and_rails(now)
        # with trading refused by the terminal or no link to the server nothing is sent (the rail explains);
        # a symbol whose prices or bars fail holds only its own trades back
        if protect and not self._paused() and not self._rails.sending_blocked():
            groups = self._registry.groups()
            healthy = {symbol: group for symbol, group in groups.items() if not self.symbols.failing(symbol)}
            for symbol, group in list(healthy.items()):
                actions += await self._protect_symbol(symbol, group, now)
            if self.deep_check is not None:
                budget = self._check_budget(time.perf_counter() - started)
                self._calls += await self.deep_check.after_fast_cycle(healthy, self.positions, now, budget)
        await self._recorder.flush()
        self._publish_prices(time.monotonic())
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
            scored=tuple(self.deep_check.take_scored()) if self.deep_check is not None else (),
        )

    def _check_budget(self, work_s: float) -> float:
        """How long this cycle's deep checks may take: about what the rest of a cycle costs (a running average
        of it), so a cycle with checks costs about twice one without, between the least and most allowed. A cycle
        whose own work ran over that average (a bar close brings new bars) leaves its checks that much less, down
        to none: it then runs only the few checks every cycle makes whatever the time, and the others wait for the
        next cycles, which have their whole budget."""
        self._work_s += (work_s - self._work_s) * 0.2
        over = max(work_s - self._work_s, 0.0)
        usual = min(max(self._work_s, CHECK_BUDGET_LEAST_S), CHECK_BUDGET_MOST_S)
        return max(usual - over, 0.0)

    def _decided(self, trade: Trade) -> None:
        self._recheck.add(trade.ticket)
        self._quiet.forget(trade.ticket, trade.symbol)

    async def _read_positions(self) -> None:
        self.positions.apply(await self._call(self._gateway.position_changes(self.positions.cursor)))
        self._unseen |= self.positions.changed

    async def _call(self, awaitable: Any) -> Any:
        self._calls += 1
        return await awaitable

    def request_terminal_check(self) -> None:
        """Read permissions and the broker link at the next cycle (an order was refused by the terminal)."""
        self._next_account_check = float("-inf")

    def _connection_lost(self, error: Exception) -> bool:
        return isinstance(error, (TerminalUnavailable, TerminalTimeout)) or not getattr(
            self._gateway, "connected", True
        )

    async def ensure_symbol(self, symbol: str) -> bool:
        """Rules and bars of a symbol; False (and the symbol noted as failing) if the terminal cannot give them."""
        try:
            data = await self._market.ensure(symbol)
            if data.m5 is None:
                await self._market.refresh_bars(symbol, force=True)
        except (TemporaryError, RejectedError) as error:
            await self._symbol_error(symbol, "no rules or bars yet", error)
            return False
        return True

    async def _symbol_error(self, symbol: str, what: str, error: Exception) -> None:
        """A call for one symbol failed: a lost terminal raises ``error`` (the cycle ends there); anything else
        notes the symbol as failing, and only its own trades wait."""
        if self._connection_lost(error):
            raise error
        await self._symbol_failed(symbol, f"{what}: {error}")

    async def _symbol_failed(self, symbol: str, reason: str) -> None:
        if self.symbols.failed(symbol, reason):
            await self._recorder.event(EventKind.SYMBOL_PROBLEM, {"symbol": symbol, "failing": True, "reason": reason})

    async def _symbol_ok(self, symbol: str) -> None:
        if self.symbols.recovered(symbol):
            await self._recorder.event(EventKind.SYMBOL_PROBLEM, {"symbol": symbol, "failing": False, "reason": ""})

    # --- reconciliation -------------------------------------------------------------------------------

    async def _reconcile(self, most: int | None) -> int:
        """Actions under way when the program stopped (or lost the terminal) are settled first, so a change
        DTMS made itself is never taken for a change made outside DTMS; then closed positions are archived (``most``
        of them, or all: recovery, with nothing to protect yet, archives what ended while the desk was away) and
        outside changes journaled."""
        book = self.positions
        for trade in [t for t in self._registry.active() if t.pending_action is not None]:
            await self._settle_pending(trade, book.get(trade.ticket))
        # the terminal's view is compared with the trades only where either side changed since the last cycle
        check = book.changed | self._recheck if not book.full else set(self._registry.tickets())
        self._recheck = set()
        missing = [self._registry.get(t) for t in sorted(self._registry.keys() - book.tickets())]
        for ticket in sorted(check):
            live = self._registry.get(ticket)
            if live is None or ticket not in book:
                continue
            changes = outside_changes(live.volume, live.sl, live.tp, book[ticket])
            if changes:
                await self._record_outside_change(live, changes)
        gone = [t for t in missing if t is not None and t.active]
        if not gone:
            return 0
        # DTMS's own positions indexed once per cycle, not scanned per closed trade
        own: dict[str, list[Any]] = {}
        for p in book.commented((HEDGE_PREFIX, READD_PREFIX)):
            own.setdefault(str(p.comment), []).append(p)
        # a trade whose hedge or re-add is still open stays managed until that is closed too
        leaving = [trade for trade in gone if await self._close_leftovers(trade, own)][:most]
        if not leaving:
            return 0
        wanted = {t.ticket: (t.opened_at, t.pending_action == ActionKind.CLOSE.value) for t in leaving}
        details = await close_details_many(_CountedHistory(self), wanted, self._clock.now())
        await self._registry.archive_many([(trade, details[trade.ticket]) for trade in leaving])
        return len(leaving)

    async def _close_leftovers(self, trade: Trade, own: dict[str, list[Any]]) -> bool:
        """The trade's position is gone (stop hit, closed by hand): its hedge and re-added positions, which
        DTMS opened for it, must not stay open unmanaged. They are closed and journaled; False while any of
        them is still open (the trade stays managed and the next cycle tries again)."""
        leftovers = own.get(f"{HEDGE_PREFIX}{trade.ticket}", []) + own.get(f"{READD_PREFIX}{trade.ticket}", [])
        hedge = self.positions.get(trade.hedge_ticket) if trade.hedge_ticket else None
        if hedge is not None and all(int(p.ticket) != int(hedge.ticket) for p in leftovers):
            leftovers.append(hedge)
        if not leftovers or trade.managed_by != DTMS:
            return True
        if self._rails.sending_blocked() or self.symbols.failing(trade.symbol) and not self.symbols.due(trade.symbol):
            return False
        if self._cooling_down_after(trade, ActionKind.CLOSE_HEDGE):
            return False
        if not await self.ensure_symbol(trade.symbol):
            return False
        data = self._market.get(trade.symbol)
        assert data is not None
        all_closed = True
        for leftover in leftovers:
            result = await self._executor().close(
                trade,
                volume=float(leftover.volume),
                kind=ActionKind.CLOSE_HEDGE,
                rules=data.rules,
                position=int(leftover.ticket),
                direction=position_direction(leftover),
            )
            whole = result.ok and not 0 < result.volume < float(leftover.volume) - 1e-9
            still_open = not whole and bool(await self._call(self._gateway.positions(ticket=int(leftover.ticket))))
            stage = staged(trade)  # the trade lets the hedge go once that is committed with the journal
            if not still_open and int(leftover.ticket) == trade.hedge_ticket:
                stage.work.hedge_ticket = None
            all_closed = all_closed and not still_open
            what = "closed with its trade" if not still_open else "still open (kept under management)"
            await self._finish_action(
                stage.work,
                ActionKind.CLOSE_HEDGE,
                result.outcome,
                result.records,
                f"position {int(leftover.ticket)} ({leftover.comment}) {what}; {result.detail}",
                into=stage,
            )
        return all_closed

    def _cooling_down_after(self, trade: Trade, kind: ActionKind) -> bool:
        failed = trade.last_action in (
            f"{kind.value} {ActionOutcome.FAILED.value}",
            f"{kind.value} {ActionOutcome.NOT_SENT.value}",
        )
        wait = self._settings().execution.failed_retry_after_s
        return failed and trade.last_action_at is not None and self._clock.now() - trade.last_action_at < wait

    async def _settle_pending(self, trade: Trade, position: Any | None) -> None:
        """An action that was under way when the program stopped, or whose answer was lost: the terminal says
        whether it happened."""
        if self.deep_check is not None and await self.deep_check.settle(trade, self.positions):
            return
        stage = staged(trade)
        trade = stage.work
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
            await self._recorder.commit(trade, actions=[record], into=stage)
        if trade.pending_action == ActionKind.PARTIAL_TAKE.value and position is not None:
            done = float(position.volume) < trade.volume - 1e-9
            if done:
                trade.partial_taken = True
                trade.volume = float(position.volume)
            detail = "partial take was done before the restart" if done else "partial take had not been done"
            trade.pending_action = None
            record = self._note(
                trade, ActionKind.PARTIAL_TAKE, ActionOutcome.SUCCESS if done else ActionOutcome.NOT_SENT, detail
            )
            await self._recorder.commit(trade, actions=[record], into=stage)

    async def _record_outside_change(self, trade: Trade, changes: dict[str, tuple[float, float]]) -> None:
        stage = staged(trade)
        trade = stage.work
        for name, (_, actual) in changes.items():
            setattr(trade, name, actual)
        detail = outside_changes_text(changes, self._market.digits(trade.symbol))
        record = self._note(trade, ActionKind.EXTERNAL_CHANGE, ActionOutcome.SUCCESS, f"changed outside DTMS: {detail}")
        payload = {"ticket": trade.ticket, "changes": {k: list(v) for k, v in changes.items()}, "detail": detail}
        await self._recorder.commit(trade, actions=[record], events=[(EventKind.TRADE_CHANGED, payload)], into=stage)

    async def _adopt(self) -> int:
        """Open positions are looked at by the adoption policy when they first appear (and all of them again
        when the policy changes); one whose look failed is looked at again at the next cycle."""
        if self._recorder.problem:
            return 0  # nothing new is taken over while the database cannot store who owns it
        policy = self._settings().adoption
        if policy is not self._adoption:
            self._adoption = policy
            self._unseen = set(self.positions.tickets())
        self._unseen &= self.positions.tickets()
        self._unseen -= self._registry.keys()
        if not self._unseen:
            return 0
        hedges = self._registry.hedge_tickets()
        adopted = 0
        for ticket in sorted(self._unseen):
            position = self.positions[ticket]
            if ticket not in hedges and should_adopt(position, policy):
                if await self._registry.adopt(position, TradeSource.ADOPTED) is not None:
                    adopted += 1
            self._unseen.discard(ticket)
        return adopted

    async def rebuild(self) -> int:
        """After a damaged database with no good backup: every open position (but DTMS's own hedges and the
        tickets released before) is watched again. Who registered what is lost with the file, so none is
        DTMS's: each stays "unconfirmed" (never changed) until a bot registers it or the trader confirms it."""
        positions = await self._call(self._gateway.positions())
        rebuilt = 0
        for position in positions:
            if await self._registry.adopt(position, TradeSource.REBUILT, managed_by=UNCONFIRMED) is not None:
                rebuilt += 1
        return rebuilt

    # --- prices, bars, rails ---------------------------------------------------------------------------

    async def _read_prices(self, *, settle_symbols: bool) -> bool:
        """One tick per symbol, each symbol on its own: a failing one is noted and retried with back-off.
        With ``settle_symbols`` a symbol whose tick came is counted as answering again (otherwise the bars step
        after this decides). Returns True if any tick time moved."""
        moved = False
        managed = self._registry.symbols()
        for symbol in set(self.symbols.problems()) - set(managed):  # no trade left on it: no longer a problem
            self.symbols.forget(symbol)
            await self._recorder.event(EventKind.SYMBOL_PROBLEM, {"symbol": symbol, "failing": False, "reason": ""})
        due: list[str] = []
        for symbol in sorted(managed):
            if not self.symbols.due(symbol):
                continue
            try:
                if self.symbols.failing(symbol):
                    await self._call(self._market.reselect(symbol))
                if not await self.ensure_symbol(symbol):
                    continue
            except (TemporaryError, RejectedError) as error:
                await self._symbol_error(symbol, "no price", error)
                continue
            due.append(symbol)
        ticks = await self._read_ticks(due)
        for symbol in due:
            tick = ticks[symbol]
            if isinstance(tick, Exception):
                await self._symbol_error(symbol, "no price", tick)
                continue
            data = self._market.get(symbol)
            before = data.tick_time if data is not None else 0.0
            self._market.note_tick(symbol, tick)
            if data is not None:
                moved = moved or data.tick_time > before
                self._clock.observe(data.tick_time)
                if settle_symbols and data.m5 is not None:
                    await self._symbol_ok(symbol)
        return moved

    async def _read_ticks(self, symbols: list[str]) -> dict[str, Any]:
        """Each symbol's tick, or the error reading it raised: one round trip to the terminal's worker for all
        of them (still one terminal call per symbol)."""
        self._calls += len(symbols)
        ticks: dict[str, Any] = {}
        for symbol, reply in (await self._gateway.ticks(symbols)).items():
            try:
                ticks[symbol] = require("symbol_info_tick", reply)
            except (TemporaryError, RejectedError) as error:
                ticks[symbol] = error
        return ticks

    async def _refresh_bars_and_rails(self, now: float) -> None:
        managed = self._registry.symbols()
        symbols = [s for s in sorted(managed) if self.symbols.due(s) and self._market.get(s) is not None]
        try:
            refreshed = await self._market.refresh_bars_many(symbols)
        except (TemporaryError, RejectedError) as error:  # the round trip itself failed: no symbol has new bars
            if self._connection_lost(error):
                raise
            refreshed = dict.fromkeys(symbols, error)
        for symbol in symbols:
            found = refreshed[symbol]
            if isinstance(found, Exception):
                await self._symbol_error(symbol, "no bars", found)
                continue
            if found:
                self._calls += 2
            await self._symbol_ok(symbol)
            data = self._market.get(symbol)
            if data is None:
                continue
            age = now - data.last_m5_time - 300 if data.last_m5_time else None
            changes = self._rails.evaluate_symbol(
                symbol, spread=data.ask - data.bid, spread_median=data.spread_median(), bar_age_s=age
            )
            for status in changes:
                await self._recorder.event(EventKind.RAIL, status.payload())
        for status in self._rails.forget_symbols(managed):
            await self._recorder.event(EventKind.RAIL, status.payload())
        if now >= self._next_account_check:
            self._next_account_check = now + ACCOUNT_RAIL_INTERVAL_S
            if self.watch is not None:  # permissions and the link are read with every account check
                self._calls += 2
                account = await self.watch.check()
            else:
                account = await self._call(self._gateway.account_info())
            # only the day's closing deals cross from the worker: the loss rails read nothing else
            deals = await self._call(self._gateway.exit_deals(int(now - now % 86400), int(now) + 60))
            floating = self.positions.floating()
            for status in self._rails.evaluate_account(
                balance=float(account.balance), floating=floating, deals=deals, now=now
            ):
                await self._recorder.event(EventKind.RAIL, status.payload())

    # --- profit protection ----------------------------------------------------------------------------

    async def _protect_symbol(self, symbol: str, group: SymbolGroup, now: float) -> int:
        """Profit protection for the symbol's trades whose last look may no longer hold (``QuietTrades``)."""
        data = self._market.get(symbol)
        if data is None or not data.bid:
            return 0
        settings = self._settings().protection
        self._quiet.keyed(symbol, (data.rules, settings))
        if self._quiet_atr.get(symbol) != data.atr_m15:  # only trailing stops follow the ATR
            self._quiet_atr[symbol] = data.atr_m15
            for trade in group.trades.values():
                if trade.breakeven_triggered:
                    self._quiet.forget(trade.ticket, symbol)
        sent = 0
        for trade in self._quiet.due(symbol, group, data.bid, data.ask, now):
            if trade.ticket not in self.positions:
                continue  # its position is gone (a hedge of it still open keeps it managed): nothing to protect
            if trade.managed_by != DTMS or trade.dtms_paused or not trade.active:
                self._quiet.quiet(trade, FOR_GOOD)  # a decision (claim, resume) makes it due again
                continue
            sent += await self._protect(trade, now)
            quiet = protection_quiet(
                trade, bid=data.bid, ask=data.ask, rules=data.rules, atr=data.atr_m15, now=now, settings=settings
            )
            self._quiet.quiet(trade, quiet)
        return sent

    async def _protect(self, trade: Trade, now: float) -> int:
        data = self._market.get(trade.symbol)
        if data is None or not data.bid:
            return 0
        settings = self._settings().protection
        if update_best_price(trade, data.bid, data.ask):
            self._recorder.touch(trade)  # no decision: written with the next flush
        intents = plan_protection(
            trade, bid=data.bid, ask=data.ask, rules=data.rules, atr=data.atr_m15, now=now, settings=settings
        )
        sent = 0
        for intent in intents:
            if isinstance(intent, (MoveStop, TakePartial)) and self._cooling_down(trade, intent, now):
                continue
            match intent:
                case MarkBreakeven():
                    work = (stage := staged(trade)).work  # the flag shows once committed with its record
                    work.breakeven_triggered = True
                    work.best_price = trade.closing_price(data.bid, data.ask)
                    record = self._note(work, ActionKind.BREAKEVEN, ActionOutcome.NOT_SENT, intent.reason)
                    await self._recorder.commit(work, actions=[record], into=stage)
                case MoveStop():
                    sent += 1
                    await self._move_stop(trade, intent, data.bid, data.ask, now)
                case TakePartial():
                    sent += 1
                    await self._take_partial(trade, intent, data.rules)
                case SkipPartial():
                    work = (stage := staged(trade)).work
                    work.partial_taken = True
                    record = self._note(work, ActionKind.PARTIAL_TAKE, ActionOutcome.NOT_SENT, intent.reason)
                    await self._recorder.commit(work, actions=[record], into=stage)
        return sent

    def _cooling_down(self, trade: Trade, intent: MoveStop | TakePartial, now: float) -> bool:
        """A refused action is not resent unchanged at every cycle: it waits ``failed_retry_after_s``."""
        kind = intent.kind if isinstance(intent, MoveStop) else ActionKind.PARTIAL_TAKE
        failed = trade.last_action in (
            f"{kind.value} {ActionOutcome.FAILED.value}",
            f"{kind.value} {ActionOutcome.NOT_SENT.value}",
        )
        wait = self._settings().execution.failed_retry_after_s
        return failed and trade.last_action_at is not None and now - trade.last_action_at < wait

    async def _move_stop(self, trade: Trade, intent: MoveStop, bid: float, ask: float, now: float) -> None:
        # marked before sending: if the program dies with the request in flight, the restart reads the SL the
        # terminal shows and books it as this move, not as a change made outside DTMS
        stage = staged(trade)
        trade = stage.work  # the live trade changes only with each commit
        trade.pending_action = intent.kind.value
        await self._recorder.commit(trade, into=stage)
        sl_old = trade.sl
        result = await self._executor().set_stops(trade, sl=intent.sl, tp=trade.tp, kind=intent.kind)
        if result.outcome is not ActionOutcome.UNKNOWN:  # a lost answer is settled from the terminal's SL
            trade.pending_action = None
        if result.ok:
            trade.sl = intent.sl
            trade.last_sl_change_at = now
            if intent.kind is ActionKind.BREAKEVEN:
                trade.breakeven_triggered = True
                trade.best_price = trade.closing_price(bid, ask)
        await self._finish_action(
            trade,
            intent.kind,
            result.outcome,
            result.records,
            f"{intent.reason}; {result.detail}",
            extra={
                "reason": intent.reason,
                "sl_old": sl_old,
                "sl_new": intent.sl,
                "r": trade.profit_in_r(bid, ask),
                "mt5": result.detail,
            },
            into=stage,
        )

    async def _take_partial(self, trade: Trade, intent: TakePartial, rules: Any) -> None:
        stage = staged(trade)
        trade = stage.work
        trade.pending_action = ActionKind.PARTIAL_TAKE.value
        await self._recorder.commit(trade, into=stage)
        result = await self._executor().close(trade, volume=intent.volume, kind=ActionKind.PARTIAL_TAKE, rules=rules)
        if result.outcome is not ActionOutcome.UNKNOWN:  # a lost answer is settled from the terminal's positions
            trade.pending_action = None
        extra = closing_facts(trade, rules, result.volume if result.volume > 0 else intent.volume, result.price)
        if result.ok or result.volume > 0:  # a partial fill whose rest could not be closed still closed some
            trade.partial_taken = True
            # what the server filled (10010 DONE_PARTIAL fills less); a verified lost answer reports no volume
            done = result.volume if 0 < result.volume <= intent.volume else intent.volume
            trade.volume = rules.round_volume_down(trade.volume - done + 1e-9)
            extra = closing_facts(trade, rules, done, result.price)
        await self._finish_action(
            trade,
            ActionKind.PARTIAL_TAKE,
            result.outcome,
            result.records,
            f"{intent.reason}; {result.detail}",
            extra=extra | {"reason": intent.reason, "volume_left": trade.volume, "mt5": result.detail},
            into=stage,
        )

    async def _finish_action(
        self,
        trade: Trade,
        kind: ActionKind,
        outcome: ActionOutcome,
        records: tuple[ActionRecord, ...],
        detail: str,
        extra: dict[str, Any] | None = None,
        into: Staged | None = None,
    ) -> None:
        trade.last_action = f"{kind.value} {outcome.value}"
        trade.last_action_at = self._clock.now()
        last = records[-1] if records else None
        payload = {
            "ticket": trade.ticket,
            "symbol": trade.symbol,
            "kind": kind.value,
            "outcome": outcome.value,
            "retcode": last.retcode if last else None,
            "detail": detail,
        }
        reason = (extra or {}).get("reason")
        if reason:  # the journal says why, beside MT5's answer
            records = tuple(replace(r, detail=f"{reason}; {r.detail}") for r in records)
        # what a trader reads in a notification: the side, the state, and what DTMS does after a failure
        payload |= {"direction": trade.direction.value, "state": trade.state.value} | (extra or {})
        if outcome in (ActionOutcome.FAILED, ActionOutcome.NOT_SENT):
            wait = self._settings().execution.failed_retry_after_s
            payload["next"] = f"DTMS tries again in {wait:.0f} s if it is still due"
        elif outcome is ActionOutcome.UNKNOWN:
            payload["next"] = "DTMS reads the outcome from the terminal at the next cycle; nothing is sent again"
        await self._recorder.commit(trade, actions=records, events=[(EventKind.ACTION, payload)], into=into)

    def _note(self, trade: Trade, kind: ActionKind, outcome: ActionOutcome, detail: str) -> ActionRecord:
        return ActionRecord(
            ticket=trade.ticket,
            kind=kind,
            request={},
            outcome=outcome,
            detail=detail,
            at=self._clock.now(),
            wall_at=time.time(),
        )

    def _publish_prices(self, now: float) -> None:
        rows = self._live.rows(self._registry.groups(), self._market, self.positions, now)
        self._recorder.live(EventKind.TRADE_UPDATED, {"rows": rows})
