"""The engine's vocabulary: states, trades, journal entries. Plain dataclasses, no Qt, no peewee.

Times named ``*_at`` are terminal (broker server) time in epoch seconds, the clock every timer runs on;
``wall_at`` fields are the local wall clock, for people reading logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Direction(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @classmethod
    def parse(cls, value: str) -> Direction:
        """Accepts any case (``buy``, ``Sell``): existing bots send what they have."""
        return cls(value.strip().upper())


class LifecycleState(StrEnum):
    STARTING = "STARTING"
    CONNECTING = "CONNECTING"
    RECOVERING = "RECOVERING"
    READY = "READY"
    DISCONNECTED = "DISCONNECTED"
    FAILED = "FAILED"
    STOPPED = "STOPPED"


class DefensiveState(StrEnum):
    HEALTHY = "HEALTHY"
    WARNING_L1 = "WARNING_L1"
    WARNING_L2 = "WARNING_L2"
    HEDGED = "HEDGED"
    RECOVERING = "RECOVERING"
    CLOSED = "CLOSED"


class TradeSource(StrEnum):
    REGISTERED = "REGISTERED"  # a bot or the trader handed it over
    ADOPTED = "ADOPTED"  # found open in the terminal and adopted by policy
    REBUILT = "REBUILT"  # recreated from the terminal after a corrupt database


class ActionKind(StrEnum):
    BREAKEVEN = "BREAKEVEN"
    PARTIAL_TAKE = "PARTIAL_TAKE"
    TRAIL = "TRAIL"
    TIGHTEN = "TIGHTEN"
    PARTIAL_CLOSE = "PARTIAL_CLOSE"
    HEDGE = "HEDGE"
    CLOSE_HEDGE = "CLOSE_HEDGE"
    CLOSE = "CLOSE"
    READD = "READD"
    EXTERNAL_CHANGE = "EXTERNAL_CHANGE"  # volume, SL or TP changed outside DTMS (journaled, nothing sent)


class ActionOutcome(StrEnum):
    SUCCESS = "SUCCESS"  # retcode 10009/10008/10010 or 10025 (no change needed)
    RETRYING = "RETRYING"  # transient retcode; another attempt follows
    FAILED = "FAILED"  # permanent retcode or attempts exhausted
    UNKNOWN = "UNKNOWN"  # 10012 or no answer: outcome checked against positions and deals
    NOT_SENT = "NOT_SENT"  # refused before reaching the server (None from order_send, rails, rules)


@dataclass(slots=True, kw_only=True)
class Trade:
    """One managed position and everything DTMS knows and decides about it (all of it persisted)."""

    ticket: int
    symbol: str
    direction: Direction
    # MT5's truth at registration, kept up to date from the terminal
    entry: float
    volume: float
    sl: float
    tp: float
    magic: int = 0
    comment: str = ""
    opened_at: float = 0.0
    # what the bot sent (kept beside the truth, never trusted over it)
    sent: dict[str, Any] = field(default_factory=dict)
    # ownership
    managed_by: str = "DTMS"
    strategy_type: str | None = None
    source: TradeSource = TradeSource.REGISTERED
    registered_at: float = 0.0
    # risk
    initial_sl: float = 0.0
    initial_volume: float = 0.0
    r: float = 0.0
    synthetic_r: bool = False
    # profit protection
    breakeven_triggered: bool = False
    partial_taken: bool = False
    best_price: float | None = None
    last_sl_change_at: float | None = None
    # defensive state machine
    state: DefensiveState = DefensiveState.HEALTHY
    state_since: float = 0.0
    score: float = 0.0
    score_explanation: str = ""
    warnings: int = 0
    last_warning_at: float | None = None
    flat_timer_until: float | None = None
    recovery_timer_until: float | None = None
    hedge_ticket: int | None = None
    closed_volume: float = 0.0
    pending_action: str | None = None  # a transition's action that has not finished (idempotency across restarts)
    last_evaluated_at: float | None = None
    last_deep_check_at: float | None = None
    last_forced_check_at: float | None = None
    # last action, for the table
    last_action: str | None = None
    last_action_at: float | None = None
    # the trader paused DTMS for this trade only: watched and scored, nothing sent until resumed
    dtms_paused: bool = False
    # end of management
    active: bool = True
    closed_at: float | None = None
    close_price: float | None = None
    close_profit: float | None = None
    close_reason: str | None = None
    #: what DTMS could not do for a reason that does not change by itself, by "STATE:ACTION" (a partial close
    #: or a hedge below the minimum volume); journaled once per state, shown with the trade
    cannot: dict[str, str] = field(default_factory=dict)
    #: where a synthetic R came from, as set at registration ("1.5 x ATR (M15)", "0.5% of entry"); "" for a
    #: trade with a stop loss on the risk side, or one registered before it was kept (last: the side journal's
    #: rows are positional)
    r_basis: str = ""

    def profit_in_r(self, bid: float, ask: float) -> float:
        if self.r <= 0:
            return 0.0
        if self.direction is Direction.BUY:
            return (bid - self.entry) / self.r
        return (self.entry - ask) / self.r

    def closing_price(self, bid: float, ask: float) -> float:
        """A BUY closes at the bid, a SELL at the ask."""
        return bid if self.direction is Direction.BUY else ask


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRecord:
    """One order_send DTMS made (or decided not to make), with its real outcome."""

    ticket: int
    kind: ActionKind
    request: dict[str, Any]
    outcome: ActionOutcome
    retcode: int | None = None
    comment: str = ""
    attempt: int = 1
    detail: str = ""
    at: float = 0.0
    wall_at: float = 0.0
    id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """A change of defensive state, kept for ever."""

    ticket: int
    from_state: DefensiveState
    to_state: DefensiveState
    reason: str
    score: float
    at: float
    id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredEvent:
    """An engine event as persisted (and streamed over ``GET /events`` with ``seq`` as the id)."""

    seq: int
    kind: str
    payload: dict[str, Any]
    at: float
    wall_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchItem:
    """One decision of a batch as the journal stores it: the trade's row, its journal entries and its events
    (kind, payload, terminal time); ``changed``: the trade's fields the decision changed (None: unknown)."""

    trade: Trade
    actions: tuple[ActionRecord, ...] = ()
    transitions: tuple[Transition, ...] = ()
    events: tuple[tuple[str, dict[str, Any], float], ...] = ()
    changed: frozenset[str] | None = None
