"""The defensive state machine (DTMS_SPEC.md §2.2) as a pure function of a trade, its score and the time.

``decide`` never talks to the terminal: it returns a :class:`Decision` (from, to, reason, and the actions
to carry out once), or None when the trade stays where it is. Prices in the actions are raw; rounding, the
stops level and the volume step are applied when they are sent (``defense_actions``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from app.engine.model import DefensiveState, Direction, Trade
from app.engine.scoring.vocab import Confluence
from app.errors import InvalidSettings

if TYPE_CHECKING:  # the settings (and so the command line) are read without numpy
    from app.engine.scoring.score import Score

logger = logging.getLogger(__name__)

S = DefensiveState


class DefenseActionKind(StrEnum):
    TIGHTEN = "TIGHTEN"  # SL to ``sl`` (0.3 R behind price), only ever tighter
    PARTIAL_CLOSE = "PARTIAL_CLOSE"  # close ``volume`` of the trade
    MOVE_SL_BREAKEVEN = "MOVE_SL_BREAKEVEN"  # SL to ``sl`` (the entry)
    HEDGE = "HEDGE"  # open ``volume`` on the opposite side with its SL at ``sl``
    CLOSE_HEDGE = "CLOSE_HEDGE"  # close the hedge position
    CLOSE_ALL = "CLOSE_ALL"  # close the hedge, any re-add and the trade
    READD = "READD"  # open ``volume`` on the trade's side with the trade's SL ``sl``


@dataclass(frozen=True, slots=True, kw_only=True)
class DefenseAction:
    kind: DefenseActionKind
    volume: float = 0.0
    sl: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "volume": self.volume, "sl": self.sl}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DefenseAction:
        return cls(kind=DefenseActionKind(data["kind"]), volume=float(data["volume"]), sl=float(data["sl"]))


@dataclass(frozen=True, slots=True, kw_only=True)
class DefenseSettings:
    """Every figure of the state machine (defaults from DTMS_SPEC.md §2.2)."""

    warning_l1_score: float = -2.0  # HEALTHY -> WARNING_L1 at or below
    warning_l2_score: float = -4.0  # WARNING_L1 -> WARNING_L2 at or below
    hedge_score: float = -6.0  # WARNING_L2 -> HEDGED at or below
    healthy_again_score: float = 0.0  # WARNING_L1 -> HEALTHY at or above
    l1_again_score: float = -2.0  # WARNING_L2 -> WARNING_L1 at or above
    readd_min_score: float = 1.0  # RECOVERING -> HEALTHY (with a re-add) at or above when the timer expires
    tighten_r: float = 0.3  # SL distance behind price, in R, when tightening
    close_fraction: float = 0.5  # share of the current volume closed at WARNING_L2 (and HEDGED on netting)
    hedge_fraction: float = 0.5  # hedge volume as a share of the current volume
    hedge_sl_atr: float = 0.5  # hedge SL distance in ATR(14, M15)
    flat_timer_s: float = 75 * 60.0
    recovery_timer_s: float = 30 * 60.0
    readd_fraction: float = 0.5  # share of the volume closed earlier that is re-added
    warning_decay_s: float = 30 * 60.0
    #: WARNING_L2 reached in loss, where an SL at entry is on the wrong side of price: "tighten" tightens the SL
    #: to ``tighten_r`` behind price instead (when that is tighter), "skip" leaves the SL (docs/replay.md)
    l2_in_loss: str = "skip"

    def __post_init__(self) -> None:
        if not self.hedge_score <= self.warning_l2_score <= self.warning_l1_score:
            raise InvalidSettings("defense thresholds must satisfy hedge_score <= warning_l2_score <= warning_l1_score")
        if not (self.healthy_again_score > self.warning_l1_score and self.l1_again_score > self.warning_l2_score):
            raise InvalidSettings("defense hysteresis: each way back must need a better score than the way in")
        for name in ("close_fraction", "hedge_fraction", "readd_fraction"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise InvalidSettings(f"defense.{name} must be in (0, 1]")
        if self.l2_in_loss not in ("skip", "tighten"):
            raise InvalidSettings('defense.l2_in_loss must be "skip" or "tighten"')
        for name in ("tighten_r", "hedge_sl_atr", "flat_timer_s", "recovery_timer_s", "warning_decay_s"):
            if getattr(self, name) <= 0.0:
                raise InvalidSettings(f"defense.{name} must be positive")


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """One transition with its actions and the trade's timers and counter after it."""

    ticket: int
    from_state: DefensiveState
    to_state: DefensiveState
    reason: str
    score: float
    at: float
    actions: tuple[DefenseAction, ...] = ()
    flat_timer_until: float | None = None
    recovery_timer_until: float | None = None
    warnings: int = 0
    last_warning_at: float | None = None

    @property
    def id(self) -> str:
        """Names this transition in ``Trade.pending_action`` while its actions are under way."""
        return f"{self.ticket}:{self.from_state.value}>{self.to_state.value}@{self.at:.0f}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ticket": self.ticket,
            "from": self.from_state.value,
            "to": self.to_state.value,
            "reason": self.reason,
            "score": self.score,
            "at": self.at,
            "actions": [a.as_dict() for a in self.actions],
            "flat_timer_until": self.flat_timer_until,
            "recovery_timer_until": self.recovery_timer_until,
            "warnings": self.warnings,
            "last_warning_at": self.last_warning_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Decision:
        return cls(
            ticket=int(data["ticket"]),
            from_state=S(data["from"]),
            to_state=S(data["to"]),
            reason=data["reason"],
            score=float(data["score"]),
            at=float(data["at"]),
            actions=tuple(DefenseAction.from_dict(a) for a in data["actions"]),
            flat_timer_until=data["flat_timer_until"],
            recovery_timer_until=data["recovery_timer_until"],
            warnings=int(data["warnings"]),
            last_warning_at=data["last_warning_at"],
        )


def decayed_warnings(trade: Trade, now: float, settings: DefenseSettings) -> tuple[int, float | None]:
    """The warning counter after decay: one warning fades for every ``warning_decay_s`` without a new one."""
    if trade.warnings <= 0 or trade.last_warning_at is None:
        return trade.warnings, trade.last_warning_at
    periods = int((now - trade.last_warning_at) // settings.warning_decay_s)
    if periods <= 0:
        return trade.warnings, trade.last_warning_at
    left = max(0, trade.warnings - periods)
    return left, (trade.last_warning_at + periods * settings.warning_decay_s) if left else None


def decide(
    trade: Trade,
    score: Score,
    now: float,
    settings: DefenseSettings,
    *,
    hedging_account: bool,
    atr: float | None = None,
    risk_block: str = "",
) -> Decision | None:
    """The transition the trade takes at this deep check, if any (one step per check).

    ``atr`` is ATR(14, M15) for the hedge's SL (R stands in when it is unknown). ``risk_block`` names the
    safety rail that forbids adding risk now: a hedge then becomes the netting alternative (close part and
    tighten) and a re-add is left out.
    """
    total = score.total
    state = trade.state
    warnings, last_warning_at = decayed_warnings(trade, now, settings)

    def go(
        to: DefensiveState,
        reason: str,
        *actions: DefenseAction,
        flat: float | None | str = "keep",
        recovery: float | None | str = "keep",
        warn: bool = False,
    ) -> Decision:
        return Decision(
            ticket=trade.ticket,
            from_state=state,
            to_state=to,
            reason=reason,
            score=total,
            at=now,
            actions=tuple(a for a in actions if a is not None),
            flat_timer_until=trade.flat_timer_until if flat == "keep" else flat,  # type: ignore[arg-type]
            recovery_timer_until=trade.recovery_timer_until if recovery == "keep" else recovery,  # type: ignore[arg-type]
            warnings=warnings + 1 if warn else warnings,
            last_warning_at=now if warn else last_warning_at,
        )

    if state is S.CLOSED:
        # a close that did not go through (refused, frozen): the position is still open, so try again
        return go(
            S.CLOSED,
            "close not finished: closing again",
            DefenseAction(kind=DefenseActionKind.CLOSE_ALL),
            flat=None,
            recovery=None,
        )
    if score.choch_against:
        return go(
            S.CLOSED,
            f"change of character against the trade (score {total:+.1f})",
            DefenseAction(kind=DefenseActionKind.CLOSE_ALL),
            flat=None,
            recovery=None,
        )

    match state:
        case S.HEALTHY if total <= settings.warning_l1_score:
            tighten = _tighten(trade, score.price, settings)
            return go(
                S.WARNING_L1,
                f"score {total:+.1f} <= {settings.warning_l1_score:+g}" + _skipped(tighten),
                *_some(tighten),
                flat=now + settings.flat_timer_s,
                warn=True,
            )
        case S.WARNING_L1 if total >= settings.healthy_again_score:
            return go(S.HEALTHY, f"score {total:+.1f} >= {settings.healthy_again_score:+g}", flat=None)
        case S.WARNING_L1 if total <= settings.warning_l2_score:
            close = DefenseAction(kind=DefenseActionKind.PARTIAL_CLOSE, volume=trade.volume * settings.close_fraction)
            reason = f"score {total:+.1f} <= {settings.warning_l2_score:+g}"
            if not _in_loss(trade, score.price):
                return go(S.WARNING_L2, reason, close, *_some(_breakeven(trade)), warn=True)
            # an SL at entry would be on the wrong side of price: the broker would refuse it
            if settings.l2_in_loss == "tighten":
                tighten = _tighten(trade, score.price, settings)
                return go(
                    S.WARNING_L2,
                    f"{reason}; in loss, so the SL goes {settings.tighten_r:g} R behind price "
                    "instead of to breakeven" + _skipped(tighten),
                    close,
                    *_some(tighten),
                    warn=True,
                )
            return go(
                S.WARNING_L2,
                f"{reason}; in loss, so the SL cannot go to breakeven (entry is on the wrong "
                "side of price) and stays where it is",
                close,
                warn=True,
            )
        case S.WARNING_L2 if total >= settings.l1_again_score:
            return go(S.WARNING_L1, f"score {total:+.1f} >= {settings.l1_again_score:+g}")
        case S.WARNING_L2 if total <= settings.hedge_score or (
            score.vwap_flip_against and score.confluence is Confluence.AGAINST
        ):
            why = (
                f"score {total:+.1f} <= {settings.hedge_score:+g}"
                if total <= settings.hedge_score
                else f"VWAP flip against the trade with confluence AGAINST (score {total:+.1f})"
            )
            return _hedge(
                trade, score, now, settings, why, go, hedging_account=hedging_account, atr=atr, risk_block=risk_block
            )
        case S.HEDGED if trade.flat_timer_until is not None and now >= trade.flat_timer_until:
            return go(
                S.CLOSED,
                "flat timer expired: closing the trade and its hedge",
                DefenseAction(kind=DefenseActionKind.CLOSE_ALL),
                flat=None,
                recovery=None,
            )
        case S.HEDGED if score.bos_in_favour:
            actions = [DefenseAction(kind=DefenseActionKind.CLOSE_HEDGE)] if trade.hedge_ticket else []
            return go(
                S.RECOVERING,
                "break of structure in the trade's direction" + ("" if actions else " (no hedge to close)"),
                *actions,
                flat=None,
                recovery=now + settings.recovery_timer_s,
            )
        case S.RECOVERING if trade.recovery_timer_until is not None and now >= trade.recovery_timer_until:
            if total >= settings.readd_min_score:
                return _recovered(trade, total, settings, go, risk_block)
            return go(
                S.CLOSED,
                f"recovery timer expired with score {total:+.1f} < {settings.readd_min_score:+g}",
                DefenseAction(kind=DefenseActionKind.CLOSE_ALL),
                flat=None,
                recovery=None,
            )
    return None


def _hedge(
    trade: Trade,
    score: Score,
    now: float,
    settings: DefenseSettings,
    why: str,
    go: Any,
    *,
    hedging_account: bool,
    atr: float | None,
    risk_block: str,
) -> Decision:
    flat = now + settings.flat_timer_s
    if hedging_account and not risk_block:
        distance = settings.hedge_sl_atr * (atr if atr is not None and math.isfinite(atr) and atr > 0 else trade.r)
        sl = score.price + distance if trade.direction is Direction.BUY else score.price - distance
        hedge = DefenseAction(kind=DefenseActionKind.HEDGE, volume=trade.volume * settings.hedge_fraction, sl=sl)
        return go(S.HEDGED, f"{why}: hedged", hedge, flat=flat)
    instead = (
        "netting account: no hedge possible"
        if not hedging_account
        else f"hedge withheld by a safety rail ({risk_block})"
    )
    close = DefenseAction(kind=DefenseActionKind.PARTIAL_CLOSE, volume=trade.volume * settings.close_fraction)
    tighten = _tighten(trade, score.price, settings)
    return go(
        S.HEDGED,
        f"{why}; {instead}: closed {settings.close_fraction:.0%} and tightened the SL to "
        f"{settings.tighten_r:g} R behind price instead" + _skipped(tighten),
        close,
        *_some(tighten),
        flat=flat,
    )


def _recovered(trade: Trade, total: float, settings: DefenseSettings, go: Any, risk_block: str) -> Decision:
    reason = f"recovery timer expired with score {total:+.1f} >= {settings.readd_min_score:+g}"
    volume = trade.closed_volume * settings.readd_fraction
    if volume <= 0:
        return go(S.HEALTHY, f"{reason}; nothing was closed earlier, nothing to re-add", recovery=None)
    if risk_block:
        return go(S.HEALTHY, f"{reason}; re-add withheld by a safety rail ({risk_block})", recovery=None)
    readd = DefenseAction(kind=DefenseActionKind.READD, volume=volume, sl=trade.sl)
    return go(
        S.HEALTHY, f"{reason}: re-adding {settings.readd_fraction:.0%} of the closed volume", readd, recovery=None
    )


def _tighten(trade: Trade, price: float, settings: DefenseSettings) -> DefenseAction | None:
    """SL 0.3 R behind the closing price, only if that is tighter than today's SL."""
    if trade.r <= 0 or price <= 0:
        return None
    if trade.direction is Direction.BUY:
        sl = price - settings.tighten_r * trade.r
        tighter = trade.sl == 0.0 or sl > trade.sl
    else:
        sl = price + settings.tighten_r * trade.r
        tighter = trade.sl == 0.0 or sl < trade.sl
    return DefenseAction(kind=DefenseActionKind.TIGHTEN, sl=sl) if tighter else None


def _in_loss(trade: Trade, price: float) -> bool:
    """Price at or past the entry against the trade (an SL at entry could not be placed)."""
    if price <= 0:
        return False
    return price <= trade.entry if trade.direction is Direction.BUY else price >= trade.entry


def _breakeven(trade: Trade) -> DefenseAction | None:
    if trade.direction is Direction.BUY:
        tighter = trade.sl == 0.0 or trade.entry > trade.sl
    else:
        tighter = trade.sl == 0.0 or trade.entry < trade.sl
    return DefenseAction(kind=DefenseActionKind.MOVE_SL_BREAKEVEN, sl=trade.entry) if tighter else None


def _some(action: DefenseAction | None) -> tuple[DefenseAction, ...]:
    return (action,) if action is not None else ()


def _skipped(tighten: DefenseAction | None) -> str:
    return "" if tighten is not None else "; the SL is already tighter, left where it is"


def why_not_next(
    trade: Trade,
    score: float,
    settings: DefenseSettings,
    *,
    paused: bool = False,
    owner: str = "DTMS",
    choch_against: bool = False,
) -> str:
    """Why a trade whose score has crossed a threshold is not (yet) in the state that threshold leads to;
    "" when its state matches its score. Read by the window's score explanation."""
    crossed = _crossed(trade.state, score, settings)
    if not crossed:
        return ""
    target, line = crossed
    if trade.managed_by != owner:
        return f"past {line:+g} but managed by {trade.managed_by}: DTMS watches and scores it, never acts on it"
    if trade.dtms_paused:
        return f"past {line:+g} but DTMS is paused for this trade: nothing is sent until it is resumed"
    if paused:
        return f"past {line:+g} but DTMS is paused: no transition until it is resumed"
    if (trade.pending_action or "").startswith("DEFENSE "):
        return f"past {line:+g}: a transition is under way and is settled from the terminal first"
    nxt = _NEXT.get(trade.state)
    if nxt is not None and nxt is not target:
        return (
            f"past {line:+g} ({target.value}), but the state machine moves one step per deep check: "
            f"{nxt.value} first, {target.value} at a later check if the score stays there"
        )
    return (
        f"past {line:+g}: the move to {target.value} is decided at the next deep check "
        "(at an M5 bar close, at most every 15 minutes unless price forces an earlier one)"
    )


def way_back(trade: Trade, score: float, settings: DefenseSettings) -> str:
    """What a trade in a warning state needs to go back (the way back asks a better score than the way in)."""
    if trade.state is S.WARNING_L1 and score < settings.healthy_again_score:
        return (
            f"WARNING_L1 holds until the score is back at or above {settings.healthy_again_score:+g} (now {score:+.2f})"
        )
    if trade.state is S.WARNING_L2 and score < settings.l1_again_score:
        return f"WARNING_L2 holds until the score is back at or above {settings.l1_again_score:+g} (now {score:+.2f})"
    return ""


_NEXT = {S.HEALTHY: S.WARNING_L1, S.WARNING_L1: S.WARNING_L2, S.WARNING_L2: S.HEDGED}


def _crossed(state: DefensiveState, score: float, settings: DefenseSettings) -> tuple[DefensiveState, float] | None:
    """The deepest state the score points to beyond the trade's own, with its threshold."""
    order = [
        (S.HEDGED, settings.hedge_score),
        (S.WARNING_L2, settings.warning_l2_score),
        (S.WARNING_L1, settings.warning_l1_score),
    ]
    rank = {S.HEALTHY: 0, S.WARNING_L1: 1, S.WARNING_L2: 2, S.HEDGED: 3}
    if state not in rank:
        return None
    for target, line in order:
        if score <= line and rank[target] > rank[state]:
            return target, line
    return None
