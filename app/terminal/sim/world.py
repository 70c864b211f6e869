"""The simulated broker's world wired together, fresh or rebuilt from its saved state.

Owns the pieces a terminal call or a control command touches (clock, market, book, money, the trade
server and its loop, the views) and the terminal-side settings that persist with them.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.terminal import constants as c
from app.terminal.sim.broker import Broker
from app.terminal.sim.clock import SimClock
from app.terminal.sim.info import Views
from app.terminal.sim.ledger import Ledger
from app.terminal.sim.market.core import Market
from app.terminal.sim.money import Money
from app.terminal.sim.records import Account, PendingOrder, Position
from app.terminal.sim.server import ServerLoop
from app.terminal.sim.store import SavedBroker
from app.terminal.sim.symbols import SymbolSpec, preset_symbols
from app.terminal.sim.trading import TradeServer
from app.terminal.structs import TradeDeal, TradeOrder

logger = logging.getLogger(__name__)

FIRST_ORDER_TICKET = 250_000_001
FIRST_DEAL_TICKET = 180_000_001


@dataclass(frozen=True, slots=True, kw_only=True)
class WorldSettings:
    """How to build a world when nothing is saved yet (a saved world keeps its own account and clock)."""

    seed: int = 20240601
    speed: float = 1.0
    start_time: float | None = None
    margin_mode: int = c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING
    balance: float = 10_000.0
    login: int = 5_000_123
    password: str = field(default="", repr=False)
    server: str = "DTMS-Sim"
    symbols: dict[str, SymbolSpec] | None = None
    history_days: float = 21.0
    #: the server's time zone: seconds ahead of UTC (brokers often run UTC+2/+3), whole quarter hours
    utc_offset_s: int = 0
    #: symbols whose prices replay given bars (``market/replay.py``)
    replay: dict[str, Any] | None = None


@dataclass(slots=True, kw_only=True)
class World:
    clock: SimClock
    market: Market
    broker: Broker
    money: Money
    ledger: Ledger
    trades: TradeServer
    loop: ServerLoop
    views: Views
    #: Terminal-side settings that persist with the broker.
    algo_trading: bool = True
    hidden: set[str] = field(default_factory=set)  # symbols taken out of the market watch
    symbol_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)

    def settings_meta(self) -> dict[str, Any]:
        return {
            "algo_trading": self.algo_trading,
            "hidden": sorted(self.hidden),
            "symbol_overrides": self.symbol_overrides,
        }


def start_seconds(start_time: float | datetime | None) -> float | None:
    if isinstance(start_time, datetime):
        return start_time.timestamp()
    return None if start_time is None else float(start_time)


def build_world(settings: WorldSettings, saved: SavedBroker | None) -> World:
    meta = saved.meta if saved is not None else {}
    if "clock" in meta:
        clock = SimClock.restore(meta["clock"])
        latest = _latest_event_seconds(saved)
        if clock.now() < latest:  # the process died before the clock was saved again
            clock.advance(latest - clock.now())
        clock.set_speed(settings.speed)
    else:
        start = settings.start_time
        if start is None and settings.utc_offset_s:
            start = time.time() + settings.utc_offset_s  # the broker's clock on wall time, in its own zone
        clock = SimClock(start=start, speed=settings.speed)
    specs = settings.symbols if settings.symbols is not None else preset_symbols()
    known = {f.name for f in dataclasses.fields(SymbolSpec)}
    for name, fields in meta.get("symbol_overrides", {}).items():
        if name in specs:
            for key, value in fields.items():
                if key in known:
                    setattr(specs[name], key, value)
    market = Market(
        clock=clock,
        seed=settings.seed,
        symbols=specs,
        history_days=settings.history_days,
        replay=settings.replay,
        snapshot=meta.get("market"),
    )
    if "account" in meta:
        account = Account.from_row(meta["account"])
        counters = meta["counters"]
        broker = Broker(account, next_order=counters["order"], next_deal=counters["deal"],
                        next_request=counters["request"])  # fmt: skip
    else:
        account = Account(
            login=settings.login, password=settings.password, server=settings.server, name="DTMS Simulator",
            company="DTMS Simulated Broker", currency="USD", leverage=100, margin_mode=settings.margin_mode,
            balance=0.0, credit=0.0, trade_allowed=True, limit_orders=500,
        )  # fmt: skip
        broker = Broker(account, next_order=FIRST_ORDER_TICKET, next_deal=FIRST_DEAL_TICKET)
    money = Money(market, broker)
    ledger = Ledger(broker, money, market, clock)
    trades = TradeServer(broker, market, money, ledger)
    world = World(
        clock=clock, market=market, broker=broker, money=money, ledger=ledger, trades=trades,
        loop=ServerLoop(broker, market, clock, ledger, trades.pending, synced_msc=_synced_msc(meta, clock)),
        views=Views(market, broker, money),
        algo_trading=meta.get("algo_trading", True), hidden=set(meta.get("hidden", ())),
        symbol_overrides=meta.get("symbol_overrides", {}),
    )  # fmt: skip
    if saved is not None and "account" in meta:
        _load_book(broker, saved)
    elif settings.balance:
        ledger.record_balance(settings.balance, "Initial deposit")
    return world


def _load_book(broker: Broker, saved: SavedBroker) -> None:
    for row in saved.positions:  # in the order they opened
        broker.add_position(Position.from_row(row))
    for row in saved.orders:
        broker.add_order(PendingOrder.from_row(row))
    for row in saved.history_orders:
        broker.add_history_order(TradeOrder(*row), saved=True)
    for row in saved.deals:
        broker.add_deal(TradeDeal(*row), saved=True)
    broker.take_changes()  # what was just read is on disk already


def _synced_msc(meta: dict[str, Any], clock: SimClock) -> int:
    """Where the server's watch of the prices resumes: the saved clock time, or now for a new world."""
    if "clock" in meta:
        return min(int(float(meta["clock"]["time"]) * 1000), clock.now_msc())
    return clock.now_msc()


def _latest_event_seconds(saved: SavedBroker | None) -> float:
    if saved is None:
        return 0.0
    times = [row[3] / 1000 for row in saved.deals[-1:]]  # TradeDeal.time_msc
    times += [row[4] / 1000 for row in saved.history_orders[-1:]]  # TradeOrder.time_done_msc
    return max(times, default=0.0)
