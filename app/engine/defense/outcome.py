"""What carrying out a defensive decision came to, and how it is written: the staged trade's new state, its
Transition, and the events that tell it (DTMS_SPEC.md §2.2)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from app.engine.defense.rules import Decision
from app.engine.defense.rules import DefenseActionKind as K
from app.engine.events import EventKind
from app.engine.executor import ActionResult
from app.engine.model import ActionKind, ActionOutcome, ActionRecord, DefensiveState, Trade, Transition

logger = logging.getLogger(__name__)

#: the journal's kind of each defensive action
JOURNAL_KIND = {
    K.TIGHTEN: ActionKind.TIGHTEN,
    K.PARTIAL_CLOSE: ActionKind.PARTIAL_CLOSE,
    K.MOVE_SL_BREAKEVEN: ActionKind.BREAKEVEN,
    K.HEDGE: ActionKind.HEDGE,
    K.CLOSE_HEDGE: ActionKind.CLOSE_HEDGE,
    K.CLOSE_ALL: ActionKind.CLOSE,
    K.READD: ActionKind.READD,
}

Events = list[tuple[EventKind, dict[str, Any]]]


@dataclass(slots=True)
class Run:
    """What carrying out one decision came to, action by action."""

    records: list[ActionRecord] = field(default_factory=list)
    outcomes: list[tuple[K, ActionOutcome, str]] = field(default_factory=list)
    extras: list[dict[str, Any]] = field(default_factory=list)  # per outcome: volume, price, money, SL old/new
    calls: int = 0
    sl_start: float | None = None
    volume_start: float | None = None
    state: DefensiveState | None = None  # the state the decision takes the trade to

    def add(self, kind: K, result: ActionResult, extra: dict[str, Any] | None = None) -> None:
        self.records.extend(result.records)
        self.calls += 2 * len(result.records)  # a tick and an order_send per attempt
        self.outcomes.append((kind, result.outcome, result.detail))
        self.extras.append(extra or {})

    def note(self, trade: Trade, kind: K, outcome: ActionOutcome, detail: str, *, at: float) -> None:
        """An outcome known without an answer of the terminal (not sent, or judged from its positions)."""
        self.records.append(
            ActionRecord(
                ticket=trade.ticket,
                kind=JOURNAL_KIND[kind],
                request={},
                outcome=outcome,
                detail=detail,
                at=at,
                wall_at=time.time(),
            )
        )
        self.outcomes.append((kind, outcome, detail))
        self.extras.append({})

    def cannot(self, trade: Trade, kind: K, detail: str, *, at: float) -> None:
        """An action that cannot be sent for a reason that does not change by itself (the volume): journaled the
        first time in this state at this volume, then only kept in ``Trade.cannot``, which the trade shows."""
        state = self.state.value if self.state is not None else trade.state.value
        key = f"{state}:{JOURNAL_KIND[kind].value}@{trade.volume:g}"
        if key in trade.cannot:
            return
        trade.cannot = {**trade.cannot, key: detail}  # a new dict: the staged change is seen and committed
        self.note(trade, kind, ActionOutcome.NOT_SENT, detail, at=at)


def record_outcome(
    trade: Trade, decision: Decision, run: Run, *, closed: bool, now: float
) -> tuple[list[Transition], Events]:
    """Write the decision's outcome into the staged ``trade``; returns its Transition (none when the state stays)
    and the events that tell it, to be committed with it."""
    at = decision.at
    trade.pending_action = None
    closes = [o for k, o, _ in run.outcomes if k is K.CLOSE_ALL]
    closed_all = bool(closes) and closes[-1] is ActionOutcome.SUCCESS  # the trade's own close comes last
    closed_all = closed_all or (closed and decision.to_state is DefensiveState.CLOSED)
    if closed_all:
        trade.pending_action = ActionKind.CLOSE.value  # tells reconciliation the position was closed by DTMS
    trade.flat_timer_until = decision.flat_timer_until
    trade.recovery_timer_until = decision.recovery_timer_until
    trade.warnings, trade.last_warning_at = decision.warnings, decision.last_warning_at
    trade.score = decision.score
    moved = decision.to_state is not decision.from_state
    transitions: list[Transition] = []
    events: Events = []
    if moved:
        trade.state = decision.to_state
        trade.state_since = at
        transitions.append(
            Transition(
                ticket=trade.ticket,
                from_state=decision.from_state,
                to_state=decision.to_state,
                reason=decision.reason,
                score=decision.score,
                at=at,
            )
        )
        events.append((EventKind.STATE_CHANGED, _state_changed(trade, decision, run)))
    for (kind, outcome, detail), extra in zip(run.outcomes, run.extras, strict=True):
        events.append((EventKind.ACTION, _action(trade, decision, run, kind, outcome, detail, extra)))
    if run.outcomes:
        kind, outcome, _ = run.outcomes[-1]
        trade.last_action = f"{JOURNAL_KIND[kind].value} {outcome.value}"
        trade.last_action_at = now
    if decision.to_state is DefensiveState.CLOSED and not closed_all:
        logger.warning("ticket %s: close did not go through; retried at the next deep check", trade.ticket)
    return transitions, events


def _state_changed(trade: Trade, decision: Decision, run: Run) -> dict[str, Any]:
    done = [
        {"kind": JOURNAL_KIND[kind].value, "outcome": outcome.value, "detail": detail} | extra
        for (kind, outcome, detail), extra in zip(run.outcomes, run.extras, strict=True)
    ]
    return {
        "ticket": trade.ticket,
        "symbol": trade.symbol,
        "from": decision.from_state.value,
        "to": decision.to_state.value,
        "reason": decision.reason,
        "score": decision.score,
        # what the transition did, for a notification that tells it in one go
        "direction": trade.direction.value,
        "sl_old": run.sl_start,
        "sl_new": trade.sl,
        "volume_old": run.volume_start,
        "volume_new": trade.volume,
        "actions": done,
    }


def _action(
    trade: Trade,
    decision: Decision,
    run: Run,
    kind: K,
    outcome: ActionOutcome,
    detail: str,
    extra: dict[str, Any],
) -> dict[str, Any]:
    last = next((r for r in reversed(run.records) if r.kind is JOURNAL_KIND[kind]), None)
    payload = {
        "ticket": trade.ticket,
        "symbol": trade.symbol,
        "kind": JOURNAL_KIND[kind].value,
        "outcome": outcome.value,
        "retcode": last.retcode if last else None,
        "detail": detail,
    }
    payload |= extra | {
        "reason": decision.reason,
        "state": decision.to_state.value,
        "direction": trade.direction.value,
        "mt5": detail,
        "transition": decision.to_state is not decision.from_state,
    }
    if outcome in (ActionOutcome.FAILED, ActionOutcome.NOT_SENT):
        payload["next"] = (
            "DTMS closes again at the next deep check"
            if kind is K.CLOSE_ALL
            else "not sent again; the next deep check decides anew"
        )
    return payload
