"""Keeping the engine's trades and the terminal's positions in agreement (at start and every fast cycle).

- A trade whose position is gone is archived with its close price, profit and reason from the deal
  history (never just deleted).
- A position the engine does not know is adopted if the adoption policy says so.
- Volume, SL or TP changed outside DTMS is picked up and journaled.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

from app.engine.model import Direction
from app.engine.prices import price_text
from app.engine.settings import AdoptionPolicy, AdoptionSettings
from app.terminal import constants as mt5

#: Comments DTMS puts on the positions it opens itself; those are never adopted as trades.
HEDGE_PREFIX = "DTMS_HEDGE_"
READD_PREFIX = "DTMS_READD_"

_REASONS = {
    mt5.DEAL_REASON_SL: "stop loss hit",
    mt5.DEAL_REASON_TP: "take profit hit",
    mt5.DEAL_REASON_SO: "stop out",
    mt5.DEAL_REASON_CLIENT: "closed in the terminal",
    mt5.DEAL_REASON_MOBILE: "closed from the mobile app",
    mt5.DEAL_REASON_WEB: "closed from the web terminal",
    mt5.DEAL_REASON_EXPERT: "closed by an expert or script",
}


class HistoryGateway(Protocol):
    async def history_deals(self, *args: Any, **kwargs: Any) -> tuple[Any, ...]: ...
    async def position_deals(self, date_from: int, date_to: int, positions: Collection[int]) -> tuple[Any, ...]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseDetails:
    price: float | None
    profit: float | None
    reason: str
    at: float | None


def position_direction(position: Any) -> Direction:
    return Direction.BUY if int(position.type) == mt5.POSITION_TYPE_BUY else Direction.SELL


def is_dtms_own(position: Any) -> bool:
    """Positions DTMS opened itself (hedges, re-adds) belong to a trade and are not trades of their own."""
    comment = str(position.comment)
    return comment.startswith(HEDGE_PREFIX) or comment.startswith(READD_PREFIX)


def should_adopt(position: Any, settings: AdoptionSettings) -> bool:
    if is_dtms_own(position):
        return False
    match settings.policy:
        case AdoptionPolicy.ALL:
            return True
        case AdoptionPolicy.NONE:
            return False
        case AdoptionPolicy.MAGIC:
            return int(position.magic) in settings.magics
        case AdoptionPolicy.COMMENT_PREFIX:
            return bool(settings.comment_prefix) and str(position.comment).startswith(settings.comment_prefix)
    return False


def outside_changes(volume: float, sl: float, tp: float, position: Any) -> dict[str, tuple[float, float]]:
    """The fields the terminal now shows differently from what the engine last knew."""
    changes: dict[str, tuple[float, float]] = {}
    for name, known in (("volume", volume), ("sl", sl), ("tp", tp)):
        actual = float(getattr(position, name))
        if abs(actual - known) > 1e-9:
            changes[name] = (known, actual)
    return changes


def outside_changes_text(changes: dict[str, tuple[float, float]], digits: int | None) -> str:
    """``sl 88921.02 -> 88950.47, volume 1 -> 0.5``: the SL and TP at the symbol's digits."""
    return ", ".join(
        f"{name} {old:g} -> {new:g}"
        if name == "volume"
        else f"{name} {price_text(old, digits)} -> {price_text(new, digits)}"
        for name, (old, new) in changes.items()
    )


#: closed positions opened longer ago than this are looked up one by one, not in the cycle's one history read
BATCH_HISTORY_SPAN_S = 2 * 86400.0


async def close_details(gateway: HistoryGateway, ticket: int, *, closed_by_dtms: bool = False) -> CloseDetails:
    """What the deal history says about how a position ended."""
    return details_from_deals(await gateway.history_deals(position=ticket), closed_by_dtms=closed_by_dtms)


async def close_details_many(
    gateway: HistoryGateway, closed: dict[int, tuple[float, bool]], now: float
) -> dict[int, CloseDetails]:
    """``close_details`` of many positions (ticket -> (opened_at, closed_by_dtms)) that ended in one cycle: the
    recent ones from one history read over their time span, grouped by position; a position that read shows no
    exit for (or an old one) is asked for on its own, so the answer is the same as one call per position."""
    recent = {t: v for t, v in closed.items() if v[0] >= now - BATCH_HISTORY_SPAN_S}
    by_position: dict[int, list[Any]] = {}
    if len(recent) > 1:
        start = int(min(opened for opened, _ in recent.values())) - 60
        for deal in await gateway.position_deals(start, int(now) + 3600, recent):
            by_position.setdefault(int(deal.position_id), []).append(deal)
    details: dict[int, CloseDetails] = {}
    for ticket, (_, by_dtms) in closed.items():
        deals = by_position.get(ticket)
        if deals and any(int(d.entry) in _EXITS for d in deals):
            details[ticket] = details_from_deals(tuple(deals), closed_by_dtms=by_dtms)
        else:
            details[ticket] = await close_details(gateway, ticket, closed_by_dtms=by_dtms)
    return details


_EXITS = (mt5.DEAL_ENTRY_OUT, mt5.DEAL_ENTRY_OUT_BY, mt5.DEAL_ENTRY_INOUT)


def details_from_deals(deals: tuple[Any, ...], *, closed_by_dtms: bool) -> CloseDetails:
    exits = [d for d in deals if int(d.entry) in (mt5.DEAL_ENTRY_OUT, mt5.DEAL_ENTRY_OUT_BY, mt5.DEAL_ENTRY_INOUT)]
    if not exits:
        reason = "closed by DTMS" if closed_by_dtms else "position gone; no closing deal in the history"
        return CloseDetails(price=None, profit=None, reason=reason, at=None)
    last = max(exits, key=lambda d: (int(d.time_msc), int(d.ticket)))
    profit = sum(float(d.profit) + float(d.swap) + float(d.commission) + float(d.fee) for d in deals)
    reason = _REASONS.get(int(last.reason), f"closed (deal reason {int(last.reason)})")
    if closed_by_dtms and int(last.reason) == mt5.DEAL_REASON_EXPERT:
        reason = "closed by DTMS"
    return CloseDetails(price=float(last.price), profit=round(profit, 2), reason=reason, at=float(last.time))
