"""Carrying out a defensive transition exactly once (DTMS_SPEC.md §2.2, §4, §5).

The transition is written to ``Trade.pending_action`` before anything is sent; then each action goes
through the executor (every attempt journaled with its real outcome); then the trade, its Transition and
the ActionRecords are committed in one transaction, and only then are events published. If the terminal is
lost half-way, what was done so far is committed with the pending transition, which then names how many
actions were finished. A program that stopped (or lost its terminal) in the middle settles the pending
transition at its next reconciliation, before it looks for changes made outside DTMS: the terminal's
positions say whether each unfinished action happened (a hedge or re-add is recognised by its comment),
and nothing is sent again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from app.engine.broker import SymbolRules
from app.engine.defense.outcome import JOURNAL_KIND, Run, record_outcome
from app.engine.defense.rules import Decision, DefenseAction
from app.engine.defense.rules import DefenseActionKind as K
from app.engine.executor import ActionExecutor, ActionResult
from app.engine.facts import closing_facts
from app.engine.model import ActionKind, ActionOutcome, Direction, Trade
from app.engine.prices import price_text
from app.engine.rails import SafetyRails
from app.engine.reconcile import HEDGE_PREFIX, READD_PREFIX
from app.engine.recorder import CommitBatch, Recorder, Staged, staged
from app.engine.registry import DTMS
from app.errors import TemporaryError

logger = logging.getLogger(__name__)

#: ``Trade.pending_action`` of a transition under way starts with this, followed by the decision as JSON.
PENDING_PREFIX = "DEFENSE "
#: How the journal introduces an action judged from the terminal's positions instead of its own answer.
SETTLED = "settled from the terminal"
MAX_COMMENT = 29


class PositionsGateway(Protocol):
    async def positions(self, **filters: Any) -> tuple[Any, ...]: ...


def hedge_comment(ticket: int) -> str:
    return _comment(HEDGE_PREFIX, ticket)


def readd_comment(ticket: int) -> str:
    return _comment(READD_PREFIX, ticket)


def _comment(prefix: str, ticket: int) -> str:
    text = f"{prefix}{ticket}"
    if len(text) > MAX_COMMENT:
        raise ValueError(f"ticket {ticket} makes the comment {text!r} longer than {MAX_COMMENT} characters")
    return text


def _mark(trade: Trade, pending: dict[str, Any], *, done: int) -> None:
    """Write the transition under way into the trade: ``done`` actions finished, and the volume and SL the
    next one starts from (what settling judges it against)."""
    pending.update(done=done, volume_before=trade.volume, sl_before=trade.sl)
    trade.pending_action = PENDING_PREFIX + json.dumps(pending, separators=(",", ":"))


def opposite(direction: Direction) -> Direction:
    return Direction.SELL if direction is Direction.BUY else Direction.BUY


@dataclass(slots=True, kw_only=True)
class Plan:
    """A decision about to be carried out: its working copy of the trade (marked as under way) and the prices and
    rules its actions are sent with."""

    stage: Staged
    decision: Decision
    pending: dict[str, Any]
    rules: SymbolRules
    bid: float
    ask: float
    hedging_account: bool


class DefenseActions:
    def __init__(
        self,
        *,
        gateway: PositionsGateway,
        executor: Callable[[], ActionExecutor],
        recorder: Recorder,
        rails: SafetyRails,
        now: Callable[[], float],
    ) -> None:
        self._gateway = gateway
        self._executor = executor
        self._recorder = recorder
        self._rails = rails
        self._now = now

    async def carry_out(
        self,
        trade: Trade,
        decision: Decision,
        *,
        rules: SymbolRules,
        bid: float,
        ask: float,
        hedging_account: bool,
    ) -> int:
        """One decision on its own (a deep check pass plans and sends many, ``plan`` then ``send``): its mark
        committed, its actions sent once, its transition committed; returns the terminal calls made.

        An action whose answer was lost (outcome UNKNOWN) leaves the transition pending: the next
        reconciliation sees in the terminal whether it happened and completes the transition then."""
        plan = self.plan(trade, decision, rules=rules, bid=bid, ask=ask, hedging_account=hedging_account)
        if decision.actions:  # marked before anything is sent; a change of state alone is committed once
            await self._recorder.commit(plan.stage.work, into=plan.stage)
        return await self.send(plan)

    def plan(
        self, trade: Trade, decision: Decision, *, rules: SymbolRules, bid: float, ask: float, hedging_account: bool
    ) -> Plan:
        """The decision staged on a working copy of the trade, its transition marked as under way (nothing done
        yet). A plan with actions is sent (``send``) only once that mark is committed (``plan.stage``)."""
        if trade.managed_by != DTMS:
            raise PermissionError(f"ticket {trade.ticket} is managed by {trade.managed_by}, not by DTMS")
        stage = staged(trade)
        pending = decision.as_dict() | {"unknown": []}
        _mark(stage.work, pending, done=0)
        return Plan(
            stage=stage,
            decision=decision,
            pending=pending,
            rules=rules,
            bid=bid,
            ask=ask,
            hedging_account=hedging_account,
        )

    async def send(self, plan: Plan, batch: CommitBatch | None = None) -> int:
        """Send the plan's actions once (its mark committed) and commit the transition, or stage it in ``batch``;
        returns the terminal calls made. A lost terminal or a lost answer commits what was done, alone."""
        stage, decision, pending = plan.stage, plan.decision, plan.pending
        trade = stage.work  # the live trade changes only with each commit
        run = Run(sl_start=trade.sl, volume_start=trade.volume, state=decision.to_state)
        for index, action in enumerate(decision.actions):
            _mark(trade, pending, done=index)
            seen = len(run.outcomes)
            try:
                await self._one(
                    trade,
                    action,
                    run,
                    rules=plan.rules,
                    bid=plan.bid,
                    ask=plan.ask,
                    hedging_account=plan.hedging_account,
                )
            except TemporaryError:
                # the terminal is gone half-way: keep what was done; the reconnection settles the rest
                logger.warning(
                    "ticket %s: terminal lost during %s; %d of %d actions finished",
                    trade.ticket,
                    action.kind,
                    index,
                    len(decision.actions),
                )
                await self._recorder.commit(trade, actions=run.records, into=stage)
                raise
            if any(outcome is ActionOutcome.UNKNOWN for _, outcome, _ in run.outcomes[seen:]):
                pending["unknown"].append([index, pending["volume_before"], pending["sl_before"]])
        _mark(trade, pending, done=len(decision.actions))
        if pending["unknown"]:
            logger.warning("ticket %s: an answer was lost; the transition is settled from the terminal", trade.ticket)
            await self._recorder.commit(trade, actions=run.records, into=stage)
            return run.calls
        await self._finish(trade, decision, run, into=stage, batch=batch)
        return run.calls

    async def settle(self, trade: Trade, positions: Mapping[int, Any]) -> bool:
        """Complete a transition found under way (after a restart, a lost terminal or a lost answer): each
        action not known to be finished is judged by what the terminal shows; nothing is sent."""
        marker = trade.pending_action or ""
        if not marker.startswith(PENDING_PREFIX):
            return False
        data = json.loads(marker[len(PENDING_PREFIX) :])
        stage = staged(trade)  # the live trade changes only with the commit
        trade = stage.work
        decision = Decision.from_dict(data)
        own = positions.get(trade.ticket)
        open_actions = [(int(i), float(volume), float(sl)) for i, volume, sl in data.get("unknown", [])]
        open_actions += [
            (i, float(data["volume_before"]), float(data["sl_before"]))
            for i in range(int(data.get("done", 0)), len(decision.actions))
        ]
        run = Run()
        for index, volume_before, sl_before in open_actions:
            action = decision.actions[index]
            done, detail = self._was_done(trade, action, own, positions, volume_before, sl_before)
            outcome = ActionOutcome.SUCCESS if done else ActionOutcome.NOT_SENT
            self._note(run, trade, action.kind, outcome, f"{SETTLED}: {detail}", decision.at)
        if own is not None:
            trade.volume, trade.sl = float(own.volume), float(own.sl)
        await self._finish(trade, decision, run, closed=own is None, into=stage)
        return True

    # --- one action ---------------------------------------------------------------------------------------

    async def _one(
        self,
        trade: Trade,
        action: DefenseAction,
        run: Run,
        *,
        rules: SymbolRules,
        bid: float,
        ask: float,
        hedging_account: bool,
    ) -> None:
        match action.kind:
            case K.TIGHTEN | K.MOVE_SL_BREAKEVEN:
                await self._move_sl(trade, action, run, rules, bid, ask)
            case K.PARTIAL_CLOSE:
                await self._partial(trade, action, run, rules)
            case K.HEDGE | K.READD:
                await self._open(trade, action, run, rules, bid, ask, hedging_account)
            case K.CLOSE_HEDGE:
                await self._close_hedge(trade, run, rules)
            case K.CLOSE_ALL:
                await self._close_all(trade, run, rules)

    async def _move_sl(
        self, trade: Trade, action: DefenseAction, run: Run, rules: SymbolRules, bid: float, ask: float
    ) -> None:
        sl = rules.round_price(action.sl)
        if action.kind is K.TIGHTEN and not rules.sl_allowed(trade.direction, sl, bid, ask):
            sl = rules.clamp_sl(trade.direction, sl, bid, ask)
        tighter = trade.sl == 0.0 or (sl > trade.sl if trade.direction is Direction.BUY else sl < trade.sl)
        if not tighter:
            return self._note(
                run,
                trade,
                action.kind,
                ActionOutcome.NOT_SENT,
                f"SL {price_text(sl, rules.digits)} would not be tighter than {price_text(trade.sl, rules.digits)}",
            )
        if not rules.sl_allowed(trade.direction, sl, bid, ask):
            return self._note(
                run,
                trade,
                action.kind,
                ActionOutcome.NOT_SENT,
                f"SL {price_text(sl, rules.digits)} is not allowed at bid {price_text(bid, rules.digits)} / ask "
                f"{price_text(ask, rules.digits)} (price past it or inside the stops level)",
            )
        if rules.frozen(trade.direction, trade.sl, trade.tp, bid, ask):
            return self._note(run, trade, action.kind, ActionOutcome.NOT_SENT, "inside the freeze level")
        sl_old = trade.sl
        result = await self._executor().set_stops(trade, sl=sl, tp=trade.tp, kind=JOURNAL_KIND[action.kind])
        if result.ok:
            trade.sl = sl
            trade.last_sl_change_at = self._now()
        run.add(action.kind, result, {"sl_old": sl_old, "sl_new": sl})

    async def _partial(self, trade: Trade, action: DefenseAction, run: Run, rules: SymbolRules) -> None:
        volume = rules.round_volume_down(action.volume)
        rest = rules.round_volume_down(trade.volume - volume + 1e-9)
        if volume < rules.volume_min or rest < rules.volume_min:
            return self._cannot(
                run,
                trade,
                action.kind,
                f"closing {volume:g} of {trade.volume:g} would go below the minimum volume {rules.volume_min:g}",
            )
        result = await self._executor().close(trade, volume=volume, kind=ActionKind.PARTIAL_CLOSE, rules=rules)
        run.calls += 1
        # what was filled (a 10010 whose rest could not be closed still closed part of it)
        filled = result.volume if 0 < result.volume <= volume + 1e-9 else (volume if result.ok else 0.0)
        if filled:
            trade.volume = rest if result.ok else rules.round_volume_down(trade.volume - filled + 1e-9)
            trade.closed_volume = round(trade.closed_volume + filled, 8)
        run.add(
            action.kind,
            result,
            closing_facts(trade, rules, filled or volume, result.price) | {"volume_left": trade.volume},
        )

    async def _open(
        self,
        trade: Trade,
        action: DefenseAction,
        run: Run,
        rules: SymbolRules,
        bid: float,
        ask: float,
        hedging_account: bool,
    ) -> None:
        if action.kind is K.HEDGE and not hedging_account:
            # on a netting account the opposite deal would reduce the trade instead of hedging it
            return self._note(run, trade, action.kind, ActionOutcome.NOT_SENT, "no hedge on a netting account")
        allowed, rail = self._rails.risk_allowed(trade.symbol)
        if not allowed:
            return self._note(run, trade, action.kind, ActionOutcome.NOT_SENT, f"adds risk; safety rail: {rail}")
        volume = min(rules.round_volume_down(action.volume), rules.volume_max)
        if volume < rules.volume_min:
            return self._cannot(
                run, trade, action.kind, f"volume {action.volume:g} is below the minimum {rules.volume_min:g}"
            )
        hedge = action.kind is K.HEDGE
        direction = opposite(trade.direction) if hedge else trade.direction
        sl = rules.round_price(action.sl) if action.sl else 0.0
        if sl and not rules.sl_allowed(direction, sl, bid, ask):
            sl = rules.clamp_sl(direction, sl, bid, ask)
        comment = hedge_comment(trade.ticket) if hedge else readd_comment(trade.ticket)
        result = await self._executor().open(
            trade,
            direction=direction,
            volume=volume,
            sl=sl,
            comment=comment,
            kind=JOURNAL_KIND[action.kind],
            rules=rules,
        )
        facts = {
            "volume": volume,
            "price": result.price,
            "sl_new": sl,
            "position": result.position,
            "side": direction.value,
        }
        if result.ok and hedge:
            trade.hedge_ticket = result.position
        elif result.ok:
            trade.closed_volume = 0.0  # what was closed has been put back (as far as the setting says)
            if not hedging_account:
                trade.volume = round(trade.volume + volume, 8)  # netting: the deal adds to the same position
        run.add(action.kind, result, facts)

    async def _close_hedge(self, trade: Trade, run: Run, rules: SymbolRules) -> None:
        if trade.hedge_ticket is None:
            return
        found = await self._gateway.positions(ticket=trade.hedge_ticket)
        run.calls += 1
        if not found:
            trade.hedge_ticket = None
            return self._note(
                run,
                trade,
                K.CLOSE_HEDGE,
                ActionOutcome.NOT_SENT,
                "the hedge is already closed (its SL was hit or it was closed by hand)",
            )
        result = await self._executor().close(
            trade,
            volume=float(found[0].volume),
            kind=ActionKind.CLOSE_HEDGE,
            rules=rules,
            position=trade.hedge_ticket,
            direction=opposite(trade.direction),
        )
        if result.ok and not 0 < result.volume < float(found[0].volume) - 1e-9:
            trade.hedge_ticket = None
        elif result.ok or result.volume:
            # partly filled: the hedge is let go only once the terminal shows it gone; the rest stays managed
            left = await self._gateway.positions(ticket=trade.hedge_ticket)
            run.calls += 1
            if not left:
                trade.hedge_ticket = None
            else:
                result = _still_open(result, float(left[0].volume))
        run.add(
            K.CLOSE_HEDGE,
            result,
            {"volume": float(found[0].volume), "price": result.price, "position": int(found[0].ticket)},
        )

    async def _close_all(self, trade: Trade, run: Run, rules: SymbolRules) -> None:
        await self._close_hedge(trade, run, rules)
        readds = [
            p
            for p in await self._gateway.positions(symbol=trade.symbol)
            if str(p.comment) == readd_comment(trade.ticket)
        ]
        run.calls += 1
        for position in readds:
            result = await self._executor().close(
                trade, volume=float(position.volume), kind=ActionKind.CLOSE, rules=rules, position=int(position.ticket)
            )
            run.add(K.CLOSE_ALL, result)
        result = await self._executor().close(trade, volume=trade.volume, kind=ActionKind.CLOSE, rules=rules)
        closed = trade.volume
        if not result.ok and 0 < result.volume < trade.volume:  # part closed: the trade keeps the rest
            closed = result.volume
            trade.volume = rules.round_volume_down(trade.volume - result.volume + 1e-9)
        run.add(K.CLOSE_ALL, result, closing_facts(trade, rules, closed, result.price))

    # --- settling from the terminal ----------------------------------------------------------------------

    def _was_done(
        self,
        trade: Trade,
        action: DefenseAction,
        own: Any,
        positions: Mapping[int, Any],
        volume_before: float,
        sl_before: float,
    ) -> tuple[bool, str]:
        match action.kind:
            case K.HEDGE:
                hedge = next((p for p in positions.values() if str(p.comment) == hedge_comment(trade.ticket)), None)
                if hedge is not None:
                    trade.hedge_ticket = int(hedge.ticket)
                    return True, f"the hedge {int(hedge.ticket)} was opened"
                return False, "the hedge had not been opened; not sent again"
            case K.READD:
                readd = any(str(p.comment) == readd_comment(trade.ticket) for p in positions.values())
                grown = own is not None and float(own.volume) > volume_before + 1e-9
                if readd or grown:
                    trade.closed_volume = 0.0
                    return True, "the re-add was opened"
                return False, "the re-add had not been opened; not sent again"
            case K.PARTIAL_CLOSE:
                closed = volume_before - float(own.volume) if own is not None else 0.0
                if closed > 1e-9:
                    trade.closed_volume = round(trade.closed_volume + closed, 8)
                    return True, f"{closed:g} had been closed"
                return False, "nothing had been closed; not sent again"
            case K.TIGHTEN | K.MOVE_SL_BREAKEVEN:
                moved = own is not None and abs(float(own.sl) - sl_before) > 1e-12
                return moved, "the SL had been moved" if moved else "the SL had not been moved; not sent again"
            case K.CLOSE_HEDGE | K.CLOSE_ALL:
                if trade.hedge_ticket is not None and trade.hedge_ticket not in positions:
                    trade.hedge_ticket = None
                if action.kind is K.CLOSE_HEDGE:
                    done = trade.hedge_ticket is None
                    return done, "the hedge is closed" if done else "the hedge is still open"
                if own is None:
                    return True, "the trade is closed"
                return False, "the trade is still open; the next check closes it"
        return False, "unknown action"

    # --- journal ----------------------------------------------------------------------------------------------

    async def _finish(
        self,
        trade: Trade,
        decision: Decision,
        run: Run,
        *,
        closed: bool = False,
        into: Staged,
        batch: CommitBatch | None = None,
    ) -> None:
        """Write the outcome into the staged ``trade`` and commit it with its transition and journal in one
        transaction (or stage all of it in ``batch``); the live trade takes it only then."""
        transitions, events = record_outcome(trade, decision, run, closed=closed, now=self._now())
        if batch is not None:
            batch.add(into, actions=run.records, transitions=transitions, events=events)
            return
        await self._recorder.commit(trade, actions=run.records, transitions=transitions, events=events, into=into)

    def _cannot(self, run: Run, trade: Trade, kind: K, detail: str) -> None:
        run.cannot(trade, kind, detail, at=self._now())

    def _note(
        self, run: Run, trade: Trade, kind: K, outcome: ActionOutcome, detail: str, at: float | None = None
    ) -> None:
        run.note(trade, kind, outcome, detail, at=self._now() if at is None else at)


def _still_open(result: ActionResult, volume: float) -> ActionResult:
    """A close that left part of the position open is not a success, whatever the last answer said."""
    return ActionResult(
        ok=False,
        outcome=ActionOutcome.FAILED,
        records=result.records,
        retcode=result.retcode,
        volume=result.volume,
        price=result.price,
        position=result.position,
        detail=f"{result.detail}; {volume:g} lots of it are still open and stay managed",
    )
