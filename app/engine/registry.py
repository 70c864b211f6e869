"""The trade registry: who is managed, by whom, and how a trade is handed to DTMS.

``register`` is idempotent and safe under concurrency: registrations of one ticket are serialised by a
per-ticket lock, the first one inserts (committed before it returns), every later one learns that the
trade was already registered. MT5's position is the truth for entry, volume, SL and TP; what the bot sent
is kept beside it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import sys
import time
from collections.abc import Callable, Iterable, KeysView
from dataclasses import dataclass, replace
from typing import Any, Protocol

from app.engine.events import EventKind
from app.engine.market_data import MarketData
from app.engine.model import DefensiveState, Direction, Trade, TradeSource
from app.engine.reconcile import CloseDetails, is_dtms_own, position_direction
from app.engine.recorder import Recorder, clone, staged
from app.engine.settings import ProtectionSettings
from app.engine.trade_columns import TradeColumns
from app.errors import NoOpenPosition, NotOwner, RegistrationConflict, TradeNotManaged
from app.sharing import Shared

logger = logging.getLogger(__name__)

DTMS = "DTMS"
#: DTMS's name as bots and the window see it (the earlier server's, which bots compare ``managed_by`` with);
#: the database keeps ``DTMS``, so existing files need no migration
DTMS_OWNER_NAME = "dtms_manager"
#: owner of a position rebuilt after a database loss that the adoption policy would not take: watched, never
#: changed, until a bot registers it again
UNCONFIRMED = "unconfirmed"
#: tickets remembered as released or as new before the memory is cleared (the database answers again then)
_REMEMBERED = 10_000
#: strategy_type values that mean "DTMS manages it" rather than naming another manager
#: a tick noted this recently (by the fast cycle or a registration) is used again for a new trade
TICK_REUSE_S = 1.0
#: the synthetic R of a trade without a risk-side stop loss when no ATR is known yet, as a fraction of its entry
SYNTHETIC_R_OF_ENTRY = 0.005
_DTMS_NAMES = {"", "dtms", "default", "default_dtms", DTMS_OWNER_NAME}


@dataclass(frozen=True, slots=True, kw_only=True)
class Registration:
    """What a bot (or the trader) hands over; every field but the ticket is optional."""

    ticket: int
    symbol: str | None = None
    direction: Direction | None = None
    entry: float | None = None
    volume: float | None = None
    stop_loss: float | None = None
    take_profit: float | None = None
    strategy_type: str | None = None
    magic: int | None = None
    comment: str | None = None

    def sent(self) -> dict[str, Any]:
        """What the bot sent, as kept with the trade: registrations that sent the same values share one dict
        (a trade's ``sent`` is never changed in place, only replaced whole)."""
        values = (
            self.symbol,
            self.direction.value if self.direction else None,
            self.entry,
            self.volume,
            self.stop_loss,
            self.take_profit,
            self.magic,
            self.comment,
        )
        # exact as a key: 1, 1.0 and True are equal keys, and so are 0.0 and -0.0; their types and hex are not
        key = tuple((type(v), v.hex() if type(v) is float else v) for v in values)
        return _SENT.get(key, lambda: dict(zip(_SENT_KEYS, values, strict=True)))


_SENT_KEYS = ("symbol", "direction", "entry", "volume", "stop_loss", "take_profit", "magic", "comment")
#: floats many trades hold alike (no level 0.0, volumes): one object each instead of one per trade (the positions
#: cross from the terminal's worker pickled, each number a new object)
_FLOATS: Shared[tuple[float, bool], float] = Shared(4096)


def _shared(value: float) -> float:
    # 0.0 and -0.0 are equal keys: the sign keeps them apart
    return _FLOATS.get((value, math.copysign(1.0, value) > 0), lambda: value)


#: ``sent`` of a trade no bot registered and ``cannot`` of a new trade: one empty dict for all of them
_NOTHING_SENT: dict[str, Any] = {}
_SENT: Shared[tuple[tuple[type, Any], ...], dict[str, Any]] = Shared(1024)


@dataclass(slots=True)
class SymbolGroup:
    """The managed trades of one symbol; ``generation`` changes whenever a trade joins or leaves."""

    trades: dict[int, Trade]
    generation: int = 0
    _columns: tuple[int, TradeColumns] | None = None

    def columns(self) -> TradeColumns:
        """The trades as columns, built again only after a trade joined or left."""
        if self._columns is None or self._columns[0] != self.generation:
            before = self._columns[1] if self._columns is not None else None
            self._columns = (self.generation, TradeColumns(self.trades, before))
        return self._columns[1]


_generations = itertools.count(1)

#: what archiving changes in a trade (``TradeRegistry._mark_closed``)
_CLOSING_FIELDS = ("active", "state", "closed_at", "close_price", "close_profit", "close_reason")


def _closed_as(trade: Trade, row: Trade) -> None:
    """The live trade takes its committed closed row (only the closing fields differ)."""
    for name in _CLOSING_FIELDS:
        setattr(trade, name, getattr(row, name))


def group_by_symbol(trades: Iterable[Trade]) -> dict[str, SymbolGroup]:
    groups: dict[str, SymbolGroup] = {}
    for trade in trades:
        groups.setdefault(trade.symbol, SymbolGroup({}, next(_generations))).trades[trade.ticket] = trade
    return groups


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistrationResult:
    trade: Trade
    already_registered: bool


class PositionGateway(Protocol):
    async def positions(self, **filters: Any) -> tuple[Any, ...]: ...
    async def tick(self, symbol: str) -> Any: ...


def owner_for(strategy_type: str | None) -> str:
    """The one component allowed to change the position (DTMS_SPEC.md §1)."""
    if strategy_type is None or strategy_type.strip().lower() in _DTMS_NAMES:
        return DTMS
    return strategy_type.strip()


def owner_name(managed_by: str) -> str:
    """The owner as bots and the trader read it: ``dtms_manager`` for DTMS's own trades, else as stored."""
    return DTMS_OWNER_NAME if managed_by == DTMS else managed_by


class TradeRegistry:
    def __init__(
        self,
        gateway: PositionGateway,
        market: MarketData,
        recorder: Recorder,
        protection: Callable[[], ProtectionSettings],
        now: Callable[[], float],
        observe: Callable[[float], None] = lambda _: None,
    ) -> None:
        self._gateway = gateway
        self._market = market
        self._recorder = recorder
        self._protection = protection
        self._now = now
        self._observe = observe
        self._trades: dict[int, Trade] = {}
        self._groups: dict[str, SymbolGroup] = {}
        self._sorted: list[int] | None = None  # the tickets in order, until a ticket comes or goes
        self._locks: dict[int, asyncio.Lock] = {}
        #: tickets whose management was stopped (or that ended): never adopted again on their own
        self._released: set[int] = set()
        self._known_new: set[int] = set()

    # --- reading ---------------------------------------------------------------------------------------

    def active(self) -> list[Trade]:
        return list(self._trades.values())

    def keys(self) -> KeysView[int]:
        """The managed tickets (a view)."""
        return self._trades.keys()

    def get(self, ticket: int) -> Trade | None:
        return self._trades.get(ticket)

    def __len__(self) -> int:
        return len(self._trades)

    def tickets(self) -> list[int]:
        """The managed tickets in ascending order (sorted again only after a ticket came or went; do not
        change the list)."""
        if self._sorted is None:
            self._sorted = sorted(self._trades)
        return self._sorted

    def groups(self) -> dict[str, SymbolGroup]:
        """The trades by symbol (do not change it)."""
        return self._groups

    def hedge_tickets(self) -> set[int]:
        return {t.hedge_ticket for t in self._trades.values() if t.hedge_ticket}

    def symbols(self) -> set[str]:
        return set(self._groups)

    def can_modify(self, ticket: int, manager: str = DTMS) -> bool:
        trade = self._trades.get(ticket)
        return trade is not None and trade.active and trade.managed_by == manager

    def require_owner(self, ticket: int, manager: str = DTMS) -> Trade:
        if not self.can_modify(ticket, manager):
            raise NotOwner(f"{manager} does not own ticket {ticket}")
        return self._trades[ticket]

    # --- changing -------------------------------------------------------------------------------------

    def load(self, trades: list[Trade]) -> None:
        """Recovery: the active trades as persisted."""
        self._trades = {t.ticket: t for t in trades if t.active}
        self._groups = group_by_symbol(self._trades.values())
        self._sorted = None

    def forget(self, ticket: int) -> None:
        trade = self._trades.pop(ticket, None)
        if trade is not None:
            self._sorted = None
            self._leave_group(trade)
        self._locks.pop(ticket, None)

    def _leave_group(self, trade: Trade) -> None:
        group = self._groups.get(trade.symbol)
        if group is not None and group.trades.pop(trade.ticket, None) is not None:
            group.generation = next(_generations)
            if not group.trades:
                del self._groups[trade.symbol]

    async def register(self, registration: Registration) -> RegistrationResult:
        ticket = registration.ticket
        lock = self._lock(ticket)
        try:
            async with lock:
                existing = self._trades.get(ticket)
                if existing is not None:
                    _check_consistent(registration, existing.symbol, existing.direction)
                    if existing.source is not TradeSource.REGISTERED:
                        # DTMS watched or adopted it on its own: this is the bot's first registration of it
                        return RegistrationResult(
                            trade=await self._claim(existing, registration), already_registered=False
                        )
                    return RegistrationResult(trade=existing, already_registered=True)
                positions = await self._gateway.positions(ticket=ticket)
                if not positions:
                    raise NoOpenPosition(ticket)
                position = positions[0]
                _check_consistent(registration, str(position.symbol), position_direction(position))
                trade = await self.trade_from_position(position, TradeSource.REGISTERED, registration)
                return await self._insert(trade)
        finally:
            self._drop_idle_lock(ticket, lock)

    def _lock(self, ticket: int) -> asyncio.Lock:
        lock = self._locks.get(ticket)
        if lock is None:
            lock = self._locks[ticket] = asyncio.Lock()
        return lock

    def _drop_idle_lock(self, ticket: int, lock: asyncio.Lock) -> None:
        """No lock is kept for a ticket nobody holds or waits for (10,000 managed trades kept 1.3 MB of them)."""
        waiting = getattr(lock, "_waiters", None)
        if not lock.locked() and not waiting and self._locks.get(ticket) is lock:
            del self._locks[ticket]

    async def was_released(self, ticket: int) -> bool:
        """True if DTMS managed this ticket before and stopped (looked up once per ticket)."""
        if ticket in self._released:
            return True
        if ticket not in self._known_new:
            stored = await self._recorder.load(ticket)
            if stored is not None and not stored.active:
                _remember(self._released, ticket)
                return True
            _remember(self._known_new, ticket)
        return False

    async def adopt(self, position: Any, source: TradeSource, *, managed_by: str = DTMS) -> Trade | None:
        """Take over a position found open in the terminal (adoption policy or database rebuild); a ticket
        whose management was stopped is left alone. ``managed_by`` other than DTMS only watches it."""
        ticket = int(position.ticket)
        lock = self._lock(ticket)
        try:
            async with lock:
                if ticket in self._trades or is_dtms_own(position):
                    return None
                if await self.was_released(ticket):
                    return None
                trade = await self.trade_from_position(position, source, None)
                trade.managed_by = managed_by
                result = await self._insert(trade)
                return result.trade
        finally:
            self._drop_idle_lock(ticket, lock)

    async def confirm(self, ticket: int) -> Trade:
        """The trader confirms a trade watched as "unconfirmed" after a database loss: DTMS manages it."""
        trade = self._trades.get(ticket)
        if trade is None:
            raise TradeNotManaged(ticket)
        if trade.managed_by != UNCONFIRMED:
            return trade
        confirmed = replace(trade, managed_by=DTMS)
        payload = {
            "ticket": ticket,
            "changes": {},
            "managed_by": DTMS,
            "detail": "confirmed by the trader: DTMS manages it",
        }
        event = await self._recorder.change_owner(confirmed, EventKind.TRADE_CHANGED, payload)
        trade.managed_by = DTMS
        await self._supersede(trade)
        self._recorder.publish(event)
        return trade

    def unconfirmed(self) -> list[int]:
        return sorted(t.ticket for t in self._trades.values() if t.managed_by == UNCONFIRMED)

    async def unregister(self, ticket: int, reason: str = "management stopped") -> Trade:
        """Stop managing: stored first (row and event in one transaction); memory follows the commit."""
        trade = self._trades.get(ticket)
        if trade is None:
            raise TradeNotManaged(ticket)
        closed_at = self._now()
        released = replace(trade, active=False, closed_at=closed_at, close_reason=reason)
        event = await self._recorder.change_owner(
            released, EventKind.TRADE_UNREGISTERED, {"ticket": ticket, "reason": reason}
        )
        trade.active = False
        trade.closed_at = closed_at
        trade.close_reason = reason
        self.forget(ticket)
        _remember(self._released, ticket)
        await self._supersede(trade)
        self._recorder.publish(event)
        return trade

    async def archive(
        self, trade: Trade, *, price: float | None, profit: float | None, reason: str, at: float | None
    ) -> None:
        stage = staged(trade)  # the live trade shows it closed once that is committed
        payload = self._mark_closed(stage.work, price=price, profit=profit, reason=reason, at=at)
        await self._recorder.commit(stage.work, events=[(EventKind.TRADE_CLOSED, payload)], into=stage)
        self.forget(trade.ticket)

    async def archive_many(self, closes: list[tuple[Trade, CloseDetails]]) -> None:
        """Archive the trades whose positions ended in one cycle: one transaction for all of them."""
        # each closed row is made from a copy; the live trade takes it once committed (it then leaves memory)
        rows = [clone(trade) for trade, _ in closes]
        events = [
            (
                EventKind.TRADE_CLOSED,
                self._mark_closed(
                    row, price=details.price, profit=details.profit, reason=details.reason, at=details.at
                ),
            )
            for row, (_, details) in zip(rows, closes, strict=True)
        ]
        committed = await self._recorder.commit_many(rows, events, publish=False)
        for row, (trade, _) in zip(rows, closes, strict=True):
            _closed_as(trade, row)
            self.forget(trade.ticket)
        self._recorder.publish_all(committed)

    def _mark_closed(
        self, trade: Trade, *, price: float | None, profit: float | None, reason: str, at: float | None
    ) -> dict[str, Any]:
        previous = trade.state
        trade.active = False
        trade.state = DefensiveState.CLOSED
        trade.closed_at = at if at is not None else self._now()
        trade.close_price = price
        trade.close_profit = profit
        trade.close_reason = reason
        return {
            "ticket": trade.ticket,
            "symbol": trade.symbol,
            "reason": reason,
            "price": price,
            "profit": profit,
            "previous_state": previous.value,
            "direction": trade.direction.value,
        }

    async def trade_from_position(self, position: Any, source: TradeSource, registration: Registration | None) -> Trade:
        symbol = sys.intern(str(position.symbol))
        direction = position_direction(position)
        entry = float(position.price_open)
        sl = _shared(float(position.sl))
        data = await self._market.ensure(symbol)
        if time.monotonic() - data.noted_at > TICK_REUSE_S:  # the fast cycle reads every symbol's tick anyway
            self._market.note_tick(symbol, await self._gateway.tick(symbol))
        self._observe(data.tick_time)
        now = self._now()
        risk_side_sl = sl > 0 and (
            (direction is Direction.BUY and sl < entry) or (direction is Direction.SELL and sl > entry)
        )
        if risk_side_sl:
            r, synthetic, basis = abs(entry - sl), False, ""
        else:
            settings = self._protection()
            atr = data.atr_m15
            if atr:
                r, basis = settings.synthetic_r_atr_multiple * atr, f"{settings.synthetic_r_atr_multiple:g} x ATR (M15)"
            else:
                r, basis = SYNTHETIC_R_OF_ENTRY * entry, f"{SYNTHETIC_R_OF_ENTRY:.1%} of entry"
            synthetic = True
        strategy = registration.strategy_type if registration else None
        return Trade(
            ticket=int(position.ticket),
            symbol=symbol,
            direction=direction,
            entry=entry,
            volume=_shared(float(position.volume)),
            sl=sl,
            tp=_shared(float(position.tp)),
            magic=int(position.magic),
            comment=str(position.comment),
            opened_at=_shared(float(position.time)),  # positions opened in one second share it
            sent=registration.sent() if registration else _NOTHING_SENT,
            cannot=_NOTHING_SENT,  # shared while empty: replaced whole when something is added
            managed_by=owner_for(strategy),
            strategy_type=strategy,
            source=source,
            registered_at=now,
            initial_sl=sl,
            initial_volume=_shared(float(position.volume)),
            r=r if math.isfinite(r) and r > 0 else 0.0,
            synthetic_r=synthetic,
            r_basis=sys.intern(basis),
            breakeven_triggered=sl > 0 and not risk_side_sl,
            state_since=now,
        )

    async def _insert(self, trade: Trade) -> RegistrationResult:
        """Stored (row and event in one transaction, an archived row of the ticket taken over again) before
        the trade enters memory; a refused commit leaves nothing behind."""
        _, event = await self._recorder.register(trade, _registered_payload(trade))
        replaced = self._trades.get(trade.ticket)
        known = replaced is not None
        if replaced is not None and replaced.symbol != trade.symbol:
            self._leave_group(replaced)
        self._trades[trade.ticket] = trade
        group = self._groups.setdefault(trade.symbol, SymbolGroup({}))
        group.trades[trade.ticket] = trade
        group.generation = next(_generations)
        if not known and self._sorted is not None:
            if not self._sorted or trade.ticket > self._sorted[-1]:
                self._sorted.append(trade.ticket)  # tickets grow: the usual new trade goes last
            else:
                self._sorted = None
        self._released.discard(trade.ticket)
        self._known_new.discard(trade.ticket)
        self._recorder.publish(event)
        return RegistrationResult(trade=trade, already_registered=False)

    async def _claim(self, trade: Trade, registration: Registration) -> Trade:
        """A bot registers a trade DTMS had adopted or watched on its own: the bot's ownership and values
        apply (one event, trade_changed: the trade was registered once already, by DTMS)."""
        claimed = replace(
            trade,
            source=TradeSource.REGISTERED,
            sent=registration.sent(),
            strategy_type=registration.strategy_type,
            managed_by=owner_for(registration.strategy_type),
        )
        payload = {
            "ticket": trade.ticket,
            "changes": {},
            "managed_by": claimed.managed_by,
            "strategy_type": claimed.strategy_type,
            "detail": f"registered by a bot; managed by {claimed.managed_by}",
        }
        event = await self._recorder.change_owner(claimed, EventKind.TRADE_CHANGED, payload)
        trade.source = claimed.source
        trade.sent = claimed.sent
        trade.strategy_type = claimed.strategy_type
        trade.managed_by = claimed.managed_by
        await self._supersede(trade)
        self._recorder.publish(event)
        return trade

    async def _supersede(self, trade: Trade) -> None:
        """The live trade once more, after an ownership change was stored from a copy: a cycle that saved the
        trade while that commit was on its way wrote the old owner, and this later write replaces it."""
        await self._recorder.commit(trade)


def _remember(tickets: set[int], ticket: int) -> None:
    if len(tickets) >= _REMEMBERED:
        tickets.clear()  # only a memory of what the database says: it is asked again
    tickets.add(ticket)


def _check_consistent(registration: Registration, symbol: str, direction: Direction) -> None:
    if registration.symbol is not None and registration.symbol.strip().upper() != symbol.upper():
        raise RegistrationConflict(registration.ticket, "symbol", registration.symbol, symbol)
    if registration.direction is not None and registration.direction is not direction:
        raise RegistrationConflict(registration.ticket, "direction", registration.direction.value, direction.value)


def _registered_payload(trade: Trade) -> dict[str, Any]:
    return {
        "ticket": trade.ticket,
        "symbol": trade.symbol,
        "direction": trade.direction.value,
        "volume": trade.volume,
        "entry": trade.entry,
        "source": trade.source.value,
        "managed_by": trade.managed_by,
        "synthetic_r": trade.synthetic_r,
    }
