"""The engine's dataclasses in the contract's shapes (``app.api.schemas``)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from app.api import schemas
from app.engine.events import EngineEvent
from app.engine.model import ActionRecord, StoredEvent, Trade, Transition
from app.engine.registry import owner_name

Quote = tuple[float, float]  # bid, ask

_INFO_FIELDS = tuple(name for name in schemas.TradeInfo.model_fields if name != "profit_r")
_DETAIL_FIELDS = tuple(
    name
    for name in schemas.TradeDetail.model_fields
    if name not in schemas.TradeInfo.model_fields
    and name not in ("transitions", "journal", "success", "summary", "trade_info")
)


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def _profit_r(trade: Trade, quote: Quote | None) -> float | None:
    if not trade.active or quote is None or quote[0] <= 0 or quote[1] <= 0 or trade.r <= 0:
        return None
    value = trade.profit_in_r(*quote)
    return value if math.isfinite(value) else None


def _fields(trade: Trade, names: Iterable[str]) -> dict[str, Any]:
    values = {name: _plain(getattr(trade, name)) for name in names}
    if "managed_by" in values:
        values["managed_by"] = owner_name(trade.managed_by)
    return values


def trade_info(trade: Trade, quote: Quote | None) -> schemas.TradeInfo:
    return schemas.TradeInfo(**_fields(trade, _INFO_FIELDS), profit_r=_profit_r(trade, quote))


def enabled_trade_info(trade: Trade, quote: Quote | None) -> schemas.EnabledTradeInfo:
    """The registered trade, with the earlier server's ``entry_price``/``stop_loss``/``take_profit`` too."""
    return schemas.EnabledTradeInfo(
        **_fields(trade, _INFO_FIELDS),
        profit_r=_profit_r(trade, quote),
        entry_price=trade.entry,
        stop_loss=trade.sl,
        take_profit=trade.tp,
    )


def trade_detail(
    trade: Trade,
    quote: Quote | None,
    transitions: Iterable[Transition],
    journal: Iterable[ActionRecord],
    earlier: schemas.EarlierTradeInfo | None = None,
    summary: str = "",
) -> schemas.TradeDetail:
    return schemas.TradeDetail(
        **_fields(trade, _INFO_FIELDS),
        **_fields(trade, _DETAIL_FIELDS),
        profit_r=_profit_r(trade, quote),
        transitions=[transition_info(t) for t in transitions],
        journal=[action_info(a) for a in journal],
        trade_info=earlier,
        summary=summary,
    )


def transition_info(transition: Transition) -> schemas.TransitionInfo:
    return schemas.TransitionInfo(
        from_state=transition.from_state.value,
        to_state=transition.to_state.value,
        reason=transition.reason,
        score=transition.score,
        at=transition.at,
    )


def action_info(record: ActionRecord) -> schemas.ActionInfo:
    return schemas.ActionInfo(
        ticket=record.ticket,
        kind=_plain(record.kind),
        outcome=_plain(record.outcome),
        retcode=record.retcode,
        comment=record.comment,
        attempt=record.attempt,
        detail=record.detail,
        request=dict(record.request),
        at=record.at,
    )


def registry_entry(ticket: int, trade: Trade | None) -> schemas.TradeRegistryEntry:
    """A trade no longer managed keeps its facts but has no manager (``""``, as for an unknown ticket)."""
    if trade is None:
        return schemas.TradeRegistryEntry(ticket=ticket)
    return schemas.TradeRegistryEntry(
        ticket=ticket,
        managed_by=owner_name(trade.managed_by) if trade.active else "",
        breakeven_triggered=trade.breakeven_triggered,
        symbol=trade.symbol,
        direction=trade.direction.value,
        strategy_type=trade.strategy_type,
    )


def event_data(event: StoredEvent | EngineEvent) -> schemas.EngineEvent:
    assert event.seq is not None, "only persisted events are streamed"
    return schemas.EngineEvent(
        seq=event.seq, kind=_plain(event.kind), payload=dict(event.payload), at=event.at, wall_at=event.wall_at
    )
