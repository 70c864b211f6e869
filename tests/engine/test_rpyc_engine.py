"""The engine end to end through ``rpyc://``: the gateway's worker drives an RPyC classic server in another
process whose MetaTrader5 is the simulator's face. A trade is registered, moved to breakeven and partly closed;
then the server is killed with SIGKILL while the next target's price holds; the engine sees a lost terminal,
reconnects once the server is back with a new epoch, and nothing is done twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from operator import attrgetter
from pathlib import Path

import pytest

from app.config import AppSettings
from app.engine.model import ActionKind, ActionOutcome, LifecycleState
from app.engine.registry import Registration
from app.runtime import RuntimeOptions, Services
from app.terminal import constants as c
from app.terminal.spec import TerminalKind
from tests.terminal.rpyc_harness import HOST, RpycServer

from .conftest import SIM_START, Recorded, engine_settings

R = 0.0020
FAR = 2**31 - 1


async def short_sleep(seconds: float) -> None:
    """The engine's back-off, shortened: reconnection attempts still wait, they just wait less."""
    await asyncio.sleep(min(seconds, 0.05))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RpycServer]:
    options = {"speed": 0.0, "start_time": SIM_START.timestamp(), "data_dir": str(tmp_path / "broker")}
    running = RpycServer(face=True, options=options).start()
    yield running
    running.stop()


@pytest.fixture
async def services(tmp_path: Path, server: RpycServer) -> AsyncIterator[Services]:
    options = RuntimeOptions(
        data_dir=tmp_path / "desk",
        settings=AppSettings(engine=engine_settings()),
        terminal=TerminalKind.RPYC,
        rpyc_address=(HOST, server.port),
    )
    opened = await Services.open(options, sleep=short_sleep, autorun=False)
    try:
        yield opened
    finally:
        await opened.close()


async def test_registration_breakeven_partial_close_and_a_killed_server(services: Services, server: RpycServer) -> None:
    engine, gateway = services.engine, services.gateway
    recorded = Recorded()
    engine.subscribe(recorded)
    assert await engine.start() and engine.lifecycle.epoch == 1
    assert not services.simulated, "an RPyC terminal is a real terminal: no /sim routes, no demo trades"

    tick = await gateway.tick("EURUSD")
    entry = float(tick.ask)
    server.control("set_price", symbol="EURUSD", bid=float(tick.bid), ask=entry)
    opened = server.control("open_position", symbol="EURUSD", type="BUY", volume=0.3, sl=round(entry - R, 5))
    ticket = int(opened["order"])
    result = await engine.register(Registration(ticket=ticket))
    assert result.trade.ticket == ticket and not result.already_registered

    server.control("set_price", symbol="EURUSD", bid=round(entry + 1.0 * R, 5))
    await engine.step()
    (position,) = await gateway.positions(ticket=ticket)
    assert position.sl == pytest.approx(entry + 0.1 * R, abs=1e-9), "breakeven moved the stop"

    server.control("set_price", symbol="EURUSD", bid=round(entry + 1.6 * R, 5))
    await engine.step()
    (position,) = await gateway.positions(ticket=ticket)
    assert position.volume == pytest.approx(0.15), "half of the position closed at 1.5 R"

    # The server dies without a word; the price that fired both actions still holds when it comes back.
    server.kill()
    stepping = asyncio.create_task(engine.step())
    for _ in range(200):
        if engine.state is LifecycleState.DISCONNECTED:
            break
        await asyncio.sleep(0.02)
    assert engine.state is LifecycleState.DISCONNECTED
    server.start()
    assert await asyncio.wait_for(stepping, 30) is None, "the step that found the terminal lost reconnected"
    assert engine.state is LifecycleState.READY and engine.lifecycle.epoch == 2
    states = [e.payload["state"] for e in recorded.of("lifecycle")]
    assert "DISCONNECTED" in states and states[-2:] == ["RECOVERING", "READY"]

    for _ in range(3):
        await engine.step()
    (position,) = await gateway.positions(ticket=ticket)
    assert position.volume == pytest.approx(0.15) and position.sl == pytest.approx(entry + 0.1 * R, abs=1e-9)
    journal = await engine.journal(ticket)
    done = [(a.kind, a.outcome) for a in journal if a.kind in (ActionKind.BREAKEVEN, ActionKind.PARTIAL_TAKE)]
    assert sorted(done) == sorted(
        [(ActionKind.BREAKEVEN, ActionOutcome.SUCCESS), (ActionKind.PARTIAL_TAKE, ActionOutcome.SUCCESS)]
    ), journal
    deals = await gateway.history_deals(position=ticket)
    assert [d.entry for d in deals] == [c.DEAL_ENTRY_IN, c.DEAL_ENTRY_OUT], "one opening deal, one partial close"
    trade = engine.trade(ticket)
    assert trade is not None and trade.breakeven_triggered and trade.partial_taken


async def test_a_server_killed_with_the_partial_close_answer_in_flight(services: Services, server: RpycServer) -> None:
    """The partial close is carried out on the server, which dies before its answer leaves: after the
    reconnection the engine settles the lost answer from the terminal and never closes a second half."""
    engine, gateway = services.engine, services.gateway
    assert await engine.start()
    tick = await gateway.tick("EURUSD")
    entry = float(tick.ask)
    server.control("set_price", symbol="EURUSD", bid=float(tick.bid), ask=entry)
    opened = server.control("open_position", symbol="EURUSD", type="BUY", volume=0.4, sl=round(entry - R, 5))
    ticket = int(opened["order"])
    await engine.register(Registration(ticket=ticket))
    server.control("set_price", symbol="EURUSD", bid=round(entry + 1.0 * R, 5))
    await engine.step()
    server.control("set_price", symbol="EURUSD", bid=round(entry + 1.6 * R, 5))
    server.face_module.hold_after("order_send", 30.0)

    stepping = asyncio.create_task(engine.step())
    for _ in range(500):
        if server.face_module.held():
            break
        await asyncio.sleep(0.01)
    assert server.face_module.held() == 1, "the partial close reached the server"
    server.kill()  # the deal is on the broker's disk; its answer is not on its way
    await asyncio.wait_for(stepping, 30)  # the cycle ends with the partial close's fate unknown
    assert not gateway.connected
    server.start()
    assert await engine.step() is None, "the next cycle finds the terminal lost and reconnects"
    assert engine.state is LifecycleState.READY and engine.lifecycle.epoch == 2
    for _ in range(3):
        await engine.step()

    (position,) = await gateway.positions(ticket=ticket)
    assert position.volume == pytest.approx(0.2), "exactly one half was closed"
    deals = await gateway.history_deals(position=ticket)
    assert [d.entry for d in deals] == [c.DEAL_ENTRY_IN, c.DEAL_ENTRY_OUT]
    partials = sorted(
        (a for a in await engine.journal(ticket) if a.kind is ActionKind.PARTIAL_TAKE), key=attrgetter("id")
    )
    # the send, journaled as of unknown outcome when its answer was lost; then the settlement from the terminal
    assert [a.outcome for a in partials] == [ActionOutcome.UNKNOWN, ActionOutcome.SUCCESS], partials
    assert "IPC recv failed" in partials[0].detail
    trade = engine.trade(ticket)
    assert trade is not None and trade.partial_taken and trade.volume == pytest.approx(0.2)
