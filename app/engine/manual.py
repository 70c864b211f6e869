"""The trader's own actions on one trade (close, close a part, breakeven now, pause DTMS for this trade).

Each is planned first (``ManualPlan``: what will be sent, or why it cannot be), shown to the trader, then
carried out through the engine's executor exactly as DTMS's own actions are: broker rules, retcode handling,
every attempt journaled with its real outcome and an ACTION event committed before anyone hears of it. Only
trades DTMS owns are touched. A plan is checked again right before it is sent (the trade may have changed
while the trader read the confirmation).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from app.engine.broker import SymbolRules
from app.engine.events import EventKind
from app.engine.executor import ActionExecutor
from app.engine.facts import closing_facts
from app.engine.market_data import MarketData
from app.engine.model import ActionKind, ActionOutcome, Direction, Trade
from app.engine.prices import price_text
from app.engine.protection import is_better_sl
from app.engine.recorder import Recorder, Staged, staged
from app.engine.registry import DTMS, TradeRegistry
from app.engine.settings import ExecutionSettings
from app.errors import NotOwner, RejectedError, TradeNotManaged

logger = logging.getLogger(__name__)

_FILLING = {0: "ORDER_FILLING_FOK", 1: "ORDER_FILLING_IOC", 2: "ORDER_FILLING_RETURN", 3: "ORDER_FILLING_BOC"}

#: How the journal and the notifications name who asked for the action.
BY_TRADER = "asked by the trader in the window"


@dataclass(frozen=True, slots=True, kw_only=True)
class ManualPlan:
    """One action as it will be sent; ``refused`` says why it cannot be sent (then nothing is)."""

    ticket: int
    kind: ActionKind
    summary: str
    request: dict[str, Any]
    volume: float = 0.0
    sl: float = 0.0
    refused: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ManualResult:
    ok: bool
    outcome: ActionOutcome
    message: str
    retcode: int | None = None


class ManualActions:
    def __init__(
        self,
        *,
        registry: TradeRegistry,
        market: MarketData,
        executor: Callable[[], ActionExecutor],
        recorder: Recorder,
        lock: asyncio.Lock,
        now: Callable[[], float],
        execution: Callable[[], ExecutionSettings],
    ) -> None:
        """``lock`` is the one the fast cycle runs under: a trader's action never interleaves with a cycle that
        would take its half-done change for a change made outside DTMS."""
        self._registry = registry
        self._market = market
        self._executor = executor
        self._recorder = recorder
        self._lock = lock
        self._now = now
        self._execution = execution

    # --- planning ------------------------------------------------------------------------------------

    def plan_close(self, ticket: int, volume: float | None = None, fraction: float | None = None) -> ManualPlan:
        """Close the whole trade (no volume, no fraction) or a part of it."""
        trade, rules, bid, ask = self._context(ticket)
        whole = volume is None and fraction is None
        wanted = trade.volume if whole else (trade.volume * fraction if fraction is not None else float(volume or 0))
        lots = trade.volume if whole else rules.round_volume_down(wanted + 1e-9)
        kind = ActionKind.CLOSE if whole or lots >= trade.volume - 1e-9 else ActionKind.PARTIAL_CLOSE
        side = "SELL" if trade.direction is Direction.BUY else "BUY"
        price = bid if trade.direction is Direction.BUY else ask
        execution = self._execution()
        request = {
            "action": "TRADE_ACTION_DEAL",
            "position": trade.ticket,
            "symbol": trade.symbol,
            "type": side,
            "volume": lots,
            "price": price,
            "deviation": execution.deviation_points,
            "type_filling": _FILLING.get(rules.type_filling(), rules.type_filling()),
            "magic": execution.magic,
        }
        what = "Close all" if kind is ActionKind.CLOSE else "Close part:"
        summary = (
            f"{what} {lots:g} of {trade.volume:g} lots of #{trade.ticket} {trade.symbol} "
            f"{trade.direction.value}: a {side} deal at market (now {price_text(price, rules.digits)})"
        )
        refused = ""
        rest = rules.round_volume_down(trade.volume - lots + 1e-9)
        if lots < rules.volume_min:
            refused = f"{lots:g} lots is below the symbol's minimum volume {rules.volume_min:g}"
        elif kind is ActionKind.PARTIAL_CLOSE and rest < rules.volume_min:
            refused = (
                f"closing {lots:g} of {trade.volume:g} would leave {rest:g} lots, below the minimum "
                f"{rules.volume_min:g}: close all instead"
            )
        return ManualPlan(ticket=ticket, kind=kind, summary=summary, request=request, volume=lots, refused=refused)

    def plan_breakeven(self, ticket: int) -> ManualPlan:
        """SL to the entry price now, whatever the profit (only if that is tighter and the broker allows it)."""
        trade, rules, bid, ask = self._context(ticket)
        sl = rules.round_price(trade.entry)
        request = {
            "action": "TRADE_ACTION_SLTP",
            "position": trade.ticket,
            "symbol": trade.symbol,
            "sl": sl,
            "tp": trade.tp,
            "magic": self._execution().magic,
        }
        digits = rules.digits
        summary = (
            f"Move the SL of #{trade.ticket} {trade.symbol} {trade.direction.value} {trade.volume:g} from "
            f"{price_text(trade.sl, digits) if trade.sl else 'none'} to {price_text(sl, digits)} (breakeven)"
            + (f"; TP stays {price_text(trade.tp, digits)}" if trade.tp else "")
        )
        refused = ""
        if not is_better_sl(trade.direction, sl, trade.sl):
            refused = f"the SL {price_text(trade.sl, digits)} is already at or past breakeven {price_text(sl, digits)}"
        elif not rules.sl_allowed(trade.direction, sl, bid, ask):
            refused = (
                f"the broker does not allow an SL at {price_text(sl, digits)} with bid {price_text(bid, digits)} "
                f"/ ask {price_text(ask, digits)} (price is past "
                "the entry or inside the stops level)"
            )
        elif rules.frozen(trade.direction, trade.sl, trade.tp, bid, ask):
            refused = "price is inside the freeze level: the broker refuses changes now"
        return ManualPlan(
            ticket=ticket, kind=ActionKind.BREAKEVEN, summary=summary, request=request, sl=sl, refused=refused
        )

    # --- carrying out --------------------------------------------------------------------------------

    async def carry_out(self, plan: ManualPlan) -> ManualResult:
        async with self._lock:
            fresh = (
                self.plan_breakeven(plan.ticket)
                if plan.kind is ActionKind.BREAKEVEN
                else self.plan_close(plan.ticket, volume=plan.volume)
            )
            if fresh.refused or (plan.kind is not ActionKind.BREAKEVEN and fresh.volume != plan.volume):
                why = fresh.refused or "the trade's volume changed since the confirmation"
                return ManualResult(ok=False, outcome=ActionOutcome.NOT_SENT, message=f"not sent: {why}")
            trade, rules, bid, ask = self._context(plan.ticket)
            if plan.kind is ActionKind.BREAKEVEN:
                return await self._breakeven(trade, fresh, bid, ask)
            return await self._close(trade, fresh, rules, bid, ask)

    async def _breakeven(self, trade: Trade, plan: ManualPlan, bid: float, ask: float) -> ManualResult:
        sl_old = trade.sl
        stage = staged(trade)
        trade = stage.work  # the live trade changes only with each commit
        trade.pending_action = ActionKind.BREAKEVEN.value  # a lost answer is settled from the terminal's SL
        await self._recorder.commit(trade, into=stage)
        result = await self._executor().set_stops(trade, sl=plan.sl, tp=trade.tp, kind=ActionKind.BREAKEVEN)
        if result.outcome is not ActionOutcome.UNKNOWN:
            trade.pending_action = None
        if result.ok:
            trade.sl = plan.sl
            trade.last_sl_change_at = self._now()
            trade.breakeven_triggered = True
            trade.best_price = trade.closing_price(bid, ask)
        extra = {"sl_old": sl_old, "sl_new": plan.sl, "r": trade.profit_in_r(bid, ask)}
        return await self._finish(trade, ActionKind.BREAKEVEN, result, extra, into=stage)

    async def _close(self, trade: Trade, plan: ManualPlan, rules: SymbolRules, bid: float, ask: float) -> ManualResult:
        whole = plan.kind is ActionKind.CLOSE
        stage = staged(trade)
        trade = stage.work
        result = await self._executor().close(trade, volume=plan.volume, kind=plan.kind, rules=rules)
        filled = result.volume if 0 < result.volume <= plan.volume else plan.volume
        extra = closing_facts(trade, rules, filled, result.price or trade.closing_price(bid, ask))
        if result.ok:
            if whole and filled >= trade.volume - 1e-9:
                trade.pending_action = ActionKind.CLOSE.value  # reconciliation books the close as DTMS's own
            trade.volume = rules.round_volume_down(trade.volume - filled + 1e-9)
        extra["volume_left"] = trade.volume
        return await self._finish(trade, plan.kind, result, extra, into=stage)

    async def _finish(
        self, trade: Trade, kind: ActionKind, result: Any, extra: dict[str, Any], *, into: Staged
    ) -> ManualResult:
        trade.last_action = f"{kind.value} {result.outcome.value}"
        trade.last_action_at = self._now()
        last = result.records[-1] if result.records else None
        payload = {
            "ticket": trade.ticket,
            "symbol": trade.symbol,
            "kind": kind.value,
            "outcome": result.outcome.value,
            "retcode": last.retcode if last else None,
            "detail": f"{BY_TRADER}; {result.detail}",
            "reason": BY_TRADER,
            "manual": True,
            "direction": trade.direction.value,
            "state": trade.state.value,
            "mt5": result.detail,
        } | extra
        if not result.ok:
            payload["next"] = (
                "DTMS reads the outcome from the terminal at the next cycle; nothing is sent again"
                if result.outcome is ActionOutcome.UNKNOWN
                else "nothing more is sent; try again"
            )
        records = tuple(replace(r, detail=f"{BY_TRADER}; {r.detail}") for r in result.records)
        await self._recorder.commit(trade, actions=records, events=[(EventKind.ACTION, payload)], into=into)
        verb = "done" if result.ok else result.outcome.value.lower().replace("_", " ")
        logger.info("ticket %s: %s by the trader %s: %s", trade.ticket, kind.value, verb, result.detail)
        return ManualResult(
            ok=result.ok,
            outcome=result.outcome,
            retcode=result.retcode,
            message=f"{kind.value.replace('_', ' ').capitalize()} {verb}: {result.detail}",
        )

    async def set_paused(self, ticket: int, paused: bool) -> Trade:
        """Pause or resume DTMS for one trade (persisted): while paused nothing is sent for it."""
        trade = self._owned(ticket)
        if trade.dtms_paused != paused:
            stage = staged(trade)  # shown paused once that is committed
            stage.work.dtms_paused = paused
            detail = (
                "DTMS paused for this trade by the trader: watched, nothing sent"
                if paused
                else "DTMS resumed for this trade"
            )
            await self._recorder.commit(
                stage.work,
                into=stage,
                events=[
                    (EventKind.TRADE_CHANGED, {"ticket": ticket, "what": "paused", "paused": paused, "detail": detail})
                ],
            )
        return trade

    # --- context -------------------------------------------------------------------------------------

    def _owned(self, ticket: int) -> Trade:
        trade = self._registry.get(ticket)
        if trade is None:
            raise TradeNotManaged(ticket)
        if trade.managed_by != DTMS:
            raise NotOwner(f"ticket {ticket} is managed by {trade.managed_by}: DTMS does not act on it")
        return trade

    def _context(self, ticket: int) -> tuple[Trade, SymbolRules, float, float]:
        trade = self._owned(ticket)
        data = self._market.get(trade.symbol)
        if data is None or not data.bid or data.rules is None:
            raise RejectedError(f"no price for {trade.symbol} yet")
        return trade, data.rules, float(data.bid), float(data.ask)
