"""The simulated broker's live records: open positions, pending orders and the account.

They are mutable (a position's volume shrinks on a partial close) and turn into the module's immutable
structs only when a call returns them. History orders and deals never change once written, so they are
kept as ``TradeOrder`` / ``TradeDeal`` from the start.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, Self

from app.terminal.structs import TradeOrder, TradePosition


class _Row:
    """Records travel to the database as a JSON list of their field values, in declaration order."""

    _field_names: ClassVar[tuple[str, ...]] = ()

    def to_row(self) -> list[Any]:
        return [getattr(self, name) for name in type(self)._names()]

    @classmethod
    def from_row(cls, row: list[Any]) -> Self:
        return cls(**dict(zip(cls._names(), row, strict=True)))

    @classmethod
    def _names(cls) -> tuple[str, ...]:
        if not cls._field_names:
            cls._field_names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
        return cls._field_names


@dataclass(slots=True, kw_only=True)
class Position(_Row):
    ticket: int
    time_msc: int
    time_update_msc: int
    type: int
    magic: int
    identifier: int
    reason: int
    volume: float
    price_open: float
    sl: float
    tp: float
    swap: float
    symbol: str
    comment: str
    external_id: str = ""

    def to_struct(self, price_current: float, profit: float) -> TradePosition:
        return TradePosition(
            self.ticket,
            self.time_msc // 1000,
            self.time_msc,
            self.time_update_msc // 1000,
            self.time_update_msc,
            self.type,
            self.magic,
            self.identifier,
            self.reason,
            self.volume,
            self.price_open,
            self.sl,
            self.tp,
            price_current,
            self.swap,
            profit,
            self.symbol,
            self.comment,
            self.external_id,
        )


@dataclass(slots=True, kw_only=True)
class PendingOrder(_Row):
    ticket: int
    time_setup_msc: int
    time_expiration: int
    type: int
    type_time: int
    type_filling: int
    state: int
    magic: int
    position_id: int
    reason: int
    volume_initial: float
    volume_current: float
    price_open: float
    sl: float
    tp: float
    price_stoplimit: float
    symbol: str
    comment: str
    external_id: str = ""

    def to_struct(self, price_current: float, *, state: int | None = None, done_msc: int = 0) -> TradeOrder:
        """The order as ``orders_get`` shows it, or (with ``state`` and ``done_msc``) as history keeps it."""
        return TradeOrder(
            self.ticket,
            self.time_setup_msc // 1000,
            self.time_setup_msc,
            done_msc // 1000,
            done_msc,
            self.time_expiration,
            self.type,
            self.type_time,
            self.type_filling,
            self.state if state is None else state,
            self.magic,
            self.position_id,
            0,
            self.reason,
            self.volume_initial,
            self.volume_current,
            self.price_open,
            self.sl,
            self.tp,
            price_current,
            self.price_stoplimit,
            self.symbol,
            self.comment,
            self.external_id,
        )


@dataclass(slots=True, kw_only=True)
class Account(_Row):
    login: int
    password: str
    server: str
    name: str
    company: str
    currency: str
    leverage: int
    margin_mode: int
    balance: float
    credit: float
    trade_allowed: bool
    limit_orders: int
