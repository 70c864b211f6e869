"""The gateway drives an RPyC classic server's MetaTrader5 through its worker process, over the real protocol:
results by value, a lost connection as a lost terminal with a new epoch afterwards, a slow server caught by
the watchdog, and clear errors for a server without MetaTrader5 or on another account."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest

from app.config import AppSettings
from app.engine.model import LifecycleState
from app.errors import (
    SimulatorOnly,
    TerminalRequestInvalid,
    TerminalTimeout,
    TerminalUnavailable,
)
from app.runtime import RuntimeOptions, Services
from app.terminal import constants as c
from app.terminal.gateway import Gateway
from app.terminal.retcodes import RetcodeClass
from app.terminal.spec import TerminalKind, TerminalSpec
from app.terminal.structs import (
    RATES_DTYPE,
    TICKS_DTYPE,
    AccountInfo,
    OrderSendResult,
    TradePosition,
    TradeRequest,
)
from tests.terminal.rpyc_harness import HOST, RpycServer
from tests.terminal.sim_helpers import START

SIM = {"speed": 0.0, "start_time": START, "history_days": 1.0}


async def no_sleep(_: float) -> None:
    return None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RpycServer]:
    running = RpycServer(face=True, options={**SIM, "data_dir": str(tmp_path / "broker")}).start()
    yield running
    running.stop()


def spec_for(server: RpycServer, **extra: object) -> TerminalSpec:
    return TerminalSpec(kind=TerminalKind.RPYC, host=HOST, port=server.port, **extra)


@pytest.fixture
async def gateway(server: RpycServer) -> AsyncIterator[Gateway]:
    gw = Gateway(spec_for(server), call_deadline=2.0, restart_grace=0.5)
    await gw.start()
    yield gw
    await gw.close()


async def test_results_come_over_by_value_as_the_local_module_gives_them(gateway: Gateway) -> None:
    assert await gateway.connect(sleep=no_sleep)
    assert gateway.epoch == 1 and gateway.connected and not gateway.simulated
    account = await gateway.account_info()
    assert isinstance(account, AccountInfo) and account.login == 5_000_123
    rates = await gateway.rates("EURUSD", c.TIMEFRAME_M1, 0, 50)
    assert rates.dtype == RATES_DTYPE and len(rates) == 50 and np.all(np.diff(rates["time"]) == 60)
    ticks = (await gateway.call("copy_ticks_from", "EURUSD", START - 600, 20, c.COPY_TICKS_ALL)).value
    assert ticks.dtype == TICKS_DTYPE and len(ticks) == 20
    tick = await gateway.tick("EURUSD")
    outcome = await gateway.order_send(
        {
            "action": c.TRADE_ACTION_DEAL,
            "symbol": "EURUSD",
            "volume": 0.1,
            "type": c.ORDER_TYPE_BUY,
            "price": tick.ask,
            "deviation": 10,
        }
    )
    assert outcome.retcode == c.TRADE_RETCODE_DONE and outcome.klass is RetcodeClass.SUCCESS
    assert outcome.result is not None and outcome.result.request.symbol == "EURUSD"
    (position,) = await gateway.positions(ticket=outcome.result.order)
    assert isinstance(position, TradePosition) and position.volume == pytest.approx(0.1)
    refused = await gateway.call("positions_get", "EURUSD")
    assert refused.value is None and refused.error == (-2, "Unnamed arguments not allowed")
    bad = await gateway.call("copy_rates_from_pos", "EURUSD", c.TIMEFRAME_M1, 0, count=5)
    assert bad.raised is not None and bad.raised.startswith("TypeError")
    with pytest.raises(SimulatorOnly):
        await gateway.control("set_price", symbol="EURUSD", bid=1.1)


async def test_a_lost_connection_is_a_lost_terminal_and_comes_back_with_a_new_epoch(
    gateway: Gateway, server: RpycServer
) -> None:
    changes: list[bool] = []
    gateway.add_listener(lambda connected, _reason: changes.append(connected))
    assert await gateway.connect(sleep=no_sleep)
    opened = server.control("open_position", symbol="EURUSD", type="BUY", volume=0.2)
    server.kill()
    lost = await gateway.call("positions_get")
    assert lost.value is None and lost.error[0] == c.RES_E_INTERNAL_FAIL_RECEIVE, "the answer was lost"
    assert "was lost during the call" in lost.error[1]
    assert not gateway.connected and changes == [True, False]
    after = await gateway.call("positions_get")
    assert after.value is None and after.error[0] == c.RES_E_INTERNAL_FAIL_CONNECT, "nothing is sent any more"
    with pytest.raises(TerminalUnavailable):
        await gateway.positions()
    assert not await gateway.connect(attempts=2, sleep=no_sleep), "nothing listens while the server is down"
    assert "cannot reach the RPyC server" in gateway.last_connect_error
    server.start()  # the same port; the simulated broker kept its book on disk
    assert await gateway.connect(sleep=no_sleep)
    assert gateway.epoch == 2 and changes == [True, False, True]
    assert [p.ticket for p in await gateway.positions()] == [int(opened["order"])]


async def test_a_slow_server_passes_the_deadline_and_the_worker_is_replaced(server: RpycServer) -> None:
    gateway = Gateway(spec_for(server), call_deadline=0.5, restart_grace=0.2)
    await gateway.start()
    try:
        assert await gateway.connect(sleep=no_sleep)
        server.set_delay(2.0)
        with pytest.raises(TerminalTimeout):
            await gateway.positions()
        assert not gateway.connected and gateway.stats().timeouts == 1
        server.set_delay(0.0)
        assert await gateway.connect(sleep=no_sleep)
        assert gateway.epoch == 2 and gateway.stats().restarts >= 1
        assert await gateway.positions() == ()
    finally:
        await gateway.close()


async def test_a_server_without_metatrader5_is_a_clear_error(tmp_path: Path) -> None:
    bare = RpycServer(face=False).start()
    try:
        gateway = Gateway(TerminalSpec(kind=TerminalKind.RPYC, host=HOST, port=bare.port))
        await gateway.start()
        try:
            with pytest.raises(TerminalRequestInvalid, match="cannot import MetaTrader5"):
                await gateway.initialize()
        finally:
            await gateway.close()
        services = await open_rpyc_services(tmp_path, bare.port)
        try:
            assert not await services.engine.start()
            assert services.engine.state is LifecycleState.FAILED
            assert "cannot import MetaTrader5" in services.engine.lifecycle.reason
            assert f"rpyc://{HOST}:{bare.port}" in services.engine.lifecycle.reason
        finally:
            await services.close()
    finally:
        bare.stop()


async def test_a_terminal_on_another_account_is_a_clear_error(server: RpycServer) -> None:
    server.reset(**SIM, ignore_login=True)  # a terminal logged in by itself, which keeps its account
    gateway = Gateway(spec_for(server, login=777))
    await gateway.start()
    try:
        with pytest.raises(TerminalRequestInvalid, match="logged into account 5000123, not the configured account 777"):
            await gateway.initialize()
        assert gateway.epoch == 0
    finally:
        await gateway.close()
    right = Gateway(spec_for(server, login=5_000_123))
    await right.start()
    try:
        assert await right.initialize() and right.epoch == 1
    finally:
        await right.close()


async def open_rpyc_services(data_dir: Path, port: int) -> Services:
    options = RuntimeOptions(
        data_dir=data_dir, settings=AppSettings(), terminal=TerminalKind.RPYC, rpyc_address=(HOST, port)
    )
    return await Services.open(options, sleep=no_sleep)


async def test_struct_sequences_that_do_not_pickle_come_over_as_our_named_tuples() -> None:
    """A server whose MetaTrader5 answers with struct sequences shaped like the real module's (they refuse to
    pickle, so bringing them over as objects would fail): they arrive as plain NamedTuples, nested ones too."""
    shaped = RpycServer(fake=True).start()
    gateway = Gateway(TerminalSpec(kind=TerminalKind.RPYC, host=HOST, port=shaped.port))
    try:
        await gateway.start()
        assert await gateway.initialize()
        (position,) = await gateway.positions()
        assert type(position) is TradePosition and position.ticket == 7 and position.symbol == "EURUSD"
        outcome = await gateway.order_send({"action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.3})
        assert type(outcome.result) is OrderSendResult and type(outcome.result.request) is TradeRequest
        assert outcome.result.request.volume == 0.3 and outcome.klass is RetcodeClass.SUCCESS
        rates = await gateway.rates("EURUSD", c.TIMEFRAME_M1, 0, 3)
        assert rates.dtype == RATES_DTYPE and list(rates["time"]) == [1_700_000_000, 1_700_000_060, 1_700_000_120]
        odd = await gateway.call("version")
        assert odd.value is None and odd.raised == "TypeError: cannot bring a lock value over RPyC"
        assert (await gateway.positions())[0] == position, "a refused answer leaves the connection in step"
    finally:
        await gateway.close()
        shaped.stop()
