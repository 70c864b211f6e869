"""What a real terminal on a trader's machine does that a friendly simulator did not: each case is driven
through the simulator's fault or state on the production path (the simulator in the gateway's worker
process, as the program runs it), asserting what the trader sees and what is sent.

The engine's wall clock is a stand-in moved by the test (the simulator's clock is frozen), so the clock
running on without ticks and the per-symbol back-off are exact.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from app.config import AppSettings
from app.engine.defense.actions import hedge_comment
from app.engine.model import ActionKind, ActionOutcome, LifecycleState
from app.engine.registry import Registration
from app.runtime import RuntimeOptions, Services
from app.terminal import constants as mt5
from app.terminal.spec import TerminalKind

from .conftest import SIM_START, Recorded, engine_settings, no_sleep, open_position, quote, set_price

R = 0.0020
ZONE = 7200  # the simulated broker's server runs at UTC+2


class Wall:
    """The engine's wall clock, moved by the test. UTC: the frozen server time minus the broker's zone."""

    def __init__(self) -> None:
        self.t = SIM_START.timestamp() - ZONE

    def __call__(self) -> float:
        return self.t


async def open_live(
    data_dir: Path,
    wall: Wall | None = None,
    settings: AppSettings | None = None,
    speed: float = 0.0,
    start: bool = True,
) -> Services:
    options = RuntimeOptions(
        data_dir=data_dir,
        settings=settings or AppSettings(engine=engine_settings()),
        terminal=TerminalKind.SIM,
        sim_speed=speed,
        sim_start=SIM_START if speed == 0.0 else None,
        in_process=False,
    )
    kwargs = {"wall": wall} if wall is not None else {}
    services = await Services.open(options, sleep=no_sleep, autorun=False, **kwargs)
    if start:
        assert await services.engine.start()
    return services


@pytest.fixture
def wall() -> Wall:
    return Wall()


@pytest.fixture
async def live(tmp_path: Path, wall: Wall) -> AsyncIterator[Services]:
    services = await open_live(tmp_path, wall)
    try:
        yield services
    finally:
        await services.close()


async def buy(services: Services, symbol: str = "EURUSD", r: float = R, volume: float = 1.0) -> tuple[int, float]:
    bid, ask = await quote(services, symbol)
    await set_price(services, symbol, bid, ask)
    ticket = await open_position(services, symbol, "BUY", volume, sl=round(ask - r, 5))
    await services.engine.register(Registration(ticket=ticket))
    return ticket, ask


async def sl_of(services: Services, ticket: int) -> float:
    (p,) = await services.gateway.positions(ticket=ticket)
    return float(p.sl)


async def advance(services: Services, seconds: float, symbol: str = "EURUSD") -> None:
    """Move the server's clock; the held price ticks again at the new time."""
    await services.gateway.control("advance", seconds=seconds)
    bid, ask = await quote(services, symbol)
    await set_price(services, symbol, bid, ask)


def rail(services: Services, name: str):
    return next((r for r in services.engine.health().rails if r.rail.value == name), None)


# --- 1. Algo Trading off, expert trading disabled ----------------------------------------------------------


async def test_algo_trading_off_is_a_rail_that_blocks_explains_and_clears(live: Services) -> None:
    recorded = Recorded()
    live.engine.subscribe(recorded)
    ticket, entry = await buy(live)
    await live.engine.step()
    await live.gateway.control("inject_fault", kind="algo_trading_off")
    await set_price(live, "EURUSD", round(entry + 1.0 * R, 5))  # breakeven is due
    await live.engine.step()  # the break-even is refused by the terminal (10027): permissions are read again
    await live.engine.step()
    permission = rail(live, "trading_permission")
    assert permission is not None and permission.tripped
    assert "Algo Trading is off in the terminal: press the Algo Trading button" in permission.detail
    (event,) = [e for e in recorded.of("rail") if e.payload["rail"] == "trading_permission"]
    assert event.payload["tripped"] and event.payload["critical"] and "Algo Trading" in event.payload["detail"]
    assert live.engine.state is LifecycleState.READY
    for _ in range(3):
        await live.engine.step()
    sent = [a for a in await live.engine.journal(ticket) if a.retcode is not None]
    assert [a.retcode for a in sent] == [10027], "refused once, then nothing more is sent while the rail holds"
    assert await sl_of(live, ticket) == pytest.approx(entry - R)

    await live.gateway.control("clear_faults")
    await advance(live, 61)  # the next account check reads permissions again
    await live.engine.step()
    assert not rail(live, "trading_permission").tripped
    await live.engine.step()
    assert await sl_of(live, ticket) == pytest.approx(entry + 0.1 * R, abs=1e-9), "protection resumes"
    moves = [
        a
        for a in await live.engine.journal(ticket)
        if a.kind is ActionKind.BREAKEVEN and a.outcome is ActionOutcome.SUCCESS
    ]
    assert len(moves) == 1, "sent once"


async def test_permissions_are_read_at_connect(tmp_path: Path, wall: Wall) -> None:
    services = await open_live(tmp_path, wall, start=False)
    try:
        await services.gateway.start()
        await services.gateway.control("inject_fault", kind="account_trading_off")
        assert await services.engine.start()
        permission = rail(services, "trading_permission")
        assert permission is not None and permission.tripped, "READY, but the trader is told trading is refused"
        assert "the broker has disabled automated trading" in permission.detail
        ticket, entry = await buy(services)
        await set_price(services, "EURUSD", round(entry + 1.0 * R, 5))
        await services.engine.step()
        assert await services.engine.journal(ticket) == [], "nothing sent"
        assert await sl_of(services, ticket) == pytest.approx(entry - R)
    finally:
        await services.close()


# --- 2. one symbol's failure is isolated; symbol_select before first use -----------------------------------


async def test_a_symbol_outside_market_watch_with_history_loading_holds_back_only_its_own_trades(
    tmp_path: Path, wall: Wall
) -> None:
    first = await open_live(tmp_path, wall)
    try:
        eur, eur_entry = await buy(first, "EURUSD")
        gbp, gbp_entry = await buy(first, "GBPUSD")
    finally:
        await first.close()
    services = await open_live(tmp_path, wall, start=False)
    recorded = Recorded()
    services.engine.subscribe(recorded)
    try:
        await services.gateway.start()
        # the terminal was restarted: GBPUSD is not in Market Watch and its history is still downloading
        await services.gateway.control("inject_fault", kind="outside_market_watch", symbols=["GBPUSD"])
        await services.gateway.control("inject_fault", kind="history_loading", symbols=["GBPUSD"], count=1)
        assert await services.engine.start()
        assert services.engine.state is LifecycleState.READY, "one symbol's trouble is not a lost terminal"
        assert "GBPUSD" in services.engine.health().symbol_problems
        problems = recorded.of("symbol_problem")
        assert problems and problems[0].payload["symbol"] == "GBPUSD" and problems[0].payload["failing"]

        await set_price(services, "EURUSD", round(eur_entry + 1.0 * R, 5))
        await services.engine.step()
        assert await sl_of(services, eur) == pytest.approx(eur_entry + 0.1 * R, abs=1e-9), "EURUSD protected"
        assert "GBPUSD" in services.engine.health().symbol_problems, "still waiting for its back-off"

        wall.t += 3  # past the first back-off: GBPUSD is selected again and its history is there now
        await services.engine.step()
        assert services.engine.health().symbol_problems == {}
        assert [e.payload["failing"] for e in recorded.of("symbol_problem")] == [True, False]
        assert (await services.gateway.tick("GBPUSD")).bid > 0, "back in Market Watch: the terminal has its tick"
        await set_price(services, "GBPUSD", round(gbp_entry + 1.0 * R, 5))
        await services.engine.step()
        assert await sl_of(services, gbp) == pytest.approx(gbp_entry + 0.1 * R, abs=1e-9)
    finally:
        await services.close()


# --- 3. the clock runs without ticks, reads `connected`, and knows the broker's zone -----------------------


async def test_broker_link_lost_trips_a_rail_and_the_clock_runs_on(live: Services, wall: Wall) -> None:
    ticket, _ = await buy(live)
    await live.engine.step()
    assert live.engine.clock.offset == ZONE, "UTC+2 measured at connect, in whole quarter hours"
    before = live.engine.clock.now()
    await live.gateway.control("inject_fault", kind="broker_link_lost")
    wall.t += 11  # no tick moves: the terminal's connection state is read
    await live.engine.step()
    link = rail(live, "broker_link")
    assert link is not None and link.tripped and "lost its connection to the broker's server" in link.detail
    wall.t += 900
    await live.engine.step()
    assert live.engine.clock.now() >= before + 900, "time goes on without ticks"
    stale = next(r for r in live.engine.health().rails if r.rail.value == "stale_bars" and r.symbol == "EURUSD")
    assert stale.tripped, "the stale-bars rail can trip now"
    assert await live.engine.journal(ticket) == [], "nothing sent into a dead link"

    await live.gateway.control("clear_faults")
    wall.t += 11
    await live.engine.step()
    assert not rail(live, "broker_link").tripped


async def test_the_daily_loss_day_is_the_brokers_day(tmp_path: Path) -> None:
    """No managed trade (so no tick seen): the day of the deals is still the server's day, not UTC's."""
    now = time.time()
    seconds = now % 86400
    if seconds > 11 * 3600:  # late in the UTC day: a zone ahead has passed midnight already
        minutes = int((86400 - seconds + 180) // 900 + 1) * 15
    else:  # early in the UTC day: a zone behind is still on yesterday
        minutes = -int((seconds + 180) // 900 + 1) * 15
    settings = AppSettings()
    settings = replace(settings, terminal=replace(settings.terminal, sim_utc_offset_min=minutes))
    services = await open_live(tmp_path, settings=settings, speed=1.0)
    try:
        assert services.engine.clock.offset == minutes * 60
        recorded = Recorded()
        services.engine.subscribe(recorded)
        bid, ask = await quote(services, "EURUSD")
        await set_price(services, "EURUSD", bid, ask)
        opened = await services.gateway.control("open_position", symbol="EURUSD", type="BUY", volume=0.1)
        await set_price(services, "EURUSD", round(bid - 0.0300, 5))
        await services.gateway.control("close_position", ticket=int(opened["order"]))  # a 3 % loss today
        await services.engine.step()
        daily = [e for e in recorded.of("rail") if e.payload["rail"] == "daily_loss"]
        assert daily and daily[-1].payload["tripped"], "today's loss counts on the broker's day"
    finally:
        await services.close()


# --- 6. filling policy and partial fills --------------------------------------------------------------------


async def _hedged_trade_whose_position_is_gone(services: Services) -> tuple[int, int]:
    ticket, _ = await buy(services)
    hedge = await open_position(services, "EURUSD", "SELL", 1.0, comment=hedge_comment(ticket))
    services.engine.trade(ticket).hedge_ticket = hedge
    await services.engine.step()
    await services.gateway.control("close_position", ticket=ticket)  # stopped out: the hedge must go too
    return ticket, hedge


async def test_a_partly_filled_hedge_close_is_completed_with_fok_preferred(live: Services) -> None:
    ticket, _ = await _hedged_trade_whose_position_is_gone(live)
    await live.gateway.control("configure_symbol", symbol="EURUSD", filling_mode=mt5.SYMBOL_FILLING_IOC)
    await live.engine.market.refresh_rules("EURUSD")
    await live.gateway.control("inject_fault", kind="partial_fill", fraction=0.4)
    await live.engine.step()
    closes = sorted(
        (a for a in await live.engine.journal(ticket) if a.kind is ActionKind.CLOSE_HEDGE), key=lambda a: a.id or 0
    )
    assert [a.retcode for a in closes] == [10010, 10009], "the rest of the hedge is closed at once"
    assert [a.request["volume"] for a in closes] == [1.0, 0.6]
    assert all(a.request["type_filling"] == mt5.ORDER_FILLING_IOC for a in closes), "the only policy allowed"
    assert await live.gateway.positions() == (), "nothing left open"
    assert live.engine.trade(ticket) is None, "archived once everything is closed"


async def test_a_hedge_that_cannot_be_filled_stays_managed(live: Services) -> None:
    ticket, hedge = await _hedged_trade_whose_position_is_gone(live)
    await live.gateway.control("inject_fault", kind="partial_fill", fraction=0.4, count=5)
    await live.engine.step()
    closes = [a for a in await live.engine.journal(ticket) if a.kind is ActionKind.CLOSE_HEDGE]
    assert closes and all(a.request["type_filling"] == mt5.ORDER_FILLING_FOK for a in closes), "FOK first"
    assert all(a.outcome is not ActionOutcome.SUCCESS for a in closes), "fill or kill: nothing was filled"
    trade = live.engine.trade(ticket)
    assert trade is not None and trade.hedge_ticket == hedge, "the hedge is never left unmanaged"
    assert [int(p.ticket) for p in await live.gateway.positions()] == [hedge]
    await live.gateway.control("clear_faults")
    await advance(live, live.engine.settings.execution.failed_retry_after_s + 1)
    await live.engine.step()  # reconciliation comes before the new tick: this cycle sees the time move
    await live.engine.step()
    assert await live.gateway.positions() == ()
    assert live.engine.trade(ticket) is None


async def test_instant_execution_closes_with_fok_even_when_ioc_is_listed(live: Services) -> None:
    ticket, entry = await buy(live, volume=1.0)
    await live.gateway.control(
        "configure_symbol",
        symbol="EURUSD",
        filling_mode=mt5.SYMBOL_FILLING_IOC,
        trade_exemode=mt5.SYMBOL_TRADE_EXECUTION_INSTANT,
    )
    await live.engine.market.refresh_rules("EURUSD")
    await set_price(live, "EURUSD", round(entry + 1.5 * R, 5))  # the partial take is due at 1.5 R
    await live.engine.step()
    takes = [a for a in await live.engine.journal(ticket) if a.kind is ActionKind.PARTIAL_TAKE and a.request]
    assert takes and takes[0].request["type_filling"] == mt5.ORDER_FILLING_FOK
    assert takes[-1].outcome is ActionOutcome.SUCCESS


async def test_bars_that_keep_failing_are_one_problem_until_they_load(live: Services, wall: Wall) -> None:
    recorded = Recorded()
    live.engine.subscribe(recorded)
    ticket, entry = await buy(live, "GBPUSD")
    await live.engine.step()
    # each fetch asks for both series (M5 and M15), so four failed calls are two failed fetches
    await live.gateway.control("inject_fault", kind="history_loading", symbols=["GBPUSD"], count=4)
    await advance(live, 300, "GBPUSD")  # a bar closes: the bars are fetched again, and fail twice
    await live.engine.step()
    await live.engine.step()
    assert "no bars" in live.engine.health().symbol_problems["GBPUSD"]
    wall.t += 3
    await live.engine.step()  # the tick comes, the bars fail again: still the same problem
    assert "GBPUSD" in live.engine.health().symbol_problems
    wall.t += 6
    await live.engine.step()
    assert live.engine.health().symbol_problems == {}
    assert [e.payload["failing"] for e in recorded.of("symbol_problem")] == [True, False], "no flapping"
    await set_price(live, "GBPUSD", round(entry + 1.0 * R, 5))
    await live.engine.step()
    assert await sl_of(live, ticket) == pytest.approx(entry + 0.1 * R, abs=1e-9)


async def test_a_bar_close_fetches_every_symbols_bars_in_one_round_trip_and_a_failing_one_fails_alone(
    live: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await buy(live, "EURUSD")
    await buy(live, "GBPUSD")
    await live.engine.step()
    market = live.engine.market
    before = {s: market.get(s).last_m5_time for s in ("EURUSD", "GBPUSD")}
    trips: list[list[str]] = []
    original = live.gateway.rates_many

    async def counted(asked):
        trips.append(sorted({symbol for symbol, *_ in asked}))
        return await original(asked)

    monkeypatch.setattr(live.gateway, "rates_many", counted)
    await live.gateway.control("inject_fault", kind="history_loading", symbols=["GBPUSD"], count=2)
    await live.gateway.control("advance", seconds=300)  # a bar closes on both symbols
    for symbol in ("EURUSD", "GBPUSD"):
        bid, ask = await quote(live, symbol)
        await set_price(live, symbol, bid, ask)
    await live.engine.step()
    assert trips == [["EURUSD", "GBPUSD"]], "both symbols' bars in one round trip"
    assert market.get("EURUSD").last_m5_time > before["EURUSD"]
    assert market.get("GBPUSD").last_m5_time == before["GBPUSD"]
    problems = live.engine.health().symbol_problems
    assert "no bars" in problems["GBPUSD"] and "EURUSD" not in problems
