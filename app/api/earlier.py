"""The earlier DTMS server's shapes built from the engine's data (``app.api.schemas_earlier``): the nested
objects and one-sentence summaries its bots, exit managers, dashboards and diagnostics read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from app.api import schemas
from app.api.schemas_earlier import iso
from app.engine.model import ActionOutcome, ActionRecord, Trade
from app.engine.registry import DTMS

Quote = tuple[float, float]  # bid, ask


def uptime_text(seconds: float) -> str:
    """``3d 04h 05m 06s``, leaving out the leading zero units."""
    total = max(0, int(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h {minutes:02d}m {secs:02d}s"
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def action_item(record: ActionRecord, symbols: Mapping[int, str]) -> schemas.ActionHistoryItem:
    symbol = str(record.request.get("symbol") or symbols.get(record.ticket, ""))
    return schemas.ActionHistoryItem(
        action_type=str(record.kind),
        ticket=record.ticket,
        symbol=symbol,
        success=record.outcome is ActionOutcome.SUCCESS,
        timestamp=iso(record.wall_at or record.at) or "",
        details={
            "outcome": str(record.outcome),
            "retcode": record.retcode,
            "comment": record.comment,
            "attempt": record.attempt,
            "detail": record.detail,
            "request": dict(record.request),
            "terminal_time": iso(record.at),
        },
    )


def actions_summary(returned: int, total: int) -> str:
    if total == 0:
        return "no action recorded yet"
    return f"{returned} most recent of {total} recorded actions"


def trade_summary(trade: Trade) -> str:
    managed = "managed" if trade.active else "no longer managed"
    return (
        f"ticket {trade.ticket} {trade.symbol} {trade.direction.value} is {trade.state.value} "
        f"(score {trade.score:+.2f}), {managed} by DTMS"
        if trade.managed_by == DTMS
        else f"ticket {trade.ticket} {trade.symbol} {trade.direction.value} is {trade.state.value} "
        f"(score {trade.score:+.2f}), {managed}, owned by {trade.managed_by}"
    )


def trade_info(
    trade: Trade, quote: Quote | None, position: Any | None, journal: Iterable[ActionRecord], protecting: bool
) -> schemas.EarlierTradeInfo:
    """``position`` is MT5's open position (for the floating profit), None once closed or not yet seen."""
    current = trade.closing_price(*quote) if quote is not None and trade.active else (trade.close_price or 0.0)
    if position is not None:
        profit = float(getattr(position, "profit", 0.0))
        current = float(getattr(position, "price_current", 0.0)) or current
    else:
        profit = float(trade.close_profit or 0.0)
    profit_r = trade.profit_in_r(*quote) if quote is not None and trade.active else None
    return schemas.EarlierTradeInfo(
        ticket=trade.ticket,
        symbol=trade.symbol,
        state=trade.state.value,
        current_score=trade.score,
        state_entry_time=iso(trade.state_since) or "",
        warnings={"count": trade.warnings, "last_warning_at": iso(trade.last_warning_at)},
        actions_taken=[
            {
                "action_type": str(a.kind),
                "success": a.outcome is ActionOutcome.SUCCESS,
                "outcome": str(a.outcome),
                "timestamp": iso(a.wall_at or a.at),
            }
            for a in journal
        ],
        performance={
            "r": trade.r,
            "profit_r": profit_r,
            "breakeven_triggered": trade.breakeven_triggered,
            "partial_taken": trade.partial_taken,
            "closed_volume": trade.closed_volume,
            "best_price": trade.best_price,
        },
        type=trade.direction.value,
        volume=trade.volume,
        open_price=trade.entry,
        current_price=current,
        profit=profit,
        sl=trade.sl,
        tp=trade.tp,
        protection_active=protecting and trade.active and trade.managed_by == DTMS,
    )


def status_summary(monitoring: bool, state: str, by_state: Mapping[str, int]) -> str:
    count = sum(by_state.values())
    if not monitoring:
        return f"DTMS is {state}; monitoring is not running ({count} trade{'s' if count != 1 else ''} known)"
    detail = ", ".join(f"{n} {name}" for name, n in sorted(by_state.items()))
    return f"DTMS is monitoring {count} trade{'s' if count != 1 else ''}" + (f" ({detail})" if detail else "")
